//! OAuth 2.0 interop: `POST /oauth/token` (client credentials + RFC 8707 resource),
//! `POST /oauth/introspect` (RFC 7662) and `POST /oauth/revoke` (RFC 7009).

use mcpca::authority::Authority;
use mcpca::clock::Clock;
use mcpca::model::{ClientPolicy, Status};
use serde_json::Value;

use crate::util::{seed, TestServer};

const ISSUER: &str = "https://ca.example.com";
const RESOURCE: &str = "https://weather.acme.dev/mcp";
const SERVER: &str = "io.github.acme/weather";

fn cc(resource: &str) -> Vec<(&'static str, String)> {
    vec![("grant_type", "client_credentials".into()), ("resource", resource.into())]
}

async fn post_basic(s: &TestServer, path: &str, id: &str, secret: &str, form: &[(&str, String)]) -> reqwest::Response {
    s.http.post(s.at(path)).basic_auth(id, Some(secret)).form(form).send().await.unwrap()
}

async fn post_body(s: &TestServer, path: &str, id: &str, secret: &str, form: &[(&str, String)]) -> reqwest::Response {
    let mut form = form.to_vec();
    form.push(("client_id", id.into()));
    form.push(("client_secret", secret.into()));
    s.http.post(s.at(path)).form(&form).send().await.unwrap()
}

/// An OAuth error answer: status, `error`, and the whole body.
async fn oauth_error(r: reqwest::Response, status: u16, error: &str) -> Value {
    assert_eq!(r.status(), status, "{:?}", r.headers());
    assert_eq!(r.headers()["cache-control"], "no-store");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], error, "{body}");
    assert!(body["error_description"].as_str().is_some_and(|d| !d.is_empty()), "{body}");
    body
}

async fn add_client(s: &TestServer, id: &str, allow: &str, rate: Option<u32>) -> String {
    let policy = ClientPolicy { tenant: None, allow: vec![allow.into()], max_ttl: None, rate_per_min: rate };
    s.authority().client_add(id, policy).await.unwrap().secret
}

/// A token for `bot` through client_secret_basic.
async fn bot_token(s: &TestServer, secret: &str) -> String {
    let r = post_basic(s, "/oauth/token", "bot", secret, &cc(RESOURCE)).await;
    assert_eq!(r.status(), 200);
    r.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned()
}

async fn verify(s: &TestServer, token: &str, audience: &str) -> mcpca::descriptor::Verified {
    let jwks: mcpca::keys::Jwks = s.http.get(s.at("/.well-known/jwks.json")).send().await.unwrap().json().await.unwrap();
    let keys = mcpca::descriptor::KeySet::from_jwks(&jwks).unwrap();
    let exp = mcpca::descriptor::Expectations::new(ISSUER, audience).unwrap();
    mcpca::descriptor::verify(token, &exp, s.clock.now(), &keys).unwrap()
}

#[tokio::test]
async fn client_credentials_with_basic_and_post_answer_a_descriptor_for_the_resource() {
    let s = TestServer::start().await;
    let secret = seed(&s).await;
    for basic in [true, false] {
        let mut form = cc(RESOURCE);
        form.push(("scope", "tools:read tools:call".into()));
        let r = if basic {
            post_basic(&s, "/oauth/token", "bot", &secret, &form).await
        } else {
            post_body(&s, "/oauth/token", "bot", &secret, &form).await
        };
        assert_eq!(r.status(), 200, "basic={basic}");
        assert_eq!(r.headers()["cache-control"], "no-store");
        assert_eq!(r.headers()["pragma"], "no-cache");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["expires_in"], 120);
        assert_eq!(body["scope"], "tools:read tools:call");
        let v = verify(&s, body["access_token"].as_str().unwrap(), RESOURCE).await;
        assert_eq!(v.claims.aud, RESOURCE);
        assert_eq!(v.claims.sub, "bot");
        assert_eq!(v.claims.client_id.as_deref(), Some("bot"));
        assert_eq!(v.claims.scope.as_deref(), Some("tools:read tools:call"));
        assert_eq!(v.claims.server_id(), Some(SERVER));
        assert_eq!(v.claims.exp - v.claims.iat, 120);
    }
    // Without a scope, none is answered.
    let r = post_basic(&s, "/oauth/token", "bot", &secret, &cc(RESOURCE)).await;
    assert!(r.json::<Value>().await.unwrap().get("scope").is_none());
    // Issuance through OAuth is audited like /v1/connect.
    let audit = s.authority().audit_list(&mcpca::store::AuditFilter { client: Some("bot".into()), ..Default::default() }).await.unwrap();
    assert_eq!(audit.iter().filter(|e| e.action == "issue").count(), 3);
    s.stop().await;
}

