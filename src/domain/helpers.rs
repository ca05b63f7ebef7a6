//! The helper corps: a helper's profile (what matching uses, and an opt-in public bio)
//! and training records, whose expiry decides whether a helper may receive offers.

use serde::{Deserialize, Serialize};

use super::Invalid;
use super::support::{Appointment, Topic};

/// A helper's own description of themselves. Gender and race/ethnicity are optional,
/// self-described and may hold several values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
pub struct HelperProfile {
    pub department: String,
    pub appointment: Option<Appointment>,
    pub rank: String,
    pub genders: Vec<String>,
    pub race_ethnicities: Vec<String>,
    pub languages: Vec<String>,
    pub topics: Vec<Topic>,
    /// How many people the helper can support at once.
    pub capacity: u32,
    pub away_until: Option<i64>,
    pub bio: String,
    /// Show the name and bio on the public "meet our helpers" page.
    pub bio_public: bool,
}

pub const MAX_CAPACITY: u32 = 10;

/// A helper's profile with typed values, as the API takes it and the page's form becomes
/// (`ProfileInput::try_from(&ProfileForm)`); `HelperProfile::parse` checks the rest.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileInput {
    #[serde(default)]
    #[schema(max_length = 120)]
    pub department: String,
    #[serde(default)]
    pub appointment: Option<Appointment>,
    #[serde(default)]
    #[schema(max_length = 60)]
    pub rank: String,
    /// Self-described, any number.
    #[serde(default)]
    pub genders: Vec<String>,
    #[serde(default)]
    pub race_ethnicities: Vec<String>,
    #[serde(default)]
    pub languages: Vec<String>,
    #[serde(default)]
    pub topics: Vec<Topic>,
    /// How many people the helper can support at once.
    #[schema(maximum = 10)]
    pub capacity: u32,
    /// Away until the end of this day (UTC): no offers meanwhile.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date)]
    pub away_until: Option<jiff::civil::Date>,
    #[serde(default)]
    #[schema(max_length = 1000)]
    pub bio: String,
    #[serde(default)]
    pub bio_public: bool,
}

/// The profile form as typed, kept to show again beside a mistake.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ProfileForm {
    pub department: String,
    pub appointment: String,
    pub rank: String,
    /// Several values separated by commas.
    pub genders: String,
    pub race_ethnicities: String,
    pub languages: String,
    pub topics: Vec<String>,
    pub capacity: String,
    /// YYYY-MM-DD, or empty.
    pub away_until: String,
    pub bio: String,
    #[serde(deserialize_with = "super::ticked")]
    pub bio_public: bool,
}

/// A list typed as "a, b; c": trimmed, without empties or repeats.
pub fn split_list(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for v in text.split([',', ';', '|', '\n']).map(str::trim) {
        if !v.is_empty() && !out.iter().any(|o| o.eq_ignore_ascii_case(v)) {
            out.push(v.chars().take(60).collect());
        }
    }
    out
}

/// A list given as values (the API): each trimmed and cut to 60 characters, without
/// empties or repeats, and a value holding separators split as the form's text is.
pub fn clean_list(values: &[String]) -> Vec<String> {
    split_list(&values.join(","))
}

/// A calendar date (YYYY-MM-DD) as the Unix time of its end in UTC, so that "away until
/// the 3rd" includes the 3rd.
pub fn date_end(field: &'static str, text: &str) -> Result<Option<i64>, Invalid> {
    let Some(d) = parse_date(field, text)? else {
        return Ok(None);
    };
    day_end(d).map(Some).map_err(|e| e.renamed(field))
}

/// The Unix time of the end of `d` in UTC.
fn day_end(d: jiff::civil::Date) -> Result<i64, Invalid> {
    let end = d
        .to_datetime(jiff::civil::Time::MAX)
        .to_zoned(jiff::tz::TimeZone::UTC)
        .map_err(|_| Invalid::new("away_until", "This date is out of range."))?;
    Ok(end.timestamp().as_second())
}

fn parse_date(field: &'static str, text: &str) -> Result<Option<jiff::civil::Date>, Invalid> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse()
        .map(Some)
        .map_err(|_| Invalid::new(field, "Write the date as YYYY-MM-DD, such as 2027-03-31."))
}

impl TryFrom<&ProfileForm> for ProfileInput {
    type Error = Invalid;

    /// Reads each field into its type; the first that does not read is named.
    fn try_from(f: &ProfileForm) -> Result<Self, Invalid> {
        let appointment =
            match f.appointment.trim() {
                "" => None,
                a => Some(Appointment::parse(a).ok_or_else(|| {
                    Invalid::new("appointment", "Choose clinical or non-clinical.")
                })?),
            };
        let capacity = f.capacity.trim().parse().map_err(|_| {
            Invalid::new(
                "capacity",
                format!("Give a number of people from 0 to {MAX_CAPACITY}."),
            )
        })?;
        let mut topics = Vec::new();
        for t in &f.topics {
            topics.push(
                Topic::parse(t)
                    .ok_or_else(|| Invalid::new("topics", format!("'{t}' is not a topic.")))?,
            );
        }
        Ok(ProfileInput {
            department: f.department.clone(),
            appointment,
            rank: f.rank.clone(),
            genders: split_list(&f.genders),
            race_ethnicities: split_list(&f.race_ethnicities),
            languages: split_list(&f.languages),
            topics,
            capacity,
            away_until: parse_date("away_until", &f.away_until)?,
            bio: f.bio.clone(),
            bio_public: f.bio_public,
        })
    }
}

