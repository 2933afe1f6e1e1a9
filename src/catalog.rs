//! Human messages per error code and language: the built-in `en`/`es` table plus whatever
//! TOML catalogs and per-deployment overrides add through [`Catalog::add`].
//!
//! Resolution never fails: the code in the wanted language, then the default language, then
//! `en`; an unknown code (an upstream's own) falls back to its status-derived code the same way;
//! last comes a generic message. The returned language is the one actually used, so
//! `Content-Language` never claims Spanish for an English fallback.

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};

use crate::catalog_builtin::MESSAGES;
use crate::codes;

pub use crate::catalog_builtin::GENERIC;

/// The language every message exists in.
pub const FALLBACK_LANG: &str = "en";

/// Only reachable if every generic message was removed; keeps `message` total without panics.
const LAST_RESORT: CatalogMessage<'static> = CatalogMessage {
    text: "An unexpected error occurred",
    lang: FALLBACK_LANG,
};

/// A resolved message and the language it is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CatalogMessage<'a> {
    pub text: &'a str,
    pub lang: &'a str,
}

/// Messages keyed by lower-case language tag, then by code.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    // BTreeMap so `languages()` lists in a stable order (logs, `explain`, tests).
    by_lang: BTreeMap<String, HashMap<String, String, BuildHasherDefault<Fnv1a>>>,
}

