//! The service-level clock: first contact is promised within a number of business hours
//! (by default one business day: 8 hours, Monday to Friday 9:00–17:00, in the
//! programme's time zone, holidays excluded). Time is counted day by day in local time, so
//! daylight-saving changes and holidays fall where people expect them.

use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use super::Invalid;
use super::support::Urgency;

/// The programme's business hours and promise, as coordinators set them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ServiceLevelSettings {
    /// An IANA time zone name, such as America/New_York.
    pub time_zone: String,
    /// Working days, such as "mon-fri" or "mon,tue,thu".
    pub days: String,
    /// Working hours, such as "09:00-17:00".
    pub hours: String,
    /// Dates with no business hours, YYYY-MM-DD, separated by commas or lines.
    pub holidays: String,
    /// First contact is due within this many business hours for a request asking to hear
    /// "within one working day" (and for any request before urgencies had their own).
    pub first_contact_hours: u32,
    /// The same for "as soon as possible today".
    #[serde(default = "default_urgent_hours")]
    pub urgent_first_contact_hours: u32,
    /// The same for "within a few days is fine".
    #[serde(default = "default_routine_hours")]
    pub routine_first_contact_hours: u32,
    /// How long a helper has to answer an offer, in business hours, by urgency: an urgent
    /// request must not wait a day on one helper who is not looking.
    #[serde(default = "default_urgent_offer")]
    pub urgent_offer_hours: u32,
    #[serde(default = "default_soon_offer")]
    pub soon_offer_hours: u32,
    #[serde(default = "default_routine_offer")]
    pub routine_offer_hours: u32,
}

fn default_urgent_hours() -> u32 {
    4
}
fn default_routine_hours() -> u32 {
    16
}
fn default_urgent_offer() -> u32 {
    1
}
fn default_soon_offer() -> u32 {
    4
}
fn default_routine_offer() -> u32 {
    8
}

impl Default for ServiceLevelSettings {
    fn default() -> Self {
        Self {
            time_zone: "America/New_York".into(),
            days: "mon-fri".into(),
            hours: "09:00-17:00".into(),
            holidays: String::new(),
            first_contact_hours: 8,
            urgent_first_contact_hours: default_urgent_hours(),
            routine_first_contact_hours: default_routine_hours(),
            urgent_offer_hours: default_urgent_offer(),
            soon_offer_hours: default_soon_offer(),
            routine_offer_hours: default_routine_offer(),
        }
    }
}

impl ServiceLevelSettings {
    /// The first-contact promise for a request of this urgency, in business hours.
    pub fn promise_hours(&self, u: Urgency) -> u32 {
        match u {
            Urgency::Urgent => self.urgent_first_contact_hours,
            Urgency::Soon => self.first_contact_hours,
            Urgency::Routine => self.routine_first_contact_hours,
        }
    }

    /// How long an offer of a request of this urgency waits for the helper's answer.
    pub fn offer_hours(&self, u: Urgency) -> u32 {
        match u {
            Urgency::Urgent => self.urgent_offer_hours,
            Urgency::Soon => self.soon_offer_hours,
            Urgency::Routine => self.routine_offer_hours,
        }
    }

    fn check_numbers(&self) -> Result<(), Invalid> {
        for (field, v) in [
            (
                "urgent_first_contact_hours",
                self.urgent_first_contact_hours,
            ),
            ("first_contact_hours", self.first_contact_hours),
            (
                "routine_first_contact_hours",
                self.routine_first_contact_hours,
            ),
        ] {
            if v == 0 || v > 200 {
                return Err(Invalid::new(
                    field,
                    "Give the promise in business hours, from 1 to 200.",
                ));
            }
        }
        for (field, v) in [
            ("urgent_offer_hours", self.urgent_offer_hours),
            ("soon_offer_hours", self.soon_offer_hours),
            ("routine_offer_hours", self.routine_offer_hours),
        ] {
            if v == 0 || v > 168 {
                return Err(Invalid::new(
                    field,
                    "Give the time to answer an offer in business hours, from 1 to 168.",
                ));
            }
        }
        Ok(())
    }
}