#[tokio::test]
async fn a_resource_in_non_canonical_form_maps_to_the_server() {
    let s = TestServer::start().await;
    let secret = seed(&s).await;
    for resource in ["HTTPS://Weather.ACME.dev/mcp", "https://weather.acme.dev/mcp/", "https://WEATHER.acme.dev:443/mcp/"] {
        let r = post_body(&s, "/oauth/token", "bot", &secret, &cc(resource)).await;
        assert_eq!(r.status(), 200, "{resource}");
        let token = r.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned();
        assert_eq!(verify(&s, &token, RESOURCE).await.claims.aud, RESOURCE, "{resource}");
    }
    s.stop().await;
}

#[tokio::test]
async fn client_authentication_failures() {
    let s = TestServer::start().await;
    let secret = seed(&s).await;
    let other = add_client(&s, "other", "*", None).await;
    let form = cc(RESOURCE);

    // Wrong secret, Basic: 401 with a Basic challenge.
    let r = post_basic(&s, "/oauth/token", "bot", "mcpca_cs_wrong", &form).await;
    assert!(r.headers()["www-authenticate"].to_str().unwrap().starts_with("Basic"));
    oauth_error(r, 401, "invalid_client").await;
    // Wrong secret, post.
    oauth_error(post_body(&s, "/oauth/token", "bot", "mcpca_cs_wrong", &form).await, 401, "invalid_client").await;
    // A valid secret of another client: the client_id must be the secret's client.
    oauth_error(post_basic(&s, "/oauth/token", "bot", &other, &form).await, 401, "invalid_client").await;
    oauth_error(post_body(&s, "/oauth/token", "other", &secret, &form).await, 401, "invalid_client").await;
    // An admin token is not a client secret.
    oauth_error(post_basic(&s, "/oauth/token", "bot", &s.admin, &form).await, 401, "invalid_client").await;
    // No authentication at all.
    oauth_error(s.http.post(s.at("/oauth/token")).form(&form).send().await.unwrap(), 401, "invalid_client").await;
    // The secret as a bearer token is not an OAuth client authentication method.
    let r = s.http.post(s.at("/oauth/token")).bearer_auth(&secret).form(&form).send().await.unwrap();
    oauth_error(r, 401, "invalid_client").await;
    // Both methods at once.
    let mut both = form.clone();
    both.push(("client_secret", secret.clone()));
    oauth_error(post_basic(&s, "/oauth/token", "bot", &secret, &both).await, 400, "invalid_request").await;
    // client_secret_post without client_id.
    let mut no_id = form.clone();
    no_id.push(("client_secret", secret.clone()));
    oauth_error(s.http.post(s.at("/oauth/token")).form(&no_id).send().await.unwrap(), 400, "invalid_request").await;
    // Basic with a client_id in the body naming someone else.
    let mut mismatch = form.clone();
    mismatch.push(("client_id", "other".into()));
    oauth_error(post_basic(&s, "/oauth/token", "bot", &secret, &mismatch).await, 400, "invalid_request").await;
    // Basic with a form-urlencoded client_id (RFC 6749 §2.3.1) and a matching body client_id.
    let mut same = form.clone();
    same.push(("client_id", "bot".into()));
    let raw = format!("{}:{}", "b%6Ft", secret);
    use base64::Engine as _;
    let header = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(raw));
    let r = s.http.post(s.at("/oauth/token")).header("authorization", header).form(&same).send().await.unwrap();
    assert_eq!(r.status(), 200);
    // Introspection and revocation need client authentication too.
    for path in ["/oauth/introspect", "/oauth/revoke"] {
        let r = s.http.post(s.at(path)).form(&[("token", "x")]).send().await.unwrap();
        oauth_error(r, 401, "invalid_client").await;
        oauth_error(post_basic(&s, path, "bot", &other, &[("token", "x".into())]).await, 401, "invalid_client").await;
    }
    s.stop().await;
}

