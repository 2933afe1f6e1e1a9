//! Loads TOML (and `ERRGATE_*` env overrides) into the typed [`crate::config::Config`].
//!
//! The file goes through the `config` crate (TOML + environment layers) into the raw structs of
//! `config_raw`, then `config_validate` turns them into the typed config. Every failure, from a
//! missing file to an unknown upstream, comes back as a [`ConfigError`] listing each problem with
//! where it came from (file or environment variable), its dotted key and the reason.

use std::collections::BTreeMap;
use std::error::Error as StdError;
use std::fmt;
use std::path::{Path, PathBuf};

use config::{Environment, File, FileFormat};

use crate::config::Config;
use crate::config_raw::RawConfig;
use crate::config_validate::{Context, validate};

/// Environment variables `ERRGATE_<SECTION>__<KEY>` override file keys.
pub const ENV_PREFIX: &str = "ERRGATE";
/// Set by the CLI for itself; they share the prefix but are not config keys.
const ENV_NOT_CONFIG: [&str; 2] = ["ERRGATE_CONFIG", "ERRGATE_LOG"];
/// Keys whose env value is a comma-separated list.
const ENV_LIST_KEYS: [&str; 2] = ["defaults.retry.on", "errors.catalogs"];
/// `Config::source` of a config built by [`from_toml_str`].
pub const INLINE_SOURCE: &str = "<inline>";

type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// One thing wrong with a configuration.
#[derive(Debug, thiserror::Error)]
#[error("{origin}: {}{reason}", key_prefix(.key))]
pub struct Problem {
    /// The file path, or `environment variable ERRGATE_X__Y`.
    pub origin: String,
    /// Dotted path such as `routes[1].upstream`; empty for the file as a whole.
    pub key: String,
    pub reason: String,
    #[source]
    pub source: Option<BoxError>,
}

fn key_prefix(key: &str) -> String {
    if key.is_empty() {
        String::new()
    } else {
        format!("{key}: ")
    }
}

/// A rejected configuration: every problem found, one per line when displayed.
#[derive(Debug)]
pub struct ConfigError {
    problems: Vec<Problem>,
}

impl ConfigError {
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    pub(crate) fn new(problems: Vec<Problem>) -> Self {
        Self { problems }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

impl StdError for ConfigError {
    /// With a single problem (the usual case for I/O and syntax errors) its cause is the cause.
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self.problems.as_slice() {
            [only] => only.source(),
            _ => None,
        }
    }
}

/// Loads `path`, with overrides from the real process environment.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    // `vars_os`: one non-Unicode variable elsewhere in the environment must not abort start-up.
    let env = std::env::vars_os()
        .filter_map(|(key, value)| Some((key.into_string().ok()?, value.into_string().ok()?)));
    load_with_env(path, env)
}

/// Loads `path`, with overrides taken from `env` instead of the process environment.
pub fn load_with_env(
    path: &Path,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Config, ConfigError> {
    let origin = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|err| {
        let reason = format!("cannot read the config file: {err}");
        ConfigError::new(vec![Problem {
            origin: origin.clone(),
            key: String::new(),
            reason,
            source: Some(Box::new(err)),
        }])
    })?;
    let base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    load_text(&text, path.to_path_buf(), base_dir, EnvOverrides::new(env))
}

/// Builds a config from TOML text, without environment overrides; relative paths in it resolve
/// against the current directory.
pub fn from_toml_str(text: &str) -> Result<Config, ConfigError> {
    let env = EnvOverrides::new(std::iter::empty());
    load_text(text, PathBuf::from(INLINE_SOURCE), PathBuf::new(), env)
}

fn load_text(
    text: &str,
    source: PathBuf,
    base_dir: PathBuf,
    env: EnvOverrides,
) -> Result<Config, ConfigError> {
    let origin = source.display().to_string();
    let raw = deserialize(text, &env.vars).map_err(|err| {
        // Re-reading without the environment tells whether the file or a variable is at fault.
        let file_is_fine = !env.vars.is_empty() && deserialize(text, &EnvVars::new()).is_ok();
        let problem = if file_is_fine {
            from_config_error(err, text, |key| env.origin_under(key))
        } else {
            from_config_error(err, text, |_| origin.clone())
        };
        ConfigError::new(vec![problem])
    })?;
    let context = Context {
        origin,
        env_keys: env.keys,
        source,
        base_dir,
    };
    validate(raw, &context)
}

type EnvVars = config::Map<String, String>;

fn deserialize(text: &str, env: &EnvVars) -> Result<RawConfig, config::ConfigError> {
    let mut builder = config::Config::builder().add_source(File::from_str(text, FileFormat::Toml));
    if !env.is_empty() {
        let mut layer = Environment::with_prefix(ENV_PREFIX)
            .prefix_separator("_")
            .separator("__")
            .try_parsing(true)
            .list_separator(",");
        for key in ENV_LIST_KEYS {
            layer = layer.with_list_parse_key(key);
        }
        builder = builder.add_source(layer.source(Some(env.clone())));
    }
    builder.build()?.try_deserialize()
}

