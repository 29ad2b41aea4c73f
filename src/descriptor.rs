//! The Connect Descriptor (DESIGN §3): its claims, signing, and the verifier contract that an
//! MCP server applies on every request — `verify(token, &expectations, now, &keys)`.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ed25519_dalek::{Signature, VerifyingKey};
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use crate::keys::{b64url, thumbprint, Jwks, KeyPair};

/// Largest descriptor a verifier looks at.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;
/// Largest `exp - iat` a verifier accepts (and the authority grants).
pub const MAX_LIFETIME_SECS: i64 = 24 * 3600;
/// Default clock leeway of a verifier.
pub const DEFAULT_LEEWAY_SECS: i64 = 15;
/// The `typ` of a descriptor (RFC 9068).
pub const TYP: &str = "at+jwt";
/// The HAPI request header that carries a descriptor.
pub const HEADER_NAME: &str = "MCP-Connect";
/// `mcp.transport` of every descriptor: the MCP transport it opens.
pub const TRANSPORT: &str = "streamable_http";

/// Claims of a Connect Descriptor. Optional members are optional on the way in (a verifier
/// checks only what DESIGN §3 names); the authority always fills every one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub sub: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    pub aud: String,
    pub iat: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    pub exp: i64,
    pub jti: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcp: Option<McpClaims>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<ClientClaims>,
}

/// The `mcp` claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct McpClaims {
    pub transport: String,
    pub endpoint: String,
    pub server: ServerClaims,
}

/// The `mcp.server` claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerClaims {
    pub id: String,
    pub version: String,
    pub verified: bool,
}

/// The `client` claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientClaims {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
}

/// The claims an issuance signs, borrowed from what it decided (the snapshot's rows, the
/// request): [`Claims`] member for member, serialized to the same JSON (tested below), without
/// the dozen strings a [`Claims`] would copy for one signature on the issuance path.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct IssuedClaims<'a> {
    pub iss: &'a str,
    pub sub: &'a str,
    pub client_id: &'a str,
    pub aud: &'a str,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub jti: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<&'a str>,
    pub mcp: IssuedMcp<'a>,
    pub client: IssuedClient<'a>,
}

/// The `mcp` claim of [`IssuedClaims`].
#[derive(Debug, Clone, Copy, Serialize)]
pub struct IssuedMcp<'a> {
    pub transport: &'a str,
    pub endpoint: &'a str,
    pub server: IssuedServer<'a>,
}

/// The `mcp.server` claim of [`IssuedClaims`].
#[derive(Debug, Clone, Copy, Serialize)]
pub struct IssuedServer<'a> {
    pub id: &'a str,
    pub version: &'a str,
    pub verified: bool,
}

/// The `client` claim of [`IssuedClaims`].
#[derive(Debug, Clone, Copy, Serialize)]
pub struct IssuedClient<'a> {
    pub id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant: Option<&'a str>,
}

impl Claims {
    /// `mcp.server.id`, when present.
    pub fn server_id(&self) -> Option<&str> {
        self.mcp.as_ref().map(|m| m.server.id.as_str())
    }
}

/// Protected header as it is parsed. The members a verifier must refuse are captured only to
/// notice their presence; they are never followed.
#[derive(Debug, Clone, Deserialize)]
pub struct Header {
    pub alg: String,
    #[serde(default)]
    pub typ: Option<String>,
    #[serde(default)]
    pub kid: Option<String>,
    #[serde(default, skip_serializing, deserialize_with = "present")]
    crit: Option<IgnoredAny>,
    #[serde(default, skip_serializing, deserialize_with = "present")]
    jku: Option<IgnoredAny>,
    #[serde(default, skip_serializing, deserialize_with = "present")]
    x5u: Option<IgnoredAny>,
    #[serde(default, skip_serializing, deserialize_with = "present")]
    jwk: Option<IgnoredAny>,
}

