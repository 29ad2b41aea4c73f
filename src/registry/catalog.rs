//! The registry read API's entries (DESIGN §7, docs/registry-api.md), rendered, and the
//! in-memory catalog `mcpca serve` answers them from.
//!
//! An entry is `{"server": <server.json>, "_meta": {…}}`: the stored document copied as it is,
//! the official registry's metadata, and `"dev.mcpca/authority"`. `item` renders one from a
//! store row; the store path of the routes serialises those, and the [`Catalog`] keeps each
//! entry's bytes ready, in `(name, version)` order — the order and cursor semantics of the
//! store's `list_page` — so a page is a binary search for the cursor, a filter and a copy.
//! The catalog is rebuilt with the issuance snapshot (after every change through the process,
//! and when the poller sees a change by another process) and swapped whole; entries whose bytes
//! did not change are shared with the previous catalog, so a rebuild holds one catalog's worth
//! of entries, not two.

use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;

use serde::{Serialize, Serializer};
use serde_json::value::RawValue;

use crate::model::Status;
use crate::store::{compare_versions, ServerPage, ServerRow};
use crate::{Error, Result};

/// Longest `statusMessage` the official schema allows.
const MAX_STATUS_MESSAGE: usize = 500;

/// The connect URL entries point to: `{issuer}/v1/connect`.
pub fn connect_url(issuer: &str) -> String {
    format!("{}/v1/connect", issuer.trim_end_matches('/'))
}

/// `{"server": <server.json>, "_meta": {…}}`.
#[derive(Serialize)]
pub(crate) struct Item<'a> {
    server: &'a RawValue,
    #[serde(rename = "_meta")]
    meta: Meta<'a>,
}

#[derive(Serialize)]
struct Meta<'a> {
    #[serde(rename = "io.modelcontextprotocol.registry/official")]
    official: Official<'a>,
    #[serde(rename = "dev.mcpca/authority")]
    authority: AuthorityMeta<'a>,
}

/// The official registry's metadata (its schema allows no other member).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Official<'a> {
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    status_message: Option<&'a str>,
    status_changed_at: Ts,
    published_at: Ts,
    updated_at: Ts,
    is_latest: bool,
}

#[derive(Serialize)]
struct AuthorityMeta<'a> {
    /// The authority's own status in force (`active|deprecated|suspended|revoked|deleted`).
    status: Status,
    verified: bool,
    /// How to connect: present when the version has a streamable-http endpoint.
    connect: Option<Connect<'a>>,
}

#[derive(Serialize)]
struct Connect<'a> {
    endpoint: &'a str,
    url: &'a str,
    header: &'static str,
}

/// The official registry knows `active`, `deprecated` and `deleted`. A version the authority
/// suspended or revoked is still listed (only `deleted` hides an entry), so for a client that
/// knows only the official API it is `deprecated`: still there, not to be used for new
/// connections. `_meta["dev.mcpca/authority"].status` tells which it is.
pub fn official_status(s: Status) -> &'static str {
    match s {
        Status::Active => "active",
        Status::Deprecated | Status::Suspended | Status::Revoked => "deprecated",
        Status::Deleted => "deleted",
    }
}

/// `statusMessage`: the operator's reason for a deprecation or deletion (publisher-facing, as
/// in the official registry); for a suspension or revocation a fixed text, since moderation
/// notes are not for the public.
pub fn status_message(s: Status, reason: Option<&str>) -> Option<&str> {
    match s {
        Status::Active => None,
        Status::Suspended => Some("suspended by the Connect Authority: new connections are refused"),
        Status::Revoked => Some("revoked by the Connect Authority: connections are refused"),
        Status::Deprecated | Status::Deleted => reason.filter(|r| !r.is_empty()).map(|r| truncate(r, MAX_STATUS_MESSAGE)),
    }
}

fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// The status in force for a row: the more severe of the name's and the version's.
pub fn effective(row: &ServerRow) -> Status {
    Status::effective(row.name.status, row.version.status)
}