impl HelperProfile {
    /// Checks what was typed into the form: each field read into its type, then the rules.
    pub fn from_form(form: &ProfileForm) -> Result<Self, Invalid> {
        Self::parse(&ProfileInput::try_from(form)?)
    }

    pub fn parse(input: &ProfileInput) -> Result<Self, Invalid> {
        let (appointment, capacity) = (input.appointment, input.capacity);
        if capacity > MAX_CAPACITY {
            return Err(Invalid::new(
                "capacity",
                format!("At most {MAX_CAPACITY} people at once: helpers need support too."),
            ));
        }
        let mut topics = Vec::new();
        for t in &input.topics {
            if !topics.contains(t) {
                topics.push(*t);
            }
        }
        let bio = input.bio.trim().to_string();
        if bio.chars().count() > 1000 {
            return Err(Invalid::new(
                "bio",
                "The bio is too long: at most 1,000 characters.",
            ));
        }
        Ok(Self {
            department: super::optional_line(
                "department",
                "The department",
                &input.department,
                120,
            )?,
            appointment,
            rank: super::optional_line("rank", "The rank", &input.rank, 60)?,
            genders: clean_list(&input.genders),
            race_ethnicities: clean_list(&input.race_ethnicities),
            languages: clean_list(&input.languages),
            topics,
            capacity,
            away_until: input.away_until.map(day_end).transpose()?,
            bio,
            bio_public: input.bio_public,
        })
    }
}

/// A training record: the first course, or a refresher.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TrainingKind {
    Initial,
    Refresher,
}

impl TrainingKind {
    pub fn key(self) -> &'static str {
        match self {
            Self::Initial => "initial",
            Self::Refresher => "refresher",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Self::Initial => "Initial course",
            Self::Refresher => "Refresher",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Initial, Self::Refresher]
            .into_iter()
            .find(|k| k.key() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Training {
    pub id: i64,
    pub kind: TrainingKind,
    pub completed_at: i64,
    pub expires_at: i64,
}

/// A training to record, checked: completed on a date, valid until a later one.
pub fn parse_training(
    kind: &str,
    completed: &str,
    expires: &str,
    now: i64,
) -> Result<(TrainingKind, i64, i64), Invalid> {
    let mut m = super::Mistakes::new();
    let kind = m.or(
        TrainingKind::parse(kind)
            .ok_or_else(|| Invalid::new("kind", "Choose the initial course or a refresher.")),
        TrainingKind::Initial,
    );
    let completed = m.check(date_end("completed", completed).and_then(|d| {
        d.ok_or_else(|| Invalid::new("completed", "Give the date the training was completed."))
    }));
    if completed.is_some_and(|c| c > now + 24 * 3600) {
        m.note("completed", "The completion date is in the future.");
    }
    let expires = m.check(date_end("expires", expires).and_then(|d| {
        d.ok_or_else(|| Invalid::new("expires", "Give the date the training stops being valid."))
    }));
    if let (Some(c), Some(e)) = (completed, expires)
        && e <= c
    {
        m.note(
            "expires",
            "The training must stay valid after it was completed.",
        );
    }
    m.finish((kind, completed.unwrap_or(0), expires.unwrap_or(0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_profile_is_checked() {
        let ok = ProfileForm {
            capacity: "2".into(),
            genders: "woman, Woman; non-binary".into(),
            topics: vec!["burnout".into()],
            away_until: "2027-01-31".into(),
            ..Default::default()
        };
        let p = HelperProfile::from_form(&ok).expect("valid");
        assert_eq!(p.genders, vec!["woman", "non-binary"]);
        assert!(p.away_until.is_some());
        for (change, field) in [
            (
                ProfileForm {
                    capacity: "eleven".into(),
                    ..ok.clone()
                },
                "capacity",
            ),
            (
                ProfileForm {
                    capacity: "11".into(),
                    ..ok.clone()
                },
                "capacity",
            ),
            (
                ProfileForm {
                    away_until: "31/01/2027".into(),
                    ..ok.clone()
                },
                "away_until",
            ),
            (
                ProfileForm {
                    topics: vec!["x".into()],
                    ..ok.clone()
                },
                "topics",
            ),
        ] {
            assert_eq!(
                HelperProfile::from_form(&change).expect_err(field).field(),
                field
            );
        }
    }

    #[test]
    fn training_dates_are_checked() {
        let now = date_end("x", "2026-11-23").expect("date").expect("some");
        assert!(parse_training("initial", "2026-10-01", "2028-10-01", now).is_ok());
        assert_eq!(
            parse_training("initial", "2027-10-01", "2028-10-01", now)
                .expect_err("future")
                .field(),
            "completed"
        );
        assert_eq!(
            parse_training("initial", "2026-10-01", "2026-09-01", now)
                .expect_err("order")
                .field(),
            "expires"
        );
        assert_eq!(
            parse_training("course", "2026-10-01", "2027-10-01", now)
                .expect_err("kind")
                .field(),
            "kind"
        );
    }
}
