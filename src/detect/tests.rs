//! Detection tests for the non-JSON paths (text, markup, empty, binary, lying content types) and
//! a randomised no-panic check; each JSON format's cases live next to its reader.

use super::*;
use crate::code_convert::is_valid_code;

pub(crate) const JSON: Option<&str> = Some("application/json");

/// Asserts format, message and code in one line per case.
pub(crate) fn check(
    status: u16,
    ct: Option<&str>,
    body: &str,
    format: Format,
    msg: Option<&str>,
    code: Option<&str>,
) {
    let got = extract(status, ct, body);
    assert_eq!(got.format, format, "format of {body}");
    assert_eq!(got.message.as_deref(), msg, "message of {body}");
    assert_eq!(got.code.as_deref(), code, "code of {body}");
}

#[test]
fn content_type_lies_and_bom() {
    let body = r#"{"detail":"Item not found"}"#;
    for ct in [
        Some("text/html; charset=utf-8"),
        Some("text/plain"),
        None,
        Some("application/octet-stream"),
    ] {
        check(404, ct, body, Format::FastApi, Some("Item not found"), None);
    }
    let bom = "\u{feff}  {\"message\":\"with bom\"}\n";
    check(400, JSON, bom, Format::OtherJson, Some("with bom"), None);
    check(
        400,
        Some("Application/JSON ; charset=UTF-8"),
        r#"{"message":"x y"}"#,
        Format::OtherJson,
        Some("x y"),
        None,
    );
    // JSON content type over plain text.
    check(
        502,
        JSON,
        "upstream connect error",
        Format::PlainText,
        Some("upstream connect error"),
        None,
    );
}

#[test]
fn broken_json() {
    check(
        500,
        JSON,
        r#"{"message":"trunc"#,
        Format::Unrecognized,
        None,
        None,
    );
    check(
        500,
        None,
        r#"{"message": oops}"#,
        Format::Unrecognized,
        None,
        None,
    );
    check(
        503,
        Some("text/plain"),
        "[ERROR] database is down",
        Format::PlainText,
        Some("[ERROR] database is down"),
        None,
    );
    let deep = "[".repeat(10_000);
    assert_eq!(extract(500, JSON, &deep).format, Format::Unrecognized);
}

#[test]
fn html_pages() {
    let express = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Error</title>\n</head>\n<body>\n<pre>Cannot GET /x</pre>\n</body>\n</html>\n";
    check(
        404,
        Some("text/html; charset=utf-8"),
        express,
        Format::Html,
        None,
        None,
    );
    check(404, None, express, Format::Html, None, None);
    check(404, Some("text/plain"), express, Format::Html, None, None);
    let nginx = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
    check(502, Some("text/html"), nginx, Format::Html, None, None);
    let flask = "<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n<p>The requested URL was not found on the server.</p>\n";
    check(404, None, flask, Format::Html, None, None);
    let django = "\u{feff}\n  <h1>Server Error (500)</h1><p></p>";
    check(500, None, django, Format::Html, None, None);
    // Express `res.status(404).send("User not found")` declares text/html.
    check(
        404,
        Some("text/html; charset=utf-8"),
        "User not found",
        Format::PlainText,
        Some("User not found"),
        None,
    );
}

#[test]
fn xml_bodies() {
    let s3 = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>";
    check(404, Some("application/xml"), s3, Format::Xml, None, None);
    check(404, None, s3, Format::Xml, None, None);
    check(
        404,
        Some("text/xml"),
        "<error>x</error>",
        Format::Xml,
        None,
        None,
    );
    check(
        500,
        None,
        "<fault><reason>x</reason></fault>",
        Format::Xml,
        None,
        None,
    );
    let xhtml = "<?xml version=\"1.0\"?>\n<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Strict//EN\">\n<html xmlns=\"http://www.w3.org/1999/xhtml\"></html>";
    check(500, None, xhtml, Format::Html, None, None);
}

