//! `push_json_string` against the definition it implements, one `char` at a time.

use super::push_json_string;

fn by_chars(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    let mut utf8 = [0u8; 4];
    for c in s.chars() {
        match c {
            '"' => out.extend_from_slice(br#"\""#),
            '\\' => out.extend_from_slice(br"\\"),
            '\n' => out.extend_from_slice(br"\n"),
            '\r' => out.extend_from_slice(br"\r"),
            '\t' => out.extend_from_slice(br"\t"),
            '\u{2028}' => out.extend_from_slice(br"\u2028"),
            '\u{2029}' => out.extend_from_slice(br"\u2029"),
            c if c < ' ' => {
                let b = c as usize;
                out.extend_from_slice(br"\u00");
                out.extend_from_slice(&[HEX[b >> 4], HEX[b & 0xf]]);
            }
            c => out.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes()),
        }
    }
    out.push(b'"');
}

#[test]
fn run_copying_agrees_with_the_char_definition() {
    let pieces = [
        "a",
        "\"",
        "\\",
        "\n",
        "\r",
        "\t",
        "\u{0}",
        "\u{1}",
        "\u{1f}",
        "\u{7f}",
        " ",
        "é",
        "€",
        "😀",
        "\u{2028}",
        "\u{2029}",
        "\u{2027}",
        "\u{202a}",
        "\u{20ac}",
        "</script>",
        "",
    ];
    let mut checked = 0;
    for a in pieces {
        for b in pieces {
            for c in pieces {
                for s in [
                    format!("{a}{b}{c}"),
                    format!("{a}xy{b}{c}z"),
                    a.repeat(3) + b + c,
                    // Across and after the 8-byte words the fast path checks at once.
                    format!("{}{a}{b}{c}", "p".repeat(15)),
                    format!("{}{a}{b}{c}", "p".repeat(16)),
                    format!("{}{a}{}{b}{c}", "p".repeat(31), "q".repeat(17)),
                ] {
                    let (mut fast, mut reference) = (Vec::new(), Vec::new());
                    push_json_string(&mut fast, &s);
                    by_chars(&mut reference, &s);
                    assert_eq!(fast, reference, "{s:?}");
                    // And it is JSON that reads back as the string.
                    let back: String = serde_json::from_slice(&fast).unwrap();
                    assert_eq!(back, s);
                    checked += 1;
                }
            }
        }
    }
    assert_eq!(checked, 21 * 21 * 21 * 6);
}
