//! Turns an upstream message into the plain text the envelope may carry: entities decoded, HTML
//! tags stripped, control and invisible characters removed, whitespace collapsed — and nothing at
//! all when the result is empty or carries backend internals ([`looks_internal`]).
//!
//! Entities are decoded *before* tags are stripped, so an escaped tag (`&lt;b&gt;`) cannot survive
//! as markup in the envelope, which promises plain text. Length is not limited here: cutting at a
//! word boundary belongs to whoever builds the envelope.

use std::borrow::Cow;

pub use crate::leak::looks_internal;

/// The cleaned message, or `None` when nothing usable remains.
pub fn clean_message(raw: &str) -> Option<String> {
    let decoded = decode_entities(raw);
    let text = collapse(&strip_tags(&decoded));
    // The pre-strip text is checked too: stripping would hide `<anonymous>` or `List<Trip>`.
    let internal = looks_internal(&text) || looks_internal(&collapse(&decoded));
    (!text.is_empty() && !internal).then_some(text)
}

/// Named entities an upstream is likely to use; the rest of HTML's 2,000 are left as written.
const NAMED_ENTITIES: &[(&str, char)] = &[
    ("amp", '&'),
    ("lt", '<'),
    ("gt", '>'),
    ("quot", '"'),
    ("apos", '\''),
    ("nbsp", '\u{a0}'),
    ("aacute", 'á'),
    ("eacute", 'é'),
    ("iacute", 'í'),
    ("oacute", 'ó'),
    ("uacute", 'ú'),
    ("ntilde", 'ñ'),
    ("uuml", 'ü'),
    ("Aacute", 'Á'),
    ("Eacute", 'É'),
    ("Iacute", 'Í'),
    ("Oacute", 'Ó'),
    ("Uacute", 'Ú'),
    ("Ntilde", 'Ñ'),
    ("iexcl", '¡'),
    ("iquest", '¿'),
    ("euro", '€'),
    ("copy", '©'),
    ("reg", '®'),
    ("deg", '°'),
    ("hellip", '…'),
    ("ndash", '–'),
    ("mdash", '—'),
    ("laquo", '«'),
    ("raquo", '»'),
    ("lsquo", '‘'),
    ("rsquo", '’'),
    ("ldquo", '“'),
    ("rdquo", '”'),
];