#[tokio::test]
async fn grant_type_and_resource_errors() {
    let s = TestServer::start().await;
    let secret = seed(&s).await;
    let with = |pairs: &[(&'static str, &str)]| pairs.iter().map(|(k, v)| (*k, v.to_string())).collect::<Vec<_>>();

    oauth_error(post_basic(&s, "/oauth/token", "bot", &secret, &with(&[("resource", RESOURCE)])).await, 400, "invalid_request").await;
    let r = post_basic(&s, "/oauth/token", "bot", &secret, &with(&[("grant_type", "password"), ("resource", RESOURCE)])).await;
    oauth_error(r, 400, "unsupported_grant_type").await;
    let r = post_basic(
        &s,
        "/oauth/token",
        "bot",
        &secret,
        &with(&[("grant_type", "client_credentials"), ("grant_type", "client_credentials")]),
    )
    .await;
    oauth_error(r, 400, "invalid_request").await;
    // Not form-encoded.
    let r = s
        .http
        .post(s.at("/oauth/token"))
        .basic_auth("bot", Some(&secret))
        .json(&serde_json::json!({"grant_type": "client_credentials", "resource": RESOURCE}))
        .send()
        .await
        .unwrap();
    oauth_error(r, 400, "invalid_request").await;
    // Resource: missing, unknown, malformed, with a fragment, more than one.
    oauth_error(
        post_basic(&s, "/oauth/token", "bot", &secret, &with(&[("grant_type", "client_credentials")])).await,
        400,
        "invalid_target",
    )
    .await;
    for bad in [
        "https://unknown.example.com/mcp",
        "https://weather.acme.dev/other",
        "not a url",
        "ftp://weather.acme.dev/mcp",
        "https://weather.acme.dev/mcp#x",
    ] {
        let body = oauth_error(post_basic(&s, "/oauth/token", "bot", &secret, &cc(bad)).await, 400, "invalid_target").await;
        assert!(body.get("mcpca_error").is_none(), "{body}");
    }
    let mut two = cc(RESOURCE);
    two.push(("resource", "https://other.example.com/mcp".into()));
    oauth_error(post_basic(&s, "/oauth/token", "bot", &secret, &two).await, 400, "invalid_target").await;
    // Nothing above issued anything.
    let issued = s.authority().audit_list(&Default::default()).await.unwrap().into_iter().filter(|e| e.action == "issue").count();
    assert_eq!(issued, 0);
    s.stop().await;
}

#[tokio::test]
async fn issuance_denials_keep_the_deny_code_visible() {
    let s = TestServer::start().await;
    let secret = seed(&s).await;
    let narrow = add_client(&s, "narrow", "io.github.other/*", None).await;
    let limited = add_client(&s, "limited", "*", Some(1)).await;

    // A client whose patterns do not allow the server.
    let body = oauth_error(post_basic(&s, "/oauth/token", "narrow", &narrow, &cc(RESOURCE)).await, 400, "unauthorized_client").await;
    assert_eq!(body["mcpca_error"], "policy_blocked");

    // Rate limit: 429 with Retry-After.
    assert_eq!(post_basic(&s, "/oauth/token", "limited", &limited, &cc(RESOURCE)).await.status(), 200);
    let r = post_basic(&s, "/oauth/token", "limited", &limited, &cc(RESOURCE)).await;
    let retry: u64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry));
    let body = oauth_error(r, 429, "temporarily_unavailable").await;
    assert_eq!(body["mcpca_error"], "rate_limited");
    assert_eq!(body["retry_after"], retry);

    // A suspended server.
    let name: mcpca::authority::ServerRefArg = SERVER.parse().unwrap();
    s.authority().server_set_status(&name, Status::Suspended, Some("maintenance".into())).await.unwrap();
    let body = oauth_error(post_basic(&s, "/oauth/token", "bot", &secret, &cc(RESOURCE)).await, 400, "invalid_target").await;
    assert_eq!(body["mcpca_error"], "policy_blocked");
    assert!(body["error_description"].as_str().unwrap().contains("suspended"), "{body}");
    // A revoked server.
    s.authority().server_set_status(&name, Status::Revoked, None).await.unwrap();
    let body = oauth_error(post_basic(&s, "/oauth/token", "bot", &secret, &cc(RESOURCE)).await, 400, "invalid_target").await;
    assert_eq!(body["mcpca_error"], "server_revoked");
    s.authority().server_set_status(&name, Status::Active, None).await.unwrap();
    assert_eq!(post_basic(&s, "/oauth/token", "bot", &secret, &cc(RESOURCE)).await.status(), 200);

    // A suspended client authenticates, and is refused.
    s.authority().client_set_status("bot", mcpca::store::ClientStatus::Suspended, Some("abuse".into())).await.unwrap();
    let body = oauth_error(post_basic(&s, "/oauth/token", "bot", &secret, &cc(RESOURCE)).await, 400, "unauthorized_client").await;
    assert_eq!(body["mcpca_error"], "policy_blocked");

    // Every denial is in the audit log.
    let denials = s
        .authority()
        .audit_list(&mcpca::store::AuditFilter { decision: Some(mcpca::audit::Decision::Deny), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(denials.len(), 5, "{denials:?}");
    s.stop().await;
}

#[tokio::test]
async fn a_remote_that_is_not_the_streamable_http_endpoint_is_not_a_target() {
    let s = TestServer::start().await;
    let secret = seed(&s).await;
    let doc = serde_json::json!({
        "$schema": "https://static.modelcontextprotocol.io/schemas/2025-09-29/server.schema.json",
        "name": "io.github.acme/both",
        "description": "Two remotes",
        "version": "1.0.0",
        "remotes": [
            {"type": "sse", "url": "https://both.acme.dev/sse"},
            {"type": "streamable-http", "url": "https://both.acme.dev/mcp"}
        ]
    });
    s.authority().server_add(mcpca::authority::ServerInput { document: doc, verified: Some(true), max_ttl: None }).await.unwrap();
    let body =
        oauth_error(post_basic(&s, "/oauth/token", "bot", &secret, &cc("https://both.acme.dev/sse")).await, 400, "invalid_target").await;
    assert_eq!(body["mcpca_error"], "transport_not_supported");
    let r = post_basic(&s, "/oauth/token", "bot", &secret, &cc("https://both.acme.dev/mcp")).await;
    assert_eq!(r.status(), 200);
    s.stop().await;
}

#[tokio::test]
async fn the_latest_version_with_the_endpoint_is_the_target() {
    let s = TestServer::start().await;
    let secret = seed(&s).await;
    for version in ["1.1.0", "1.0.9"] {
        let doc = mcpca::registry::document_from_flags(&mcpca::registry::ServerFlags {
            name: SERVER.into(),
            url: RESOURCE.into(),
            version: Some(version.into()),
            ..Default::default()
        });
        s.authority().server_add(mcpca::authority::ServerInput { document: doc, verified: None, max_ttl: None }).await.unwrap();
    }
    let token = bot_token(&s, &secret).await;
    let v = verify(&s, &token, RESOURCE).await;
    assert_eq!(v.claims.mcp.as_ref().unwrap().server.version, "1.1.0");
    // A deleted version is skipped.
    let latest: mcpca::authority::ServerRefArg = format!("{SERVER}@1.1.0").parse().unwrap();
    s.authority().server_set_status(&latest, Status::Deleted, None).await.unwrap();
    let token = bot_token(&s, &secret).await;
    assert_eq!(verify(&s, &token, RESOURCE).await.claims.mcp.as_ref().unwrap().server.version, "1.0.9");
    s.stop().await;
}

#[tokio::test]
async fn introspection_says_active_only_for_a_valid_unrevoked_descriptor() {
    let s = TestServer::start().await;
    let secret = seed(&s).await;
    let other = add_client(&s, "other", "*", None).await;
    let token = bot_token(&s, &secret).await;
    let introspect = |id: &'static str, sec: String, tok: String| {
        let s = &s;
        async move {
            let r = post_body(s, "/oauth/introspect", id, &sec, &[("token", tok), ("token_type_hint", "access_token".into())]).await;
            assert_eq!(r.status(), 200);
            assert_eq!(r.headers()["cache-control"], "no-store");
            r.json::<Value>().await.unwrap()
        }
    };

    let body = introspect("bot", secret.clone(), token.clone()).await;
    assert_eq!(body["active"], true, "{body}");
    assert_eq!(body["iss"], ISSUER);
    assert_eq!(body["sub"], "bot");
    assert_eq!(body["client_id"], "bot");
    assert_eq!(body["aud"], RESOURCE);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["mcp"]["server"]["id"], SERVER);
    assert!(body["jti"].is_string() && body["exp"].is_i64() && body["iat"].is_i64() && body["nbf"].is_i64());
    // Policy: any authenticated client may introspect any descriptor.
    assert_eq!(introspect("other", other.clone(), token.clone()).await["active"], true);

    // Tampered payload, tampered signature, garbage, empty-looking: inactive, never an error.
    let parts: Vec<&str> = token.split('.').collect();
    let mut payload: Value = serde_json::from_slice(&base64_url_decode(parts[1])).unwrap();
    payload["sub"] = "mallory".into();
    let forged = format!("{}.{}.{}", parts[0], base64_url_encode(&serde_json::to_vec(&payload).unwrap()), parts[2]);
    let mut sig = parts[2].to_owned();
    let flip = if sig.starts_with('A') { "B" } else { "A" };
    sig.replace_range(0..1, flip);
    let bad_sig = format!("{}.{}.{}", parts[0], parts[1], sig);
    for bad in [forged, bad_sig, "garbage".to_owned(), "a.b.c".to_owned()] {
        let body = introspect("bot", secret.clone(), bad.clone()).await;
        assert_eq!(body, serde_json::json!({"active": false}), "{bad}");
    }
    // Missing token: invalid_request.
    oauth_error(post_body(&s, "/oauth/introspect", "bot", &secret, &[]).await, 400, "invalid_request").await;

    // Expired.
    s.clock.advance(121);
    assert_eq!(introspect("bot", secret.clone(), token.clone()).await["active"], false);
    s.stop().await;
}

