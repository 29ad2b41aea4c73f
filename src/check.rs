//! `mcpca check`: a conformance probe of a live MCP server. The authority signs a probe set
//! (a valid descriptor and deliberately broken but signed ones, [`ProbeSet`]); the cases that
//! need no key (bad signature, unknown `kid`, `alg` none) are made here from the valid one with
//! a throwaway key; each is sent as a real MCP `initialize` request, and the answers are
//! compared with the verifier contract of DESIGN §3.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::authority::ServerRefArg;
use crate::descriptor::{FailureCode, HEADER_NAME};
use crate::duration::Dur;
use crate::keys::{b64url, KeyPair};
use crate::model::ServerRef;
use crate::output::{finish, table, Tabular};
use crate::{Error, Result};

/// The `sub` of every probe descriptor, so the audit log and the server's logs show them.
pub const PROBE_SUBJECT: &str = "mcpca-check";
/// Default lifetime of probe descriptors.
pub const DEFAULT_PROBE_TTL: Dur = Dur(120);
/// How far in the past an `expired` probe expired, and in the future a `not_yet_valid` one
/// starts: well beyond any sensible leeway (DESIGN §3 default: 15 s).
pub const SKEW_SECS: i64 = 600;
/// The `aud` of the `wrong_audience` probe (`.invalid` never resolves).
pub const WRONG_AUDIENCE: &str = "https://wrong-audience.mcpca-check.invalid/mcp";
/// The `mcp.server.id` of the `wrong_server_id` probe.
pub const WRONG_SERVER_ID: &str = "invalid.mcpca-check/wrong-server";
/// How long one probe request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// Largest error body read from the server.
const MAX_ERROR_BODY: usize = 16 * 1024;

/// One case of the probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
#[value(rename_all = "snake_case")]
pub enum Case {
    /// A valid descriptor: 2xx.
    Valid,
    /// No descriptor at all.
    Missing,
    /// `exp` in the past.
    Expired,
    /// `nbf` (and `iat`) in the future.
    NotYetValid,
    /// `aud` is another server.
    WrongAudience,
    /// `mcp.server.id` is another server.
    WrongServerId,
    /// Signed with another key under the active key's `kid`.
    BadSignature,
    /// Signed with a key the JWKS does not hold.
    UnknownKid,
    /// `alg: none`, no signature.
    AlgNone,
    /// A valid descriptor whose `jti` is in the revocation feed.
    Revoked,
}

impl Case {
    /// Every case, in the order they are sent (`missing` first: it needs nothing signed, so it
    /// doubles as the check that the server answers at all).
    pub const ALL: [Case; 10] = [
        Case::Missing,
        Case::Valid,
        Case::Expired,
        Case::NotYetValid,
        Case::WrongAudience,
        Case::WrongServerId,
        Case::BadSignature,
        Case::UnknownKid,
        Case::AlgNone,
        Case::Revoked,
    ];

    /// Wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Case::Valid => "valid",
            Case::Missing => "missing",
            Case::Expired => "expired",
            Case::NotYetValid => "not_yet_valid",
            Case::WrongAudience => "wrong_audience",
            Case::WrongServerId => "wrong_server_id",
            Case::BadSignature => "bad_signature",
            Case::UnknownKid => "unknown_kid",
            Case::AlgNone => "alg_none",
            Case::Revoked => "revoked",
        }
    }

    /// The failure code DESIGN §3 gives this case; `None` for the valid one (2xx expected).
    pub fn expected_code(self) -> Option<FailureCode> {
        Some(match self {
            Case::Valid => return None,
            Case::Missing => FailureCode::DescriptorMissing,
            Case::Expired => FailureCode::DescriptorExpired,
            Case::WrongAudience | Case::WrongServerId => FailureCode::DescriptorWrongAudience,
            Case::Revoked => FailureCode::DescriptorRevoked,
            Case::NotYetValid | Case::BadSignature | Case::UnknownKid | Case::AlgNone => FailureCode::DescriptorInvalid,
        })
    }

    /// The expectation as the table shows it.
    pub fn expected(self) -> String {
        match self.expected_code() {
            None => "2xx".into(),
            Some(code) => format!("401 {code}"),
        }
    }
}

impl std::fmt::Display for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What to ask the authority for (`Authority::probe_set`).
#[derive(Debug, Clone)]
pub struct ProbeRequest {
    /// The server under test, as registered.
    pub server: ServerRefArg,
    /// Lifetime of the probe descriptors [default: 2m], clamped like any issuance.
    pub ttl: Option<Dur>,
    /// Also sign a valid descriptor and revoke its `jti` (for servers that follow the feed).
    pub revoked: bool,
}

