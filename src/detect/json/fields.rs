//! JSON readers for framework defaults (Spring Boot, FastAPI/DRF) and the catch-all "other
//! JSON", which share the work of turning per-field validation errors into one message.

use serde_json::Value;

use super::{Ctx, Object, code_of, found, obj_field, str_field};
use crate::detect::{Extracted, Format, usable_message};

/// Keys that carry a human message in ad-hoc JSON: DESIGN §1's list, then the camelCase and
/// snake_case spellings some servers use (Keycloak's admin API says `errorMessage`).
const MESSAGE_KEYS: [&str; 9] = [
    "message",
    "error_description",
    "detail",
    "error",
    "title",
    "msg",
    "reason",
    "errorMessage",
    "error_message",
];
/// Keys that carry a code in ad-hoc JSON.
const CODE_KEYS: [&str; 3] = ["code", "error_code", "errorCode"];
/// FastAPI `loc` entries naming where a value came from rather than which field it is.
const LOC_SOURCES: [&str; 5] = ["body", "query", "path", "header", "cookie"];
/// DRF and Django forms put errors that concern no single field under these keys.
const NON_FIELD_KEYS: [&str; 2] = ["non_field_errors", "__all__"];

/// Spring Boot's `DefaultErrorAttributes`: `timestamp`+`status`+`error`(+`path`). `error` is the
/// reason phrase, never a code; the code is status-derived.
pub(super) fn spring_boot(_: &Ctx, obj: &Object) -> Option<Extracted> {
    let shaped = obj.contains_key("timestamp")
        && obj.get("status").is_some_and(Value::is_number)
        && obj.get("error").is_some_and(Value::is_string);
    if !shaped {
        return None;
    }
    // Field errors (`BindException`) say more than "Validation failed for object='user'...".
    let field_error = obj
        .get("errors")
        .and_then(Value::as_array)
        .and_then(|errors| spring_field_error(errors));
    let validation = field_error.is_some();
    let message = field_error.or_else(|| usable_message(str_field(obj, "message")));
    Some(Extracted {
        format: Format::SpringBoot,
        message,
        code: None,
        validation,
    })
}

/// The first Spring `FieldError`/`ObjectError` with a `defaultMessage`, prefixed by its field.
fn spring_field_error(errors: &[Value]) -> Option<String> {
    errors
        .iter()
        .filter_map(Value::as_object)
        .find_map(|error| {
            let text = usable_message(str_field(error, "defaultMessage"))?;
            Some(with_field(str_field(error, "field"), text))
        })
}

/// FastAPI/Starlette and DRF: `detail` string, FastAPI's 422 list of `{loc, msg}`, or a DRF
/// serializer field map on a 400.
pub(super) fn fastapi(ctx: &Ctx, obj: &Object) -> Option<Extracted> {
    match obj.get("detail") {
        Some(Value::String(text)) => found(
            Format::FastApi,
            usable_message(Some(text)),
            code_of(obj.get("code")),
        ),
        Some(Value::Array(items)) => Some(Extracted {
            format: Format::FastApi,
            message: detail_list_message(items),
            code: (ctx.status == 422).then(|| "VALIDATION_ERROR".to_owned()),
            validation: true,
        }),
        _ => drf_field_map(ctx, obj),
    }
}

/// The first `msg` of a FastAPI validation list, as "field: msg".
fn detail_list_message(items: &[Value]) -> Option<String> {
    items.iter().find_map(|item| match item {
        Value::Object(error) => {
            let text = usable_message(str_field(error, "msg"))?;
            Some(with_field(loc_field(error.get("loc")), text))
        }
        Value::String(text) => usable_message(Some(text)),
        _ => None,
    })
}

/// The field a FastAPI `loc` points at: `["body", "items", 0, "price"]` → `price`.
fn loc_field(loc: Option<&Value>) -> Option<&str> {
    loc?.as_array()?
        .iter()
        .rev()
        .filter_map(Value::as_str)
        .find(|part| !LOC_SOURCES.contains(part))
}

