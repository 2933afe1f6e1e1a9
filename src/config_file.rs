//! Loads TOML (and `ERRGATE_*` env overrides) into the typed [`crate::config::Config`].
