//! What a coordinator types for an event, checked: times in the event's zone, the
//! registration window, allocation, and the occurrences of a repetition (local time kept
//! across daylight-saving changes, excepted dates left out).

use jiff::ToSpan;
use jiff::civil::{Date, DateTime, Time, Weekday};
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use super::questions::{parse_question, parse_reading};
use super::{Allocation, Audience, MAX_CAPACITY, MAX_OCCURRENCES, Question, Reading, Repeat};
use crate::domain::{Invalid, Mistakes, optional_line, optional_text, required_line};

/// An event's form as typed: all text, kept as typed so that a mistake shows it again.
/// `EventInput::try_from` reads each field into its type, naming the field it cannot.
#[derive(Debug, Clone, Default)]
pub struct EventForm {
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
    /// Guests confirm their address by an e-mailed link before a place is held [default:
    /// on whenever guests may register].
    pub guests_confirm: Option<bool>,
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

/// Hours a freed place may be held for the person offered it: up to a week.
pub const MAX_OFFER_HOURS: u32 = 168;

/// An event with typed values, as the API takes it and a form becomes. `EventDraft::parse`
/// checks the rules between them (an end after the start, a window before the event…).
/// Times are wall-clock times in the event's own `time_zone`, as a coordinator thinks of
/// them: a 12:00 lecture stays at 12:00 whatever the offset of the day.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventInput {
    #[schema(min_length = 1, max_length = 150)]
    pub title: String,
    /// Markdown.
    #[serde(default)]
    #[schema(max_length = 20000)]
    pub body_md: String,
    /// A series' slug, or empty for a stand-alone event.
    #[serde(default)]
    pub series: String,
    /// An IANA time zone name, e.g. America/New_York.
    #[schema(example = "America/New_York")]
    pub time_zone: String,
    /// The (first) day, in the event's time zone.
    #[schema(value_type = String, format = Date, example = "2027-03-06")]
    pub date: Date,
    #[schema(value_type = String, pattern = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$", example = "12:00")]
    pub start_time: Time,
    #[schema(value_type = String, pattern = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$", example = "13:00")]
    pub end_time: Time,
    /// When it ends on a later day than it starts.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date)]
    pub end_date: Option<Date>,
    #[serde(default)]
    #[schema(max_length = 300)]
    pub place: String,
    /// An https:// address, given only to people with a place.
    #[serde(default)]
    #[schema(max_length = 500)]
    pub online_url: String,
    #[schema(min_items = 1)]
    pub audience: Vec<Audience>,
    #[schema(minimum = 1, maximum = 100000)]
    pub capacity: i64,
    /// When registration opens (none: open now), in the event's zone.
    #[serde(default)]
    #[schema(value_type = Option<String>, pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2})?$", example = "2027-03-01T09:00")]
    pub opens: Option<DateTime>,
    /// When registration closes (none: when the event starts).
    #[serde(default)]
    #[schema(value_type = Option<String>, pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2})?$")]
    pub closes: Option<DateTime>,
    #[serde(default)]
    pub guests_allowed: bool,
    /// Guests confirm their address by an e-mailed link before a place is held [default:
    /// on whenever guests may register].
    #[serde(default)]
    pub guests_confirm: Option<bool>,
    #[serde(default)]
    pub private: bool,
    #[serde(default)]
    pub for_minors: bool,
    /// [default: first_come]
    #[serde(default)]
    pub allocation: Option<Allocation>,
    /// When a lottery is drawn, in the event's zone.
    #[serde(default)]
    #[schema(value_type = Option<String>, pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2})?$")]
    pub lottery_at: Option<DateTime>,
    /// Hours the next person has to accept a freed place; 0: it is theirs at once.
    #[serde(default)]
    #[schema(maximum = 168)]
    pub offer_hours: u32,
    /// [default: once]
    #[serde(default)]
    pub repeat: Option<Repeat>,
    /// Last date of a repeating event.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date)]
    pub repeat_until: Option<Date>,
    /// Dates the repetition skips.
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    pub except_dates: Vec<Date>,
    #[serde(default)]
    pub questions: Vec<QuestionInput>,
    #[serde(default)]
    pub readings: Vec<ReadingInput>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct QuestionInput {
    #[schema(value_type = super::QuestionKind)]
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

impl EventInput {
    /// The same event `days` later (or earlier): its date, end date and any registration
    /// window and draw move with it. For applying one change to later occurrences.
    pub fn moved_by_days(&self, days: i64) -> Result<EventInput, Invalid> {
        let out_of_range = |field| Invalid::new(field, "That date is out of range.");
        let date = |field, d: Date| d.checked_add(days.days()).map_err(|_| out_of_range(field));
        let local = |field, d: Option<DateTime>| {
            d.map(|d| d.checked_add(days.days()).map_err(|_| out_of_range(field)))
                .transpose()
        };
        Ok(EventInput {
            date: date("date", self.date)?,
            end_date: self.end_date.map(|d| date("end_date", d)).transpose()?,
            opens: local("opens", self.opens)?,
            closes: local("closes", self.closes)?,
            lottery_at: local("lottery_at", self.lottery_at)?,
            ..self.clone()
        })
    }
}

impl TryFrom<&EventForm> for EventInput {
    type Error = Invalid;

    /// Reads each field into its type, noting every one that does not read; then the
    /// rules that do not hang on those fields, so that one sending tells every mistake.
    fn try_from(f: &EventForm) -> Result<Self, Invalid> {
        let mut m = Mistakes::new();
        let optional_date = |m: &mut Mistakes, field, label, v: &str| {
            Some(v.trim())
                .filter(|v| !v.is_empty())
                .and_then(|v| m.check(parse_date(field, label, v)))
        };
        let mut audience = Vec::new();
        for a in &f.audience {
            for part in a.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                match Audience::parse(part) {
                    Some(v) if !audience.contains(&v) => audience.push(v),
                    Some(_) => {}
                    None => m.note(
                        "audience",
                        "Choose faculty, residents, students or the public.",
                    ),
                }
            }
        }
        let capacity = m.or(
            f.capacity.trim().parse().map_err(|_| {
                Invalid::new(
                    "capacity",
                    format!("Give the number of places, from 1 to {MAX_CAPACITY}."),
                )
            }),
            1,
        );
        let allocation = Some(f.allocation.trim())
            .filter(|v| !v.is_empty())
            .and_then(|v| {
                m.check(
                    Allocation::parse(v)
                        .ok_or_else(|| Invalid::new("allocation", "Choose first come or lottery.")),
                )
            });
        let offer_hours = if f.offer_hours.trim().is_empty() {
            0
        } else {
            m.or(
                f.offer_hours.trim().parse().map_err(|_| {
                    Invalid::new(
                        "offer_hours",
                        format!("Hours to accept a freed place must be a whole number between 0 (at once) and {MAX_OFFER_HOURS}."),
                    )
                }),
                0,
            )
        };
        let repeat = Some(f.repeat.trim())
            .filter(|v| !v.is_empty())
            .and_then(|v| {
                m.check(
                    Repeat::parse(v)
                        .ok_or_else(|| Invalid::new("repeat", "Choose how the event repeats.")),
                )
            });
        let mut except_dates = Vec::new();
        for part in f
            .except_dates
            .split([',', '\n', ';'])
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            if let Some(d) = m.check(parse_date("except_dates", "Excepted date", part)) {
                except_dates.push(d);
            }
        }
        let stand_in_day = Date::constant(2000, 1, 3);
        let date = m.or(parse_date("date", "Date", &f.date), stand_in_day);
        let start_time = m.or(
            parse_clock("start_time", "Start time", &f.start_time),
            Time::constant(9, 0, 0, 0),
        );
        let end_time = m.or(
            parse_clock("end_time", "End time", &f.end_time),
            Time::constant(10, 0, 0, 0),
        );
        let end_date = optional_date(&mut m, "end_date", "End date", &f.end_date);
        let opens = m.or_default(parse_local("opens", "Registration opens", &f.opens));
        let closes = m.or_default(parse_local("closes", "Registration closes", &f.closes));
        let lottery_at = m.or_default(parse_local("lottery_at", "Lottery draw", &f.lottery_at));
        let repeat_until = optional_date(&mut m, "repeat_until", "Repeat until", &f.repeat_until);
        let input = EventInput {
            title: f.title.clone(),
            body_md: f.body_md.clone(),
            series: f.series.clone(),
            time_zone: f.time_zone.clone(),
            date,
            start_time,
            end_time,
            end_date,
            place: f.place.clone(),
            online_url: f.online_url.clone(),
            audience,
            capacity,
            opens,
            closes,
            guests_allowed: f.guests_allowed,
            guests_confirm: f.guests_confirm,
            private: f.private,
            for_minors: f.for_minors,
            allocation,
            lottery_at,
            offer_hours,
            repeat,
            repeat_until,
            except_dates,
            questions: f.questions.clone(),
            readings: f.readings.clone(),
        };
        if m.is_empty() {
            return Ok(input);
        }
        // What the rules say of the fields that did read, leaving out those about times
        // (they were checked against stand-ins) and those already told.
        const TIMED: &[&str] = &[
            "date",
            "start_time",
            "end_time",
            "end_date",
            "opens",
            "closes",
            "lottery_at",
            "repeat_until",
            "except_dates",
        ];
        if let Err(e) = EventDraft::parse(&input) {
            for mistake in e.mistakes() {
                if !TIMED.contains(&mistake.field.as_ref()) && !m.mistakes_about(&mistake.field) {
                    m.note(mistake.field.clone(), mistake.message.clone());
                }
            }
        }
        m.in_form_order(&[
            "title",
            "series",
            "body_md",
            "time_zone",
            "date",
            "start_time",
            "end_time",
            "end_date",
            "repeat",
            "repeat_until",
            "except_dates",
            "place",
            "online_url",
            "audience",
            "capacity",
            "opens",
            "closes",
            "allocation",
            "lottery_at",
            "offer_hours",
            "private",
        ]);
        m.finish(input)
    }
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
    pub guests_confirm: bool,
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

pub(super) fn parse_date(field: &'static str, label: &str, v: &str) -> Result<Date, Invalid> {
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
    /// Checks what was typed into the form: each field read into its type, then the rules.
    pub fn from_form(form: &EventForm) -> Result<Self, Invalid> {
        Self::parse(&EventInput::try_from(form)?)
    }

    pub fn parse(input: &EventInput) -> Result<Self, Invalid> {
        let mut m = Mistakes::new();
        let title = m.or_default(required_line("title", "Title", &input.title, 150));
        let body_md = m.or_default(optional_text(
            "body_md",
            "Description",
            &input.body_md,
            20_000,
        ));
        let series = Some(input.series.trim().to_string()).filter(|s| !s.is_empty());
        let tz = m.or(parse_time_zone(&input.time_zone), TimeZone::UTC);
        let (date, start, end) = (input.date, input.start_time, input.end_time);
        let end_date = input.end_date.unwrap_or(date);
        let first_start = m.or(in_zone("start_time", date.to_datetime(start), &tz), 0);
        let first_end = m.or(in_zone("end_time", end_date.to_datetime(end), &tz), 1);
        if first_end <= first_start {
            m.note("end_time", "The event must end after it starts.");
        }
        let day_span = (end_date - date).get_days();
        let place = m.or_default(optional_line("place", "Place", &input.place, 300));
        let online_url = m.or_default(optional_line(
            "online_url",
            "Online link",
            &input.online_url,
            500,
        ));
        if !online_url.is_empty() {
            let ok = url::Url::parse(&online_url)
                .map(|u| matches!(u.scheme(), "https" | "http") && u.host().is_some())
                .unwrap_or(false);
            if !ok {
                m.note(
                    "online_url",
                    "The online link must be a full web address starting with https://.",
                );
            }
        }
        let mut audience = Vec::new();
        for a in &input.audience {
            if !audience.contains(a) {
                audience.push(*a);
            }
        }
        if audience.is_empty() {
            m.note("audience", "Choose at least one audience for the event.");
        }
        let capacity = input.capacity;
        if !(1..=MAX_CAPACITY).contains(&capacity) {
            m.note(
                "capacity",
                format!("Give the number of places, from 1 to {MAX_CAPACITY}."),
            );
        }
        let allocation = input.allocation.unwrap_or(Allocation::FirstCome);
        let offer_hours = i64::from(input.offer_hours);
        if offer_hours > i64::from(MAX_OFFER_HOURS) {
            m.note(
                "offer_hours",
                format!(
                    "Hours to accept a freed place must be between 0 (at once) and {MAX_OFFER_HOURS}."
                ),
            );
        }
        let opens = input.opens.and_then(|d| m.check(in_zone("opens", d, &tz)));
        let closes = input
            .closes
            .and_then(|d| m.check(in_zone("closes", d, &tz)));
        if let (Some(o), Some(c)) = (opens, closes)
            && c <= o
        {
            m.note("closes", "Registration must close after it opens.");
        } else if closes.is_some_and(|c| c > first_start) {
            m.note(
                "closes",
                "Registration must close by the time the event starts.",
            );
        }
        let lottery = input
            .lottery_at
            .and_then(|d| m.check(in_zone("lottery_at", d, &tz)));
        let lottery = match (allocation, lottery) {
            (Allocation::Lottery, None) => {
                if !m.mistakes_about("lottery_at") {
                    m.note(
                        "lottery_at",
                        "A lottery needs the date and time of the draw: entries are collected until then.",
                    );
                }
                None
            }
            (Allocation::Lottery, Some(l)) if l >= first_start => {
                m.note(
                    "lottery_at",
                    "The draw must happen before the event starts.",
                );
                None
            }
            (Allocation::Lottery, Some(l)) if opens.is_some_and(|o| l <= o) => {
                m.note("lottery_at", "The draw must come after registration opens.");
                None
            }
            (Allocation::Lottery, l) => l,
            (Allocation::FirstCome, _) => None,
        };
        // Faculty and residents sign in: a guest form on their events would let anyone
        // take a place meant for colleagues under any name.
        let open_audience = audience
            .iter()
            .any(|a| matches!(a, Audience::Students | Audience::Public));
        if input.guests_allowed
            && !input.private
            && !input.for_minors
            && !audience.is_empty()
            && !open_audience
        {
            m.note(
                "guests_allowed",
                "Guests may register only for events open to students or the public: add one of those audiences, or untick \"Guests may register\".",
            );
        }
        if input.private && input.for_minors {
            m.note(
                "private",
                "An event for school students cannot be private: guardians register without accounts.",
            );
        }
        let repeat = input.repeat.unwrap_or(Repeat::Once);
        let (until, except) = (input.repeat_until, &input.except_dates);
        let dates = m.or_default(repeat_dates(date, repeat, until, except));
        let mut occurrences = Vec::with_capacity(dates.len());
        for d in dates {
            let Some(s) = m.check(in_zone("date", d.to_datetime(start), &tz)) else {
                break;
            };
            let Some(end_day) = m.check(
                d.checked_add(day_span.days())
                    .map_err(|_| Invalid::new("end_date", "The end date is out of range.")),
            ) else {
                break;
            };
            let Some(e) = m.check(in_zone("end_time", end_day.to_datetime(end), &tz)) else {
                break;
            };
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
        // A row's mistake is told at its first control (`q2_label`, `r1_title`): the
        // page's rows are numbered from 1, as the API's lists are counted from 0.
        for (i, q) in input.questions.iter().enumerate() {
            let row = parse_question(q).map_err(|e| e.renamed(format!("q{}_label", i + 1)));
            if let Some(Some(q)) = m.check(row) {
                questions.push(q);
            }
        }
        let mut readings = Vec::new();
        for (i, r) in input.readings.iter().enumerate() {
            let row = parse_reading(r).map_err(|e| e.renamed(format!("r{}_title", i + 1)));
            if let Some(Some(r)) = m.check(row) {
                readings.push(r);
            }
        }
        m.finish(Self {
            title,
            body_md,
            series,
            time_zone: tz.iana_name().unwrap_or("UTC").to_string(),
            place,
            online_url,
            audience,
            capacity,
            // Private events take members only: a guest form would let anyone find out,
            // by typing a colleague's address, whether they registered.
            guests_allowed: (input.guests_allowed || input.for_minors) && !input.private,
            // Open to anyone means anyone could fill it with invented addresses.
            guests_confirm: (input.guests_allowed || input.for_minors)
                && !input.private
                && input.guests_confirm.unwrap_or(true),
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

#[cfg(test)]
mod every_mistake {
    use super::*;

    #[test]
    fn an_empty_event_form_tells_every_mistake_at_once() {
        let e = EventInput::try_from(&EventForm::default()).expect_err("empty");
        let fields: Vec<&str> = e.mistakes().iter().map(|m| m.field.as_ref()).collect();
        for f in [
            "title",
            "date",
            "start_time",
            "end_time",
            "audience",
            "capacity",
        ] {
            assert!(fields.contains(&f), "{f} is not told: {fields:?}");
        }
        // In the order of the page, each field once.
        let mut seen = fields.clone();
        seen.dedup();
        assert_eq!(seen, fields);
        assert!(
            fields.iter().position(|f| *f == "title")
                < fields.iter().position(|f| *f == "capacity")
        );
    }
}
