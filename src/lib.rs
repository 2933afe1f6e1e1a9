//! errgate: a reverse-proxy gateway that turns every failure into one JSON envelope.
//!
//! # Layout
//! - `config`: the validated, typed configuration; `config_file`: TOML + env → `config`.
//! - `codes`: every error code errgate emits and the status-derived fallbacks.
//! - `catalog`: built-in `en`/`es` messages per error code; `locale`: `Accept-Language`.
//! - `envelope`: the `{"success":false,...}` body and errgate's own failure responses.

pub mod catalog;
mod catalog_builtin;
pub mod codes;
pub mod envelope;
pub mod locale;
