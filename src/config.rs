//! Where the authority lives and how it is set: defaults, then `config.yaml`, then the
//! environment, then flags — resolved and validated once, here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::duration::{Dur, MAX_TTL_CEILING};
use crate::{Error, Result};

/// Issuer used when none is configured (the default `mcpca serve` address).
pub const DEFAULT_ISSUER: &str = "http://127.0.0.1:8421";
/// Descriptor lifetime when a request names none.
pub const DEFAULT_TTL: Dur = Dur(120);

/// Files of one authority.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    /// `config.yaml`.
    pub config_file: PathBuf,
    /// The KEK file (used when `MCPCA_KEK` is not set).
    pub kek_file: PathBuf,
    /// `registry.db`.
    pub database: PathBuf,
    /// A PostgreSQL database instead of the SQLite file (`--database-url`,
    /// `MCPCA_DATABASE_URL`, or `database_url` in the config file).
    pub database_url: Option<DatabaseUrl>,
}

/// A `postgres://` URL. Its password never shows in `Debug` or messages ([`DatabaseUrl::redacted`]).
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    /// Check the scheme; the rest is parsed when the store opens.
    pub fn parse(url: &str) -> Result<Self> {
        let url = url.trim();
        if !crate::store::is_postgres_url(url) {
            return Err(Error::invalid(
                "the database URL must start with postgres:// or postgresql://",
                "give a URL like postgres://USER@HOST:5432/DATABASE; without one, the SQLite file of the home is used",
            ));
        }
        Ok(DatabaseUrl(url.to_owned()))
    }

    /// The URL as given (with any password: for connecting only).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The URL with its password replaced by `***`.
    pub fn redacted(&self) -> String {
        match url::Url::parse(&self.0) {
            Ok(mut u) if u.password().is_some() => {
                let _ = u.set_password(Some("***"));
                u.to_string()
            }
            Ok(u) => u.to_string(),
            Err(_) => "postgres://<unparsable URL>".into(),
        }
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DatabaseUrl({})", self.redacted())
    }
}

impl std::str::FromStr for DatabaseUrl {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        DatabaseUrl::parse(s).map_err(|e| e.to_string())
    }
}

impl Paths {
    /// Everything under one folder (`--home`, `MCPCA_HOME`).
    pub fn in_home(home: &Path) -> Self {
        Paths { config_file: home.join("config.yaml"), kek_file: home.join("kek"), database: home.join("registry.db"), database_url: None }
    }

    /// The platform's locations (`directories::ProjectDirs` for dev/mcpca/mcpca).
    pub fn platform() -> Result<Self> {
        let dirs = directories::ProjectDirs::from("dev", "mcpca", "mcpca")
            .ok_or_else(|| Error::Config("cannot find a home directory; pass --home DIR or set MCPCA_HOME".into()))?;
        Ok(Paths {
            config_file: dirs.config_dir().join("config.yaml"),
            kek_file: dirs.config_dir().join("kek"),
            database: dirs.data_dir().join("registry.db"),
            database_url: None,
        })
    }

    /// Resolve from `--home`/`MCPCA_HOME`, `--config`/`MCPCA_CONFIG` and the platform default.
    /// The `database` and `kek_file` settings of the config file are applied by [`Settings`].
    pub fn resolve(home: Option<&Path>, config: Option<&Path>) -> Result<Self> {
        let mut paths = match home {
            Some(h) => Paths::in_home(h),
            None => Paths::platform()?,
        };
        if let Some(c) = config {
            c.clone_into(&mut paths.config_file);
        }
        Ok(paths)
    }
}

/// `config.yaml` as written by `mcpca init`. Unknown keys are refused.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// The authority's issuer URL (`iss` of every descriptor).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// Lifetime of a descriptor when the request names none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_ttl: Option<Dur>,
    /// Longest lifetime the authority grants (at most 24h).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_ttl: Option<Dur>,
    /// Clock leeway assumed for verifiers (key retirement waits for it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leeway: Option<Dur>,
    /// Refuse descriptors for servers not marked verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_verified: Option<bool>,
    /// Path of the SQLite database (relative to the config file's folder).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<PathBuf>,
    /// Path of the KEK file (relative to the config file's folder).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kek_file: Option<PathBuf>,
    /// A `postgres://` URL: keep the authority in PostgreSQL instead of the SQLite file
    /// (`--database-url` and `MCPCA_DATABASE_URL` take precedence).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    /// Named remote authorities (`mcpca context add`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub contexts: BTreeMap<String, ContextConfig>,
    /// The context commands talk to unless `--registry` or `MCPCA_REGISTRY` names another
    /// authority; none means the local authority.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_context: Option<String>,
}

