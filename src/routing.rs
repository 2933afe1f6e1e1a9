//! Which route a request belongs to, and the one normalized path it is matched and forwarded by.
//!
//! The path is normalized once (dot segments resolved, `//` merged, percent-encoding of
//! unreserved characters decoded) and that same string is both matched and sent upstream, so a
//! backend can never be shown a path that would have matched a different route. Encoded `/`,
//! `\` and NUL are refused outright: backends disagree on whether `%2F` separates segments, and
//! that disagreement is how prefix checks get bypassed.

use std::borrow::Cow;

/// Why a request path cannot be routed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("path must start with '/'")]
    NotAbsolute,
    #[error("path contains an encoded '/', '\\' or NUL")]
    EncodedSeparator,
    #[error("path contains an invalid percent-encoding")]
    BadEscape,
}

/// Returns the canonical form of a request path (without query).
pub fn normalize_path(raw: &str) -> Result<Cow<'_, str>, PathError> {
    if !raw.starts_with('/') {
        return Err(PathError::NotAbsolute);
    }
    if is_canonical(raw) {
        return Ok(Cow::Borrowed(raw));
    }
    let decoded = decode_unreserved(raw)?;
    Ok(Cow::Owned(remove_dot_segments(&decoded)))
}

/// Fast check for the common case: nothing to decode, merge or resolve.
fn is_canonical(path: &str) -> bool {
    let b = path.as_bytes();
    if b.contains(&b'%') {
        return false;
    }
    !b.windows(2).any(|w| w == b"//" || w == b"/.")
}

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

fn is_unreserved(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~')
}

/// Decodes `%XX` of unreserved characters, upper-cases the hex of the rest.
fn decode_unreserved(path: &str) -> Result<String, PathError> {
    let b = path.as_bytes();
    let mut out = String::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'%' {
            out.push(b[i] as char);
            i += 1;
            continue;
        }
        let (hi, lo) = match (
            b.get(i + 1).and_then(|&c| hex(c)),
            b.get(i + 2).and_then(|&c| hex(c)),
        ) {
            (Some(hi), Some(lo)) => (hi, lo),
            _ => return Err(PathError::BadEscape),
        };
        let byte = hi * 16 + lo;
        if matches!(byte, b'/' | b'\\' | 0) {
            return Err(PathError::EncodedSeparator);
        }
        if is_unreserved(byte) {
            out.push(byte as char);
        } else {
            out.push('%');
            out.push(char::from(b"0123456789ABCDEF"[usize::from(hi)]));
            out.push(char::from(b"0123456789ABCDEF"[usize::from(lo)]));
        }
        i += 3;
    }
    Ok(out)
}

