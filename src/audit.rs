//! The tamper-evident audit log: every mutation and every issuance decision is an event whose
//! hash covers its content and the previous event's hash, so editing, deleting or reordering
//! a stored event breaks the chain at that event. Events hold ids and hashes, never secrets
//! or descriptors.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Outcome of an issuance decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    Allow,
    Deny,
}

impl Decision {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allow => "allow",
            Decision::Deny => "deny",
        }
    }
    /// Parse the stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "allow" => Some(Decision::Allow),
            "deny" => Some(Decision::Deny),
            _ => None,
        }
    }
}

/// An event about to be appended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuditEvent {
    pub at: i64,
    /// Who acted: `operator`, a client id, `token:<id>`.
    pub actor: String,
    /// What happened, e.g. `server.add`, `key.rotate`, `issue`.
    pub action: String,
    /// What it happened to: a server ref, a kid, a client id.
    pub target: String,
    /// For issuance: allow or deny.
    pub decision: Option<Decision>,
    /// For a denial: the machine code.
    pub code: Option<String>,
    /// Ids and figures (jti, ttl, server, kid…), never secrets: JSON text as stored (what
    /// [`AuditEvent::details_text`] renders), empty when there are none. Set by
    /// [`NewAuditEvent::details`] when the event is made, so the writer that appends it only
    /// copies it.
    pub(crate) details: String,
}

impl NewAuditEvent {
    /// An event by `actor` now.
    pub fn new(at: i64, actor: &str, action: &str, target: impl Into<String>) -> Self {
        NewAuditEvent {
            at,
            actor: actor.to_owned(),
            action: action.to_owned(),
            target: target.into(),
            decision: None,
            code: None,
            details: String::new(),
        }
    }

    /// With details: a JSON object. Its text must be what the stored form re-renders to (keys
    /// in sorted order, compact), as `json!` and [`serde_json::Value`] give; a struct whose
    /// fields are declared in sorted order does too (tested where one is used).
    pub fn details(mut self, details: impl Serialize) -> Self {
        self.details = match serde_json::to_string(&details) {
            Ok(text) if text != "null" => text,
            _ => String::new(),
        };
        self
    }

    /// The details as they will be stored (JSON text; empty when none).
    pub fn details_text(&self) -> &str {
        &self.details
    }

    /// With a decision (and a deny code).
    pub fn decision(mut self, decision: Decision, code: Option<&str>) -> Self {
        self.decision = Some(decision);
        self.code = code.map(str::to_owned);
        self
    }

    /// Seal it into the chain at `seq` after `prev_hash`.
    pub fn seal(self, seq: i64, prev_hash: &str) -> AuditEvent {
        let hash = self.hash_at(seq, prev_hash);
        let details =
            if self.details.is_empty() { serde_json::Value::Null } else { serde_json::from_str(&self.details).unwrap_or_default() };
        AuditEvent {
            seq,
            at: self.at,
            actor: self.actor,
            action: self.action,
            target: self.target,
            decision: self.decision,
            code: self.code,
            details,
            prev_hash: prev_hash.to_owned(),
            hash,
        }
    }

    /// Its hash once sealed at `seq` after `prev_hash` (what a store writes beside its fields).
    pub fn hash_at(&self, seq: i64, prev_hash: &str) -> String {
        chain_hash(
            prev_hash,
            seq,
            self.at,
            [&self.actor, &self.action, &self.target, self.decision.map_or("", Decision::as_str), self.code.as_deref().unwrap_or("")],
            &self.details,
        )
    }
}

/// SHA-256 (hex) over an unambiguous encoding of an event: the previous hash, `seq`, `at`, the
/// text fields (actor, action, target, decision, code) and the details' text.
fn chain_hash(prev_hash: &str, seq: i64, at: i64, text: [&str; 5], details: &str) -> String {
    let mut h = Sha256::new();
    let mut field = |f: &[u8]| {
        // Length-prefixed, so no two field lists encode alike.
        h.update((f.len() as u64).to_be_bytes());
        h.update(f);
    };
    field(prev_hash.as_bytes());
    // Integers in decimal, as `to_string` writes them (without its allocation: the group
    // commit hashes every issuance).
    let mut digits = itoa::Buffer::new();
    field(digits.format(seq).as_bytes());
    field(digits.format(at).as_bytes());
    for t in text {
        field(t.as_bytes());
    }
    field(details.as_bytes());
    hex(&h.finalize())
}

