use std::fmt::Write as _;
use std::net::IpAddr;
use std::time::{Duration, SystemTime};

use super::*;

fn text(f: impl FnOnce(&mut Vec<u8>)) -> String {
    let mut out = Vec::new();
    f(&mut out);
    String::from_utf8(out).unwrap()
}

/// A small xorshift, so the sampled inputs are the same on every run.
fn samples(n: usize, mut x: u64) -> impl Iterator<Item = u64> {
    (0..n).map(move |_| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    })
}

#[test]
fn numbers_match_display() {
    let edge = [0, 9, 10, 99, 100, 65_535, u64::from(u32::MAX), u64::MAX];
    for n in edge.into_iter().chain(samples(10_000, 7)) {
        assert_eq!(text(|o| u64(o, n)), n.to_string());
    }
}

#[test]
fn millis_match_the_float_display() {
    let small = 0..2_000_000;
    let large = samples(200_000, 11).map(|x| x % 1_000_000_000_000_000);
    let huge = [
        999_999_999_999_999,
        1_000_000_000_000_000,
        123_456_789_012_345_678,
    ];
    for micros in small.chain(large).chain(huge) {
        let want = (micros as f64 / 1000.0).to_string();
        assert_eq!(text(|o| millis(o, micros)), want, "{micros} µs");
    }
}

#[test]
fn addresses_match_display() {
    let ips = [
        "0.0.0.0",
        "127.0.0.1",
        "10.0.100.9",
        "255.255.255.255",
        "::1",
    ];
    let v6 = ["2001:db8::1", "::ffff:1.2.3.4", "fe80::1:2:3:4"];
    for ip in ips.into_iter().chain(v6) {
        let ip: IpAddr = ip.parse().unwrap();
        assert_eq!(text(|o| quoted_ip(o, ip)), format!("\"{ip}\""));
    }
    for x in samples(1000, 3) {
        let ip = IpAddr::from((x as u32).to_be_bytes());
        assert_eq!(text(|o| quoted_ip(o, ip)), format!("\"{ip}\""));
    }
}

/// The escaping `json_str` had before its fast path, one character at a time.
fn json_reference(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn odd_strings() -> Vec<String> {
    let mut all: Vec<String> = ["", "plain", "a\"b\\c\nd\u{1}é", "é😀\u{300}\u{7f}'x"]
        .into_iter()
        .map(String::from)
        .collect();
    all.extend((0..=0x7f_u8).map(|b| format!("ab{}cd", char::from(b))));
    // Every ASCII byte at every place of strings of 1 to 20 bytes (the scan's short, half-word
    // and word paths), and next to multi-byte characters.
    for b in (0..=0x7f_u8).map(char::from) {
        for len in 1..=20 {
            all.extend(
                (0..len).map(|at| format!("{}{b}{}", "x".repeat(at), "y".repeat(len - 1 - at))),
            );
        }
        all.extend((0..19).map(|at| format!("{}{b}{}", "x".repeat(at), "é".repeat(9 - at / 2))));
    }
    all.push((0..=0x7f_u8).map(char::from).collect());
    all.push("x".repeat(100) + "\"" + &"y".repeat(100));
    all.push("\u{1}\u{2}\u{1f}\u{0}\u{8}\u{c}".into());
    all
}

#[test]
fn json_strings_are_escaped() {
    assert_eq!(
        text(|o| json_str(o, "a\"b\\c\nd\u{1}\u{1f}é")),
        r#""a\"b\\c\nd\u0001\u001fé""#
    );
    for s in odd_strings() {
        assert_eq!(text(|o| json_str(o, &s)), json_reference(&s), "{s:?}");
    }
}

#[test]
fn the_escape_scan_has_no_false_positives() {
    let safe: Vec<u8> = (0x20..=0xff).filter(|b| !b"\"\\".contains(b)).collect();
    for start in 0..safe.len() {
        let s = String::from_utf8_lossy(&safe[start..]);
        assert!(!needs_json_escape(s.as_bytes()), "{s:?}");
        assert!(!needs_json_escape(&safe[start..]));
    }
}

#[test]
fn debug_strings_match_debug() {
    for s in odd_strings() {
        assert_eq!(text(|o| debug_str(o, &s)), format!("{s:?}"));
    }
}

fn at(secs: u64, micros: u32) -> String {
    let t = SystemTime::UNIX_EPOCH + Duration::new(secs, micros * 1000 + 999);
    text(|o| timestamp(o, t))
}

#[test]
fn timestamps_match_known_dates() {
    assert_eq!(at(0, 0), "1970-01-01T00:00:00.000000Z");
    assert_eq!(at(951_782_400, 7), "2000-02-29T00:00:00.000007Z");
    assert_eq!(at(1_795_410_659, 446_150), "2026-11-23T05:10:59.446150Z");
    assert_eq!(at(4_107_542_399, 999_999), "2100-02-28T23:59:59.999999Z");
    assert_eq!(at(253_402_300_799, 1), "9999-12-31T23:59:59.000001Z");
    assert_eq!(at(253_402_300_800, 0), "10000-01-01T00:00:00.000000Z");
    let before = SystemTime::UNIX_EPOCH - Duration::from_secs(1);
    assert_eq!(
        text(|o| timestamp(o, before)),
        "1970-01-01T00:00:00.000000Z"
    );
}

#[test]
fn cached_seconds_roll_over() {
    // New year's eve: the cached second changes in every field.
    let eve = 1_798_761_599;
    assert_eq!(at(eve, 999_999), "2026-12-31T23:59:59.999999Z");
    assert_eq!(at(eve, 0), "2026-12-31T23:59:59.000000Z");
    assert_eq!(at(eve + 1, 0), "2027-01-01T00:00:00.000000Z");
    assert_eq!(at(eve + 1, 123), "2027-01-01T00:00:00.000123Z");
    assert_eq!(at(eve, 5), "2026-12-31T23:59:59.000005Z");
    assert_eq!(at(253_402_300_800, 0), "10000-01-01T00:00:00.000000Z");
    assert_eq!(at(eve + 1, 1), "2027-01-01T00:00:00.000001Z");
}

#[test]
fn timestamps_match_the_general_form() {
    for secs in samples(5000, 5).map(|x| x % 253_402_300_800) {
        let micros = (secs % 1_000_000) as u32;
        let mut want = Vec::new();
        timestamp_slow(&mut want, secs, micros);
        assert_eq!(at(secs, micros), String::from_utf8(want).unwrap());
        assert_eq!(at(secs, 999_999 - micros).len(), PREFIX + 8);
    }
}
