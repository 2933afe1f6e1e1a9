//! The envelope for an upstream 4xx/5xx: which code and message the client gets, and why.
//!
//! Pure and synchronous, so the request path and `errgate explain` give the same answer. The
//! order of rules is DESIGN §1: decode the (capped) body, recognise its format, clean the message
//! and reject what looks internal, prefer the catalog for foreign 5xx, then apply the route's
//! own mappings. Anything left without a message gets the catalog's, in the client's language.

use std::borrow::Cow;

use crate::catalog::Catalog;
use crate::clean::clean_message;
use crate::config::{ANY_LANGUAGE, ErrorMapping, Errors, Route};
use crate::decode::decode_body;
use crate::detect::{self, Format};

/// What was read of the upstream's error response.
#[derive(Debug, Clone, Copy)]
pub struct Inspected<'a> {
    pub status: u16,
    pub content_type: Option<&'a str>,
    pub content_encoding: Option<&'a str>,
    /// At most `errors.max_inspect_bytes` of the raw body.
    pub body: &'a [u8],
    /// False when the body was longer than the cap, cut off, or stalled past the deadline.
    pub complete: bool,
}

/// Where the final message came from, for `explain` and logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageFrom {
    Upstream,
    Mapping,
    /// The catalog, with the reason the upstream's message was not used.
    Catalog(&'static str),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeFrom {
    Upstream,
    Validation,
    Status,
    Mapping,
}

/// Borrowed from the configuration and catalog where it can be: a catalog message costs no
/// copy on the error path.
#[derive(Debug, Clone)]
pub struct Decision<'a> {
    pub code: Cow<'static, str>,
    pub message: Cow<'a, str>,
    pub format: Format,
    /// Set when errgate chose the language (catalog or mapping), not the upstream.
    pub content_language: Option<&'a str>,
    pub message_from: MessageFrom,
    pub code_from: CodeFrom,
}

/// Decides the envelope for one upstream error response.
pub fn decide<'a>(
    insp: &Inspected<'_>,
    route: &'a Route,
    errors: &'a Errors,
    catalog: &'a Catalog,
    lang: &str,
) -> Decision<'a> {
    let (format, upstream_code, validation, message) = read_body(insp, errors);
    let (mut code, mut code_from) = first_code(upstream_code.as_deref(), validation, insp.status);
    let mut message: Result<(Cow<'a, str>, Option<&'a str>), &'static str> =
        message.map(|m| (Cow::Owned(m), None));
    let mapping = route
        .errors
        .iter()
        .find(|m| mapping_matches(m, insp.status, upstream_code.as_deref()));
    let mut from_mapping = false;
    if let Some(m) = mapping {
        if let Some(error) = &m.error {
            code = Cow::Owned(error.clone());
            code_from = CodeFrom::Mapping;
        }
        if let Some((text, text_lang)) = mapping_message(m, lang, &errors.default_locale) {
            message = Ok((Cow::Borrowed(text), text_lang));
            from_mapping = true;
        }
    }
    let (message, content_language, message_from) = match message {
        Ok((text, text_lang)) if from_mapping => (text, text_lang, MessageFrom::Mapping),
        Ok((text, _)) => (text, None, MessageFrom::Upstream),
        Err(why) => {
            let found = catalog.message(&code, insp.status, lang, &errors.default_locale);
            let text = Cow::Borrowed(found.text);
            (text, Some(found.lang), MessageFrom::Catalog(why))
        }
    };
    Decision {
        code,
        message,
        format,
        content_language,
        message_from,
        code_from,
    }
}

/// The code before the route's mappings: the upstream's own, a validation failure's, or the
/// status's.
fn first_code(
    upstream: Option<&str>,
    validation: bool,
    status: u16,
) -> (Cow<'static, str>, CodeFrom) {
    match (upstream, validation && status == 400) {
        (Some(code), _) => (Cow::Owned(code.to_owned()), CodeFrom::Upstream),
        (None, true) => (Cow::Borrowed("VALIDATION_ERROR"), CodeFrom::Validation),
        (None, false) => (
            Cow::Borrowed(crate::codes::status_code(status)),
            CodeFrom::Status,
        ),
    }
}

/// Format, upstream code, validation flag, and the usable message or why there is none.
fn read_body(
    insp: &Inspected<'_>,
    errors: &Errors,
) -> (Format, Option<String>, bool, Result<String, &'static str>) {
    let decoded = decode_body(
        insp.body,
        insp.content_encoding,
        insp.content_type,
        errors.max_inspect_bytes,
    );
    if decoded.encoding_failed {
        return (
            Format::Unrecognized,
            None,
            false,
            Err("body encoding could not be decoded"),
        );
    }
    let ext = detect::extract(insp.status, insp.content_type, &decoded.text);
    let foreign_5xx = insp.status >= 500
        && ext.format != Format::Envelope
        && !errors.expose_upstream_5xx_messages;
    let message = match ext.message.as_deref() {
        _ if !insp.complete || decoded.truncated => {
            Err("body was truncated, over the inspection cap, or stalled")
        }
        None => Err("no usable message in the body"),
        Some(_) if foreign_5xx => Err("a 5xx in a foreign format (backends leak internals on 5xx)"),
        Some(raw) => clean_message(raw).ok_or("message looked internal or was empty once cleaned"),
    };
    (ext.format, ext.code, ext.validation, message)
}