/// A member that is present counts, whatever its value: `"crit":null` is refused like any
/// other `crit` (a plain `Option` would read `null` as absent).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<IgnoredAny>, D::Error> {
    IgnoredAny::deserialize(d).map(Some)
}

impl Header {
    /// Name of the first member that a verifier refuses to honour, if any.
    pub fn forbidden_member(&self) -> Option<&'static str> {
        [("crit", self.crit.is_some()), ("jku", self.jku.is_some()), ("x5u", self.x5u.is_some()), ("jwk", self.jwk.is_some())]
            .into_iter()
            .find_map(|(name, present)| present.then_some(name))
    }
}

/// Sign arbitrary JWS compact input: `b64(header).b64(payload).b64(sig)`.
pub fn jws_sign(header_json: &[u8], payload: &[u8], key: &KeyPair) -> String {
    let mut out = jws_start(header_json, payload.len());
    URL_SAFE_NO_PAD.encode_string(payload, &mut out);
    jws_finish(out, key)
}

/// As [`jws_sign`], with the payload (about `payload_len` bytes) serialised from `value` as JSON
/// straight into the token's base64: no copy of the payload is made (a revocation feed's can be
/// hundreds of KB).
pub fn jws_sign_json<T: Serialize + ?Sized>(
    header_json: &[u8],
    value: &T,
    payload_len: usize,
    key: &KeyPair,
) -> serde_json::Result<String> {
    let mut out = jws_start(header_json, payload_len);
    {
        let encoder = base64::write::EncoderStringWriter::from_consumer(&mut out, &URL_SAFE_NO_PAD);
        // serde_json writes in small pieces; the encoder is given them a few KB at a time.
        let mut buffered = std::io::BufWriter::with_capacity(8 << 10, encoder);
        serde_json::to_writer(&mut buffered, value)?;
        buffered.into_inner().map_err(|e| serde_json::Error::io(e.into_error()))?.into_inner();
    }
    Ok(jws_finish(out, key))
}

/// `b64(header).`, in a string with room for the rest of a token whose payload is about
/// `payload_len` bytes.
fn jws_start(header_json: &[u8], payload_len: usize) -> String {
    let b64_len = |n: usize| base64::encoded_len(n, false).unwrap_or(0);
    let mut out = String::with_capacity(b64_len(header_json.len()) + b64_len(payload_len) + b64_len(64) + 2);
    URL_SAFE_NO_PAD.encode_string(header_json, &mut out);
    out.push('.');
    out
}

/// Sign `b64(header).b64(payload)` and append `.b64(sig)`.
fn jws_finish(mut out: String, key: &KeyPair) -> String {
    let sig = key.sign(out.as_bytes());
    out.push('.');
    URL_SAFE_NO_PAD.encode_string(sig, &mut out);
    out
}

/// A key ready to sign descriptors: the encoded header is computed once per key.
#[derive(Debug)]
pub struct DescriptorSigner {
    key: KeyPair,
    header_b64: String,
}

impl DescriptorSigner {
    /// Wrap the active key.
    pub fn new(key: KeyPair) -> Self {
        let header = format!(r#"{{"alg":"EdDSA","typ":"{TYP}","kid":"{}"}}"#, key.kid());
        DescriptorSigner { header_b64: b64url(header.as_bytes()), key }
    }

    /// The signing key's `kid`.
    pub fn kid(&self) -> &str {
        self.key.kid()
    }

    /// The key itself (to sign other JWS with it, as the revocation feed).
    pub fn key(&self) -> &KeyPair {
        &self.key
    }

    /// Encode and sign `claims` ([`Claims`] or [`IssuedClaims`]) as a compact JWS.
    pub fn sign(&self, claims: &impl Serialize) -> String {
        // Claims are plain strings and integers: serialising them cannot fail. A descriptor's
        // fit in the first buffer (`to_vec` would start at 128 bytes and grow three times).
        let mut payload = Vec::with_capacity(PAYLOAD_CAPACITY);
        let _ = serde_json::to_writer(&mut payload, claims);
        let mut out = String::with_capacity(self.header_b64.len() + payload.len() * 4 / 3 + 100);
        out.push_str(&self.header_b64);
        out.push('.');
        URL_SAFE_NO_PAD.encode_string(&payload, &mut out);
        jws_finish(out, &self.key)
    }
}

/// Room for a descriptor's claims before they are encoded (~600 bytes with an ordinary server
/// name, endpoint and client).
const PAYLOAD_CAPACITY: usize = 768;

/// Why a descriptor was refused (DESIGN §3 failure codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureCode {
    DescriptorMissing,
    DescriptorInvalid,
    DescriptorExpired,
    DescriptorWrongAudience,
    DescriptorRevoked,
}

