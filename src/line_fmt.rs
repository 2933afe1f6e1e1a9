//! Byte-level formatting for access lines, without `core::fmt` on the common path: numbers,
//! durations, addresses, strings and timestamps appended straight to the line's buffer.
//!
//! Every function writes exactly what the `Display`/`Debug` formatting it replaces wrote
//! (the tests compare them), and falls back to that formatting for the rare inputs its
//! fast path does not cover.

use std::cell::Cell;
use std::io::Write;
use std::net::IpAddr;
use std::time::SystemTime;

/// Appends `n` in decimal.
#[inline]
pub fn u64(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// Appends `micros` as milliseconds the way `f64`'s `Display` prints `micros as f64 / 1000.0`:
/// `12.345`, `12.3`, `12`, `0.001` (no trailing zeros, no exponent). Exact for durations
/// below 10^15 µs (31 years); above that the float is printed.
pub fn millis(out: &mut Vec<u8>, micros: u64) {
    if micros >= 1_000_000_000_000_000 {
        let _ = write!(out, "{}", micros as f64 / 1000.0);
        return;
    }
    u64(out, micros / 1000);
    let mut frac = micros % 1000;
    if frac == 0 {
        return;
    }
    let mut digits = [b'.', b'0' + (frac / 100) as u8, 0, 0];
    frac %= 100;
    digits[2] = b'0' + (frac / 10) as u8;
    digits[3] = b'0' + (frac % 10) as u8;
    let len = digits.iter().rposition(|&d| d != b'0').map_or(0, |i| i + 1);
    out.extend_from_slice(&digits[..len]);
}

/// Appends the address in quotes as its `Display` does (`"127.0.0.1"`, `"2001:db8::1"`).
pub fn quoted_ip(out: &mut Vec<u8>, ip: IpAddr) {
    let IpAddr::V4(v4) = ip else {
        let _ = write!(out, "\"{ip}\"");
        return;
    };
    let mut text = [0; 17];
    text[0] = b'"';
    let mut len = 1;
    for octet in v4.octets() {
        if octet >= 100 {
            text[len] = b'0' + octet / 100;
            len += 1;
        }
        if octet >= 10 {
            text[len] = b'0' + octet / 10 % 10;
            len += 1;
        }
        text[len] = b'0' + octet % 10;
        text[len + 1] = b'.';
        len += 2;
    }
    text[len - 1] = b'"';
    out.extend_from_slice(&text[..len]);
}

/// Does JSON need this byte escaped? The bytes of a multi-byte UTF-8 character are all 0x80
/// or above, so escaping bytes escapes exactly the characters below 0x20, `"` and `\`.
fn json_escaped(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

/// Appends `s` as a JSON string (quoted, escaped).
pub fn json_str(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    out.push(b'"');
    if needs_json_escape(bytes) {
        json_escape(out, bytes);
    } else {
        out.extend_from_slice(bytes);
    }
    out.push(b'"');
}

/// Does any byte need escaping? Eight bytes at a time (the last word overlapping the one
/// before it), with the usual SWAR tests: a byte's high bit is set in `below(x, n)` when that
/// byte is below `n`. Exact for "any byte".
fn needs_json_escape(bytes: &[u8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    const QUOTES: u64 = ONES * b'"' as u64;
    const BACKSLASHES: u64 = ONES * b'\\' as u64;
    let below = |x: u64, n: u64| x.wrapping_sub(ONES * n) & !x & HIGH;
    let test = |x: u64| below(x, 0x20) | below(x ^ QUOTES, 1) | below(x ^ BACKSLASHES, 1);
    let len = bytes.len();
    if len < 4 {
        return bytes.iter().any(|&b| json_escaped(b));
    }
    if len < 8 {
        // Two overlapping halves: a byte seen twice changes nothing.
        let (mut lo, mut hi) = ([0; 4], [0; 4]);
        lo.copy_from_slice(&bytes[..4]);
        hi.copy_from_slice(&bytes[len - 4..]);
        let x = u64::from(u32::from_le_bytes(lo)) | u64::from(u32::from_le_bytes(hi)) << 32;
        return test(x) != 0;
    }
    let word = |chunk: &[u8]| {
        let mut w = [0; 8];
        w.copy_from_slice(chunk);
        u64::from_le_bytes(w)
    };
    let mut found = test(word(&bytes[len - 8..]));
    for chunk in bytes.chunks_exact(8) {
        found |= test(word(chunk));
    }
    found != 0
}

fn json_escape(out: &mut Vec<u8>, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if !json_escaped(b) {
            continue;
        }
        out.extend_from_slice(&bytes[start..i]);
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            _ => out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 0xf)],
            ]),
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
}

/// Appends `s` as its `Debug` does (quoted, Rust escapes), copying it directly when it is
/// printable ASCII without quotes or backslashes.
pub fn debug_str(out: &mut Vec<u8>, s: &str) {
    let plain = |b: u8| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\';
    if s.bytes().fold(true, |all, b| all & plain(b)) {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        let _ = write!(out, "{s:?}");
    }
}

/// `YYYY-MM-DDTHH:MM:SS`
const PREFIX: usize = 19;

thread_local! {
    /// The last second formatted on this thread and its text: lines in the same second
    /// only append the microseconds.
    static SECOND: Cell<(u64, [u8; PREFIX])> = const { Cell::new((u64::MAX, [0; PREFIX])) };
}

/// Appends the time as UTC RFC 3339 with microseconds (`2026-11-23T05:10:59.446150Z`).
pub fn timestamp(out: &mut Vec<u8>, now: SystemTime) {
    let since = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = since.as_secs();
    let (cached, mut text) = SECOND.get();
    if cached != secs {
        let Some(prefix) = second_text(secs) else {
            return timestamp_slow(out, secs, since.subsec_micros());
        };
        text = prefix;
        SECOND.set((secs, text));
    }
    out.extend_from_slice(&text);
    let mut frac = [b'.', 0, 0, 0, 0, 0, 0, b'Z'];
    let mut micros = since.subsec_micros();
    for d in frac[1..7].iter_mut().rev() {
        *d = b'0' + (micros % 10) as u8;
        micros /= 10;
    }
    out.extend_from_slice(&frac);
}

/// `YYYY-MM-DDTHH:MM:SS` for a second since the epoch, if its year has four digits.
fn second_text(secs: u64) -> Option<[u8; PREFIX]> {
    let (y, m, d) = civil_from_days(i64::try_from(secs / 86_400).ok()?);
    let y = u32::try_from(y).ok().filter(|y| *y <= 9999)?;
    let rem = (secs % 86_400) as u32;
    let mut text = *b"0000-00-00T00:00:00";
    let two = |text: &mut [u8; PREFIX], at: usize, n: u32| {
        text[at] = b'0' + (n / 10 % 10) as u8;
        text[at + 1] = b'0' + (n % 10) as u8;
    };
    two(&mut text, 0, y / 100);
    two(&mut text, 2, y);
    two(&mut text, 5, m);
    two(&mut text, 8, d);
    two(&mut text, 11, rem / 3600);
    two(&mut text, 14, rem / 60 % 60);
    two(&mut text, 17, rem % 60);
    Some(text)
}

/// The general form, for years past 9999.
fn timestamp_slow(out: &mut Vec<u8>, secs: u64, micros: u32) {
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    let rem = secs % 86_400;
    let _ = write!(
        out,
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{micros:06}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
    );
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
#[path = "line_fmt_tests.rs"]
mod tests;
