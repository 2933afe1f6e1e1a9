//! Sniffing what a body is before parsing it: the declared media type, binary content, and
//! HTML/XML markup.

use super::Format;

/// Characters inspected by the binary sniff, as `file(1)` looks only at the start.
const SNIFF_CHARS: usize = 1024;

/// The declared media type, reduced to what detection cares about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Media {
    Absent,
    Json,
    Problem,
    JsonApi,
    Html,
    Xml,
    Text,
    Binary,
    Other,
}

impl Media {
    pub(super) fn parse(content_type: Option<&str>) -> Media {
        let Some(raw) = content_type else {
            return Media::Absent;
        };
        // Lower-cased into a copy only when it has capitals (servers send "text/html").
        let essence = crate::decode::media_type(raw);
        match &*essence {
            "" => Media::Absent,
            "application/problem+json" => Media::Problem,
            "application/vnd.api+json" => Media::JsonApi,
            "application/json" | "text/json" | "text/x-json" | "application/x-json" => Media::Json,
            "text/html" | "application/xhtml+xml" => Media::Html,
            "application/xml" | "text/xml" => Media::Xml,
            e if e.ends_with("+json") => Media::Json,
            e if e.ends_with("+xml") => Media::Xml,
            e if e.starts_with("text/") => Media::Text,
            e if is_binary_media(e) => Media::Binary,
            _ => Media::Other,
        }
    }

    pub(super) fn is_json(self) -> bool {
        matches!(self, Media::Json | Media::Problem | Media::JsonApi)
    }
}

fn is_binary_media(essence: &str) -> bool {
    const PREFIXES: [&str; 5] = ["image/", "audio/", "video/", "font/", "application/grpc"];
    const EXACT: [&str; 8] = [
        "application/octet-stream",
        "application/pdf",
        "application/zip",
        "application/gzip",
        "application/x-gzip",
        "application/protobuf",
        "application/x-protobuf",
        "application/msgpack",
    ];
    PREFIXES.iter().any(|p| essence.starts_with(p)) || EXACT.contains(&essence)
}

/// NUL bytes, or ≥ 5 % replacement/control characters (what lossy decoding leaves of binary),
/// among the first [`SNIFF_CHARS`] characters.
///
/// Counted over bytes, in passes the compiler vectorizes, rather than by decoding each `char`:
/// this runs on every rewritten error body. In UTF-8 the characters that count are single
/// bytes (C0 controls, DEL), `C2 80`–`C2 9F` (C1 controls) and `EF BF BD` (U+FFFD).
pub(super) fn looks_binary(body: &str) -> bool {
    // Fewer bytes than SNIFF_CHARS means fewer characters too: the whole body is the window.
    let window = if body.len() > SNIFF_CHARS {
        body.char_indices()
            .nth(SNIFF_CHARS)
            .map_or(body, |(end, _)| &body[..end])
    } else {
        body
    };
    let bytes = window.as_bytes();
    // Counted per 128 bytes in a `u8` (it cannot overflow), so that 16 bytes go per vector
    // operation instead of a `usize` per byte. NUL counts as a control here; whether one is
    // there is only asked of a body that has controls at all (text rarely does).
    let mut bad: usize = bytes
        .chunks(128)
        .map(|chunk| {
            let n = chunk
                .iter()
                .fold(0u8, |n, &b| n + u8::from(is_c0_control(b)));
            usize::from(n)
        })
        .sum();
    if bad > 0 && bytes.contains(&0) {
        return true;
    }
    let total = if window.is_ascii() {
        bytes.len()
    } else {
        let c1 = bytes
            .windows(2)
            .filter(|pair| pair[0] == 0xc2 && (0x80..=0x9f).contains(&pair[1]))
            .count();
        bad += c1 + window.matches('\u{fffd}').count();
        window.chars().count()
    };
    bad > 0 && bad * 20 >= total
}

