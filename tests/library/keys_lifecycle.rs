//! Key lifecycle (DESIGN §4) through the local authority, on an injected clock.

use std::sync::Arc;

use mcpca::authority::local::init;
use mcpca::authority::{Authority, IssueRequest, LocalAuthority, RevokeTarget};
use mcpca::clock::ManualClock;
use mcpca::config::{Overrides, Paths};
use mcpca::duration::Dur;
use mcpca::keys::KeyState;
use mcpca::Error;

pub const T0: i64 = 1_800_000_000;

pub struct Fixture {
    pub _dir: tempfile::TempDir,
    pub clock: ManualClock,
    pub authority: LocalAuthority,
    pub paths: Paths,
}

pub async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let paths = Paths::in_home(dir.path());
    let clock = ManualClock::new(T0);
    init(&paths, Some("https://ca.example.com"), Arc::new(clock.clone())).await.unwrap();
    let authority = LocalAuthority::open(&paths, &Overrides::default(), Arc::new(clock.clone())).unwrap();
    Fixture { _dir: dir, clock, authority, paths }
}

async fn states(a: &LocalAuthority) -> Vec<(String, KeyState)> {
    a.key_list().await.unwrap().into_iter().map(|k| (k.kid, k.state)).collect()
}

fn kid_in(states: &[(String, KeyState)], s: KeyState) -> Vec<String> {
    states.iter().filter(|(_, st)| *st == s).map(|(k, _)| k.clone()).collect()
}

#[tokio::test]
async fn init_makes_an_active_and_a_next_key() {
    let f = fixture().await;
    let s = states(&f.authority).await;
    assert_eq!(kid_in(&s, KeyState::Active).len(), 1);
    assert_eq!(kid_in(&s, KeyState::Next).len(), 1);
    let jwks = f.authority.jwks().await.unwrap();
    assert_eq!(jwks.keys.len(), 2, "next and active are both published");
    // Running init again changes nothing.
    let r = init(&f.paths, None, Arc::new(f.clock.clone())).await.unwrap();
    assert!(!r.changed);
    assert_eq!(states(&f.authority).await, s);
}

#[tokio::test]
async fn rotation_prepares_then_activates_and_retires_only_after_expiry() {
    let f = fixture().await;
    let a = &f.authority;
    let before = states(a).await;
    let (old_active, old_next) = (kid_in(&before, KeyState::Active)[0].clone(), kid_in(&before, KeyState::Next)[0].clone());

    // A grace shorter than max TTL + leeway would unpublish a key whose descriptors live on.
    let err = a.key_rotate(Some(Dur(60))).await.unwrap_err();
    assert!(matches!(err, Error::Refused { .. }), "{err}");
    assert_eq!(states(a).await, before, "a refused rotation changes nothing");

    let r = a.key_rotate(None).await.unwrap();
    assert_eq!(r.activated, old_next);
    assert_eq!(r.retiring.as_deref(), Some(old_active.as_str()));
    let s = states(a).await;
    assert_eq!(kid_in(&s, KeyState::Active), vec![old_next.clone()]);
    assert_eq!(kid_in(&s, KeyState::Retiring), vec![old_active.clone()]);
    assert_eq!(kid_in(&s, KeyState::Next), vec![r.next.clone()]);
    let info = a.key_list().await.unwrap().into_iter().find(|k| k.kid == old_active).unwrap();
    assert_eq!(info.retire_at.as_deref(), Some(mcpca::clock::rfc3339(T0 + 24 * 3600 + 15).as_str()));
    // Retiring keys stay published.
    let published: Vec<String> = a.jwks().await.unwrap().keys.into_iter().filter_map(|k| k.kid).collect();
    assert!(published.contains(&old_active) && published.contains(&old_next) && published.contains(&r.next));

    // Retire too early: refused.
    f.clock.advance(24 * 3600);
    assert!(matches!(a.key_retire(&old_active).await.unwrap_err(), Error::Refused { .. }));
    // The active key can never be retired directly.
    assert!(matches!(a.key_retire(&old_next).await.unwrap_err(), Error::Refused { .. }));
    // After max TTL + leeway: allowed; unpublished and its private half destroyed.
    f.clock.advance(15);
    let k = a.key_retire(&old_active).await.unwrap();
    assert_eq!(k.state, KeyState::Retired);
    assert!(!a.jwks().await.unwrap().keys.iter().any(|j| j.kid.as_deref() == Some(old_active.as_str())));
    assert!(a.key_export_private(&old_active).await.is_err());
    // A second rotation sweeps nothing more, and there is still exactly one active key.
    a.key_rotate(None).await.unwrap();
    assert_eq!(kid_in(&states(a).await, KeyState::Active).len(), 1);
}

