//! The case lifecycle: offers, acceptance, contacts and closing, as rules. A transition
//! that is not allowed from where a request stands is refused with a sentence saying why.

use crate::domain::conflict::Conflict;
use serde::{Deserialize, Serialize};

use super::support::{ContactMode, RequestStatus};
use super::{Invalid, Mistakes};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OfferStatus {
    Offered,
    Accepted,
    Declined,
    Expired,
    Cancelled,
}

impl OfferStatus {
    pub const ALL: [OfferStatus; 5] = [
        Self::Offered,
        Self::Accepted,
        Self::Declined,
        Self::Expired,
        Self::Cancelled,
    ];
    pub fn key(self) -> &'static str {
        match self {
            Self::Offered => "offered",
            Self::Accepted => "accepted",
            Self::Declined => "declined",
            Self::Expired => "expired",
            Self::Cancelled => "cancelled",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.key() == s)
    }
}

/// How a case ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Met,
    Declined,
    Unreachable,
    ReferredOn,
}

impl Outcome {
    pub const ALL: [Outcome; 4] = [
        Self::Met,
        Self::Declined,
        Self::Unreachable,
        Self::ReferredOn,
    ];
    pub fn key(self) -> &'static str {
        match self {
            Self::Met => "met",
            Self::Declined => "declined",
            Self::Unreachable => "unreachable",
            Self::ReferredOn => "referred_on",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Self::Met => "We met (support given)",
            Self::Declined => "The person declined support",
            Self::Unreachable => "Could not reach the person",
            Self::ReferredOn => "Referred on to another service",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.key() == s)
    }
}

/// A coordinator may offer a request only while it waits for a helper.
pub fn check_offer(status: RequestStatus) -> Result<(), Conflict> {
    match status {
        RequestStatus::Submitted => Ok(()),
        RequestStatus::Offered => Err(Conflict::RequestAlreadyOffered),
        _ => Err(Conflict::RequestTaken),
    }
}

/// A contact can be logged, and a case closed, only by its helper while it is open.
pub fn check_in_progress(status: RequestStatus) -> Result<(), Conflict> {
    match status {
        RequestStatus::Accepted | RequestStatus::Contacted => Ok(()),
        RequestStatus::Closed | RequestStatus::Withdrawn => Err(Conflict::CaseClosed),
        _ => Err(Conflict::CaseNotAccepted),
    }
}

/// One contact, as the helper logs it: no free text, by design.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewContact {
    pub at: i64,
    pub mode: ContactMode,
    pub minutes: u32,
    pub resources: Vec<String>,
}

/// The "log a contact" form as typed, kept to show again beside a mistake.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct ContactForm {
    pub date: String,
    pub time: String,
    pub mode: String,
    pub minutes: String,
    pub resources: Vec<String>,
}

/// A contact with typed values, as the API takes it and the form becomes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactInput {
    /// The day in the programme's time zone; with `time`, or both left out (or "") for now.
    #[serde(default, deserialize_with = "super::blank_is_none")]
    #[schema(value_type = Option<String>, format = Date, example = "2027-03-31")]
    pub date: Option<jiff::civil::Date>,
    /// The time of day in the programme's time zone.
    #[serde(default, deserialize_with = "super::blank_is_none")]
    #[schema(value_type = Option<String>, pattern = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$", example = "14:30")]
    pub time: Option<jiff::civil::Time>,
    pub mode: ContactMode,
    #[schema(minimum = 1, maximum = 600)]
    pub minutes: u32,
    /// Keys from the resource directory.
    #[serde(default)]
    pub resources: Vec<String>,
}

impl TryFrom<&ContactForm> for ContactInput {
    type Error = Invalid;

    fn try_from(f: &ContactForm) -> Result<Self, Invalid> {
        let mut m = Mistakes::new();
        let date = match f.date.trim() {
            "" => None,
            d => m.check(d.parse().map_err(|_| {
                Invalid::new(
                    "date",
                    "Give the date of the contact as YYYY-MM-DD, such as 2027-03-31.",
                )
            })),
        };
        let time = match f.time.trim() {
            "" => None,
            t => m.check(t.parse().map_err(|_| {
                Invalid::new(
                    "time",
                    "Give the time of the contact as HH:MM, such as 14:30.",
                )
            })),
        };
        let mode = m.or(
            ContactMode::parse(f.mode.trim())
                .ok_or_else(|| Invalid::new("mode", "Choose how the contact happened.")),
            ContactMode::Email,
        );
        // The range too, so that one sending tells it with the other mistakes.
        let minutes = m.or(
            f.minutes
                .trim()
                .parse()
                .ok()
                .filter(|n| (1..=600).contains(n))
                .ok_or_else(|| {
                    Invalid::new("minutes", "Give the length in minutes, from 1 to 600.")
                }),
            1,
        );
        m.finish(Self {
            date,
            time,
            mode,
            minutes,
            resources: f.resources.clone(),
        })
    }
}

