//! Picks the language of catalog messages from `Accept-Language` (RFC 9110 §12.5.4).
//!
//! Ranges are matched by RFC 4647 "lookup": `es-MX` tries `es-mx`, then `es`. The highest
//! q-value wins and equal q-values keep the client's order; `q=0` means "not this language",
//! also for the fallbacks. The header is client-controlled, so parsing is bounded (at most
//! [`MAX_ENTRIES`] list elements), skips malformed elements instead of failing, and borrows
//! from the header and the catalog instead of allocating.

use crate::catalog::{Catalog, FALLBACK_LANG};

/// List elements looked at; real browsers send fewer than ten, and the cap keeps a hostile
/// header from costing more than a few microseconds.
pub const MAX_ENTRIES: usize = 32;

/// RFC 4647 limits each subtag of a basic range to 8 characters.
const MAX_SUBTAG: usize = 8;

/// A parsed language range; `q` is in thousandths (0..=1000), exact without floats.
#[derive(Debug, Clone, Copy, Default)]
struct Range<'h> {
    tag: &'h str,
    q: u16,
}

/// The catalog language to answer in: the best acceptable one the client asked for, else
/// `default_lang` if the catalog has it, else `en`.
pub fn negotiate<'c>(
    accept_language: Option<&[u8]>,
    catalog: &'c Catalog,
    default_lang: &str,
) -> &'c str {
    let Some(header) = accept_language.filter(|h| !h.is_empty()) else {
        // No preference to parse (API clients often send none).
        return fallback(&[], catalog, default_lang);
    };
    let mut buf = [Range::default(); MAX_ENTRIES];
    let len = parse(header, &mut buf);
    let ranges = &buf[..len];
    best_match(ranges, catalog, default_lang)
        .unwrap_or_else(|| fallback(ranges, catalog, default_lang))
}

fn parse<'h>(header: &'h [u8], out: &mut [Range<'h>; MAX_ENTRIES]) -> usize {
    let mut len = 0;
    for element in header.split(|b| *b == b',').take(MAX_ENTRIES) {
        if let Some(range) = parse_element(element) {
            out[len] = range;
            len += 1;
        }
    }
    len
}

fn parse_element(element: &[u8]) -> Option<Range<'_>> {
    let mut parts = element.split(|b| *b == b';');
    let tag = trim_ows(parts.next()?);
    if !is_language_range(tag) {
        return None;
    }
    let mut q = 1000;
    for param in parts {
        // Only `q` is defined for Accept-Language; other parameters carry no meaning here.
        if let Some((name, value)) = trim_ows(param).split_at_checked(2)
            && name.eq_ignore_ascii_case(b"q=")
        {
            q = parse_qvalue(value)?;
        }
    }
    let tag = std::str::from_utf8(tag).ok()?;
    Some(Range { tag, q })
}

fn trim_ows(bytes: &[u8]) -> &[u8] {
    let is_ows = |b: &u8| *b == b' ' || *b == b'\t';
    let start = bytes.iter().position(|b| !is_ows(b)).unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !is_ows(b))
        .map_or(start, |i| i + 1);
    &bytes[start..end]
}

/// `*` or `1*8ALPHA *("-" 1*8alphanum)`.
fn is_language_range(tag: &[u8]) -> bool {
    if tag == b"*" {
        return true;
    }
    let mut subtags = tag.split(|b| *b == b'-');
    let primary_ok = subtags.next().is_some_and(|s| {
        (1..=MAX_SUBTAG).contains(&s.len()) && s.iter().all(u8::is_ascii_alphabetic)
    });
    primary_ok
        && subtags
            .all(|s| (1..=MAX_SUBTAG).contains(&s.len()) && s.iter().all(u8::is_ascii_alphanumeric))
}

