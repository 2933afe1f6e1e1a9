//! SQL statements and database driver errors.
//!
//! Prose uses "select", "update" and "delete" too ("Select a seat", "Update your app"), so a
//! statement needs its keywords in SQL order: upper-case as written by hand and by most ORMs, or
//! any case with the clause that makes it a statement (`where`, `values`).

use super::at_word_start;

/// Upper-case statement shapes, matched case-sensitively, keywords in order.
const STATEMENTS: &[&[&str]] = &[
    &["SELECT ", " FROM "],
    &["INSERT INTO "],
    &["UPDATE ", " SET "],
    &["DELETE FROM "],
    &["ALTER TABLE "],
    &["DROP TABLE "],
    &["CREATE TABLE "],
    &["TRUNCATE TABLE "],
];

/// Statements in any case, and driver error texts (PostgreSQL, MySQL, SQLite, Oracle, Hibernate);
/// matched against the lower-cased text, parts in order.
const ANY_CASE: &[&[&str]] = &[
    &["select ", " from ", " where "],
    &["select * "],
    &["select count("],
    &["insert into ", " values"],
    &["update ", " set ", " where "],
    &["delete from ", " where "],
    &["sqlstate"],
    &["syntax error at or near"],
    &["duplicate key value violates"],
    &["violates foreign key constraint"],
    &["violates not-null constraint"],
    &["violates check constraint"],
    &["violates unique constraint"],
    &["relation \"", "\" does not exist"],
    &["error in your sql syntax"],
    &["duplicate entry '", "' for key"],
    &["unknown column '"],
    &["deadlock found when trying"],
    &["no such table:"],
    &["no such column:"],
    &["sqlite_"],
    &["er_dup_entry"],
    &["er_no_such_table"],
    &["could not execute statement"],
];

pub(super) fn has_sql(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    STATEMENTS.iter().any(|parts| in_order(text, parts))
        || ANY_CASE.iter().any(|parts| in_order(&lower, parts))
        || has_oracle_code(text)
}

/// Whether `parts` occur in `hay` in this order, the first one at a word start. Only the first
/// such occurrence needs checking: any later one has less text after it to find the rest in.
fn in_order(hay: &str, parts: &[&str]) -> bool {
    let Some((first, rest)) = parts.split_first() else {
        return false;
    };
    let Some((start, _)) = hay
        .match_indices(first)
        .find(|(i, _)| at_word_start(hay, *i))
    else {
        return false;
    };
    let mut pos = start + first.len();
    rest.iter().all(|part| match hay[pos..].find(part) {
        Some(i) => {
            pos += i + part.len();
            true
        }
        None => false,
    })
}

/// `ORA-00942`: Oracle's five-digit error codes.
fn has_oracle_code(text: &str) -> bool {
    text.match_indices("ORA-").any(|(i, m)| {
        let digits = &text.as_bytes()[i + m.len()..];
        digits.len() >= 5 && digits[..5].iter().all(u8::is_ascii_digit)
    })
}
