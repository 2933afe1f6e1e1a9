//! JSON string escaping for the envelope's body.

/// `s` as a JSON string. Runs of bytes that need no escape are copied whole: the message of
/// every rewritten error goes through here, and a push per character was most of the cost of
/// building the envelope. Escaped: `"`, `\\`, control characters, and U+2028/U+2029 (legal in
/// JSON but not in JavaScript source, for clients that eval or embed the body).
pub(super) fn push_json_string(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut run = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => br#"\""#,
            b'\\' => br"\\",
            b'\n' => br"\n",
            b'\r' => br"\r",
            b'\t' => br"\t",
            0x00..=0x1f => br"\u00",
            // U+2028 and U+2029 are E2 80 A8 and E2 80 A9.
            0xe2 if bytes.get(i + 1..i + 3) == Some(&[0x80, 0xa8][..]) => br"\u2028",
            0xe2 if bytes.get(i + 1..i + 3) == Some(&[0x80, 0xa9][..]) => br"\u2029",
            _ => continue,
        };
        out.extend_from_slice(&bytes[run..i]);
        out.extend_from_slice(escape);
        run = i + 1;
        match b {
            0x00..=0x1f if !matches!(b, b'\n' | b'\r' | b'\t') => {
                out.extend_from_slice(&[HEX[usize::from(b >> 4)], HEX[usize::from(b & 0xf)]]);
            }
            // The rest of the line separator's encoding is written by its escape.
            0xe2 => run = i + 3,
            _ => {}
        }
    }
    out.extend_from_slice(&bytes[run.min(bytes.len())..]);
    out.push(b'"');
}

#[cfg(test)]
#[path = "envelope_json_tests.rs"]
mod tests;