/// FNV-1a for the code → message maps: a code is a short string, and every rewritten error
/// looks one up. SipHash's resistance to chosen keys buys nothing here: the maps are built
/// from the configuration and never grow from a request, so a code an upstream makes up
/// costs at most one probe of a fixed table.
#[derive(Debug, Clone, Copy)]
pub struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Self {
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv1a {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl Catalog {
    /// The messages errgate ships with: `en` and `es` for every code it emits.
    pub fn builtin() -> Catalog {
        let mut catalog = Catalog::default();
        for (code, en, es) in MESSAGES {
            catalog.add("en", code, (*en).to_owned());
            catalog.add("es", code, (*es).to_owned());
        }
        catalog
    }

    /// Adds or replaces the message for `code` in `lang` (case-insensitive).
    ///
    /// A blank message or language is ignored: the envelope's message must never be empty, and
    /// the loaders report such entries as config errors before they get here.
    pub fn add(&mut self, lang: &str, code: &str, message: String) {
        if lang.trim().is_empty() || message.trim().is_empty() {
            return;
        }
        self.by_lang
            .entry(lang.to_ascii_lowercase())
            .or_default()
            .insert(code.to_owned(), message);
    }

    /// Whether any message exists in `lang` (case-insensitive).
    pub fn has_language(&self, lang: &str) -> bool {
        self.language(lang).is_some()
    }

    /// The catalog's own spelling of `lang`, borrowed from the catalog (case-insensitive).
    pub fn language(&self, lang: &str) -> Option<&str> {
        self.by_lang
            .keys()
            .find(|key| key.eq_ignore_ascii_case(lang))
            .map(String::as_str)
    }

    /// Every language with at least one message, in sorted order.
    pub fn languages(&self) -> impl Iterator<Item = &str> {
        self.by_lang.keys().map(String::as_str)
    }

    /// The message for `code`; see the module doc for the fallback order.
    pub fn message(
        &self,
        code: &str,
        status: u16,
        lang: &str,
        default_lang: &str,
    ) -> CatalogMessage<'_> {
        self.lookup(code, lang, default_lang)
            .or_else(|| self.lookup(codes::status_code(status), lang, default_lang))
            .or_else(|| self.lookup(GENERIC, lang, default_lang))
            .unwrap_or(LAST_RESORT)
    }

    fn lookup(&self, code: &str, lang: &str, default_lang: &str) -> Option<CatalogMessage<'_>> {
        // `es-mx` may exist as a small override catalog; its gaps are filled from `es`.
        let primary = lang.split_once('-').map_or(lang, |(primary, _)| primary);
        [lang, primary, default_lang, FALLBACK_LANG]
            .into_iter()
            .find_map(|candidate| self.get(code, candidate))
    }

    fn get(&self, code: &str, lang: &str) -> Option<CatalogMessage<'_>> {
        let (lang, messages) = self
            .by_lang
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(lang))?;
        let text = messages.get(code)?;
        Some(CatalogMessage { text, lang })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_codes() -> impl Iterator<Item = &'static str> {
        let derived = (400..=599).map(codes::status_code);
        codes::ALL.iter().copied().chain(derived).chain([GENERIC])
    }

    #[test]
    fn every_code_has_en_and_es() {
        let catalog = Catalog::builtin();
        for code in all_codes() {
            for lang in ["en", "es"] {
                let found = catalog.get(code, lang);
                let text = found.map(|m| m.text).unwrap_or_default();
                assert!(!text.trim().is_empty(), "{code} has no {lang} message");
                assert_eq!(found.map(|m| m.lang), Some(lang));
            }
        }
    }

    #[test]
    fn translations_differ_from_english() {
        let catalog = Catalog::builtin();
        for code in all_codes() {
            let en = catalog.message(code, 500, "en", "en").text;
            let es = catalog.message(code, 500, "es", "en").text;
            assert_ne!(en, es, "{code} is not translated");
        }
    }

    #[test]
    fn contract_examples() {
        let catalog = Catalog::builtin();
        let es = |code| catalog.message(code, 500, "es", "en").text;
        assert_eq!(es(codes::UPSTREAM_TIMEOUT), "Tiempo de espera agotado");
        assert_eq!(es(codes::NOT_FOUND), "Recurso no encontrado");
        assert_eq!(es(codes::UNAUTHORIZED), "Credenciales inválidas");
    }

    #[test]
    fn falls_back_to_default_then_en() {
        let mut catalog = Catalog::builtin();
        catalog.add("fr", codes::NOT_FOUND, "Ressource introuvable".to_owned());
        catalog.add("es", "ONLY_ES", "Solo en español".to_owned());
        let fr = catalog.message(codes::NOT_FOUND, 404, "fr", "es");
        assert_eq!(
            fr,
            CatalogMessage {
                text: "Ressource introuvable",
                lang: "fr"
            }
        );
        let to_default = catalog.message(codes::GONE, 410, "fr", "es");
        assert_eq!(to_default.lang, "es");
        let to_en = catalog.message(codes::GONE, 410, "de", "it");
        assert_eq!(
            to_en,
            CatalogMessage {
                text: "The resource is no longer available",
                lang: "en"
            }
        );
        let only_es = catalog.message("ONLY_ES", 400, "de", "es");
        assert_eq!(only_es.text, "Solo en español");
    }

    #[test]
    fn unknown_code_uses_status_then_generic() {
        let catalog = Catalog::builtin();
        let by_status = catalog.message("TRIP_LOCKED", 423, "es", "en");
        assert_eq!(by_status.text, "No se pudo procesar la solicitud");
        let odd_status = catalog.message("TRIP_LOCKED", 299, "es", "en");
        assert_eq!(
            odd_status.text,
            "El servicio devolvió una respuesta inesperada"
        );
        let empty = Catalog::default();
        assert_eq!(empty.message("X", 500, "es", "en"), LAST_RESORT);
    }

    #[test]
    fn region_falls_back_to_primary_language() {
        let mut catalog = Catalog::builtin();
        catalog.add("es-MX", codes::GONE, "Ya no existe, compa".to_owned());
        let mx = catalog.message(codes::GONE, 410, "es-mx", "en");
        assert_eq!(mx.lang, "es-mx");
        let gap = catalog.message(codes::NOT_FOUND, 404, "es-mx", "en");
        assert_eq!(
            gap,
            CatalogMessage {
                text: "Recurso no encontrado",
                lang: "es"
            }
        );
    }

    #[test]
    fn add_overrides_and_ignores_blank() {
        let mut catalog = Catalog::builtin();
        catalog.add("ES", codes::NOT_FOUND, "No existe".to_owned());
        catalog.add("es", codes::GONE, "  ".to_owned());
        catalog.add("", codes::GONE, "x".to_owned());
        assert_eq!(
            catalog.message(codes::NOT_FOUND, 404, "es", "en").text,
            "No existe"
        );
        assert_eq!(
            catalog.message(codes::GONE, 410, "es", "en").text,
            "El recurso ya no está disponible"
        );
        assert_eq!(catalog.languages().collect::<Vec<_>>(), ["en", "es"]);
        assert!(catalog.has_language("ES") && !catalog.has_language("fr"));
        assert_eq!(catalog.language("EN"), Some("en"));
    }
}
