//! JSON string escaping for the envelope's body.

/// `s` as a JSON string. Runs of bytes that need no escape are found a word at a time and
/// copied whole: the message of every rewritten error goes through here. Escaped: `"`, `\\`,
/// control characters, and U+2028/U+2029 (legal in JSON but not in JavaScript source, for
/// clients that eval or embed the body).
pub(super) fn push_json_string(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    let mut rest = s.as_bytes();
    loop {
        let (clean, tail) = rest.split_at(clean_prefix(rest));
        out.extend_from_slice(clean);
        let Some((&b, after)) = tail.split_first() else {
            break;
        };
        rest = after;
        let escape: &[u8] = match b {
            b'"' => br#"\""#,
            b'\\' => br"\\",
            b'\n' => br"\n",
            b'\r' => br"\r",
            b'\t' => br"\t",
            0x00..=0x1f => {
                let hex = [HEX[usize::from(b >> 4)], HEX[usize::from(b & 0xf)]];
                out.extend_from_slice(br"\u00");
                out.extend_from_slice(&hex);
                continue;
            }
            // U+2028 and U+2029 are E2 80 A8 and E2 80 A9; other E2 sequences are copied.
            _ => match after {
                [0x80, last @ (0xa8 | 0xa9), tail @ ..] => {
                    rest = tail;
                    if *last == 0xa8 {
                        br"\u2028"
                    } else {
                        br"\u2029"
                    }
                }
                _ => &[b],
            },
        };
        out.extend_from_slice(escape);
    }
    out.push(b'"');
}

/// How many leading bytes of `bytes` need no escape: eight at a time while none does (each
/// word tested at once, SWAR), then by table from the first word that has one.
fn clean_prefix(bytes: &[u8]) -> usize {
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    // Nonzero iff some byte of `x` is below `n` (n <= 0x80), resp. is zero.
    let below = |x: u64, n: u8| x.wrapping_sub(ONES * u64::from(n)) & !x & HIGHS;
    let zero = |x: u64| below(x, 1);
    let mut clean = 0;
    for word in bytes.chunks_exact(8) {
        let Ok(word) = <[u8; 8]>::try_from(word) else {
            break;
        };
        let x = u64::from_ne_bytes(word);
        let found = below(x, 0x20)
            | zero(x ^ (ONES * u64::from(b'"')))
            | zero(x ^ (ONES * u64::from(b'\\')))
            | zero(x ^ (ONES * 0xe2));
        if found != 0 {
            break;
        }
        clean += 8;
    }
    let tail = bytes.get(clean..).unwrap_or_default();
    clean
        + tail
            .iter()
            .position(|&b| MAY_NEED_ESCAPE[usize::from(b)])
            .unwrap_or(tail.len())
}

/// `"`, `\`, a control character, or the first byte of U+2028/U+2029 (and of other
/// characters, which are then copied).
static MAY_NEED_ESCAPE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = true;
        b += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table[0xe2] = true;
    table
};

#[cfg(test)]
#[path = "envelope_json_tests.rs"]
mod tests;