/// A named remote authority: where it is and where its admin token is kept. The token itself
/// never goes into the config file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContextConfig {
    /// Base URL of the authority's HTTP API (what `mcpca serve` prints).
    pub url: String,
    /// File holding the admin token (relative paths: to the config file's folder).
    pub token_file: PathBuf,
}

impl FileConfig {
    /// Read and parse; a missing file is an empty config.
    pub fn load(path: &Path) -> Result<Option<Self>> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io("cannot read", path, e)),
        };
        if text.trim().is_empty() {
            return Ok(Some(FileConfig::default()));
        }
        serde_norway::from_str(&text).map(Some).map_err(|e| Error::Config(format!("{}: {}", path.display(), locate_error(&text, &e))))
    }

    /// Write the file (creating it and its folder when missing), keeping the comment lines at
    /// its top; replaced atomically, with the old file's permissions.
    pub fn save(&self, path: &Path) -> Result<()> {
        let old = match std::fs::read_to_string(path) {
            Ok(t) => Some(t),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(Error::io("cannot read", path, e)),
        };
        let mut text: String = old
            .as_deref()
            .unwrap_or("# mcpca configuration (precedence: flags > MCPCA_* environment > this file > defaults)\n")
            .lines()
            .take_while(|l| l.trim_start().starts_with('#'))
            .map(|l| format!("{l}\n"))
            .collect();
        if *self != FileConfig::default() {
            text.push_str(&serde_norway::to_string(self).map_err(|e| Error::Config(format!("{}: {e}", path.display())))?);
        }
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or_else(|| Path::new("."));
        crate::fsutil::create_dir(dir)?;
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "config.yaml".into());
        let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
        let _ = std::fs::remove_file(&tmp);
        crate::fsutil::create_new(&tmp, text.as_bytes(), 0o644)?;
        if let Ok(meta) = std::fs::metadata(path) {
            let _ = std::fs::set_permissions(&tmp, meta.permissions());
        }
        std::fs::rename(&tmp, path).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            Error::io("cannot replace", path, e)
        })
    }
}

/// Settings in force after every layer is applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Settings {
    pub issuer: String,
    pub default_ttl: Dur,
    pub max_ttl: Dur,
    pub leeway: Dur,
    pub require_verified: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            issuer: DEFAULT_ISSUER.into(),
            default_ttl: DEFAULT_TTL,
            max_ttl: MAX_TTL_CEILING,
            leeway: Dur(15),
            require_verified: false,
        }
    }
}

/// Values given on the command line (highest precedence).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub issuer: Option<String>,
}

/// Read an environment variable; empty counts as unset.
fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl Settings {
    /// Defaults → file → environment (`MCPCA_ISSUER`, `MCPCA_DEFAULT_TTL`, `MCPCA_MAX_TTL`,
    /// `MCPCA_REQUIRE_VERIFIED`) → flags, then validated.
    pub fn resolve(file: &FileConfig, flags: &Overrides) -> Result<Self> {
        let mut s = Settings::default();
        if let Some(v) = &file.issuer {
            s.issuer.clone_from(v);
        }
        s.default_ttl = file.default_ttl.unwrap_or(s.default_ttl);
        s.max_ttl = file.max_ttl.unwrap_or(s.max_ttl);
        s.leeway = file.leeway.unwrap_or(s.leeway);
        s.require_verified = file.require_verified.unwrap_or(s.require_verified);

        if let Some(v) = env("MCPCA_ISSUER") {
            s.issuer = v;
        }
        let parse_env_dur = |name: &str| -> Result<Option<Dur>> {
            env(name).map(|v| v.parse().map_err(|e| Error::Config(format!("{name}: {e}")))).transpose()
        };
        if let Some(d) = parse_env_dur("MCPCA_DEFAULT_TTL")? {
            s.default_ttl = d;
        }
        if let Some(d) = parse_env_dur("MCPCA_MAX_TTL")? {
            s.max_ttl = d;
        }
        if let Some(v) = env("MCPCA_REQUIRE_VERIFIED") {
            s.require_verified = match v.to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" | "on" => true,
                "0" | "false" | "no" | "off" => false,
                _ => return Err(Error::Config(format!("MCPCA_REQUIRE_VERIFIED: {v:?} is not true or false"))),
            };
        }
        if let Some(v) = &flags.issuer {
            s.issuer.clone_from(v);
        }
        s.validate()?;
        Ok(s)
    }

    /// Check the combination makes sense.
    pub fn validate(&self) -> Result<()> {
        validate_issuer(&self.issuer)?;
        if self.max_ttl > MAX_TTL_CEILING || self.max_ttl.secs() == 0 {
            return Err(Error::Config(format!("max_ttl {} must be between 1s and 24h", self.max_ttl)));
        }
        if self.default_ttl.secs() == 0 || self.default_ttl > self.max_ttl {
            return Err(Error::Config(format!("default_ttl {} must be between 1s and max_ttl {}", self.default_ttl, self.max_ttl)));
        }
        Ok(())
    }
}

