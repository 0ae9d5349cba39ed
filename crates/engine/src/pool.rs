//! Connection pools shared across engines: every engine (one per aiwire client) built with the same
//! transport settings (connect timeout, pool settings, HTTP version, TLS options, proxy) uses the same
//! pooled reqwest client, as Node's global dispatcher shares sockets between openai-node clients. A
//! client per request (serverless handlers) then costs a lookup, not a TLS setup and a pool; its
//! connections are reused by the next one. The pool lives while some engine holds it, and the four
//! most recently built stay alive without one (see [`Registry`]).

use crate::error::{EngineError, ErrorKind};
use crate::proxy::{redact_proxy_url, ProxyRoutes, ProxySetting};
use crate::tls::TlsOptions;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

/// The settings that decide which connections a request may reuse.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TransportKey {
    /// TCP + TLS connect timeout.
    pub connect_timeout: Duration,
    /// Idle pooled connections are closed after this long.
    pub pool_idle_timeout: Duration,
    /// Most idle connections kept per host.
    pub pool_max_idle_per_host: usize,
    /// HTTP/2 without negotiation (h2c).
    pub http2_prior_knowledge: bool,
    /// Trust and client certificates.
    pub tls: TlsOptions,
    /// Where proxies come from.
    pub proxy: ProxySetting,
}

/// One pooled HTTP client and what it was built with.
#[derive(Debug)]
pub struct Transport {
    pub(crate) client: reqwest::Client,
    /// The proxies in use, credentials redacted (for logs and errors); empty when direct.
    pub proxy_label: Option<String>,
}

/// The transports by settings (weak: a transport lives while an engine holds it), plus strong
/// references to the few most recently built, so a pool outlives its clients: a serverless handler
/// that builds a client per invocation, with a garbage collection between two invocations, still
/// reuses the previous invocation's connections (Node's global dispatcher lives for the process too).
/// Idle connections still close after `pool_idle_timeout`.
#[derive(Default)]
struct Registry {
    by_key: HashMap<TransportKey, Weak<Transport>>,
    recent: Vec<Arc<Transport>>,
}

/// Transports kept alive without an engine holding them.
const KEPT_RECENT: usize = 4;

fn registry() -> &'static Mutex<Registry> {
    static REGISTRY: OnceLock<Mutex<Registry>> = OnceLock::new();
    REGISTRY.get_or_init(Default::default)
}

/// The live transport for `key`, or a new one.
///
/// Errors: [`ErrorKind::InvalidRequest`] for TLS options rustls refuses or an invalid proxy URL (named
/// with its credentials redacted); [`ErrorKind::Connection`] if the client can not be built.
pub fn shared(key: &TransportKey) -> Result<Arc<Transport>, EngineError> {
    let mut reg = registry().lock().unwrap_or_else(|p| p.into_inner());
    if let Some(t) = reg.by_key.get(key).and_then(Weak::upgrade) {
        return Ok(t);
    }
    let t = Arc::new(build(key)?);
    if reg.by_key.len() >= 64 {
        reg.by_key.retain(|_, w| w.strong_count() > 0);
    }
    reg.by_key.insert(key.clone(), Arc::downgrade(&t));
    if reg.recent.len() >= KEPT_RECENT {
        reg.recent.remove(0);
    }
    reg.recent.push(t.clone());
    Ok(t)
}

/// How many distinct transports are alive (for tests and stats).
pub fn live_transports() -> usize {
    let reg = registry().lock().unwrap_or_else(|p| p.into_inner());
    reg.by_key.values().filter(|w| w.strong_count() > 0).count()
}

fn build(key: &TransportKey) -> Result<Transport, EngineError> {
    let mut builder = reqwest::Client::builder()
        .connect_timeout(key.connect_timeout)
        .pool_idle_timeout(key.pool_idle_timeout)
        .pool_max_idle_per_host(key.pool_max_idle_per_host)
        .tcp_nodelay(true)
        .tls_backend_preconfigured(crate::tls::client_config(&key.tls)?)
        .no_proxy();
    if key.http2_prior_knowledge {
        builder = builder.http2_prior_knowledge();
    }
    let routes = ProxyRoutes::resolve(&key.proxy);
    let mut proxy_label = None;
    if routes.any() {
        let mut labels = Vec::new();
        for url in [&routes.http, &routes.https].into_iter().flatten() {
            let parsed = reqwest::Url::parse(url).map_err(|e| {
                EngineError::new(
                    ErrorKind::InvalidRequest,
                    format!("invalid proxy URL {}: {e}", redact_proxy_url(url)),
                )
            })?;
            if !matches!(parsed.scheme(), "http" | "https" | "socks5" | "socks5h") {
                return Err(EngineError::new(
                    ErrorKind::InvalidRequest,
                    format!(
                        "unsupported proxy scheme in {} (use http://, https://, socks5:// or socks5h://)",
                        redact_proxy_url(url)
                    ),
                ));
            }
            let label = redact_proxy_url(url);
            if !labels.contains(&label) {
                labels.push(label);
            }
        }
        proxy_label = Some(labels.join(", "));
        builder = builder.proxy(reqwest::Proxy::custom(move |url| routes.for_url(url).map(|p| p.to_owned())));
    }
    let client = builder.build().map_err(EngineError::from_reqwest)?;
    Ok(Transport { client, proxy_label })
}
