//! Trust and client certificates: the rustls configuration every transport uses.
//!
//! The system roots are read once per process (the first time a TLS configuration is built), not per
//! client: `rustls-native-certs` reads `SSL_CERT_FILE` / `SSL_CERT_DIR` when set (OpenSSL's meaning:
//! they replace the platform's default locations, as in curl and openssl), else the platform store.
//! `NODE_EXTRA_CA_CERTS` (a PEM file, Node's way to add a corporate CA) is added to them, and a
//! client's `ca` option is added on top. `insecure` skips verification entirely (local testing only).

use crate::error::{EngineError, ErrorKind};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::sync::{Arc, OnceLock};

/// TLS settings of one transport (part of the key transports are shared by).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct TlsOptions {
    /// Extra trusted CAs, each a PEM text that may hold several certificates; added to the roots.
    pub ca: Vec<Vec<u8>>,
    /// Client certificate chain (PEM) for mutual TLS; needs `key`.
    pub cert: Option<Vec<u8>>,
    /// Client private key (PEM: PKCS#8, PKCS#1 or SEC1); needs `cert`.
    pub key: Option<Vec<u8>>,
    /// Accept any server certificate (no verification at all). For local testing only.
    pub insecure: bool,
}

/// The roots every configuration starts from: the system's plus `NODE_EXTRA_CA_CERTS`.
struct BaseRoots {
    certs: Vec<CertificateDer<'static>>,
    /// Why `NODE_EXTRA_CA_CERTS` was not used, when it was set and could not be read.
    extra_error: Option<String>,
}

static BASE_ROOTS: OnceLock<BaseRoots> = OnceLock::new();

fn base_roots() -> &'static BaseRoots {
    BASE_ROOTS.get_or_init(|| {
        let mut certs = rustls_native_certs::load_native_certs().certs;
        let mut extra_error = None;
        if let Some(path) = std::env::var_os("NODE_EXTRA_CA_CERTS").filter(|p| !p.is_empty()) {
            match std::fs::read(&path) {
                Ok(pem) => {
                    let before = certs.len();
                    certs.extend(CertificateDer::pem_slice_iter(&pem).filter_map(Result::ok));
                    if certs.len() == before {
                        extra_error = Some(format!(
                            "NODE_EXTRA_CA_CERTS ({}) holds no PEM certificate",
                            path.to_string_lossy()
                        ));
                    }
                }
                Err(e) => {
                    extra_error = Some(format!(
                        "NODE_EXTRA_CA_CERTS ({}) could not be read: {e}",
                        path.to_string_lossy()
                    ))
                }
            }
        }
        BaseRoots { certs, extra_error }
    })
}

/// The engine's trust roots as PEM: the system's, `NODE_EXTRA_CA_CERTS`, then the certificates of
/// `ca` (each a PEM text, as the `ca` option). For clients that take their roots as PEM (Redis over
/// TLS, `limiter::shared`).
pub fn roots_pem(ca: &[Vec<u8>]) -> Vec<u8> {
    use base64::Engine as _;
    let mut out = Vec::new();
    for cert in &base_roots().certs {
        out.extend_from_slice(b"-----BEGIN CERTIFICATE-----\n");
        let b64 = base64::engine::general_purpose::STANDARD.encode(cert.as_ref());
        for line in b64.as_bytes().chunks(64) {
            out.extend_from_slice(line);
            out.push(b'\n');
        }
        out.extend_from_slice(b"-----END CERTIFICATE-----\n");
    }
    for pem in ca {
        out.extend_from_slice(pem);
        out.push(b'\n');
    }
    out
}

/// Why `NODE_EXTRA_CA_CERTS` was ignored, if it was set and unusable (read once per process).
pub fn extra_ca_certs_problem() -> Option<&'static str> {
    base_roots().extra_error.as_deref()
}

fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER.get_or_init(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider())).clone()
}

fn invalid(message: String) -> EngineError {
    EngineError::new(ErrorKind::InvalidRequest, message)
}

