//! Events and registration: what a coordinator describes (checked, with its occurrences
//! when it repeats), the questions and readings it carries, who may register and how
//! places are allocated (first come, or a seeded lottery), and for school students the
//! children, the guardian's consent and the adults' clearances.

use jiff::civil::{Date, DateTime, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{ToSpan, Zoned};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Invalid, optional_text, required_text};

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

/// Children one guardian may register at once.
pub const MAX_CHILDREN: usize = 6;

/// The version of the consent and waiver text a guardian agrees to. A new text gets a
/// new version, so that each consent records what was agreed.
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
    /// Places held (confirmed, or offered and not yet answered).
    pub taken: i64,
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
pub fn local_input(unix: Option<i64>, tz: &TimeZone) -> String {
    unix.and_then(|u| local(u, tz))
        .map(|z| z.strftime("%Y-%m-%dT%H:%M").to_string())
        .unwrap_or_default()
}

/// An event as typed into the form or sent to the API: all text, checked by `parse`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct EventInput {
    pub title: String,
    pub body_md: String,
    /// A series' slug, or empty for a stand-alone event.
    pub series: String,
    pub time_zone: String,
    /// YYYY-MM-DD, in the event's time zone.
    pub date: String,
    /// HH:MM.
    pub start_time: String,
    pub end_time: String,
    /// YYYY-MM-DD when it ends on a later day; empty for the same day.
    pub end_date: String,
    pub place: String,
    pub online_url: String,
    pub audience: Vec<String>,
    pub capacity: String,
    /// YYYY-MM-DDTHH:MM in the event's zone; empty: open now.
    pub opens: String,
    /// Empty: until the event starts.
    pub closes: String,
    pub guests_allowed: bool,
    pub private: bool,
    pub for_minors: bool,
    pub allocation: String,
    /// When a lottery is drawn (YYYY-MM-DDTHH:MM).
    pub lottery_at: String,
    /// 0 or empty: freed places go to the next person at once.
    pub offer_hours: String,
    pub repeat: String,
    /// Last date of a repeating event (YYYY-MM-DD).
    pub repeat_until: String,
    /// Dates skipped by the repetition, separated by commas or lines.
    pub except_dates: String,
    pub questions: Vec<QuestionInput>,
    pub readings: Vec<ReadingInput>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct QuestionInput {
    pub kind: String,
    pub label: String,
    pub required: bool,
    /// One choice per line.
    pub options: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ReadingInput {
    pub kind: String,
    pub title: String,
    pub authors: String,
    pub isbn: String,
    pub journal: String,
    pub year: String,
    pub doi: String,
}

/// A checked event; `occurrences` holds each (start, end) it will have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventDraft {
    pub title: String,
    pub body_md: String,
    pub series: Option<String>,
    pub time_zone: String,
    pub place: String,
    pub online_url: String,
    pub audience: Vec<Audience>,
    pub capacity: i64,
    pub guests_allowed: bool,
    pub private: bool,
    pub for_minors: bool,
    pub allocation: Allocation,
    pub offer_hours: i64,
    pub questions: Vec<Question>,
    pub readings: Vec<Reading>,
    pub occurrences: Vec<Occurrence>,
}

/// One dated instance with its registration window, all in Unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Occurrence {
    pub starts_at: i64,
    pub ends_at: i64,
    pub opens_at: Option<i64>,
    pub closes_at: Option<i64>,
    pub lottery_at: Option<i64>,
}

fn parse_date(field: &'static str, label: &str, v: &str) -> Result<Date, Invalid> {
    v.trim().parse::<Date>().map_err(|_| {
        Invalid::new(
            field,
            format!("{label}: enter a date as YYYY-MM-DD, e.g. 2027-03-06."),
        )
    })
}

fn parse_clock(field: &'static str, label: &str, v: &str) -> Result<Time, Invalid> {
    v.trim().parse::<Time>().map_err(|_| {
        Invalid::new(
            field,
            format!("{label}: enter a time as HH:MM, e.g. 17:30."),
        )
    })
}

fn parse_local(field: &'static str, label: &str, v: &str) -> Result<Option<DateTime>, Invalid> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(None);
    }
    v.parse::<DateTime>().map(Some).map_err(|_| {
        Invalid::new(
            field,
            format!("{label}: enter a date and time as YYYY-MM-DDTHH:MM."),
        )
    })
}