#[test]
fn plain_text() {
    check(
        404,
        Some("text/plain; charset=utf-8"),
        "404 page not found\n",
        Format::PlainText,
        Some("404 page not found"),
        None,
    );
    check(
        503,
        None,
        "no healthy upstream",
        Format::PlainText,
        Some("no healthy upstream"),
        None,
    );
    check(
        404,
        Some("text/plain"),
        "Not Found",
        Format::PlainText,
        None,
        None,
    );
    let paragraphs = "Something failed.\n\nDetails follow.";
    check(
        500,
        Some("text/plain"),
        paragraphs,
        Format::PlainText,
        None,
        None,
    );
    let long = "word ".repeat(300);
    check(
        500,
        Some("text/plain"),
        &long,
        Format::PlainText,
        None,
        None,
    );
    let trace = "Traceback (most recent call last):\n  File \"a.py\", line 1\n  File \"b.py\", line 2\n  File \"c.py\", line 3\n    raise ValueError\nValueError: boom";
    check(
        500,
        Some("text/plain"),
        trace,
        Format::PlainText,
        None,
        None,
    );
    check(
        500,
        Some("application/javascript"),
        "alert(1)",
        Format::Unrecognized,
        None,
        None,
    );
}

#[test]
fn empty_and_binary() {
    for body in ["", "   \n\t ", "\u{feff}"] {
        check(502, None, body, Format::Empty, None, None);
    }
    check(
        500,
        Some("image/png"),
        "PNG-ish",
        Format::Binary,
        None,
        None,
    );
    check(
        500,
        Some("application/octet-stream"),
        "raw",
        Format::Binary,
        None,
        None,
    );
    check(500, None, "abc\0def", Format::Binary, None, None);
    let lossy =
        String::from_utf8_lossy(&[0x89, b'P', b'N', b'G', 0xff, 0xfe, 0x00, 0x1a]).into_owned();
    check(500, Some("text/plain"), &lossy, Format::Binary, None, None);
    check(
        500,
        None,
        "\u{fffd}\u{fffd}\u{fffd}xx",
        Format::Binary,
        None,
        None,
    );
}

#[test]
fn format_labels_are_unique_snake_case() {
    let labels: Vec<&str> = Format::ALL.iter().map(Format::as_str).collect();
    for label in &labels {
        assert!(
            label
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        );
    }
    let mut unique = labels.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), labels.len());
}

/// Random bodies never panic and every code returned matches the pattern.
#[test]
fn random_bodies_never_panic() {
    const PIECES: [&str; 24] = [
        "{",
        "}",
        "[",
        "]",
        ",",
        ":",
        "\"",
        "\"message\"",
        "\"error\"",
        "\"code\"",
        "\"detail\"",
        "\"errors\"",
        "\"type\"",
        "\"status\"",
        "\"success\"",
        "false",
        "5",
        "404",
        "null",
        "\"Not Found\"",
        "\"invalid_grant\"",
        "<html>",
        "\u{feff}",
        "\"x\"",
    ];
    const TYPES: [Option<&str>; 6] = [
        None,
        JSON,
        Some("text/html"),
        Some("text/plain"),
        Some("application/problem+json"),
        Some("image/gif"),
    ];
    let mut rng = fastrand::Rng::with_seed(0x5eed);
    for _ in 0..20_000 {
        let body = if rng.bool() {
            let bytes: Vec<u8> = (0..rng.usize(0..64)).map(|_| rng.u8(..)).collect();
            String::from_utf8_lossy(&bytes).into_owned()
        } else {
            (0..rng.usize(0..24))
                .map(|_| PIECES[rng.usize(..PIECES.len())])
                .collect()
        };
        let ct = TYPES[rng.usize(..TYPES.len())];
        let got = extract(rng.u16(400..600), ct, &body);
        if let Some(code) = &got.code {
            assert!(is_valid_code(code), "{code:?} from {body:?}");
        }
        if let Some(message) = &got.message {
            assert!(!message.trim().is_empty(), "empty message from {body:?}");
        }
        assert!(is_valid_code(&got.code_or_derived(500)));
    }
}