/// Business hours, checked and ready to count with.
#[derive(Debug, Clone)]
pub struct BusinessHours {
    tz: TimeZone,
    days: [bool; 7],
    open: Time,
    close: Time,
    holidays: Vec<Date>,
}

const WEEKDAYS: [(&str, Weekday); 7] = [
    ("mon", Weekday::Monday),
    ("tue", Weekday::Tuesday),
    ("wed", Weekday::Wednesday),
    ("thu", Weekday::Thursday),
    ("fri", Weekday::Friday),
    ("sat", Weekday::Saturday),
    ("sun", Weekday::Sunday),
];

fn day_index(name: &str) -> Option<usize> {
    let n = name.trim().to_ascii_lowercase();
    WEEKDAYS
        .iter()
        .position(|(k, _)| n.starts_with(k) && !n.is_empty())
}

fn parse_days(text: &str) -> Result<[bool; 7], Invalid> {
    let bad = || {
        Invalid::new(
            "days",
            "Write the working days as a range such as mon-fri, or a list such as mon,tue,thu.",
        )
    };
    let mut days = [false; 7];
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (day_index(a).ok_or_else(bad)?, day_index(b).ok_or_else(bad)?);
                if a > b {
                    return Err(bad());
                }
                days[a..=b].iter_mut().for_each(|d| *d = true);
            }
            None => days[day_index(part).ok_or_else(bad)?] = true,
        }
    }
    if !days.contains(&true) {
        return Err(bad());
    }
    Ok(days)
}

impl BusinessHours {
    pub fn parse(s: &ServiceLevelSettings) -> Result<Self, Invalid> {
        let tz = TimeZone::get(s.time_zone.trim()).map_err(|_| {
            Invalid::new(
                "time_zone",
                format!(
                    "'{}' is not a time zone; use a name such as America/New_York or Europe/London.",
                    s.time_zone.trim()
                ),
            )
        })?;
        let hours_bad = || Invalid::new("hours", "Write the hours as 09:00-17:00.");
        let (a, b) = s.hours.split_once('-').ok_or_else(hours_bad)?;
        let open: Time = a.trim().parse().map_err(|_| hours_bad())?;
        let close: Time = b.trim().parse().map_err(|_| hours_bad())?;
        if open >= close {
            return Err(Invalid::new("hours", "The day must end after it starts."));
        }
        let mut holidays = Vec::new();
        for h in s
            .holidays
            .split([',', '\n', ';'])
            .map(str::trim)
            .filter(|h| !h.is_empty())
        {
            holidays.push(h.parse::<Date>().map_err(|_| {
                Invalid::new(
                    "holidays",
                    format!("'{h}' is not a date; write it as YYYY-MM-DD."),
                )
            })?);
        }
        s.check_numbers()?;
        Ok(Self {
            tz,
            days: parse_days(&s.days)?,
            open,
            close,
            holidays,
        })
    }

    /// The business window of a date, as Unix seconds, if it is a working day.
    fn window(&self, date: Date) -> Option<(i64, i64)> {
        let idx = WEEKDAYS.iter().position(|(_, w)| *w == date.weekday())?;
        if !self.days[idx] || self.holidays.contains(&date) {
            return None;
        }
        let at = |t: Time| {
            date.to_datetime(t)
                .to_zoned(self.tz.clone())
                .ok()
                .map(|z| z.timestamp().as_second())
        };
        Some((at(self.open)?, at(self.close)?))
    }

    fn local_date(&self, unix: i64) -> Option<Date> {
        jiff::Timestamp::from_second(unix)
            .ok()
            .map(|t| t.to_zoned(self.tz.clone()).date())
    }

    /// The moment `secs` of business time after `start`.
    pub fn add(&self, start: i64, secs: i64) -> i64 {
        let Some(mut date) = self.local_date(start) else {
            return start + secs;
        };
        let mut left = secs.max(0);
        // Ten years of days is far beyond any promise; the bound only guards the loop.
        for _ in 0..3660 {
            if let Some((open, close)) = self.window(date) {
                let from = start.max(open);
                if from < close {
                    if from + left <= close {
                        return from + left;
                    }
                    left -= close - from;
                }
            }
            match date.tomorrow() {
                Ok(d) => date = d,
                Err(_) => break,
            }
        }
        start + secs
    }