fn in_zone(field: &'static str, dt: DateTime, tz: &TimeZone) -> Result<i64, Invalid> {
    dt.to_zoned(tz.clone())
        .map(|z| z.timestamp().as_second())
        .map_err(|_| Invalid::new(field, "That time does not exist in the event's time zone."))
}

pub fn parse_time_zone(v: &str) -> Result<TimeZone, Invalid> {
    let v = v.trim();
    if v.is_empty() {
        return Err(Invalid::new(
            "time_zone",
            "Enter the event's time zone, e.g. America/New_York.",
        ));
    }
    TimeZone::get(v).map_err(|_| {
        Invalid::new(
            "time_zone",
            format!(
                "'{v}' is not a time zone name; use one such as America/New_York or Europe/London."
            ),
        )
    })
}

/// Where the repetition lands, from the first date to `until` (inclusive), skipping
/// `except`. Local dates: a 12:00 lecture stays at 12:00 across a daylight-saving change.
pub fn repeat_dates(
    first: Date,
    repeat: Repeat,
    until: Option<Date>,
    except: &[Date],
) -> Result<Vec<Date>, Invalid> {
    if repeat == Repeat::Once {
        return Ok(vec![first]);
    }
    let until = until.ok_or_else(|| {
        Invalid::new(
            "repeat_until",
            "Give the last date of the repetition (YYYY-MM-DD).",
        )
    })?;
    if until < first {
        return Err(Invalid::new(
            "repeat_until",
            "The repetition must end on or after the first date.",
        ));
    }
    let nth = (first.day() - 1) / 7 + 1;
    let weekday: Weekday = first.weekday();
    let mut out = Vec::new();
    for i in 0i64.. {
        let d = match repeat {
            Repeat::Once => break,
            Repeat::Weekly => first.checked_add((7 * i).days()).ok(),
            Repeat::Fortnightly => first.checked_add((14 * i).days()).ok(),
            Repeat::MonthlyDate | Repeat::MonthlyWeekday => {
                let Ok(month) = first.first_of_month().checked_add(i.months()) else {
                    break;
                };
                if month > until {
                    break;
                }
                let d = if repeat == Repeat::MonthlyDate {
                    Date::new(month.year(), month.month(), first.day()).ok()
                } else {
                    month.nth_weekday_of_month(nth, weekday).ok()
                };
                // A month without that day (the 31st, a fifth Friday) is passed over.
                match d {
                    Some(d) => Some(d),
                    None => continue,
                }
            }
        };
        let Some(d) = d else { break };
        if d > until {
            break;
        }
        if !except.contains(&d) {
            out.push(d);
        }
        if out.len() > MAX_OCCURRENCES {
            return Err(Invalid::new(
                "repeat_until",
                format!(
                    "That would create more than {MAX_OCCURRENCES} events; choose an earlier last date."
                ),
            ));
        }
    }
    if out.is_empty() {
        return Err(Invalid::new(
            "except_dates",
            "Every date of the repetition is excepted; nothing would be created.",
        ));
    }
    Ok(out)
}

