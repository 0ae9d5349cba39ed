use super::*;

fn np(v: &str) -> NoProxy {
    NoProxy::parse(v)
}

#[test]
fn star_matches_names_and_addresses() {
    let n = np("*");
    assert!(n.matches("api.openai.com", 443));
    assert!(n.matches("127.0.0.1", 80));
    assert!(n.matches("[::1]", 80));
}

#[test]
fn names_match_themselves_and_subdomains_only() {
    let n = np("example.com, .internal.corp");
    assert!(n.matches("example.com", 443));
    assert!(n.matches("API.Example.com.", 443));
    assert!(!n.matches("badexample.com", 443));
    assert!(n.matches("x.internal.corp", 80));
    assert!(n.matches("internal.corp", 80));
    assert!(!n.matches("corp", 80));
    // A name rule never matches an address.
    assert!(!np("127.0.0.1.nip.io").matches("127.0.0.1", 80));
}

#[test]
fn addresses_and_cidrs() {
    let n = np("10.0.0.0/8 192.168.1.7 fd00::/8 ::1");
    assert!(n.matches("10.1.2.3", 80));
    assert!(!n.matches("11.1.2.3", 80));
    assert!(n.matches("192.168.1.7", 80));
    assert!(!n.matches("192.168.1.8", 80));
    assert!(n.matches("fd12::1", 80));
    assert!(n.matches("[::1]", 80));
    assert!(!n.matches("fe80::1", 80));
    assert!(n.matches("::ffff:10.9.9.9", 80), "an IPv4-mapped address is in the IPv4 range");
    assert!(np("0.0.0.0/0").matches("8.8.8.8", 1));
}

#[test]
fn ports_restrict_an_entry() {
    let n = np("localhost:8080,[::1]:9000,127.0.0.1:7000");
    assert!(n.matches("localhost", 8080));
    assert!(!n.matches("localhost", 8081));
    assert!(n.matches("::1", 9000));
    assert!(!n.matches("::1", 9001));
    assert!(n.matches("127.0.0.1", 7000));
    assert!(!n.matches("127.0.0.1", 7001));
}

#[test]
fn garbage_entries_are_ignored() {
    let n = np("10.0.0.0/99, host:notaport, , [::1");
    assert!(!n.matches("10.0.0.1", 80));
    assert!(!n.matches("host", 80));
}

#[test]
fn routes_pick_by_scheme_and_skip_no_proxy() {
    let routes = ProxyRoutes {
        http: Some("http://p:3128".into()),
        https: Some("http://s:3128".into()),
        no_proxy: np("localhost"),
    };
    let u = |s: &str| url::Url::parse(s).unwrap();
    assert_eq!(routes.for_url(&u("http://api.x/v1")), Some("http://p:3128"));
    assert_eq!(routes.for_url(&u("https://api.x/v1")), Some("http://s:3128"));
    assert_eq!(routes.for_url(&u("http://localhost:1234/")), None);
}

#[test]
fn credentials_are_redacted() {
    assert_eq!(redact_proxy_url("http://user:pw@proxy.corp:3128"), "http://***@proxy.corp:3128");
    assert_eq!(redact_proxy_url("socks5://proxy:1080"), "socks5://proxy:1080");
    assert_eq!(redact_proxy_url("::nope"), "(an invalid proxy URL)");
}