/// One entry. The status shown is the one in force (the more severe of the name's and the
/// version's), with the time of the change that set it — as `server list` shows it.
pub(crate) fn item<'a>(row: &'a ServerRow, connect_url: &'a str) -> Result<Item<'a>> {
    let (n, v) = (&row.name, &row.version);
    // Borrowed: the stored text is only checked to be JSON, then copied to the answer.
    let server: &RawValue = serde_json::from_str(&v.document)
        .map_err(|e| Error::Store(format!("stored document of {}@{} is not JSON: {e}", v.name, v.version)))?;
    let status = Status::effective(n.status, v.status);
    let version_rules = v.status > n.status || (v.status == n.status && v.status_changed_at >= n.status_changed_at);
    let (reason, changed) = if version_rules { (&v.status_reason, v.status_changed_at) } else { (&n.status_reason, n.status_changed_at) };
    Ok(Item {
        server,
        meta: Meta {
            official: Official {
                status: official_status(status),
                status_message: status_message(status, reason.as_deref()),
                status_changed_at: Ts(changed),
                published_at: Ts(v.published_at),
                updated_at: Ts(v.updated_at.max(n.updated_at)),
                is_latest: v.is_latest,
            },
            authority: AuthorityMeta {
                status,
                verified: n.verified,
                connect: v.endpoint.as_deref().map(|endpoint| Connect { endpoint, url: connect_url, header: "MCP-Connect" }),
            },
        },
    })
}

/// Unix seconds written as RFC 3339 UTC (`2026-11-22T10:02:00Z`, as `clock::rfc3339`) straight
/// into the output, without an intermediate string.
#[derive(Debug, Clone, Copy)]
pub struct Ts(pub i64);

impl fmt::Display for Ts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match time::OffsetDateTime::from_unix_timestamp(self.0) {
            Ok(t) if (0..=9999).contains(&t.year()) => {
                write!(f, "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute(), t.second())
            }
            _ => f.write_str(&crate::clock::rfc3339(self.0)),
        }
    }
}

impl Serialize for Ts {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

fn encode_error(e: serde_json::Error) -> Error {
    Error::Store(format!("cannot encode the answer: {e}"))
}

/// Flags of an entry.
const LATEST: u8 = 1;
/// The name or the version is `deleted`.
const DELETED: u8 = 2;
/// The stored document is not JSON: `item` holds the error, which every answer showing the
/// entry reports (as the store path does).
const BROKEN: u8 = 4;

/// One server version of the catalog: its key, what the filters read, and its rendered entry.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Shared by the versions of a name (and with the previous catalog when unchanged).
    name: Arc<str>,
    version: Box<str>,
    /// The rendered `{"server":…,"_meta":{…}}` (or, when `BROKEN`, the error).
    item: Arc<str>,
    published_at: i64,
    /// Insertion order of the version (its rowid): breaks publication-time ties as the store does.
    order: i64,
    /// The later of the version's and the name's `updated_at` (the entry's `updatedAt`).
    updated_at: i64,
    flags: u8,
}

impl Entry {
    /// The server name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The version.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The rendered entry, or the error the store path reports for it.
    pub fn item(&self) -> Result<&str> {
        if self.flags & BROKEN != 0 {
            return Err(Error::Store(self.item.to_string()));
        }
        Ok(&self.item)
    }

    fn is(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }

    fn key(&self) -> (&str, &str) {
        (&self.name, &self.version)
    }

    /// `(published_at, insertion)`: the store's `list_versions` order.
    fn publication(&self) -> (i64, i64) {
        (self.published_at, self.order)
    }
}

/// Every server version, by `(name, version)` as SQLite's `BINARY` collation orders them (byte
/// order, the same as `str`'s).
#[derive(Debug, Default)]
pub struct Catalog {
    entries: Vec<Entry>,
}

/// ASCII-case-insensitive substring, as SQLite's `instr(lower(a), lower(b)) > 0` (its `lower`
/// folds ASCII letters only).
fn contains_ignore_ascii_case(haystack: &str, needle: &str) -> bool {
    let (h, n) = (haystack.as_bytes(), needle.as_bytes());
    n.is_empty() || h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n))
}

impl Catalog {
    /// How many versions it holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Heap bytes held by the rendered entries (shared ones counted in full).
    pub fn rendered_bytes(&self) -> usize {
        self.entries.iter().map(|e| e.item.len()).sum()
    }

    /// One page, as the store's `list_page`: up to `page.limit` entries after the cursor that
    /// pass every filter.
    pub fn page(&self, page: &ServerPage) -> Vec<&Entry> {
        let start = match &page.after {
            Some((name, version)) => self.entries.partition_point(|e| e.key() <= (name.as_str(), version.as_str())),
            None => 0,
        };
        let search = page.search.as_deref();
        let version = page.version.as_deref();
        self.entries[start..]
            .iter()
            .filter(|e| {
                (page.include_deleted || !e.is(DELETED))
                    && (!page.latest_only || e.is(LATEST))
                    && version.is_none_or(|v| *e.version == *v)
                    && search.is_none_or(|s| contains_ignore_ascii_case(&e.name, s))
                    && page.updated_since.is_none_or(|t| e.updated_at >= t)
            })
            .take(usize::try_from(page.limit).unwrap_or(usize::MAX))
            .collect()
    }