impl FailureCode {
    /// Wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureCode::DescriptorMissing => "descriptor_missing",
            FailureCode::DescriptorInvalid => "descriptor_invalid",
            FailureCode::DescriptorExpired => "descriptor_expired",
            FailureCode::DescriptorWrongAudience => "descriptor_wrong_audience",
            FailureCode::DescriptorRevoked => "descriptor_revoked",
        }
    }
}

impl fmt::Display for FailureCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refused descriptor: the code, and a detail for people and logs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {detail}")]
pub struct VerifyError {
    pub code: FailureCode,
    pub detail: String,
}

fn fail(code: FailureCode, detail: impl Into<String>) -> VerifyError {
    VerifyError { code, detail: detail.into() }
}

fn invalid(detail: impl Into<String>) -> VerifyError {
    fail(FailureCode::DescriptorInvalid, detail)
}

/// What a verifying server expects of a descriptor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expectations {
    /// The authority's issuer URL.
    pub issuer: String,
    /// The server's own canonical URL (see [`canonical_url`]).
    pub audience: String,
    /// The server's registry name, when it wants `mcp.server.id` checked.
    pub server_id: Option<String>,
    /// Clock leeway in seconds.
    pub leeway: i64,
}

impl Expectations {
    /// Expectations with the default leeway; the audience is canonicalised here.
    pub fn new(issuer: impl Into<String>, audience: &str) -> Result<Self, VerifyError> {
        let audience = canonical_url(audience).map_err(|e| invalid(format!("expected audience: {e}")))?;
        Ok(Expectations { issuer: issuer.into(), audience, server_id: None, leeway: DEFAULT_LEEWAY_SECS })
    }
}

/// Public keys a verifier trusts, by `kid`.
#[derive(Debug, Clone, Default)]
pub struct KeySet {
    keys: HashMap<String, VerifyingKey>,
}

impl KeySet {
    /// Add a key under its thumbprint.
    pub fn insert(&mut self, key: VerifyingKey) {
        self.keys.insert(thumbprint(key.as_bytes()), key);
    }

    /// Look a key up.
    pub fn get(&self, kid: &str) -> Option<&VerifyingKey> {
        self.keys.get(kid)
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// No keys at all.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// From a JWKS. Entries that are not Ed25519 signing keys are skipped; a malformed
    /// Ed25519 entry (not base64url, not 32 bytes, not a curve point, or a small-order point),
    /// or one whose `kid` is not its thumbprint, is an error.
    pub fn from_jwks(jwks: &Jwks) -> Result<Self, String> {
        let mut set = KeySet::default();
        for (i, jwk) in jwks.keys.iter().enumerate() {
            if jwk.kty != "OKP" || jwk.crv != "Ed25519" {
                continue;
            }
            let raw = URL_SAFE_NO_PAD.decode(&jwk.x).map_err(|_| format!("keys[{i}].x is not base64url"))?;
            let arr: [u8; 32] = raw.as_slice().try_into().map_err(|_| format!("keys[{i}].x is not 32 bytes"))?;
            let key = VerifyingKey::from_bytes(&arr).map_err(|_| format!("keys[{i}].x is not an Ed25519 point"))?;
            if key.is_weak() {
                return Err(format!("keys[{i}].x is a small-order point, not a usable public key"));
            }
            let kid = thumbprint(&arr);
            match &jwk.kid {
                Some(k) if *k != kid => return Err(format!("keys[{i}].kid {k} is not the key's RFC 7638 thumbprint {kid}")),
                _ => set.keys.insert(kid, key),
            };
        }
        Ok(set)
    }
}

/// A descriptor split and decoded, not yet trusted.
#[derive(Debug, Clone)]
pub struct Parsed<'a> {
    pub header: Header,
    /// The decoded payload JSON.
    pub payload: Vec<u8>,
    /// `header.payload`, the signed bytes.
    pub signing_input: &'a str,
    /// The signature segment as sent.
    pub signature_b64: &'a str,
    pub signature: [u8; 64],
}