/// The `ERRGATE_*__*` variables that are config keys, and which dotted key each one sets.
struct EnvOverrides {
    vars: EnvVars,
    /// Dotted key (as the `config` crate spells it: lower-case) → variable name.
    keys: BTreeMap<String, String>,
}

impl EnvOverrides {
    fn new(env: impl IntoIterator<Item = (String, String)>) -> Self {
        let mut vars = EnvVars::new();
        let mut keys = BTreeMap::new();
        for (name, value) in env {
            if let Some(key) = env_key(&name) {
                keys.insert(key, name.clone());
                vars.insert(name, value);
            }
        }
        Self { vars, keys }
    }

    /// Names the variables that set `key` or anything below it.
    fn origin_under(&self, key: &str) -> String {
        let names: Vec<&str> = self
            .keys
            .iter()
            .filter(|(k, _)| key.is_empty() || *k == key || k.starts_with(&format!("{key}.")))
            .map(|(_, name)| name.as_str())
            .collect();
        match names.as_slice() {
            [one] => format!("environment variable {one}"),
            [] => "environment".to_owned(),
            many => format!("environment variables {}", many.join(", ")),
        }
    }
}

/// `ERRGATE_DEFAULTS__RETRY__ATTEMPTS` → `defaults.retry.attempts`, mirroring the `config` crate
/// (which lower-cases the whole name); `None` for variables that are not config keys.
fn env_key(name: &str) -> Option<String> {
    if ENV_NOT_CONFIG.iter().any(|n| n.eq_ignore_ascii_case(name)) {
        return None;
    }
    let lower = name.to_lowercase();
    let rest = lower.strip_prefix(&format!("{}_", ENV_PREFIX.to_lowercase()))?;
    rest.contains("__").then(|| rest.replace("__", "."))
}

/// Turns a `config` crate error into a problem: the key it names, a one-line reason, and the
/// original error kept as the source.
fn from_config_error(
    err: config::ConfigError,
    text: &str,
    origin_of: impl Fn(&str) -> String,
) -> Problem {
    let (key, reason) = describe(&err, text);
    let key = dot_after_index(&key);
    Problem {
        origin: origin_of(&key),
        key,
        reason,
        source: Some(Box::new(err)),
    }
}

/// The `config` crate spells a field under an array element `routes[0]host_rewrite`; make it
/// `routes[0].host_rewrite` like every other key in our messages.
fn dot_after_index(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 4);
    let mut chars = key.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == ']' && chars.peek().is_some_and(|next| !matches!(next, '[' | '.')) {
            out.push('.');
        }
    }
    out
}

fn describe(err: &config::ConfigError, text: &str) -> (String, String) {
    match err {
        config::ConfigError::At { error, key, .. } => {
            let (inner_key, reason) = describe(error, text);
            (key.clone().unwrap_or(inner_key), reason)
        }
        config::ConfigError::Type {
            unexpected,
            expected,
            key,
            ..
        } => (
            key.clone().unwrap_or_default(),
            format!("invalid type: {unexpected}, expected {expected}"),
        ),
        config::ConfigError::NotFound(key) => (key.clone(), "missing".to_owned()),
        config::ConfigError::FileParse { cause, .. } => (String::new(), syntax_reason(cause, text)),
        config::ConfigError::Message(message) => (String::new(), message.clone()),
        other => (String::new(), other.to_string()),
    }
}

/// The TOML error's own display spans several lines (a source snippet); keep one line.
fn syntax_reason(cause: &BoxError, text: &str) -> String {
    let Some(toml_err) = cause.downcast_ref::<toml::de::Error>() else {
        return format!("invalid TOML: {cause}");
    };
    match toml_err.span() {
        Some(span) => {
            let before = text.get(..span.start).unwrap_or(text);
            let line = before.matches('\n').count() + 1;
            let column = before.chars().rev().take_while(|&c| c != '\n').count() + 1;
            let message = toml_err.message();
            format!("invalid TOML at line {line}, column {column}: {message}")
        }
        None => format!("invalid TOML: {}", toml_err.message()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_keys_follow_the_config_crate() {
        let key = env_key("ERRGATE_DEFAULTS__RETRY__ATTEMPTS");
        assert_eq!(key.as_deref(), Some("defaults.retry.attempts"));
        assert_eq!(env_key("ERRGATE_CONFIG"), None);
        assert_eq!(env_key("ERRGATE_LOG"), None);
        assert_eq!(env_key("ERRGATE_LISTENER_ADDRESS"), None);
        assert_eq!(env_key("OTHER__KEY"), None);
    }

    #[test]
    fn index_keys_get_a_dot() {
        assert_eq!(
            dot_after_index("routes[0]host_rewrite"),
            "routes[0].host_rewrite"
        );
        assert_eq!(
            dot_after_index("routes[0].errors[1]"),
            "routes[0].errors[1]"
        );
        assert_eq!(dot_after_index("a[0][1]b"), "a[0][1].b");
    }
}
