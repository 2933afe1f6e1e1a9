//! Addresses that only exist inside the backend's network: private, loopback and link-local IPs,
//! internal host names, `localhost:PORT`, and database connection strings. Public addresses are
//! fine ("Not allowed from 8.8.8.8" tells the client about itself, not about the backend).

use std::net::{Ipv4Addr, Ipv6Addr};

use super::at_word_start;

/// Matched against the lower-cased text: URLs and DSNs that name a datastore.
const CONNECTION_STRINGS: &[&str] = &[
    "postgres://",
    "postgresql://",
    "mysql://",
    "mariadb://",
    "mongodb://",
    "mongodb+srv://",
    "redis://",
    "rediss://",
    "amqp://",
    "amqps://",
    "sqlserver://",
    "mssql://",
    "jdbc:",
    "oracle:thin",
    "data source=",
    "initial catalog=",
];

/// DNS suffixes that never resolve on the public internet (`.cluster.local` ends in `.local`).
const INTERNAL_SUFFIXES: &[&str] = &[
    "internal",
    "local",
    "localdomain",
    "corp",
    "lan",
    "intranet",
    "svc",
    "consul",
    "home.arpa",
];

pub(super) fn has_internal_address(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    CONNECTION_STRINGS.iter().any(|s| lower.contains(s))
        || has_localhost_port(&lower)
        || has_private_ipv4(text)
}

/// `localhost:8080`, `http://localhost/`; a bare "localhost" in prose is left alone.
fn has_localhost_port(lower: &str) -> bool {
    lower.contains("://localhost")
        || lower.match_indices("localhost:").any(|(i, m)| {
            at_word_start(lower, i)
                && lower[i + m.len()..].starts_with(|c: char| c.is_ascii_digit())
        })
}

/// Scans for dotted quads anywhere (`host=10.0.0.5:5432`, `(192.168.1.2)`).
fn has_private_ipv4(text: &str) -> bool {
    let bytes = text.as_bytes();
    (0..bytes.len()).any(|i| {
        let starts_number =
            i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'.');
        starts_number
            && bytes[i].is_ascii_digit()
            && parse_ipv4(&bytes[i..]).is_some_and(is_private_ipv4)
    })
}

/// Parses a dotted quad at the start of `bytes`; `1.2.3.4.5` is a version, not an address.
fn parse_ipv4(bytes: &[u8]) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut pos = 0;
    for (n, octet) in octets.iter_mut().enumerate() {
        if n > 0 {
            if bytes.get(pos) != Some(&b'.') {
                return None;
            }
            pos += 1;
        }
        let rest = bytes.get(pos..)?;
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 || digits > 3 {
            return None;
        }
        let value = rest[..digits]
            .iter()
            .fold(0u16, |acc, d| acc * 10 + u16::from(d - b'0'));
        *octet = u8::try_from(value).ok()?;
        pos += digits;
    }
    match bytes.get(pos..) {
        Some([b'.', d, ..]) if d.is_ascii_digit() => None,
        Some([c, ..]) if c.is_ascii_alphanumeric() => None,
        _ => Some(Ipv4Addr::from(octets)),
    }
}

/// RFC 1918, loopback, link-local, CGNAT (100.64/10, used for cluster networks) and 0.0.0.0.
fn is_private_ipv4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || (a == 100 && (64..=127).contains(&b))
}

/// `::1`, `[fd00::12]:8080`, `fe80::1%eth0`, `::ffff:10.0.0.1`.
pub(super) fn is_private_ipv6(word: &str) -> bool {
    word.split(|c: char| !(c.is_ascii_hexdigit() || c == ':' || c == '.'))
        .filter(|piece| piece.matches(':').count() >= 2)
        .filter_map(|piece| piece.trim_matches('.').parse::<Ipv6Addr>().ok())
        .any(|ip| {
            let first = ip.segments()[0];
            ip.is_loopback()
                || first & 0xfe00 == 0xfc00
                || first & 0xffc0 == 0xfe80
                || ip.to_ipv4_mapped().is_some_and(is_private_ipv4)
        })
}

/// `db.internal`, `trips.default.svc.cluster.local:8080`, `https://billing.corp/x`.
pub(super) fn is_internal_host(word: &str) -> bool {
    let after_scheme = word.split_once("://").map_or(word, |(_, rest)| rest);
    let authority = after_scheme
        .split(['/', '?', '#'])
        .next()
        .unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = host_port.split(':').next().unwrap_or_default();
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let is_hostname = host
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    is_hostname
        && INTERNAL_SUFFIXES.iter().any(|suffix| {
            host.strip_suffix(suffix)
                .and_then(|h| h.strip_suffix('.'))
                .is_some_and(|label| !label.is_empty() && !label.ends_with('.'))
        })
}