    /// Every version of a name, oldest publication first (as the store's `list_versions`).
    pub fn versions(&self, name: &str) -> Vec<&Entry> {
        let start = self.entries.partition_point(|e| &*e.name < name);
        let mut out: Vec<&Entry> = self.entries[start..].iter().take_while(|e| &*e.name == name).collect();
        out.sort_by_key(|e| e.publication());
        out
    }

    /// One version of a name.
    pub fn get(&self, name: &str, version: &str) -> Option<&Entry> {
        self.entries.binary_search_by(|e| e.key().cmp(&(name, version))).ok().map(|i| &self.entries[i])
    }

    /// The latest version of a name (`isLatest`), as the store's `get_server(name, None)`.
    pub fn latest(&self, name: &str) -> Option<&Entry> {
        let start = self.entries.partition_point(|e| &*e.name < name);
        self.entries[start..].iter().take_while(|e| &*e.name == name).find(|e| e.is(LATEST))
    }

    /// The catalog with every version of the names in `changed` replaced by `rows` (every
    /// version those names have now, in `(name, version)` order, with their insertion order):
    /// the other entries are shared as they are, so a change of a few servers costs their
    /// rendering, not the whole registry's.
    pub fn patched(&self, changed: &BTreeSet<String>, rows: &[(ServerRow, i64)], connect_url: &str) -> Catalog {
        let mut b = Builder::new(self, connect_url);
        let mut fresh = rows.iter().peekable();
        for e in &self.entries {
            if changed.contains(&*e.name) {
                continue;
            }
            while let Some((row, order)) = fresh.next_if(|(r, _)| (r.version.name.as_str(), r.version.version.as_str()) < e.key()) {
                b.push(row, *order);
            }
            b.keep(e);
        }
        for (row, order) in fresh {
            b.push(row, *order);
        }
        b.finish()
    }

    /// The highest version of a name, deleted ones included (what `versions/latest` answers
    /// with `include_deleted` when the name has no latest version).
    pub fn highest(&self, name: &str) -> Option<&Entry> {
        self.versions(name).into_iter().max_by(|a, b| compare_versions((&a.version, a.published_at), (&b.version, b.published_at)))
    }
}

/// Whether an entry counts as deleted (hidden unless `include_deleted`).
pub fn is_deleted(e: &Entry) -> bool {
    e.is(DELETED)
}

/// `{"servers": [...], "metadata": {"nextCursor"?, "count"}}` from rendered entries, byte for
/// byte what serialising the items in a list envelope gives.
pub fn write_list(entries: &[&Entry], next: Option<&str>) -> Result<Vec<u8>> {
    let size = entries.iter().map(|e| e.item.len() + 1).sum::<usize>() + 96 + next.map_or(0, str::len);
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(b"{\"servers\":[");
    for (i, e) in entries.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(e.item()?.as_bytes());
    }
    out.extend_from_slice(b"],\"metadata\":{");
    if let Some(next) = next {
        out.extend_from_slice(b"\"nextCursor\":");
        serde_json::to_writer(&mut out, next).map_err(encode_error)?;
        out.push(b',');
    }
    out.extend_from_slice(b"\"count\":");
    out.extend_from_slice(entries.len().to_string().as_bytes());
    out.extend_from_slice(b"}}");
    Ok(out)
}

/// Builds the next catalog from store rows given in `(name, version)` order, reusing the
/// previous catalog's bytes for every entry that renders the same.
#[derive(Debug)]
pub struct Builder<'a> {
    previous: &'a Catalog,
    /// First entry of `previous` not yet passed.
    at: usize,
    connect_url: &'a str,
    entries: Vec<Entry>,
    buf: Vec<u8>,
    /// Whether rows came in order (else `finish` sorts).
    sorted: bool,
}

impl<'a> Builder<'a> {
    /// A builder sharing unchanged entries with `previous`; entries point to `connect_url`.
    pub fn new(previous: &'a Catalog, connect_url: &'a str) -> Self {
        Builder {
            previous,
            at: 0,
            connect_url,
            entries: Vec::with_capacity(previous.entries.len() + 16),
            buf: Vec::with_capacity(4096),
            sorted: true,
        }
    }

