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
        let essence = raw.split_once(';').map_or(raw, |(e, _)| e);
        let essence = essence.trim().to_ascii_lowercase();
        match essence.as_str() {
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

/// NUL bytes, or ≥ 5 % replacement/control characters (what lossy decoding leaves of binary).
pub(super) fn looks_binary(body: &str) -> bool {
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