/// The rustls configuration for `opts` (ALPN `h2`, `http/1.1`).
///
/// Errors: [`ErrorKind::InvalidRequest`] when `ca` holds no certificate, `cert` without `key` (or the
/// reverse), or a key or chain rustls refuses.
pub fn client_config(opts: &TlsOptions) -> Result<rustls::ClientConfig, EngineError> {
    let provider = provider();
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| invalid(format!("TLS setup failed: {e}")))?;
    let builder = if opts.insecure {
        builder.dangerous().with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider)))
    } else {
        if opts.ca.is_empty() {
            // The common case: one parsed store for every transport of the process.
            static SHARED: OnceLock<Arc<RootCertStore>> = OnceLock::new();
            let shared = SHARED.get_or_init(|| {
                let mut roots = RootCertStore::empty();
                roots.add_parsable_certificates(base_roots().certs.iter().cloned());
                Arc::new(roots)
            });
            return finish(builder.with_root_certificates(shared.clone()), opts);
        }
        let mut roots = RootCertStore::empty();
        roots.add_parsable_certificates(base_roots().certs.iter().cloned());
        for (i, pem) in opts.ca.iter().enumerate() {
            let certs: Vec<_> = CertificateDer::pem_slice_iter(pem).filter_map(Result::ok).collect();
            let (added, _) = roots.add_parsable_certificates(certs);
            if added == 0 {
                return Err(invalid(format!(
                    "ca[{i}] holds no usable PEM certificate (expected \"-----BEGIN CERTIFICATE-----\")"
                )));
            }
        }
        builder.with_root_certificates(roots)
    };
    finish(builder, opts)
}

/// Add the client identity (mutual TLS) and ALPN.
fn finish(
    builder: rustls::ConfigBuilder<rustls::ClientConfig, rustls::client::WantsClientCert>,
    opts: &TlsOptions,
) -> Result<rustls::ClientConfig, EngineError> {
    let mut config = match (&opts.cert, &opts.key) {
        (None, None) => builder.with_no_client_auth(),
        (Some(cert), Some(key)) => {
            let chain: Vec<_> = CertificateDer::pem_slice_iter(cert).filter_map(Result::ok).collect();
            if chain.is_empty() {
                return Err(invalid("cert holds no PEM certificate".into()));
            }
            let key = PrivateKeyDer::from_pem_slice(key).map_err(|e| {
                invalid(format!("key is not a PEM private key (PKCS#8, PKCS#1 or SEC1): {e}"))
            })?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| invalid(format!("cert and key do not make a client identity: {e}")))?
        }
        _ => return Err(invalid("cert and key must be given together (mutual TLS)".into())),
    };
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// A verifier that accepts every certificate (signatures are still checked, so the handshake is sound
/// against the presented key): `insecure` only.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
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
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// A stable code for a TLS failure, as Node names its own (`err.code`), found in `err`'s sources.
pub(crate) fn tls_error_code(err: &(dyn std::error::Error + 'static)) -> Option<&'static str> {
    use rustls::CertificateError as C;
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        // rustls' error reaches reqwest inside io::Errors (tokio-rustls', then the connector's), whose
        // `source()` skips the wrapped error itself: look inside with `get_ref()`.
        let mut tls = e.downcast_ref::<rustls::Error>();
        let mut io = e.downcast_ref::<std::io::Error>();
        while let (None, Some(outer)) = (tls, io) {
            let inner = outer.get_ref();
            tls = inner.and_then(|i| i.downcast_ref::<rustls::Error>());
            io = inner.and_then(|i| i.downcast_ref::<std::io::Error>());
        }
        if let Some(tls) = tls {
            return Some(match tls {
                rustls::Error::InvalidCertificate(c) => match c {
                    C::UnknownIssuer => "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
                    C::Expired | C::ExpiredContext { .. } => "CERT_HAS_EXPIRED",
                    C::NotValidYet | C::NotValidYetContext { .. } => "CERT_NOT_YET_VALID",
                    C::NotValidForName | C::NotValidForNameContext { .. } => "ERR_TLS_CERT_ALTNAME_INVALID",
                    C::Revoked => "CERT_REVOKED",
                    C::BadSignature => "CERT_SIGNATURE_FAILURE",
                    _ => "ERR_TLS_CERT_INVALID",
                },
                rustls::Error::AlertReceived(_) => "ERR_TLS_ALERT_RECEIVED",
                _ => "ERR_TLS_HANDSHAKE",
            });
        }
        cur = e.source();
    }
    None
}
