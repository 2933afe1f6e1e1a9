//! Writing a response on errgate's own HTTP/1.1 server ([`crate::h1_server`]): the head is
//! encoded into the connection's buffer, and body bytes that are already there (the common
//! small response) go out in the same write.
//!
//! Framing follows what hyper's server does: the response's own `Content-Length`, else the
//! body's exact size, else chunked; no body for `HEAD`, 1xx, 204 and 304. A body that fails
//! midway ends the connection without the final chunk, so the client cannot mistake a cut-off
//! transfer for a complete one.

use std::cell::Cell;
use std::future::poll_fn;
use std::io;
use std::pin::{Pin, pin};
use std::task::Poll;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Response, StatusCode};
use hyper::body::{Body, Frame};

use crate::body::{BoxError, ResponseBody};
use crate::client_io::ClientIo;
use crate::h1_conn::{Conn, client_gone, write_pair};
use crate::h1_head::parse_length;
use crate::h1_wire::field;
use crate::headers::X_REQUEST_ID;
use crate::raw_head::RawHead;

/// Body bytes copied into the head's buffer; larger frames are written from where they are.
const COALESCE: usize = 16 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    NoBody,
    Length(u64),
    Chunked,
}

/// What the request asked of the response.
#[derive(Debug, Clone, Copy)]
pub struct Asked {
    pub head: bool,
    /// The client sent `Connection: close`, or errgate is draining.
    pub close: bool,
}

/// Writes `resp`; `true` if the connection can carry another request.
pub async fn write(
    conn: &mut Conn<'_>,
    resp: Response<ResponseBody>,
    asked: Asked,
) -> io::Result<bool> {
    let (parts, body) = resp.into_parts();
    conn.out.clear();
    let exact = body.size_hint().exact();
    let raw = body.raw_head().map(|head| Raw {
        head,
        request_id: body.log().map(|log| &log.request_id),
    });
    // `proxy::handle` leaves the id out of the map only because the record carries it.
    debug_assert!(raw.as_ref().is_none_or(|raw| raw.request_id.is_some()));
    let (framing, close) = encode_head(conn.out, &parts, raw, exact, asked);
    if framing == Framing::NoBody {
        drop(body);
        write_pair(conn.io, conn.out, &[]).await?;
        return Ok(!close);
    }
    let complete = send_body(conn, pin!(body), framing).await?;
    Ok(complete && !close)
}

/// An upstream head kept as bytes, and the request id that goes with it: for such a
/// response [`crate::proxy`] leaves the id out of the (then empty) header map, which saves
/// building and dropping a map on every pass-through.
struct Raw<'a> {
    head: &'a RawHead,
    request_id: Option<&'a HeaderValue>,
}