/// A C0 control (NUL included) or DEL, other than the whitespace ones text uses.
/// Without branches (`&`, `|` on `bool`), so that the count over a body vectorizes.
fn is_c0_control(b: u8) -> bool {
    let whitespace = (b == b'\t') | (b == b'\n') | (b == b'\r') | (b == 0x0c);
    ((b < 0x20) & !whitespace) | (b == 0x7f)
}

/// HTML or XML, by declared type (when the body has markup) or by the body's first tag.
pub(super) fn markup_format(media: Media, body: &str) -> Option<Format> {
    // Express's `res.send("User not found")` declares text/html for a plain string.
    let has_markup = body.contains('<');
    match media {
        Media::Html if has_markup => return Some(Format::Html),
        Media::Xml if has_markup => return Some(Format::Xml),
        _ => {}
    }
    if !body.starts_with('<') {
        return None;
    }
    let head: String = body.chars().take(512).collect::<String>().to_lowercase();
    if head.starts_with("<?xml") {
        let xhtml = head.contains("<html") || head.contains("<!doctype html");
        return Some(if xhtml { Format::Html } else { Format::Xml });
    }
    Some(if starts_with_html_tag(&head) {
        Format::Html
    } else {
        Format::Xml
    })
}

/// Whether lowercase `head` opens with a tag that only HTML uses at the top of a page.
fn starts_with_html_tag(head: &str) -> bool {
    const TAGS: [&str; 20] = [
        "<!doctype html",
        "<html",
        "<head",
        "<body",
        "<title",
        "<meta",
        "<!--",
        "<p>",
        "<p ",
        "<div",
        "<pre",
        "<center",
        "<hr",
        "<br",
        "<style",
        "<script",
        "<table",
        "<span",
        "<b>",
        "<strong",
    ];
    let heading = head
        .strip_prefix("<h")
        .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()));
    heading || TAGS.iter().any(|tag| head.starts_with(tag))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition `looks_binary` implements, one `char` at a time.
    fn by_chars(body: &str) -> bool {
        let mut total = 0usize;
        let mut bad = 0usize;
        for c in body.chars().take(SNIFF_CHARS) {
            if c == '\0' {
                return true;
            }
            total += 1;
            if c == '\u{fffd}' || (c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\x0c')) {
                bad += 1;
            }
        }
        bad > 0 && bad * 20 >= total
    }

    #[test]
    fn byte_reading_agrees_with_the_char_definition() {
        let pieces = [
            "a", "é", "€", "😀", "\u{fffd}", "\u{85}", "\u{9f}", "\u{a0}", "\u{7f}", "\u{1}", "\t",
            "\n", "\r", "\x0c", "\u{1b}", "\u{ffff}", "\u{feff}", " ", "<p>", "\0",
        ];
        let mut cases = vec![String::new()];
        // Every pair of pieces, repeated to different lengths and with a tail of each piece, so
        // that the 5 % threshold and the SNIFF_CHARS cut are crossed from both sides.
        for a in pieces {
            for b in pieces {
                for n in [1, 3, 19, 20, 21, 400, 1023, 1024, 1025, 2000] {
                    let mut body = a.repeat(n);
                    body.push_str(&b.repeat(n / 19 + 1));
                    cases.push(body);
                    cases.push(format!("{}{}", b, a.repeat(n)));
                }
            }
        }
        cases.push(format!("{}\0", "a".repeat(SNIFF_CHARS - 1)));
        cases.push(format!("{}\0", "a".repeat(SNIFF_CHARS)));
        cases.push(format!(
            "{}{}",
            "é".repeat(SNIFF_CHARS),
            "\u{1}".repeat(100)
        ));
        let mut binary = 0;
        for body in &cases {
            assert_eq!(looks_binary(body), by_chars(body), "{body:?}");
            binary += usize::from(by_chars(body));
        }
        // The cases cover both answers, many times over.
        assert!(
            binary > 100 && cases.len() - binary > 100,
            "{binary} of {}",
            cases.len()
        );
    }
}
