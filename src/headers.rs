//! Header rewriting in both directions: hop-by-hop removal, `X-Forwarded-*`, `Host`, and the
//! request id that ties a client's request to the upstream's logs and ours.

use std::net::IpAddr;

use http::header::{self, HeaderMap, HeaderName, HeaderValue};

pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
pub static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
pub static X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
pub static X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
pub static PROXY_STATUS: HeaderName = HeaderName::from_static("proxy-status");
pub(crate) static KEEP_ALIVE: HeaderName = HeaderName::from_static("keep-alive");
pub(crate) static PROXY_CONNECTION: HeaderName = HeaderName::from_static("proxy-connection");

/// Longest client-supplied request id we pass on; longer ones are replaced.
const MAX_REQUEST_ID: usize = 128;

/// Headers that describe one connection, never the message (RFC 9110 §7.6.1).
fn fixed_hop_by_hop() -> [&'static HeaderName; 8] {
    [
        &header::CONNECTION,
        &KEEP_ALIVE,
        &PROXY_CONNECTION,
        &header::PROXY_AUTHENTICATE,
        &header::PROXY_AUTHORIZATION,
        &header::TRAILER,
        &header::TRANSFER_ENCODING,
        &header::UPGRADE,
    ]
}

/// Removes hop-by-hop headers, first those the `Connection` header nominates.
pub fn strip_hop_by_hop(headers: &mut HeaderMap) {
    // One pass over the names (standard names compare by tag) finds which are present, so a
    // message without any, or with only `Connection: keep-alive`, costs no hashing.
    let hop = fixed_hop_by_hop();
    let mut present = 0u16;
    let mut te = false;
    for name in headers.keys() {
        match hop.iter().position(|h| *h == name) {
            Some(i) => present |= 1 << i,
            None => te |= name == header::TE,
        }
    }
    if present & 1 != 0 {
        // hop[0] is `Connection`. Cloning a HeaderValue is a reference-count bump;
        // collecting an empty rest allocates nothing.
        let mut values = headers.get_all(header::CONNECTION).iter().cloned();
        let first = values.next();
        let rest: Vec<HeaderValue> = values.collect();
        for value in first.iter().chain(rest.iter()) {
            remove_nominated(headers, value);
        }
    }
    for (i, name) in hop.iter().enumerate() {
        if present & (1 << i) != 0 {
            headers.remove(*name);
        }
    }
    // `TE: trailers` is end-to-end in practice (gRPC needs it); any other TE is hop-by-hop.
    if te {
        let all: Vec<HeaderValue> = headers.get_all(header::TE).iter().cloned().collect();
        let trailers = all.iter().filter(|v| is_te_trailers(v.as_bytes())).count();
        if trailers < all.len() {
            headers.remove(header::TE);
            for value in all.into_iter().filter(|v| is_te_trailers(v.as_bytes())) {
                headers.append(header::TE, value);
            }
        }
    }
}

fn remove_nominated(headers: &mut HeaderMap, value: &HeaderValue) {
    let mut names = Vec::new();
    nominated(value.as_bytes(), &mut names);
    for name in names {
        headers.remove(name);
    }
}

/// The fields a `Connection` value nominates, added to `out` (options such as `close` and the
/// fixed hop-by-hop names are left out: they need no nominating).
pub fn nominated(value: &[u8], out: &mut Vec<HeaderName>) {
    // Only a value `HeaderValue::to_str` reads (visible ASCII) nominates anything.
    let Some(text) = visible_text(value) else {
        return;
    };
    for token in text.split(',') {
        let token = token.trim();
        // The usual tokens are options, or already removed: skip them before parsing a name
        // (a non-standard HeaderName allocates).
        let common = ["close", "keep-alive", "upgrade", "te"];
        if token.is_empty() || common.iter().any(|c| token.eq_ignore_ascii_case(c)) {
            continue;
        }
        if let Ok(name) = HeaderName::from_bytes(token.as_bytes()) {
            out.push(name);
        }
    }
}

/// A `TE` field errgate passes on: `trailers` and nothing else.
pub fn is_te_trailers(value: &[u8]) -> bool {
    value.trim_ascii().eq_ignore_ascii_case(b"trailers")
}

/// A field value as `HeaderValue::to_str` reads it: visible ASCII (and tabs) only.
pub fn visible_text(value: &[u8]) -> Option<&str> {
    let visible = value
        .iter()
        .all(|&b| b == b'\t' || (0x20..0x7f).contains(&b));
    visible.then(|| std::str::from_utf8(value).ok()).flatten()
}

/// Whether `name` is hop-by-hop whatever `Connection` says (`TE` aside).
pub fn is_fixed_hop_by_hop(name: &HeaderName) -> bool {
    fixed_hop_by_hop().contains(&name)
}

/// True if the request asks for a protocol upgrade (WebSocket).
pub fn is_upgrade_request(headers: &HeaderMap) -> bool {
    headers.contains_key(header::UPGRADE)
        && headers
            .get_all(header::CONNECTION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case("upgrade"))
}

