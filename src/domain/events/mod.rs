//! Events and registration: what a coordinator describes (checked, with its occurrences
//! when it repeats), the questions and readings it carries, who may register and how
//! places are allocated (first come, or a seeded lottery), and for school students the
//! children, the guardian's consent and the adults' clearances.

use jiff::Zoned;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

mod allocation;
mod draft;
mod minors;
mod questions;

pub use allocation::{lottery_order, promotable};
pub use draft::{
    EventDraft, EventForm, EventInput, MAX_OFFER_HOURS, Occurrence, QuestionInput, ReadingInput,
    parse_time_zone, repeat_dates,
};
pub use minors::{
    Child, Clearance, ClearancePolicy, Consent, ConsentInput, ConsentText, GuardianContact,
    parse_consent,
};
pub use questions::{Answer, parse_answers, parse_doi, parse_isbn, parse_question, parse_reading};

choice!(
    /// Who an event is for.
    Audience {
        Faculty = "faculty": "Faculty",
        Residents = "residents": "Residents",
        Students = "students": "Students",
        Public = "public": "The public",
    }
);

choice!(
    /// How places are given out.
    Allocation {
        FirstCome = "first_come": "First come, first served",
        Lottery = "lottery": "Lottery (places drawn on a set date)",
    }
);

choice!(
    EventStatus {
        Scheduled = "scheduled": "Scheduled",
        Cancelled = "cancelled": "Cancelled",
    }
);

choice!(
    /// Where a registration stands.
    RegistrationStatus {
        Entered = "entered": "In the draw",
        Confirmed = "confirmed": "Confirmed",
        Waitlisted = "waitlisted": "On the waiting list",
        Offered = "offered": "Offered a place",
        Cancelled = "cancelled": "Cancelled",
    }
);

impl RegistrationStatus {
    /// Whether the registration holds places (a pending offer holds them too).
    pub fn holds_place(self) -> bool {
        matches!(self, Self::Confirmed | Self::Offered)
    }
}

choice!(
    QuestionKind {
        Text = "text": "Short text",
        Choice = "choice": "One choice",
        Multi = "multi": "Several choices",
        YesNo = "yes_no": "Yes or no",
    }
);

choice!(
    /// How an event repeats when it is created.
    Repeat {
        Once = "once": "Does not repeat",
        Weekly = "weekly": "Every week",
        Fortnightly = "fortnightly": "Every two weeks",
        MonthlyDate = "monthly_date": "Every month on the same date",
        MonthlyWeekday = "monthly_weekday": "Every month on the same weekday (2nd Tuesday, say)",
    }
);

choice!(
    ReadingKind {
        Book = "book": "Book",
        Article = "article": "Article",
    }
);

/// Shown instead of a private event's title wherever it could be seen by others:
/// calendars, e-mail subjects, the programme feed.
pub const NEUTRAL_TITLE: &str = "Programme meeting";

/// How many occurrences one recurrence may create (two years of weekly events).
pub const MAX_OCCURRENCES: usize = 104;

pub const MAX_CAPACITY: i64 = 10_000;

/// One address may be registered as a guest this many times an hour, across events:
/// enough for a parent with several events, too few to flood someone's inbox.
pub const GUEST_REGISTRATIONS_PER_HOUR: i64 = 10;

/// Children one guardian may register at once.
pub const MAX_CHILDREN: usize = 6;

/// The consent and waiver text a new programme starts with, and its version. A changed
/// text gets a new version, so that each consent records what was agreed.
pub const CONSENT_VERSION: &str = "2026-1";
pub const CONSENT_TEXT: &str = "I am the parent or legal guardian of the children named above. I agree to \
their taking part in this event, supervised by the programme's cleared volunteers; I confirm they may \
take part in its activities, and I release the institution from claims arising from ordinary \
participation. In an emergency, staff may seek medical care for them and will call me at once. \
Photographs are not taken of children at this event.";

