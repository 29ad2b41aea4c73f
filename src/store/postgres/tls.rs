//! TLS to PostgreSQL, with libpq's `sslmode` and `sslrootcert` read from the database URL:
//! tokio-postgres knows only `disable`, `prefer` and `require` and has no CA file, so those
//! two parameters are taken off the URL here and turned into one rustls client configuration
//! (the binary's rustls and ring provider, through `tokio-postgres-rustls`), shared by the pool
//! and the listening connection.
//!
//! | `sslmode`     | TLS                          | certificate checked                          |
//! |---------------|------------------------------|----------------------------------------------|
//! | `disable`     | never                        | —                                            |
//! | `prefer`      | when the server offers it    | not, unless `sslrootcert` is given (chain)   |
//! | `require`     | always                       | not, unless `sslrootcert` is given (chain)   |
//! | `verify-ca`   | always                       | chain to `sslrootcert` (or Mozilla's roots)  |
//! | `verify-full` | always                       | chain, and the host name the URL connects to |

use std::path::{Path, PathBuf};
use std::sync::Arc;

use percent_encoding::percent_decode_str;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{verify_server_cert_signed_by_trust_anchor, WebPkiServerVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::pool::describe;
use crate::{Error, Result};

/// libpq's `sslmode` values this client implements (`allow` is not one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    /// Plain TCP.
    Disable,
    /// TLS when the server offers it, else plain (tokio-postgres's and libpq's default).
    Prefer,
    /// TLS or no connection.
    Require,
    /// TLS, the certificate chain verified.
    VerifyCa,
    /// TLS, the chain and the host name verified.
    VerifyFull,
}

impl SslMode {
    /// libpq's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "disable" => SslMode::Disable,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            "allow" => {
                return Err(Error::invalid(
                    "sslmode=allow is not supported (libpq's plain-first mode)",
                    "use sslmode=prefer (TLS when the server offers it), require, verify-ca or verify-full",
                ))
            }
            other => {
                return Err(Error::invalid(
                    format!("sslmode={other} is not a TLS mode"),
                    "use sslmode=disable, prefer, require, verify-ca or verify-full",
                ))
            }
        })
    }

    /// What tokio-postgres is told: it negotiates, the verifier checks.
    fn negotiation(self) -> tokio_postgres::config::SslMode {
        match self {
            SslMode::Disable => tokio_postgres::config::SslMode::Disable,
            SslMode::Prefer => tokio_postgres::config::SslMode::Prefer,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => tokio_postgres::config::SslMode::Require,
        }
    }
}

/// The TLS settings of one database URL.
pub(super) struct Tls {
    pub(super) mode: SslMode,
    /// What the certificate is checked against, for messages.
    roots: Roots,
    pub(super) connector: MakeRustlsConnect,
}

/// Where the trust anchors come from.
enum Roots {
    /// No check of the certificate (prefer and require without `sslrootcert`).
    None,
    /// The `sslrootcert` file.
    File(PathBuf),
    /// Mozilla's roots (`webpki-roots`): verify-ca and verify-full without `sslrootcert`.
    Public,
}

impl Tls {
    /// Take `sslmode` and `sslrootcert` off `url`: the URL left for tokio-postgres's parser
    /// and the settings. Refuses what this client cannot do (client certificates,
    /// `sslmode=allow`), and a CA file that cannot be read or holds no certificate.
    pub(super) fn from_url(url: &str) -> Result<(String, Tls)> {
        let (rest, mode, rootcert) = split_url(url)?;
        let mode = mode.unwrap_or(SslMode::Prefer);
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let (anchors, roots) = match (&rootcert, mode) {
            (_, SslMode::Disable) => (None, Roots::None),
            (Some(path), _) => (Some(Arc::new(load_roots(path)?)), Roots::File(path.clone())),
            (None, SslMode::VerifyCa | SslMode::VerifyFull) => {
                (Some(Arc::new(RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() })), Roots::Public)
            }
            (None, _) => (None, Roots::None),
        };
        let verifier: Arc<dyn ServerCertVerifier> = match (anchors, mode) {
            (Some(anchors), SslMode::VerifyFull) => WebPkiServerVerifier::builder_with_provider(anchors, provider.clone())
                .build()
                .map_err(|e| Error::invalid(format!("cannot use the CA certificates for TLS to PostgreSQL: {e}"), CA_HINT))?,
            (Some(roots), _) => Arc::new(ChainOnly { roots, provider: provider.clone() }),
            (None, _) => Arc::new(Unverified(provider.clone())),
        };
        let mut config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::Crypto(format!("TLS to PostgreSQL: {e}")))?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        // Required by PostgreSQL 17's direct TLS negotiation, accepted by the usual one.
        config.alpn_protocols = vec![b"postgresql".to_vec()];
        Ok((rest, Tls { mode, roots, connector: MakeRustlsConnect::new(config) }))
    }

    /// The mode to hand tokio-postgres's config.
    pub(super) fn negotiation(&self) -> tokio_postgres::config::SslMode {
        self.mode.negotiation()
    }

    /// The error of a failed connection to `target` (never the password), naming the TLS
    /// failure when there is one.
    pub(super) fn connect_error(&self, target: &str, e: &tokio_postgres::Error) -> Error {
        Error::Store(format!("cannot connect to PostgreSQL at {target}: {}", self.explain(e)))
    }

    fn explain(&self, e: &tokio_postgres::Error) -> String {
        let mode = self.mode.as_str();
        let anchors = match &self.roots {
            Roots::None => String::new(),
            Roots::File(p) => format!(" in {}", p.display()),
            Roots::Public => " among Mozilla's public roots (no sslrootcert given)".into(),
        };
        if let Some(rustls::Error::InvalidCertificate(c)) = rustls_error(e) {
            #[allow(deprecated)] // the variants without context are still produced by some paths
            return match c {
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                    format!("{NOT_FOR_HOST} (sslmode={mode}): {c}")
                }
                CertificateError::UnknownIssuer | CertificateError::BadSignature => {
                    format!("{NOT_TRUSTED}{anchors} (sslmode={mode}): {c}")
                }
                CertificateError::Expired
                | CertificateError::ExpiredContext { .. }
                | CertificateError::NotValidYet
                | CertificateError::NotValidYetContext { .. } => format!("{OUT_OF_DATE} (sslmode={mode}): {c}"),
                _ => format!("{REFUSED} (sslmode={mode}): {c}"),
            };
        }
        if let Some(r) = rustls_error(e) {
            return format!("{HANDSHAKE} (sslmode={mode}): {r}");
        }
        if std::error::Error::source(e).is_some_and(|s| s.to_string() == "server does not support TLS") {
            return format!("{NO_TLS} (sslmode={mode})");
        }
        describe(e)
    }
}

