//! Peer-support requests: what someone asks for, checked; the receipt code that lets them
//! follow it without an account; and the states a request moves through. Identities and
//! free text are kept apart (`Identity`, `message`) so that the store can seal them.

use serde::{Deserialize, Serialize};

use super::accounts::AccountId;
use super::{Invalid, Mistakes};

choice!(
    /// What the conversation would be about; counted in de-identified statistics.
    Topic {
        Burnout = "burnout": "Burnout or exhaustion",
        WorkplaceConflict = "workplace_conflict": "Conflict at work",
        CareerAdvancement = "career_advancement": "Career advancement",
        WorkLifeBalance = "work_life_balance": "Work and life balance",
        GriefOrAdverseEvent = "grief_or_adverse_event": "Grief, or an adverse event",
        Other = "other": "Something else",
    }
);

choice!(
    /// How soon the person would like to hear from someone.
    Urgency {
        Routine = "routine": "Within a few days is fine",
        Soon = "soon": "Within one working day, please",
        Urgent = "urgent": "As soon as possible today",
    }
);

choice!(
    /// How the person would like to be reached first.
    ContactMode {
        Email = "email": "E-mail",
        Phone = "phone": "Phone call",
        Video = "video": "Video call",
        InPerson = "in_person": "In person",
    }
);

choice!(
    /// How a request arrived; reports count encounters by channel.
    Channel {
        SelfRequest = "self": "Asked for themselves",
        Referral = "referral": "Referred by a colleague",
        Outreach = "outreach": "Proactive outreach",
    }
);

choice!(
    /// Where a request stands. Submitted → offered → accepted → contacted → closed, with
    /// withdrawal possible until it is closed.
    RequestStatus {
        Submitted = "submitted": "Waiting for a helper",
        Offered = "offered": "Offered to a helper",
        Accepted = "accepted": "Accepted; first contact to come",
        Contacted = "contacted": "In contact",
        Closed = "closed": "Closed",
        Withdrawn = "withdrawn": "Withdrawn by the person",
    }
);

choice!(
    /// Appointment type, for a preference about the helper.
    Appointment {
        Clinical = "clinical": "Clinical",
        NonClinical = "non_clinical": "Non-clinical (research, education, administration)",
    }
);

choice!(
    /// Why a colleague was referred for outreach.
    ReferralReason {
        AdverseEvent = "adverse_event": "An adverse event",
        Litigation = "litigation": "A lawsuit or claim",
        Other = "other": "Something else",
    }
);

impl RequestStatus {
    pub fn is_open(self) -> bool {
        !matches!(self, Self::Closed | Self::Withdrawn)
    }

    /// Where the request stands, in words for the person who asked (`label` is for
    /// staff). `choosing`: the programme lets them choose their peer, and nobody is
    /// finding one for them.
    pub fn for_requester(self, choosing: bool) -> &'static str {
        match self {
            Self::Submitted if choosing => "Received; choose your peer from the list below",
            Self::Submitted => "Received; a coordinator is finding a peer",
            Self::Offered => "A peer has been asked to take it",
            Self::Accepted => "A peer will contact you soon",
            Self::Contacted => "A peer has been in touch",
            Self::Closed => "Closed",
            Self::Withdrawn => "Withdrawn by you",
        }
    }
}

/// Who asked and how to reach them: sealed at rest, erased after the retention period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Identity {
    pub name: String,
    pub email: String,
    pub phone: String,
    pub department: String,
    /// When they can be reached, in their words.
    pub contact_times: String,
    /// People or departments the helper must not be, or belong to.
    pub avoid: String,
    /// Who referred the person, for a referral (sealed like the rest).
    #[serde(default)]
    pub referred_by: String,
}

/// What the person would like in a helper; sealed with the identity (it can describe them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Preferences {
    pub appointment: Option<Appointment>,
    pub rank: String,
    pub gender: String,
    pub race_ethnicity: String,
    pub language: String,
    pub outside_department: bool,
    /// A helper chosen by name from the public list.
    pub named_helper: Option<i64>,
    /// Helpers picked from the public list whom the person does not want (besides any
    /// named in the avoid text). Older sealed preferences have none.
    #[serde(default)]
    pub avoid_helpers: Vec<i64>,
}

