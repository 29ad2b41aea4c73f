//! The revocation feed (DESIGN §6): a JWS-signed document listing what was revoked, so servers
//! cut off descriptors already issued. Entries drop out once no descriptor they could match
//! can still be valid, so the feed stays small.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ed25519_dalek::Signature;
use serde::{Deserialize, Serialize};

use crate::descriptor::{jws_sign_json, Claims, FailureCode, KeySet, VerifyError};
use crate::keys::KeyPair;
use crate::model::{Revocation, RevocationKind};

/// `typ` of a signed feed.
pub const FEED_TYP: &str = "mcpca-revocations+jwt";

/// One entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedEntry {
    pub kind: RevocationKind,
    pub id: String,
    /// Descriptors issued at or before this instant (Unix seconds) are revoked.
    pub revoked_at: i64,
    /// After this instant (Unix seconds) no matching descriptor can be valid.
    pub expires_at: i64,
}

/// The feed document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Feed {
    pub issuer: String,
    /// The highest revocation sequence number included; ask `?since=` this next time.
    pub seq: i64,
    pub issued_at: i64,
    pub entries: Vec<FeedEntry>,
}

impl Feed {
    /// Build from recorded revocations (already filtered by `since`), dropping entries that
    /// can no longer matter at `now`. `seq` is the highest sequence number recorded, or
    /// `since` when nothing newer exists. The entries take the revocations' ids (no copy: a
    /// feed can hold thousands).
    pub fn build(issuer: &str, revocations: Vec<Revocation>, since: i64, now: i64) -> Self {
        let seq = revocations.iter().map(|r| r.seq).max().unwrap_or(since).max(since);
        // Collected in place, into the revocations' own buffer.
        let entries = revocations
            .into_iter()
            .filter(|r| r.seq > since && r.expires_at > now)
            .map(|r| FeedEntry { kind: r.kind, id: r.id, revoked_at: r.revoked_at, expires_at: r.expires_at })
            .collect();
        Feed { issuer: issuer.to_owned(), seq, issued_at: now, entries }
    }

    /// Sign as a compact JWS with the active key.
    pub fn sign(&self, key: &KeyPair) -> String {
        let header = format!(r#"{{"alg":"EdDSA","typ":"{FEED_TYP}","kid":"{}"}}"#, key.kid());
        // Plain strings and integers: serialising cannot fail.
        jws_sign_json(header.as_bytes(), self, self.json_len_estimate(), key).unwrap_or_default()
    }

    /// About the length of the JSON payload (each entry is under 80 bytes besides its id).
    fn json_len_estimate(&self) -> usize {
        64 + self.issuer.len() + self.entries.iter().map(|e| 80 + e.id.len()).sum::<usize>()
    }

    /// Parse a signed feed and check its signature against `keys` (and its issuer, if given).
    pub fn from_jws(jws: &str, keys: &KeySet, issuer: Option<&str>) -> Result<Self, String> {
        let jws = jws.trim();
        let mut parts = jws.split('.');
        let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
            return Err("a signed feed has exactly three dot-separated parts".into());
        };
        let d = |x: &str, what: &str| URL_SAFE_NO_PAD.decode(x).map_err(|_| format!("feed {what} is not base64url"));
        #[derive(Deserialize)]
        struct Header {
            alg: String,
            typ: Option<String>,
            kid: Option<String>,
        }
        let header: Header = serde_json::from_slice(&d(h, "header")?).map_err(|e| format!("feed header: {e}"))?;
        if header.alg != "EdDSA" || header.typ.as_deref() != Some(FEED_TYP) {
            return Err(format!("not a revocation feed (alg {:?}, typ {:?})", header.alg, header.typ));
        }
        let kid = header.kid.ok_or("feed header has no kid")?;
        let key = keys.get(&kid).ok_or_else(|| format!("feed signed by unknown key {kid}"))?;
        let sig: [u8; 64] = d(s, "signature")?.as_slice().try_into().map_err(|_| "feed signature is not 64 bytes")?;
        key.verify_strict(&jws.as_bytes()[..h.len() + 1 + p.len()], &Signature::from_bytes(&sig))
            .map_err(|_| "feed signature does not verify".to_owned())?;
        let feed: Feed = serde_json::from_slice(&d(p, "payload")?).map_err(|e| format!("feed payload: {e}"))?;
        if let Some(want) = issuer {
            if feed.issuer != want {
                return Err(format!("feed issuer {:?} is not {want:?}", feed.issuer));
            }
        }
        Ok(feed)
    }