/// The status line and fields; returns the framing and whether the connection closes after.
fn encode_head(
    out: &mut Vec<u8>,
    parts: &http::response::Parts,
    raw: Option<Raw<'_>>,
    exact: Option<u64>,
    asked: Asked,
) -> (Framing, bool) {
    let status = parts.status;
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(status.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(status.canonical_reason().unwrap_or("").as_bytes());
    out.extend_from_slice(b"\r\n");
    // No length at all on 1xx and 204 (RFC 9110 §8.6); no body on those and 304.
    let no_length = status.is_informational() || status == StatusCode::NO_CONTENT;
    let mut seen = Seen::default();
    let request_id = raw.as_ref().and_then(|raw| raw.request_id);
    if let Some(raw) = &raw {
        for (name, value) in raw.head.fields().chain(raw.head.added()) {
            let own_id = request_id.is_some() && *name == X_REQUEST_ID;
            if !own_id && !overridden(&parts.headers, name) {
                seen.copy(out, name, value, no_length);
            }
        }
    }
    for (name, value) in &parts.headers {
        seen.copy(out, name, value.as_bytes(), no_length);
    }
    if let Some(id) = request_id {
        seen.copy(out, &X_REQUEST_ID, id.as_bytes(), no_length);
    }
    let bodyless = no_length || status == StatusCode::NOT_MODIFIED;
    let framing = match (bodyless || asked.head, seen.length, exact) {
        (true, _, _) => Framing::NoBody,
        (false, Some(n), _) => Framing::Length(n),
        (false, None, Some(n)) => {
            out.extend_from_slice(b"content-length: ");
            out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
            out.extend_from_slice(b"\r\n");
            Framing::Length(n)
        }
        (false, None, None) => {
            out.extend_from_slice(b"transfer-encoding: chunked\r\n");
            Framing::Chunked
        }
    };
    // A 1xx never reaches this writer (the upstream client consumes them); if one did, the
    // connection would not be trusted afterwards.
    let close = asked.close || seen.close || status.is_informational();
    if close && !seen.close {
        out.extend_from_slice(b"connection: close\r\n");
    }
    if !seen.date {
        out.extend_from_slice(b"date: ");
        http_date(out);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    (framing, close)
}

/// What the response's own fields said about framing, date and closing.
#[derive(Default)]
struct Seen {
    length: Option<u64>,
    date: bool,
    close: bool,
}

impl Seen {
    /// Copies a field errgate passes on. `Transfer-Encoding` is errgate's to set; of
    /// `Content-Length` only the first valid value is kept (and none when `no_length`).
    fn copy(&mut self, out: &mut Vec<u8>, name: &HeaderName, value: &[u8], no_length: bool) {
        if *name == header::TRANSFER_ENCODING {
            return;
        }
        let mut value = value;
        if *name == header::CONTENT_LENGTH {
            // `2, 2` goes on as `2`.
            value = crate::raw_head::agreed_length(value).unwrap_or(value);
            match parse_length(value) {
                Some(n) if self.length.is_none() && !no_length => self.length = Some(n),
                _ => return,
            }
        }
        self.date |= *name == header::DATE;
        self.close |= *name == header::CONNECTION && says_close(value);
        field(out, name.as_str().as_bytes(), value);
    }
}

/// Whether errgate set a field of this name itself, replacing the upstream's.
fn overridden(map: &HeaderMap, name: &HeaderName) -> bool {
    // The map usually holds one field (the request id): a scan beats hashing.
    if map.len() <= 4 {
        map.keys().any(|k| k == name)
    } else {
        map.contains_key(name)
    }
}

fn says_close(value: &[u8]) -> bool {
    value
        .split(|&b| b == b',')
        .any(|t| t.trim_ascii().eq_ignore_ascii_case(b"close"))
}

thread_local! {
    /// The `Date` value of the current second.
    static DATE: Cell<(u64, [u8; 29])> = const { Cell::new((0, [0; 29])) };
}

fn http_date(out: &mut Vec<u8>) {
    let now = SystemTime::now();
    let secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (cached, mut text) = DATE.get();
    if cached != secs {
        let formatted = httpdate::fmt_http_date(now);
        if formatted.len() != text.len() {
            out.extend_from_slice(formatted.as_bytes());
            return;
        }
        text.copy_from_slice(formatted.as_bytes());
        DATE.set((secs, text));
    }
    out.extend_from_slice(&text);
}

enum Step {
    Frame(Option<Result<Frame<Bytes>, BoxError>>),
    /// The body has nothing yet: write what is buffered meanwhile.
    Flush,
    /// The client went away.
    Gone,
}

/// Sends the body after the head in `out`; `false` if it did not end cleanly (the connection
/// then closes). A declared length is enforced: bytes beyond it are not sent, and a body
/// that ends short of it ends the connection.
async fn send_body(
    conn: &mut Conn<'_>,
    mut body: Pin<&mut ResponseBody>,
    framing: Framing,
) -> io::Result<bool> {
    let Conn { io, buf, out } = conn;
    let mut left = match framing {
        Framing::Length(n) => n,
        _ => u64::MAX,
    };
    loop {
        let step = poll_fn(|cx| match body.as_mut().poll_frame(cx) {
            Poll::Ready(frame) => Poll::Ready(Step::Frame(frame)),
            Poll::Pending if !out.is_empty() => Poll::Ready(Step::Flush),
            Poll::Pending if client_gone(cx, io, buf) => Poll::Ready(Step::Gone),
            Poll::Pending => Poll::Pending,
        })
        .await;
        let mut data = match step {
            Step::Flush => {
                write_pair(io, out, &[]).await?;
                out.clear();
                continue;
            }
            Step::Gone => return Ok(false),
            Step::Frame(None) => {
                if framing == Framing::Chunked {
                    out.extend_from_slice(b"0\r\n\r\n");
                }
                write_pair(io, out, &[]).await?;
                return Ok(matches!(framing, Framing::Chunked) || left == 0);
            }
            Step::Frame(Some(Err(_))) => {
                // What came before the failure still goes out; the connection then ends.
                write_pair(io, out, &[]).await?;
                return Ok(false);
            }
            Step::Frame(Some(Ok(frame))) => match frame.into_data() {
                Ok(data) if !data.is_empty() => data,
                // Trailers are dropped (hyper sends them only to clients that ask), as are
                // empty data frames.
                _ => continue,
            },
        };
        let overrun = data.len() as u64 > left;
        if overrun {
            data.truncate(usize::try_from(left).unwrap_or(usize::MAX));
        }
        left -= data.len() as u64;
        put_data(io, out, &data, framing).await?;
        if overrun {
            write_pair(io, out, &[]).await?;
            return Ok(false);
        }
    }
}

/// Appends (or, when large, writes) one data frame in the body's framing.
async fn put_data(
    io: &mut ClientIo,
    out: &mut Vec<u8>,
    data: &[u8],
    framing: Framing,
) -> io::Result<()> {
    let chunked = framing == Framing::Chunked;
    if chunked {
        push_hex(out, data.len());
        out.extend_from_slice(b"\r\n");
    }
    if out.len() + data.len() <= COALESCE {
        out.extend_from_slice(data);
    } else {
        write_pair(io, out, data).await?;
        out.clear();
    }
    if chunked {
        out.extend_from_slice(b"\r\n");
    }
    Ok(())
}

fn push_hex(out: &mut Vec<u8>, mut n: usize) {
    let mut digits = [0u8; 16];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b"0123456789abcdef"[n & 0xf];
        n >>= 4;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

#[cfg(test)]
#[path = "h1_respond_tests.rs"]
mod tests;