/// How a connection error of this module begins (after the target), and what to do about it.
const NOT_FOR_HOST: &str = "the server's TLS certificate does not name the host connected to";
const NOT_TRUSTED: &str = "the server's TLS certificate is not signed by a trusted CA";
const OUT_OF_DATE: &str = "the server's TLS certificate is expired or not yet valid";
const REFUSED: &str = "the server's TLS certificate was refused";
const HANDSHAKE: &str = "the TLS handshake with the server failed";
const NO_TLS: &str = "the server does not support TLS";

const CA_HINT: &str = "give sslrootcert=PATH: a readable PEM file of the CA certificate(s) that signed the server's \
                       certificate (e.g. the server's root.crt, or its own certificate when self-signed)";

/// The hint of a storage error this module produced, if `message` is one.
pub(crate) fn hint(message: &str) -> Option<&'static str> {
    let hints = [
        (
            NOT_FOR_HOST,
            "connect with a host name the certificate lists (hostaddr=IP connects to an address while the name is checked), \
             or use sslmode=verify-ca to check only that a trusted CA signed it",
        ),
        (
            NOT_TRUSTED,
            "give the CA that signed the server's certificate with sslrootcert=PATH (a PEM file; for a self-signed \
             server, its certificate); check that the URL reaches the intended server",
        ),
        (OUT_OF_DATE, "renew the server's certificate (ssl_cert_file), or correct this machine's clock"),
        (REFUSED, "check the server's certificate (ssl_cert_file) against sslmode and sslrootcert"),
        (
            HANDSHAKE,
            "check the server's TLS settings (ssl_cert_file, ssl_min_protocol_version: TLS 1.2 or 1.3) and that the \
             port is PostgreSQL's",
        ),
        (
            NO_TLS,
            "turn TLS on in the server (`ssl = on` with ssl_cert_file and ssl_key_file in postgresql.conf); only on a \
             trusted network, connect with sslmode=prefer or disable instead",
        ),
    ];
    hints.into_iter().find(|(start, _)| message.contains(start)).map(|(_, h)| h)
}

/// The rustls error under a tokio-postgres error (an `io::Error` from the handshake wraps it).
fn rustls_error(e: &tokio_postgres::Error) -> Option<&rustls::Error> {
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(r) = s.downcast_ref::<rustls::Error>() {
            return Some(r);
        }
        if let Some(r) = s.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()).and_then(|i| i.downcast_ref::<rustls::Error>()) {
            return Some(r);
        }
        source = s.source();
    }
    None
}

