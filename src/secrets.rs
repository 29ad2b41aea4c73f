//! Bearer secrets (client secrets `mcpca_cs_…`, admin tokens `mcpca_at_…`): 32 random bytes
//! with a recognisable prefix, shown once, stored only as a SHA-256 hash (right for
//! high-entropy secrets), compared in constant time.

use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::keys::b64url;

/// Prefix of client secrets.
pub const CLIENT_SECRET_PREFIX: &str = "mcpca_cs_";
/// Prefix of admin tokens.
pub const ADMIN_TOKEN_PREFIX: &str = "mcpca_at_";

/// A fresh secret: `prefix` + base64url of 32 random bytes.
pub fn generate(prefix: &str) -> Zeroizing<String> {
    let mut raw = Zeroizing::new([0u8; 32]);
    OsRng.fill_bytes(raw.as_mut());
    Zeroizing::new(format!("{prefix}{}", b64url(raw.as_ref())))
}

/// The stored form of a secret.
pub fn hash(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// Does `secret` hash to `stored`? Constant time in the compared bytes.
pub fn matches(secret: &str, stored: &[u8]) -> bool {
    hash(secret).ct_eq(stored).into()
}

/// A short public id derived from a secret's hash (for listings and audit), e.g. `at_3f9a1c2b`.
pub fn public_id(kind: &str, secret_hash: &[u8; 32]) -> String {
    format!("{kind}_{}", crate::audit::hex(&secret_hash[..4]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_prefixed_random_and_hash_checked() {
        let a = generate(CLIENT_SECRET_PREFIX);
        let b = generate(CLIENT_SECRET_PREFIX);
        assert!(a.starts_with(CLIENT_SECRET_PREFIX));
        assert_eq!(a.len(), CLIENT_SECRET_PREFIX.len() + 43);
        assert_ne!(*a, *b);
        let h = hash(&a);
        assert!(matches(&a, &h));
        assert!(!matches(&b, &h));
        assert!(!matches(&a, &h[..31]));
    }
}
