//! The usual error body (UTF-8, no coding) is read in place, not copied.

use std::borrow::Cow;

use super::*;

const CAP: usize = 64 * 1024;
const JSON: &str = r#"{"success":false,"message":"Viaje no encontrado","error":"NOT_FOUND"}"#;

#[test]
fn plain_utf8_bodies_are_borrowed_not_copied() {
    let body = JSON.as_bytes();
    for (enc, ct) in [
        (None, None),
        (Some("identity"), Some("application/json; charset=utf-8")),
    ] {
        let d = decode_body(body, enc, ct, CAP);
        assert!(matches!(d.text, Cow::Borrowed(_)), "{enc:?} {ct:?}");
        assert_eq!(d.text, JSON);
    }
    // A cap inside the body still borrows, the prefix only.
    let d = decode_body(body, None, None, 10);
    assert!(matches!(d.text, Cow::Borrowed(_)));
    assert_eq!((&*d.text, d.truncated), (&JSON[..10], true));
    // A BOM or another charset is converted: the text is not the bytes.
    let bom = [b"\xef\xbb\xbf".as_slice(), body].concat();
    assert_eq!(decode_body(&bom, None, None, CAP).text, JSON);
    let latin1 = decode_body(
        b"caf\xe9",
        None,
        Some("text/plain; charset=iso-8859-1"),
        CAP,
    );
    assert_eq!(latin1.text, "café");
}