/// A request as submitted, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRequest {
    pub channel: Channel,
    pub topics: Vec<Topic>,
    pub urgency: Urgency,
    pub contact_mode: ContactMode,
    pub identity: Identity,
    pub preferences: Preferences,
    /// An optional short message; erased when the case closes.
    pub message: String,
    /// For referrals and outreach: why.
    pub reason: Option<ReferralReason>,
}

/// A request as the page's form sends it: text, with the checkboxes repeated. It
/// becomes a `RequestInput` by `TryFrom`, which names the first field that does not read.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RequestForm {
    pub topics: Vec<String>,
    pub urgency: String,
    pub contact_mode: String,
    pub name: String,
    pub email: String,
    pub phone: String,
    pub department: String,
    pub contact_times: String,
    pub avoid: String,
    pub appointment: String,
    pub rank: String,
    pub gender: String,
    pub race_ethnicity: String,
    pub language: String,
    #[serde(deserialize_with = "super::ticked")]
    pub outside_department: bool,
    /// An account id from the public list, or empty.
    pub named_helper: String,
    pub avoid_helpers: Vec<String>,
    pub message: String,
}

/// A self-request with typed values, as the API takes it and the form becomes.
/// `NewRequest::parse` then checks lengths and the rules between fields.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestInput {
    #[schema(min_items = 1)]
    pub topics: Vec<Topic>,
    pub urgency: Urgency,
    pub contact_mode: ContactMode,
    #[schema(min_length = 1, max_length = 120)]
    pub name: String,
    #[schema(format = Email)]
    pub email: String,
    #[serde(default)]
    #[schema(max_length = 40)]
    pub phone: String,
    #[serde(default)]
    #[schema(max_length = 120)]
    pub department: String,
    #[serde(default)]
    #[schema(max_length = 200)]
    pub contact_times: String,
    #[serde(default)]
    #[schema(max_length = 500)]
    pub avoid: String,
    /// Absent, null or "": no preference.
    #[serde(default, deserialize_with = "super::blank_is_none")]
    pub appointment: Option<Appointment>,
    #[serde(default)]
    #[schema(max_length = 60)]
    pub rank: String,
    #[serde(default)]
    #[schema(max_length = 60)]
    pub gender: String,
    #[serde(default)]
    #[schema(max_length = 80)]
    pub race_ethnicity: String,
    #[serde(default)]
    #[schema(max_length = 60)]
    pub language: String,
    #[serde(default)]
    pub outside_department: bool,
    /// A helper from the public list, asked for by name.
    #[serde(default)]
    pub named_helper: Option<AccountId>,
    /// Helpers from the public list to avoid.
    #[serde(default)]
    #[schema(max_items = 50)]
    pub avoid_helpers: Vec<AccountId>,
    #[serde(default)]
    #[schema(max_length = 1000)]
    pub message: String,
}

impl RequestInput {
    /// The required answers; everything else empty.
    pub fn new(
        topics: Vec<Topic>,
        urgency: Urgency,
        contact_mode: ContactMode,
        name: &str,
        email: &str,
    ) -> Self {
        Self {
            topics,
            urgency,
            contact_mode,
            name: name.to_string(),
            email: email.to_string(),
            phone: String::new(),
            department: String::new(),
            contact_times: String::new(),
            avoid: String::new(),
            appointment: None,
            rank: String::new(),
            gender: String::new(),
            race_ethnicity: String::new(),
            language: String::new(),
            outside_department: false,
            named_helper: None,
            avoid_helpers: Vec::new(),
            message: String::new(),
        }
    }
}

/// The helper asked for by name is not one of those listed publicly (or not an id at all):
/// the same answer either way, so that trying ids tells nobody who else is a helper.
pub fn not_a_listed_helper() -> Invalid {
    Invalid::new(
        "named_helper",
        "Choose a helper from the list, or no one in particular.",
    )
}

/// As `not_a_listed_helper`, for the helpers to avoid.
pub fn not_listed_helpers_to_avoid() -> Invalid {
    Invalid::new(
        "avoid_helpers",
        "Choose the helpers to avoid from the list.",
    )
}

/// An account id typed in a form (a `<select>` or checkbox value).
fn account_in(v: &str, mistake: fn() -> Invalid) -> Result<AccountId, Invalid> {
    v.trim().parse().map(AccountId).map_err(|_| mistake())
}