fn b64_part(part: &str, what: &str) -> Result<Vec<u8>, VerifyError> {
    URL_SAFE_NO_PAD.decode(part).map_err(|_| invalid(format!("{what} is not unpadded base64url")))
}

/// Steps 1 and the syntax of step 2 of the verifier contract: size, shape, header and signature
/// bytes decoded. Used by `inspect` too, which reports rather than refuses.
pub fn parse(token: &str) -> Result<Parsed<'_>, VerifyError> {
    let token = token.trim();
    if token.is_empty() {
        return Err(fail(FailureCode::DescriptorMissing, "no descriptor was presented"));
    }
    if token.len() > MAX_TOKEN_BYTES {
        return Err(invalid(format!("descriptor is {} bytes, more than the {MAX_TOKEN_BYTES} allowed", token.len())));
    }
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(invalid("a descriptor has exactly three dot-separated parts"));
    };
    let header_json = b64_part(h, "header")?;
    let header: Header = serde_json::from_slice(&header_json).map_err(|e| invalid(format!("header is not valid JSON: {e}")))?;
    let payload = b64_part(p, "payload")?;
    let sig = b64_part(s, "signature")?;
    let signature: [u8; 64] = sig.as_slice().try_into().map_err(|_| invalid("signature is not 64 bytes"))?;
    Ok(Parsed { header, payload, signing_input: &token[..h.len() + 1 + p.len()], signature_b64: s, signature })
}

/// A descriptor that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The signing key's `kid` (shared: a cached descriptor hands out clones).
    pub kid: Arc<str>,
    pub claims: Arc<Claims>,
}

/// The verifier contract of DESIGN §3, steps 1–5. Step 6 (the revocation feed) is applied by
/// the caller that holds a feed.
pub fn verify(token: &str, exp: &Expectations, now: i64, keys: &KeySet) -> Result<Verified, VerifyError> {
    let parsed = parse(token)?;
    let kid = check_header(&parsed.header)?;
    // Debug form: a kid is attacker-chosen text and must not break a log line.
    let key = keys.get(kid).ok_or_else(|| invalid(format!("unknown kid {kid:?}")))?;
    verify_parsed(&parsed, key, exp, now)
}

/// The semantic half of step 2: `alg`, `typ`, no refused member, a `kid`. Returns the `kid`,
/// so a caller holding a JWKS cache can look it up (and re-fetch) before step 3.
pub fn check_header(h: &Header) -> Result<&str, VerifyError> {
    if h.alg != "EdDSA" && h.alg != "Ed25519" {
        return Err(invalid(format!("alg {:?} is not accepted (EdDSA only)", h.alg)));
    }
    if h.typ.as_deref() != Some(TYP) {
        return Err(invalid(format!("typ must be {TYP:?}")));
    }
    if let Some(member) = h.forbidden_member() {
        return Err(invalid(format!("header member {member:?} is refused")));
    }
    h.kid.as_deref().ok_or_else(|| invalid("header has no kid"))
}

