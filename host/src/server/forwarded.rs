//! Who sent a request, and over what: from the connection, unless the peer
//! is a proxy the config trusts (`[server] trusted_proxies`), whose
//! `X-Forwarded-For` and `X-Forwarded-Proto` then speak for the client.
//! Anything else a client writes (an `https://` request line, its own
//! forwarding headers) is never believed.

use std::net::{IpAddr, SocketAddr};

use http::HeaderMap;
use ipnet::IpNet;

use crate::pipeline::Scheme;

/// The client's address and the scheme it used.
pub(super) fn origin(
    peer: SocketAddr,
    headers: &HeaderMap,
    trusted: &[IpNet],
) -> (SocketAddr, Scheme) {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|net| net.contains(&ip));
    if !is_trusted(peer.ip()) {
        return (peer, Scheme::Http);
    }
    let scheme = match headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
    {
        Some(proto) if proto.trim().eq_ignore_ascii_case("https") => Scheme::Https,
        _ => Scheme::Http,
    };
    // Each proxy appends the address it received from; walking from the
    // right, the first hop that is not a trusted proxy is the client. An
    // entry that does not parse ends the walk: what lies left of it is
    // whatever the client claimed.
    let mut client = peer.ip();
    let hops = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect::<Vec<_>>();
    for hop in hops.iter().rev() {
        let Ok(ip) = hop.trim().parse::<IpAddr>() else {
            break;
        };
        client = ip;
        if !is_trusted(ip) {
            break;
        }
    }
    (SocketAddr::new(client, 0), scheme)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        map
    }

    fn peer(ip: &str) -> SocketAddr {
        SocketAddr::new(ip.parse().unwrap(), 5555)
    }

    const SPOOFED: &[(&str, &str)] = &[
        ("x-forwarded-for", "203.0.113.9"),
        ("x-forwarded-proto", "https"),
    ];

    #[test]
    fn without_trusted_proxies_headers_are_ignored() {
        let (client, scheme) = origin(peer("198.51.100.1"), &headers(SPOOFED), &[]);
        assert_eq!(client, peer("198.51.100.1"));
        assert_eq!(scheme, Scheme::Http);
    }

    #[test]
    fn an_untrusted_peer_is_not_believed() {
        let trusted = ["10.0.0.0/8".parse().unwrap()];
        let (client, scheme) = origin(peer("198.51.100.1"), &headers(SPOOFED), &trusted);
        assert_eq!(client.ip().to_string(), "198.51.100.1");
        assert_eq!(scheme, Scheme::Http);
    }

    #[test]
    fn a_trusted_proxy_speaks_for_the_client() {
        let trusted = ["10.0.0.0/8".parse().unwrap()];
        let (client, scheme) = origin(peer("10.1.2.3"), &headers(SPOOFED), &trusted);
        assert_eq!(client.ip().to_string(), "203.0.113.9");
        assert_eq!(scheme, Scheme::Https);
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        let trusted = ["10.0.0.0/8".parse().unwrap()];
        // The client claimed 1.1.1.1 itself; the proxies saw 203.0.113.9.
        let h = headers(&[
            ("x-forwarded-for", "1.1.1.1, 203.0.113.9"),
            ("x-forwarded-for", "10.0.0.7"),
        ]);
        let (client, _) = origin(peer("10.1.2.3"), &h, &trusted);
        assert_eq!(client.ip().to_string(), "203.0.113.9");
        let h = headers(&[("x-forwarded-for", "garbage, 10.0.0.7")]);
        let (client, _) = origin(peer("10.1.2.3"), &h, &trusted);
        assert_eq!(client.ip().to_string(), "10.0.0.7");
    }
}
