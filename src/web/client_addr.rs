//! Who the client is: the TCP peer, or behind a trusted reverse proxy the address the proxy
//! names. Computed once per request (the `server` attaches it as an extension); every
//! throttle, event and log line reads it from there.

use std::net::IpAddr;

use axum::http::{header::HeaderName, Extensions, HeaderMap};

use crate::config::{proxies::canonical, Cidr, ForwardedHeader};

/// The client's address and, when a trusted proxy says so, whether it reached the proxy over
/// https.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddr {
    /// The client's address.
    pub ip: IpAddr,
    /// `X-Forwarded-Proto` / `proto=` from a trusted proxy: `Some(true)` for https.
    pub https: Option<bool>,
}

impl ClientAddr {
    /// The address attached to this request, if the server attached one.
    pub fn of(extensions: &Extensions) -> Option<IpAddr> {
        extensions.get::<ClientAddr>().map(|c| c.ip)
    }
}

/// Resolves the client behind `peer`. Only a peer inside `trusted` may name another address:
/// the hops its header lists are walked from the right (the nearest first), and the first
/// address not in `trusted` is the client (RFC 7239 §5.2, and the same rule for
/// `X-Forwarded-For`). Entries left of it were written by the client itself and are never
/// believed. A hop that names no usable address (`unknown`, an obfuscated name) ends the walk
/// at the proxy that wrote it.
pub fn resolve(peer: IpAddr, headers: &HeaderMap, trusted: &[Cidr], header: ForwardedHeader) -> ClientAddr {
    let peer = canonical(peer);
    let is_trusted = |ip: IpAddr| trusted.iter().any(|c| c.contains(ip));
    if !is_trusted(peer) {
        return ClientAddr { ip: peer, https: None };
    }
    let hops = match header {
        ForwardedHeader::XForwardedFor => {
            list(headers, "x-forwarded-for").into_iter().map(|h| parse_node(&h)).collect()
        }
        ForwardedHeader::Forwarded => forwarded_for(headers),
    };
    let mut client = peer;
    for hop in hops.into_iter().rev() {
        if !is_trusted(client) {
            break;
        }
        match hop {
            Some(ip) => client = canonical(ip),
            None => break,
        }
    }
    let proto = match header {
        ForwardedHeader::XForwardedFor => list(headers, "x-forwarded-proto").pop(),
        ForwardedHeader::Forwarded => forwarded_param(headers, "proto").pop(),
    };
    ClientAddr { ip: client, https: proto.map(|p| p.eq_ignore_ascii_case("https")) }
}

/// Every comma-separated value of every `name` header, in order.
fn list(headers: &HeaderMap, name: &'static str) -> Vec<String> {
    headers
        .get_all(HeaderName::from_static(name))
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .collect()
}

/// The `for=` of each `Forwarded` element (None where it is missing or not an address).
fn forwarded_for(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    forwarded_elements(headers).iter().map(|e| param(e, "for").and_then(|v| parse_node(&v))).collect()
}

/// The `name=` parameter of each `Forwarded` element that has one.
fn forwarded_param(headers: &HeaderMap, name: &str) -> Vec<String> {
    forwarded_elements(headers).iter().filter_map(|e| param(e, name)).collect()
}

fn forwarded_elements(headers: &HeaderMap) -> Vec<String> {
    list(headers, "forwarded")
}

/// One parameter of a `Forwarded` element (`for=…;proto=…`), unquoted.
fn param(element: &str, name: &str) -> Option<String> {
    element
        .split(';')
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim().trim_matches('"').to_owned())
}

/// An address as proxies write it: `1.2.3.4`, `1.2.3.4:5678`, `[2001:db8::1]:80` or a bare
/// IPv6 address.
fn parse_node(node: &str) -> Option<IpAddr> {
    let node = node.trim().trim_matches('"');
    if let Ok(ip) = node.parse() {
        return Some(ip);
    }
    if let Some(rest) = node.strip_prefix('[') {
        return rest.split_once(']').and_then(|(ip, _)| ip.parse().ok());
    }
    node.rsplit_once(':').and_then(|(ip, port)| port.parse::<u16>().ok().and(ip.parse().ok()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(HeaderName::from_static(k), v.parse().unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    const XFF: ForwardedHeader = ForwardedHeader::XForwardedFor;

    #[test]
    fn an_untrusted_peer_cannot_name_another_address() {
        let h = headers(&[("x-forwarded-for", "1.1.1.1"), ("x-forwarded-proto", "https")]);
        assert_eq!(resolve(ip("9.9.9.9"), &h, &[], XFF), ClientAddr { ip: ip("9.9.9.9"), https: None });
        let proxy: Vec<Cidr> = vec!["10.0.0.0/8".parse().unwrap()];
        assert_eq!(resolve(ip("9.9.9.9"), &h, &proxy, XFF).ip, ip("9.9.9.9"));
    }

    #[test]
    fn the_right_most_untrusted_hop_is_the_client() {
        let proxies: Vec<Cidr> = vec!["10.0.0.0/8".parse().unwrap(), "127.0.0.1".parse().unwrap()];
        // The client wrote a fake first entry; nginx appended the real peer; an inner proxy
        // appended itself.
        let h = headers(&[("x-forwarded-for", "6.6.6.6, 203.0.113.7"), ("x-forwarded-for", "10.1.1.1")]);
        let c = resolve(ip("127.0.0.1"), &h, &proxies, XFF);
        assert_eq!(c.ip, ip("203.0.113.7"));
        // Only trusted proxies in the chain: the left-most is as far as the chain goes.
        let h = headers(&[("x-forwarded-for", "10.2.2.2, 10.1.1.1")]);
        assert_eq!(resolve(ip("127.0.0.1"), &h, &proxies, XFF).ip, ip("10.2.2.2"));
        // No header: the proxy itself.
        assert_eq!(resolve(ip("127.0.0.1"), &HeaderMap::new(), &proxies, XFF).ip, ip("127.0.0.1"));
        // Garbage ends the walk at the proxy that wrote it.
        let h = headers(&[("x-forwarded-for", "nonsense")]);
        assert_eq!(resolve(ip("127.0.0.1"), &h, &proxies, XFF).ip, ip("127.0.0.1"));
        let h = headers(&[("x-forwarded-for", "[2001:db8::1]:443"), ("x-forwarded-proto", "http, https")]);
        assert_eq!(
            resolve(ip("127.0.0.1"), &h, &proxies, XFF),
            ClientAddr { ip: ip("2001:db8::1"), https: Some(true) }
        );
    }

    #[test]
    fn forwarded_is_read_only_when_configured() {
        let proxies: Vec<Cidr> = vec!["127.0.0.1".parse().unwrap()];
        let h = headers(&[
            ("forwarded", "for=6.6.6.6, for=\"[2001:db8:cafe::17]:4711\";proto=https"),
            ("x-forwarded-for", "7.7.7.7"),
        ]);
        let c = resolve(ip("127.0.0.1"), &h, &proxies, ForwardedHeader::Forwarded);
        assert_eq!(c, ClientAddr { ip: ip("2001:db8:cafe::17"), https: Some(true) });
        assert_eq!(resolve(ip("127.0.0.1"), &h, &proxies, XFF).ip, ip("7.7.7.7"));
        let h = headers(&[("forwarded", "for=unknown")]);
        assert_eq!(resolve(ip("127.0.0.1"), &h, &proxies, ForwardedHeader::Forwarded).ip, ip("127.0.0.1"));
    }
}
