//! Campaign time: the reports count days in China Standard Time (UTC+8, no DST).
//!
//! `at=YYYY-MM-DD` means "as of the end of that day in Guali"; `at=` also takes an
//! RFC 3339 timestamp for an exact moment.

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, TimeZone, Utc};

/// UTC+8, the offset all campaign dates are written in.
pub fn china_standard_time() -> FixedOffset {
    // 8 hours is in range for a fixed offset; the fallback only satisfies the type.
    FixedOffset::east_opt(8 * 3600)
        .unwrap_or_else(|| FixedOffset::east_opt(0).unwrap_or_else(|| unreachable!()))
}

/// The last instant of `date` in Guali.
pub fn end_of_day(date: NaiveDate) -> DateTime<Utc> {
    start_of_day(date) + Duration::days(1) - Duration::nanoseconds(1)
}

/// Midnight at the start of `date` in Guali.
pub fn start_of_day(date: NaiveDate) -> DateTime<Utc> {
    let midnight = date.and_hms_opt(0, 0, 0).unwrap_or_default();
    china_standard_time()
        .from_local_datetime(&midnight)
        .single()
        .map(|d| d.with_timezone(&Utc))
        .unwrap_or_default()
}

/// The calendar day in Guali that `t` falls on.
pub fn local_date(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&china_standard_time()).date_naive()
}

/// Why an `at` value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is neither a date (YYYY-MM-DD) nor an RFC 3339 timestamp")]
pub struct BadMoment(pub String);

/// Parses an `at=` value: a date means the end of that day in Guali.
pub fn parse_moment(s: &str) -> Result<DateTime<Utc>, BadMoment> {
    if let Ok(date) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(end_of_day(date));
    }
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|_| BadMoment(s.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_is_the_end_of_that_day_in_guali() {
        let end = parse_moment("2022-07-15").unwrap_or_default();
        assert_eq!(end.to_rfc3339(), "2022-07-15T15:59:59.999999999+00:00");
        assert_eq!(local_date(end).to_string(), "2022-07-15");
        assert_eq!(
            local_date(end + Duration::nanoseconds(1)).to_string(),
            "2022-07-16"
        );
    }

    #[test]
    fn timestamps_and_garbage() {
        let t = parse_moment("2022-07-15T08:00:00+08:00").unwrap_or_default();
        assert_eq!(t.to_rfc3339(), "2022-07-15T00:00:00+00:00");
        assert!(parse_moment("2022-13-01").is_err());
        assert!(parse_moment("yesterday").is_err());
        assert!(parse_moment("").is_err());
    }
}