impl TryFrom<&RequestForm> for RequestInput {
    type Error = Invalid;

    /// The form's choices, then its values (`NewRequest::parse`), so that one sending
    /// shows every mistake.
    fn try_from(f: &RequestForm) -> Result<Self, Invalid> {
        let mut m = Mistakes::new();
        let mut topics = Vec::new();
        for t in &f.topics {
            match Topic::parse(t.trim()) {
                Some(t) => topics.push(t),
                None => {
                    m.note("topics", "Choose the topics from those offered.");
                    break;
                }
            }
        }
        let urgency = m.or(
            Urgency::parse(f.urgency.trim()).ok_or_else(|| {
                Invalid::new(
                    "urgency",
                    "Choose how soon you would like to hear from someone.",
                )
            }),
            Urgency::Routine,
        );
        let contact_mode = m.or(
            ContactMode::parse(f.contact_mode.trim()).ok_or_else(|| {
                Invalid::new(
                    "contact_mode",
                    "Choose how you would like to be reached first.",
                )
            }),
            ContactMode::Email,
        );
        let appointment = match f.appointment.trim() {
            "" => None,
            a => m.check(Appointment::parse(a).ok_or_else(|| {
                Invalid::new(
                    "appointment",
                    "Choose clinical, non-clinical, or no preference.",
                )
            })),
        };
        let named_helper = match f.named_helper.trim() {
            "" => None,
            h => m.check(account_in(h, not_a_listed_helper)),
        };
        let mut avoid_helpers = Vec::new();
        for h in &f.avoid_helpers {
            match account_in(h, not_listed_helpers_to_avoid) {
                Ok(h) => avoid_helpers.push(h),
                Err(e) => {
                    m.check::<()>(Err(e));
                    break;
                }
            }
        }
        let input = Self {
            topics,
            urgency,
            contact_mode,
            name: f.name.clone(),
            email: f.email.clone(),
            phone: f.phone.clone(),
            department: f.department.clone(),
            contact_times: f.contact_times.clone(),
            avoid: f.avoid.clone(),
            appointment,
            rank: f.rank.clone(),
            gender: f.gender.clone(),
            race_ethnicity: f.race_ethnicity.clone(),
            language: f.language.clone(),
            outside_department: f.outside_department,
            named_helper,
            avoid_helpers,
            message: f.message.clone(),
        };
        // A choice not made is noted once, by the form, not again as a value.
        let chose_topics = !m.mistakes_about("topics");
        if let Err(e) = NewRequest::parse(&input) {
            for mistake in e.mistakes() {
                if mistake.field != "topics" || chose_topics {
                    m.note(mistake.field.clone(), mistake.message.clone());
                }
            }
        }
        m.in_form_order(&[
            "topics",
            "urgency",
            "name",
            "email",
            "contact_mode",
            "phone",
            "contact_times",
            "department",
            "appointment",
            "rank",
            "gender",
            "race_ethnicity",
            "language",
            "named_helper",
            "avoid_helpers",
            "avoid",
            "message",
        ]);
        m.finish(input)
    }
}

pub const MAX_MESSAGE_CHARS: usize = 1000;

use super::{optional_line, optional_text};

