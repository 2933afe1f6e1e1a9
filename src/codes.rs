//! The machine codes errgate emits in `error`: its own failures and the status-derived fallbacks.
//!
//! Status-derived codes are the reason phrase in UPPER_SNAKE (so a client can guess the code
//! from the status) with three friendlier names: `VALIDATION_ERROR` (422), `INTERNAL_ERROR`
//! (500) and the catch-alls `CLIENT_ERROR` / `SERVER_ERROR` for statuses without a named code.

// Codes errgate uses for its own failures (DESIGN §2); some double as status-derived codes.
pub const ROUTE_NOT_FOUND: &str = "ROUTE_NOT_FOUND";
pub const UPSTREAM_UNAVAILABLE: &str = "UPSTREAM_UNAVAILABLE";
pub const UPSTREAM_TIMEOUT: &str = "UPSTREAM_TIMEOUT";
pub const OVERLOADED: &str = "OVERLOADED";

// Status-derived codes (DESIGN §1).
pub const BAD_REQUEST: &str = "BAD_REQUEST";
pub const UNAUTHORIZED: &str = "UNAUTHORIZED";
pub const PAYMENT_REQUIRED: &str = "PAYMENT_REQUIRED";
pub const FORBIDDEN: &str = "FORBIDDEN";
pub const NOT_FOUND: &str = "NOT_FOUND";
pub const METHOD_NOT_ALLOWED: &str = "METHOD_NOT_ALLOWED";
pub const NOT_ACCEPTABLE: &str = "NOT_ACCEPTABLE";
pub const REQUEST_TIMEOUT: &str = "REQUEST_TIMEOUT";
pub const CONFLICT: &str = "CONFLICT";
pub const GONE: &str = "GONE";
pub const PAYLOAD_TOO_LARGE: &str = "PAYLOAD_TOO_LARGE";
pub const UNSUPPORTED_MEDIA_TYPE: &str = "UNSUPPORTED_MEDIA_TYPE";
pub const VALIDATION_ERROR: &str = "VALIDATION_ERROR";
pub const TOO_MANY_REQUESTS: &str = "TOO_MANY_REQUESTS";
pub const CLIENT_ERROR: &str = "CLIENT_ERROR";
pub const INTERNAL_ERROR: &str = "INTERNAL_ERROR";
pub const NOT_IMPLEMENTED: &str = "NOT_IMPLEMENTED";
pub const BAD_GATEWAY: &str = "BAD_GATEWAY";
pub const SERVICE_UNAVAILABLE: &str = "SERVICE_UNAVAILABLE";
pub const GATEWAY_TIMEOUT: &str = "GATEWAY_TIMEOUT";
pub const SERVER_ERROR: &str = "SERVER_ERROR";

/// The code for a status that is neither 4xx nor 5xx. Only 4xx/5xx are rewritten, so this
/// appears only if a caller envelopes an odd status (e.g. an upstream's non-standard 6xx);
/// it still needs a valid code and a catalog message rather than a panic.
pub const UPSTREAM_ERROR: &str = "UPSTREAM_ERROR";

/// Every code errgate can emit on its own; the catalog must have `en` and `es` for each.
pub const ALL: &[&str] = &[
    ROUTE_NOT_FOUND,
    UPSTREAM_UNAVAILABLE,
    UPSTREAM_TIMEOUT,
    OVERLOADED,
    BAD_REQUEST,
    UNAUTHORIZED,
    PAYMENT_REQUIRED,
    FORBIDDEN,
    NOT_FOUND,
    METHOD_NOT_ALLOWED,
    NOT_ACCEPTABLE,
    REQUEST_TIMEOUT,
    CONFLICT,
    GONE,
    PAYLOAD_TOO_LARGE,
    UNSUPPORTED_MEDIA_TYPE,
    VALIDATION_ERROR,
    TOO_MANY_REQUESTS,
    CLIENT_ERROR,
    INTERNAL_ERROR,
    NOT_IMPLEMENTED,
    BAD_GATEWAY,
    SERVICE_UNAVAILABLE,
    GATEWAY_TIMEOUT,
    SERVER_ERROR,
    UPSTREAM_ERROR,
];

/// Longest code the contract allows (`^[A-Z][A-Z0-9_]{0,63}$`).
pub const MAX_CODE_LEN: usize = 64;

