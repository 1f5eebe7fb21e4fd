//! Campaign time: moments are UTC; days are the town's, at its [`Zone`] (the reports
//! count days in China Standard Time, UTC+8, no DST).
//!
//! `at=YYYY-MM-DD` means "as of the end of that day in the town"; `at=` also takes an
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

/// The offset a town writes its days in: a date (`at=2022-07-15`, a deadline's day, a
/// briefing's day, a day of the records it imports) is a whole day at this offset. The
/// store keeps it (`onemap init --time-zone`); China's, UTC+8 with no daylight saving,
/// is the default and the demo's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Zone(FixedOffset);

impl Zone {
    /// China Standard Time, UTC+8: the reports' and the demo's.
    pub const CHINA: Zone = match FixedOffset::east_opt(8 * 3600) {
        Some(offset) => Zone(offset),
        None => unreachable!(),
    };

    /// The offset east of UTC.
    pub fn offset(self) -> FixedOffset {
        self.0
    }

    /// Midnight at the start of `date`.
    pub fn start_of_day(self, date: NaiveDate) -> DateTime<Utc> {
        self.moment(date.and_time(chrono::NaiveTime::MIN))
    }

    /// The last instant of `date`.
    pub fn end_of_day(self, date: NaiveDate) -> DateTime<Utc> {
        self.start_of_day(date) + Duration::days(1) - Duration::nanoseconds(1)
    }

    /// The calendar day that `t` falls on.
    pub fn date_of(self, t: DateTime<Utc>) -> NaiveDate {
        t.with_timezone(&self.0).date_naive()
    }

    /// `t` as the town's clocks read it.
    pub fn local(self, t: DateTime<Utc>) -> DateTime<FixedOffset> {
        t.with_timezone(&self.0)
    }

    /// The moment a local date and time names (a fixed offset has no gaps or folds).
    pub fn moment(self, local: chrono::NaiveDateTime) -> DateTime<Utc> {
        self.0
            .from_local_datetime(&local)
            .single()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    /// Parses an `at=` value: a date means the end of that day here.
    pub fn parse_moment(self, s: &str) -> Result<DateTime<Utc>, BadMoment> {
        if let Ok(date) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            return Ok(self.end_of_day(date));
        }
        DateTime::parse_from_rfc3339(s)
            .map(|d| d.with_timezone(&Utc))
            .map_err(|_| BadMoment(s.to_owned()))
    }
}

impl Default for Zone {
    fn default() -> Self {
        Zone::CHINA
    }
}

/// `+08:00`: the form RFC 3339 and the browser's `Intl` take.
impl std::fmt::Display for Zone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secs = self.0.local_minus_utc();
        let sign = if secs < 0 { '-' } else { '+' };
        let mins = secs.unsigned_abs() / 60;
        write!(f, "{sign}{:02}:{:02}", mins / 60, mins % 60)
    }
}

impl serde::Serialize for Zone {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Why a time zone was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a UTC offset: write it as +08:00, -05:30, UTC+8 or UTC")]
pub struct BadZone(pub String);

/// `+08:00`, `+0800`, `+8`, `UTC+8`, `GMT+08:00`, `UTC`, `Z`: whole offsets up to ±14 h,
/// in minutes.
impl std::str::FromStr for Zone {
    type Err = BadZone;

    fn from_str(s: &str) -> Result<Self, BadZone> {
        let bad = || BadZone(s.to_owned());
        let t = s.trim();
        if t.is_empty() {
            return Err(bad());
        }
        let rest = t
            .strip_prefix("UTC")
            .or_else(|| t.strip_prefix("GMT"))
            .unwrap_or(t);
        if rest.is_empty() || rest == "Z" {
            return Ok(Zone(FixedOffset::east_opt(0).ok_or_else(bad)?));
        }
        let (sign, digits) = match rest.as_bytes().first() {
            Some(b'+') => (1, &rest[1..]),
            Some(b'-') => (-1, &rest[1..]),
            _ => return Err(bad()),
        };
        let (h, m) = match digits.split_once(':') {
            Some((h, m)) => (h, m),
            None if digits.len() == 4 => digits.split_at(2),
            None => (digits, "0"),
        };
        let all_digits =
            |x: &str| !x.is_empty() && x.len() <= 2 && x.bytes().all(|b| b.is_ascii_digit());
        if !all_digits(h) || !all_digits(m) {
            return Err(bad());
        }
        let (h, m): (i32, i32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
        if h > 14 || m >= 60 || h * 60 + m > 14 * 60 {
            return Err(bad());
        }
        FixedOffset::east_opt(sign * (h * 3600 + m * 60))
            .map(Zone)
            .ok_or_else(bad)
    }
}

/// A moment in China Standard Time, as the reports write them (the demo's and the
/// tests' dates).
pub fn cst(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(y, m, d)
        .and_then(|date| date.and_hms_opt(h, min, 0))
        .map(|local| Zone::CHINA.moment(local))
        .unwrap_or_default()
}

/// Why an `at` value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is neither a date (YYYY-MM-DD) nor an RFC 3339 timestamp")]
pub struct BadMoment(pub String);

/// Whole days in the town, from the start of `from` to the end of `to`; either end may
/// be open. `from` after `to` is refused.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Days {
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    zone: Zone,
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
    /// The days from `from` to `to`, both included, at `zone`.
    pub fn new(
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        zone: Zone,
    ) -> Result<Days, BackwardDays> {
        match (from, to) {
            (Some(from), Some(to)) if from > to => Err(BackwardDays { from, to }),
            _ => Ok(Days { from, to, zone }),
        }
    }

