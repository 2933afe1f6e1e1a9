//! Error codes: upstream values → `^[A-Z][A-Z0-9_]{0,63}$`, gRPC names, status-derived codes.
//!
//! Upstream codes arrive in every casing (`invalid_grant`, `NotFound`, `out-of-credit`) and are
//! often not codes at all: HTTP reason phrases (`"Not Found"`), numbers, or whole sentences.
//! Those would be unstable or meaningless to a client, so they become `None` and the caller falls
//! back to the status-derived code (DESIGN §1).

pub use crate::codes::{MAX_CODE_LEN, is_valid_code, status_code as status_derived_code};

/// Converts an upstream code to UPPER_SNAKE, or `None` when it is not a usable code
/// (empty, numeric, an HTTP reason phrase, a sentence, or not starting with a letter).
pub fn convert_code(raw: &str) -> Option<String> {
    let raw = raw.trim();
    if raw.is_empty() || raw.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    if is_valid_code(raw) {
        return Some(raw.to_owned());
    }
    // Non-ASCII letters mean human text in some language; transliterating would garble it.
    if is_reason_phrase(raw) || looks_like_sentence(raw) || !raw.is_ascii() {
        return None;
    }
    let snake = upper_snake(raw);
    let snake = snake.trim_matches('_');
    // Dropping leading digits would change the meaning (`2fa_required`), so such codes are refused.
    if !snake.starts_with(|c: char| c.is_ascii_uppercase()) {
        return None;
    }
    // `snake` is ASCII, so byte truncation cannot split a character.
    let capped = snake[..snake.len().min(MAX_CODE_LEN)].trim_end_matches('_');
    is_valid_code(capped).then(|| capped.to_owned())
}

