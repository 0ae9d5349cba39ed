//! Which proxy a request goes through: the `proxy` option or the environment (`HTTPS_PROXY`,
//! `HTTP_PROXY`, `ALL_PROXY`, lower case first, as curl), minus the hosts `NO_PROXY` lists.
//!
//! `NO_PROXY` is read as curl reads it: a comma- or space-separated list where `*` alone matches
//! every host; a name matches itself and its subdomains (`example.com` and `.example.com` both match
//! `api.example.com`); an IP address matches itself; a CIDR (`10.0.0.0/8`, `fd00::/8`) matches the
//! addresses in it; an entry with a port (`host:8080`, `[::1]:8080`) matches that port only.
//! Matching ignores case and a trailing dot. reqwest's own `NO_PROXY` handling is not used: it
//! proxies IP hosts under `NO_PROXY=*` and reads no ports.

use std::net::IpAddr;

/// Where proxies come from for one transport.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum ProxySetting {
    /// The environment variables (default).
    #[default]
    FromEnv,
    /// No proxy, whatever the environment says.
    Off,
    /// This proxy URL (`http://`, `https://`, `socks5://`, `socks5h://`, credentials in the URL) for
    /// every request; `NO_PROXY` from the environment still applies.
    Url(String),
}

/// One parsed `NO_PROXY` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Rule {
    /// `*`: every host.
    All,
    /// A domain name (lower case, no leading or trailing dot) and its subdomains.
    Domain(String, Option<u16>),
    /// An address range (a single address is a /32 or /128).
    Net(IpAddr, u8, Option<u16>),
}

/// A parsed `NO_PROXY` list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NoProxy {
    rules: Vec<Rule>,
}

impl NoProxy {
    /// Parse a `NO_PROXY` value; entries that are not a name, an address or a CIDR are ignored.
    pub fn parse(value: &str) -> NoProxy {
        let rules = value
            .split([',', ' ', '\t'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .filter_map(parse_rule)
            .collect();
        NoProxy { rules }
    }

    /// `NO_PROXY` (else `no_proxy`) from the environment.
    pub fn from_env() -> NoProxy {
        env_var(&["no_proxy", "NO_PROXY"]).map(|v| NoProxy::parse(&v)).unwrap_or_default()
    }

    /// Whether a request to `host` (a name, or an address, IPv6 with or without brackets) on `port`
    /// bypasses the proxy.
    pub fn matches(&self, host: &str, port: u16) -> bool {
        let host = host.trim_start_matches('[').trim_end_matches(']').trim_end_matches('.');
        let ip = host.parse::<IpAddr>().ok();
        let lower = host.to_ascii_lowercase();
        self.rules.iter().any(|rule| match rule {
            Rule::All => true,
            Rule::Domain(d, p) => {
                p.is_none_or(|p| p == port)
                    && ip.is_none()
                    && (lower == *d
                        || (lower.len() > d.len() && lower.ends_with(d.as_str()) && {
                            let cut = lower.len() - d.len() - 1;
                            lower.as_bytes()[cut] == b'.'
                        }))
            }
            Rule::Net(net, bits, p) => {
                p.is_none_or(|p| p == port) && ip.is_some_and(|ip| in_net(ip, *net, *bits))
            }
        })
    }
}

fn parse_rule(entry: &str) -> Option<Rule> {
    if entry == "*" {
        return Some(Rule::All);
    }
    // A CIDR: `addr/bits` (IPv6 possibly in brackets).
    if let Some((addr, bits)) = entry.split_once('/') {
        let ip: IpAddr = addr.trim_start_matches('[').trim_end_matches(']').parse().ok()?;
        let bits: u8 = bits.parse().ok()?;
        let max = if ip.is_ipv4() { 32 } else { 128 };
        return (bits <= max).then_some(Rule::Net(ip, bits, None));
    }
    if let Ok(ip) = entry.parse::<IpAddr>() {
        let bits = if ip.is_ipv4() { 32 } else { 128 };
        return Some(Rule::Net(ip, bits, None));
    }
    // `[v6]:port`, `[v6]`, `v4:port`, `name:port`, `name`.
    let (host, port) = if let Some(rest) = entry.strip_prefix('[') {
        let (addr, after) = rest.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p.parse::<u16>().ok()?),
            None if after.is_empty() => None,
            None => return None,
        };
        (addr, port)
    } else {
        match entry.rsplit_once(':') {
            Some((h, p)) => (h, Some(p.parse::<u16>().ok()?)),
            None => (entry, None),
        }
    };
    if let Ok(ip) = host.parse::<IpAddr>() {
        let bits = if ip.is_ipv4() { 32 } else { 128 };
        return Some(Rule::Net(ip, bits, port));
    }
    let name = host.trim_start_matches("*.").trim_start_matches('.').trim_end_matches('.');
    (!name.is_empty()).then(|| Rule::Domain(name.to_ascii_lowercase(), port))
}

