//! Cases for the standard JSON error formats, from the specs' and vendors' own examples.

use crate::detect::Format;
use crate::detect::extract;
use crate::detect::tests::{JSON, check};

#[test]
fn envelope_from_another_hop() {
    let body = r#"{"success":false,"message":"No drivers available","error":"NO_DRIVERS"}"#;
    check(
        503,
        JSON,
        body,
        Format::Envelope,
        Some("No drivers available"),
        Some("NO_DRIVERS"),
    );
    let lower = r#"{"success":false,"message":"Slow down","error":"rate-limited"}"#;
    check(
        429,
        JSON,
        lower,
        Format::Envelope,
        Some("Slow down"),
        Some("RATE_LIMITED"),
    );
}

#[test]
fn powerauth() {
    let body = r#"{"status":"ERROR","responseObject":{"code":"ERR_ACTIVATION","message":"Activation is not valid"}}"#;
    check(
        400,
        JSON,
        body,
        Format::PowerAuth,
        Some("Activation is not valid"),
        Some("ERR_ACTIVATION"),
    );
}

#[test]
fn problem_details_rfc_9457_example() {
    let body = r#"{
      "type": "https://example.com/probs/out-of-credit",
      "title": "You do not have enough credit.",
      "detail": "Your current balance is 30, but that costs 50.",
      "instance": "/account/12345/msgs/abc",
      "balance": 30,
      "accounts": ["/account/12345", "/account/67890"]
    }"#;
    let detail = "Your current balance is 30, but that costs 50.";
    let ct = Some("application/problem+json");
    check(
        403,
        ct,
        body,
        Format::ProblemDetails,
        Some(detail),
        Some("OUT_OF_CREDIT"),
    );
    check(
        403,
        JSON,
        body,
        Format::ProblemDetails,
        Some(detail),
        Some("OUT_OF_CREDIT"),
    );
}

#[test]
fn problem_details_codes_and_titles() {
    // Spring Boot 3 ProblemDetail: about:blank names no code; a bare reason-phrase title is no message.
    let spring3 = r#"{"type":"about:blank","title":"Not Found","status":404,"detail":"No static resource api/x.","instance":"/api/x"}"#;
    check(
        404,
        JSON,
        spring3,
        Format::ProblemDetails,
        Some("No static resource api/x."),
        None,
    );
    let bare = r#"{"type":"about:blank","title":"Not Found","status":404}"#;
    check(404, JSON, bare, Format::ProblemDetails, None, None);
    let ext = r#"{"type":"https://api.example.com/errors/insufficient-funds.html","title":"Insufficient funds","status":402,"code":"FUNDS_LOW"}"#;
    check(
        402,
        JSON,
        ext,
        Format::ProblemDetails,
        Some("Insufficient funds"),
        Some("FUNDS_LOW"),
    );
    let html_type = r#"{"type":"https://api.example.com/errors/insufficient-funds.html","title":"Insufficient funds"}"#;
    check(
        402,
        JSON,
        html_type,
        Format::ProblemDetails,
        Some("Insufficient funds"),
        Some("INSUFFICIENT_FUNDS"),
    );
    let urn =
        r#"{"type":"urn:problem-type:acme:quota-exceeded","title":"Quota exceeded","status":429}"#;
    check(
        429,
        JSON,
        urn,
        Format::ProblemDetails,
        Some("Quota exceeded"),
        Some("QUOTA_EXCEEDED"),
    );
}

#[test]
fn problem_details_aspnet_validation() {
    let body = r#"{"type":"https://tools.ietf.org/html/rfc9110#section-15.5.1","title":"One or more validation errors occurred.","status":400,"errors":{"Email":["The Email field is required."]},"traceId":"00-84c1fd4063c38d9f3900d06e56542d48-85d1d4-00"}"#;
    let got = extract(400, Some("application/problem+json; charset=utf-8"), body);
    assert_eq!(got.format, Format::ProblemDetails);
    assert_eq!(
        got.message.as_deref(),
        Some("One or more validation errors occurred.")
    );
    assert_eq!(got.code, None, "an RFC section is not an error code");
    assert!(got.validation);
    assert_eq!(got.code_or_derived(400), "VALIDATION_ERROR");
}

