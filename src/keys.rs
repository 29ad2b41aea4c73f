//! Signing keys: Ed25519 key pairs, their RFC 7638 `kid`, the key-encryption key (KEK) that
//! keeps private halves encrypted at rest, the lifecycle states of DESIGN §4 and the JWKS.

use std::fmt;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use ed25519_dalek::{SigningKey, VerifyingKey};
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::{Error, Result};

/// Base64url without padding, the JOSE encoding.
pub fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// RFC 7638 thumbprint of an Ed25519 public key: SHA-256 over the canonical JWK
/// `{"crv":"Ed25519","kty":"OKP","x":"…"}`, base64url.
pub fn thumbprint(public: &[u8; 32]) -> String {
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#, b64url(public));
    b64url(&Sha256::digest(canonical.as_bytes()))
}

/// An Ed25519 private key. It has no `Serialize` and a `Debug` that shows only the `kid`;
/// the secret bytes are reached through [`KeyPair::signing_key`] alone.
///
/// It signs through AWS-LC (`aws-lc-rs`), whose base-point multiplication is formally verified
/// assembly: half the CPU of ed25519-dalek's (BENCHMARKS.md, sixth pass), for the same
/// signature — Ed25519 is deterministic (RFC 8032), and the two are tested to agree. Key
/// handling (generation, the public key, PKCS#8) stays with ed25519-dalek.
pub struct KeyPair {
    signing: SigningKey,
    /// The same key in AWS-LC; `None` only if AWS-LC refused it (it accepts every 32-byte
    /// seed), and then ed25519-dalek signs.
    fast: Option<aws_lc_rs::signature::Ed25519KeyPair>,
    kid: String,
}

impl KeyPair {
    /// A fresh key from the operating system's random source.
    pub fn generate() -> Self {
        Self::from_signing_key(SigningKey::generate(&mut OsRng))
    }

    /// From the 32-byte seed (`d`).
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        Self::from_signing_key(SigningKey::from_bytes(seed))
    }

    fn from_signing_key(signing: SigningKey) -> Self {
        let public = signing.verifying_key();
        let kid = thumbprint(public.as_bytes());
        // AWS-LC derives the public key from the seed again and checks it against dalek's.
        let seed = Zeroizing::new(signing.to_bytes());
        let fast = aws_lc_rs::signature::Ed25519KeyPair::from_seed_and_public_key(seed.as_slice(), public.as_bytes()).ok();
        KeyPair { signing, fast, kid }
    }

    /// The Ed25519 signature of `message`.
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        use ed25519_dalek::Signer as _;
        if let Some(fast) = &self.fast {
            if let Ok(sig) = <[u8; 64]>::try_from(fast.sign(message).as_ref()) {
                return sig;
            }
        }
        self.signing.sign(message).to_bytes()
    }

    /// The RFC 7638 thumbprint.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public half.
    pub fn public(&self) -> VerifyingKey {
        self.signing.verifying_key()
    }

    /// The secret key itself. Named plainly: every use is a place that touches the secret.
    pub fn signing_key(&self) -> &SigningKey {
        &self.signing
    }

    /// PKCS#8 PEM of the private key (for `key export --private`).
    pub fn to_pkcs8_pem(&self) -> Result<Zeroizing<String>> {
        use ed25519_dalek::pkcs8::{spki::der::pem::LineEnding, EncodePrivateKey};
        self.signing.to_pkcs8_pem(LineEnding::LF).map_err(|e| Error::Crypto(e.to_string()))
    }
}

impl fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyPair").field("kid", &self.kid).finish_non_exhaustive()
    }
}

/// The key-encryption key: 32 bytes that seal every private key at rest (XChaCha20-Poly1305).
pub struct Kek(Zeroizing<[u8; 32]>);

impl fmt::Debug for Kek {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Kek(<redacted>)")
    }
}

const SEAL_VERSION: u8 = 1;
const KEK_CHECK_PLAINTEXT: &[u8] = b"mcpca key-encryption key check v1";

