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
pub struct KeyPair {
    signing: SigningKey,
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
        let kid = thumbprint(signing.verifying_key().as_bytes());
        KeyPair { signing, kid }
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