/// One descriptor of a probe set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeDescriptor {
    pub case: Case,
    pub descriptor: String,
    pub jti: String,
}

/// The descriptors the authority signs for a probe: `valid`, `expired`, `not_yet_valid`,
/// `wrong_audience`, `wrong_server_id` and, when asked, `revoked` (its `jti` already revoked).
/// All are issued to [`PROBE_SUBJECT`] and recorded in the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeSet {
    pub server: ServerRef,
    /// The server's endpoint as registered.
    pub endpoint: String,
    /// `aud` of the valid descriptor (the endpoint in canonical form).
    pub audience: String,
    pub issuer: String,
    /// The active key that signed them.
    pub kid: String,
    pub expires_at: String,
    pub descriptors: Vec<ProbeDescriptor>,
}

impl ProbeSet {
    /// The descriptor of one case, if the set holds it.
    pub fn get(&self, case: Case) -> Option<&str> {
        self.descriptors.iter().find(|d| d.case == case).map(|d| d.descriptor.as_str())
    }
}

/// The three parts of a compact JWS.
fn split(token: &str) -> Result<(&str, &str)> {
    let mut parts = token.split('.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(h), Some(p), Some(_), None) => Ok((h, p)),
        _ => Err(Error::Crypto("the authority's probe descriptor is not a compact JWS".into())),
    }
}

fn sign_with(key: &KeyPair, header: &str, payload_b64: &str) -> String {
    let input = format!("{}.{payload_b64}", b64url(header.as_bytes()));
    let sig = key.sign(input.as_bytes());
    format!("{input}.{}", b64url(&sig))
}

/// The cases made without the authority's key, from the valid descriptor: `bad_signature`
/// (the active `kid`, signed by a throwaway key), `unknown_kid` (the throwaway key's own
/// `kid`) and `alg_none` (no signature at all).
pub fn forge(valid: &str, active_kid: &str) -> Result<Vec<(Case, String)>> {
    let (_, payload) = split(valid)?;
    let throwaway = KeyPair::generate();
    let bad_signature = sign_with(&throwaway, &format!(r#"{{"alg":"EdDSA","typ":"at+jwt","kid":"{active_kid}"}}"#), payload);
    let unknown_kid = sign_with(&throwaway, &format!(r#"{{"alg":"EdDSA","typ":"at+jwt","kid":"{}"}}"#, throwaway.kid()), payload);
    let none_header = format!(r#"{{"alg":"none","typ":"at+jwt","kid":"{active_kid}"}}"#);
    let alg_none = format!("{}.{payload}.", b64url(none_header.as_bytes()));
    Ok(vec![(Case::BadSignature, bad_signature), (Case::UnknownKid, unknown_kid), (Case::AlgNone, alg_none)])
}

/// How a descriptor is presented (DESIGN §3: a verifier accepts either, configured).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Presentation {
    /// `MCP-Connect: <jwt>` (HAPI convention).
    #[default]
    McpConnect,
    /// `Authorization: Bearer <jwt>` (OAuth convention).
    Authorization,
}

impl Presentation {
    /// The header name and value carrying `jwt`.
    pub fn header(self, jwt: &str) -> (&'static str, String) {
        match self {
            Presentation::McpConnect => (HEADER_NAME, jwt.to_owned()),
            Presentation::Authorization => ("Authorization", format!("Bearer {jwt}")),
        }
    }
}

/// What the server answered to one probe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    pub status: u16,
    /// The `error` member of a JSON error body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Answer {
    fn text(&self) -> String {
        match &self.error {
            Some(e) => format!("{} {e}", self.status),
            None => self.status.to_string(),
        }
    }
}

/// The outcome of one case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Fail,
    Skipped,
}

impl Verdict {
    fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "FAIL",
            Verdict::Skipped => "skipped",
        }
    }
}

/// One row of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    pub case: Case,
    pub expected: String,
    /// `200`, `401 descriptor_expired`, or `-` when skipped.
    pub got: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<Answer>,
    pub verdict: Verdict,
    /// Why a case was skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The report of `mcpca check`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub url: String,
    pub server: ServerRef,
    pub audience: String,
    pub header: Presentation,
    pub rows: Vec<Row>,
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
}

impl Report {
    /// The cases whose answer differs from the contract.
    pub fn failures(&self) -> Vec<Case> {
        self.rows.iter().filter(|r| r.verdict == Verdict::Fail).map(|r| r.case).collect()
    }
}

