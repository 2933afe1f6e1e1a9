//! Extra message catalogs from TOML files named in `errors.catalogs`: more languages, and
//! overrides of built-in messages or messages for a backend's own codes.
//!
//! ```toml
//! [fr]
//! NOT_FOUND = "Ressource introuvable"
//! [es]
//! TRIP_NOT_FOUND = "Viaje no encontrado"
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::catalog::Catalog;
use crate::codes::is_valid_code;

/// A catalog file that cannot be used; names the file, the key and the reason.
#[derive(Debug, thiserror::Error)]
#[error("{}: {key}: {reason}", path.display())]
pub struct CatalogFileError {
    pub path: PathBuf,
    pub key: String,
    pub reason: String,
}

/// Adds every message of the file at `path` to `catalog` (later files override earlier ones).
pub fn load_into(catalog: &mut Catalog, path: &Path) -> Result<(), CatalogFileError> {
    let fail = |key: &str, reason: String| CatalogFileError {
        path: path.to_path_buf(),
        key: key.to_string(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| fail("", format!("cannot read: {e}")))?;
    let tables: BTreeMap<String, BTreeMap<String, String>> =
        toml::from_str(&text).map_err(|e| {
            fail(
                "",
                format!(
                    "expected [language] tables of CODE = \"message\": {}",
                    e.message()
                ),
            )
        })?;
    for (lang, messages) in &tables {
        if !is_language_tag(lang) {
            return Err(fail(
                lang,
                "not a language tag (like \"fr\" or \"es-MX\")".into(),
            ));
        }
        for (code, message) in messages {
            let key = format!("{lang}.{code}");
            if !is_valid_code(code) {
                return Err(fail(&key, "codes must match ^[A-Z][A-Z0-9_]{0,63}$".into()));
            }
            if message.trim().is_empty() {
                return Err(fail(&key, "the message is empty".into()));
            }
            catalog.add(lang, code, message.clone());
        }
    }
    Ok(())
}

fn is_language_tag(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let primary_ok = parts
        .next()
        .is_some_and(|p| (2..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphabetic()));
    primary_ok
        && parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(name: &str, text: &str) -> PathBuf {
        let path = std::env::temp_dir().join(format!(
            "errgate-catalog-{}-{name}.toml",
            std::process::id()
        ));
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn adds_languages_and_overrides() {
        let path = write(
            "ok",
            "[fr]\nNOT_FOUND = \"Ressource introuvable\"\n[es]\nTRIP_NOT_FOUND = \"Viaje no encontrado\"\n",
        );
        let mut catalog = Catalog::builtin();
        load_into(&mut catalog, &path).unwrap();
        assert!(catalog.has_language("fr"));
        assert_eq!(
            catalog.message("NOT_FOUND", 404, "fr", "en").text,
            "Ressource introuvable"
        );
        assert_eq!(
            catalog.message("TRIP_NOT_FOUND", 404, "es", "en").text,
            "Viaje no encontrado"
        );
    }

    #[test]
    fn rejects_bad_codes_languages_and_syntax() {
        let cases = [
            ("code", "[fr]\nnot_a_code = \"x\"\n", "fr.not_a_code"),
            ("lang", "[\"f r\"]\nNOT_FOUND = \"x\"\n", "f r"),
            ("empty", "[fr]\nNOT_FOUND = \" \"\n", "fr.NOT_FOUND"),
            ("syntax", "[fr\n", "expected"),
        ];
        for (name, text, needle) in cases {
            let path = write(name, text);
            let err = load_into(&mut Catalog::builtin(), &path)
                .unwrap_err()
                .to_string();
            assert!(err.contains(needle), "{name}: {err}");
            assert!(err.contains(&path.display().to_string()), "{name}: {err}");
        }
    }
}