impl EventDraft {
    pub fn parse(input: &EventInput) -> Result<Self, Invalid> {
        let title = required_text("title", "Title", &input.title, 150)?;
        let body_md = optional_text("body_md", "Description", &input.body_md, 20_000)?;
        let series = Some(input.series.trim().to_string()).filter(|s| !s.is_empty());
        let tz = parse_time_zone(&input.time_zone)?;
        let date = parse_date("date", "Date", &input.date)?;
        let start = parse_clock("start_time", "Start time", &input.start_time)?;
        let end = parse_clock("end_time", "End time", &input.end_time)?;
        let end_date = if input.end_date.trim().is_empty() {
            date
        } else {
            parse_date("end_date", "End date", &input.end_date)?
        };
        let first_start = in_zone("start_time", date.to_datetime(start), &tz)?;
        let first_end = in_zone("end_time", end_date.to_datetime(end), &tz)?;
        if first_end <= first_start {
            return Err(Invalid::new(
                "end_time",
                "The event must end after it starts.",
            ));
        }
        let day_span = (end_date - date).get_days();
        let place = optional_text("place", "Place", &input.place, 300)?;
        let online_url = optional_text("online_url", "Online link", &input.online_url, 500)?;
        if !online_url.is_empty() {
            let ok = url::Url::parse(&online_url)
                .map(|u| matches!(u.scheme(), "https" | "http") && u.host().is_some())
                .unwrap_or(false);
            if !ok {
                return Err(Invalid::new(
                    "online_url",
                    "The online link must be a full web address starting with https://.",
                ));
            }
        }
        let mut audience = Vec::new();
        for a in &input.audience {
            for part in a.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                let v = Audience::parse(part).ok_or_else(|| {
                    Invalid::new(
                        "audience",
                        format!("'{part}' is not an audience; choose faculty, residents, students or public."),
                    )
                })?;
                if !audience.contains(&v) {
                    audience.push(v);
                }
            }
        }
        if audience.is_empty() {
            return Err(Invalid::new(
                "audience",
                "Choose at least one audience for the event.",
            ));
        }
        let capacity: i64 =
            input.capacity.trim().parse().map_err(|_| {
                Invalid::new("capacity", "Capacity must be a whole number of places.")
            })?;
        if !(1..=MAX_CAPACITY).contains(&capacity) {
            return Err(Invalid::new(
                "capacity",
                format!("Capacity must be between 1 and {MAX_CAPACITY}."),
            ));
        }
        let allocation = if input.allocation.trim().is_empty() {
            Allocation::FirstCome
        } else {
            Allocation::parse(input.allocation.trim())
                .ok_or_else(|| Invalid::new("allocation", "Choose first come or lottery."))?
        };
        let offer_hours: i64 = if input.offer_hours.trim().is_empty() {
            0
        } else {
            input.offer_hours.trim().parse().map_err(|_| {
                Invalid::new(
                    "offer_hours",
                    "Hours to accept a freed place must be a whole number.",
                )
            })?
        };
        if !(0..=168).contains(&offer_hours) {
            return Err(Invalid::new(
                "offer_hours",
                "Hours to accept a freed place must be between 0 (at once) and 168.",
            ));
        }
        let opens = parse_local("opens", "Registration opens", &input.opens)?
            .map(|d| in_zone("opens", d, &tz))
            .transpose()?;
        let closes = parse_local("closes", "Registration closes", &input.closes)?
            .map(|d| in_zone("closes", d, &tz))
            .transpose()?;
        if let (Some(o), Some(c)) = (opens, closes)
            && c <= o
        {
            return Err(Invalid::new(
                "closes",
                "Registration must close after it opens.",
            ));
        }
        if closes.is_some_and(|c| c > first_start) {
            return Err(Invalid::new(
                "closes",
                "Registration must close by the time the event starts.",
            ));
        }
        let lottery = parse_local("lottery_at", "Lottery draw", &input.lottery_at)?
            .map(|d| in_zone("lottery_at", d, &tz))
            .transpose()?;
        let lottery = match (allocation, lottery) {
            (Allocation::Lottery, None) => {
                return Err(Invalid::new(
                    "lottery_at",
                    "A lottery needs the date and time of the draw: entries are collected until then.",
                ));
            }
            (Allocation::Lottery, Some(l)) if l >= first_start => {
                return Err(Invalid::new(
                    "lottery_at",
                    "The draw must happen before the event starts.",
                ));
            }
            (Allocation::Lottery, Some(l)) if opens.is_some_and(|o| l <= o) => {
                return Err(Invalid::new(
                    "lottery_at",
                    "The draw must come after registration opens.",
                ));
            }
            (Allocation::Lottery, l) => l,
            (Allocation::FirstCome, _) => None,
        };
        let repeat = if input.repeat.trim().is_empty() {
            Repeat::Once
        } else {
            Repeat::parse(input.repeat.trim())
                .ok_or_else(|| Invalid::new("repeat", "Choose how the event repeats."))?
        };
        let until = if input.repeat_until.trim().is_empty() {
            None
        } else {
            Some(parse_date(
                "repeat_until",
                "Repeat until",
                &input.repeat_until,
            )?)
        };
        let mut except = Vec::new();
        for part in input
            .except_dates
            .split([',', '\n', ';'])
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            except.push(parse_date("except_dates", "Excepted date", part)?);
        }
        let dates = repeat_dates(date, repeat, until, &except)?;
        let mut occurrences = Vec::with_capacity(dates.len());
        for d in dates {
            let s = in_zone("date", d.to_datetime(start), &tz)?;
            let end_day = d
                .checked_add(day_span.days())
                .map_err(|_| Invalid::new("end_date", "The end date is out of range."))?;
            let e = in_zone("end_time", end_day.to_datetime(end), &tz)?;
            // Windows keep their distance from the start, so each occurrence opens as
            // long before itself as the first one does.
            let shift = |t: Option<i64>| t.map(|t| t - first_start + s);
            occurrences.push(Occurrence {
                starts_at: s,
                ends_at: e,
                opens_at: shift(opens),
                closes_at: shift(closes),
                lottery_at: shift(lottery),
            });
        }
        let mut questions = Vec::new();
        for q in &input.questions {
            if let Some(q) = parse_question(q)? {
                questions.push(q);
            }
        }
        let mut readings = Vec::new();
        for r in &input.readings {
            if let Some(r) = parse_reading(r)? {
                readings.push(r);
            }
        }
        Ok(Self {
            title,
            body_md,
            series,
            time_zone: tz.iana_name().unwrap_or("UTC").to_string(),
            place,
            online_url,
            audience,
            capacity,
            guests_allowed: input.guests_allowed || input.for_minors,
            private: input.private,
            for_minors: input.for_minors,
            allocation,
            offer_hours,
            questions,
            readings,
            occurrences,
        })
    }
}

