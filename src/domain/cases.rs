//! The case lifecycle: offers, acceptance, contacts and closing, as rules. A transition
//! that is not allowed from where a request stands is refused with a sentence saying why.

use serde::{Deserialize, Serialize};

use super::Invalid;
use super::support::{ContactMode, RequestStatus};

/// How long a helper has to answer an offer before it passes to the next candidate.
pub const OFFER_HOURS: i64 = 24;

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

/// The resources a helper can record having suggested (counted in reports).
pub const RESOURCES: &[(&str, &str)] = &[
    ("eap", "Employee assistance programme"),
    ("counselling", "Counselling or mental health service"),
    ("ombuds", "Ombuds office"),
    ("faculty_affairs", "Faculty affairs"),
    ("crisis_line", "Crisis line (988)"),
    ("peer_group", "Peer group or debrief"),
];

/// A coordinator may offer a request only while it waits for a helper.
pub fn check_offer(status: RequestStatus) -> Result<(), &'static str> {
    match status {
        RequestStatus::Submitted => Ok(()),
        RequestStatus::Offered => Err(
            "This request is already offered to a helper; wait for their answer or for the offer to expire.",
        ),
        _ => Err("This request already has a helper, or is closed."),
    }
}

/// A contact can be logged, and a case closed, only by its helper while it is open.
pub fn check_in_progress(status: RequestStatus) -> Result<(), &'static str> {
    match status {
        RequestStatus::Accepted | RequestStatus::Contacted => Ok(()),
        RequestStatus::Closed | RequestStatus::Withdrawn => Err("This case is closed."),
        _ => Err("This case has not been accepted yet."),
    }
}

/// One contact, as the helper logs it: no free text, by design.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewContact {
    pub at: i64,
    pub mode: ContactMode,
    pub minutes: u32,
    pub resources: Vec<&'static str>,
}

pub fn parse_contact(
    date: &str,
    mode: &str,
    minutes: &str,
    resources: &[String],
    now: i64,
) -> Result<NewContact, Invalid> {
    let at = super::helpers::date_end("date", date)?
        .ok_or_else(|| Invalid::new("date", "Give the date of the contact."))?;
    if at > now + 24 * 3600 {
        return Err(Invalid::new("date", "The contact cannot be in the future."));
    }
    let mode = ContactMode::parse(mode)
        .ok_or_else(|| Invalid::new("mode", "Choose how the contact happened."))?;
    let minutes: u32 = minutes
        .trim()
        .parse()
        .ok()
        .filter(|m| (1..=600).contains(m))
        .ok_or_else(|| Invalid::new("minutes", "Give the length in minutes, from 1 to 600."))?;
    let mut picked = Vec::new();
    for r in resources {
        let (key, _) = RESOURCES
            .iter()
            .find(|(k, _)| k == r)
            .ok_or_else(|| Invalid::new("resources", format!("'{r}' is not a resource.")))?;
        if !picked.contains(key) {
            picked.push(*key);
        }
    }
    Ok(NewContact {
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
            Err("This case is closed.")
        );
        assert!(check_in_progress(RequestStatus::Submitted).is_err());
    }

    #[test]
    fn contacts_have_no_free_text() {
        let now = 2_000_000_000;
        let c = parse_contact(
            "2026-11-20",
            "phone",
            "45",
            &["eap".into(), "eap".into()],
            now,
        )
        .expect("valid");
        assert_eq!((c.minutes, c.resources.len()), (45, 1));
        assert_eq!(
            parse_contact("", "phone", "45", &[], now)
                .expect_err("date")
                .field,
            "date"
        );
        assert_eq!(
            parse_contact("2026-11-20", "fax", "45", &[], now)
                .expect_err("mode")
                .field,
            "mode"
        );
        assert_eq!(
            parse_contact("2026-11-20", "phone", "0", &[], now)
                .expect_err("minutes")
                .field,
            "minutes"
        );
        assert_eq!(
            parse_contact("2026-11-20", "phone", "5", &["notes".into()], now)
                .expect_err("res")
                .field,
            "resources"
        );
    }
}