impl Tabular for Report {
    fn table(&self) -> String {
        let mut t = table(&["CASE", "EXPECTED", "GOT", "VERDICT"]);
        for r in &self.rows {
            let verdict = match &r.note {
                Some(n) => format!("{} ({n})", r.verdict.as_str()),
                None => r.verdict.as_str().to_owned(),
            };
            t.add_row([r.case.as_str().to_owned(), r.expected.clone(), r.got.clone(), verdict]);
        }
        let mut out = finish(&t);
        out.push_str(&format!("{} passed, {} failed, {} skipped\n", self.passed, self.failed, self.skipped));
        out
    }
}

/// Judge an answer against what a case expects.
pub fn judge(case: Case, answer: &Answer) -> Verdict {
    let ok = match case.expected_code() {
        None => (200..300).contains(&answer.status),
        Some(code) => answer.status == 401 && answer.error.as_deref() == Some(code.as_str()),
    };
    if ok {
        Verdict::Pass
    } else {
        Verdict::Fail
    }
}

/// The body of the probe: a JSON-RPC `initialize`, as an MCP client opens a connection.
pub fn initialize_body() -> serde_json::Value {
    json!({
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": PROBE_SUBJECT, "version": env!("CARGO_PKG_VERSION")},
        },
    })
}

/// Sends probes to one MCP endpoint.
#[derive(Debug, Clone)]
pub struct Prober {
    url: url::Url,
    header: Presentation,
    http: reqwest::Client,
}

impl Prober {
    /// A prober of the MCP endpoint at `url`.
    pub fn new(url: &str, header: Presentation) -> Result<Self> {
        let hint = "give the MCP endpoint of the server, e.g. https://weather.acme.dev/mcp";
        let parsed = url::Url::parse(url.trim()).map_err(|e| Error::invalid(format!("{url:?} is not a URL: {e}"), hint))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(Error::invalid(format!("{url:?} is not an http(s) URL"), hint));
        }
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(Duration::from_secs(10))
            // A redirect would carry the descriptor elsewhere: never follow one.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("mcpca-check/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Config(format!("cannot build an HTTP client: {e}")))?;
        Ok(Prober { url: parsed, header, http })
    }

    /// The endpoint probed.
    pub fn url(&self) -> &url::Url {
        &self.url
    }

    /// Send one probe (`None`: no descriptor) and read the answer. Failing to reach the server
    /// at all is an operational error.
    pub async fn send(&self, descriptor: Option<&str>) -> Result<Answer> {
        let mut req = self
            .http
            .post(self.url.clone())
            .header(reqwest::header::ACCEPT, "application/json, text/event-stream")
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(initialize_body().to_string());
        if let Some(jwt) = descriptor {
            let (name, value) = self.header.header(jwt);
            req = req.header(name, value);
        }
        let resp = req.send().await.map_err(|e| {
            Error::invalid(
                format!("cannot reach the MCP server at {}: {}", self.url, crate::authority::remote::causes(&e)),
                "check the URL and that the server runs and listens there",
            )
        })?;
        let status = resp.status().as_u16();
        // A success may be an event stream that stays open: its body is not needed.
        if (200..300).contains(&status) {
            return Ok(Answer { status, error: None });
        }
        let error = match read_limited(resp).await {
            Some(body) => serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned)),
            None => None,
        };
        Ok(Answer { status, error })
    }
}

async fn read_limited(mut resp: reqwest::Response) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = resp.chunk().await {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_ERROR_BODY {
            return None;
        }
    }
    Some(body)
}

/// How the probe runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// The server follows the revocation feed: send the `revoked` case.
    pub expect_revocation: bool,
    /// How long to keep re-sending the `revoked` case while the server's feed catches up.
    pub revocation_wait: Duration,
    /// Cases not to send (reported as skipped).
    pub skip: Vec<Case>,
}