impl NewRequest {
    /// Checks a self-request: every mistake, each with its field.
    pub fn parse(input: &RequestInput) -> Result<Self, Invalid> {
        let mut m = Mistakes::new();
        let mut topics = Vec::new();
        for t in &input.topics {
            if !topics.contains(t) {
                topics.push(*t);
            }
        }
        if topics.is_empty() {
            m.note(
                "topics",
                "Choose at least one topic (\"Something else\" is fine).",
            );
        }
        let (urgency, contact_mode) = (input.urgency, input.contact_mode);
        let name = m.or_default(super::required_line("name", "Your name", &input.name, 120));
        let email = m.or_default(
            super::accounts::Email::parse(&input.email).map(|e| e.as_str().to_string()),
        );
        let phone = m.or_default(optional_line("phone", "The phone number", &input.phone, 40));
        if contact_mode == ContactMode::Phone && phone.is_empty() && !m.mistakes_about("phone") {
            m.note(
                "phone",
                "You asked to be called: give a phone number, or choose another way to be reached.",
            );
        }
        let contact_times = m.or_default(optional_text(
            "contact_times",
            "When to reach you",
            &input.contact_times,
            200,
        ));
        let department = m.or_default(optional_line(
            "department",
            "The department",
            &input.department,
            120,
        ));
        let rank = m.or_default(optional_line("rank", "The rank", &input.rank, 60));
        let gender = m.or_default(optional_line("gender", "The gender", &input.gender, 60));
        let race_ethnicity = m.or_default(optional_text(
            "race_ethnicity",
            "The race or ethnicity",
            &input.race_ethnicity,
            80,
        ));
        let language = m.or_default(optional_line(
            "language",
            "The language",
            &input.language,
            60,
        ));
        let mut avoid_helpers: Vec<i64> = input.avoid_helpers.iter().map(|h| h.0).collect();
        avoid_helpers.sort_unstable();
        avoid_helpers.dedup();
        if avoid_helpers.len() > 50 {
            m.note("avoid_helpers", "Choose at most 50 helpers to avoid.");
        }
        if input
            .named_helper
            .is_some_and(|h| avoid_helpers.contains(&h.0))
        {
            m.note(
                "avoid_helpers",
                "You asked for this helper by name and to avoid them: choose one.",
            );
        }
        let avoid = m.or_default(optional_text(
            "avoid",
            "People or departments to avoid",
            &input.avoid,
            500,
        ));
        let message = m.or_default(optional_text(
            "message",
            "The message",
            &input.message,
            MAX_MESSAGE_CHARS,
        ));
        m.finish(Self {
            channel: Channel::SelfRequest,
            topics,
            urgency,
            contact_mode,
            identity: Identity {
                name,
                email,
                phone,
                department,
                contact_times,
                avoid,
                referred_by: String::new(),
            },
            preferences: Preferences {
                appointment: input.appointment,
                rank,
                gender,
                race_ethnicity,
                language,
                outside_department: input.outside_department,
                named_helper: input.named_helper.map(|h| h.0),
                avoid_helpers,
            },
            message,
            reason: None,
        })
    }

    /// Checks a referral: someone else is reached out to. Outreach is an invitation, so
    /// the request waits for a helper like any other and may end with "declined".
    pub fn parse_referral(input: &ReferralInput, referrer: &str) -> Result<Self, Invalid> {
        let mut m = Mistakes::new();
        let reason = input.reason;
        let name = m.or_default(super::required_line("name", "Their name", &input.name, 120));
        let email = m.or_default(
            super::accounts::Email::parse(&input.email).map(|e| e.as_str().to_string()),
        );
        let phone = m.or_default(optional_line("phone", "The phone number", &input.phone, 40));
        let department = m.or_default(optional_line(
            "department",
            "The department",
            &input.department,
            120,
        ));
        let message = m.or_default(optional_text(
            "message",
            "The note",
            &input.message,
            MAX_MESSAGE_CHARS,
        ));
        m.finish(Self {
            channel: Channel::Referral,
            topics: vec![match reason {
                ReferralReason::AdverseEvent => Topic::GriefOrAdverseEvent,
                _ => Topic::Other,
            }],
            urgency: input.urgency,
            contact_mode: if phone.is_empty() {
                ContactMode::Email
            } else {
                ContactMode::Phone
            },
            identity: Identity {
                name,
                email,
                phone,
                department,
                contact_times: String::new(),
                avoid: String::new(),
                referred_by: referrer.to_string(),
            },
            preferences: Preferences::default(),
            message,
            reason: Some(reason),
        })
    }
}

/// A referral as the page's form sends it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ReferralForm {
    pub name: String,
    pub email: String,
    pub phone: String,
    pub department: String,
    pub reason: String,
    pub urgency: String,
    pub message: String,
}

/// A referral with typed values, as the API takes it and the form becomes.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferralInput {
    #[schema(min_length = 1, max_length = 120)]
    pub name: String,
    #[schema(format = Email)]
    pub email: String,
    #[serde(default)]
    #[schema(max_length = 40)]
    pub phone: String,
    #[serde(default)]
    #[schema(max_length = 120)]
    pub department: String,
    pub reason: ReferralReason,
    /// [default: routine, also for null or ""]
    #[serde(default = "routine", deserialize_with = "routine_if_blank")]
    pub urgency: Urgency,
    /// Anything the helper should know; erased when the case closes.
    #[serde(default)]
    #[schema(max_length = 1000)]
    pub message: String,
}