impl Kek {
    /// A fresh random KEK.
    pub fn generate() -> Self {
        let mut k = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(k.as_mut());
        Kek(k)
    }

    /// Parse the base64 form (`MCPCA_KEK`, the `kek` file). Standard or URL alphabet, padding optional.
    pub fn from_base64(text: &str) -> Result<Self> {
        let t = text.trim();
        let raw = Zeroizing::new(STANDARD.decode(t).or_else(|_| URL_SAFE_NO_PAD.decode(t.trim_end_matches('='))).map_err(|_| {
            Error::invalid(
                "the key-encryption key is not valid base64",
                "MCPCA_KEK must hold 32 random bytes in base64, e.g. from `head -c32 /dev/urandom | base64`",
            )
        })?);
        let arr: [u8; 32] = raw.as_slice().try_into().map_err(|_| {
            Error::invalid(
                format!("the key-encryption key must be 32 bytes, got {}", raw.len()),
                "MCPCA_KEK must hold 32 random bytes in base64, e.g. from `head -c32 /dev/urandom | base64`",
            )
        })?;
        Ok(Kek(Zeroizing::new(arr)))
    }

    /// The base64 form, for writing the `kek` file once at `init`.
    pub fn to_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(STANDARD.encode(self.0.as_ref()))
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(self.0.as_ref().into())
    }

    /// Seal `plaintext`, binding it to `aad` (the `kid`, so sealed keys cannot be swapped).
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>> {
        let mut nonce = [0u8; 24];
        OsRng.fill_bytes(&mut nonce);
        let ct = self
            .cipher()
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: plaintext, aad })
            .map_err(|_| Error::Crypto("encryption failed".into()))?;
        let mut out = Vec::with_capacity(1 + 24 + ct.len());
        out.push(SEAL_VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        Ok(out)
    }

    /// Open what [`Kek::seal`] sealed; a wrong KEK gives [`Error::WrongKek`].
    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        if sealed.len() < 1 + 24 + 16 || sealed[0] != SEAL_VERSION {
            return Err(Error::Crypto("sealed key has an unknown format".into()));
        }
        self.cipher()
            .decrypt(XNonce::from_slice(&sealed[1..25]), Payload { msg: &sealed[25..], aad })
            .map(Zeroizing::new)
            .map_err(|_| Error::WrongKek)
    }

    /// A value stored at `init` that proves later which KEK the authority was created with.
    pub fn check_value(&self) -> Result<Vec<u8>> {
        self.seal(KEK_CHECK_PLAINTEXT, b"kek-check")
    }

    /// Does this KEK open the check value written at `init`?
    pub fn matches(&self, check: &[u8]) -> bool {
        self.open(check, b"kek-check").map(|p| p.as_slice() == KEK_CHECK_PLAINTEXT).unwrap_or(false)
    }

    /// Seal a key pair's seed.
    pub fn seal_key(&self, key: &KeyPair) -> Result<Vec<u8>> {
        self.seal(key.signing_key().as_bytes(), key.kid().as_bytes())
    }

    /// Open a sealed seed and rebuild the key pair, checking it matches `kid`.
    pub fn open_key(&self, kid: &str, sealed: &[u8]) -> Result<KeyPair> {
        let seed = self.open(sealed, kid.as_bytes())?;
        let arr: Zeroizing<[u8; 32]> =
            Zeroizing::new(seed.as_slice().try_into().map_err(|_| Error::Crypto("sealed key has a wrong length".into()))?);
        let key = KeyPair::from_seed(&arr);
        if key.kid() != kid {
            return Err(Error::Crypto(format!("stored key does not match its kid {kid}")));
        }
        Ok(key)
    }
}

/// Lifecycle state of a signing key (DESIGN §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyState {
    /// Published, not yet signing.
    Next,
    /// The one key that signs.
    Active,
    /// Published, no longer signing, until its last descriptor can have expired.
    Retiring,
    /// Unpublished; private half destroyed.
    Retired,
    /// Unpublished at once and listed in the revocation feed; private half destroyed.
    Revoked,
}