#[tokio::test]
async fn rotation_without_a_next_key_is_refused() {
    let f = fixture().await;
    let a = &f.authority;
    let next = kid_in(&states(a).await, KeyState::Next)[0].clone();
    a.key_retire(&next).await.unwrap(); // a next key never signed: retiring it is immediate
    let before = states(a).await;
    assert!(matches!(a.key_rotate(None).await.unwrap_err(), Error::Refused { .. }));
    assert_eq!(states(a).await, before);
    a.key_generate().await.unwrap();
    a.key_rotate(None).await.unwrap();
}

#[tokio::test]
async fn revoking_the_active_key_promotes_next_and_feeds_the_revocation() {
    let f = fixture().await;
    let a = &f.authority;
    let s = states(a).await;
    let (active, next) = (kid_in(&s, KeyState::Active)[0].clone(), kid_in(&s, KeyState::Next)[0].clone());
    let r = a.revoke(&RevokeTarget::Key(active.clone()), Some("compromised".into())).await.unwrap();
    assert_eq!(r.activated.as_deref(), Some(next.as_str()));
    assert_eq!(r.revocation.id, active);
    assert_eq!(r.revocation.kind, mcpca::model::RevocationKind::Key);
    let s = states(a).await;
    assert_eq!(kid_in(&s, KeyState::Revoked), vec![active.clone()]);
    assert_eq!(kid_in(&s, KeyState::Active), vec![next]);
    assert_eq!(kid_in(&s, KeyState::Next).len(), 1);
    assert!(!a.jwks().await.unwrap().keys.iter().any(|j| j.kid.as_deref() == Some(active.as_str())));
    assert_eq!(a.revocations(0).await.unwrap().len(), 1);
    // Revoking twice is refused.
    assert!(a.revoke(&RevokeTarget::Key(active), None).await.is_err());
}

#[tokio::test]
async fn private_keys_are_sealed_and_a_wrong_kek_changes_nothing() {
    let f = fixture().await;
    let db = std::fs::read(&f.paths.database).unwrap();
    // Nothing in the database file is a raw private seed we can export.
    let kid = kid_in(&states(&f.authority).await, KeyState::Active)[0].clone();
    let pem = f.authority.key_export_private(&kid).await.unwrap();
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
    use ed25519_dalek::pkcs8::DecodePrivateKey;
    let sk = ed25519_dalek::SigningKey::from_pkcs8_pem(&pem).unwrap();
    assert!(!db.windows(32).any(|w| w == sk.as_bytes()), "the seed is not stored in clear");

    // Replace the KEK file with another valid key.
    std::fs::write(&f.paths.kek_file, format!("{}\n", mcpca::keys::Kek::generate().to_base64().as_str())).unwrap();
    let a = LocalAuthority::open(&f.paths, &Overrides::default(), Arc::new(f.clock.clone())).unwrap();
    let before = a.key_list().await.unwrap();
    assert!(matches!(a.key_rotate(None).await.unwrap_err(), Error::WrongKek));
    assert!(matches!(a.key_generate().await.unwrap_err(), Error::WrongKek));
    let req = IssueRequest { server: "x/y".parse().unwrap(), ttl: None, client: None, tenant: None, scope: None };
    let _ = a.issue(&req).await; // denied or wrong KEK: either way nothing is written
    assert_eq!(a.key_list().await.unwrap(), before);
}
