//! TLS to PostgreSQL: libpq's `sslmode` values and `sslrootcert`, for the pool and the
//! listening connection, and the errors of each way it can fail. The tests that connect need
//! `MCPCA_TEST_DATABASE_URL` and a server with `ssl = on` (else they say so and pass); the CA
//! they trust is the server's own certificate (`SHOW ssl_cert_file`: Debian's self-signed
//! snakeoil certificate), or the PEM file `MCPCA_TEST_DATABASE_CA` names.
//!
//! `tests/fixtures/pg-tls/other-ca.pem` is a CA that signed nothing the server has (made with
//! `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=mcpca
//! test CA (not the server's)" -addext basicConstraints=critical,CA:TRUE`, key discarded).

use std::path::PathBuf;

use mcpca::store::{PgStore, Store};
use mcpca::Error;

use crate::pg::pgdb::TestDb;

const OTHER_CA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/pg-tls/other-ca.pem");

/// A schema of its own on a server offering TLS, and the CA file its certificate chains to;
/// `None` (with a message) when there is no test database or it has `ssl = off`.
fn tls_db(test: &str) -> Option<(TestDb, PathBuf)> {
    let db = TestDb::create(test)?;
    if db.column("SHOW ssl") != [Some("on".to_owned())] {
        eprintln!("SKIPPED {test}: the test database does not offer TLS (ssl = off)");
        return None;
    }
    let ca = match std::env::var_os("MCPCA_TEST_DATABASE_CA") {
        Some(ca) => PathBuf::from(ca),
        None => PathBuf::from(db.column("SHOW ssl_cert_file")[0].clone().unwrap_or_default()),
    };
    if std::fs::metadata(&ca).is_err() {
        eprintln!("SKIPPED {test}: cannot read the server's certificate {}; set MCPCA_TEST_DATABASE_CA", ca.display());
        return None;
    }
    Some((db, ca))
}

/// `url` with more query parameters.
fn with(url: &str, params: &str) -> String {
    format!("{url}{}{params}", if url.contains('?') { '&' } else { '?' })
}

/// Whether the server session of each connection named `app` is encrypted (`pg_stat_ssl`).
fn encrypted(db: &TestDb, app: &str) -> Vec<Option<String>> {
    db.column(&format!("SELECT s.ssl::text FROM pg_stat_ssl s JOIN pg_stat_activity a ON a.pid = s.pid WHERE a.application_name = '{app}'"))
}

