//! Readers for JSON error bodies, one per format, tried in DESIGN §1's table order.
//!
//! A reader returns `None` when the body does not have its shape, and `Some` (possibly without
//! a message) when it does; the first `Some` with a message wins (keeping a code an earlier,
//! message-less match found), else the first `Some` names the format so the metric still says
//! what the upstream speaks.

mod fields;
#[cfg(test)]
mod tests;

use serde_json::{Map, Value};

use super::{Extracted, Format, Media, usable_message};
use crate::code_convert::{convert_code, grpc_code_name};

type Object = Map<String, Value>;
type Reader = fn(&Ctx, &Object) -> Option<Extracted>;

struct Ctx {
    status: u16,
    media: Media,
}

const READERS: [Reader; 11] = [
    envelope,
    powerauth,
    problem_details,
    google_api,
    oauth2,
    stripe_like,
    json_api,
    graphql,
    fields::spring_boot,
    fields::fastapi,
    fields::other_json,
];

/// Extracts from a parsed JSON body.
pub(super) fn extract_value(status: u16, media: Media, value: &Value) -> Extracted {
    let ctx = Ctx { status, media };
    match value {
        Value::Object(obj) => from_object(&ctx, obj),
        Value::Array(items) => from_array(&ctx, items),
        Value::String(text) => other(usable_message(Some(text)), false),
        _ => Extracted::bare(Format::OtherJson),
    }
}

fn from_object(ctx: &Ctx, obj: &Object) -> Extracted {
    let mut best: Option<Extracted> = None;
    for read in READERS {
        if let Some(mut found) = read(ctx, obj) {
            if found.message.is_some() {
                // The earlier, more specific match read the same body: keep what it found.
                if let Some(earlier) = best {
                    found.code = found.code.or(earlier.code);
                    found.validation |= earlier.validation;
                }
                return found;
            }
            best.get_or_insert(found);
        }
    }
    best.unwrap_or_else(|| Extracted::bare(Format::OtherJson))
}

/// A top-level array: a list of messages, or a list of error objects (use the first).
fn from_array(ctx: &Ctx, items: &[Value]) -> Extracted {
    match items.first() {
        Some(Value::Object(obj)) => from_object(ctx, obj),
        Some(Value::String(_)) => other(fields::first_string(items), true),
        _ => Extracted::bare(Format::OtherJson),
    }
}

fn other(message: Option<String>, validation: bool) -> Extracted {
    Extracted {
        message,
        validation,
        ..Extracted::bare(Format::OtherJson)
    }
}

fn found(format: Format, message: Option<String>, code: Option<String>) -> Option<Extracted> {
    Some(Extracted {
        format,
        message,
        code,
        validation: false,
    })
}

fn str_field<'a>(obj: &'a Object, key: &str) -> Option<&'a str> {
    obj.get(key)?.as_str()
}

fn obj_field<'a>(obj: &'a Object, key: &str) -> Option<&'a Object> {
    obj.get(key)?.as_object()
}

/// A string code, converted; numbers and other JSON types are never codes here.
fn code_of(value: Option<&Value>) -> Option<String> {
    convert_code(value?.as_str()?)
}

/// `{"success": false, "message": ..., "error": ...}`: errgate's own shape, from another hop.
fn envelope(_: &Ctx, obj: &Object) -> Option<Extracted> {
    if obj.get("success") != Some(&Value::Bool(false)) {
        return None;
    }
    let message = str_field(obj, "message")?;
    found(
        Format::Envelope,
        usable_message(Some(message)),
        code_of(obj.get("error")),
    )
}

/// Wultra PowerAuth: `{"status":"ERROR","responseObject":{"code","message"}}`.
fn powerauth(_: &Ctx, obj: &Object) -> Option<Extracted> {
    if !str_field(obj, "status")?.eq_ignore_ascii_case("ERROR") {
        return None;
    }
    let inner = obj_field(obj, "responseObject")?;
    found(
        Format::PowerAuth,
        usable_message(str_field(inner, "message")),
        code_of(inner.get("code")),
    )
}

/// RFC 9457: by media type, or by at least two of its members including `type` or `title`
/// (Spring's classic `timestamp`/`status`/`error` has neither, FastAPI's lone `detail` is one).
fn problem_details(ctx: &Ctx, obj: &Object) -> Option<Extracted> {
    let kind = str_field(obj, "type");
    let title = str_field(obj, "title");
    let members = [
        kind.is_some(),
        title.is_some(),
        obj.get("status").is_some_and(Value::is_number),
        str_field(obj, "detail").is_some(),
    ];
    let shaped = (kind.is_some() || title.is_some()) && members.iter().filter(|m| **m).count() >= 2;
    if ctx.media != Media::Problem && !shaped {
        return None;
    }
    let message = usable_message(str_field(obj, "detail")).or_else(|| usable_message(title));
    let code = code_of(obj.get("code")).or_else(|| kind.and_then(problem_type_code));
    Some(Extracted {
        format: Format::ProblemDetails,
        message,
        code,
        // ASP.NET Core's ValidationProblemDetails adds an `errors` field map.
        validation: fields::has_field_errors(obj.get("errors")),
    })
}