/// `url` without its `sslmode` and `sslrootcert` parameters, and their values. The query is
/// found as tokio-postgres finds it: after the credentials (up to the first `@`), at the next
/// `?`; parameters are `&`-separated and percent-encoded. The last of a repeated one counts.
fn split_url(url: &str) -> Result<(String, Option<SslMode>, Option<PathBuf>)> {
    let after_credentials = url.find('@').map_or(0, |i| i + 1);
    let Some(q) = url[after_credentials..].find('?').map(|i| after_credentials + i) else {
        return Ok((url.to_owned(), None, None));
    };
    let (mut mode, mut rootcert) = (None, None);
    let mut kept = Vec::new();
    for pair in url[q + 1..].split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match decode(key)?.as_str() {
            "sslmode" => mode = Some(SslMode::parse(&decode(value)?)?),
            "sslrootcert" => rootcert = Some(PathBuf::from(decode(value)?)),
            k @ ("sslcert" | "sslkey" | "sslpassword") => {
                return Err(Error::invalid(
                    format!("{k}: client certificates for PostgreSQL are not supported"),
                    "authenticate with a password in the URL (keep it in MCPCA_DATABASE_URL rather than config.yaml); \
                     sslmode and sslrootcert still encrypt the session and check the server",
                ))
            }
            _ => kept.push(pair),
        }
    }
    let mut rest = url[..q].to_owned();
    if !kept.is_empty() {
        rest.push('?');
        rest.push_str(&kept.join("&"));
    }
    Ok((rest, mode, rootcert))
}

fn decode(s: &str) -> Result<String> {
    percent_decode_str(s).decode_utf8().map(|c| c.into_owned()).map_err(|_| {
        Error::invalid("the database URL is not valid: a parameter is not UTF-8 once decoded", "percent-encode parameters as UTF-8")
    })
}

/// The certificates of a PEM file, as trust anchors.
fn load_roots(path: &Path) -> Result<RootCertStore> {
    let shown = path.display();
    let pem = std::fs::read(path).map_err(|e| {
        let hint = if path.as_os_str() == "system" {
            "sslrootcert=system (the operating system's store) is not supported: omit sslrootcert with verify-ca or \
             verify-full to trust Mozilla's public roots, or give a PEM file"
        } else {
            CA_HINT
        };
        Error::invalid(format!("cannot read the CA file {shown} (sslrootcert): {e}"), hint)
    })?;
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        let cert = cert.map_err(|e| Error::invalid(format!("the CA file {shown} (sslrootcert) is not valid PEM: {e}"), CA_HINT))?;
        roots.add(cert).map_err(|e| {
            Error::invalid(format!("the CA file {shown} (sslrootcert) holds a certificate that cannot be used: {e}"), CA_HINT)
        })?;
    }
    if roots.is_empty() {
        return Err(Error::invalid(
            format!("the CA file {shown} (sslrootcert) holds no certificate (-----BEGIN CERTIFICATE-----)"),
            CA_HINT,
        ));
    }
    Ok(roots)
}

/// `prefer` and `require` without a CA file (libpq's behaviour): the session is encrypted, the
/// certificate is not checked; the handshake's signatures are, with the certificate's key.
#[derive(Debug)]
struct Unverified(Arc<CryptoProvider>);

impl ServerCertVerifier for Unverified {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `verify-ca` (and `prefer`/`require` with a CA file): the chain must lead to one of the
/// roots, within its validity period; the host name is not compared.
#[derive(Debug)]
struct ChainOnly {
    roots: Arc<RootCertStore>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let cert = ParsedCertificate::try_from(end_entity)?;
        verify_server_cert_signed_by_trust_anchor(
            &cert,
            &self.roots,
            intermediates,
            now,
            self.provider.signature_verification_algorithms.all,
        )?;
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn tls_parameters_are_taken_off_the_url() {
        let (rest, mode, ca) =
            split_url("postgres://u:p%3F@h:5432/db?sslmode=verify-full&connect_timeout=5&sslrootcert=%2Ftmp%2Fca.pem").unwrap();
        assert_eq!(rest, "postgres://u:p%3F@h:5432/db?connect_timeout=5");
        assert_eq!(mode, Some(SslMode::VerifyFull));
        assert_eq!(ca, Some(PathBuf::from("/tmp/ca.pem")));
        // A '?' in the password is not the query.
        let (rest, mode, _) = split_url("postgres://u:a?b@h/db?sslmode=require").unwrap();
        assert_eq!((rest.as_str(), mode), ("postgres://u:a?b@h/db", Some(SslMode::Require)));
        let (rest, mode, ca) = split_url("postgres://h/db").unwrap();
        assert_eq!((rest.as_str(), mode, ca), ("postgres://h/db", None, None));
        // The last value counts, as in tokio-postgres.
        assert_eq!(split_url("postgres://h/db?sslmode=require&sslmode=disable").unwrap().1, Some(SslMode::Disable));
        assert!(split_url("postgres://h/db?sslmode=allow").unwrap_err().to_string().contains("allow"));
        assert!(split_url("postgres://h/db?sslcert=c.pem").unwrap_err().to_string().contains("client certificates"));
    }

    #[test]
    fn hints_follow_the_messages() {
        for m in [NOT_FOR_HOST, NOT_TRUSTED, OUT_OF_DATE, REFUSED, HANDSHAKE, NO_TLS] {
            assert!(hint(&format!("cannot connect to PostgreSQL at u@h:5432/db: {m} (sslmode=require)")).is_some(), "{m}");
        }
        assert_eq!(hint("cannot connect to PostgreSQL at u@h:1/db: error connecting to server"), None);
    }
}