    /// The first moment in the range (midnight starting `from`), if bounded.
    pub fn start(&self) -> Option<DateTime<Utc>> {
        self.from.map(|d| self.zone.start_of_day(d))
    }

    /// The first moment after the range (midnight ending `to`), if bounded: the range is
    /// `[start, end)`, both ends on a whole second.
    pub fn end(&self) -> Option<DateTime<Utc>> {
        self.to
            .and_then(|d| d.succ_opt())
            .map(|d| self.zone.start_of_day(d))
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
        let t = Zone::CHINA
            .parse_moment("2022-07-15T12:00:00.7+08:00")
            .unwrap_or_default();
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
        let end = Zone::CHINA.parse_moment("2022-07-15").unwrap_or_default();
        assert_eq!(end.to_rfc3339(), "2022-07-15T15:59:59.999999999+00:00");
        assert_eq!(Zone::CHINA.date_of(end).to_string(), "2022-07-15");
        assert_eq!(
            Zone::CHINA
                .date_of(end + Duration::nanoseconds(1))
                .to_string(),
            "2022-07-16"
        );
    }

    #[test]
    fn days_run_from_midnight_to_midnight_in_guali() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
        let days = Days::new(d("2022-07-15"), d("2022-07-16"), Zone::CHINA).unwrap_or_default();
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
        assert!(Days::new(d("2022-07-16"), d("2022-07-15"), Zone::CHINA).is_err());
        assert!(Days::default().contains(cst(1999, 1, 1, 0, 0)));
    }

    #[test]
    fn timestamps_and_garbage() {
        let t = Zone::CHINA
            .parse_moment("2022-07-15T08:00:00+08:00")
            .unwrap_or_default();
        assert_eq!(t.to_rfc3339(), "2022-07-15T00:00:00+00:00");
        assert!(Zone::CHINA.parse_moment("2022-13-01").is_err());
        assert!(Zone::CHINA.parse_moment("yesterday").is_err());
        assert!(Zone::CHINA.parse_moment("").is_err());
    }

    #[test]
    fn zones_parse_and_print_as_offsets() {
        let z = |s: &str| s.parse::<Zone>().map(|z| z.to_string());
        assert_eq!(z("+08:00").as_deref(), Ok("+08:00"));
        assert_eq!(z("UTC+8").as_deref(), Ok("+08:00"));
        assert_eq!(z("+0530").as_deref(), Ok("+05:30"));
        assert_eq!(z("-03:30").as_deref(), Ok("-03:30"));
        assert_eq!(z("GMT-5").as_deref(), Ok("-05:00"));
        assert_eq!(z("UTC").as_deref(), Ok("+00:00"));
        assert_eq!(Zone::default(), Zone::CHINA);
        for bad in [
            "",
            "8",
            "+15:00",
            "+08:60",
            "Asia/Shanghai",
            "+8:0:0",
            "+123",
        ] {
            assert!(bad.parse::<Zone>().is_err(), "{bad} parsed");
        }
    }

    #[test]
    fn days_follow_the_towns_zone() {
        let utc: Zone = "UTC".parse().unwrap_or_default();
        let day = NaiveDate::from_ymd_opt(2022, 7, 15).unwrap_or_default();
        assert_eq!(
            utc.end_of_day(day).to_rfc3339(),
            "2022-07-15T23:59:59.999999999+00:00"
        );
        assert_eq!(
            Zone::CHINA.end_of_day(day).to_rfc3339(),
            "2022-07-15T15:59:59.999999999+00:00"
        );
        // 20:00 UTC on the 15th is already the 16th in China.
        let evening = cst(2022, 7, 16, 4, 0);
        assert_eq!(utc.date_of(evening), day);
        assert_eq!(
            Zone::CHINA.date_of(evening),
            day.succ_opt().unwrap_or_default()
        );
        let days = Days::new(Some(day), Some(day), utc).unwrap_or_default();
        assert!(days.contains(evening));
        assert!(
            !Days::new(Some(day), Some(day), Zone::CHINA)
                .unwrap_or_default()
                .contains(evening)
        );
    }
}