/// The hash that precedes the first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// A stored event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    pub seq: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<Decision>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub details: serde_json::Value,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditEvent {
    /// SHA-256 (hex) over an unambiguous encoding of every field but `hash`.
    pub fn compute_hash(&self) -> String {
        chain_hash(
            &self.prev_hash,
            self.seq,
            self.at,
            [&self.actor, &self.action, &self.target, self.decision.map_or("", Decision::as_str), self.code.as_deref().unwrap_or("")],
            &self.details_text(),
        )
    }

    /// `details` as stored: JSON text, empty when there are none.
    pub fn details_text(&self) -> String {
        if self.details.is_null() {
            String::new()
        } else {
            self.details.to_string()
        }
    }
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = Vec::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)]);
        s.push(DIGITS[usize::from(b & 0x0f)]);
    }
    // Hex digits are ASCII.
    String::from_utf8(s).unwrap_or_default()
}

/// Where a chain is broken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BrokenLink {
    pub seq: i64,
    pub problem: String,
}

impl std::fmt::Display for BrokenLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "event {}: {}", self.seq, self.problem)
    }
}

/// Check a chain read in `seq` order, starting after `prev` (`GENESIS` for the whole log).
/// Returns the number of events checked, or the first broken link.
pub fn verify_chain<'a>(events: impl IntoIterator<Item = &'a AuditEvent>, prev: &str) -> Result<u64, BrokenLink> {
    let mut prev_hash = prev.to_owned();
    let mut prev_seq: Option<i64> = None;
    let mut n = 0u64;
    for e in events {
        if let Some(p) = prev_seq {
            if e.seq != p + 1 {
                return Err(BrokenLink { seq: e.seq, problem: format!("follows event {p}: events {}..{} are missing", p + 1, e.seq - 1) });
            }
        }
        if e.prev_hash != prev_hash {
            return Err(BrokenLink { seq: e.seq, problem: "its previous-hash does not match the event before it".into() });
        }
        if e.compute_hash() != e.hash {
            return Err(BrokenLink { seq: e.seq, problem: "its content does not match its hash (the event was altered)".into() });
        }
        prev_hash.clone_from(&e.hash);
        prev_seq = Some(e.seq);
        n += 1;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The chain's encoding is a stored format (a log written by one version is verified by the
    /// next): the hashes of two events, as computed apart (Python's hashlib over the encoding:
    /// each field's length as 8 big-endian bytes, then the field).
    #[test]
    fn chain_hashes_are_the_documented_encoding() {
        let e = NewAuditEvent::new(1_800_000_000, "operator", "server.add", "io.github.a/b").details(serde_json::json!({ "x": 1 }));
        assert_eq!(e.hash_at(1, GENESIS), "d1a497edcde0706c13ab2a49b11eddfb94c6b9d35f27d937d9b193c22eb4cc73");
        let e = NewAuditEvent::new(-1, "bot", "issue", "s@1").decision(Decision::Deny, Some("policy_blocked"));
        assert_eq!(e.hash_at(-7, &"ab".repeat(32)), "383694b02d8a07457ec1bf662a1fb7177f9db8607a99bfb066771f8806a813e2");
    }

    fn chain(n: i64) -> Vec<AuditEvent> {
        let mut prev = GENESIS.to_owned();
        (1..=n)
            .map(|seq| {
                let e = NewAuditEvent::new(seq * 10, "operator", "server.add", format!("s{seq}")).seal(seq, &prev);
                prev.clone_from(&e.hash);
                e
            })
            .collect()
    }

    #[test]
    fn an_intact_chain_verifies() {
        assert_eq!(verify_chain(&chain(5), GENESIS), Ok(5));
    }

    #[test]
    fn alteration_deletion_and_reordering_are_found_where_they_happen() {
        let mut c = chain(5);
        c[2].target = "evil".into();
        assert_eq!(verify_chain(&c, GENESIS).map_err(|b| b.seq), Err(3));

        let mut c = chain(5);
        c.remove(3);
        assert_eq!(verify_chain(&c, GENESIS).map_err(|b| b.seq), Err(5));

        let mut c = chain(5);
        c.swap(1, 2);
        assert!(verify_chain(&c, GENESIS).is_err());

        // Re-hashing an altered event does not help: the next link breaks.
        let mut c = chain(5);
        c[1].actor = "mallory".into();
        c[1].hash = c[1].compute_hash();
        assert_eq!(verify_chain(&c, GENESIS).map_err(|b| b.seq), Err(3));
    }
}