/// Decodes `&name;`, `&#NNN;` and `&#xHH;`; anything else (no `;`, unknown name) stays literal.
fn decode_entities(s: &str) -> Cow<'_, str> {
    if !s.contains('&') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        match entity(after) {
            Some((c, len)) => {
                out.push(c);
                rest = &after[len..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// The character and byte length (with `;`) of the entity at the start of `s`.
fn entity(s: &str) -> Option<(char, usize)> {
    // The longest entity we know, `#x10FFFF`, is 8 bytes; a `;` further away is not ours.
    let semi = s.bytes().take(10).position(|b| b == b';')?;
    let name = &s[..semi];
    let c = match name.strip_prefix('#') {
        Some(number) => numeric_entity(number)?,
        None => NAMED_ENTITIES.iter().find(|(n, _)| *n == name)?.1,
    };
    Some((c, semi + 1))
}

/// Code points that are not characters (NUL, surrogates, past U+10FFFF) become U+FFFD, as in HTML.
fn numeric_entity(number: &str) -> Option<char> {
    let (digits, radix) = match number.strip_prefix(['x', 'X']) {
        Some(hex) => (hex, 16),
        None => (number, 10),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let code = u32::from_str_radix(digits, radix).ok()?;
    Some(
        char::from_u32(code)
            .filter(|c| *c != '\0')
            .unwrap_or('\u{fffd}'),
    )
}

/// Elements whose content is code, not text: dropped whole.
const RAW_TEXT_ELEMENTS: &[&str] = &["script", "style", "template"];

/// Elements that sit inside a word or sentence: removed without leaving a space.
const INLINE_ELEMENTS: &[&str] = &[
    "a", "abbr", "b", "bdi", "bdo", "code", "em", "font", "i", "kbd", "mark", "q", "s", "samp",
    "small", "span", "strong", "sub", "sup", "u", "var", "wbr",
];

/// Removes tags, comments and script/style content. A `<` that does not open a well-formed tag
/// ("must be < 10", "<3") is text.
fn strip_tags(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    // Past the last `>` no tag can close, so there is no need to try every `<` there.
    let last_gt = s.rfind('>');
    let mut rest = s;
    while let Some(lt) = rest.find('<') {
        out.push_str(&rest[..lt]);
        let markup = &rest[lt..];
        let closable = last_gt.is_some_and(|gt| gt > s.len() - markup.len());
        let parsed = (closable || markup.starts_with("<!--")).then(|| markup_at(markup));
        let Some(Some(Markup { len, name, opening })) = parsed else {
            out.push('<');
            rest = &markup[1..];
            continue;
        };
        let mut skip = len;
        if opening && RAW_TEXT_ELEMENTS.contains(&name.as_str()) {
            skip += raw_text_len(&markup[len..], &name);
        }
        if !INLINE_ELEMENTS.contains(&name.as_str()) {
            out.push(' ');
        }
        rest = &markup[skip..];
    }
    out.push_str(rest);
    out
}

/// A tag, comment, doctype or processing instruction at the start of the remaining text.
struct Markup {
    /// Bytes it spans, `<` to `>`.
    len: usize,
    /// Lower-cased element name; empty for comments and declarations.
    name: String,
    opening: bool,
}

/// The markup opening `s` (which starts with `<`), if well-formed. An unterminated comment runs
/// to the end, as in a browser.
fn markup_at(s: &str) -> Option<Markup> {
    let unnamed = |len| Markup {
        len,
        name: String::new(),
        opening: false,
    };
    if let Some(body) = s.strip_prefix("<!--") {
        return Some(unnamed(body.find("-->").map_or(s.len(), |end| 4 + end + 3)));
    }
    let bytes = s.as_bytes();
    let (opening, name_start) = match bytes.get(1) {
        Some(b'!' | b'?') => return Some(unnamed(tag_end(&s[2..])? + 2)),
        Some(b'/') => (false, 2),
        _ => (true, 1),
    };
    if !bytes.get(name_start).is_some_and(u8::is_ascii_alphabetic) {
        return None;
    }
    let name_end = name_start
        + bytes[name_start..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'-')
            .count();
    // `<support@example.com>` and `<T,U>` are text: a tag name ends at space, `/` or `>`.
    if !matches!(
        bytes.get(name_end),
        Some(b' ' | b'\t' | b'\r' | b'\n' | b'/' | b'>')
    ) {
        return None;
    }
    Some(Markup {
        len: name_end + tag_end(&s[name_end..])?,
        name: s[name_start..name_end].to_ascii_lowercase(),
        opening,
    })
}

/// Longest tag we look for. Past it the `<` is text, which keeps a body full of `<a "` from
/// costing a scan to the end for every `<`.
const MAX_TAG: usize = 2048;

/// Bytes up to and including the `>` that ends a tag, skipping `>` inside quoted attributes.
fn tag_end(s: &str) -> Option<usize> {
    let mut quote = None;
    for (i, b) in s.bytes().take(MAX_TAG).enumerate() {
        match (quote, b) {
            (None, b'>') => return Some(i + 1),
            // A new `<` before the `>`: this one was text ("if a<b then <c>").
            (None, b'<') => return None,
            (None, b'"' | b'\'') => quote = Some(b),
            (Some(q), _) if q == b => quote = None,
            _ => {}
        }
    }
    None
}

/// Bytes of a raw-text element's content and its closing tag; all of `s` when never closed.
fn raw_text_len(s: &str, name: &str) -> usize {
    let closes = |i: &usize| {
        s.get(i + 2..i + 2 + name.len())
            .is_some_and(|n| n.eq_ignore_ascii_case(name))
    };
    match s.match_indices("</").map(|(i, _)| i).find(closes) {
        Some(start) => start + s[start..].find('>').map_or(s.len() - start, |end| end + 1),
        None => s.len(),
    }
}

/// Collapses every run of whitespace (tabs, newlines, NBSP, ideographic space…) to one space,
/// drops control and invisible characters, and trims.
fn collapse(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut gap = false;
    for c in s.chars() {
        if c.is_whitespace() {
            gap = true;
        } else if !is_invisible(c) {
            if gap && !out.is_empty() {
                out.push(' ');
            }
            gap = false;
            out.push(c);
        }
    }
    out
}

/// Control characters, plus format characters that hide or reorder text: zero-width spaces and
/// joiners, bidi overrides (the "Trojan Source" trick), the BOM, soft hyphens.
fn is_invisible(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{ad}'
            | '\u{200b}'..='\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{feff}')
}

#[cfg(test)]
mod tests;