    /// Business seconds between `from` and `to` (zero if `to` is earlier).
    pub fn elapsed(&self, from: i64, to: i64) -> i64 {
        if to <= from {
            return 0;
        }
        let (Some(mut date), Some(last)) = (self.local_date(from), self.local_date(to)) else {
            return 0;
        };
        let mut total = 0;
        while date <= last {
            if let Some((open, close)) = self.window(date) {
                let (a, b) = (from.max(open), to.min(close));
                if a < b {
                    total += b - a;
                }
            }
            match date.tomorrow() {
                Ok(d) => date = d,
                Err(_) => break,
            }
        }
        total
    }

    /// Whether `unix` falls inside business hours.
    pub fn is_open(&self, unix: i64) -> bool {
        self.add(unix, 0) == unix
    }

    /// The first moment of business time at or after `unix`.
    pub fn next_open(&self, unix: i64) -> i64 {
        self.add(unix, 0)
    }

    /// The programme's time zone.
    pub fn time_zone(&self) -> &TimeZone {
        &self.tz
    }

    /// The date (YYYY-MM-DD) and time (HH:MM) of `unix` in the programme's zone, as a
    /// form's fields take them.
    pub fn local_fields(&self, unix: i64) -> (String, String) {
        jiff::Timestamp::from_second(unix)
            .map(|t| {
                let z = t.to_zoned(self.tz.clone());
                (
                    z.strftime("%Y-%m-%d").to_string(),
                    z.strftime("%H:%M").to_string(),
                )
            })
            .unwrap_or_default()
    }

    /// A moment in the programme's local time, for people to read.
    pub fn local_text(&self, unix: i64) -> String {
        jiff::Timestamp::from_second(unix)
            .map(|t| {
                t.to_zoned(self.tz.clone())
                    .strftime("%a %-d %b %H:%M %Z")
                    .to_string()
            })
            .unwrap_or_default()
    }
}

/// Where a request stands against its promise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SlaState {
    /// First contact happened in time.
    Met,
    /// First contact happened, late.
    MetLate,
    OnTrack,
    /// Three quarters of the time are gone: the helper is reminded.
    DueSoon,
    /// The promise is broken: coordinators are alerted, the case may be re-offered.
    Overdue,
}

impl SlaState {
    pub fn label(self) -> &'static str {
        match self {
            Self::Met => "first contact in time",
            Self::MetLate => "first contact, late",
            Self::OnTrack => "on track",
            Self::DueSoon => "due soon",
            Self::Overdue => "overdue",
        }
    }
}

