//! Turns a bounded upstream error body into text: undoes `Content-Encoding` with the decoded size
//! capped while decoding (a zip bomb costs at most the cap), then decodes the declared charset.
//!
//! Servers get encodings wrong in both directions, so decoding is forgiving where that is safe:
//! - `deflate` is tried zlib-wrapped (RFC 9110) first, then raw (what some servers really send).
//! - A `Content-Encoding` that lies (says `gzip`/`deflate`, body is plain text) is read as identity
//!   when the bytes do not carry the coding's header and look like text. Anything else that fails
//!   to decode sets `encoding_failed`, and the caller uses the catalog message.
//! - More than one real coding (`gzip, br`) is rejected: each layer is another bomb to cap, and no
//!   well-behaved backend stacks codings on an error body.

use std::borrow::Cow;
use std::io::{self, Read};

use encoding_rs::{Encoding, REPLACEMENT, UTF_8};
// The `bufread` decoders read straight from the slice instead of copying it into a second buffer.
use flate2::bufread::{DeflateDecoder, MultiGzDecoder, ZlibDecoder};

/// An upstream body as text, with what went wrong on the way.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Decoded<'a> {
    /// Whatever could be decoded; only a prefix of the body when a flag is set. Borrowed from
    /// the body when that is already UTF-8 without a coding (the usual error body): no copy.
    pub text: Cow<'a, str>,
    /// The body went on past what `text` holds: the decoded cap was hit, or a compressed stream
    /// ended early (often because the caller stopped reading the raw body at its own cap).
    pub truncated: bool,
    /// The coding is unsupported (`br`, `zstd`, stacked codings) or the compressed data is corrupt;
    /// `text` must not be trusted.
    pub encoding_failed: bool,
}

/// Decodes `raw` per its `Content-Encoding` and `Content-Type` charset into at most
/// `max_decoded` bytes of decompressed data.
pub fn decode_body<'a>(
    raw: &'a [u8],
    content_encoding: Option<&str>,
    content_type: Option<&str>,
    max_decoded: usize,
) -> Decoded<'a> {
    let Unpacked {
        bytes,
        truncated,
        failed,
    } = match coding_of(content_encoding) {
        Coding::Identity => identity(raw, max_decoded),
        Coding::Gzip => gunzip(raw, max_decoded),
        Coding::Deflate => inflate(raw, max_decoded),
        Coding::Unsupported => Unpacked::failed(Vec::new()),
    };
    Decoded {
        text: decode_charset(bytes, content_type.and_then(charset_of)),
        truncated,
        encoding_failed: failed,
    }
}

/// The `charset` parameter of a `Content-Type`, unquoted, as written (labels are matched
/// case-insensitively by `encoding_rs`).
pub fn charset_of(content_type: &str) -> Option<&str> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("charset") {
            return None;
        }
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value)
            .trim();
        (!value.is_empty()).then_some(value)
    })
}

/// The lower-cased media type essence (`type/subtype`) of a `Content-Type`, without parameters.
pub fn media_type(content_type: &str) -> Cow<'_, str> {
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    if essence.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(essence.to_ascii_lowercase())
    } else {
        Cow::Borrowed(essence)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Coding {
    Identity,
    Gzip,
    Deflate,
    Unsupported,
}

/// Reads the coding list; `identity` entries are no-ops, so `gzip, identity` is plain gzip.
fn coding_of(header: Option<&str>) -> Coding {
    let mut real = header
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty() && !c.eq_ignore_ascii_case("identity"));
    let Some(first) = real.next() else {
        return Coding::Identity;
    };
    if real.next().is_some() {
        return Coding::Unsupported;
    }
    match first.to_ascii_lowercase().as_str() {
        "gzip" | "x-gzip" => Coding::Gzip,
        "deflate" => Coding::Deflate,
        _ => Coding::Unsupported,
    }
}

/// Decompressed bytes plus the flags that end up in [`Decoded`].
#[derive(Debug, Default)]
struct Unpacked<'a> {
    bytes: Cow<'a, [u8]>,
    truncated: bool,
    failed: bool,
}

impl Unpacked<'_> {
    fn ok(bytes: Vec<u8>) -> Self {
        Unpacked {
            bytes: Cow::Owned(bytes),
            ..Unpacked::default()
        }
    }

    fn partial(bytes: Vec<u8>) -> Self {
        Unpacked {
            bytes: Cow::Owned(bytes),
            truncated: true,
            failed: false,
        }
    }

    fn failed(bytes: Vec<u8>) -> Self {
        Unpacked {
            bytes: Cow::Owned(bytes),
            truncated: false,
            failed: true,
        }
    }
}