/// A question row; an empty label means the row was left blank.
pub fn parse_question(q: &QuestionInput) -> Result<Option<Question>, Invalid> {
    let label = q.label.trim();
    if label.is_empty() {
        return Ok(None);
    }
    let label = required_text("questions", "A question", label, 200)?;
    let kind = QuestionKind::parse(q.kind.trim()).unwrap_or(QuestionKind::Text);
    let options: Vec<String> = q
        .options
        .lines()
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(|o| o.chars().take(100).collect())
        .collect();
    if matches!(kind, QuestionKind::Choice | QuestionKind::Multi) && options.len() < 2 {
        return Err(Invalid::new(
            "questions",
            format!("\"{label}\" offers choices: give at least two, one per line."),
        ));
    }
    Ok(Some(Question {
        id: 0,
        kind,
        label,
        required: q.required,
        options: if matches!(kind, QuestionKind::Choice | QuestionKind::Multi) {
            options
        } else {
            Vec::new()
        },
    }))
}

/// Checks an ISBN-10 or ISBN-13's check digit; returns it without hyphens or spaces.
pub fn parse_isbn(raw: &str) -> Result<String, Invalid> {
    let s: String = raw
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .collect::<String>()
        .to_uppercase();
    let bad = || {
        Invalid::new(
            "readings",
            format!("'{}' is not a valid ISBN; check the digits.", raw.trim()),
        )
    };
    let digits: Vec<u32> = s
        .chars()
        .enumerate()
        .map(|(i, c)| match c {
            'X' if i == 9 && s.len() == 10 => Some(10),
            c => c.to_digit(10),
        })
        .collect::<Option<_>>()
        .ok_or_else(bad)?;
    let ok = match digits.len() {
        10 => {
            digits
                .iter()
                .enumerate()
                .map(|(i, d)| (10 - i as u32) * d)
                .sum::<u32>()
                % 11
                == 0
        }
        13 => {
            digits
                .iter()
                .enumerate()
                .map(|(i, d)| if i % 2 == 0 { *d } else { 3 * d })
                .sum::<u32>()
                % 10
                == 0
        }
        _ => false,
    };
    if ok { Ok(s) } else { Err(bad()) }
}

/// A DOI, with any resolver prefix removed.
pub fn parse_doi(raw: &str) -> Result<String, Invalid> {
    let s = raw.trim();
    let s = [
        "https://doi.org/",
        "http://doi.org/",
        "https://dx.doi.org/",
        "doi:",
    ]
    .iter()
    .find_map(|p| s.strip_prefix(p))
    .unwrap_or(s);
    let ok = s.starts_with("10.")
        && s.contains('/')
        && s.len() <= 200
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c == '"' || c == '<' || c == '>');
    if ok {
        Ok(s.to_string())
    } else {
        Err(Invalid::new(
            "readings",
            format!(
                "'{}' is not a DOI; it looks like 10.1001/jama.2018.1234.",
                raw.trim()
            ),
        ))
    }
}