#[tokio::test]
async fn revocation_makes_a_descriptor_inactive_and_lists_it_in_the_feed() {
    let s = TestServer::start().await;
    let secret = seed(&s).await;
    let other = add_client(&s, "other", "*", None).await;
    let token = bot_token(&s, &secret).await;
    let jti = verify(&s, &token, RESOURCE).await.claims.jti.clone();

    // Another client cannot revoke it.
    let r = post_basic(&s, "/oauth/revoke", "other", &other, &[("token", token.clone())]).await;
    oauth_error(r, 400, "unauthorized_client").await;
    assert!(s.authority().revocations(0).await.unwrap().is_empty());

    // Unknown and invalid tokens: 200, nothing recorded.
    for junk in ["garbage", "a.b.c"] {
        let r = post_basic(&s, "/oauth/revoke", "bot", &secret, &[("token", junk.into())]).await;
        assert_eq!(r.status(), 200);
        assert!(r.bytes().await.unwrap().is_empty());
    }
    assert!(s.authority().revocations(0).await.unwrap().is_empty());

    // The holder revokes it (client_secret_post, with a hint).
    let r = post_body(&s, "/oauth/revoke", "bot", &secret, &[("token", token.clone()), ("token_type_hint", "access_token".into())]).await;
    assert_eq!(r.status(), 200);
    assert!(r.bytes().await.unwrap().is_empty());
    let r = post_basic(&s, "/oauth/introspect", "bot", &secret, &[("token", token.clone())]).await;
    assert_eq!(r.json::<Value>().await.unwrap(), serde_json::json!({"active": false}));
    // Revoking again is fine and records nothing new.
    assert_eq!(post_basic(&s, "/oauth/revoke", "bot", &secret, &[("token", token.clone())]).await.status(), 200);
    let revs = s.authority().revocations(0).await.unwrap();
    assert_eq!(revs.len(), 1);
    assert_eq!(revs[0].id, jti);

    // The signed feed served to MCP servers has it, and `mcpca revocations` prints it.
    let jws = s.http.get(s.at("/v1/revocations")).send().await.unwrap().text().await.unwrap();
    let jwks: mcpca::keys::Jwks = s.http.get(s.at("/.well-known/jwks.json")).send().await.unwrap().json().await.unwrap();
    let feed = mcpca::feed::Feed::from_jws(&jws, &mcpca::descriptor::KeySet::from_jwks(&jwks).unwrap(), Some(ISSUER)).unwrap();
    assert!(feed.entries.iter().any(|e| e.id == jti));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mcpca"))
        .args(["--home", s.home_path().to_str().unwrap(), "-o", "json", "revocations"])
        .env("MCPCA_NOW", s.clock.now().to_string())
        .env_remove("MCPCA_REGISTRY")
        .env_remove("MCPCA_TOKEN")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains(&jti));

    // A fresh token still works: only that descriptor was revoked.
    let fresh = bot_token(&s, &secret).await;
    let r = post_basic(&s, "/oauth/introspect", "bot", &secret, &[("token", fresh)]).await;
    assert_eq!(r.json::<Value>().await.unwrap()["active"], true);
    s.stop().await;
}

