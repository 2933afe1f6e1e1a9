//! Recognises an upstream error body's format and extracts its human message and code.
//!
//! Pure functions over an already-decoded body (DESIGN §1, "reading the upstream body"). The
//! JSON formats are tried in the table's order and the first that yields a usable message wins;
//! cleaning the message and the leak guard happen later, in the caller. Content types lie (JSON
//! as `text/html`, Express sending plain strings as `text/html`), so the body's own shape decides
//! whenever it is unambiguous.

mod json;
#[cfg(test)]
mod tests;

use crate::code_convert::{is_reason_phrase, status_derived_code};

/// The recognised shape of an upstream error body; also the `format` metric label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Envelope,
    PowerAuth,
    ProblemDetails,
    GoogleApi,
    OAuth2,
    StripeLike,
    JsonApi,
    GraphQl,
    SpringBoot,
    FastApi,
    OtherJson,
    PlainText,
    Html,
    Xml,
    Empty,
    Binary,
    Unrecognized,
}

impl Format {
    /// Every format, so metrics can be described up front.
    pub const ALL: [Format; 17] = [
        Format::Envelope,
        Format::PowerAuth,
        Format::ProblemDetails,
        Format::GoogleApi,
        Format::OAuth2,
        Format::StripeLike,
        Format::JsonApi,
        Format::GraphQl,
        Format::SpringBoot,
        Format::FastApi,
        Format::OtherJson,
        Format::PlainText,
        Format::Html,
        Format::Xml,
        Format::Empty,
        Format::Binary,
        Format::Unrecognized,
    ];

    /// The snake_case metric label.
    pub fn as_str(&self) -> &'static str {
        match self {
            Format::Envelope => "envelope",
            Format::PowerAuth => "powerauth",
            Format::ProblemDetails => "problem_details",
            Format::GoogleApi => "google_api",
            Format::OAuth2 => "oauth2",
            Format::StripeLike => "stripe_like",
            Format::JsonApi => "json_api",
            Format::GraphQl => "graphql",
            Format::SpringBoot => "spring_boot",
            Format::FastApi => "fastapi",
            Format::OtherJson => "other_json",
            Format::PlainText => "plain_text",
            Format::Html => "html",
            Format::Xml => "xml",
            Format::Empty => "empty",
            Format::Binary => "binary",
            Format::Unrecognized => "unrecognized",
        }
    }
}

/// What the body says, before cleaning and the leak guard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extracted {
    /// The best-matching format, even when it yielded no message.
    pub format: Format,
    /// Trimmed, non-empty, and not merely an HTTP reason phrase; `None` → catalog message.
    pub message: Option<String>,
    /// Already converted to `^[A-Z][A-Z0-9_]{0,63}$`; `None` → status-derived code.
    pub code: Option<String>,
    /// The body carries per-field validation errors (a field map or a list of messages), so a
    /// 400 may use `VALIDATION_ERROR`.
    pub validation: bool,
}

impl Extracted {
    fn bare(format: Format) -> Self {
        Extracted {
            format,
            message: None,
            code: None,
            validation: false,
        }
    }

    /// The code to emit before per-route overrides: the upstream's, else `VALIDATION_ERROR` for
    /// a 400 with field errors, else the status-derived one.
    pub fn code_or_derived(&self, status: u16) -> String {
        match &self.code {
            Some(code) => code.clone(),
            None if self.validation && status == 400 => "VALIDATION_ERROR".to_owned(),
            None => status_derived_code(status).to_owned(),
        }
    }
}

/// Longest plain-text body accepted as a message; longer text is a page, not a message.
const MAX_PLAIN_TEXT_CHARS: usize = 1000;
/// Most lines a plain-text message may span; more is a dump (a stack trace, a listing).
const MAX_PLAIN_TEXT_LINES: usize = 5;
/// Characters inspected by the binary sniff, as `file(1)` looks only at the start.
const SNIFF_CHARS: usize = 1024;

/// Recognises the format of an upstream error body and extracts its message and code.
pub fn extract(status: u16, content_type: Option<&str>, body: &str) -> Extracted {
    let media = Media::parse(content_type);
    let body = body.trim_start_matches('\u{feff}').trim();
    if body.is_empty() {
        return Extracted::bare(Format::Empty);
    }
    if looks_binary(body) {
        return Extracted::bare(Format::Binary);
    }
    if let Some(found) = try_json(status, media, body) {
        return found;
    }
    if media == Media::Binary {
        return Extracted::bare(Format::Binary);
    }
    if let Some(markup) = markup_format(media, body) {
        return Extracted::bare(markup);
    }
    plain_text(media, body)
}

/// The declared media type, reduced to what detection cares about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Media {
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
    fn parse(content_type: Option<&str>) -> Media {
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

    fn is_json(self) -> bool {
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
fn looks_binary(body: &str) -> bool {
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

/// Parses the body as JSON when it looks like JSON, whatever the declared type says.
fn try_json(status: u16, media: Media, body: &str) -> Option<Extracted> {
    let first = body.chars().next()?;
    let looks_json = matches!(first, '{' | '[') || (first == '"' && media.is_json());
    if !looks_json {
        return None;
    }
    match serde_json::from_str::<serde_json::Value>(body) {
        Ok(value) => Some(json::extract_value(status, media, &value)),
        // A broken object is a truncated or invalid JSON body; its text is not a message.
        Err(_) if first == '{' || media.is_json() => Some(Extracted::bare(Format::Unrecognized)),
        // "[ERROR] db down" is text that merely starts with a bracket.
        Err(_) => None,
    }
}

/// HTML or XML, by declared type (when the body has markup) or by the body's first tag.
fn markup_format(media: Media, body: &str) -> Option<Format> {
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

/// Short, single-paragraph text is a message; anything else is only recognised.
fn plain_text(media: Media, body: &str) -> Extracted {
    if matches!(media, Media::Other | Media::Binary) {
        return Extracted::bare(Format::Unrecognized);
    }
    let lines = body.lines().count();
    let blank_line = body.lines().any(|line| line.trim().is_empty());
    let short = body.chars().count() <= MAX_PLAIN_TEXT_CHARS;
    let message = (short && lines <= MAX_PLAIN_TEXT_LINES && !blank_line)
        .then_some(body)
        .and_then(|text| usable_message(Some(text)));
    Extracted {
        message,
        ..Extracted::bare(Format::PlainText)
    }
}

/// A message is usable when non-empty after trimming and more than a bare reason phrase
/// (`"Not Found"` says nothing the status does not; the localised catalog message is better).
fn usable_message(text: Option<&str>) -> Option<String> {
    let text = text?.trim();
    (!text.is_empty() && !is_reason_phrase(text)).then(|| text.to_owned())
}