/// An issuer is an absolute http(s) URL without query or fragment.
pub fn validate_issuer(issuer: &str) -> Result<()> {
    let hint = "the issuer is the authority's public URL, e.g. https://ca.example.com";
    let u = url::Url::parse(issuer).map_err(|e| Error::invalid(format!("issuer {issuer:?} is not a URL: {e}"), hint))?;
    if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() || u.query().is_some() || u.fragment().is_some() {
        return Err(Error::invalid(format!("issuer {issuer:?} must be an http(s) URL without query or fragment"), hint));
    }
    Ok(())
}

/// Resolve a path from the config file relative to the config file's folder.
pub fn relative_to(config_file: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_owned()
    } else {
        config_file.parent().unwrap_or_else(|| Path::new(".")).join(p)
    }
}

/// The first top-level key set twice: (key, first line, second line), 1-based.
fn duplicate_key(text: &str) -> Option<(String, usize, usize)> {
    let mut seen = std::collections::HashMap::new();
    for (i, line) in text.lines().enumerate() {
        if line.starts_with([' ', '\t', '#', '-']) {
            continue;
        }
        let Some((key, _)) = line.split_once(':') else { continue };
        let key = key.trim().trim_matches('"').to_owned();
        if let Some(first) = seen.insert(key.clone(), i + 1) {
            return Some((key, first, i + 1));
        }
    }
    None
}

/// The message of a config file error, naming the line at fault. A syntax error carries its
/// own position; a bad value is reported by serde at the start of the mapping (line 1 or 2
/// whatever the key), so find the top-level entry that fails on its own and name its line.
fn locate_error(text: &str, err: &serde_norway::Error) -> String {
    let map = match serde_norway::from_str::<serde_norway::Value>(text) {
        Ok(serde_norway::Value::Mapping(map)) => map,
        Ok(_) => return err.to_string(),
        // A top-level key twice: the parser names the mapping's first line, name the second one.
        Err(_) if duplicate_key(text).is_some() => {
            let (key, first, second) = duplicate_key(text).unwrap_or_default();
            return format!("line {second}: {key}: set a second time (first on line {first})");
        }
        // Not even YAML: that error knows its position.
        Err(syntax) => return syntax.to_string(),
    };
    for (key, value) in map {
        let mut one = serde_norway::Mapping::new();
        one.insert(key.clone(), value);
        let Err(e) = serde_norway::from_value::<FileConfig>(serde_norway::Value::Mapping(one)) else { continue };
        let name = match &key {
            serde_norway::Value::String(k) => k.clone(),
            other => serde_norway::to_string(other).map(|t| t.trim().to_owned()).unwrap_or_default(),
        };
        let line = text.lines().position(|l| {
            l.strip_prefix(name.as_str())
                .or_else(|| l.strip_prefix(&format!("\"{name}\"")))
                .is_some_and(|r| r.trim_start().starts_with(':'))
        });
        return match line {
            Some(i) => format!("line {}: {name}: {e}", i + 1),
            None => format!("{name}: {e}"),
        };
    }
    err.to_string()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_hide_their_password() {
        let u = DatabaseUrl::parse(" postgres://mcpca:s3cret@db.internal:5432/mcpca?connect_timeout=5 ").unwrap();
        assert_eq!(u.expose(), "postgres://mcpca:s3cret@db.internal:5432/mcpca?connect_timeout=5");
        assert_eq!(u.redacted(), "postgres://mcpca:***@db.internal:5432/mcpca?connect_timeout=5");
        assert!(!format!("{u:?}").contains("s3cret"));
        assert_eq!(DatabaseUrl::parse("postgresql://db/x").unwrap().redacted(), "postgresql://db/x");
        let err = DatabaseUrl::parse("sqlite:///tmp/x.db").unwrap_err().to_string();
        assert!(err.contains("postgres://"), "{err}");
        // Through clap's parser too (the --database-url flag).
        assert!("mysql://x".parse::<DatabaseUrl>().is_err());
    }
}