/// `"0" ["." 0*3DIGIT] / "1" ["." 0*3"0"]`, in thousandths.
fn parse_qvalue(value: &[u8]) -> Option<u16> {
    let (int, frac) = match value.split_first()? {
        (b'0', rest) => (0, rest),
        (b'1', rest) => (1000, rest),
        _ => return None,
    };
    let digits = match frac.split_first() {
        None => return Some(int),
        Some((b'.', digits)) if digits.len() <= 3 => digits,
        Some(_) => return None,
    };
    let mut thousandths = 0u16;
    let mut scale = 100;
    for digit in digits {
        if !digit.is_ascii_digit() || (int == 1000 && *digit != b'0') {
            return None;
        }
        thousandths += u16::from(digit - b'0') * scale;
        scale /= 10;
    }
    Some(int + thousandths)
}

/// RFC 4647 §3.3.1 basic filtering: `es` matches `es` and `es-mx`.
fn range_matches(range: &str, lang: &str) -> bool {
    match lang.get(..range.len()) {
        Some(prefix) if prefix.eq_ignore_ascii_case(range) => {
            lang.len() == range.len() || lang.as_bytes().get(range.len()) == Some(&b'-')
        }
        _ => false,
    }
}

fn excluded(ranges: &[Range<'_>], lang: &str) -> bool {
    ranges
        .iter()
        .any(|r| r.q == 0 && range_matches(r.tag, lang))
}

fn best_match<'c>(
    ranges: &[Range<'_>],
    catalog: &'c Catalog,
    default_lang: &str,
) -> Option<&'c str> {
    let mut best: Option<(u16, &'c str)> = None;
    for range in ranges.iter().filter(|r| r.q > 0) {
        // Strictly greater, so among equal q-values the client's first choice stays.
        if best.is_some_and(|(q, _)| q >= range.q) {
            continue;
        }
        let found = if range.tag == "*" {
            wildcard(ranges, catalog, default_lang)
        } else {
            lookup(range.tag, catalog).filter(|lang| !excluded(ranges, lang))
        };
        if let Some(lang) = found {
            best = Some((range.q, lang));
        }
    }
    best.map(|(_, lang)| lang)
}

/// Truncates `es-Latn-MX` → `es-Latn` → `es` until the catalog has the language.
fn lookup<'c>(tag: &str, catalog: &'c Catalog) -> Option<&'c str> {
    let mut candidate = tag;
    loop {
        if let Some(lang) = catalog.language(candidate) {
            return Some(lang);
        }
        candidate = candidate.rsplit_once('-')?.0;
    }
}

/// `*` stands for every language the client did not name, so a named one (whatever its q)
/// is not eligible through it.
fn wildcard<'c>(ranges: &[Range<'_>], catalog: &'c Catalog, default_lang: &str) -> Option<&'c str> {
    let named = |lang: &str| {
        ranges
            .iter()
            .any(|r| r.tag != "*" && range_matches(r.tag, lang))
    };
    let first = [
        catalog.language(default_lang),
        catalog.language(FALLBACK_LANG),
    ];
    first
        .into_iter()
        .flatten()
        .chain(catalog.languages())
        .find(|lang| !named(lang))
}