/// An error's message and hint, for assertions.
fn text(e: &Error) -> String {
    format!("{e} | hint: {}", e.hint().unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_tls_settings_are_checked_when_the_store_is_made() {
    // Accepted without connecting (nothing listens on port 1).
    for mode in ["disable", "prefer", "require", "verify-ca", "verify-full"] {
        let s = PgStore::new(&format!("postgres://u:s3cret@127.0.0.1:1/db?sslmode={mode}")).unwrap();
        let debug = format!("{s:?}");
        assert!(debug.contains(mode) && !debug.contains("s3cret"), "{debug}");
    }
    let s = PgStore::new(&format!("postgres://u@127.0.0.1:1/db?sslmode=verify-ca&sslrootcert={OTHER_CA}")).unwrap();
    assert_eq!(s.target(), "u@127.0.0.1:1/db");

    // A CA file that is missing, not PEM, or holds no certificate: refused now, named, with a
    // hint; never the password.
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.pem");
    let err = PgStore::new(&format!("postgres://u:s3cret@h/db?sslmode=verify-full&sslrootcert={}", missing.display())).unwrap_err();
    let t = text(&err);
    assert!(t.contains("cannot read the CA file") && t.contains("missing.pem") && t.contains("sslrootcert"), "{t}");
    assert!(!t.contains("s3cret"), "{t}");
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n").unwrap();
    let t = text(&PgStore::new(&format!("postgres://u@h/db?sslmode=require&sslrootcert={}", garbage.display())).unwrap_err());
    assert!(t.contains("garbage.pem") && t.contains("not valid PEM"), "{t}");
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "no certificate here\n").unwrap();
    let t = text(&PgStore::new(&format!("postgres://u@h/db?sslmode=verify-ca&sslrootcert={}", empty.display())).unwrap_err());
    assert!(t.contains("holds no certificate") && t.contains("hint: give sslrootcert=PATH"), "{t}");

    // Modes libpq has and this client does not, and client certificates.
    let t = text(&PgStore::new("postgres://u@h/db?sslmode=allow").unwrap_err());
    assert!(t.contains("sslmode=allow is not supported") && t.contains("prefer"), "{t}");
    let t = text(&PgStore::new("postgres://u@h/db?sslmode=verify_full").unwrap_err());
    assert!(t.contains("verify_full") && t.contains("verify-full"), "{t}");
    let t = text(&PgStore::new("postgres://u@h/db?sslmode=require&sslcert=client.pem&sslkey=client.key").unwrap_err());
    assert!(t.contains("client certificates"), "{t}");
    // TLS on a Unix socket: PostgreSQL never offers it.
    let t = text(&PgStore::new("postgres://u@%2Fvar%2Frun%2Fpostgresql/db?sslmode=require").unwrap_err());
    assert!(t.contains("Unix socket"), "{t}");
    PgStore::new("postgres://u@%2Fvar%2Frun%2Fpostgresql/db?sslmode=prefer").unwrap();
}

/// A server that answers "no" to TLS: `require` refuses to go on in clear, and says why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_require_refuses_a_server_without_tls() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut request = [0u8; 8]; // length 8, SSLRequest code 80877103
        socket.read_exact(&mut request).await.unwrap();
        assert_eq!(request, [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);
        socket.write_all(b"N").await.unwrap();
        let _ = socket.read(&mut [0u8; 64]).await;
    });
    let err = PgStore::connect(&format!("postgres://u:s3cret@127.0.0.1:{port}/db?sslmode=require")).await.unwrap_err();
    let t = text(&err);
    assert!(matches!(err, Error::Store(_)), "{t}");
    assert!(
        t.contains(&format!("cannot connect to PostgreSQL at u@127.0.0.1:{port}/db: the server does not support TLS (sslmode=require)")),
        "{t}"
    );
    assert!(t.contains("hint: turn TLS on in the server"), "{t}");
    assert!(!t.contains("s3cret"), "{t}");
    server.await.unwrap();
}

/// `require`: the pool's connections and the listening one are encrypted, and the store works;
/// `disable` still connects in clear; `prefer` (the default) encrypts when offered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_require_encrypts_every_connection() {
    let Some((db, _)) = tls_db("postgres_require_encrypts_every_connection") else { return };
    let app = format!("mcpca-tls-{}", db.schema);
    let s = PgStore::connect(&with(&db.url, &format!("sslmode=require&application_name={app}"))).await.unwrap();
    assert!(s.put_meta_if_absent("k", b"v").await.unwrap());
    assert_eq!(s.get_meta("k").await.unwrap().as_deref(), Some(&b"v"[..]));
    let _listener = s.listen().await.unwrap();
    assert_eq!(encrypted(&db, &app), [Some("true".to_owned())], "the pooled connection");
    assert_eq!(encrypted(&db, &format!("mcpca-listen:{}", db.schema)), [Some("true".to_owned())], "the LISTEN connection");
    drop(_listener);

    let plain = format!("mcpca-plain-{}", db.schema);
    let p = PgStore::connect(&with(&db.url, &format!("sslmode=disable&application_name={plain}"))).await.unwrap();
    assert_eq!(p.get_meta("k").await.unwrap().as_deref(), Some(&b"v"[..]));
    assert_eq!(encrypted(&db, &plain), [Some("false".to_owned())]);

    let default = format!("mcpca-prefer-{}", db.schema);
    let d = PgStore::connect(&with(&db.url, &format!("application_name={default}"))).await.unwrap();
    assert_eq!(d.get_meta("k").await.unwrap().as_deref(), Some(&b"v"[..]));
    assert_eq!(encrypted(&db, &default), [Some("true".to_owned())]);
}

