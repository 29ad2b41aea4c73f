//! Key lifecycle of the local authority (DESIGN §4): next → active → retiring → retired, and
//! revoked. No step unpublishes a key while descriptors it signed can still be valid.

use std::sync::Arc;

use zeroize::Zeroizing;

use super::LocalAuthority;
use crate::authority::RevokeReport;
use crate::clock::rfc3339;
use crate::descriptor::DescriptorSigner;
use crate::duration::Dur;
use crate::keys::{Jwk, Jwks, KeyPair, KeyState};
use crate::model::{opt_time, KeyInfo, RevocationKind, RotateReport};
use crate::store::{KeyRow, KeyWrite, NewRevocation};
use crate::{Error, Result};

pub(super) fn info(k: &KeyRow) -> KeyInfo {
    KeyInfo {
        kid: k.kid.clone(),
        state: k.state,
        created_at: rfc3339(k.created_at),
        activated_at: opt_time(k.activated_at),
        retire_at: opt_time(k.retire_at),
        retired_at: opt_time(k.retired_at),
        published: k.state.is_published(),
    }
}

/// A fresh key row, sealed under the KEK.
async fn new_row(a: &LocalAuthority, state: KeyState) -> Result<KeyWrite> {
    let key = KeyPair::generate();
    let now = a.now();
    let row = KeyRow {
        kid: key.kid().to_owned(),
        state,
        public_key: key.public().to_bytes(),
        sealed_private: Some(a.kek().await?.seal_key(&key)?),
        created_at: now,
        activated_at: (state == KeyState::Active).then_some(now),
        retire_at: None,
        retired_at: None,
    };
    Ok(KeyWrite { row, expect: None })
}

/// Create and store one key in `state`; returns its kid.
pub(super) async fn insert_new(a: &LocalAuthority, state: KeyState) -> Result<String> {
    let w = new_row(a, state).await?;
    let kid = w.row.kid.clone();
    let event = a.event("key.generate", &kid).details(serde_json::json!({ "state": state }));
    a.store.write_keys(vec![w], vec![], event).await?;
    Ok(kid)
}

fn find<'k>(keys: &'k [KeyRow], kid: &str) -> Result<&'k KeyRow> {
    keys.iter().find(|k| k.kid == kid).ok_or_else(|| Error::NotFound { what: "key", id: kid.to_owned() })
}

/// A change of state of `k`, applied only if `k` is still in its current state.
fn transition(k: &KeyRow, state: KeyState, f: impl FnOnce(&mut KeyRow)) -> KeyWrite {
    let mut row = k.clone();
    row.state = state;
    f(&mut row);
    KeyWrite { row, expect: Some(k.state) }
}

/// Unpublish for good: the private half is destroyed.
fn destroy(row: &mut KeyRow, now: i64) {
    row.sealed_private = None;
    row.retired_at = Some(now);
}

pub(super) async fn list(a: &LocalAuthority) -> Result<Vec<KeyInfo>> {
    Ok(a.store.list_keys().await?.iter().map(info).collect())
}

pub(super) async fn generate(a: &LocalAuthority) -> Result<KeyInfo> {
    let w = new_row(a, KeyState::Next).await?;
    let out = info(&w.row);
    a.store.write_keys(vec![w], vec![], a.event("key.generate", &out.kid).details(serde_json::json!({ "state": "next" }))).await?;
    Ok(out)
}

pub(super) async fn rotate(a: &LocalAuthority, grace: Option<Dur>) -> Result<RotateReport> {
    let now = a.now();
    let needed = a.max_validity();
    let grace = grace.map_or(needed, Dur::as_i64);
    if grace < needed {
        return Err(Error::refused(
            format!(
                "a grace of {} would unpublish the active key while descriptors it signed can still be valid (max TTL {} + leeway {})",
                Dur(grace.unsigned_abs()),
                a.settings.max_ttl,
                a.settings.leeway
            ),
            format!("use --grace {} or longer, or lower max_ttl in config.yaml first", Dur(needed.unsigned_abs())),
        ));
    }
    let keys = a.store.list_keys().await?;
    let next = keys.iter().find(|k| k.state == KeyState::Next).ok_or_else(|| {
        Error::refused(
            "there is no `next` key to promote",
            "run `mcpca key generate`, let verifiers refresh their JWKS, then `mcpca key rotate`",
        )
    })?;
    let mut writes = Vec::new();
    let old = keys.iter().find(|k| k.state == KeyState::Active);
    let retire_at = now + grace;
    // The old active key steps down first: the store allows one active key at any moment.
    if let Some(old) = old {
        writes.push(transition(old, KeyState::Retiring, |r| r.retire_at = Some(retire_at)));
    }
    writes.push(transition(next, KeyState::Active, |r| r.activated_at = Some(now)));
    let mut retired = Vec::new();
    for k in keys.iter().filter(|k| k.state == KeyState::Retiring && k.retire_at.is_some_and(|t| t <= now)) {
        writes.push(transition(k, KeyState::Retired, |r| destroy(r, now)));
        retired.push(k.kid.clone());
    }
    let fresh = new_row(a, KeyState::Next).await?;
    let report = RotateReport {
        activated: next.kid.clone(),
        retiring: old.map(|k| k.kid.clone()),
        retire_at: old.map(|_| rfc3339(retire_at)),
        next: fresh.row.kid.clone(),
        retired,
    };
    writes.push(fresh);
    let event = a.event("key.rotate", &report.activated).details(serde_json::to_value(&report).unwrap_or_default());
    a.store.write_keys(writes, vec![], event).await?;
    Ok(report)
}

