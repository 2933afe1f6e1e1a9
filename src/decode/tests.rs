use std::io::Write;

use flate2::Compression;
use flate2::write::{DeflateEncoder, GzEncoder, ZlibEncoder};

use super::*;

const CAP: usize = 64 * 1024;
const JSON: &str = r#"{"success":false,"message":"Viaje no encontrado","error":"NOT_FOUND"}"#;

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut enc = ZlibEncoder::new(Vec::new(), Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

fn raw_deflate(data: &[u8]) -> Vec<u8> {
    let mut enc = DeflateEncoder::new(Vec::new(), Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

fn clean(text: &str) -> Decoded<'static> {
    Decoded {
        text: Cow::Owned(text.to_owned()),
        truncated: false,
        encoding_failed: false,
    }
}

#[test]
fn identity_and_missing_encoding_pass_bytes_through() {
    for enc in [None, Some("identity"), Some(""), Some(" Identity ")] {
        assert_eq!(decode_body(JSON.as_bytes(), enc, None, CAP), clean(JSON));
    }
}

#[test]
fn identity_is_capped() {
    let d = decode_body(b"abcdef", None, None, 4);
    assert_eq!((&*d.text, d.truncated), ("abcd", true));
}

#[test]
fn gzip_and_x_gzip() {
    let body = gzip(JSON.as_bytes());
    for enc in ["gzip", "x-gzip", "GZIP", "gzip, identity", "identity, gzip"] {
        assert_eq!(
            decode_body(&body, Some(enc), None, CAP),
            clean(JSON),
            "{enc}"
        );
    }
}

#[test]
fn multi_member_gzip_is_read_whole() {
    let mut body = gzip(b"Viaje no ");
    body.extend(gzip(b"encontrado"));
    assert_eq!(
        decode_body(&body, Some("gzip"), None, CAP).text,
        "Viaje no encontrado"
    );
}

#[test]
fn deflate_zlib_wrapped_and_raw() {
    for body in [zlib(JSON.as_bytes()), raw_deflate(JSON.as_bytes())] {
        assert_eq!(decode_body(&body, Some("deflate"), None, CAP), clean(JSON));
    }
}

#[test]
fn short_raw_deflate_is_not_mistaken_for_text() {
    for text in ["a", "Not found", "Card declined", "{}"] {
        let body = raw_deflate(text.as_bytes());
        assert_eq!(decode_body(&body, Some("deflate"), None, CAP).text, text);
    }
}

#[test]
fn lying_content_encoding_falls_back_to_identity() {
    for enc in ["gzip", "deflate"] {
        assert_eq!(
            decode_body(JSON.as_bytes(), Some(enc), None, CAP),
            clean(JSON)
        );
        let text = "x Trip not found"; // "x " passes the zlib header checksum by chance
        assert_eq!(
            decode_body(text.as_bytes(), Some(enc), None, CAP).text,
            text
        );
    }
}

#[test]
fn binary_that_is_not_gzip_fails() {
    let d = decode_body(&[0, 1, 2, 3, 0xff], Some("gzip"), None, CAP);
    assert!(d.encoding_failed);
    assert!(d.text.is_empty());
}

#[test]
fn corrupt_gzip_fails_without_panic() {
    let mut body = gzip(JSON.as_bytes());
    let mid = body.len() / 2;
    body[10..mid].iter_mut().for_each(|b| *b = 0xff);
    assert!(decode_body(&body, Some("gzip"), None, CAP).encoding_failed);
}

#[test]
fn truncated_gzip_returns_the_prefix() {
    let text = "Viaje no encontrado. ".repeat(200);
    let body = gzip(text.as_bytes());
    for cut in [1, 5, 12, body.len() / 2, body.len() - 4] {
        let d = decode_body(&body[..cut], Some("gzip"), None, CAP);
        assert!(d.truncated || d.encoding_failed, "cut at {cut}");
        assert!(text.starts_with(&*d.text), "cut at {cut}");
    }
}

#[test]
fn gzip_bomb_is_capped_while_decoding() {
    let zeros = vec![0u8; 50 * 1024 * 1024];
    let bomb = gzip(&zeros);
    drop(zeros);
    assert!(bomb.len() < 100 * 1024);
    let d = decode_body(&bomb, Some("gzip"), None, CAP);
    assert!(d.truncated);
    assert!(!d.encoding_failed);
    assert_eq!(d.text.len(), CAP);
}

#[test]
fn read_capped_never_allocates_past_the_cap() {
    let bomb = zlib(&vec![b'a'; 4 * 1024 * 1024]);
    for max in [0, 1, 1000, CAP, CAP + 1] {
        let out = read_capped(ZlibDecoder::new(bomb.as_slice()), max);
        let Cow::Owned(bytes) = out.bytes else {
            panic!("a decoder's output is its own buffer");
        };
        assert_eq!(bytes.len(), max);
        assert!(bytes.capacity() <= max.max(1), "cap {max}");
        assert!(out.truncated);
    }
}

#[test]
fn unknown_and_stacked_codings_fail() {
    for enc in ["br", "zstd", "compress", "gzip, br", "gzip, gzip"] {
        let d = decode_body(JSON.as_bytes(), Some(enc), None, CAP);
        assert!(d.encoding_failed, "{enc}");
        assert!(d.text.is_empty(), "{enc}");
    }
}

#[test]
fn latin1_and_windows_1252() {
    let e_acute = b"Caf\xe9";
    for ct in [
        "text/plain; charset=iso-8859-1",
        "text/plain;charset=latin1",
        "text/plain; CHARSET=\"ISO-8859-1\"",
    ] {
        assert_eq!(
            decode_body(e_acute, None, Some(ct), CAP).text,
            "Café",
            "{ct}"
        );
    }
    let euro = decode_body(
        b"10 \x80",
        None,
        Some("text/plain; charset=windows-1252"),
        CAP,
    );
    assert_eq!(euro.text, "10 €");
}

#[test]
fn utf16_with_bom() {
    let mut le = vec![0xff, 0xfe];
    le.extend("Año €".encode_utf16().flat_map(u16::to_le_bytes));
    let mut be = vec![0xfe, 0xff];
    be.extend("Año €".encode_utf16().flat_map(u16::to_be_bytes));
    for (body, ct) in [
        (&le, "utf-16"),
        (&be, "utf-16"),
        (&be, "utf-8"),
        (&le, "nope"),
    ] {
        let ct = format!("application/json; charset={ct}");
        assert_eq!(decode_body(body, None, Some(&ct), CAP).text, "Año €");
    }
}

#[test]
fn shift_jis() {
    let (bytes, _, _) = encoding_rs::SHIFT_JIS.encode("見つかりません");
    let d = decode_body(&bytes, None, Some("text/plain; charset=Shift_JIS"), CAP);
    assert_eq!(d.text, "見つかりません");
}

#[test]
fn invalid_utf8_and_unknown_charsets_are_lossy() {
    let body = b"caf\xc3 ok";
    for ct in [
        None,
        Some("text/plain"),
        Some("text/plain; charset=klingon"),
    ] {
        assert_eq!(decode_body(body, None, ct, CAP).text, "caf\u{fffd} ok");
    }
    let repl = decode_body(b"ok", None, Some("text/plain; charset=iso-2022-kr"), CAP);
    assert_eq!(repl.text, "ok");
}

#[test]
fn gzip_then_charset() {
    let body = gzip(b"Caf\xe9");
    let d = decode_body(&body, Some("gzip"), Some("text/plain; charset=latin1"), CAP);
    assert_eq!(d.text, "Café");
}

#[test]
fn charset_of_parses_parameters() {
    assert_eq!(charset_of("text/html; charset=UTF-8"), Some("UTF-8"));
    assert_eq!(charset_of("text/html;charset=\"latin1\""), Some("latin1"));
    assert_eq!(
        charset_of("text/html; q=1; Charset = utf-16 "),
        Some("utf-16")
    );
    assert_eq!(charset_of("text/html"), None);
    assert_eq!(charset_of("text/html; charset="), None);
    assert_eq!(charset_of("text/html; charset=\"\""), None);
}

#[test]
fn media_type_is_lowercased_essence() {
    assert_eq!(
        media_type("Application/Problem+JSON; charset=utf-8"),
        "application/problem+json"
    );
    assert!(matches!(
        media_type(" text/plain "),
        Cow::Borrowed("text/plain")
    ));
    assert_eq!(media_type(""), "");
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = fastrand::Rng::with_seed(7);
    let codings = [
        None,
        Some("gzip"),
        Some("deflate"),
        Some("x-gzip"),
        Some("br"),
    ];
    let types = [
        None,
        Some("text/plain; charset=utf-16"),
        Some("text/html; charset=sjis"),
    ];
    for round in 0..2000 {
        let len = rng.usize(0..600);
        let mut body: Vec<u8> = (0..len).map(|_| rng.u8(..)).collect();
        if round % 3 == 0 && body.len() > 2 {
            body[..2].copy_from_slice(&GZIP_MAGIC); // exercise the gzip paths past the header
        }
        for enc in codings {
            for ct in types {
                let d = decode_body(&body, enc, ct, 256);
                assert!(
                    d.text.len() <= 256 * 3,
                    "U+FFFD is 3 bytes per input byte at most"
                );
            }
        }
    }
}