/// The code used when the upstream supplies none (DESIGN §1 "Status-derived codes").
pub fn status_code(status: u16) -> &'static str {
    match status {
        400..=499 => client_code(status),
        500..=599 => server_code(status),
        _ => UPSTREAM_ERROR,
    }
}

fn client_code(status: u16) -> &'static str {
    match status {
        400 => BAD_REQUEST,
        401 => UNAUTHORIZED,
        402 => PAYMENT_REQUIRED,
        403 => FORBIDDEN,
        404 => NOT_FOUND,
        405 => METHOD_NOT_ALLOWED,
        406 => NOT_ACCEPTABLE,
        408 => REQUEST_TIMEOUT,
        409 => CONFLICT,
        410 => GONE,
        413 => PAYLOAD_TOO_LARGE,
        415 => UNSUPPORTED_MEDIA_TYPE,
        422 => VALIDATION_ERROR,
        429 => TOO_MANY_REQUESTS,
        _ => CLIENT_ERROR,
    }
}

fn server_code(status: u16) -> &'static str {
    match status {
        500 => INTERNAL_ERROR,
        501 => NOT_IMPLEMENTED,
        502 => BAD_GATEWAY,
        503 => SERVICE_UNAVAILABLE,
        504 => GATEWAY_TIMEOUT,
        _ => SERVER_ERROR,
    }
}

/// Whether `s` matches `^[A-Z][A-Z0-9_]{0,63}$`.
pub fn is_valid_code(s: &str) -> bool {
    let bytes = s.as_bytes();
    match bytes.split_first() {
        Some((first, rest)) => {
            bytes.len() <= MAX_CODE_LEN
                && first.is_ascii_uppercase()
                && rest
                    .iter()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || *b == b'_')
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_statuses() {
        let table = [
            (400, "BAD_REQUEST"),
            (401, "UNAUTHORIZED"),
            (402, "PAYMENT_REQUIRED"),
            (403, "FORBIDDEN"),
            (404, "NOT_FOUND"),
            (405, "METHOD_NOT_ALLOWED"),
            (406, "NOT_ACCEPTABLE"),
            (408, "REQUEST_TIMEOUT"),
            (409, "CONFLICT"),
            (410, "GONE"),
            (413, "PAYLOAD_TOO_LARGE"),
            (415, "UNSUPPORTED_MEDIA_TYPE"),
            (422, "VALIDATION_ERROR"),
            (429, "TOO_MANY_REQUESTS"),
            (500, "INTERNAL_ERROR"),
            (501, "NOT_IMPLEMENTED"),
            (502, "BAD_GATEWAY"),
            (503, "SERVICE_UNAVAILABLE"),
            (504, "GATEWAY_TIMEOUT"),
        ];
        for (status, code) in table {
            assert_eq!(status_code(status), code, "status {status}");
        }
    }

    #[test]
    fn other_statuses_use_catch_alls() {
        for status in [407, 411, 412, 414, 418, 421, 423, 451, 499] {
            assert_eq!(status_code(status), CLIENT_ERROR, "status {status}");
        }
        for status in [505, 507, 511, 599] {
            assert_eq!(status_code(status), SERVER_ERROR, "status {status}");
        }
        for status in [0, 100, 200, 302, 399, 600, 999, u16::MAX] {
            assert_eq!(status_code(status), UPSTREAM_ERROR, "status {status}");
        }
    }

    #[test]
    fn every_emitted_code_is_valid() {
        for code in ALL {
            assert!(is_valid_code(code), "{code}");
        }
        for status in 0..=1000 {
            assert!(is_valid_code(status_code(status)));
        }
    }

    #[test]
    fn code_pattern() {
        let max = format!("A{}", "B".repeat(63));
        for ok in ["A", "NOT_FOUND", "E1", "A_", "X9_Z", max.as_str()] {
            assert!(is_valid_code(ok), "{ok}");
        }
        let too_long = format!("A{}", "B".repeat(64));
        let bad = [
            "",
            "_A",
            "1A",
            "a",
            "Not Found",
            "NOT-FOUND",
            "NOT FOUND",
            "ÉRROR",
            "A\n",
            too_long.as_str(),
        ];
        for bad in bad {
            assert!(!is_valid_code(bad), "{bad:?}");
        }
    }
}