/// Splits on camelCase humps and on any non-alphanumeric character, joining words with `_`.
fn upper_snake(raw: &str) -> String {
    let chars: Vec<char> = raw.chars().collect();
    let mut out = String::with_capacity(raw.len() + 8);
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_ascii_alphanumeric() {
            push_separator(&mut out);
            continue;
        }
        if c.is_ascii_uppercase() && i > 0 {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(char::is_ascii_lowercase);
            // `userNotFound`, `error404Gone`, and the end of an acronym as in `HTTPError`.
            if prev.is_ascii_lowercase()
                || prev.is_ascii_digit()
                || (prev.is_ascii_uppercase() && next_lower)
            {
                push_separator(&mut out);
            }
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

fn push_separator(out: &mut String) {
    if !out.is_empty() && !out.ends_with('_') {
        out.push('_');
    }
}

/// More than four words, or a phrase ending like a sentence, is prose rather than a code.
fn looks_like_sentence(raw: &str) -> bool {
    let words = raw.split_whitespace().count();
    words > 4 || (words > 1 && raw.ends_with(['.', '!', '?']))
}

/// Reason phrases of the 4xx/5xx statuses (RFC 9110 and common older spellings), lowercase.
const REASON_PHRASES: &[&str] = &[
    "bad request",
    "unauthorized",
    "payment required",
    "forbidden",
    "not found",
    "method not allowed",
    "not acceptable",
    "proxy authentication required",
    "request timeout",
    "conflict",
    "gone",
    "length required",
    "precondition failed",
    "payload too large",
    "request entity too large",
    "content too large",
    "uri too long",
    "request-uri too long",
    "unsupported media type",
    "range not satisfiable",
    "requested range not satisfiable",
    "expectation failed",
    "i'm a teapot",
    "misdirected request",
    "unprocessable entity",
    "unprocessable content",
    "locked",
    "failed dependency",
    "too early",
    "upgrade required",
    "precondition required",
    "too many requests",
    "request header fields too large",
    "unavailable for legal reasons",
    "internal server error",
    "not implemented",
    "bad gateway",
    "service unavailable",
    "gateway timeout",
    "http version not supported",
    "variant also negotiates",
    "insufficient storage",
    "loop detected",
    "not extended",
    "network authentication required",
];

/// Whether `text` is only an HTTP reason phrase (`"Not Found"`, `"404 Not Found"`,
/// `"INTERNAL SERVER ERROR"`): human text that says nothing the status does not.
pub fn is_reason_phrase(text: &str) -> bool {
    let text = text.trim().trim_end_matches(['.', '!']);
    // nginx and status lines prefix the number: "404 Not Found".
    let text = text.trim_start_matches(|c: char| c.is_ascii_digit()).trim();
    if text.len() > 40 {
        return false;
    }
    // `_` and `-` are left alone: `not_found` and `not-found` are codes, not phrases.
    let normalized = text.to_lowercase().replace('\u{2019}', "'");
    let normalized = normalized.split_whitespace().collect::<Vec<_>>().join(" ");
    REASON_PHRASES.contains(&normalized.as_str())
}

/// Canonical gRPC status name for codes 1..=16; 0 (`OK`) is not an error and anything else
/// (such as an HTTP status in the same field) is not a gRPC code.
pub fn grpc_code_name(code: i64) -> Option<&'static str> {
    const NAMES: [&str; 16] = [
        "CANCELLED",
        "UNKNOWN",
        "INVALID_ARGUMENT",
        "DEADLINE_EXCEEDED",
        "NOT_FOUND",
        "ALREADY_EXISTS",
        "PERMISSION_DENIED",
        "RESOURCE_EXHAUSTED",
        "FAILED_PRECONDITION",
        "ABORTED",
        "OUT_OF_RANGE",
        "UNIMPLEMENTED",
        "INTERNAL",
        "UNAVAILABLE",
        "DATA_LOSS",
        "UNAUTHENTICATED",
    ];
    let index = usize::try_from(code.checked_sub(1)?).ok()?;
    NAMES.get(index).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_common_casings() {
        let cases = [
            ("invalid_grant", "INVALID_GRANT"),
            ("NotFound", "NOT_FOUND"),
            ("out-of-credit", "OUT_OF_CREDIT"),
            ("userNotFound", "USER_NOT_FOUND"),
            ("HTTPError", "HTTP_ERROR"),
            ("card_declined", "CARD_DECLINED"),
            ("validation-failed", "VALIDATION_FAILED"),
            ("auth.token.expired", "AUTH_TOKEN_EXPIRED"),
            ("errors/rate limit", "ERRORS_RATE_LIMIT"),
            ("__weird--code__", "WEIRD_CODE"),
            ("E1001", "E1001"),
            ("ERR_AUTHENTICATION", "ERR_AUTHENTICATION"),
            ("error404NotFound", "ERROR404_NOT_FOUND"),
            ("  spaced  ", "SPACED"),
            ("NOT_FOUND", "NOT_FOUND"),
            ("not_found", "NOT_FOUND"),
            ("not-found", "NOT_FOUND"),
        ];
        for (raw, want) in cases {
            assert_eq!(convert_code(raw).as_deref(), Some(want), "{raw}");
        }
    }

    #[test]
    fn rejects_non_codes() {
        let rejected = [
            "",
            "   ",
            "404",
            "0042",
            "2fa_required",
            "Not Found",
            "not found",
            "Bad Request",
            "INTERNAL SERVER ERROR",
            "Internal Server Error",
            "Unauthorized",
            "404 Not Found",
            "Request-URI Too Long",
            "I\u{2019}m a teapot",
            "The user could not be found in the directory",
            "Access denied.",
            "___",
            "日本語",
            "Ünïcode_key",
        ];
        for raw in rejected {
            assert_eq!(convert_code(raw), None, "{raw:?}");
        }
    }

    #[test]
    fn caps_length_and_keeps_pattern() {
        let long = "a_".repeat(100);
        let code = convert_code(&long).unwrap_or_default();
        assert!(is_valid_code(&code), "{code}");
        assert!(code.len() <= MAX_CODE_LEN);
        assert!(!code.ends_with('_'));
    }

    #[test]
    fn grpc_names_only_for_one_to_sixteen() {
        assert_eq!(grpc_code_name(5), Some("NOT_FOUND"));
        assert_eq!(grpc_code_name(1), Some("CANCELLED"));
        assert_eq!(grpc_code_name(16), Some("UNAUTHENTICATED"));
        for not_grpc in [0, 17, 404, -1, i64::MIN, i64::MAX] {
            assert_eq!(grpc_code_name(not_grpc), None, "{not_grpc}");
        }
    }

    #[test]
    fn status_derived_table() {
        assert_eq!(status_derived_code(422), "VALIDATION_ERROR");
        assert_eq!(status_derived_code(500), "INTERNAL_ERROR");
        assert_eq!(status_derived_code(418), "CLIENT_ERROR");
        assert_eq!(status_derived_code(599), "SERVER_ERROR");
    }
}
