//! errgate: a reverse-proxy gateway that turns every failure into one JSON envelope.
//!
//! # Layout
//! - `config`: the validated, typed configuration; `config_file`: TOML + env → `config`.
//!   Behind it: `config_raw` (file structs), `config_validate`, `config_routes`,
//!   `config_retry` (checks and defaults), `duration` (`"250ms"` strings).
//! - `catalog`: built-in `en`/`es` messages per error code; `locale`: `Accept-Language`.
//! - `envelope`: the `{"success":false,...}` body and errgate's own failure responses.

pub mod config;
pub mod config_file;
mod config_raw;
mod config_retry;
mod config_routes;
mod config_validate;
mod duration;
