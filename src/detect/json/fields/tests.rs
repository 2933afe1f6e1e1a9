//! Cases for framework defaults (Spring Boot, FastAPI, DRF, NestJS, Rails) and ad-hoc JSON.

use crate::detect::tests::{JSON, check};
use crate::detect::{Format, extract};

#[test]
fn spring_boot_classic() {
    let not_found = r#"{"timestamp":"2024-05-01T10:00:00.000+00:00","status":404,"error":"Not Found","path":"/api/users/7"}"#;
    check(404, JSON, not_found, Format::SpringBoot, None, None);
    let no_message = r#"{"timestamp":"2024-05-01T10:00:00.000+00:00","status":500,"error":"Internal Server Error","message":"No message available","path":"/x"}"#;
    check(500, JSON, no_message, Format::SpringBoot, None, None);
    let message = r#"{"timestamp":"2024-05-01T10:00:00.000+00:00","status":409,"error":"Conflict","message":"Email already registered","path":"/users"}"#;
    check(
        409,
        JSON,
        message,
        Format::SpringBoot,
        Some("Email already registered"),
        None,
    );
    let empty = r#"{"timestamp":1714557600000,"status":400,"error":"Bad Request","message":"","path":"/x"}"#;
    check(400, JSON, empty, Format::SpringBoot, None, None);
}

#[test]
fn spring_boot_validation() {
    let body = r#"{"timestamp":"2024-05-01T10:00:00.000+00:00","status":400,"error":"Bad Request","errors":[{"codes":["NotBlank.user.name","NotBlank"],"arguments":null,"defaultMessage":"must not be blank","objectName":"user","field":"name","rejectedValue":null,"bindingFailure":false,"code":"NotBlank"}],"message":"Validation failed for object='user'. Error count: 1","path":"/users"}"#;
    let got = extract(400, JSON, body);
    assert_eq!(got.format, Format::SpringBoot);
    assert_eq!(got.message.as_deref(), Some("name: must not be blank"));
    assert_eq!(
        got.code, None,
        "Spring's `error` is a reason phrase, never a code"
    );
    assert!(got.validation);
}

#[test]
fn fastapi_detail() {
    let detail = r#"{"detail":"Item not found"}"#;
    check(
        404,
        JSON,
        detail,
        Format::FastApi,
        Some("Item not found"),
        None,
    );
    check(
        404,
        JSON,
        r#"{"detail":"Not Found"}"#,
        Format::FastApi,
        None,
        None,
    );
    let drf_auth = r#"{"detail":"Authentication credentials were not provided."}"#;
    let text = "Authentication credentials were not provided.";
    check(401, JSON, drf_auth, Format::FastApi, Some(text), None);
}

#[test]
fn fastapi_validation_list() {
    let list = r#"{"detail":[{"type":"missing","loc":["body","email"],"msg":"Field required","input":{"name":"x"}},{"type":"int_parsing","loc":["query","limit"],"msg":"Input should be a valid integer"}]}"#;
    let got = extract(422, JSON, list);
    assert_eq!(got.format, Format::FastApi);
    assert_eq!(got.message.as_deref(), Some("email: Field required"));
    assert_eq!(got.code.as_deref(), Some("VALIDATION_ERROR"));
    assert!(got.validation);
    let nested = r#"{"detail":[{"loc":["body","items",0,"price"],"msg":"value is not a valid float","type":"type_error.float"}]}"#;
    let want = Some("price: value is not a valid float");
    check(
        422,
        JSON,
        nested,
        Format::FastApi,
        want,
        Some("VALIDATION_ERROR"),
    );
    let decode = r#"{"detail":[{"type":"json_invalid","loc":["body",12],"msg":"JSON decode error","input":{},"ctx":{"error":"Expecting value"}}]}"#;
    let want = Some("JSON decode error");
    check(
        422,
        JSON,
        decode,
        Format::FastApi,
        want,
        Some("VALIDATION_ERROR"),
    );
}

#[test]
fn drf_field_maps() {
    let fields =
        r#"{"username":["This field is required."],"email":["Enter a valid email address."]}"#;
    let got = extract(400, JSON, fields);
    assert_eq!(got.format, Format::FastApi);
    // Document order (serde_json's preserve_order): the first field the backend listed.
    assert_eq!(
        got.message.as_deref(),
        Some("username: This field is required.")
    );
    assert!(got.validation);
    assert_eq!(got.code_or_derived(400), "VALIDATION_ERROR");
    let general = r#"{"non_field_errors":["Unable to log in with provided credentials."]}"#;
    let want = Some("Unable to log in with provided credentials.");
    check(400, JSON, general, Format::FastApi, want, None);
    // A map of lists on a 500 is not a field map.
    check(500, JSON, fields, Format::OtherJson, None, None);
}

#[test]
fn nestjs() {
    let validation = r#"{"statusCode":400,"message":["email must be an email","password should not be empty"],"error":"Bad Request"}"#;
    let got = extract(400, JSON, validation);
    assert_eq!(got.format, Format::OtherJson);
    assert_eq!(got.message.as_deref(), Some("email must be an email"));
    assert_eq!(got.code, None, "`Bad Request` is a reason phrase");
    assert!(got.validation);
    let not_found = r#"{"statusCode":404,"message":"Cannot GET /nope","error":"Not Found"}"#;
    check(
        404,
        JSON,
        not_found,
        Format::OtherJson,
        Some("Cannot GET /nope"),
        None,
    );
}

#[test]
fn other_json_objects() {
    let coded = r#"{"msg":"Account locked","error_code":"accountLocked"}"#;
    let want = Some("ACCOUNT_LOCKED");
    check(
        423,
        JSON,
        coded,
        Format::OtherJson,
        Some("Account locked"),
        want,
    );
    let numeric = r#"{"message":"Bad token","code":40101}"#;
    check(
        401,
        JSON,
        numeric,
        Format::OtherJson,
        Some("Bad token"),
        None,
    );
    let nested = r#"{"error":{"description":"Quota used up","code":"quota"}}"#;
    check(
        429,
        JSON,
        nested,
        Format::OtherJson,
        Some("Quota used up"),
        Some("QUOTA"),
    );
    let prose_error = r#"{"error":"Something went wrong on our side"}"#;
    let want = Some("Something went wrong on our side");
    check(500, JSON, prose_error, Format::OtherJson, want, None);
    let rails = r#"{"errors":{"email":["has already been taken"]}}"#;
    let want = Some("email: has already been taken");
    check(409, JSON, rails, Format::OtherJson, want, None);
    check(
        500,
        JSON,
        r#"{"message":null}"#,
        Format::OtherJson,
        None,
        None,
    );
    check(500, JSON, "{}", Format::OtherJson, None, None);
}

#[test]
fn other_json_scalars_and_arrays() {
    let string = r#""just a string""#;
    check(
        400,
        JSON,
        string,
        Format::OtherJson,
        Some("just a string"),
        None,
    );
    let strings = r#"["first problem","second"]"#;
    check(
        400,
        JSON,
        strings,
        Format::OtherJson,
        Some("first problem"),
        None,
    );
    let objects = r#"[{"message":"in an array"}]"#;
    check(
        400,
        JSON,
        objects,
        Format::OtherJson,
        Some("in an array"),
        None,
    );
    check(500, JSON, "42", Format::OtherJson, None, None);
    check(500, JSON, "[]", Format::OtherJson, None, None);
}
