//! Timestamps are UTC with microsecond precision: PostgreSQL keeps microseconds, so
//! truncating here makes both backends return exactly what was written.

use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};

pub type Timestamp = DateTime<Utc>;

pub fn now() -> Timestamp {
    Utc::now().trunc_subsecs(6)
}

pub fn to_naive(t: Timestamp) -> NaiveDateTime {
    t.naive_utc()
}

pub fn from_naive(t: NaiveDateTime) -> Timestamp {
    t.and_utc()
}
