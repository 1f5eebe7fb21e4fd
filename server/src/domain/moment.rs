//! Moments a client gives: when something happened (a visit, a closure, an order) and
//! by when something must be done (a deadline). Each is checked once, against the clock,
//! where it enters the program.

use chrono::{DateTime, Duration, Utc};

/// How far ahead of the server's clock a phone's clock may run.
pub const CLOCK_SKEW: Duration = Duration::minutes(5);

/// The earliest moment a record may carry: 2000-01-01 (the stores count time from it).
pub fn epoch() -> DateTime<Utc> {
    DateTime::from_timestamp(946_684_800, 0).unwrap_or_default()
}

/// The end of the range a deadline may take: 2100-01-01.
fn last() -> DateTime<Utc> {
    DateTime::from_timestamp(4_102_444_800, 0).unwrap_or_default()
}

/// Why a moment was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MomentError {
    /// A past moment that lies ahead of the clock (beyond [`CLOCK_SKEW`]).
    #[error("the moment is in the future")]
    Future,
    /// Before 2000.
    #[error("the moment is before 2000")]
    TooEarly,
    /// A deadline that has already passed.
    #[error("the deadline is in the past")]
    DeadlinePassed,
    /// A deadline past 2100.
    #[error("the deadline is after 2100")]
    DeadlineTooLate,
}

/// When something happened: not ahead of `now` beyond the clock skew, not before 2000.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct PastMoment(DateTime<Utc>);

impl PastMoment {
    /// `at` (or `now` when not given), checked against `now`.
    pub fn new(at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Result<Self, MomentError> {
        let at = at.unwrap_or(now);
        if at > now + CLOCK_SKEW {
            return Err(MomentError::Future);
        }
        if at < epoch() {
            return Err(MomentError::TooEarly);
        }
        Ok(PastMoment(at))
    }

    /// The moment.
    pub fn get(self) -> DateTime<Utc> {
        self.0
    }
}

impl From<PastMoment> for DateTime<Utc> {
    fn from(m: PastMoment) -> Self {
        m.0
    }
}

/// By when something must be done: after `now`, before 2100.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Deadline(DateTime<Utc>);

impl Deadline {
    /// `at`, checked against `now`.
    pub fn new(at: DateTime<Utc>, now: DateTime<Utc>) -> Result<Self, MomentError> {
        if at <= now {
            return Err(MomentError::DeadlinePassed);
        }
        if at >= last() {
            return Err(MomentError::DeadlineTooLate);
        }
        Ok(Deadline(at))
    }

    /// The moment.
    pub fn get(self) -> DateTime<Utc> {
        self.0
    }
}

impl From<Deadline> for DateTime<Utc> {
    fn from(d: Deadline) -> Self {
        d.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn past_moments_and_deadlines_keep_to_the_clock() {
        let now = Utc::now();
        assert_eq!(PastMoment::new(None, now).unwrap().get(), now);
        assert!(PastMoment::new(Some(now + Duration::minutes(4)), now).is_ok());
        assert_eq!(
            PastMoment::new(Some(now + Duration::minutes(6)), now),
            Err(MomentError::Future)
        );
        assert_eq!(
            PastMoment::new(Some(epoch() - Duration::seconds(1)), now),
            Err(MomentError::TooEarly)
        );
        assert!(Deadline::new(now + Duration::seconds(1), now).is_ok());
        assert_eq!(Deadline::new(now, now), Err(MomentError::DeadlinePassed));
        assert_eq!(
            Deadline::new(last(), now),
            Err(MomentError::DeadlineTooLate)
        );
    }
}