fn routine() -> Urgency {
    Urgency::Routine
}

fn routine_if_blank<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Urgency, D::Error> {
    Ok(super::blank_is_none(d)?.unwrap_or(Urgency::Routine))
}

impl TryFrom<&ReferralForm> for ReferralInput {
    type Error = Invalid;

    fn try_from(f: &ReferralForm) -> Result<Self, Invalid> {
        let mut m = Mistakes::new();
        let reason = m.or(
            ReferralReason::parse(f.reason.trim())
                .ok_or_else(|| Invalid::new("reason", "Choose why you are referring them.")),
            ReferralReason::Other,
        );
        let urgency = match f.urgency.trim() {
            "" => Urgency::Routine,
            u => m.or(
                Urgency::parse(u)
                    .ok_or_else(|| Invalid::new("urgency", "Choose how soon to reach out.")),
                Urgency::Routine,
            ),
        };
        let input = Self {
            reason,
            urgency,
            name: f.name.clone(),
            email: f.email.clone(),
            phone: f.phone.clone(),
            department: f.department.clone(),
            message: f.message.clone(),
        };
        if let Err(e) = NewRequest::parse_referral(&input, "") {
            m.check::<()>(Err(e));
        }
        m.in_form_order(&[
            "name",
            "email",
            "phone",
            "department",
            "reason",
            "urgency",
            "message",
        ]);
        m.finish(input)
    }
}

/// The letters of receipt codes: no 0/O, 1/I/L, so that codes read back without doubt.
const RECEIPT_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

/// A new receipt code: four groups of four (about 79 bits), such as `K7QM-3XTR-9PWD-HN2C`.
pub fn new_receipt_code() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the operating system's random generator failed");
    let mut out = String::with_capacity(19);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 && i % 4 == 0 {
            out.push('-');
        }
        // 256 is not a multiple of 31; the bias (under 1%) costs a fraction of a bit.
        out.push(RECEIPT_ALPHABET[usize::from(*b) % RECEIPT_ALPHABET.len()] as char);
    }
    out
}