/// A question asked at registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Question {
    pub id: i64,
    pub kind: QuestionKind,
    pub label: String,
    pub required: bool,
    /// For choice questions.
    pub options: Vec<String>,
}

/// A book or article to read for a club meeting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Reading {
    pub kind: ReadingKind,
    pub title: String,
    pub authors: String,
    /// Books: ISBN-10 or ISBN-13, digits only.
    pub isbn: String,
    /// Articles.
    pub journal: String,
    pub year: Option<i64>,
    /// Articles: the DOI (10.xxxx/…), without the resolver.
    pub doi: String,
}

impl Reading {
    pub fn doi_link(&self) -> Option<String> {
        (!self.doi.is_empty()).then(|| format!("https://doi.org/{}", self.doi))
    }

    /// One line for e-mails and calendars.
    pub fn citation(&self) -> String {
        let mut s = format!("{}, {}", self.title, self.authors);
        match self.kind {
            ReadingKind::Book => {
                if !self.isbn.is_empty() {
                    s.push_str(&format!(" (ISBN {})", self.isbn));
                }
            }
            ReadingKind::Article => {
                if !self.journal.is_empty() {
                    s.push_str(&format!(". {}", self.journal));
                }
                if let Some(y) = self.year {
                    s.push_str(&format!(", {y}"));
                }
                if let Some(l) = self.doi_link() {
                    s.push_str(&format!(". {l}"));
                }
            }
        }
        s
    }
}

/// An event as people see it, with the numbers that decide registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Event {
    pub id: i64,
    pub series_id: Option<i64>,
    pub series_slug: Option<String>,
    pub series_title: Option<String>,
    pub recurrence_id: Option<i64>,
    pub title: String,
    pub body_md: String,
    /// IANA name, e.g. America/New_York: times are shown in it.
    pub time_zone: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub place: String,
    /// Shown only to people with a place.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub online_url: String,
    pub audience: Vec<Audience>,
    pub capacity: i64,
    pub opens_at: Option<i64>,
    pub closes_at: Option<i64>,
    pub guests_allowed: bool,
    /// Guests confirm their address by e-mail before a place is held.
    pub guests_confirm: bool,
    pub private: bool,
    pub for_minors: bool,
    pub allocation: Allocation,
    pub lottery_at: Option<i64>,
    pub drawn_at: Option<i64>,
    /// Published once drawn, so that anyone can recompute the order.
    pub lottery_seed: Option<String>,
    pub offer_hours: i64,
    pub status: EventStatus,
    pub sequence: i64,
    pub questions: Vec<Question>,
    pub readings: Vec<Reading>,
    /// Places held (confirmed, or offered and not yet answered). Not given (0) to the
    /// public for a private event: how many went to a debrief is nobody's business.
    pub taken: i64,
    /// People on the waiting list; not given (0) to the public for a private event.
    pub waitlisted: i64,
}

/// Whether someone can register now, and if not why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    Open,
    NotYet(i64),
    Closed,
    Cancelled,
}

impl Event {
    /// The event as anyone may see it: no online link (it is for people with a place), and
    /// for a private event no count of who registered.
    pub fn for_public(mut self) -> Self {
        self.online_url.clear();
        if self.private {
            self.taken = 0;
            self.waitlisted = 0;
        }
        self
    }

    pub fn places_left(&self) -> i64 {
        (self.capacity - self.taken).max(0)
    }

    pub fn body_html(&self) -> String {
        super::content::render_markdown(&self.body_md)
    }

    /// The title for calendars, e-mail subjects and feeds.
    pub fn public_title(&self) -> &str {
        if self.private {
            NEUTRAL_TITLE
        } else {
            &self.title
        }
    }

    pub fn window(&self, now: i64) -> Window {
        if self.status == EventStatus::Cancelled {
            return Window::Cancelled;
        }
        if let Some(o) = self.opens_at
            && now < o
        {
            return Window::NotYet(o);
        }
        let closes = self.closes_at.unwrap_or(self.starts_at);
        if now >= closes {
            return Window::Closed;
        }
        Window::Open
    }

