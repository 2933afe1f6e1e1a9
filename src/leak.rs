//! The leak guard: decides whether a message carries backend internals (stack frames, file paths,
//! exception class names, SQL, internal addresses, connection strings) and must be replaced by the
//! catalog message.
//!
//! Each rule is a shape that ordinary prose does not take, checked by hand on the text or on its
//! whitespace-separated words, so messages like "Select a seat", "Version 2.3.1 is not supported"
//! or "/api/trips/7 not found" pass while `at com.foo.Bar.run(Bar.java:42)` does not. When a rule
//! has to choose, it errs towards flagging: a false positive costs a generic message, a false
//! negative leaks a backend's insides to every client.

mod address;
mod code;
mod sql;

/// True when `text` looks like it carries backend internals rather than a message for people.
pub fn looks_internal(text: &str) -> bool {
    let words: Vec<&str> = text.split_whitespace().collect();
    code::has_marker(text)
        || code::has_frame(&words)
        || sql::has_sql(text)
        || address::has_internal_address(text)
        || words.iter().map(|w| trim_word(w)).any(word_leaks)
}

fn word_leaks(word: &str) -> bool {
    code::is_path(word)
        || code::is_class_name(word)
        || address::is_internal_host(word)
        || address::is_private_ipv6(word)
}

/// Strips the punctuation prose puts around a word: quotes, brackets, and sentence ends.
fn trim_word(word: &str) -> &str {
    word.trim_start_matches(['(', '[', '{', '<', '"', '\'', '`', '«', '¿', '¡'])
        .trim_end_matches([
            ')', ']', '}', '>', '"', '\'', '`', '»', ',', ';', ':', '.', '!', '?',
        ])
}

/// A programming-language identifier (ASCII letters, digits, `_`, `$`; not starting with a digit).
fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

/// `NullPointer`, `TripService`: an identifier starting upper-case with some lower-case in it.
fn is_camel(s: &str) -> bool {
    is_ident(s)
        && s.starts_with(|c: char| c.is_ascii_uppercase())
        && s.contains(|c: char| c.is_ascii_lowercase())
}

/// Whether byte offset `i` of `hay` starts a word (nothing alphanumeric right before it).
fn at_word_start(hay: &str, i: usize) -> bool {
    hay[..i]
        .chars()
        .next_back()
        .is_none_or(|c| !c.is_alphanumeric())
}

#[cfg(test)]
mod tests;