/// A reading row; an empty title means the row was left blank.
pub fn parse_reading(r: &ReadingInput) -> Result<Option<Reading>, Invalid> {
    if r.title.trim().is_empty() {
        return Ok(None);
    }
    let kind = ReadingKind::parse(r.kind.trim()).unwrap_or(ReadingKind::Book);
    let title = required_text("readings", "A reading's title", &r.title, 300)?;
    let authors = required_text("readings", "A reading's authors", &r.authors, 300)?;
    let isbn = if r.isbn.trim().is_empty() {
        String::new()
    } else {
        parse_isbn(&r.isbn)?
    };
    let journal = optional_text("readings", "The journal", &r.journal, 200)?;
    let year = if r.year.trim().is_empty() {
        None
    } else {
        let y: i64 = r
            .year
            .trim()
            .parse()
            .map_err(|_| Invalid::new("readings", "A reading's year must be a number."))?;
        if !(1500..=2200).contains(&y) {
            return Err(Invalid::new("readings", "A reading's year looks wrong."));
        }
        Some(y)
    };
    let doi = if r.doi.trim().is_empty() {
        String::new()
    } else {
        parse_doi(&r.doi)?
    };
    Ok(Some(Reading {
        kind,
        title,
        authors,
        isbn: if kind == ReadingKind::Book {
            isbn
        } else {
            String::new()
        },
        journal: if kind == ReadingKind::Article {
            journal
        } else {
            String::new()
        },
        year,
        doi: if kind == ReadingKind::Article {
            doi
        } else {
            String::new()
        },
    }))
}

/// One answer as kept with a registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Answer {
    pub question: String,
    pub answer: String,
}

/// Checks the answers to an event's questions. `given` holds (question id, value) pairs;
/// a several-choices question may appear more than once.
pub fn parse_answers(
    questions: &[Question],
    given: &[(i64, String)],
) -> Result<Vec<Answer>, Invalid> {
    let mut out = Vec::new();
    for q in questions {
        let values: Vec<&str> = given
            .iter()
            .filter(|(id, _)| *id == q.id)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
            .collect();
        if values.is_empty() {
            if q.required {
                return Err(Invalid::new(
                    "answers",
                    format!("Please answer \"{}\".", q.label),
                ));
            }
            continue;
        }
        let answer = match q.kind {
            QuestionKind::Text => optional_text(
                "answers",
                &format!("The answer to \"{}\"", q.label),
                values[0],
                500,
            )?,
            QuestionKind::YesNo => match values[0] {
                "yes" | "no" => values[0].to_string(),
                _ => {
                    return Err(Invalid::new(
                        "answers",
                        format!("Answer \"{}\" with yes or no.", q.label),
                    ));
                }
            },
            QuestionKind::Choice | QuestionKind::Multi => {
                if q.kind == QuestionKind::Choice && values.len() > 1 {
                    return Err(Invalid::new(
                        "answers",
                        format!("Choose one answer for \"{}\".", q.label),
                    ));
                }
                for v in &values {
                    if !q.options.iter().any(|o| o == v) {
                        return Err(Invalid::new(
                            "answers",
                            format!("'{v}' is not one of the choices for \"{}\".", q.label),
                        ));
                    }
                }
                values.join("; ")
            }
        };
        out.push(Answer {
            question: q.label.clone(),
            answer,
        });
    }
    Ok(out)
}

/// A child registered by a guardian: the least that lets the day run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Child {
    pub first_name: String,
    /// K or 1–12.
    pub grade: String,
    pub school: String,
}

impl Child {
    /// A row of the form; `None` when it was left blank.
    pub fn parse(first_name: &str, grade: &str, school: &str) -> Result<Option<Self>, Invalid> {
        if first_name.trim().is_empty() && grade.trim().is_empty() && school.trim().is_empty() {
            return Ok(None);
        }
        let first_name = required_text("children", "Each child's first name", first_name, 40)?;
        if first_name.contains(' ') && first_name.split(' ').count() > 2 {
            return Err(Invalid::new(
                "children",
                "Give only each child's first name.",
            ));
        }
        let g = grade.trim().to_uppercase();
        let grade_ok = g == "K" || g.parse::<u8>().is_ok_and(|n| (1..=12).contains(&n));
        if !grade_ok {
            return Err(Invalid::new(
                "children",
                format!("{first_name}'s grade must be K or a number from 1 to 12."),
            ));
        }
        let school = required_text("children", "Each child's school", school, 120)?;
        Ok(Some(Self {
            first_name,
            grade: g,
            school,
        }))
    }
}

