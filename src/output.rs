//! Rendering of model types: a table for people, JSON or YAML (the wire shapes) for programs.
//! Data goes to stdout; everything else goes to stderr.

use comfy_table::{presets, ContentArrangement, Table};
use serde::Serialize;

use crate::cli::OutputFormat;
use crate::duration::relative;
use crate::model::{KeyInfo, ServerDetail, ServerEntry};
use crate::{Error, Result};

/// A value that can be shown as a table.
pub trait Tabular {
    /// The human rendering.
    fn table(&self) -> String;
}

/// Render `value` in `format`.
pub fn render<T: Serialize + Tabular + ?Sized>(value: &T, format: OutputFormat) -> Result<String> {
    match format {
        OutputFormat::Table => Ok(value.table()),
        OutputFormat::Json => json(value),
        // Through a JSON value, so embedded raw JSON (server documents) becomes YAML too.
        OutputFormat::Yaml => serde_json::to_value(value)
            .map_err(|e| Error::Crypto(format!("cannot render YAML: {e}")))
            .and_then(|v| serde_norway::to_string(&v).map_err(|e| Error::Crypto(format!("cannot render YAML: {e}")))),
    }
}

/// Pretty JSON with a final newline.
pub fn json<T: Serialize + ?Sized>(value: &T) -> Result<String> {
    serde_json::to_string_pretty(value).map(|s| s + "\n").map_err(|e| Error::Crypto(format!("cannot render JSON: {e}")))
}

/// A borderless table with a header row: comfy-table for the usual sizes, and a plain
/// renderer with the same layout for long lists (comfy-table's per-cell width analysis costs
/// more than everything else in `server list` over 30,000 entries).
#[derive(Debug, Clone, Default)]
pub struct Grid {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

/// Above this many rows the plain renderer is used.
const FAST_ROWS: usize = 1_000;

impl Grid {
    /// Append a row.
    pub fn add_row<I, S>(&mut self, cells: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.rows.push(cells.into_iter().map(Into::into).collect());
        self
    }

    fn comfy(&self) -> String {
        let mut t = Table::new();
        t.load_preset(presets::NOTHING).set_content_arrangement(ContentArrangement::Disabled).set_header(self.header.iter());
        for r in &self.rows {
            t.add_row(r.iter());
        }
        t.to_string()
    }