    /// A lottery not drawn yet collects entries.
    pub fn collecting_entries(&self) -> bool {
        self.allocation == Allocation::Lottery && self.drawn_at.is_none()
    }

    pub fn tz(&self) -> TimeZone {
        TimeZone::get(&self.time_zone).unwrap_or(TimeZone::UTC)
    }

    /// "Tuesday 8 December 2026, 12:00–13:00 EST", in the event's own time zone.
    pub fn when(&self) -> String {
        when_text(self.starts_at, self.ends_at, &self.tz())
    }

    pub fn audience_text(&self) -> String {
        self.audience
            .iter()
            .map(|a| a.label())
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub fn where_text(&self) -> String {
        match (self.place.is_empty(), self.online_url.is_empty()) {
            (false, true) => self.place.clone(),
            (true, false) => format!("Online: {}", self.online_url),
            (false, false) => format!("{} (or online: {})", self.place, self.online_url),
            (true, true) => "To be announced".to_string(),
        }
    }

    /// Whether `now` falls on one of the event's days, in its own zone: when people are
    /// checked in at the door.
    pub fn is_on(&self, now: i64) -> bool {
        falls_on_days(self.starts_at, self.ends_at, now, &self.tz())
    }

    /// A time of the event's day as the door staff read it: "8 December, 10:42".
    pub fn time_of_day(&self, unix: i64) -> String {
        local(unix, &self.tz())
            .map(|z| z.strftime("%-d %B, %H:%M").to_string())
            .unwrap_or_default()
    }

    /// Local date as YYYY-MM-DD, for filters and forms.
    pub fn local_date(&self) -> String {
        local(self.starts_at, &self.tz())
            .map(|z| z.date().to_string())
            .unwrap_or_default()
    }

    pub fn readings_text(&self) -> String {
        self.readings
            .iter()
            .map(|r| format!("- {}", r.citation()))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

fn local(unix: i64, tz: &TimeZone) -> Option<Zoned> {
    jiff::Timestamp::from_second(unix)
        .ok()
        .map(|t| t.to_zoned(tz.clone()))
}

/// A span of time in a zone, for people: the day once, both times, the zone's abbreviation.
pub fn when_text(starts: i64, ends: i64, tz: &TimeZone) -> String {
    let (Some(s), Some(e)) = (local(starts, tz), local(ends, tz)) else {
        return String::new();
    };
    if s.date() == e.date() {
        format!(
            "{}, {}–{} {}",
            s.strftime("%A %-d %B %Y"),
            s.strftime("%H:%M"),
            e.strftime("%H:%M"),
            e.strftime("%Z")
        )
    } else {
        format!(
            "{} – {}",
            s.strftime("%A %-d %B %Y, %H:%M %Z"),
            e.strftime("%A %-d %B %Y, %H:%M %Z")
        )
    }
}

/// A date and time in a zone, for people ("Monday 1 March 2027, 17:00 EST").
pub fn instant_text(unix: i64, tz: &TimeZone) -> String {
    local(unix, tz)
        .map(|z| z.strftime("%A %-d %B %Y, %H:%M %Z").to_string())
        .unwrap_or_default()
}

/// A timestamp as the value of an HTML `datetime-local` field in the zone.
/// A moment as a wall-clock time in the event's zone (what `EventInput` takes).
pub fn local_datetime(unix: Option<i64>, tz: &TimeZone) -> Option<jiff::civil::DateTime> {
    unix.and_then(|u| local(u, tz)).map(|z| z.datetime())
}

pub fn local_input(unix: Option<i64>, tz: &TimeZone) -> String {
    unix.and_then(|u| local(u, tz))
        .map(|z| z.strftime("%Y-%m-%dT%H:%M").to_string())
        .unwrap_or_default()
}

/// Whether `now` is on a day from `starts`'s to `ends`'s, as dates in `tz`.
fn falls_on_days(starts: i64, ends: i64, now: i64, tz: &TimeZone) -> bool {
    let day = |t: i64| local(t, tz).map(|z| z.date());
    match (day(starts), day(ends), day(now)) {
        (Some(first), Some(last), Some(today)) => first <= today && today <= last,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::Date;

    #[test]
    fn check_in_is_on_the_event_s_own_days_in_its_zone() {
        let tz = TimeZone::get("America/New_York").expect("zone");
        let at = |d: &str, t: &str| {
            format!("{d}T{t}")
                .parse::<jiff::civil::DateTime>()
                .expect("datetime")
                .to_zoned(tz.clone())
                .expect("zoned")
                .timestamp()
                .as_second()
        };
        let (starts, ends) = (at("2027-03-03", "18:00"), at("2027-03-04", "02:00"));
        assert!(
            falls_on_days(starts, ends, at("2027-03-03", "07:30"), &tz),
            "that morning"
        );
        assert!(
            falls_on_days(starts, ends, at("2027-03-04", "01:00"), &tz),
            "after midnight"
        );
        assert!(
            !falls_on_days(starts, ends, at("2027-03-02", "23:59"), &tz),
            "the day before"
        );
        // 23:30 in New York is already the next day in UTC: the event's zone decides.
        assert!(falls_on_days(
            starts,
            starts,
            at("2027-03-03", "23:30"),
            &tz
        ));
    }

    fn input() -> EventForm {
        EventForm {
            title: "Journal club".into(),
            time_zone: "America/New_York".into(),
            date: "2027-03-03".into(),
            start_time: "12:00".into(),
            end_time: "13:00".into(),
            audience: vec!["faculty".into(), "residents".into()],
            capacity: "20".into(),
            ..Default::default()
        }
    }

    #[test]
    fn weekly_repetition_keeps_local_time_across_daylight_saving() {
        let mut i = input();
        i.repeat = "weekly".into();
        i.repeat_until = "2027-03-31".into();
        i.except_dates = "2027-03-24".into();
        let d = EventDraft::from_form(&i).expect("valid");
        // 3, 10, 17, 31 March; the 24th is excepted. DST starts on 14 March 2027.
        assert_eq!(d.occurrences.len(), 4);
        let tz = TimeZone::get("America/New_York").expect("zone");
        for o in &d.occurrences {
            let z = jiff::Timestamp::from_second(o.starts_at)
                .expect("ts")
                .to_zoned(tz.clone());
            assert_eq!((z.hour(), z.minute()), (12, 0));
            assert_eq!(o.ends_at - o.starts_at, 3600);
        }
        assert_eq!(
            d.occurrences[1].starts_at - d.occurrences[0].starts_at,
            7 * 86400
        );
        assert_eq!(
            d.occurrences[2].starts_at - d.occurrences[1].starts_at,
            7 * 86400 - 3600
        );
    }

    #[test]
    fn monthly_weekday_follows_the_nth_weekday() {
        let first: Date = "2027-01-12".parse().expect("date"); // 2nd Tuesday
        let until: Date = "2027-05-31".parse().expect("date");
        let ds = repeat_dates(first, Repeat::MonthlyWeekday, Some(until), &[]).expect("ok");
        let days: Vec<String> = ds.iter().map(|d| d.to_string()).collect();
        assert_eq!(
            days,
            [
                "2027-01-12",
                "2027-02-09",
                "2027-03-09",
                "2027-04-13",
                "2027-05-11"
            ]
        );
        let first31: Date = "2027-01-31".parse().expect("date");
        let ds = repeat_dates(first31, Repeat::MonthlyDate, Some(until), &[]).expect("ok");
        assert_eq!(ds.len(), 3, "January, March and May have a 31st: {ds:?}");
    }

    #[test]
    fn mistakes_name_their_field() {
        type Change = Box<dyn Fn(&mut EventForm)>;
        let cases: Vec<(Change, &str)> = vec![
            (Box::new(|i| i.title.clear()), "title"),
            (
                Box::new(|i| i.time_zone = "Mars/Olympus".into()),
                "time_zone",
            ),
            (Box::new(|i| i.end_time = "11:00".into()), "end_time"),
            (Box::new(|i| i.capacity = "0".into()), "capacity"),
            (Box::new(|i| i.audience.clear()), "audience"),
            (
                Box::new(|i| i.online_url = "zoom meeting".into()),
                "online_url",
            ),
            (Box::new(|i| i.allocation = "lottery".into()), "lottery_at"),
            (Box::new(|i| i.repeat = "weekly".into()), "repeat_until"),
            (Box::new(|i| i.closes = "2027-03-04T09:00".into()), "closes"),
        ];
        for (change, field) in cases {
            let mut i = input();
            change(&mut i);
            let e = EventDraft::from_form(&i).expect_err(field);
            assert_eq!(e.field(), field, "{}", e.message());
        }
    }

    #[test]
    fn answers_are_checked_against_their_questions() {
        let qs = vec![
            Question {
                id: 1,
                kind: QuestionKind::Choice,
                label: "Lunch".into(),
                required: true,
                options: vec!["Vegetarian".into(), "Any".into()],
            },
            Question {
                id: 2,
                kind: QuestionKind::Multi,
                label: "Sessions".into(),
                required: false,
                options: vec!["A".into(), "B".into(), "C".into()],
            },
        ];
        assert!(parse_answers(&qs, &[]).is_err());
        assert!(parse_answers(&qs, &[(1, "Fish".into())]).is_err());
        let a = parse_answers(&qs, &[(1, "Any".into()), (2, "A".into()), (2, "C".into())])
            .expect("valid");
        assert_eq!(a[1].answer, "A; C");
    }

    #[test]
    fn isbn_and_doi_are_checked() {
        assert_eq!(
            parse_isbn("978-0-306-40615-7").expect("ok"),
            "9780306406157"
        );
        assert!(parse_isbn("978-0-306-40615-8").is_err());
        assert_eq!(parse_isbn("0-306-40615-2").expect("ok"), "0306406152");
        assert_eq!(
            parse_doi("https://doi.org/10.1001/jama.2018.1234").expect("ok"),
            "10.1001/jama.2018.1234"
        );
        assert!(parse_doi("jama 2018").is_err());
    }

    #[test]
    fn lottery_order_is_reproducible_and_a_permutation() {
        let ids: Vec<i64> = (1..=200).collect();
        let a = lottery_order("seed-1", &ids);
        assert_eq!(a, lottery_order("seed-1", &ids));
        assert_ne!(a, lottery_order("seed-2", &ids));
        let mut sorted = a.clone();
        sorted.sort();
        assert_eq!(sorted, ids);
    }

    #[test]
    fn promotion_keeps_arrival_order_and_families_whole() {
        assert_eq!(promotable(2, &[(1, 1), (2, 1), (3, 1)]), vec![1, 2]);
        assert_eq!(promotable(2, &[(1, 3), (2, 1)]), Vec::<i64>::new());
    }

    #[test]
    fn clearances_lapse() {
        let today: Date = "2027-04-10".parse().expect("date");
        let c = Clearance {
            account_id: 1,
            name: "Dr A".into(),
            background_check_on: "2025-05-01".parse().expect("date"),
            youth_training_on: "2026-03-01".parse().expect("date"),
        };
        let p = ClearancePolicy::default();
        assert!(c.lapsed_on(today, &p).expect("lapsed").contains("training"));
        let lenient = ClearancePolicy::parse("3", "2").expect("valid");
        assert_eq!(c.lapsed_on(today, &lenient), None);
        assert_eq!(
            ClearancePolicy::parse("0", "1")
                .expect_err("too short")
                .field(),
            "background_check_years"
        );
        assert!(Clearance::parse("2030-01-01", "2026-01-01", today).is_err());
    }
}