/// A code as typed (any case, spaces or dashes anywhere) in the form it was issued, or
/// None if it cannot be one.
pub fn normalise_receipt_code(typed: &str) -> Option<String> {
    let chars: Vec<char> = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if chars.len() != 16 || !chars.iter().all(|c| RECEIPT_ALPHABET.contains(&(*c as u8))) {
        return None;
    }
    let groups: Vec<String> = chars.chunks(4).map(|g| g.iter().collect()).collect();
    Some(groups.join("-"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> RequestInput {
        RequestInput::new(
            vec![Topic::Burnout],
            Urgency::Soon,
            ContactMode::Email,
            "Dr. Jane Roe",
            "jane@example.edu",
        )
    }

    #[test]
    fn a_request_is_checked_field_by_field() {
        assert!(NewRequest::parse(&input()).is_ok());
        let mut i = input();
        i.topics.clear();
        assert_eq!(NewRequest::parse(&i).expect_err("topics").field(), "topics");
        let mut i = input();
        i.contact_mode = ContactMode::Phone;
        assert_eq!(NewRequest::parse(&i).expect_err("phone").field(), "phone");
        let mut i = input();
        i.email = "jane".into();
        assert_eq!(NewRequest::parse(&i).expect_err("email").field(), "email");
        let mut i = input();
        i.message = "x".repeat(MAX_MESSAGE_CHARS + 1);
        assert_eq!(NewRequest::parse(&i).expect_err("long").field(), "message");
    }

    #[test]
    fn an_empty_request_form_tells_every_mistake_at_once() {
        let e = RequestInput::try_from(&RequestForm::default()).expect_err("empty");
        let fields: Vec<&str> = e.mistakes().iter().map(|m| m.field.as_ref()).collect();
        assert_eq!(
            fields,
            ["topics", "urgency", "name", "email", "contact_mode"]
        );
        let mut form = RequestForm {
            contact_mode: "phone".into(),
            message: "x".repeat(MAX_MESSAGE_CHARS + 1),
            ..Default::default()
        };
        form.topics.push("burnout".into());
        let e = RequestInput::try_from(&form).expect_err("three mistakes");
        let fields: Vec<&str> = e.mistakes().iter().map(|m| m.field.as_ref()).collect();
        assert_eq!(fields, ["urgency", "name", "email", "phone", "message"]);
    }

    #[test]
    fn receipt_codes_read_back_however_typed() {
        let c = new_receipt_code();
        assert_eq!(c.len(), 19);
        assert_eq!(normalise_receipt_code(&c).as_deref(), Some(c.as_str()));
        let typed = c.to_lowercase().replace('-', " ");
        assert_eq!(normalise_receipt_code(&typed).as_deref(), Some(c.as_str()));
        assert_eq!(normalise_receipt_code("ABCD"), None);
        assert_eq!(normalise_receipt_code("0000-0000-0000-0000"), None);
        assert_ne!(new_receipt_code(), new_receipt_code());
    }
}

/// The settings in force that decide what the request form may promise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PromiseSettings {
    /// Coordinators see who asked only after a helper raises a safety concern.
    pub coordinator_blind: bool,
    /// Days after closing before the person's name and contact details are erased.
    pub retention_days: u32,
    /// The first-contact promise, in business hours, for an urgent request, one asked for
    /// within a working day, and one for within a few days.
    pub first_contact_hours: [u32; 3],
}

/// What the form and the receipt tell a person about who sees their request, what is
/// e-mailed to them and how long it is kept: generated from the settings in force, so that
/// a sentence can never promise more than the programme does. The e-mail sentence matches
/// the only message a person who asks is sent (`MessageKind::RequesterUpdate`, when a
/// helper accepts); tests check both against the outbox.
pub fn promises(s: &PromiseSettings) -> Vec<String> {
    let who = if s.coordinator_blind {
        "Who you are and what you write are seen only by the peer who takes your request. \
         The programme's coordinators see them only if that peer raises a concern for \
         someone's safety, and each time anyone looks it is recorded."
            .to_string()
    } else {
        "Who you are and what you write are seen by the peer who takes your request. The \
         programme's coordinators can also open them while your request is open, to find \
         you the right peer; each time anyone looks it is recorded."
            .to_string()
    };
    let days = s.retention_days;
    vec![
        who,
        format!(
            "Your name and contact details are stored encrypted. What you write is erased \
             when your request is closed; your name and contact details {days} day{} after.",
            if days == 1 { "" } else { "s" }
        ),
        "We send you one e-mail, when a peer accepts your request, to say they will be in \
         touch; it does not repeat what you wrote. Nothing else about your request is sent \
         to you by e-mail."
            .to_string(),
        {
            let [urgent, soon, routine] = s.first_contact_hours;
            format!(
                "A peer aims to make first contact within {urgent} business hour{} when you ask \
                 for \"{}\", {soon} when you ask for \"{}\", and {routine} otherwise. Business \
                 hours are the programme's working hours: at other times, turn to the crisis \
                 lines above if you cannot wait.",
                if urgent == 1 { "" } else { "s" },
                Urgency::Urgent.label().to_lowercase(),
                Urgency::Soon.label().to_lowercase(),
            )
        },
    ]
}

#[cfg(test)]
mod promise_tests {
    use super::*;

    #[test]
    fn each_combination_of_settings_says_what_is_true() {
        for blind in [false, true] {
            for days in [1, 30, 90] {
                let p = promises(&PromiseSettings {
                    coordinator_blind: blind,
                    retention_days: days,
                    first_contact_hours: [4, 8, 16],
                });
                let all = p.join(" ");
                assert_eq!(all.contains("coordinators can also open them"), !blind);
                assert_eq!(all.contains("only if that peer raises a concern"), blind);
                assert!(all.contains(&format!(" {days} day")), "{all}");
                assert!(all.contains("one e-mail, when a peer accepts"), "{all}");
                assert!(!all.contains("never sent by e-mail"), "{all}");
                assert!(all.contains("within 4 business hours when you ask for \"as soon as possible today\", 8 when"), "{all}");
            }
        }
    }
}