/// Send every case of `set` (plus the forged ones) and build the report; `missing` is the
/// answer to the request without a descriptor, sent before the probe set was asked for.
pub async fn run(prober: &Prober, missing: Answer, set: &ProbeSet, options: &Options) -> Result<Report> {
    let valid = set.get(Case::Valid).ok_or_else(|| Error::Crypto("the probe set has no valid descriptor".into()))?;
    let forged = forge(valid, &set.kid)?;
    let mut rows = Vec::with_capacity(Case::ALL.len());
    for case in Case::ALL {
        let skipped = |note: &str| Row {
            case,
            expected: case.expected(),
            got: "-".into(),
            answer: None,
            verdict: Verdict::Skipped,
            note: Some(note.to_owned()),
        };
        if options.skip.contains(&case) {
            rows.push(skipped("--skip"));
            continue;
        }
        let descriptor = match case {
            Case::Missing => {
                let verdict = judge(case, &missing);
                rows.push(Row { case, expected: case.expected(), got: missing.text(), answer: Some(missing.clone()), verdict, note: None });
                continue;
            }
            Case::BadSignature | Case::UnknownKid | Case::AlgNone => forged.iter().find(|(c, _)| *c == case).map(|(_, d)| d.as_str()),
            Case::Revoked if !options.expect_revocation => {
                rows.push(skipped("needs --expect-revocation"));
                continue;
            }
            _ => match set.get(case) {
                Some(d) => Some(d),
                None => {
                    rows.push(skipped("the authority sent no such descriptor"));
                    continue;
                }
            },
        };
        let mut answer = prober.send(descriptor).await?;
        if case == Case::Revoked {
            // Followers poll the feed: give the server time to see the new entry.
            let deadline = tokio::time::Instant::now() + options.revocation_wait;
            while judge(case, &answer) == Verdict::Fail && tokio::time::Instant::now() < deadline {
                tokio::time::sleep(Duration::from_secs(1)).await;
                answer = prober.send(descriptor).await?;
            }
        }
        let verdict = judge(case, &answer);
        rows.push(Row { case, expected: case.expected(), got: answer.text(), answer: Some(answer), verdict, note: None });
    }
    let count = |v: Verdict| rows.iter().filter(|r| r.verdict == v).count();
    Ok(Report {
        url: prober.url().to_string(),
        server: set.server.clone(),
        audience: set.audience.clone(),
        header: prober.header,
        passed: count(Verdict::Pass),
        failed: count(Verdict::Fail),
        skipped: count(Verdict::Skipped),
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::descriptor::{verify, Expectations, KeySet};

    #[test]
    fn expectations_follow_design_section_3() {
        assert_eq!(Case::Valid.expected(), "2xx");
        assert_eq!(Case::Expired.expected(), "401 descriptor_expired");
        assert_eq!(Case::WrongServerId.expected(), "401 descriptor_wrong_audience");
        assert_eq!(Case::AlgNone.expected(), "401 descriptor_invalid");
        assert_eq!(Case::Missing.expected(), "401 descriptor_missing");
        assert_eq!(judge(Case::Valid, &Answer { status: 202, error: None }), Verdict::Pass);
        assert_eq!(judge(Case::Expired, &Answer { status: 401, error: Some("descriptor_invalid".into()) }), Verdict::Fail);
        assert_eq!(judge(Case::Expired, &Answer { status: 403, error: Some("descriptor_expired".into()) }), Verdict::Fail);
        assert_eq!(judge(Case::Expired, &Answer { status: 401, error: Some("descriptor_expired".into()) }), Verdict::Pass);
    }

    #[test]
    fn forged_cases_fail_the_verifier_for_the_right_reason() {
        let key = KeyPair::generate();
        let signer = crate::descriptor::DescriptorSigner::new(KeyPair::from_seed(&key.signing_key().to_bytes()));
        let claims = crate::descriptor::Claims {
            iss: "https://ca.example.com".into(),
            sub: PROBE_SUBJECT.into(),
            client_id: None,
            aud: "https://weather.acme.dev/mcp".into(),
            iat: 1000,
            nbf: Some(1000),
            exp: 1120,
            jti: "j".into(),
            scope: None,
            mcp: None,
            client: None,
        };
        let valid = signer.sign(&claims);
        let mut keys = KeySet::default();
        keys.insert(key.public());
        let exp = Expectations::new("https://ca.example.com", "https://weather.acme.dev/mcp").unwrap_or_else(|e| unreachable!("{e}"));
        assert!(verify(&valid, &exp, 1010, &keys).is_ok());
        for (case, token) in forge(&valid, key.kid()).unwrap_or_default() {
            let e = verify(&token, &exp, 1010, &keys).err().unwrap_or_else(|| unreachable!("{case} verified"));
            assert_eq!(e.code, FailureCode::DescriptorInvalid, "{case}");
            let detail = e.detail;
            match case {
                Case::BadSignature => assert!(detail.contains("signature does not verify"), "{detail}"),
                Case::UnknownKid => assert!(detail.contains("unknown kid"), "{detail}"),
                // Refused before its header is even read: the signature is not 64 bytes.
                Case::AlgNone => {}
                other => unreachable!("{other}"),
            }
        }
    }
}