    /// The same layout as the NOTHING preset: every cell padded by one space on each side.
    fn plain(&self) -> String {
        let cols = self.header.len().max(self.rows.iter().map(Vec::len).max().unwrap_or(0));
        let mut widths = vec![0usize; cols];
        for r in std::iter::once(&self.header).chain(&self.rows) {
            for (w, c) in widths.iter_mut().zip(r) {
                *w = (*w).max(c.chars().count());
            }
        }
        let mut out = String::with_capacity((self.rows.len() + 1) * (widths.iter().sum::<usize>() + 3 * cols + 1));
        for r in std::iter::once(&self.header).chain(&self.rows) {
            for (i, w) in widths.iter().enumerate() {
                let c = r.get(i).map_or("", String::as_str);
                out.push(' ');
                out.push_str(c);
                out.extend(std::iter::repeat_n(' ', w - c.chars().count() + 1));
            }
            out.push('\n');
        }
        out
    }
}

/// A borderless table with a header row.
pub fn table(header: &[&str]) -> Grid {
    Grid { header: header.iter().map(|h| (*h).to_owned()).collect(), rows: Vec::new() }
}

/// A finished table as text: trailing padding trimmed, one final newline.
pub fn finish(t: &Grid) -> String {
    let text = if t.rows.len() > FAST_ROWS { t.plain() } else { t.comfy() };
    let mut out = String::with_capacity(text.len());
    for l in text.lines() {
        out.push_str(l.trim_end());
        out.push('\n');
    }
    if out.is_empty() {
        out.push('\n');
    }
    out
}

/// Key-value lines, aligned.
pub fn pairs(rows: &[(&str, String)]) -> String {
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    rows.iter().map(|(k, v)| format!("{k:<width$}  {v}\n")).collect()
}

fn or_dash(v: Option<&str>) -> String {
    v.map_or_else(|| "-".to_owned(), str::to_owned)
}

impl Tabular for [KeyInfo] {
    fn table(&self) -> String {
        let mut t = table(&["KID", "STATE", "CREATED", "ACTIVATED", "RETIRE-AT", "PUBLISHED"]);
        for k in self {
            t.add_row([
                k.kid.clone(),
                k.state.to_string(),
                k.created_at.clone(),
                or_dash(k.activated_at.as_deref()),
                or_dash(k.retire_at.as_deref().or(k.retired_at.as_deref())),
                if k.published { "yes" } else { "no" }.into(),
            ]);
        }
        finish(&t)
    }
}

impl Tabular for Vec<KeyInfo> {
    fn table(&self) -> String {
        self.as_slice().table()
    }
}

impl Tabular for KeyInfo {
    fn table(&self) -> String {
        std::slice::from_ref(self).table()
    }
}

impl Tabular for [ServerEntry] {
    fn table(&self) -> String {
        let mut t = table(&["NAME", "VERSION", "STATUS", "LATEST", "VERIFIED", "MAX-TTL", "ENDPOINT"]);
        for e in self {
            let a = &e.authority;
            t.add_row([
                e.name().to_owned(),
                e.version().to_owned(),
                a.status.to_string(),
                if a.is_latest { "yes" } else { "" }.into(),
                if a.verified { "yes" } else { "no" }.into(),
                a.max_ttl.map_or_else(|| "-".into(), |d| d.to_string()),
                or_dash(a.endpoint.as_deref()),
            ]);
        }
        finish(&t)
    }
}

impl Tabular for Vec<ServerEntry> {
    fn table(&self) -> String {
        self.as_slice().table()
    }
}

impl Tabular for ServerEntry {
    fn table(&self) -> String {
        let a = &self.authority;
        let doc = self.document();
        let get = |k: &str| doc.get(k).and_then(|v| v.as_str()).map(str::to_owned);
        let mut rows = vec![
            ("name", self.name().to_owned()),
            ("version", self.version().to_owned()),
            ("description", get("description").unwrap_or_default()),
        ];
        if let Some(t) = get("title") {
            rows.push(("title", t));
        }
        let status = match &a.status_reason {
            Some(r) => format!("{} ({r}) since {}", a.status, a.status_changed_at),
            None => format!("{} since {}", a.status, a.status_changed_at),
        };
        rows.extend([
            ("status", status),
            ("endpoint", a.endpoint.clone().unwrap_or_else(|| "- (no streamable-http remote)".into())),
            ("verified", if a.verified { "yes" } else { "no" }.into()),
            ("max ttl", a.max_ttl.map_or_else(|| "- (authority default)".into(), |d| d.to_string())),
            ("latest", if a.is_latest { "yes" } else { "no" }.into()),
            ("published", a.published_at.clone()),
            ("updated", a.updated_at.clone()),
        ]);
        pairs(&rows)
    }
}

impl Tabular for ServerDetail {
    fn table(&self) -> String {
        let mut out = self.entry.table();
        if self.versions.len() > 1 {
            out.push_str("versions:\n");
            for v in &self.versions {
                out.push_str(&format!("  {}  {}{}\n", v.version, v.status, if v.is_latest { "  (latest)" } else { "" }));
            }
        }
        out
    }
}

/// "2026-11-22T10:02:00Z (in 2m)".
pub fn when(t: i64, now: i64) -> String {
    format!("{} ({})", crate::clock::rfc3339(t), relative(t - now))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plain_renderer_lays_out_like_comfy_table() {
        let mut g = table(&["NAME", "VERSION", "STATUS"]);
        g.add_row(["io.github.acme/weather", "1.0.0", "active"]);
        g.add_row(["x/y", "10.20.30-rc.1", ""]);
        g.add_row(["a/b", "", "deprecated"]);
        let trim = |s: String| s.lines().map(|l| format!("{}\n", l.trim_end())).collect::<String>();
        assert_eq!(trim(g.plain()), trim(g.comfy()));
    }
}
