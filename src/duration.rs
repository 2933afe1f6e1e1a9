//! Parses the human duration strings of the config file (`"250ms"`, `"2s"`, `"1m"`, `"1h"`).

use std::time::Duration;

/// Why a duration string was rejected; the config loader puts it after the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("expected a duration such as \"250ms\", \"2s\", \"1m\" or \"1h\", got {0:?}")]
    Malformed(String),
    /// A bare number is ambiguous (seconds? milliseconds?), so the unit is mandatory.
    #[error("missing unit in {0:?}: use ms, s, m or h (e.g. \"2s\")")]
    MissingUnit(String),
    #[error("unknown unit {unit:?} in {input:?}: use ms, s, m or h")]
    UnknownUnit { input: String, unit: String },
    /// A zero timeout would fail every request at once; nobody means that.
    #[error("duration must be greater than zero, got {0:?}")]
    Zero(String),
    #[error("duration {0:?} is too large")]
    TooLarge(String),
}

/// Parses `<number><unit>` where the number may have a fraction (`"1.5s"`).
pub fn parse_duration(input: &str) -> Result<Duration, DurationError> {
    let text = input.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    if number.is_empty() || number.starts_with('.') || number.ends_with('.') {
        return Err(DurationError::Malformed(input.to_owned()));
    }
    let value: f64 = number
        .parse()
        .map_err(|_| DurationError::Malformed(input.to_owned()))?;
    let unit_secs = match unit {
        "" => return Err(DurationError::MissingUnit(input.to_owned())),
        "ms" => 0.001,
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        other => {
            return Err(DurationError::UnknownUnit {
                input: input.to_owned(),
                unit: other.to_owned(),
            });
        }
    };
    let duration = Duration::try_from_secs_f64(value * unit_secs)
        .map_err(|_| DurationError::TooLarge(input.to_owned()))?;
    if duration.is_zero() {
        return Err(DurationError::Zero(input.to_owned()));
    }
    Ok(duration)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_each_unit() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("1m"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
    }

    #[test]
    fn accepts_fractions() {
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("0.5m"), Ok(Duration::from_secs(30)));
    }

    #[test]
    fn rejects_missing_unit() {
        assert_eq!(
            parse_duration("10"),
            Err(DurationError::MissingUnit("10".into()))
        );
    }

    #[test]
    fn rejects_zero_and_negative() {
        assert_eq!(parse_duration("0s"), Err(DurationError::Zero("0s".into())));
        assert_eq!(
            parse_duration("-1s"),
            Err(DurationError::Malformed("-1s".into()))
        );
    }

    #[test]
    fn rejects_unknown_unit_and_garbage() {
        assert!(matches!(
            parse_duration("3d"),
            Err(DurationError::UnknownUnit { .. })
        ));
        assert!(matches!(
            parse_duration("2 s"),
            Err(DurationError::UnknownUnit { .. })
        ));
        assert!(matches!(
            parse_duration(""),
            Err(DurationError::Malformed(_))
        ));
        assert!(matches!(
            parse_duration("1.2.3s"),
            Err(DurationError::Malformed(_))
        ));
        assert!(matches!(
            parse_duration(".5s"),
            Err(DurationError::Malformed(_))
        ));
    }

    #[test]
    fn rejects_overflow() {
        assert!(matches!(
            parse_duration("99999999999999999999999h"),
            Err(DurationError::TooLarge(_))
        ));
    }
}