    /// Add a row (`order`: its insertion order, the version's rowid).
    pub fn push(&mut self, row: &ServerRow, order: i64) {
        let (name, version) = (row.version.name.as_str(), row.version.version.as_str());
        self.buf.clear();
        let mut flags = 0;
        if row.version.is_latest {
            flags |= LATEST;
        }
        if effective(row) == Status::Deleted {
            flags |= DELETED;
        }
        match item(row, self.connect_url).and_then(|i| serde_json::to_writer(&mut self.buf, &i).map_err(encode_error)) {
            Ok(()) => {}
            Err(e) => {
                flags |= BROKEN;
                self.buf.clear();
                let message = match e {
                    Error::Store(m) => m,
                    other => other.to_string(),
                };
                self.buf.extend_from_slice(message.as_bytes());
            }
        }
        // The previous entry with this key, if any (both sequences ascend).
        let old = &self.previous.entries;
        while self.at < old.len() && old[self.at].key() < (name, version) {
            self.at += 1;
        }
        let same_key = old.get(self.at).filter(|e| e.key() == (name, version));
        let item = match same_key {
            Some(e) if e.item.as_bytes() == self.buf.as_slice() && e.is(BROKEN) == (flags & BROKEN != 0) => Arc::clone(&e.item),
            _ => Arc::from(String::from_utf8_lossy(&self.buf).as_ref()),
        };
        let name = match (self.entries.last(), old.get(self.at)) {
            (Some(last), _) if &*last.name == name => Arc::clone(&last.name),
            (_, Some(e)) if &*e.name == name => Arc::clone(&e.name),
            _ => Arc::from(name),
        };
        if let Some(last) = self.entries.last() {
            if last.key().cmp(&(&*name, version)) != Ordering::Less {
                self.sorted = false;
            }
        }
        self.entries.push(Entry {
            name,
            version: version.into(),
            item,
            published_at: row.version.published_at,
            order,
            updated_at: row.version.updated_at.max(row.name.updated_at),
            flags,
        });
    }

    /// Add an entry of the previous catalog as it is.
    fn keep(&mut self, e: &Entry) {
        if let Some(last) = self.entries.last() {
            if last.key().cmp(&e.key()) != Ordering::Less {
                self.sorted = false;
            }
        }
        self.entries.push(e.clone());
    }

