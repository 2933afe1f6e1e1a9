//! Bounded metric label values for error codes.
//!
//! errgate's own codes and the status-derived ones are a fixed set. Codes that upstreams supply
//! are not: a backend that puts an id into its code would create a new Prometheus series per
//! request. The first [`MAX_UPSTREAM_CODES`] distinct upstream codes keep their name; every later
//! one is counted as `OTHER`.

use std::collections::HashSet;
use std::sync::{Arc, LazyLock, RwLock};

use crate::codes;

pub const MAX_UPSTREAM_CODES: usize = 100;
pub const OTHER: &str = "OTHER";

/// The label for `code`: itself if known or admitted, else `OTHER`.
pub fn error_label(code: &str) -> Arc<str> {
    static SEEN: LazyLock<Labels> = LazyLock::new(|| Labels::new(MAX_UPSTREAM_CODES));
    SEEN.label(code)
}

/// A set of admitted codes with a cap; the common case (already admitted) takes a read lock.
pub struct Labels {
    cap: usize,
    admitted: RwLock<HashSet<Arc<str>>>,
    other: Arc<str>,
}

impl Labels {
    pub fn new(cap: usize) -> Self {
        let builtin = codes::ALL.iter().map(|c| Arc::from(*c));
        Labels {
            cap: cap + codes::ALL.len(),
            admitted: RwLock::new(builtin.collect()),
            other: Arc::from(OTHER),
        }
    }

    pub fn label(&self, code: &str) -> Arc<str> {
        if let Ok(set) = self.admitted.read() {
            if let Some(known) = set.get(code) {
                return known.clone();
            }
            if set.len() >= self.cap {
                return self.other.clone();
            }
        }
        let Ok(mut set) = self.admitted.write() else {
            return self.other.clone();
        };
        if let Some(known) = set.get(code) {
            return known.clone();
        }
        if set.len() >= self.cap || !codes::is_valid_code(code) {
            return self.other.clone();
        }
        let label: Arc<str> = Arc::from(code);
        set.insert(label.clone());
        label
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_codes_never_count_against_the_cap() {
        let labels = Labels::new(2);
        assert_eq!(&*labels.label("UPSTREAM_TIMEOUT"), "UPSTREAM_TIMEOUT");
        assert_eq!(&*labels.label("NOT_FOUND"), "NOT_FOUND");
        assert_eq!(&*labels.label("A"), "A");
        assert_eq!(&*labels.label("B"), "B");
        assert_eq!(&*labels.label("C"), OTHER);
        assert_eq!(&*labels.label("A"), "A", "admitted codes stay admitted");
        assert_eq!(&*labels.label("ROUTE_NOT_FOUND"), "ROUTE_NOT_FOUND");
    }

    #[test]
    fn at_most_the_cap_of_distinct_upstream_codes() {
        let labels = Labels::new(MAX_UPSTREAM_CODES);
        let distinct: HashSet<String> = (0..10_000)
            .map(|i| labels.label(&format!("CODE_{i}")).to_string())
            .collect();
        assert_eq!(
            distinct.len(),
            MAX_UPSTREAM_CODES + 1,
            "100 codes plus OTHER"
        );
        assert!(distinct.contains(OTHER));
    }

    #[test]
    fn invalid_codes_are_other() {
        assert_eq!(&*Labels::new(5).label("not a code"), OTHER);
    }
}