/// When a contact happened, as the helper gives it: a date and a time of day in the
/// programme's zone. Both absent means now.
#[derive(Debug, Clone, Copy)]
pub struct ContactWhen<'a> {
    pub date: Option<jiff::civil::Date>,
    pub time: Option<jiff::civil::Time>,
    pub zone: &'a jiff::tz::TimeZone,
    /// When the request arrived: no contact can come before it.
    pub requested_at: i64,
    pub now: i64,
}

/// A helper's clock may run a little ahead of the server's.
const CLOCK_SKEW_SECS: i64 = 5 * 60;

impl ContactWhen<'_> {
    fn parse(&self) -> Result<i64, Invalid> {
        let (d, t) = match (self.date, self.time) {
            (None, None) => return Ok(self.now),
            (Some(d), Some(t)) => (d, t),
            (None, Some(_)) => {
                return Err(Invalid::new(
                    "date",
                    "Give the date of the contact as YYYY-MM-DD, such as 2027-03-31.",
                ));
            }
            (Some(_), None) => {
                return Err(Invalid::new(
                    "time",
                    "Give the time of the contact as HH:MM, such as 14:30.",
                ));
            }
        };
        let at = d
            .to_datetime(t)
            .to_zoned(self.zone.clone())
            .map_err(|_| Invalid::new("date", "This date is out of range."))?
            .timestamp()
            .as_second();
        if at > self.now + CLOCK_SKEW_SECS {
            return Err(Invalid::new("time", "The contact cannot be in the future."));
        }
        // Times are given to the minute: a contact in the minute the request arrived is
        // after it (and counted from the request's own second).
        let arrived_minute = self.requested_at - self.requested_at.rem_euclid(60);
        if at < arrived_minute {
            return Err(Invalid::new(
                "time",
                "The contact cannot be before the request arrived: check the date and time.",
            ));
        }
        Ok(at.max(self.requested_at))
    }
}

