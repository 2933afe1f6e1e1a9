//! Recognises an upstream error body's format and extracts its human message and code.
//!
//! Pure functions over an already-decoded body (DESIGN §1, "reading the upstream body"). The
//! JSON formats are tried in the table's order and the first that yields a usable message wins;
//! cleaning the message and the leak guard happen later, in the caller. Content types lie (JSON
//! as `text/html`, Express sending plain strings as `text/html`), so the body's own shape decides
//! whenever it is unambiguous.
//!
//! `sniff` reads the declared type and spots binary, HTML and XML; `json` holds one reader per
//! JSON format, with the framework defaults and the catch-all in `json::fields`.

mod json;
mod sniff;
#[cfg(test)]
mod tests;

use crate::code_convert::{is_reason_phrase, status_derived_code};
use sniff::{Media, looks_binary, markup_format};

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
            Format::PowerAuth => "power_auth",
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

/// Parses the body as JSON when it looks like JSON, whatever the declared type says.
fn try_json(status: u16, media: Media, body: &str) -> Option<Extracted> {
    let first = body.chars().next()?;
    if !matches!(first, '{' | '[') && !media.is_json() {
        return None;
    }
    match serde_json::from_str::<serde_json::Value>(body) {
        Ok(value) => Some(json::extract_value(status, media, &value)),
        // A broken object or declared array is truncated or invalid JSON: not a message.
        Err(_) if first == '{' || (first == '[' && media.is_json()) => {
            Some(Extracted::bare(Format::Unrecognized))
        }
        // "[ERROR] db down" is text that merely starts with a bracket, and JSON-labelled
        // plain text is still plain text.
        Err(_) => None,
    }
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
/// Framework placeholders (Spring's "No message available", JavaScript's stringified nothing)
/// are not messages either.
fn usable_message(text: Option<&str>) -> Option<String> {
    const PLACEHOLDERS: [&str; 5] = [
        "no message available",
        "null",
        "undefined",
        "[object object]",
        "none",
    ];
    let text = text?.trim();
    let placeholder = PLACEHOLDERS.iter().any(|p| text.eq_ignore_ascii_case(p));
    (!text.is_empty() && !placeholder && !is_reason_phrase(text)).then(|| text.to_owned())
}
