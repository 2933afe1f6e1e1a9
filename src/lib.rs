//! errgate: a reverse-proxy gateway that turns every failure into one JSON envelope.
//!
//! # Layout
//! - `config`: the validated, typed configuration; `config_file`: TOML + env → `config`.
//! - `catalog`: built-in `en`/`es` messages per error code; `locale`: `Accept-Language`.
//! - `envelope`: the `{"success":false,...}` body and errgate's own failure responses.
//! - `decode`: an upstream error body → text (capped gzip/deflate, charset).
//! - `clean`: upstream message → plain envelope text; `leak`: rejects backend internals.

pub mod clean;
pub mod decode;
pub mod leak;