/// Steps 4 and 5 for a parsed descriptor whose header passed [`check_header`], with the key
/// its `kid` names.
pub fn verify_parsed(parsed: &Parsed<'_>, key: &VerifyingKey, exp: &Expectations, now: i64) -> Result<Verified, VerifyError> {
    let kid = check_header(&parsed.header)?;
    verify_signature(key, parsed.signing_input.as_bytes(), &parsed.signature)?;
    let claims: Claims = serde_json::from_slice(&parsed.payload).map_err(|e| invalid(format!("claims: {e}")))?;
    check_claims(&claims, exp, now)?;
    Ok(Verified { kid: Arc::from(kid), claims: Arc::new(claims) })
}

/// Step 4: Ed25519 strict verification (RFC 8032 §5.1.7 with a canonical `S < L`, and no
/// small-order `R` or public key), the one signature check every descriptor goes through.
/// Takes the signature as sent, so a wrong length is refused here too.
pub fn verify_signature(key: &VerifyingKey, signed: &[u8], signature: &[u8]) -> Result<(), VerifyError> {
    let sig: [u8; 64] = signature.try_into().map_err(|_| invalid("signature is not 64 bytes"))?;
    key.verify_strict(signed, &Signature::from_bytes(&sig)).map_err(|_| invalid("signature does not verify"))
}

/// Step 5: the claims against the expectations and the clock.
pub fn check_claims(c: &Claims, exp: &Expectations, now: i64) -> Result<(), VerifyError> {
    if c.iss != exp.issuer {
        return Err(invalid(format!("issuer {:?} is not the expected {:?}", c.iss, exp.issuer)));
    }
    if c.aud != exp.audience {
        return Err(fail(FailureCode::DescriptorWrongAudience, format!("audience {:?} is not this server ({:?})", c.aud, exp.audience)));
    }
    if let Some(want) = &exp.server_id {
        if c.server_id() != Some(want.as_str()) {
            return Err(fail(
                FailureCode::DescriptorWrongAudience,
                format!("mcp.server.id {:?} is not this server ({want:?})", c.server_id().unwrap_or("")),
            ));
        }
    }
    check_times(c, exp.leeway, now)?;
    if c.jti.is_empty() {
        return Err(invalid("jti is empty"));
    }
    Ok(())
}

fn check_times(c: &Claims, leeway: i64, now: i64) -> Result<(), VerifyError> {
    if c.exp <= now.saturating_sub(leeway) {
        return Err(fail(FailureCode::DescriptorExpired, format!("expired {}", crate::duration::relative(c.exp.saturating_sub(now)))));
    }
    let nbf = c.nbf.unwrap_or(c.iat);
    if nbf > now.saturating_add(leeway) {
        return Err(invalid(format!("not valid before {}", crate::clock::rfc3339(nbf))));
    }
    // Checked: with extreme iat/exp a wrapping subtraction would pass the 24 h ceiling
    // (tests/faults/fuzz_regressions.rs, tests/library/attacks.rs).
    if c.exp.checked_sub(c.iat).is_none_or(|life| !(0..=MAX_LIFETIME_SECS).contains(&life)) {
        return Err(invalid("lifetime (exp - iat) is outside 0..24h"));
    }
    Ok(())
}

/// Verified descriptors kept until their `exp`, keyed by the signature, so a client reusing its
/// descriptor costs one hash lookup instead of a signature check. Shared by [`Verifier`] and
/// [`crate::verify::Verifier`].
#[derive(Debug)]
pub struct TokenCache {
    map: Mutex<HashMap<Box<str>, CacheEntry>>,
    capacity: usize,
}

#[derive(Debug)]
struct CacheEntry {
    token: Box<str>,
    verified: Verified,
}

/// Default number of descriptors a [`TokenCache`] holds.
pub const DEFAULT_CACHE_CAPACITY: usize = 65_536;

impl Default for TokenCache {
    fn default() -> Self {
        Self::new(DEFAULT_CACHE_CAPACITY)
    }
}

fn signature_part(token: &str) -> &str {
    token.rsplit('.').next().unwrap_or("")
}