/// DRF `{"email": ["This field is required."]}`. Only on 400/422: elsewhere a map of lists is
/// more likely data than errors.
fn drf_field_map(ctx: &Ctx, obj: &Object) -> Option<Extracted> {
    if !matches!(ctx.status, 400 | 422) || !is_field_map(obj) {
        return None;
    }
    Some(Extracted {
        format: Format::FastApi,
        message: field_map_message(obj),
        code: None,
        validation: true,
    })
}

/// A non-empty map whose every value is a non-empty list starting with a string.
fn is_field_map(map: &Object) -> bool {
    !map.is_empty()
        && map.values().all(|value| {
            value
                .as_array()
                .and_then(|list| list.first())
                .is_some_and(Value::is_string)
        })
}

/// The non-field error if any, else the first field's (keys come sorted from serde_json).
fn field_map_message(map: &Object) -> Option<String> {
    let general = NON_FIELD_KEYS.iter().find_map(|key| {
        map.get(*key)?
            .as_array()
            .and_then(|list| first_string(list))
    });
    general.or_else(|| {
        map.iter().find_map(|(field, value)| {
            let text = first_string(value.as_array()?)?;
            Some(with_field(Some(field), text))
        })
    })
}

/// Anything else: the first message-bearing key, then one level into an `error` object, then
/// an `errors` list or field map (NestJS, Rails).
pub(super) fn other_json(_: &Ctx, obj: &Object) -> Option<Extracted> {
    let mut validation = false;
    let message = MESSAGE_KEYS
        .iter()
        .find_map(|key| message_at(obj, key, &mut validation))
        .or_else(|| nested_error_message(obj))
        .or_else(|| errors_message(obj.get("errors"), &mut validation));
    let code = CODE_KEYS
        .iter()
        .find_map(|key| code_of(obj.get(*key)))
        .or_else(|| obj_field(obj, "error").and_then(|inner| code_of(inner.get("code"))));
    Some(Extracted {
        format: Format::OtherJson,
        message,
        code,
        validation,
    })
}

/// A message at `key`; a list of messages (NestJS `class-validator`) counts as validation.
fn message_at(obj: &Object, key: &str, validation: &mut bool) -> Option<String> {
    match obj.get(key)? {
        // `{"error": "invalid_token"}` is a code, not prose.
        Value::String(text) if key == "error" && is_token(text) => None,
        Value::String(text) => usable_message(Some(text)),
        Value::Array(items) => {
            let text = first_string(items)?;
            *validation = true;
            Some(text)
        }
        _ => None,
    }
}

/// `{"error": {"description": ...}}` and similar: an `error` object without Stripe's `message`.
fn nested_error_message(obj: &Object) -> Option<String> {
    let inner = obj_field(obj, "error")?;
    MESSAGE_KEYS
        .iter()
        .chain(&["description"])
        .find_map(|key| usable_message(str_field(inner, key)))
}

fn errors_message(errors: Option<&Value>, validation: &mut bool) -> Option<String> {
    let text = match errors? {
        Value::Array(items) => first_string(items).or_else(|| spring_field_error(items)),
        Value::Object(map) if is_field_map(map) => field_map_message(map),
        _ => None,
    }?;
    *validation = true;
    Some(text)
}

/// Whether `errors` holds per-field errors (a non-empty map or list).
pub(super) fn has_field_errors(errors: Option<&Value>) -> bool {
    match errors {
        Some(Value::Object(map)) => !map.is_empty(),
        Some(Value::Array(items)) => !items.is_empty(),
        _ => false,
    }
}

/// The first usable string in a list.
pub(super) fn first_string(items: &[Value]) -> Option<String> {
    items
        .iter()
        .filter_map(Value::as_str)
        .find_map(|text| usable_message(Some(text)))
}

/// A single word with no whitespace: reads as an identifier, not a sentence.
fn is_token(text: &str) -> bool {
    !text.trim().contains(char::is_whitespace)
}

fn with_field(field: Option<&str>, message: String) -> String {
    match field.map(str::trim).filter(|f| !f.is_empty()) {
        Some(field) => format!("{field}: {message}"),
        None => message,
    }
}

#[cfg(test)]
mod tests;
