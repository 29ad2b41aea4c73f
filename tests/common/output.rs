//! What a command run by an integration test did, and the assertions the tests make on it.
//! Shared by `tests/cli`, `tests/governance` and `tests/faults` (each includes it with
//! `#[path]`); each uses a part of it.
#![allow(dead_code)]

use serde_json::Value;

/// What a command did.
#[derive(Debug)]
pub struct Output {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// The command line, for failure messages.
    display: String,
}

impl Output {
    /// The outcome of the command shown as `display` (its output must be UTF-8).
    pub fn of(display: String, out: std::process::Output) -> Self {
        Output {
            code: out.status.code(),
            stdout: String::from_utf8(out.stdout).unwrap(),
            stderr: String::from_utf8(out.stderr).unwrap(),
            display,
        }
    }

    /// The exit code (a signal counts as -1).
    pub fn code(&self) -> i32 {
        self.code.unwrap_or(-1)
    }

    fn describe(&self) -> String {
        format!("`{}` exited {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}", self.display, self.code, self.stdout, self.stderr)
    }

    /// Assert exit 0.
    #[track_caller]
    pub fn success(self) -> Self {
        assert_eq!(self.code, Some(0), "expected success: {}", self.describe());
        self
    }

    /// Assert this exit code.
    #[track_caller]
    pub fn fails(self, code: i32) -> Self {
        assert_eq!(self.code, Some(code), "expected exit {code}: {}", self.describe());
        self
    }

    /// Assert this exit code and an empty stdout (nothing half-done was printed).
    #[track_caller]
    pub fn fails_quietly(self, code: i32) -> Self {
        self.fails(code).no_stdout()
    }

    /// Assert an issuance denial: exit 1, nothing on stdout, `issuance denied: CODE` on stderr.
    #[track_caller]
    pub fn denied(self, code: &str) -> Self {
        let me = self.fails_quietly(1);
        let expected = format!("issuance denied: {code}:");
        assert!(me.stderr.contains(&expected), "stderr lacks {expected:?}: {}", me.describe());
        me
    }

    /// Assert stderr contains every fragment (case-sensitive).
    #[track_caller]
    pub fn stderr_has(self, fragments: &[&str]) -> Self {
        for f in fragments {
            assert!(self.stderr.contains(f), "stderr lacks {f:?}: {}", self.describe());
        }
        self
    }

    /// Assert stdout contains every fragment.
    #[track_caller]
    pub fn stdout_has(self, fragments: &[&str]) -> Self {
        for f in fragments {
            assert!(self.stdout.contains(f), "stdout lacks {f:?}: {}", self.describe());
        }
        self
    }

    /// Assert nothing was printed on stdout.
    #[track_caller]
    pub fn no_stdout(self) -> Self {
        assert!(self.stdout.is_empty(), "expected no stdout: {}", self.describe());
        self
    }

    /// stdout parsed as JSON.
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.describe()))
    }

    /// stdout parsed as YAML (into JSON values, to compare with `json()`).
    #[track_caller]
    pub fn yaml(&self) -> Value {
        serde_norway::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is not YAML ({e}): {}", self.describe()))
    }

    /// The line of a key-value table that starts with `key`.
    #[track_caller]
    pub fn line(&self, key: &str) -> String {
        self.stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(key))
            .unwrap_or_else(|| panic!("no line {key:?}: {}", self.describe()))
            .to_owned()
    }
}