/// `verify-ca` with the server's CA connects (the host name is not compared: the URL says
/// 127.0.0.1, the certificate names a host); with another CA, or Mozilla's roots, it fails and
/// says so. `require` with `sslrootcert` checks the chain too (libpq's rule).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_verify_ca_checks_the_chain() {
    let Some((db, ca)) = tls_db("postgres_verify_ca_checks_the_chain") else { return };
    let app = format!("mcpca-ca-{}", db.schema);
    let url = with(&db.url, &format!("sslmode=verify-ca&sslrootcert={}&application_name={app}", ca.display()));
    let s = PgStore::connect(&url).await.unwrap();
    let _listener = s.listen().await.unwrap();
    assert_eq!(encrypted(&db, &app), [Some("true".to_owned())]);
    PgStore::connect(&with(&db.url, &format!("sslmode=require&sslrootcert={}", ca.display()))).await.unwrap();

    for mode in ["verify-ca", "require", "prefer"] {
        let err = PgStore::connect(&with(&db.url, &format!("sslmode={mode}&sslrootcert={OTHER_CA}"))).await.unwrap_err();
        let t = text(&err);
        assert!(matches!(err, Error::Store(_)), "{t}");
        assert!(
            t.contains("cannot connect to PostgreSQL at ")
                && t.contains(&format!("/test: the server's TLS certificate is not signed by a trusted CA in {OTHER_CA} (sslmode={mode})")),
            "{t}"
        );
        assert!(t.contains("hint: give the CA that signed the server's certificate with sslrootcert=PATH"), "{t}");
    }
    // No sslrootcert: Mozilla's public roots, which did not sign a self-signed certificate.
    let t = text(&PgStore::connect(&with(&db.url, "sslmode=verify-ca")).await.unwrap_err());
    assert!(t.contains("not signed by a trusted CA among Mozilla's public roots"), "{t}");
}

/// `verify-full` compares the host name too: 127.0.0.1 is not the name in the certificate
/// (a clear error); that name, with `hostaddr` giving the address, connects.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_verify_full_checks_the_host_name() {
    let Some((db, ca)) = tls_db("postgres_verify_full_checks_the_host_name") else { return };
    let full = format!("sslmode=verify-full&sslrootcert={}", ca.display());
    let err = PgStore::connect(&with(&db.url, &full)).await.unwrap_err();
    let t = text(&err);
    let u = url::Url::parse(&db.url).unwrap();
    let host = u.host_str().unwrap().to_owned();
    assert!(t.contains(&format!("the server's TLS certificate does not name the host connected to (sslmode=verify-full): certificate not valid for name \"{host}\"")), "{t}");
    assert!(t.contains("hint: connect with a host name the certificate lists") && t.contains("verify-ca"), "{t}");

    // The name the certificate gives (`… is only valid for DnsName("NAME")`), reached at the
    // address of the test URL.
    let Some(name) = t.split("DnsName(\"").nth(1).and_then(|r| r.split('"').next()) else {
        eprintln!("SKIPPED the connection by name: the certificate names no DNS host ({t})");
        return;
    };
    if host.parse::<std::net::IpAddr>().is_err() {
        eprintln!("SKIPPED the connection by name: the test URL's host {host} is not an address");
        return;
    }
    let mut by_name = u.clone();
    by_name.set_host(Some(name)).unwrap();
    let app = format!("mcpca-full-{}", db.schema);
    let s = PgStore::connect(&with(by_name.as_str(), &format!("hostaddr={host}&{full}&application_name={app}"))).await.unwrap();
    assert!(s.target().starts_with(&format!("postgres@{name}:")), "{}", s.target());
    let _listener = s.listen().await.unwrap();
    assert_eq!(encrypted(&db, &app), [Some("true".to_owned())]);
}