impl TokenCache {
    /// A cache of up to `capacity` descriptors (at least one).
    pub fn new(capacity: usize) -> Self {
        TokenCache { map: Mutex::new(HashMap::new()), capacity: capacity.max(1) }
    }

    /// The verdict for a descriptor seen before: `None` when it is not cached, else its
    /// verification re-checked against the clock (an expired one is dropped and refused).
    pub fn get(&self, token: &str, leeway: i64, now: i64) -> Option<Result<Verified, VerifyError>> {
        let token = token.trim();
        let sig = signature_part(token);
        let mut cache = self.map.lock().ok()?;
        let hit = cache.get(sig)?;
        // The signature alone is not the token: compare the whole of it.
        if *hit.token != *token {
            return None;
        }
        match check_times(&hit.verified.claims, leeway, now) {
            Ok(()) => Some(Ok(hit.verified.clone())),
            Err(e) => {
                cache.remove(sig);
                Some(Err(e))
            }
        }
    }

    /// Remember a descriptor that passed every check. When full, expired entries go first,
    /// and everything if that is not enough.
    pub fn insert(&self, token: &str, verified: &Verified, leeway: i64, now: i64) {
        let token = token.trim();
        if let Ok(mut cache) = self.map.lock() {
            if cache.len() >= self.capacity {
                cache.retain(|_, e| e.verified.claims.exp > now.saturating_sub(leeway));
                if cache.len() >= self.capacity {
                    cache.clear();
                }
            }
            cache.insert(signature_part(token).into(), CacheEntry { token: token.into(), verified: verified.clone() });
        }
    }

    /// Number of cached descriptors.
    pub fn len(&self) -> usize {
        self.map.lock().map(|m| m.len()).unwrap_or(0)
    }

    /// Nothing cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A verifier for one server with a fixed key set: expectations, keys, and a [`TokenCache`].
/// For keys fetched from the authority (JWKS cache, revocation feed) use
/// [`crate::verify::Verifier`].
#[derive(Debug)]
pub struct Verifier {
    expectations: Expectations,
    keys: KeySet,
    cache: TokenCache,
}

impl Verifier {
    /// A verifier with a cache of up to 65,536 descriptors.
    pub fn new(expectations: Expectations, keys: KeySet) -> Self {
        Verifier { expectations, keys, cache: TokenCache::default() }
    }

    /// Verify, answering from the cache when this exact descriptor was verified before.
    pub fn verify(&self, token: &str, now: i64) -> Result<Verified, VerifyError> {
        let leeway = self.expectations.leeway;
        if let Some(hit) = self.cache.get(token, leeway, now) {
            return hit;
        }
        let verified = verify(token, &self.expectations, now, &self.keys)?;
        self.cache.insert(token, &verified, leeway, now);
        Ok(verified)
    }
}

/// Canonical form of an endpoint URL (DESIGN §3 `aud`): lower-case scheme and host, no default
/// port, no fragment, no trailing `/`.
pub fn canonical_url(input: &str) -> Result<String, String> {
    if is_plainly_canonical(input) {
        // Issuance computes the `aud` of the same stored endpoint on every request: most are
        // already canonical, and parsing them again would only give them back.
        return Ok(input.to_owned());
    }
    parse_canonical(input)
}

/// [`canonical_url`] through the URL parser, for any input.
fn parse_canonical(input: &str) -> Result<String, String> {
    let u = url::Url::parse(input.trim()).map_err(|e| format!("{input:?} is not a URL: {e}"))?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err(format!("{input:?} is not an http(s) URL"));
    }
    let host = u.host_str().ok_or_else(|| format!("{input:?} has no host"))?;
    let mut out = format!("{}://{}", u.scheme(), host);
    if let Some(port) = u.port() {
        out.push_str(&format!(":{port}"));
    }
    out.push_str(u.path().trim_end_matches('/'));
    if let Some(q) = u.query() {
        out.push('?');
        out.push_str(q);
    }
    Ok(out)
}