#[test]
fn google_api_and_grpc_gateway() {
    let google = r#"{"error":{"code":404,"message":"Requested entity was not found.","status":"NOT_FOUND","details":[]}}"#;
    check(
        404,
        JSON,
        google,
        Format::GoogleApi,
        Some("Requested entity was not found."),
        Some("NOT_FOUND"),
    );
    let gateway = r#"{"code":5,"message":"user 42 not found","details":[]}"#;
    check(
        404,
        JSON,
        gateway,
        Format::GoogleApi,
        Some("user 42 not found"),
        Some("NOT_FOUND"),
    );
    let unauthenticated = r#"{"code":16,"message":"invalid token","details":[]}"#;
    check(
        401,
        JSON,
        unauthenticated,
        Format::GoogleApi,
        Some("invalid token"),
        Some("UNAUTHENTICATED"),
    );
    // An HTTP status in `code` is not a gRPC code.
    let http_code = r#"{"code":404,"message":"User not found"}"#;
    check(
        404,
        JSON,
        http_code,
        Format::OtherJson,
        Some("User not found"),
        None,
    );
    let google_no_status =
        r#"{"error":{"code":403,"message":"The caller does not have permission"}}"#;
    check(
        403,
        JSON,
        google_no_status,
        Format::GoogleApi,
        Some("The caller does not have permission"),
        None,
    );
}

#[test]
fn oauth2_auth0_and_keycloak() {
    let keycloak = r#"{"error":"invalid_grant","error_description":"Invalid user credentials"}"#;
    check(
        401,
        JSON,
        keycloak,
        Format::OAuth2,
        Some("Invalid user credentials"),
        Some("INVALID_GRANT"),
    );
    let auth0 = r#"{"error":"access_denied","error_description":"Unauthorized"}"#;
    check(
        403,
        JSON,
        auth0,
        Format::OAuth2,
        None,
        Some("ACCESS_DENIED"),
    );
    // DESIGN §1: other JSON takes its code from `code`/`error_code` only; a bare `error`
    // token is neither a message nor a code there (OAuth 2 needs `error_description`).
    let bare = r#"{"error":"invalid_token"}"#;
    check(401, JSON, bare, Format::OtherJson, None, None);
}

#[test]
fn stripe_and_openai() {
    let stripe = r#"{"error":{"code":"card_declined","decline_code":"generic_decline","doc_url":"https://stripe.com/docs/error-codes/card-declined","message":"Your card was declined.","param":"","request_log_url":"https://dashboard.stripe.com/logs/req_x","type":"card_error"}}"#;
    check(
        402,
        JSON,
        stripe,
        Format::StripeLike,
        Some("Your card was declined."),
        Some("CARD_DECLINED"),
    );
    let openai = r#"{"error":{"message":"Incorrect API key provided.","type":"invalid_request_error","param":null,"code":null}}"#;
    check(
        401,
        JSON,
        openai,
        Format::StripeLike,
        Some("Incorrect API key provided."),
        Some("INVALID_REQUEST_ERROR"),
    );
}

#[test]
fn json_api() {
    let body = r#"{"jsonapi":{"version":"1.0"},"errors":[{"status":"422","code":"blank","source":{"pointer":"/data/attributes/firstName"},"title":"Invalid Attribute","detail":"First name must contain at least two characters."}]}"#;
    let got = extract(422, Some("application/vnd.api+json"), body);
    assert_eq!(got.format, Format::JsonApi);
    assert_eq!(
        got.message.as_deref(),
        Some("First name must contain at least two characters.")
    );
    assert_eq!(got.code.as_deref(), Some("BLANK"));
    assert!(got.validation);
    let title_only = r#"{"errors":[{"status":"404","title":"Article 7 was not found"}]}"#;
    check(
        404,
        JSON,
        title_only,
        Format::JsonApi,
        Some("Article 7 was not found"),
        None,
    );
}

#[test]
fn graphql() {
    let apollo = r#"{"errors":[{"message":"You must be logged in","locations":[{"line":2,"column":3}],"path":["me"],"extensions":{"code":"UNAUTHENTICATED"}}],"data":null}"#;
    check(
        401,
        JSON,
        apollo,
        Format::GraphQl,
        Some("You must be logged in"),
        Some("UNAUTHENTICATED"),
    );
    let hasura = r#"{"errors":[{"extensions":{"path":"$.selectionSet.x","code":"validation-failed"},"message":"field 'x' not found in type: 'query_root'"}]}"#;
    check(
        400,
        JSON,
        hasura,
        Format::GraphQl,
        Some("field 'x' not found in type: 'query_root'"),
        Some("VALIDATION_FAILED"),
    );
}

#[test]
fn code_from_a_messageless_match_survives() {
    let body =
        r#"{"type":"https://api.example.com/errors/quota","status":429,"message":"Slow down"}"#;
    check(
        429,
        JSON,
        body,
        Format::OtherJson,
        Some("Slow down"),
        Some("QUOTA"),
    );
}