    /// The entry that revokes a descriptor (signed by `kid`, with these claims), if any.
    pub fn revokes(&self, kid: &str, claims: &Claims) -> Option<&FeedEntry> {
        self.entries.iter().find(|e| e.revokes(kid, claims))
    }

    /// Step 6 of the verifier contract.
    pub fn check(&self, kid: &str, claims: &Claims) -> Result<(), VerifyError> {
        match self.revokes(kid, claims) {
            None => Ok(()),
            Some(e) => Err(e.failure()),
        }
    }
}

impl FeedEntry {
    /// Whether this entry revokes a descriptor signed by `kid` with these claims: it was issued
    /// at or before `revoked_at` and matches the entry's kind and id (a server entry names the
    /// server, or one version as `name@version`).
    pub fn revokes(&self, kid: &str, claims: &Claims) -> bool {
        claims.iat <= self.revoked_at
            && match self.kind {
                RevocationKind::Jti => self.id == claims.jti,
                RevocationKind::Client => self.id == claims.sub,
                RevocationKind::Key => self.id == kid,
                RevocationKind::Server => claims.mcp.as_ref().is_some_and(|m| {
                    let (id, ver) = (m.server.id.as_str(), m.server.version.as_str());
                    self.id == id || self.id.strip_prefix(id).and_then(|r| r.strip_prefix('@')) == Some(ver)
                }),
            }
    }

    /// The `descriptor_revoked` refusal this entry causes.
    pub fn failure(&self) -> VerifyError {
        VerifyError {
            code: FailureCode::DescriptorRevoked,
            detail: format!("{} {} was revoked at {}", self.kind.as_str(), self.id, crate::clock::rfc3339(self.revoked_at)),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::descriptor::jws_sign;

    fn revocations(n: i64) -> Vec<Revocation> {
        (1..=n)
            .map(|seq| Revocation {
                seq,
                kind: RevocationKind::Jti,
                id: format!("01a21521-312f-71f6-90d7-{seq:012x}"),
                revoked_at: 1_800_000_000 + seq,
                expires_at: if seq % 100 == 0 { 1_800_000_000 } else { 1_800_086_415 },
                reason: Some("test".into()),
            })
            .collect()
    }

    #[test]
    fn a_large_feed_is_signed_as_its_json_without_a_copy_or_regrowth() {
        let key = KeyPair::from_seed(&[7; 32]);
        let feed = Feed::build("https://ca.example", revocations(2_000), 0, 1_800_000_500);
        assert_eq!((feed.seq, feed.entries.len()), (2_000, 1_980), "expired entries are left out; seq is the highest");
        let jws = feed.sign(&key);
        // Ed25519 is deterministic: the streamed token is the one signing the serialised JSON gives.
        let payload = serde_json::to_vec(&feed).unwrap();
        let header = format!(r#"{{"alg":"EdDSA","typ":"{FEED_TYP}","kid":"{}"}}"#, key.kid());
        assert_eq!(jws, jws_sign(header.as_bytes(), &payload, &key));
        let mut keys = KeySet::default();
        keys.insert(key.public());
        assert_eq!(Feed::from_jws(&jws, &keys, Some("https://ca.example")), Ok(feed.clone()));
        // The token's one buffer was sized from an estimate that covers the payload, not far above it.
        let estimate = feed.json_len_estimate();
        assert!(estimate >= payload.len() && estimate <= payload.len() * 5 / 4, "{estimate} for {} bytes", payload.len());
    }
}
