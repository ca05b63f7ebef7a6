//! Events for school students: the least a guardian tells about each child, the consent
//! they give, and the clearances of the adults who may work with the children.

use jiff::ToSpan;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::draft::parse_date;
use super::{CONSENT_TEXT, CONSENT_VERSION};
use crate::domain::{Invalid, Mistakes, required_line, required_phone, required_text};

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
    /// The child of row `row` of the form (from 1), each mistake told of its own field
    /// (`child2_grade`).
    pub fn parse(
        row: usize,
        first_name: &str,
        grade: &str,
        school: &str,
    ) -> Result<Option<Self>, Invalid> {
        if first_name.trim().is_empty() && grade.trim().is_empty() && school.trim().is_empty() {
            return Ok(None);
        }
        let mut m = Mistakes::new();
        let first = format!("child{row}_first_name");
        let first_name = m.or_default(
            required_line("first_name", "Each child's first name", first_name, 40)
                .map_err(|e| e.renamed(first.clone())),
        );
        if first_name.contains(' ') && first_name.split(' ').count() > 2 {
            m.note(first, "Give only each child's first name.");
        }
        let g = grade.trim().to_uppercase();
        let grade_ok = g == "K" || g.parse::<u8>().is_ok_and(|n| (1..=12).contains(&n));
        if !grade_ok {
            let whose = if first_name.is_empty() {
                "Each child".to_string()
            } else {
                format!("{first_name}'s")
            };
            m.note(
                format!("child{row}_grade"),
                format!("{whose} grade must be K or a number from 1 to 12."),
            );
        }
        let school = m.or_default(
            required_line("school", "Each child's school", school, 120)
                .map_err(|e| e.renamed(format!("child{row}_school"))),
        );
        m.finish(Some(Self {
            first_name,
            grade: g,
            school,
        }))
    }
}

/// A guardian's consent to the current text, with how staff reach them and another adult
/// on the day: the text promises a call at once in an emergency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Consent {
    pub version: String,
    pub relationship: String,
    pub contact: GuardianContact,
}

/// The telephone numbers staff call about the children; sealed at rest and erased with
/// the children's details.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct GuardianContact {
    /// The guardian's own number, for the day of the event.
    pub phone: String,
    /// Another adult to call if the guardian cannot be reached.
    pub emergency_name: String,
    pub emergency_phone: String,
}

/// What a guardian types beside their consent.
#[derive(Debug, Clone, Copy, Default)]
pub struct ConsentInput<'a> {
    pub agreed: bool,
    pub relationship: &'a str,
    pub phone: &'a str,
    pub emergency_name: &'a str,
    pub emergency_phone: &'a str,
    /// The version of the text the page showed.
    pub seen: &'a str,
}

/// The consent and waiver text guardians agree to, with its version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ConsentText {
    pub version: String,
    pub text: String,
}

impl Default for ConsentText {
    fn default() -> Self {
        Self {
            version: CONSENT_VERSION.to_string(),
            text: CONSENT_TEXT.to_string(),
        }
    }
}

impl ConsentText {
    /// A new text from a coordinator; its version is the moment it was written (UTC), so
    /// versions sort in time and never repeat.
    pub fn new_version(text: &str, now: jiff::Timestamp) -> Result<Self, Invalid> {
        let text = required_text("text", "The consent text", text, 5000)?;
        Ok(Self {
            version: now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
            text,
        })
    }
}

/// A guardian's agreement to `current`, every mistake at once. If the text changed since
/// their page showed it (`seen`), they are asked to read it again.
pub fn parse_consent(input: ConsentInput<'_>, current: &ConsentText) -> Result<Consent, Invalid> {
    let mut m = Mistakes::new();
    let relationship = m.or_default(required_line(
        "guardian_relationship",
        "Your relationship to the children",
        input.relationship,
        60,
    ));
    let phone = m.or_default(required_phone(
        "guardian_phone",
        "Your telephone number for the day",
        input.phone,
    ));
    let emergency_name = m.or_default(required_line(
        "emergency_name",
        "The name of another adult to call",
        input.emergency_name,
        120,
    ));
    let emergency_phone = m.or_default(required_phone(
        "emergency_phone",
        "The other adult's telephone number",
        input.emergency_phone,
    ));
    if !phone.is_empty() && phone == emergency_phone {
        m.note(
            "emergency_phone",
            "Give a second number, for when yours does not answer.",
        );
    }
    let seen = input.seen.trim();
    if !input.agreed {
        m.note(
            "consent",
            "A guardian must read and agree to the consent and waiver to register children.",
        );
    } else if !seen.is_empty() && seen != current.version {
        m.note(
            "consent",
            "The consent and waiver text has changed since this page was opened; please read it again and agree to the new one.",
        );
    }
    m.finish(Consent {
        version: current.version.clone(),
        relationship,
        contact: GuardianContact {
            phone,
            emergency_name,
            emergency_phone,
        },
    })
}

/// How long a clearance lasts, counted from the date it was done.
/// How long each clearance lasts from the date it was done, in years: an institution's
/// own rule, set by coordinators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ClearancePolicy {
    pub background_check_years: i64,
    pub youth_training_years: i64,
}

impl Default for ClearancePolicy {
    fn default() -> Self {
        Self {
            background_check_years: 2,
            youth_training_years: 1,
        }
    }
}

impl ClearancePolicy {
    pub fn parse(background: &str, training: &str) -> Result<Self, Invalid> {
        let years = |field: &'static str, label: &str, v: &str| -> Result<i64, Invalid> {
            v.trim()
                .parse::<i64>()
                .ok()
                .filter(|y| (1..=10).contains(y))
                .ok_or_else(|| {
                    Invalid::new(
                        field,
                        format!("{label} must be a whole number of years from 1 to 10."),
                    )
                })
        };
        let mut m = Mistakes::new();
        let background_check_years = m.or(
            years(
                "background_check_years",
                "How long a background check lasts",
                background,
            ),
            1,
        );
        let youth_training_years = m.or(
            years(
                "youth_training_years",
                "How long youth-protection training lasts",
                training,
            ),
            1,
        );
        m.finish(Self {
            background_check_years,
            youth_training_years,
        })
    }
}

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
        let mut m = Mistakes::new();
        let b = m.or(
            parse_date("background_check_on", "Background check", background),
            today,
        );
        let t = m.or(
            parse_date("youth_training_on", "Youth-protection training", training),
            today,
        );
        if b > today {
            m.note(
                "background_check_on",
                "Record the date the background check was done, not a future date.",
            );
        }
        if t > today {
            m.note(
                "youth_training_on",
                "Record the date the training was done, not a future date.",
            );
        }
        m.finish((b, t))
    }

    pub fn background_until(&self, p: &ClearancePolicy) -> Date {
        self.background_check_on
            .checked_add(p.background_check_years.years())
            .unwrap_or(Date::MIN)
    }

    pub fn training_until(&self, p: &ClearancePolicy) -> Date {
        self.youth_training_on
            .checked_add(p.youth_training_years.years())
            .unwrap_or(Date::MIN)
    }

    /// Why this adult may not be with students on `day`, if they may not.
    pub fn lapsed_on(&self, day: Date, p: &ClearancePolicy) -> Option<String> {
        if self.background_until(p) < day {
            return Some(format!(
                "{}'s background check lapsed on {}.",
                self.name,
                self.background_until(p)
            ));
        }
        if self.training_until(p) < day {
            return Some(format!(
                "{}'s youth-protection training lapsed on {}.",
                self.name,
                self.training_until(p)
            ));
        }
        None
    }
}