/// Whether `input` is, without parsing, already what [`canonical_url`] would make of it: `http`
/// or `https`, a host of lower-case letters, digits, `-` and `.` (labels neither empty nor
/// starting with a digit-only TLD form that a parser would read as an IPv4 address), an
/// optional port that is not the scheme's default and has no leading zero, and a path of
/// unreserved characters and `/` segments that are neither empty nor dot segments, not ending
/// in `/`, with no query, fragment or percent-escape. Anything else goes to the parser.
fn is_plainly_canonical(input: &str) -> bool {
    let (rest, default_port) = if let Some(r) = input.strip_prefix("https://") {
        (r, "443")
    } else if let Some(r) = input.strip_prefix("http://") {
        (r, "80")
    } else {
        return false;
    };
    let (authority, path) = rest.find('/').map_or((rest, ""), |i| rest.split_at(i));
    let (host, port) = match authority.split_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (authority, None),
    };
    let label_ok = |l: &str| {
        !l.is_empty()
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    // The last label must hold a letter: an all-digit (or hex-looking) host is an IPv4 form a
    // parser rewrites; `xn--` labels are IDNA, checked by the parser.
    let host_ok = host.split('.').all(label_ok)
        && host.rsplit('.').next().is_some_and(|tld| tld.bytes().any(|b| b.is_ascii_lowercase()) && !tld.starts_with("0x"))
        && !host.split('.').any(|l| l.starts_with("xn--"));
    let port_ok = port.is_none_or(|p| {
        !p.is_empty()
            && p.len() <= 5
            && p.bytes().all(|b| b.is_ascii_digit())
            && !p.starts_with('0')
            && p != default_port
            && p.parse::<u16>().is_ok()
    });
    let path_ok = path.is_empty()
        || (!path.ends_with('/')
            && path[1..].split('/').all(|seg| {
                !seg.is_empty()
                    && seg != "."
                    && seg != ".."
                    && seg.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
            }));
    host_ok && port_ok && path_ok
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// An issuance's borrowed claims are the owned claims' JSON, byte for byte: with and
    /// without the optional members, and with values that need escaping.
    #[test]
    fn issued_claims_serialize_as_claims() {
        for (scope, tenant, name) in
            [(None, None, "io.github.a/b"), (Some("tools:read"), Some("acme \"eu\"\n\u{e9}"), "io.github.a/\u{1}\\x")]
        {
            let owned = Claims {
                iss: "https://ca.example.com".into(),
                sub: "bot".into(),
                client_id: Some("bot".into()),
                aud: "https://mcp.example.com/mcp".into(),
                iat: 1_800_000_000,
                nbf: Some(1_800_000_000),
                exp: 1_800_000_300,
                jti: "0190a5b2-7c4e-7d2a-9f3b-2c1d4e5f6a7b".into(),
                scope: scope.map(str::to_owned),
                mcp: Some(McpClaims {
                    transport: TRANSPORT.into(),
                    endpoint: "https://mcp.example.com/mcp/".into(),
                    server: ServerClaims { id: name.into(), version: "1.0.0".into(), verified: true },
                }),
                client: Some(ClientClaims { id: "bot".into(), tenant: tenant.map(str::to_owned) }),
            };
            let borrowed = IssuedClaims {
                iss: "https://ca.example.com",
                sub: "bot",
                client_id: "bot",
                aud: "https://mcp.example.com/mcp",
                iat: 1_800_000_000,
                nbf: 1_800_000_000,
                exp: 1_800_000_300,
                jti: "0190a5b2-7c4e-7d2a-9f3b-2c1d4e5f6a7b",
                scope,
                mcp: IssuedMcp {
                    transport: TRANSPORT,
                    endpoint: "https://mcp.example.com/mcp/",
                    server: IssuedServer { id: name, version: "1.0.0", verified: true },
                },
                client: IssuedClient { id: "bot", tenant },
            };
            assert_eq!(serde_json::to_string(&borrowed).unwrap(), serde_json::to_string(&owned).unwrap());
        }
    }

    /// The shortcut answers exactly what the parser does, for canonical and nearly canonical
    /// inputs alike.
    #[test]
    fn the_canonical_shortcut_agrees_with_the_parser() {
        let plain = [
            "https://weather.acme.dev/mcp",
            "https://weather.acme.dev",
            "http://localhost:8080/a/b-c_d.e~f",
            "https://a-b.c9.dev:8443/v1/mcp",
            "https://x.dev/a..b",
        ];
        for u in plain {
            assert!(is_plainly_canonical(u), "{u}");
            assert_eq!(canonical_url(u).unwrap(), parse_canonical(u).unwrap(), "{u}");
        }
        let not_plain = [
            "HTTPS://x.dev/mcp",
            "https://X.dev/mcp",
            "https://x.dev:443/mcp",
            "http://x.dev:80",
            "https://x.dev:0443/a",
            "https://x.dev/mcp/",
            "https://x.dev/",
            "https://x.dev/a/../b",
            "https://x.dev/a/./b",
            "https://x.dev//a",
            "https://x.dev/a%41",
            "https://x.dev/a?q=1",
            "https://x.dev/a#f",
            "https://127.0.0.1/a",
            "https://1.2.3.0x10",
            "https://0x7f.1/a",
            "https://xn--bcher-kva.dev/a",
            "https://x.dev:99999/a",
            "https://-x.dev/a",
            "https://x..dev/a",
            "https://x.dev:/a",
            "https://user@x.dev/a",
            "ftp://x.dev/a",
            "https://x.dev/a b",
            " https://x.dev/a",
        ];
        for u in not_plain {
            assert!(!is_plainly_canonical(u), "{u}");
        }
        // Whatever the shortcut accepts, the parser gives back unchanged: the cases above and a
        // grid of schemes, hosts, ports and paths, near-canonical forms included.
        let mut grid: Vec<String> = plain.iter().chain(not_plain.iter()).map(|u| (*u).to_owned()).collect();
        for scheme in ["http", "https", "HTTP"] {
            for host in [
                "x.dev",
                "X.dev",
                "a-1.b2.dev",
                "1.2.3.4",
                "1.2.3.dev",
                "0x1f.dev",
                "x.0x1f",
                "x.123",
                "localhost",
                "x.dev.",
                "xn--p1ai.dev",
                "x_y.dev",
            ] {
                for port in ["", ":80", ":443", ":8080", ":08080", ":65536", ":"] {
                    for path in ["", "/", "/mcp", "/mcp/", "/a/b", "/a//b", "/a/./b", "/a/../b", "/%7e", "/~u", "/a.b", "/a b", "/é"] {
                        grid.push(format!("{scheme}://{host}{port}{path}"));
                    }
                }
            }
        }
        let mut accepted = 0;
        for u in &grid {
            if is_plainly_canonical(u) {
                accepted += 1;
                assert_eq!(parse_canonical(u).unwrap(), *u);
            }
        }
        assert!(accepted > 50, "the shortcut takes the common forms ({accepted})");
    }

    #[test]
    fn canonical_urls() {
        assert_eq!(canonical_url("HTTPS://Weather.ACME.dev:443/mcp/").as_deref(), Ok("https://weather.acme.dev/mcp"));
        assert_eq!(canonical_url("https://x.dev/").as_deref(), Ok("https://x.dev"));
        assert_eq!(canonical_url("http://127.0.0.1:8080/a/#frag").as_deref(), Ok("http://127.0.0.1:8080/a"));
        assert_eq!(canonical_url("https://x.dev/a/?q=1").as_deref(), Ok("https://x.dev/a?q=1"));
        assert!(canonical_url("ftp://x.dev").is_err());
        assert!(canonical_url("not a url").is_err());
    }
}