fn in_net(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits as u32) };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = if bits == 0 { 0 } else { u128::MAX << (128 - bits as u32) };
            u128::from(a) & mask == u128::from(n) & mask
        }
        // An IPv4-mapped IPv6 address against an IPv4 range.
        (IpAddr::V6(a), IpAddr::V4(_)) => {
            a.to_ipv4_mapped().is_some_and(|a4| in_net(IpAddr::V4(a4), net, bits))
        }
        _ => false,
    }
}

/// The first set, non-empty variable of `names`.
fn env_var(names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| std::env::var(n).ok().filter(|v| !v.trim().is_empty()))
}

/// The proxies of one transport, resolved once when it is built.
#[derive(Debug, Clone, Default)]
pub struct ProxyRoutes {
    /// Proxy for `http://` targets.
    pub http: Option<String>,
    /// Proxy for `https://` targets.
    pub https: Option<String>,
    /// Hosts that bypass both.
    pub no_proxy: NoProxy,
}

impl ProxyRoutes {
    /// Resolve `setting` against the environment. `HTTP_PROXY` in upper case is ignored when
    /// `REQUEST_METHOD` is set (a CGI program, where it would come from a request header: "httpoxy").
    pub fn resolve(setting: &ProxySetting) -> ProxyRoutes {
        match setting {
            ProxySetting::Off => ProxyRoutes::default(),
            ProxySetting::Url(u) => {
                ProxyRoutes { http: Some(u.clone()), https: Some(u.clone()), no_proxy: NoProxy::from_env() }
            }
            ProxySetting::FromEnv => {
                let all = env_var(&["all_proxy", "ALL_PROXY"]);
                let cgi = std::env::var_os("REQUEST_METHOD").is_some();
                let http_names: &[&str] = if cgi { &["http_proxy"] } else { &["http_proxy", "HTTP_PROXY"] };
                ProxyRoutes {
                    http: env_var(http_names).or_else(|| all.clone()),
                    https: env_var(&["https_proxy", "HTTPS_PROXY"]).or(all),
                    no_proxy: NoProxy::from_env(),
                }
            }
        }
    }

    /// The proxy URL for a request to `url`, or `None` to connect directly.
    pub fn for_url(&self, url: &url::Url) -> Option<&str> {
        let proxy = match url.scheme() {
            "https" => self.https.as_deref(),
            "http" => self.http.as_deref(),
            _ => None,
        }?;
        let host = url.host_str()?;
        let port = url.port_or_known_default()?;
        (!self.no_proxy.matches(host, port)).then_some(proxy)
    }

    /// Whether any request could go through a proxy.
    pub fn any(&self) -> bool {
        self.http.is_some() || self.https.is_some()
    }
}

/// `url` with its user and password replaced by `***` (for errors and logs).
pub fn redact_proxy_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            if !u.username().is_empty() || u.password().is_some() {
                let _ = u.set_username("***");
                let _ = u.set_password(None);
            }
            u.to_string().trim_end_matches('/').to_string()
        }
        Err(_) => "(an invalid proxy URL)".to_string(),
    }
}

#[cfg(test)]
mod tests;