fn mapping_matches(m: &ErrorMapping, status: u16, upstream_code: Option<&str>) -> bool {
    let status_ok = m.status.is_none_or(|s| s == status);
    let code_ok = match (&m.upstream_error, upstream_code) {
        (None, _) => true,
        (Some(want), Some(got)) => want == got,
        (Some(_), None) => false,
    };
    status_ok && code_ok
}

/// The mapping's message in the client's language, else the default, else any-language text,
/// else English; with the language it is written in (`None` for any-language text).
fn mapping_message<'m>(
    m: &'m ErrorMapping,
    lang: &str,
    default: &str,
) -> Option<(&'m str, Option<&'m str>)> {
    let primary = lang.split_once('-').map_or(lang, |(p, _)| p);
    for want in [lang, primary, default] {
        if let Some((k, v)) = m.message.get_key_value(want) {
            return Some((v, Some(k)));
        }
    }
    if let Some(v) = m.message.get(ANY_LANGUAGE) {
        return Some((v, None));
    }
    m.message
        .get_key_value("en")
        .or_else(|| m.message.iter().next())
        .map(|(k, v)| (v.as_str(), Some(k.as_str())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config_file::from_toml_str;

    const BASE: &str = "[upstreams.u]\nendpoints = [\"http://127.0.0.1:1\"]\n[[routes]]\nname = \"r\"\npath_prefix = \"/\"\nupstream = \"u\"\n";

    /// The decision's code, message and the message's source (the decision borrows `cfg`).
    struct Decided {
        code: String,
        message: String,
        message_from: MessageFrom,
    }

    fn decide_with(extra: &str, status: u16, body: &str) -> Decided {
        let cfg = from_toml_str(&format!("{extra}\n{BASE}")).unwrap();
        let insp = Inspected {
            status,
            content_type: Some("application/json"),
            content_encoding: None,
            body: body.as_bytes(),
            complete: true,
        };
        let catalog = Catalog::builtin();
        let d = decide(&insp, &cfg.routes[0], &cfg.errors, &catalog, "en");
        Decided {
            code: d.code.into_owned(),
            message: d.message.into_owned(),
            message_from: d.message_from,
        }
    }

    #[test]
    fn foreign_5xx_messages_use_the_catalog_unless_exposed() {
        let body = r#"{"message":"Payment provider down"}"#;
        let hidden = decide_with("", 503, body);
        assert!(matches!(hidden.message_from, MessageFrom::Catalog(_)));
        let exposed = decide_with("[errors]\nexpose_upstream_5xx_messages = true", 503, body);
        assert_eq!(exposed.message, "Payment provider down");
    }

    #[test]
    fn an_envelope_5xx_is_trusted_but_cleaned() {
        let body = r#"{"success":false,"message":"<b>Pagos</b>   no disponibles","error":"PAYMENTS_DOWN"}"#;
        let d = decide_with("", 503, body);
        assert_eq!(
            (d.code.as_str(), d.message.as_str()),
            ("PAYMENTS_DOWN", "Pagos no disponibles")
        );
        assert_eq!(d.message_from, MessageFrom::Upstream);
    }

    #[test]
    fn mappings_match_by_upstream_code() {
        let route = "[[routes.errors]]\nupstream_error = \"CARD_DECLINED\"\nerror = \"PAYMENT_DECLINED\"\nmessage = \"Tu tarjeta fue rechazada\"";
        let cfg = from_toml_str(&format!("{BASE}{route}")).unwrap();
        let body = br#"{"error":{"type":"card_error","code":"card_declined","message":"Your card was declined."}}"#;
        let insp = Inspected {
            status: 402,
            content_type: Some("application/json"),
            content_encoding: None,
            body,
            complete: true,
        };
        let catalog = Catalog::builtin();
        let d = decide(&insp, &cfg.routes[0], &cfg.errors, &catalog, "es");
        assert_eq!(d.code, "PAYMENT_DECLINED");
        assert_eq!(d.message, "Tu tarjeta fue rechazada");
        assert_eq!(
            d.content_language, None,
            "an any-language message names no language"
        );
        let other = Inspected {
            body: br#"{"error":{"code":"expired_card","message":"Expired."}}"#,
            ..insp
        };
        let d = decide(&other, &cfg.routes[0], &cfg.errors, &catalog, "es");
        assert_eq!(d.code, "EXPIRED_CARD");
    }

    #[test]
    fn a_truncated_body_never_yields_its_message() {
        let cfg = from_toml_str(BASE).unwrap();
        let insp = Inspected {
            status: 400,
            content_type: Some("text/plain"),
            content_encoding: None,
            body: b"Seat already taken",
            complete: false,
        };
        let catalog = Catalog::builtin();
        let d = decide(&insp, &cfg.routes[0], &cfg.errors, &catalog, "en");
        assert_eq!(d.code, "BAD_REQUEST");
        assert!(matches!(d.message_from, MessageFrom::Catalog(_)));
        // Status code and catalog message are borrowed, not copied, on every rewrite.
        assert!(matches!(
            (&d.code, &d.message, d.content_language),
            (Cow::Borrowed(_), Cow::Borrowed(_), Some("en"))
        ));
    }
}
