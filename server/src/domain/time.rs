//! Campaign time: the reports count days in China Standard Time (UTC+8, no DST).
//!
//! `at=YYYY-MM-DD` means "as of the end of that day in Guali"; `at=` also takes an
//! RFC 3339 timestamp for an exact moment.

use std::num::NonZeroU32;

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, TimeZone, Utc};

/// A moment kept in 4 bytes to the whole second, for the facts the map holds in memory
/// for every hazard (the store keeps the exact time). Seconds since 2000-01-01 UTC,
/// plus one so that `Option<Stamp>` is 4 bytes too; moments before 2000 read as
/// 2000-01-01 and after 2136 as 2136 (neither occurs in this domain).
///
/// Comparing a stamp with a `DateTime` floors the latter to its second, so every fact
/// and every `now` are seen at the same resolution: a deadline at 12:00:00 is passed at
/// 12:00:00.000, and the colour rule stays exact at second resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Stamp(NonZeroU32);

impl Stamp {
    /// 2000-01-01T00:00:00Z in Unix seconds.
    const EPOCH: i64 = 946_684_800;

    /// The stamp of `t`, floored to the second.
    pub fn of(t: DateTime<Utc>) -> Stamp {
        let secs = (t.timestamp() - Self::EPOCH).clamp(0, i64::from(u32::MAX - 1));
        Stamp(NonZeroU32::MIN.saturating_add(secs as u32))
    }

    /// Back to a time (the whole second).
    pub fn time(self) -> DateTime<Utc> {
        DateTime::from_timestamp(i64::from(self.0.get() - 1) + Self::EPOCH, 0).unwrap_or_default()
    }
}

impl From<DateTime<Utc>> for Stamp {
    fn from(t: DateTime<Utc>) -> Self {
        Stamp::of(t)
    }
}

/// UTC+8, the offset all campaign dates are written in.
pub fn china_standard_time() -> FixedOffset {
    // 8 hours is in range for a fixed offset; the fallback only satisfies the type.
    FixedOffset::east_opt(8 * 3600)
        .unwrap_or_else(|| FixedOffset::east_opt(0).unwrap_or_else(|| unreachable!()))
}

/// A moment in China Standard Time, as the reports write them.
pub fn cst(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    china_standard_time()
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .single()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
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

/// Whole days in Guali, from the start of `from` to the end of `to`; either end may be
/// open. `from` after `to` is refused.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Days {
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
}

/// Why a range of days was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{from} is after {to}")]
pub struct BackwardDays {
    /// The first day asked for.
    pub from: NaiveDate,
    /// The last.
    pub to: NaiveDate,
}

impl Days {
    /// The days from `from` to `to`, both included.
    pub fn new(from: Option<NaiveDate>, to: Option<NaiveDate>) -> Result<Days, BackwardDays> {
        match (from, to) {
            (Some(from), Some(to)) if from > to => Err(BackwardDays { from, to }),
            _ => Ok(Days { from, to }),
        }
    }

    /// The first moment in the range (midnight starting `from`), if bounded.
    pub fn start(&self) -> Option<DateTime<Utc>> {
        self.from.map(start_of_day)
    }

    /// The first moment after the range (midnight ending `to`), if bounded: the range is
    /// `[start, end)`, both ends on a whole second.
    pub fn end(&self) -> Option<DateTime<Utc>> {
        self.to.and_then(|d| d.succ_opt()).map(start_of_day)
    }

    /// Whether `t` falls on one of the days.
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.start().is_none_or(|s| s <= t) && self.end().is_none_or(|e| t < e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_keep_the_second_and_order() {
        let t = parse_moment("2022-07-15T12:00:00.7+08:00").unwrap_or_default();
        let s = Stamp::of(t);
        assert_eq!(s.time().to_rfc3339(), "2022-07-15T04:00:00+00:00");
        assert!(Stamp::of(t - Duration::seconds(1)) < s);
        assert_eq!(Stamp::of(t - Duration::milliseconds(500)), s);
        assert_eq!(std::mem::size_of::<Option<Stamp>>(), 4);
        let early = DateTime::from_timestamp(0, 0).unwrap_or_default();
        assert_eq!(
            Stamp::of(early).time().to_rfc3339(),
            "2000-01-01T00:00:00+00:00"
        );
    }

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
    fn days_run_from_midnight_to_midnight_in_guali() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
        let days = Days::new(d("2022-07-15"), d("2022-07-16")).unwrap_or_default();
        assert_eq!(
            days.start().map(|t| t.to_rfc3339()).as_deref(),
            Some("2022-07-14T16:00:00+00:00")
        );
        assert_eq!(
            days.end().map(|t| t.to_rfc3339()).as_deref(),
            Some("2022-07-16T16:00:00+00:00")
        );
        assert!(days.contains(cst(2022, 7, 15, 0, 0)));
        assert!(days.contains(cst(2022, 7, 16, 23, 59)));
        assert!(!days.contains(cst(2022, 7, 17, 0, 0)));
        assert!(!days.contains(cst(2022, 7, 14, 23, 59)));
        assert!(Days::new(d("2022-07-16"), d("2022-07-15")).is_err());
        assert!(Days::default().contains(cst(1999, 1, 1, 0, 0)));
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
