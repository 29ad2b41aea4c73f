//! The audit log and the revocation feed of the local authority.

use super::LocalAuthority;
use crate::audit::{verify_chain, AuditEvent, GENESIS};
use crate::feed::Feed;
use crate::model::{AuditReport, SignedFeed};
use crate::store::AuditFilter;
use crate::Result;

/// Events checked per page when walking the chain.
const PAGE: u32 = 5_000;

pub(super) async fn list(a: &LocalAuthority, filter: &AuditFilter) -> Result<Vec<AuditEvent>> {
    a.store.list_audit(filter).await
}

/// Walk every page of the chain through `f`, in order.
pub(crate) async fn for_each_page(a: &LocalAuthority, mut f: impl FnMut(&[AuditEvent]) -> Result<()>) -> Result<()> {
    let mut after = 0;
    loop {
        let page = a.store.audit_page(after, PAGE).await?;
        let Some(last) = page.last() else { return Ok(()) };
        after = last.seq;
        f(&page)?;
    }
}

pub(super) async fn verify(a: &LocalAuthority) -> Result<AuditReport> {
    let mut prev = GENESIS.to_owned();
    let mut checked = 0u64;
    let mut broken = None;
    let mut after = 0;
    while broken.is_none() {
        let page = a.store.audit_page(after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        // The first event of the log must be seq 1 (nothing deleted before it).
        if checked == 0 && page[0].seq != 1 {
            broken = Some((page[0].seq, format!("the log starts at event {} instead of 1: earlier events are missing", page[0].seq)));
            break;
        }
        match verify_chain(&page, &prev) {
            Ok(n) => {
                checked += n;
                prev.clone_from(&last.hash);
            }
            Err(b) => broken = Some((b.seq, b.problem)),
        }
    }
    Ok(AuditReport {
        events: checked,
        intact: broken.is_none(),
        broken_at: broken.as_ref().map(|b| b.0),
        problem: broken.map(|b| b.1),
        head: (checked > 0).then_some(prev),
    })
}

pub(super) async fn feed(a: &LocalAuthority, since: i64) -> Result<SignedFeed> {
    let now = a.now();
    let revocations = a.store.list_revocations(since).await?;
    let mut feed = Feed::build(&a.settings.issuer, revocations, since, now);
    // The store's head, even when `since` is beyond it: a follower holding a wrong cursor
    // learns the real one.
    feed.seq = a.store.revocation_seq().await?;
    let signer = super::keys::active_signer(a).await?;
    Ok(SignedFeed { jws: feed.sign(signer.key()), feed })
}