/// RFC 3986 §5.2.4, plus merging of empty segments; `..` never climbs above the root.
fn remove_dot_segments(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for seg in path.split('/').skip(1) {
        match seg {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let trailing = path.ends_with('/') || path.ends_with("/.") || path.ends_with("/..");
    let mut out = String::with_capacity(path.len());
    for s in &segments {
        out.push('/');
        out.push_str(s);
    }
    if trailing || out.is_empty() {
        out.push('/');
    }
    out
}

/// Does `path` fall under `prefix`, on a segment boundary?
pub fn prefix_matches(prefix: &str, path: &str) -> bool {
    if prefix == "/" {
        return true;
    }
    match path.strip_prefix(prefix) {
        Some(rest) => rest.is_empty() || rest.starts_with('/'),
        None => false,
    }
}

/// The host part of a `Host` header or authority: port and trailing dot removed.
pub fn host_only(authority: &str) -> &str {
    let host = if authority.starts_with('[') {
        authority.split_inclusive(']').next().unwrap_or(authority)
    } else {
        authority.rsplit_once(':').map_or(authority, |(h, _)| h)
    };
    host.strip_suffix('.').unwrap_or(host)
}

/// The routes, ordered so that the first match is the right one.
#[derive(Debug)]
pub struct RouteTable<T> {
    entries: Vec<(Option<String>, String, T)>,
    /// Some route names a host: only then is the request's host looked at.
    by_host: bool,
}

impl<T> RouteTable<T> {
    /// `entries`: (host, normalized prefix, value). Longest prefix first; at equal length a
    /// route with a host beats one without.
    pub fn new(mut entries: Vec<(Option<String>, String, T)>) -> Self {
        entries.sort_by(|a, b| {
            b.1.len()
                .cmp(&a.1.len())
                .then_with(|| b.0.is_some().cmp(&a.0.is_some()))
        });
        let by_host = entries.iter().any(|(host, _, _)| host.is_some());
        RouteTable { entries, by_host }
    }

    pub fn find(&self, host: Option<&str>, path: &str) -> Option<&T> {
        let host = host.filter(|_| self.by_host).map(host_only);
        self.entries.iter().find_map(|(h, prefix, value)| {
            let host_ok = match (h, host) {
                (None, _) => true,
                (Some(want), Some(got)) => want.eq_ignore_ascii_case(got),
                (Some(_), None) => false,
            };
            (host_ok && prefix_matches(prefix, path)).then_some(value)
        })
    }

    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.entries.iter().map(|(_, _, v)| v)
    }
}

/// The path sent upstream: the endpoint's base path, the (maybe stripped) request path and query.
pub fn upstream_path(
    base: &str,
    prefix: &str,
    strip: bool,
    path: &str,
    query: Option<&str>,
) -> String {
    let mut rest = path;
    if strip && prefix != "/" {
        rest = path.strip_prefix(prefix).unwrap_or(path);
    }
    let mut out =
        String::with_capacity(base.len() + rest.len() + query.map_or(0, |q| q.len() + 1) + 1);
    out.push_str(base);
    if !rest.starts_with('/') {
        out.push('/');
    }
    out.push_str(rest);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_paths_are_borrowed() {
        assert!(matches!(
            normalize_path("/api/trips/7"),
            Ok(Cow::Borrowed(_))
        ));
    }

    #[test]
    fn dot_segments_and_double_slashes_resolve() {
        assert_eq!(normalize_path("/api/../admin").unwrap(), "/admin");
        assert_eq!(normalize_path("/api/./x//y").unwrap(), "/api/x/y");
        assert_eq!(normalize_path("/../../etc/passwd").unwrap(), "/etc/passwd");
        assert_eq!(normalize_path("/api/%2e%2e/admin").unwrap(), "/admin");
        assert_eq!(normalize_path("/api/x/..").unwrap(), "/api/");
        assert_eq!(normalize_path("/..").unwrap(), "/");
    }

    #[test]
    fn encoding_is_canonicalized() {
        assert_eq!(normalize_path("/a%7Eb%41").unwrap(), "/a~bA");
        assert_eq!(normalize_path("/a%20b%c3%a9").unwrap(), "/a%20b%C3%A9");
    }

    #[test]
    fn encoded_separators_and_bad_escapes_are_refused() {
        assert_eq!(
            normalize_path("/api%2Fadmin"),
            Err(PathError::EncodedSeparator)
        );
        assert_eq!(
            normalize_path("/api%5cadmin"),
            Err(PathError::EncodedSeparator)
        );
        assert_eq!(normalize_path("/a%00"), Err(PathError::EncodedSeparator));
        assert_eq!(normalize_path("/a%zz"), Err(PathError::BadEscape));
        assert_eq!(normalize_path("/a%4"), Err(PathError::BadEscape));
        assert_eq!(normalize_path("*"), Err(PathError::NotAbsolute));
    }

    #[test]
    fn prefixes_match_on_segment_boundaries() {
        assert!(prefix_matches("/api", "/api"));
        assert!(prefix_matches("/api", "/api/x"));
        assert!(!prefix_matches("/api", "/apix"));
        assert!(prefix_matches("/", "/anything"));
    }

    #[test]
    fn longest_prefix_and_host_win() {
        let t = RouteTable::new(vec![
            (None, "/".to_string(), 1),
            (None, "/api".to_string(), 2),
            (None, "/api/trips".to_string(), 3),
            (Some("b.example".to_string()), "/api".to_string(), 4),
        ]);
        assert_eq!(t.find(Some("a.example"), "/api/trips/7"), Some(&3));
        assert_eq!(t.find(Some("a.example"), "/api/tripsx"), Some(&2));
        assert_eq!(t.find(Some("B.example:8080"), "/api/x"), Some(&4));
        assert_eq!(t.find(None, "/other"), Some(&1));
    }

    #[test]
    fn host_only_strips_port_and_dot() {
        assert_eq!(host_only("example.com:8080"), "example.com");
        assert_eq!(host_only("example.com."), "example.com");
        assert_eq!(host_only("[::1]:80"), "[::1]");
    }

    #[test]
    fn upstream_paths_strip_and_keep_query() {
        assert_eq!(
            upstream_path("", "/api/trips", true, "/api/trips/7", Some("a=1")),
            "/7?a=1"
        );
        assert_eq!(
            upstream_path("", "/api/trips", true, "/api/trips", None),
            "/"
        );
        assert_eq!(
            upstream_path("/v1", "/api", false, "/api/x", None),
            "/v1/api/x"
        );
    }
}