/// The last path segment (or the fragment) of a problem `type` URI, as a code.
fn problem_type_code(uri: &str) -> Option<String> {
    let uri = uri.trim();
    let lower = uri.to_ascii_lowercase();
    // These name an HTTP status in a spec (ASP.NET's `rfc9110#section-15.5.5`), not an error.
    const SPEC_HOSTS: [&str; 4] = [
        "about:",
        "ietf.org",
        "rfc-editor.org",
        "developer.mozilla.org",
    ];
    if SPEC_HOSTS.iter().any(|host| lower.contains(host)) {
        return None;
    }
    let (path, fragment) = uri.split_once('#').unwrap_or((uri, ""));
    if !fragment.is_empty() {
        return convert_code(fragment);
    }
    let path = path.split_once('?').map_or(path, |(p, _)| p);
    // Skip the scheme and host: `https://example.com` alone names no error.
    let path = match path.split_once("://") {
        Some((_, rest)) => rest.split_once('/').map_or("", |(_, p)| p),
        None => path,
    };
    let segment = path.trim_end_matches('/').rsplit(['/', ':']).next()?;
    convert_code(strip_extension(segment))
}

/// `out-of-credit.html` → `out-of-credit`; a numeric suffix (`v1.2`) is not an extension.
fn strip_extension(segment: &str) -> &str {
    match segment.rsplit_once('.') {
        Some((stem, ext))
            if !stem.is_empty()
                && (1..=5).contains(&ext.len())
                && ext.chars().all(|c| c.is_ascii_alphabetic()) =>
        {
            stem
        }
        _ => segment,
    }
}

/// Google APIs `{"error":{"code":404,"message","status":"NOT_FOUND"}}` and gRPC-gateway's
/// top-level `{"code":5,"message","details":[]}`.
fn google_api(_: &Ctx, obj: &Object) -> Option<Extracted> {
    if let Some(inner) = obj_field(obj, "error") {
        let status = str_field(inner, "status");
        let number = inner.get("code").and_then(Value::as_i64);
        if status.is_none() && number.is_none() {
            return None;
        }
        // Google puts the HTTP status in `error.code`; only 1..=16 can be a gRPC code.
        let code = status
            .and_then(convert_code)
            .or_else(|| number.and_then(grpc_code_name).map(str::to_owned));
        return found(
            Format::GoogleApi,
            usable_message(str_field(inner, "message")),
            code,
        );
    }
    let name = grpc_code_name(obj.get("code")?.as_i64()?)?;
    let message = str_field(obj, "message")?;
    found(
        Format::GoogleApi,
        usable_message(Some(message)),
        Some(name.to_owned()),
    )
}

/// RFC 6749 §5.2: `{"error":"invalid_grant","error_description":"..."}`.
fn oauth2(_: &Ctx, obj: &Object) -> Option<Extracted> {
    let error = str_field(obj, "error")?;
    let description = obj.get("error_description")?;
    found(
        Format::OAuth2,
        usable_message(description.as_str()),
        convert_code(error),
    )
}

/// Stripe, OpenAI and friends: `{"error":{"message","code","type"}}`.
fn stripe_like(_: &Ctx, obj: &Object) -> Option<Extracted> {
    let inner = obj_field(obj, "error")?;
    let message = str_field(inner, "message")?;
    let code = code_of(inner.get("code")).or_else(|| code_of(inner.get("type")));
    found(Format::StripeLike, usable_message(Some(message)), code)
}

fn first_error(obj: &Object) -> Option<&Object> {
    obj.get("errors")?.as_array()?.first()?.as_object()
}

/// JSON:API error objects carry `detail`/`title`/`source` or a string `status`; GraphQL's carry
/// `message` instead, and Spring's field errors carry `defaultMessage`.
fn json_api(ctx: &Ctx, obj: &Object) -> Option<Extracted> {
    let first = first_error(obj)?;
    let detail = str_field(first, "detail");
    let title = str_field(first, "title");
    let shaped = detail.is_some()
        || title.is_some()
        || first.contains_key("source")
        || first.get("status").is_some_and(Value::is_string);
    if !shaped && ctx.media != Media::JsonApi {
        return None;
    }
    let errors = obj.get("errors").and_then(Value::as_array);
    let validation = errors.is_some_and(|all| {
        all.iter()
            .any(|e| e.get("source").and_then(Value::as_object).is_some())
    });
    Some(Extracted {
        format: Format::JsonApi,
        message: usable_message(detail).or_else(|| usable_message(title)),
        code: code_of(first.get("code")),
        validation,
    })
}

/// GraphQL: `{"errors":[{"message","extensions":{"code"}}],"data":null}`.
fn graphql(_: &Ctx, obj: &Object) -> Option<Extracted> {
    let first = first_error(obj)?;
    let message = str_field(first, "message")?;
    let code = obj_field(first, "extensions")
        .and_then(|ext| code_of(ext.get("code")))
        .or_else(|| code_of(first.get("code")));
    found(Format::GraphQl, usable_message(Some(message)), code)
}