#[tokio::test]
async fn metadata_names_the_endpoints_served() {
    let s = TestServer::start().await;
    let meta: Value = s.http.get(s.at("/.well-known/oauth-authorization-server")).send().await.unwrap().json().await.unwrap();
    assert_eq!(meta["issuer"], ISSUER);
    assert_eq!(meta["grant_types_supported"], serde_json::json!(["client_credentials"]));
    for (member, path) in
        [("token_endpoint", "/oauth/token"), ("introspection_endpoint", "/oauth/introspect"), ("revocation_endpoint", "/oauth/revoke")]
    {
        assert_eq!(meta[member], format!("{ISSUER}{path}"));
        // Served here: an unauthenticated call is an OAuth error, not a missing route.
        let r = s.http.post(s.at(path)).form(&[("token", "x")]).send().await.unwrap();
        oauth_error(r, 401, "invalid_client").await;
    }
    for member in [
        "token_endpoint_auth_methods_supported",
        "introspection_endpoint_auth_methods_supported",
        "revocation_endpoint_auth_methods_supported",
    ] {
        assert_eq!(meta[member], serde_json::json!(["client_secret_basic", "client_secret_post"]));
    }
    s.stop().await;
}

fn base64_url_decode(s: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s).unwrap()
}

fn base64_url_encode(b: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}
