//! Traces of code: stack frames, source and system file paths, exception class names.

use super::{is_camel, is_ident};

/// Phrases that only runtimes write (Java, Python, Node, Go, .NET, Ruby, Rust, PHP).
const MARKERS: &[&str] = &[
    "Traceback (most recent call last)",
    "the above exception",
    "Caused by:",
    "Exception in thread",
    "Stack trace:",
    "stack trace:",
    "Stacktrace:",
    "End of inner exception",
    "(Native Method)",
    "(Unknown Source)",
    "<anonymous>",
    "node:internal",
    "node_modules/",
    "Cannot read properties of",
    "Cannot read property '",
    "undefined is not a function",
    "Object reference not set to an instance of an object",
    "[running]:",
    "nil pointer dereference",
    "runtime error: index out of range",
    "panicked at",
    "cannot open shared object file",
    ":in `",
    ":in '",
];

/// Source and binary file extensions: a path ending in one names the backend's code.
const SOURCE_EXTENSIONS: &[&str] = &[
    "py", "pyc", "java", "class", "jar", "war", "jsp", "js", "mjs", "cjs", "ts", "tsx", "jsx",
    "go", "rb", "erb", "php", "cs", "vb", "rs", "kt", "kts", "scala", "groovy", "clj", "c", "cc",
    "cpp", "cxx", "h", "hpp", "m", "swift", "ex", "exs", "erl", "dll", "so", "dylib", "exe", "pdb",
];

/// First segments of absolute paths that are file systems, not URL routes.
const SYSTEM_DIRS: &[&str] = &[
    "usr", "var", "etc", "home", "opt", "srv", "tmp", "root", "proc", "sys", "lib", "lib64", "bin",
    "sbin", "mnt", "snap", "nix", "Users",
];

/// Container and build roots (`/app/src/…`, `/go/src/…`) that are also plausible URL routes
/// (`/app/trips`), so they need a deeper path before they count.
const PROJECT_DIRS: &[&str] = &["app", "src", "go", "run", "private", "workspace", "code"];

/// Package prefixes of exception and driver classes, even when the class part is lower-case.
const PACKAGE_PREFIXES: &[&str] = &[
    "java.",
    "javax.",
    "jakarta.",
    "org.hibernate",
    "org.springframework",
    "org.apache.",
    "org.postgresql",
    "com.mysql",
    "com.fasterxml",
    "psycopg2.",
    "sqlalchemy.",
    "django.",
    "pymongo.",
    "System.",
    "Microsoft.",
];

pub(super) fn has_marker(text: &str) -> bool {
    let start = text.trim_start();
    MARKERS.iter().any(|m| text.contains(m))
        || start.starts_with("panic: ")
        || start.starts_with("Exception:")
        || (text.contains("File \"") && text.contains("\", line "))
        || text
            .match_indices("goroutine ")
            .any(|(i, m)| text[i + m.len()..].starts_with(|c: char| c.is_ascii_digit()))
}

/// A stack frame: `at pkg.Class.method(…)`, `at Foo.Bar() in …`, or `at async fn (…)`.
pub(super) fn has_frame(words: &[&str]) -> bool {
    words.iter().enumerate().any(|(i, w)| {
        if *w != "at" {
            return false;
        }
        match words.get(i + 1..).unwrap_or_default() {
            ["async", target, rest @ ..] => {
                target.contains('(') || rest.first().is_some_and(|n| n.starts_with('('))
            }
            [target, ..] => is_call(target),
            [] => false,
        }
    })
}

/// `com.foo.Bar.method(Bar.java:42)`, `Foo.Bar()`: a dotted name directly followed by `(`.
fn is_call(word: &str) -> bool {
    let Some((callee, _)) = word.split_once('(') else {
        return false;
    };
    let mut segments = callee.split('.');
    segments.clone().count() >= 2 && segments.all(is_ident)
}