/// `known` are the directory's resource keys.
pub fn parse_contact(
    when: ContactWhen<'_>,
    input: &ContactInput,
    known: &[String],
) -> Result<NewContact, Invalid> {
    let mut m = Mistakes::new();
    let at = m.or(when.parse(), when.now);
    let (mode, minutes) = (input.mode, input.minutes);
    if !(1..=600).contains(&minutes) {
        m.note("minutes", "Give the length in minutes, from 1 to 600.");
    }
    let mut picked: Vec<String> = Vec::new();
    for r in &input.resources {
        if !known.contains(r) {
            m.note("resources", "Choose the resources from the directory.");
            break;
        }
        if !picked.contains(r) {
            picked.push(r.clone());
        }
    }
    m.finish(NewContact {
        at,
        mode,
        minutes,
        resources: picked,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transitions_are_checked() {
        assert!(check_offer(RequestStatus::Submitted).is_ok());
        for s in [
            RequestStatus::Offered,
            RequestStatus::Accepted,
            RequestStatus::Contacted,
            RequestStatus::Closed,
            RequestStatus::Withdrawn,
        ] {
            assert!(check_offer(s).is_err(), "{s:?}");
        }
        assert!(check_in_progress(RequestStatus::Accepted).is_ok());
        assert!(check_in_progress(RequestStatus::Contacted).is_ok());
        assert_eq!(
            check_in_progress(RequestStatus::Closed),
            Err(Conflict::CaseClosed)
        );
        assert!(check_in_progress(RequestStatus::Submitted).is_err());
    }

    #[test]
    fn contacts_have_no_free_text() {
        let now = 2_000_000_000;
        let zone = jiff::tz::TimeZone::get("America/New_York").expect("zone");
        let when = ContactWhen {
            date: None,
            time: None,
            zone: &zone,
            requested_at: now - 86_400,
            now,
        };
        let known = vec!["eap".to_string()];
        let field = |mode: &str, minutes: &str, res: &[String]| {
            let form = ContactForm {
                mode: mode.into(),
                minutes: minutes.into(),
                resources: res.to_vec(),
                ..Default::default()
            };
            ContactInput::try_from(&form)
                .and_then(|input| parse_contact(when, &input, &known))
                .map(|c| (c.at, c.minutes, c.resources.len()))
        };
        assert_eq!(
            field("phone", "45", &["eap".into(), "eap".into()]),
            Ok((now, 45, 1))
        );
        let field = |mode: &str, minutes: &str, res: &[String]| {
            field(mode, minutes, res)
                .expect_err("refused")
                .field()
                .to_string()
        };
        assert_eq!(field("fax", "45", &[]), "mode");
        assert_eq!(field("phone", "0", &[]), "minutes");
        assert_eq!(field("phone", "5", &["notes".into()]), "resources");
        // A refused key is not quoted back: it can be any length.
        let huge = ContactInput::try_from(&ContactForm {
            mode: "phone".into(),
            minutes: "5".into(),
            resources: vec!["x".repeat(200_000)],
            ..Default::default()
        })
        .and_then(|input| parse_contact(when, &input, &known))
        .expect_err("refused");
        assert!(huge.message().len() < 100, "{}", huge.message());
    }

    #[test]
    fn a_contact_is_at_the_time_given_in_the_programmes_zone() {
        let zone = jiff::tz::TimeZone::get("America/New_York").expect("zone");
        // Unix 2,000,000,000 is 2033-05-18 03:33:20 UTC: 23:33:20 on the 17th in New York.
        let now = 2_000_000_000;
        let at = |date: &str, time: &str, requested_at: i64| {
            let form = ContactForm {
                date: date.into(),
                time: time.into(),
                mode: "phone".into(),
                minutes: "5".into(),
                ..Default::default()
            };
            let input = ContactInput::try_from(&form)?;
            ContactWhen {
                date: input.date,
                time: input.time,
                zone: &zone,
                requested_at,
                now,
            }
            .parse()
        };
        let morning = at("2033-05-17", "09:30", now - 86_400).expect("valid");
        assert_eq!(
            now - morning,
            14 * 3600 + 3 * 60 + 20,
            "09:30 local, not 23:59:59 UTC"
        );
        assert!(
            at("2033-05-17", "23:36", 0).is_ok(),
            "a clock a little ahead"
        );
        assert_eq!(
            at("2033-05-17", "23:45", 0).expect_err("future").field(),
            "time"
        );
        assert_eq!(
            at("2033-05-17", "22:00", now - 3600)
                .expect_err("before")
                .field(),
            "time"
        );
        // In the very minute the request arrived (given to the minute): taken, at its second.
        // now - 3600 is 22:33:20 local.
        let arrived = now - 3600 + 30;
        assert_eq!(at("2033-05-17", "22:33", arrived), Ok(arrived));
        assert_eq!(
            at("2033-05-17", "", 0).expect_err("no time").field(),
            "time"
        );
        assert_eq!(
            at("18/05/2033", "09:00", 0).expect_err("format").field(),
            "date"
        );
    }
}

/// An entry of the resource directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Resource {
    /// A stable key, such as "eap"; contacts refer to it.
    pub key: String,
    pub name: String,
    /// What it is, in a sentence.
    pub what: String,
    pub how_to_reach: String,
    pub hours: String,
    /// Whether what people tell it stays confidential.
    pub confidential: bool,
    pub active: bool,
}

impl Resource {
    /// Checks a coordinator's entry. The key is made from the name when it is new.
    pub fn parse(
        key: Option<&str>,
        name: &str,
        what: &str,
        how: &str,
        hours: &str,
        confidential: bool,
    ) -> Result<Self, Invalid> {
        let mut m = Mistakes::new();
        let name = m.or_default(super::required_line("name", "The name", name, 120));
        let key = match key {
            Some(k) => k.to_string(),
            None => {
                let slug: String = name
                    .to_lowercase()
                    .chars()
                    .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                    .collect();
                let slug = slug.trim_matches('_').chars().take(40).collect::<String>();
                if slug.is_empty() && !name.is_empty() {
                    m.note("name", "Give the name in letters or digits.");
                }
                slug
            }
        };
        let what = m.or_default(super::required_text("what", "What it is", what, 500));
        let how_to_reach = m.or_default(super::required_line(
            "how_to_reach",
            "How to reach it",
            how,
            300,
        ));
        m.finish(Self {
            key,
            name,
            what,
            how_to_reach,
            hours: hours.trim().chars().take(120).collect(),
            confidential,
            active: true,
        })
    }
}

/// The directory a new programme starts with, in our own words.
pub fn default_resources() -> Vec<Resource> {
    let r =
        |key: &str, name: &str, what: &str, how: &str, hours: &str, confidential: bool| Resource {
            key: key.into(),
            name: name.into(),
            what: what.into(),
            how_to_reach: how.into(),
            hours: hours.into(),
            confidential,
            active: true,
        };
    vec![
        r(
            "crisis_line",
            "988 Suicide & Crisis Lifeline",
            "Immediate help for anyone in distress or thinking about suicide.",
            "Call or text 988, or chat at 988lifeline.org",
            "Always open",
            true,
        ),
        r(
            "eap",
            "Employee assistance programme",
            "Free, short-term counselling and referrals for employees and their households.",
            "Call the number on the HR intranet page",
            "Always open by phone",
            true,
        ),
        r(
            "counselling",
            "Faculty counselling service",
            "Confidential sessions with a licensed clinician who does not treat colleagues otherwise.",
            "Book through the faculty health office",
            "Weekdays 8:00-18:00",
            true,
        ),
        r(
            "ombuds",
            "Ombuds office",
            "An independent, informal place to talk through a conflict or concern at work.",
            "E-mail or call the ombuds office",
            "Weekdays 9:00-17:00",
            true,
        ),
        r(
            "faculty_affairs",
            "Faculty affairs",
            "Questions about appointments, promotion, leave and workload.",
            "Write to the faculty affairs office",
            "Weekdays 9:00-17:00",
            false,
        ),
        r(
            "peer_group",
            "Peer debrief groups",
            "Facilitated group conversations after a difficult event.",
            "Ask the programme coordinators",
            "Scheduled after events",
            true,
        ),
    ]
}