    /// The catalog.
    pub fn finish(mut self) -> Catalog {
        if !self.sorted {
            self.entries.sort_by(|a, b| a.key().cmp(&b.key()));
            self.entries.dedup_by(|a, b| a.key() == b.key());
        }
        self.entries.shrink_to_fit();
        Catalog { entries: self.entries }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_match_the_clock_format() {
        for t in [0, 1_800_000_000, 1_763_805_720, 253_402_300_799] {
            assert_eq!(Ts(t).to_string(), crate::clock::rfc3339(t));
        }
    }

    #[test]
    fn status_mapping() {
        assert_eq!(official_status(Status::Suspended), "deprecated");
        assert_eq!(official_status(Status::Revoked), "deprecated");
        assert_eq!(official_status(Status::Deleted), "deleted");
        assert_eq!(status_message(Status::Revoked, Some("internal note")).map(|m| m.contains("internal")), Some(false));
        assert_eq!(truncate(&"é".repeat(300), 501).len(), 500);
    }

    fn row(name: &str, version: &str, status: Status, updated_at: i64) -> ServerRow {
        use crate::store::{ServerNameRow, ServerVersionRow};
        ServerRow {
            name: ServerNameRow {
                name: name.into(),
                status: Status::Active,
                status_reason: None,
                status_changed_at: 1,
                verified: false,
                max_ttl: None,
                created_at: 1,
                updated_at: 1,
            },
            version: ServerVersionRow {
                name: name.into(),
                version: version.into(),
                document: format!(r#"{{"name":"{name}","version":"{version}"}}"#),
                endpoint: Some("https://x.example/mcp".into()),
                status,
                status_reason: None,
                status_changed_at: updated_at,
                published_at: 1,
                updated_at,
                is_latest: false,
            },
        }
    }

    fn build(previous: &Catalog, rows: &[ServerRow]) -> Catalog {
        let mut b = Builder::new(previous, "https://ca.example/v1/connect");
        for (i, r) in rows.iter().enumerate() {
            b.push(r, i as i64);
        }
        b.finish()
    }

    /// A patch of some names gives exactly the catalog a full rebuild gives, sharing the rest.
    #[test]
    fn a_patch_equals_a_rebuild() {
        let url = "https://ca.example/v1/connect";
        let build_with = |previous: &Catalog, rows: &[(ServerRow, i64)]| {
            let mut b = Builder::new(previous, url);
            for (r, order) in rows {
                b.push(r, *order);
            }
            b.finish()
        };
        let before = [
            (row("a/x", "1.0.0", Status::Active, 1), 1),
            (row("b/y", "1.0.0", Status::Active, 1), 2),
            (row("d/w", "2.0.0", Status::Active, 1), 3),
        ];
        let first = build_with(&Catalog::default(), &before);
        // b/y gains a version and changes; c/z is new (between b and d); a/x and d/w stay.
        let after = [
            (row("a/x", "1.0.0", Status::Active, 1), 1),
            (row("b/y", "1.0.0", Status::Suspended, 2), 2),
            (row("b/y", "1.1.0", Status::Active, 2), 4),
            (row("c/z", "0.1.0", Status::Active, 2), 5),
            (row("d/w", "2.0.0", Status::Active, 1), 3),
        ];
        let full = build_with(&first, &after);
        let changed: BTreeSet<String> = ["b/y".to_owned(), "c/z".to_owned(), "e/gone".to_owned()].into();
        let fresh: Vec<(ServerRow, i64)> = after.iter().filter(|(r, _)| changed.contains(&r.version.name)).cloned().collect();
        let patched = first.patched(&changed, &fresh, url);
        let view = |c: &Catalog| {
            c.entries
                .iter()
                .map(|e| (e.name().to_owned(), e.version().to_owned(), e.item.to_string(), e.flags, e.order, e.updated_at))
                .collect::<Vec<_>>()
        };
        assert_eq!(view(&patched), view(&full));
        assert!(Arc::ptr_eq(&first.entries[0].item, &patched.entries[0].item), "unchanged entries are shared");
        // A name removed entirely (no rows) disappears.
        let gone: BTreeSet<String> = ["d/w".to_owned()].into();
        assert_eq!(first.patched(&gone, &[], url).len(), 2);
    }

    #[test]
    fn a_rebuild_shares_the_bytes_of_unchanged_entries() {
        let rows = [row("a/x", "1.0.0", Status::Active, 1), row("a/x", "1.1.0", Status::Active, 1), row("b/y", "1.0.0", Status::Active, 1)];
        let first = build(&Catalog::default(), &rows);
        let mut changed = rows.clone();
        changed[1] = row("a/x", "1.1.0", Status::Deleted, 2);
        let second = build(&first, &changed);
        assert_eq!(second.len(), 3);
        assert!(Arc::ptr_eq(&first.entries[0].item, &second.entries[0].item));
        assert!(Arc::ptr_eq(&first.entries[2].item, &second.entries[2].item));
        assert!(!Arc::ptr_eq(&first.entries[1].item, &second.entries[1].item));
        assert!(second.entries[1].item.contains(r#""status":"deleted""#));
        assert!(Arc::ptr_eq(&second.entries[0].name, &second.entries[1].name), "versions of a name share it");
        let page = ServerPage { limit: 10, ..Default::default() };
        assert_eq!(second.page(&page).len(), 2, "the deleted version is hidden");
        // Rows out of order still give an ordered catalog.
        let mut reversed = rows.clone();
        reversed.reverse();
        let c = build(&Catalog::default(), &reversed);
        let keys: Vec<_> = c.entries.iter().map(|e| (e.name(), e.version())).collect();
        assert_eq!(keys, [("a/x", "1.0.0"), ("a/x", "1.1.0"), ("b/y", "1.0.0")]);
    }

    #[test]
    fn a_broken_document_is_reported_by_every_answer_showing_it() {
        let mut bad = row("a/x", "1.0.0", Status::Active, 1);
        bad.version.document = "{not json".into();
        let c = build(&Catalog::default(), &[bad]);
        let page = ServerPage { limit: 10, ..Default::default() };
        let err = write_list(&c.page(&page), None).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("stored document of a/x@1.0.0 is not JSON"), "{err}");
    }

    #[test]
    fn search_folds_ascii_only_as_sqlite_lower() {
        assert!(contains_ignore_ascii_case("io.github.Acme/Weather", "acme/WEA"));
        assert!(contains_ignore_ascii_case("abc", ""));
        assert!(!contains_ignore_ascii_case("ab", "abc"));
        // SQLite's lower() leaves non-ASCII letters as they are.
        assert!(!contains_ignore_ascii_case("io.github.a/É", "é"));
    }
}