impl KeyState {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyState::Next => "next",
            KeyState::Active => "active",
            KeyState::Retiring => "retiring",
            KeyState::Retired => "retired",
            KeyState::Revoked => "revoked",
        }
    }

    /// Is the public half in the JWKS?
    pub fn is_published(self) -> bool {
        matches!(self, KeyState::Next | KeyState::Active | KeyState::Retiring)
    }

    /// Parse the stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "next" => KeyState::Next,
            "active" => KeyState::Active,
            "retiring" => KeyState::Retiring,
            "retired" => KeyState::Retired,
            "revoked" => KeyState::Revoked,
            _ => return None,
        })
    }
}

impl fmt::Display for KeyState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A public JWK as published (DESIGN §4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    pub kty: String,
    pub crv: String,
    pub x: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    #[serde(default, rename = "use", skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
}

impl Jwk {
    /// The JWK of an Ed25519 public key.
    pub fn ed25519(public: &VerifyingKey) -> Self {
        Jwk {
            kty: "OKP".into(),
            crv: "Ed25519".into(),
            x: b64url(public.as_bytes()),
            kid: Some(thumbprint(public.as_bytes())),
            alg: Some("EdDSA".into()),
            use_: Some("sig".into()),
        }
    }
}

/// A JWK Set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

impl Jwks {
    /// Parse a JWKS document.
    pub fn from_json(text: &str) -> Result<Self> {
        serde_json::from_str(text).map_err(|e| {
            Error::invalid(
                format!("not a JWKS document: {e}"),
                "give the JSON of `mcpca key export --public` or the authority's /.well-known/jwks.json",
            )
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signer as _, Verifier as _};

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    /// RFC 8032 §7.1, TEST 1 to 3: seed, public key, message, signature.
    const RFC8032: [(&str, &str, &str, &str); 3] = [
        (
            "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
            "",
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
        ),
        (
            "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
            "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
            "72",
            "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
        ),
        (
            "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
            "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
            "af82",
            "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
        ),
    ];

    #[test]
    fn signs_the_rfc_8032_vectors() {
        for (seed, public, message, signature) in RFC8032 {
            let key = KeyPair::from_seed(&hex(seed).try_into().unwrap());
            assert!(key.fast.is_some(), "AWS-LC takes every seed");
            assert_eq!(key.public().as_bytes().as_slice(), hex(public));
            assert_eq!(key.sign(&hex(message)).as_slice(), hex(signature));
        }
    }

    /// AWS-LC signs what ed25519-dalek signs, byte for byte, and dalek verifies it.
    #[test]
    fn aws_lc_and_ed25519_dalek_give_the_same_signature() {
        let mut message = Vec::new();
        for round in 0..200u32 {
            let key = KeyPair::generate();
            message.resize((round as usize * 37) % 1500, 0);
            OsRng.fill_bytes(&mut message);
            let fast = key.sign(&message);
            assert_eq!(fast, key.signing_key().sign(&message).to_bytes(), "round {round}");
            key.public().verify(&message, &ed25519_dalek::Signature::from_bytes(&fast)).unwrap();
        }
    }

    /// Without the AWS-LC key, ed25519-dalek signs: the same signature.
    #[test]
    fn signs_with_ed25519_dalek_when_aws_lc_has_no_key() {
        let mut key = KeyPair::from_seed(&[9u8; 32]);
        let fast = key.sign(b"header.payload");
        key.fast = None;
        assert_eq!(key.sign(b"header.payload"), fast);
    }

    #[test]
    fn debug_shows_only_the_kid() {
        let key = KeyPair::from_seed(&[9u8; 32]);
        let shown = format!("{key:?}");
        assert_eq!(shown, format!("KeyPair {{ kid: {:?}, .. }}", key.kid()));
    }
}
