//! Timestamps of the contract: `YYYY-MM-DDTHH:MM:SSZ`, UTC only (spec §2).

use jiff::Timestamp;

/// Parses a strict `YYYY-MM-DDTHH:MM:SSZ` timestamp.
///
/// Rejects offsets other than `Z`, fractional seconds, lower-case `t`/`z` and impossible dates
/// (`2026-02-30`). Returns `None` when the text does not follow the format.
#[must_use]
pub fn parse_utc(text: &str) -> Option<Timestamp> {
    let b = text.as_bytes();
    if b.len() != 20 {
        return None;
    }
    let digits = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18];
    if !digits.iter().all(|&i| b[i].is_ascii_digit()) {
        return None;
    }
    if b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'Z'
    {
        return None;
    }
    text.parse::<Timestamp>().ok()
}

/// Formats a timestamp as `YYYY-MM-DDTHH:MM:SSZ` (whole seconds, UTC).
#[must_use]
pub fn format_utc(ts: Timestamp) -> String {
    ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The current time, truncated to whole seconds; `GIFTQA_NOW` (`YYYY-MM-DDTHH:MM:SSZ`), when
/// set and valid, stands in for the clock everywhere no `--now` is given: a run reproducible
/// in time, and a test suite that can be moved to another year.
#[must_use]
pub fn now_utc() -> Timestamp {
    if let Some(t) = std::env::var("GIFTQA_NOW")
        .ok()
        .as_deref()
        .and_then(parse_utc)
    {
        return t;
    }
    let now = Timestamp::now();
    Timestamp::from_second(now.as_second()).unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_format() {
        assert!(parse_utc("2026-11-20T10:00:00Z").is_some());
        for bad in [
            "2026-11-20T10:00:00+00:00",
            "2026-11-20 10:00:00Z",
            "2026-11-20T10:00:00.5Z",
            "2026-02-30T10:00:00Z",
            "2026-11-20t10:00:00z",
            "26-11-20T10:00:00Z",
        ] {
            assert!(parse_utc(bad).is_none(), "{bad}");
        }
        let t = parse_utc("2027-01-31T00:00:00Z").unwrap();
        assert_eq!(format_utc(t), "2027-01-31T00:00:00Z");
    }
}