fn identity(raw: &[u8], max: usize) -> Unpacked<'_> {
    Unpacked {
        bytes: Cow::Borrowed(&raw[..raw.len().min(max)]),
        truncated: raw.len() > max,
        failed: false,
    }
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

fn gunzip(raw: &[u8], max: usize) -> Unpacked<'_> {
    if raw.starts_with(&GZIP_MAGIC) {
        // Multi-member: `cat a.gz b.gz` is valid gzip and some servers stream that way.
        read_capped(MultiGzDecoder::new(raw), max)
    } else {
        lying_header(raw, max)
    }
}

fn inflate(raw: &[u8], max: usize) -> Unpacked<'_> {
    if has_zlib_header(raw) {
        let zlib = read_capped(ZlibDecoder::new(raw), max);
        // A text body can pass the 2-byte header check by chance; only trust zlib if it produced
        // something (or a clean empty stream), else carry on as if the header were not there.
        let clean_end = !zlib.failed && !zlib.truncated;
        if clean_end || !zlib.bytes.is_empty() {
            return zlib;
        }
    }
    // Raw deflate has no header to check, and text often decodes as raw deflate garbage, so
    // plain-looking bodies are taken as a lying header before raw deflate is tried.
    if looks_plain(raw) {
        return identity(raw, max);
    }
    read_capped(DeflateDecoder::new(raw), max)
}

/// RFC 1950: method 8 (deflate), window ≤ 32 KiB, and the header checksum.
fn has_zlib_header(raw: &[u8]) -> bool {
    match raw {
        [cmf, flg, ..] => {
            cmf & 0x0f == 8 && cmf >> 4 <= 7 && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0
        }
        _ => false,
    }
}

/// The header named a coding the bytes do not carry: read them as they are if they look like text.
fn lying_header(raw: &[u8], max: usize) -> Unpacked<'_> {
    if looks_plain(raw) {
        identity(raw, max)
    } else {
        Unpacked::failed(Vec::new())
    }
}

/// UTF-8 without control bytes other than whitespace: what a mislabelled JSON/HTML/text body looks
/// like, and what compressed data practically never does. (A mislabelled Latin-1 or UTF-16 body
/// therefore counts as failed, which costs only the catalog message.)
fn looks_plain(raw: &[u8]) -> bool {
    !raw.is_empty()
        && std::str::from_utf8(raw).is_ok()
        && !raw
            .iter()
            .any(|&b| (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')) || b == 0x7f)
}

const CHUNK: usize = 8 * 1024;

/// Reads `reader` to its end but never keeps (or allocates room for) more than `max` bytes.
fn read_capped(mut reader: impl Read, max: usize) -> Unpacked<'static> {
    let mut out = Vec::with_capacity(max.min(CHUNK));
    let mut chunk = [0u8; CHUNK];
    loop {
        match reader.read(&mut chunk) {
            Ok(0) => return Unpacked::ok(out),
            Ok(n) => {
                let keep = n.min(max - out.len());
                reserve_within(&mut out, keep, max);
                out.extend_from_slice(&chunk[..keep]);
                if keep < n {
                    return Unpacked::partial(out);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            // flate2 reports a stream that simply stops as UnexpectedEof, corruption otherwise.
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Unpacked::partial(out),
            Err(_) => return Unpacked::failed(out),
        }
    }
}

/// Grows `out` for `extra` more bytes, doubling as `Vec` would but never past `max`.
fn reserve_within(out: &mut Vec<u8>, extra: usize, max: usize) {
    let needed = out.len() + extra;
    if needed > out.capacity() {
        let target = needed.max(out.capacity() * 2).min(max);
        out.reserve_exact(target - out.len());
    }
}

/// Decodes with the declared charset (a BOM wins over it), lossily; unknown labels fall back to
/// UTF-8. WHATWG maps a few dangerous labels (ISO-2022-KR…) to "replacement", which would turn the
/// whole body into one U+FFFD; UTF-8 lossy keeps whatever ASCII is there instead.
fn decode_charset<'a>(bytes: Cow<'a, [u8]>, charset: Option<&str>) -> Cow<'a, str> {
    let encoding = charset
        .and_then(|label| Encoding::for_label(label.as_bytes()))
        .filter(|e| *e != REPLACEMENT)
        .unwrap_or(UTF_8);
    match bytes {
        // `decode` borrows when no conversion is needed (the usual error body: UTF-8).
        Cow::Borrowed(bytes) => encoding.decode(bytes).0,
        // Decompressed (rare on the error path): decoded into a string of its own.
        Cow::Owned(bytes) => Cow::Owned(encoding.decode(&bytes).0.into_owned()),
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod borrow_tests;