/// Whether a client's request id can be passed on (visible ASCII, at most 128 bytes).
pub fn sane_request_id(bytes: &[u8]) -> bool {
    !bytes.is_empty()
        && bytes.len() <= MAX_REQUEST_ID
        && bytes.iter().all(|b| (0x21..=0x7e).contains(b))
}

/// A fresh random request id: 32 lower-case hex digits.
pub fn new_request_id() -> HeaderValue {
    let n = fastrand::u128(..);
    let mut buf = [0u8; 32];
    for (i, quarter) in buf.chunks_exact_mut(8).enumerate() {
        quarter.copy_from_slice(&hex8((n >> (96 - 32 * i)) as u32));
    }
    // Shared from the start: the id is cloned for the log, and cloning a value copied from a
    // slice would allocate a second time to make it shareable.
    HeaderValue::from_maybe_shared(bytes::Bytes::from_owner(buf))
        .unwrap_or(HeaderValue::from_static("0"))
}

/// `x` as 8 lower-case hex digits, most significant first: each nibble spread into a byte
/// of its own, then all eight turned into digits at once.
fn hex8(x: u32) -> [u8; 8] {
    let mut v = u64::from(x);
    v = (v | v << 16) & 0x0000_ffff_0000_ffff;
    v = (v | v << 8) & 0x00ff_00ff_00ff_00ff;
    v = (v | v << 4) & 0x0f0f_0f0f_0f0f_0f0f;
    // 1 in each byte whose nibble is 10 or more: those are letters, 0x27 past the digits.
    let letters = ((v + 0x0606_0606_0606_0606) >> 4) & 0x0101_0101_0101_0101;
    (v + 0x3030_3030_3030_3030 + letters * 0x27).to_be_bytes()
}

/// What errgate adds to a request before it goes upstream. It is kept apart from the client's
/// headers: errgate's own client writes it straight to the wire ([`crate::h1_wire`]), hyper's
/// gets it inserted into its copy of the headers ([`add_forwarded`]).
#[derive(Debug, Clone, Copy)]
pub struct Forwarded<'a> {
    /// The client's address as an `X-Forwarded-For` element, built once per connection.
    pub client_ip: &'a HeaderValue,
    /// The host the client asked for (`Host` or `:authority`).
    pub host: Option<&'a HeaderValue>,
    pub request_id: &'a HeaderValue,
}

impl Forwarded<'_> {
    /// True for a client header that errgate replaces with its own value.
    pub fn replaces(&self, name: &HeaderName) -> bool {
        *name == header::HOST
            || *name == X_FORWARDED_FOR
            || *name == X_FORWARDED_PROTO
            || *name == X_REQUEST_ID
            // Replaced by the host the client addressed, or dropped: a client without `Host`
            // must not name one for the upstream.
            || *name == X_FORWARDED_HOST
    }
}

/// Adds `X-Forwarded-*`, the request id and `Host` (`host_override` if the route rewrites it);
/// run after [`strip_hop_by_hop`].
pub fn add_forwarded(
    headers: &mut HeaderMap,
    fwd: &Forwarded<'_>,
    host_override: Option<HeaderValue>,
) {
    append_forwarded_for(headers, fwd.client_ip);
    headers.insert(&X_FORWARDED_PROTO, HeaderValue::from_static("http"));
    match fwd.host {
        Some(host) => headers.insert(&X_FORWARDED_HOST, host.clone()),
        None => headers.remove(&X_FORWARDED_HOST),
    };
    headers.insert(&X_REQUEST_ID, fwd.request_id.clone());
    match (host_override, fwd.host) {
        (Some(h), _) => {
            headers.insert(header::HOST, h);
        }
        // HTTP/2 clients send `:authority`, not `Host`; an HTTP/1 upstream needs `Host`.
        (None, Some(h)) => {
            headers.insert(header::HOST, h.clone());
        }
        (None, None) => {}
    }
}

/// The `X-Forwarded-For` element for a client address (IPv4-mapped IPv6 shown as IPv4).
pub fn forwarded_for_value(ip: IpAddr) -> HeaderValue {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    };
    HeaderValue::from_str(&ip.to_string()).unwrap_or(HeaderValue::from_static("unknown"))
}

fn append_forwarded_for(headers: &mut HeaderMap, ip_value: &HeaderValue) {
    let ip = String::from_utf8_lossy(ip_value.as_bytes());
    let mut values = headers.get_all(&X_FORWARDED_FOR).iter();
    let joined = match (values.next(), values.next()) {
        (None, _) => {
            headers.insert(&X_FORWARDED_FOR, ip_value.clone());
            return;
        }
        (Some(one), None) => format!("{}, {ip}", String::from_utf8_lossy(one.as_bytes())),
        (Some(_), Some(_)) => {
            let all: Vec<_> = headers
                .get_all(&X_FORWARDED_FOR)
                .iter()
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                .collect();
            format!("{}, {ip}", all.join(", "))
        }
    };
    if let Ok(v) = HeaderValue::from_str(&joined) {
        headers.insert(&X_FORWARDED_FOR, v);
    }
}

#[cfg(test)]
#[path = "headers_tests.rs"]
mod tests;