pub(super) fn is_path(word: &str) -> bool {
    if word.starts_with("+0x") && word.len() > 3 {
        // A Go frame's PC offset: `/go/src/x.go:12 +0x1d`.
        return word[3..].bytes().all(|b| b.is_ascii_hexdigit());
    }
    if let Some((scheme, rest)) = word.split_once("://") {
        // A URL's path is a web route; only a source file with a line number gives a frame away.
        let path = rest.find('/').map_or("", |i| &rest[i..]);
        return scheme.eq_ignore_ascii_case("file") || has_source_file(path, true);
    }
    is_windows_path(word) || is_unix_path(word) || has_source_file(word, false)
}

/// `C:\src\x.cs`, `c:/Users/…`, `\\server\share`.
fn is_windows_path(word: &str) -> bool {
    match word.as_bytes() {
        [drive, b':', b'\\' | b'/', ..] => drive.is_ascii_alphabetic(),
        [b'\\', b'\\', c, ..] => c.is_ascii_alphanumeric(),
        _ => false,
    }
}

/// `/var/www/app`, `~/x`, `../../etc/passwd` — but not `/api/trips/7`.
fn is_unix_path(word: &str) -> bool {
    if word.starts_with("~/") || word.split(['/', '\\']).any(|s| s == "..") {
        return word.contains('/');
    }
    let Some(path) = word.strip_prefix('/') else {
        return false;
    };
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match segments.first() {
        Some(first) if SYSTEM_DIRS.contains(first) => segments.len() >= 2,
        Some(first) if PROJECT_DIRS.contains(first) => segments.len() >= 3,
        _ => false,
    }
}

/// A file name with a source extension that sits in a directory (`app/models/x.rb`) or carries a
/// line number (`Bar.java:42`, `x.cs:line 12`). A bare name is left alone: "Node.js" is prose.
fn has_source_file(word: &str, require_line: bool) -> bool {
    let first_separator = word.find(['/', '\\']);
    word.match_indices('.').any(|(dot, _)| {
        let stem_ok = word[..dot]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        let rest = &word[dot + 1..];
        let ext_len = rest
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(rest.len());
        let (ext, after) = rest.split_at(ext_len);
        let is_source =
            ext_len <= 6 && SOURCE_EXTENSIONS.contains(&ext.to_ascii_lowercase().as_str());
        // `shop.py/cart` is a host under Paraguay's TLD, not a Python file.
        if !stem_ok || !is_source || after.starts_with('/') {
            return false;
        }
        let has_line = after
            .strip_prefix(':')
            .is_some_and(|l| l.starts_with(|c: char| c.is_ascii_digit()) || l.starts_with("line"));
        has_line || (!require_line && first_separator.is_some_and(|sep| sep < dot))
    })
}

/// `NullPointerException`, `java.lang.IllegalStateException`, `ValueError`, `psycopg2.errors.X`,
/// `ActiveRecord::RecordNotFound`, `org.hibernate.exception.ConstraintViolationException`.
pub(super) fn is_class_name(word: &str) -> bool {
    let name = word.split('(').next().unwrap_or_default();
    if PACKAGE_PREFIXES
        .iter()
        .any(|p| name.starts_with(p) && name.len() > p.len())
    {
        return true;
    }
    if let Some((left, right)) = name.split_once("::") {
        return is_ident(left) && right.split("::").all(is_ident);
    }
    let segments: Vec<&str> = name.split('.').collect();
    let last = segments.last().copied().unwrap_or_default();
    is_exception_name(last)
        || (segments.len() >= 3 && segments.iter().all(|s| is_ident(s)) && is_camel(last))
}

/// `KeyError`, `NullReferenceException`: a CamelCase name ending in `Error` or `Exception`.
fn is_exception_name(name: &str) -> bool {
    ["Exception", "Error"].iter().any(|suffix| {
        name.strip_suffix(suffix).is_some_and(|prefix| {
            is_ident(prefix) && prefix.starts_with(|c: char| c.is_ascii_uppercase())
        })
    })
}