pub(super) async fn retire(a: &LocalAuthority, kid: &str) -> Result<KeyInfo> {
    let now = a.now();
    let keys = a.store.list_keys().await?;
    let k = find(&keys, kid)?;
    match k.state {
        KeyState::Active => {
            return Err(Error::refused(format!("key {kid} is the active signing key"), "run `mcpca key rotate` first; it becomes retiring"))
        }
        KeyState::Retiring => {
            let until = k.retire_at.unwrap_or(i64::MAX);
            if until > now {
                return Err(Error::refused(
                    format!("descriptors signed by key {kid} can be valid until {}", rfc3339(until)),
                    format!("retire it after {}; to cut off a compromised key at once use `mcpca key revoke {kid}`", rfc3339(until)),
                ));
            }
        }
        KeyState::Next => {}
        KeyState::Retired | KeyState::Revoked => {
            return Err(Error::refused(format!("key {kid} is already {}", k.state), "nothing to do"));
        }
    }
    let w = transition(k, KeyState::Retired, |r| destroy(r, now));
    let out = info(&w.row);
    a.store.write_keys(vec![w], vec![], a.event("key.retire", kid)).await?;
    Ok(out)
}

pub(super) async fn revoke(a: &LocalAuthority, kid: &str, reason: Option<String>) -> Result<RevokeReport> {
    let now = a.now();
    let keys = a.store.list_keys().await?;
    let k = find(&keys, kid)?;
    if k.state == KeyState::Revoked {
        return Err(Error::refused(format!("key {kid} is already revoked"), "see `mcpca key list`"));
    }
    let mut writes = vec![transition(k, KeyState::Revoked, |r| destroy(r, now))];
    let mut activated = None;
    if k.state == KeyState::Active {
        // Issuance must go on: promote the published next key, or make a new active one.
        match keys.iter().find(|n| n.state == KeyState::Next) {
            Some(n) => {
                writes.push(transition(n, KeyState::Active, |r| r.activated_at = Some(now)));
                activated = Some(n.kid.clone());
                writes.push(new_row(a, KeyState::Next).await?);
            }
            None => {
                let w = new_row(a, KeyState::Active).await?;
                activated = Some(w.row.kid.clone());
                writes.push(w);
            }
        }
    }
    let entry =
        NewRevocation { kind: RevocationKind::Key, id: kid.to_owned(), revoked_at: now, expires_at: now + a.max_validity(), reason };
    // Write the revocation first in the batch so its `seq` is the one we report.
    let event = a.event("key.revoke", kid).details(serde_json::json!({ "reason": entry.reason, "activated": activated }));
    a.store.write_keys(writes, vec![entry.clone()], event).await?;
    let revocation = super::issue::find_revocation(a, &entry).await?;
    Ok(RevokeReport { revocation, activated })
}

pub(super) async fn jwks(a: &LocalAuthority) -> Result<Jwks> {
    published(&a.store.list_keys().await?)
}

/// The JWKS of `keys`: the published ones (next, active, retiring), in their order.
pub(super) fn published(keys: &[KeyRow]) -> Result<Jwks> {
    let mut out = Vec::new();
    for k in keys.iter().filter(|k| k.state.is_published()) {
        let vk = ed25519_dalek::VerifyingKey::from_bytes(&k.public_key).map_err(|e| Error::Crypto(format!("stored key {}: {e}", k.kid)))?;
        out.push(Jwk::ed25519(&vk));
    }
    Ok(Jwks { keys: out })
}

/// The active key, opened with the KEK.
pub(super) async fn active(a: &LocalAuthority) -> Result<KeyPair> {
    let keys = a.store.list_keys().await?;
    let k = keys.iter().find(|k| k.state == KeyState::Active).ok_or_else(|| {
        Error::refused("there is no active signing key", "run `mcpca key rotate` to promote the next key (or `mcpca key generate` first)")
    })?;
    open(a, k).await
}

/// A signer of the active key: in `mcpca serve`, the snapshot's (opened once per change of the
/// keys, not per request); otherwise the key opened from the store now.
pub(super) async fn active_signer(a: &LocalAuthority) -> Result<Arc<DescriptorSigner>> {
    match a.hot().and_then(|h| h.snapshot().signer()) {
        Some(signer) => Ok(signer),
        None => Ok(Arc::new(DescriptorSigner::new(active(a).await?))),
    }
}

async fn open(a: &LocalAuthority, k: &KeyRow) -> Result<KeyPair> {
    let sealed = k.sealed_private.as_deref().ok_or_else(|| {
        Error::refused(format!("the private half of key {} was destroyed when it was {}", k.kid, k.state), "see `mcpca key list`")
    })?;
    a.kek().await?.open_key(&k.kid, sealed)
}

pub(super) async fn export_private(a: &LocalAuthority, kid: &str) -> Result<Zeroizing<String>> {
    let keys = a.store.list_keys().await?;
    open(a, find(&keys, kid)?).await?.to_pkcs8_pem()
}