fn fallback<'c>(ranges: &[Range<'_>], catalog: &'c Catalog, default_lang: &str) -> &'c str {
    let default = catalog.language(default_lang);
    let en = catalog.language(FALLBACK_LANG);
    [default, en]
        .into_iter()
        .flatten()
        .find(|lang| !excluded(ranges, lang))
        // Both refused: an error still needs a message, and the operator's default is the
        // most predictable choice (rather than some third catalog language).
        .or(default)
        .unwrap_or(FALLBACK_LANG)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pick(header: &str, default_lang: &str) -> String {
        pick_bytes(header.as_bytes(), default_lang)
    }

    fn pick_bytes(header: &[u8], default_lang: &str) -> String {
        let mut catalog = Catalog::builtin();
        catalog.add("zh", "NOT_FOUND", "未找到资源".to_owned());
        negotiate(Some(header), &catalog, default_lang).to_owned()
    }

    #[test]
    fn region_falls_back_to_primary() {
        assert_eq!(pick("es-MX,es;q=0.9", "en"), "es");
        assert_eq!(pick("ES-mx", "en"), "es");
        assert_eq!(pick("zh-Hant-TW", "en"), "zh");
        assert_eq!(pick("en-GB, es;q=0.9", "es"), "en");
    }

    #[test]
    fn q_values_rank_and_order_breaks_ties() {
        assert_eq!(pick("fr;q=1, es;q=0.5", "en"), "es");
        assert_eq!(pick("en;q=0.2, es;q=0.8", "en"), "es");
        assert_eq!(pick("en, es", "es"), "en");
        assert_eq!(pick("es, en", "en"), "es");
        assert_eq!(pick("en;q=0.5, es;Q=0.500", "en"), "en");
        assert_eq!(pick("en;q=0.001, es;q=0", "es"), "en");
        assert_eq!(pick("es ; q=0.7 , en;q=0.6", "en"), "es");
    }

    #[test]
    fn wildcard_means_unnamed_languages() {
        assert_eq!(pick("*", "es"), "es");
        assert_eq!(pick("*", "fr"), "en");
        assert_eq!(pick("*, es;q=0.1", "es"), "en");
        assert_eq!(pick("fr, *;q=0.5", "es"), "es");
    }

    #[test]
    fn q_zero_refuses_a_language() {
        assert_eq!(pick("es;q=0", "es"), "en");
        assert_eq!(pick("es;q=0.000, en", "es"), "en");
        assert_eq!(pick("de, es;q=0", "es"), "en");
        assert_eq!(pick("es;q=0, en;q=0", "es"), "es");
        assert_eq!(pick("es-MX, es;q=0", "en"), "en");
    }

    #[test]
    fn falls_back_to_default_then_en() {
        let catalog = Catalog::builtin();
        assert_eq!(negotiate(None, &catalog, "es"), "es");
        assert_eq!(negotiate(None, &catalog, "fr"), "en");
        assert_eq!(negotiate(Some(b""), &catalog, "es"), "es");
        assert_eq!(pick("fr, de;q=0.5", "es"), "es");
        assert_eq!(pick("fr", "ES"), "es");
    }

    #[test]
    fn malformed_elements_are_skipped() {
        for header in [
            "es;q=1.5, en",
            "es;q=0.5000, en;q=0.1",
            "es;q=abc, en;q=0.1",
            "es;q=, en;q=0.1",
            "es;q=1.001, en;q=0.1",
            "e5, es_MX, toolongtag, -es, es-, en;q=0.1",
        ] {
            assert_eq!(pick(header, "es"), "en", "{header}");
        }
        assert_eq!(pick(",,, ;;, en", "es"), "en");
    }

    #[test]
    fn garbage_never_panics() {
        assert_eq!(pick_bytes(b"\xff\xfe,;;;q=,==\x00", "es"), "es");
        assert_eq!(pick_bytes("español, ñ".as_bytes(), "es"), "es");
        let mut rng = fastrand::Rng::with_seed(7);
        let alphabet = b"esnEN-*;q=0.1, \t\xff\xc3";
        for _ in 0..2000 {
            let len = rng.usize(0..40);
            let header: Vec<u8> = (0..len)
                .map(|_| alphabet[rng.usize(..alphabet.len())])
                .collect();
            let lang = pick_bytes(&header, "es");
            assert!(["en", "es", "zh"].contains(&lang.as_str()), "{header:?}");
        }
    }

    #[test]
    fn only_the_first_entries_count() {
        let mut header = "xx, ".repeat(MAX_ENTRIES);
        header.push_str("en");
        assert_eq!(pick(&header, "es"), "es");
        let huge = format!("en;q=0.1, {}", "a".repeat(1 << 20));
        assert_eq!(pick(&huge, "es"), "en");
    }
}