/// A guardian's consent to the current text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Consent {
    pub version: String,
    pub relationship: String,
}

pub fn parse_consent(agreed: bool, relationship: &str) -> Result<Consent, Invalid> {
    let relationship = required_text(
        "guardian_relationship",
        "Your relationship to the children",
        relationship,
        60,
    )?;
    if !agreed {
        return Err(Invalid::new(
            "consent",
            "A guardian must read and agree to the consent and waiver to register children.",
        ));
    }
    Ok(Consent {
        version: CONSENT_VERSION.to_string(),
        relationship,
    })
}

/// How long a clearance lasts, counted from the date it was done.
pub const BACKGROUND_CHECK_YEARS: i64 = 2;
pub const YOUTH_TRAINING_YEARS: i64 = 1;

/// An adult's checks for working with school students.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Clearance {
    pub account_id: i64,
    pub name: String,
    #[schema(value_type = String)]
    pub background_check_on: Date,
    #[schema(value_type = String)]
    pub youth_training_on: Date,
}

impl Clearance {
    pub fn parse(background: &str, training: &str, today: Date) -> Result<(Date, Date), Invalid> {
        let b = parse_date("background_check_on", "Background check", background)?;
        let t = parse_date("youth_training_on", "Youth-protection training", training)?;
        if b > today || t > today {
            return Err(Invalid::new(
                "background_check_on",
                "Record the date a check or training was done, not a future date.",
            ));
        }
        Ok((b, t))
    }

    pub fn background_until(&self) -> Date {
        self.background_check_on
            .checked_add(BACKGROUND_CHECK_YEARS.years())
            .unwrap_or(Date::MIN)
    }

    pub fn training_until(&self) -> Date {
        self.youth_training_on
            .checked_add(YOUTH_TRAINING_YEARS.years())
            .unwrap_or(Date::MIN)
    }

    /// Why this adult may not be with students on `day`, if they may not.
    pub fn lapsed_on(&self, day: Date) -> Option<String> {
        if self.background_until() < day {
            return Some(format!(
                "{}'s background check lapsed on {}.",
                self.name,
                self.background_until()
            ));
        }
        if self.training_until() < day {
            return Some(format!(
                "{}'s youth-protection training lapsed on {}.",
                self.name,
                self.training_until()
            ));
        }
        None
    }
}

/// The lottery's order: each entry ranked by SHA-256 of the seed and its id. Anyone with
/// the published seed and the entries' ids can recompute it; no entry can choose its rank.
pub fn lottery_order(seed: &str, ids: &[i64]) -> Vec<i64> {
    let mut keyed: Vec<([u8; 32], i64)> = ids
        .iter()
        .map(|id| {
            let mut h = Sha256::new();
            h.update(seed.as_bytes());
            h.update(b":");
            h.update(id.to_string().as_bytes());
            (h.finalize().into(), *id)
        })
        .collect();
    keyed.sort();
    keyed.into_iter().map(|(_, id)| id).collect()
}

/// Who gets a freed place: waiting registrations in arrival order, while the first one's
/// places fit in what is free (a family is not split, nor overtaken).
pub fn promotable(free: i64, waiting: &[(i64, i64)]) -> Vec<i64> {
    let mut free = free;
    let mut out = Vec::new();
    for (id, places) in waiting {
        if *places > free {
            break;
        }
        free -= places;
        out.push(*id);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> EventInput {
        EventInput {
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
        let d = EventDraft::parse(&i).expect("valid");
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
        type Change = Box<dyn Fn(&mut EventInput)>;
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
            let e = EventDraft::parse(&i).expect_err(field);
            assert_eq!(e.field, field, "{}", e.message);
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
        assert!(c.lapsed_on(today).expect("lapsed").contains("training"));
        assert!(Clearance::parse("2030-01-01", "2026-01-01", today).is_err());
    }
}