/// The state of a request submitted at `submitted`, first contacted at `contacted` (if
/// at all), seen at `now`.
pub fn state(
    hours: &BusinessHours,
    promise_hours: u32,
    submitted: i64,
    contacted: Option<i64>,
    now: i64,
) -> SlaState {
    let promise = i64::from(promise_hours) * 3600;
    match contacted {
        Some(c) if hours.elapsed(submitted, c) <= promise => SlaState::Met,
        Some(_) => SlaState::MetLate,
        None => {
            let used = hours.elapsed(submitted, now);
            if used >= promise {
                SlaState::Overdue
            } else if used * 4 >= promise * 3 {
                SlaState::DueSoon
            } else {
                SlaState::OnTrack
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(tz: &str, text: &str) -> i64 {
        let dt: jiff::civil::DateTime = text.parse().expect("datetime");
        dt.to_zoned(TimeZone::get(tz).expect("tz"))
            .expect("zoned")
            .timestamp()
            .as_second()
    }

    fn hours(holidays: &str) -> BusinessHours {
        BusinessHours::parse(&ServiceLevelSettings {
            holidays: holidays.into(),
            ..Default::default()
        })
        .expect("valid")
    }

    const NY: &str = "America/New_York";

    #[test]
    fn a_business_day_spans_the_weekend() {
        let h = hours("");
        // Friday 16:00 + 8 business hours = Monday 16:00.
        let due = h.add(at(NY, "2026-11-20T16:00"), 8 * 3600);
        assert_eq!(due, at(NY, "2026-11-23T16:00"));
        // Saturday counts from Monday's opening.
        assert_eq!(
            h.add(at(NY, "2026-11-21T11:00"), 8 * 3600),
            at(NY, "2026-11-23T17:00")
        );
        // Before opening counts from opening; after closing from the next day.
        assert_eq!(
            h.add(at(NY, "2026-11-24T07:00"), 3600),
            at(NY, "2026-11-24T10:00")
        );
        assert_eq!(
            h.add(at(NY, "2026-11-24T18:00"), 3600),
            at(NY, "2026-11-25T10:00")
        );
        assert_eq!(
            h.elapsed(at(NY, "2026-11-20T16:00"), at(NY, "2026-11-23T16:00")),
            8 * 3600
        );
    }

    #[test]
    fn holidays_are_skipped() {
        let h = hours("2026-11-26, 2026-11-27");
        // Wednesday 13:00 before Thanksgiving: 4 h that day, the rest on Monday.
        assert_eq!(
            h.add(at(NY, "2026-11-25T13:00"), 8 * 3600),
            at(NY, "2026-11-30T13:00")
        );
    }

    #[test]
    fn daylight_saving_changes_keep_local_hours() {
        let h = hours("");
        // Clocks go forward on Sunday 8 March 2026 in New York: Friday 15:00 EST + 8 h
        // is Monday 15:00 EDT, which is 71 hours later, not 72.
        let start = at(NY, "2026-03-06T15:00");
        let due = h.add(start, 8 * 3600);
        assert_eq!(due, at(NY, "2026-03-09T15:00"));
        assert_eq!(due - start, 71 * 3600);
        // And back on 1 November 2026: 73 hours.
        let start = at(NY, "2026-10-30T15:00");
        assert_eq!(h.add(start, 8 * 3600) - start, 73 * 3600);
    }

    #[test]
    fn another_time_zone_is_its_own() {
        let london = BusinessHours::parse(&ServiceLevelSettings {
            time_zone: "Europe/London".into(),
            ..Default::default()
        })
        .expect("valid");
        let start = at("Europe/London", "2026-11-23T09:00");
        assert_eq!(
            london.add(start, 3600),
            at("Europe/London", "2026-11-23T10:00")
        );
        assert!(london.local_text(start).contains("09:00"));
    }

    #[test]
    fn states_follow_the_clock() {
        let h = hours("");
        let s = at(NY, "2026-11-23T09:00");
        assert_eq!(
            state(&h, 8, s, None, at(NY, "2026-11-23T12:00")),
            SlaState::OnTrack
        );
        assert_eq!(
            state(&h, 8, s, None, at(NY, "2026-11-23T15:30")),
            SlaState::DueSoon
        );
        assert_eq!(
            state(&h, 8, s, None, at(NY, "2026-11-24T09:30")),
            SlaState::Overdue
        );
        assert_eq!(
            state(&h, 8, s, Some(at(NY, "2026-11-23T16:00")), 0),
            SlaState::Met
        );
        assert_eq!(
            state(&h, 8, s, Some(at(NY, "2026-11-25T16:00")), 0),
            SlaState::MetLate
        );
    }

    #[test]
    fn settings_are_checked() {
        let bad = |f: fn(&mut ServiceLevelSettings)| {
            let mut s = ServiceLevelSettings::default();
            f(&mut s);
            BusinessHours::parse(&s)
                .expect_err("invalid")
                .field()
                .to_string()
        };
        assert_eq!(bad(|s| s.time_zone = "Mars/Olympus".into()), "time_zone");
        assert_eq!(bad(|s| s.days = "someday".into()), "days");
        assert_eq!(bad(|s| s.hours = "17:00-09:00".into()), "hours");
        assert_eq!(bad(|s| s.holidays = "25/12/2026".into()), "holidays");
        assert_eq!(bad(|s| s.first_contact_hours = 0), "first_contact_hours");
        assert!(
            BusinessHours::parse(&ServiceLevelSettings {
                days: "mon,wed, fri".into(),
                ..Default::default()
            })
            .is_ok()
        );
    }
}
