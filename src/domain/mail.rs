//! The programme's e-mail: which messages exist, their editable wording, how placeholders
//! are filled, and how long to wait before trying a failed delivery again. No SMTP here;
//! `crate::delivery` hands the composed messages to a server.

use serde::Serialize;

use super::Invalid;
use super::content::{Branding, render_markdown};

/// A placeholder a template may use, and whether it may appear in the subject. Subjects
/// are shown on lock screens and kept in mail logs, so nothing that names a person or a
/// private matter is allowed there.
#[derive(Debug, Clone, Copy)]
pub struct Placeholder {
    pub name: &'static str,
    pub meaning: &'static str,
    pub subject_ok: bool,
}

const fn ph(name: &'static str, meaning: &'static str, subject_ok: bool) -> Placeholder {
    Placeholder {
        name,
        meaning,
        subject_ok,
    }
}

/// Filled in for every message.
const COMMON: &[Placeholder] = &[
    ph("programme", "the programme's name", true),
    ph("contact", "the programme's contact address", false),
];

/// Every kind of message wecare sends. The key is stored in the outbox and the template
/// table, so keys never change once released.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    AccountSetup,
    PasswordReset,
    PasswordChanged,
    SignUpConfirm,
    SignUpExisting,
    TestMessage,
    HelperOffer,
    HelperReminder,
    CoordinatorAlert,
    RequesterUpdate,
    ResourceList,
    EventConfirmAddress,
    EventConfirmation,
    EventEntered,
    EventWaitlisted,
    EventPromoted,
    EventPlaceOffered,
    EventReminder,
    EventChanged,
    EventCancelled,
    Digest,
}

pub struct KindInfo {
    pub key: &'static str,
    pub title: &'static str,
    pub when: &'static str,
    /// Optional messages can be switched off by the recipient and carry an unsubscribe
    /// link; the others are messages a case, a registration or an account depends on.
    pub optional: bool,
    /// Messages about peer support: the recipient's address is hidden in the outbox view.
    pub confidential: bool,
    pub placeholders: &'static [Placeholder],
    pub subject: &'static str,
    pub body: &'static str,
}

impl MessageKind {
    pub const ALL: [MessageKind; 21] = [
        Self::AccountSetup,
        Self::PasswordReset,
        Self::PasswordChanged,
        Self::SignUpConfirm,
        Self::SignUpExisting,
        Self::TestMessage,
        Self::HelperOffer,
        Self::HelperReminder,
        Self::CoordinatorAlert,
        Self::RequesterUpdate,
        Self::ResourceList,
        Self::EventConfirmAddress,
        Self::EventConfirmation,
        Self::EventEntered,
        Self::EventWaitlisted,
        Self::EventPromoted,
        Self::EventPlaceOffered,
        Self::EventReminder,
        Self::EventChanged,
        Self::EventCancelled,
        Self::Digest,
    ];

    pub fn key(self) -> &'static str {
        self.info().key
    }

    pub fn parse(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.key() == key)
    }

    pub fn optional(self) -> bool {
        self.info().optional
    }

    /// The placeholders this kind accepts, the common ones included.
    pub fn placeholders(self) -> impl Iterator<Item = &'static Placeholder> {
        COMMON.iter().chain(self.info().placeholders.iter())
    }

    pub fn default_template(self) -> MailTemplate {
        let i = self.info();
        MailTemplate {
            subject: i.subject.to_string(),
            body: i.body.to_string(),
        }
    }

    pub fn info(self) -> &'static KindInfo {
        match self {
            Self::AccountSetup => &ACCOUNT_SETUP,
            Self::PasswordReset => &PASSWORD_RESET,
            Self::PasswordChanged => &PASSWORD_CHANGED,
            Self::SignUpConfirm => &SIGN_UP_CONFIRM,
            Self::SignUpExisting => &SIGN_UP_EXISTING,
            Self::TestMessage => &TEST_MESSAGE,
            Self::HelperOffer => &HELPER_OFFER,
            Self::HelperReminder => &HELPER_REMINDER,
            Self::CoordinatorAlert => &COORDINATOR_ALERT,
            Self::RequesterUpdate => &REQUESTER_UPDATE,
            Self::ResourceList => &RESOURCE_LIST,
            Self::EventConfirmAddress => &EVENT_CONFIRM_ADDRESS,
            Self::EventConfirmation => &EVENT_CONFIRMATION,
            Self::EventEntered => &EVENT_ENTERED,
            Self::EventWaitlisted => &EVENT_WAITLISTED,
            Self::EventPlaceOffered => &EVENT_PLACE_OFFERED,
            Self::EventPromoted => &EVENT_PROMOTED,
            Self::EventReminder => &EVENT_REMINDER,
            Self::EventChanged => &EVENT_CHANGED,
            Self::EventCancelled => &EVENT_CANCELLED,
            Self::Digest => &DIGEST,
        }
    }
}

static ACCOUNT_SETUP: KindInfo = KindInfo {
    key: "account_setup",
    title: "Your account was created",
    when: "An administrator adds an account.",
    optional: false,
    confidential: false,
    placeholders: &[
        ph("name", "the new person's name", false),
        ph("link", "the one-time link to choose a password", false),
        ph("expires", "when the link stops working", false),
    ],
    subject: "Your {{programme}} account",
    body: "Hello {{name}},\n\nAn account has been created for you on the {{programme}} site. \
Choose your password with this link; it works once, until {{expires}}:\n\n{{link}}\n\n\
If you did not expect this, you can ignore this message, or write to {{contact}}.",
};

static PASSWORD_RESET: KindInfo = KindInfo {
    key: "password_reset",
    title: "A link to choose a new password",
    when: "Someone says they have forgotten the password of an account.",
    optional: false,
    confidential: false,
    placeholders: &[
        ph("name", "the account holder's name", false),
        ph("link", "the one-time link to choose a new password", false),
        ph("expires", "when the link stops working", false),
    ],
    subject: "Choose a new {{programme}} password",
    body: "Hello {{name}},\n\nSomeone, probably you, asked for a new password for your \
{{programme}} account. Choose one with this link; it works once, until {{expires}}:\n\n\
{{link}}\n\nIf it was not you, ignore this message: your password stays as it is. Questions: \
{{contact}}.",
};

static PASSWORD_CHANGED: KindInfo = KindInfo {
    key: "password_changed",
    title: "Your password was changed",
    when: "Someone changes their password, or chooses a new one with an e-mailed link.",
    optional: false,
    confidential: false,
    placeholders: &[
        ph("name", "the account holder's name", false),
        ph("when", "when the change was made", false),
        ph("link", "the account page", false),
    ],
    subject: "Your {{programme}} password was changed",
    body: "Hello {{name}},\n\nThe password of your {{programme}} account was changed on {{when}}. \
Other browsers signed in to your account have been signed out.\n\n\
If this was not you, write to {{contact}} straight away. Your account page: {{link}}",
};

static SIGN_UP_CONFIRM: KindInfo = KindInfo {
    key: "sign_up_confirm",
    title: "Confirm your address to create an account",
    when: "Someone asks for an account on the sign-up page (where the programme allows it).",
    optional: false,
    confidential: false,
    placeholders: &[
        ph("link", "the one-time link that creates the account", false),
        ph("expires", "when the link stops working", false),
    ],
    // The same subject as the note to an address that has an account: a subject shown on a
    // lock screen or kept in a mail log does not tell whether someone is in the programme.
    subject: "Your {{programme}} account",
    body: "Hello,\n\nSomeone, probably you, asked for a {{programme}} account for this address. \
To create it, follow this link and choose your name and password; it works once, until \
{{expires}}:\n\n{{link}}\n\nIf it was not you, ignore this message: no account is made \
without the link. Questions: {{contact}}.",
};

static SIGN_UP_EXISTING: KindInfo = KindInfo {
    key: "sign_up_existing",
    title: "You already have an account",
    when: "Someone asks on the sign-up page for an account for an address that has one.",
    optional: false,
    confidential: false,
    placeholders: &[
        ph("name", "the account holder's name", false),
        ph("link", "the sign-in page", false),
        ph(
            "reset",
            "the page that sends a link to choose a new password",
            false,
        ),
    ],
    subject: "Your {{programme}} account",
    body: "Hello {{name}},\n\nSomeone, probably you, asked for a new {{programme}} account for \
this address, which has one already. Sign in here: {{link}}\n\nForgotten your password? \
Ask for a new one here: {{reset}}\n\nIf it was not you, ignore this message: nothing has \
changed. Questions: {{contact}}.",
};

static TEST_MESSAGE: KindInfo = KindInfo {
    key: "test_message",
    title: "Test message",
    when: "An administrator checks that e-mail reaches people.",
    optional: false,
    confidential: false,
    placeholders: &[ph("link", "the outbox page", false)],
    subject: "A test message from {{programme}}",
    body: "This message checks that e-mail from {{programme}} reaches its readers. \
Nothing needs to be done.\n\nThe outbox: {{link}}",
};

static HELPER_OFFER: KindInfo = KindInfo {
    key: "helper_offer",
    title: "A request is offered to a helper",
    when: "A coordinator, or automatic matching, offers a support request to a helper.",
    optional: false,
    confidential: true,
    placeholders: &[
        ph("name", "the helper's name", false),
        ph(
            "link",
            "the offer's page, where the helper accepts or declines",
            false,
        ),
        ph("respond_by", "when the offer passes to someone else", false),
    ],
    subject: "A colleague would like peer support",
    body: "Hello {{name}},\n\nA colleague has asked for peer support, and you may be a good match. \
Please accept or decline by {{respond_by}}:\n\n{{link}}\n\n\
The details are on the page, for your eyes only; they are never sent by e-mail.",
};

static HELPER_REMINDER: KindInfo = KindInfo {
    key: "helper_reminder",
    title: "Reminder to make first contact",
    when: "A case has had no first contact as the service level nears.",
    optional: false,
    confidential: true,
    placeholders: &[
        ph("name", "the helper's name", false),
        ph("link", "the case's page", false),
        ph("due", "when first contact is due", false),
    ],
    subject: "Reminder: a colleague is waiting to hear from you",
    body: "Hello {{name}},\n\nA colleague you accepted is waiting for a first contact, due by {{due}}. \
When you have reached them, log it on the case page:\n\n{{link}}",
};

static COORDINATOR_ALERT: KindInfo = KindInfo {
    key: "coordinator_alert",
    title: "Alert to coordinators",
    when: "An urgent request arrives, or a case misses its service level.",
    optional: false,
    confidential: true,
    placeholders: &[
        ph("reason", "what needs attention (never who)", true),
        ph("link", "the queue or case page", false),
    ],
    subject: "Peer support needs attention: {{reason}}",
    body: "A peer support request needs a coordinator: {{reason}}.\n\nOpen the queue: {{link}}",
};

static REQUESTER_UPDATE: KindInfo = KindInfo {
    key: "requester_update",
    title: "Update to the person who asked for support",
    when: "A helper accepts a request.",
    optional: false,
    confidential: true,
    placeholders: &[ph(
        "link",
        "the status page, where the receipt code is entered",
        false,
    )],
    subject: "An update from {{programme}}",
    body: "Thank you for reaching out. A trained peer will contact you soon, \
in the way you asked.\n\nYou can check the status with your receipt code at {{link}}.\n\n\
If you are in crisis, call or text 988, or your local emergency number.",
};

static RESOURCE_LIST: KindInfo = KindInfo {
    key: "resource_list",
    title: "Resources, after outreach was declined",
    when: "Someone reached out to after a referral declines a conversation.",
    optional: false,
    confidential: true,
    placeholders: &[ph("resources", "the list of resources", false)],
    subject: "Resources from {{programme}}",
    body: "Thank you for letting us know. We will not contact you again about this.\n\n\
If you would like support later, these are here for you:\n\n{{resources}}\n\n\
You can also ask for a peer at any time, or write to {{contact}}.",
};

static EVENT_CONFIRM_ADDRESS: KindInfo = KindInfo {
    key: "event_confirm_address",
    title: "Confirm a guest's address",
    when: "A guest registers for an event that asks guests to confirm their address first.",
    optional: false,
    confidential: false,
    placeholders: &[
        ph("name", "the registrant's name", false),
        ph("event", "the event's title", true),
        ph("when", "the event's date and time", true),
        ph(
            "confirm_link",
            "the page where the registration is confirmed",
            false,
        ),
        ph("expires", "when the link stops working", false),
    ],
    subject: "Please confirm your registration: {{event}}, {{when}}",
    body: "Hello {{name}},\n\nSomeone, we hope you, asked to register this address for \
**{{event}}** ({{when}}). No place is held until you confirm:\n\n{{confirm_link}}\n\n\
The link works until {{expires}}. If this was not you, ignore this message: nothing more \
will be sent.",
};

static EVENT_CONFIRMATION: KindInfo = KindInfo {
    key: "event_confirmation",
    title: "Registration confirmed",
    when: "Someone registers for an event and has a place.",
    optional: false,
    confidential: false,
    placeholders: &[
        ph("name", "the registrant's name", false),
        ph(
            "event",
            "the event's title (a neutral title for private events)",
            true,
        ),
        ph("when", "the event's date and time", true),
        ph("where", "the place or online link", false),
        ph("link", "the event's page", false),
        ph(
            "cancel_link",
            "the registration's page: check-in code and cancelling",
            false,
        ),
    ],
    subject: "You are registered: {{event}}, {{when}}",
    body: "Hello {{name}},\n\nYour place at **{{event}}** is confirmed.\n\n\
- When: {{when}}\n- Where: {{where}}\n\nDetails: {{link}}\n\n\
Your registration, with the check-in code to show at the door: {{cancel_link}}\n\n\
If you can no longer come, please free your place for someone else on that page.",
};

static EVENT_WAITLISTED: KindInfo = KindInfo {
    key: "event_waitlisted",
    title: "On the waiting list",
    when: "Someone registers for a full event.",
    optional: false,
    confidential: false,
    placeholders: &[
        ph("name", "the registrant's name", false),
        ph("event", "the event's title", true),
        ph("when", "the event's date and time", true),
        ph("position", "the place on the waiting list", false),
        ph("link", "the event's page", false),
        ph("cancel_link", "the link to leave the waiting list", false),
    ],
    subject: "Waiting list: {{event}}, {{when}}",
    body: "Hello {{name}},\n\n**{{event}}** is full, and you are number {{position}} on the waiting list. \
We will write as soon as a place is yours.\n\nDetails: {{link}}\n\nLeave the waiting list: {{cancel_link}}",
};

static EVENT_ENTERED: KindInfo = KindInfo {
    key: "event_entered",
    title: "Entered in the lottery",
    when: "Someone registers for an event whose places are drawn by lottery.",
    optional: false,
    confidential: false,
    placeholders: &[
        ph("name", "the registrant's name", false),
        ph("event", "the event's title", true),
        ph("when", "the event's date and time", true),
        ph("draw", "when the places are drawn", false),
        ph("link", "the event's page", false),
        ph("cancel_link", "the link to withdraw from the draw", false),
    ],
    subject: "In the draw: {{event}}, {{when}}",
    body: "Hello {{name}},\n\nThank you: you are entered for **{{event}}** ({{when}}). \
There are more people than places, so places are drawn by lottery on {{draw}}, fairly and in an order \
anyone can check afterwards. We will write to you either way.\n\nDetails: {{link}}\n\n\
Withdraw from the draw: {{cancel_link}}",
};

static EVENT_PLACE_OFFERED: KindInfo = KindInfo {
    key: "event_place_offered",
    title: "A place is offered",
    when: "A place frees up and the event gives the first on the waiting list time to accept it.",
    optional: false,
    confidential: false,
    placeholders: &[
        ph("name", "the registrant's name", false),
        ph("event", "the event's title", true),
        ph("when", "the event's date and time", true),
        ph(
            "respond_by",
            "when the offer passes to the next person",
            false,
        ),
        ph("link", "the page where the place is accepted", false),
    ],
    subject: "A place for you: {{event}}, {{when}}",
    body: "Hello {{name}},\n\nA place at **{{event}}** ({{when}}) has become free, and it is yours if \
you want it. Please accept it by {{respond_by}}; after that it passes to the next person waiting.\n\n\
Accept or decline: {{link}}",
};

static EVENT_PROMOTED: KindInfo = KindInfo {
    key: "event_promoted",
    title: "A place became free",
    when: "Someone on the waiting list gets a place.",
    optional: false,
    confidential: false,
    placeholders: &[
        ph("name", "the registrant's name", false),
        ph("event", "the event's title", true),
        ph("when", "the event's date and time", true),
        ph("link", "the event's page", false),
        ph("cancel_link", "the link to give the place back", false),
    ],
    subject: "A place is yours: {{event}}, {{when}}",
    body: "Hello {{name}},\n\nA place at **{{event}}** ({{when}}) has become free and it is yours.\n\n\
Details: {{link}}\n\nIf you can no longer come: {{cancel_link}}",
};

static EVENT_REMINDER: KindInfo = KindInfo {
    key: "event_reminder",
    title: "Event reminder",
    when: "Before an event starts (24 hours by default).",
    optional: true,
    confidential: false,
    placeholders: &[
        ph("name", "the registrant's name", false),
        ph("event", "the event's title", true),
        ph("when", "the event's date and time", true),
        ph("where", "the place or online link", false),
        ph("readings", "what to read beforehand, for clubs", false),
        ph("link", "the event's page", false),
        ph("cancel_link", "the link to cancel the registration", false),
    ],
    subject: "Reminder: {{event}}, {{when}}",
    body: "Hello {{name}},\n\nA reminder that **{{event}}** is coming up.\n\n\
- When: {{when}}\n- Where: {{where}}\n\n{{readings}}\n\nDetails: {{link}}\n\nCannot come after all? {{cancel_link}}",
};

static EVENT_CHANGED: KindInfo = KindInfo {
    key: "event_changed",
    title: "Event changed",
    when: "A coordinator changes an event people registered for.",
    optional: false,
    confidential: false,
    placeholders: &[
        ph("name", "the registrant's name", false),
        ph("event", "the event's title", true),
        ph("when", "the event's date and time", true),
        ph("where", "the place or online link", false),
        ph("link", "the event's page", false),
    ],
    subject: "Changed: {{event}}",
    body: "Hello {{name}},\n\n**{{event}}**, which you registered for, has changed. It is now:\n\n\
- When: {{when}}\n- Where: {{where}}\n\nThe updated calendar entry is attached. Details: {{link}}",
};

static EVENT_CANCELLED: KindInfo = KindInfo {
    key: "event_cancelled",
    title: "Event cancelled",
    when: "A coordinator cancels an event.",
    optional: false,
    confidential: false,
    placeholders: &[
        ph("name", "the registrant's name", false),
        ph("event", "the event's title", true),
        ph("when", "the event's date and time", true),
        ph("link", "the programme's events", false),
    ],
    subject: "Cancelled: {{event}}, {{when}}",
    body: "Hello {{name}},\n\nWe are sorry: **{{event}}** on {{when}} has been cancelled. \
The attached calendar update removes it from your calendar.\n\nOther events: {{link}}",
};

static DIGEST: KindInfo = KindInfo {
    key: "digest",
    title: "What's coming up",
    when: "A periodic summary of upcoming events.",
    optional: true,
    confidential: false,
    placeholders: &[
        ph("name", "the recipient's name", false),
        ph("summary", "the list of upcoming events", false),
        ph("link", "the programme's events", false),
    ],
    subject: "Coming up at {{programme}}",
    body: "Hello {{name}},\n\nHere is what is coming up:\n\n{{summary}}\n\nEverything: {{link}}",
};

/// The wording of one kind of message: Markdown with `{{placeholders}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct MailTemplate {
    pub subject: String,
    pub body: String,
}

pub const MAX_SUBJECT_CHARS: usize = 150;
pub const MAX_BODY_BYTES: usize = 20_000;

/// One piece of a template: literal text, or a placeholder's name.
enum Piece<'a> {
    Text(&'a str),
    Slot(&'a str),
}

/// Splits `text` at `{{name}}` placeholders; a `{{` without its `}}` is an error.
fn pieces(text: &str) -> Result<Vec<Piece<'_>>, String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push(Piece::Text(&rest[..start]));
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            return Err("A '{{' has no closing '}}'.".into());
        };
        out.push(Piece::Slot(after[..end].trim()));
        rest = &after[end + 2..];
    }
    out.push(Piece::Text(rest));
    Ok(out)
}

impl MailTemplate {
    /// Checks a coordinator's edit: known placeholders only, nothing personal in the
    /// subject, sensible lengths. The error names the field and what to change.
    pub fn parse(kind: MessageKind, subject: &str, body: &str) -> Result<Self, Invalid> {
        let subject = subject.trim();
        if subject.is_empty() {
            return Err(Invalid::new("subject", "The subject is required."));
        }
        if subject.chars().any(char::is_control) {
            return Err(Invalid::new(
                "subject",
                "The subject must be one line: remove line breaks, tabs and other control characters.",
            ));
        }
        if subject.chars().count() > MAX_SUBJECT_CHARS {
            return Err(Invalid::new(
                "subject",
                format!("The subject is too long: at most {MAX_SUBJECT_CHARS} characters."),
            ));
        }
        let body = body.replace("\r\n", "\n");
        if body.trim().is_empty() {
            return Err(Invalid::new("body", "The message needs some text."));
        }
        if body.len() > MAX_BODY_BYTES {
            return Err(Invalid::new(
                "body",
                format!("The message is too long: at most {MAX_BODY_BYTES} bytes."),
            ));
        }
        let known = || {
            kind.placeholders()
                .map(|p| format!("{{{{{}}}}}", p.name))
                .collect::<Vec<_>>()
                .join(", ")
        };
        for (field, text, in_subject) in [("subject", subject, true), ("body", &body[..], false)] {
            let parts = pieces(text).map_err(|m| Invalid::new(field, m))?;
            for p in parts {
                let Piece::Slot(name) = p else { continue };
                match kind.placeholders().find(|k| k.name == name) {
                    None => {
                        return Err(Invalid::new(
                            field,
                            format!(
                                "The placeholder {{{{{name}}}}} is not known for this message; use one of {}.",
                                known()
                            ),
                        ));
                    }
                    Some(k) if in_subject && !k.subject_ok => {
                        return Err(Invalid::new(
                            field,
                            format!(
                                "{{{{{name}}}}} cannot be used in the subject: subjects show on lock screens and in mail logs. Use it in the message instead."
                            ),
                        ));
                    }
                    Some(_) => {}
                }
            }
        }
        Ok(Self {
            subject: subject.to_string(),
            body,
        })
    }
}

/// A message ready for the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Composed {
    pub from_name: String,
    pub subject: String,
    pub text: String,
    /// The whole HTML document sent.
    pub html: String,
    /// Its body only, for a preview inside a page.
    pub html_body: String,
}

fn fill(text: &str, values: &[(&str, &str)], escape_markdown: bool) -> String {
    // Templates were checked when saved; an unparseable stored one is sent as written
    // rather than lost.
    let Ok(parts) = pieces(text) else {
        return text.to_string();
    };
    let mut out = String::with_capacity(text.len() + 64);
    for p in parts {
        match p {
            Piece::Text(t) => out.push_str(t),
            Piece::Slot(name) => {
                let v = values
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| *v)
                    .unwrap_or_default();
                if escape_markdown {
                    out.push_str(&markdown_escape(v));
                } else {
                    out.push_str(v);
                }
            }
        }
    }
    out
}

/// Values such as names are text, not Markdown: `*` or `[` in a name must not format.
/// A URL becomes an autolink (`<url>`), so it is clickable in the HTML part.
fn markdown_escape(v: &str) -> String {
    if (v.starts_with("https://") || v.starts_with("http://")) && !v.contains(['<', '>', ' ']) {
        return format!("<{v}>");
    }
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '!' | '|' | '&'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Fills a template for one recipient. The text part is the Markdown read as plain text
/// (emphasis without its asterisks, links with their address); the HTML part is that Markdown rendered and sanitised, in a plain,
/// readable frame. `footer` (for example how to unsubscribe) ends both parts.
pub fn compose(
    kind: MessageKind,
    template: &MailTemplate,
    branding: &Branding,
    values: &[(&str, &str)],
    footer: Option<&str>,
) -> Composed {
    let mut all: Vec<(&str, &str)> = vec![
        ("programme", branding.name.as_str()),
        ("contact", branding.contact_email.as_str()),
    ];
    all.extend_from_slice(values);
    debug_assert!(
        values
            .iter()
            .all(|(k, _)| kind.placeholders().any(|p| p.name == *k))
    );
    // Header values: a control character in a value (or a programme name stored before
    // names were checked) must not end the header line.
    let subject = one_line(&fill(&template.subject, &all, false));
    // The text part is the Markdown read as text (no `**` around an event's name); the
    // values were escaped as Markdown, so a `*` in a name stays a `*`.
    let mut md = fill(&template.body, &all, true);
    let mut text = super::content::markdown_to_text(&md);
    if let Some(f) = footer {
        text.push_str("\n-- \n");
        text.push_str(f);
        text.push('\n');
        md.push_str("\n\n---\n\n");
        md.push_str(&markdown_escape_prose(f));
    }
    let html_body = render_markdown(&md);
    let html = html_frame(&subject, &branding.name, &html_body);
    Composed {
        from_name: one_line(&branding.name),
        subject,
        text,
        html,
        html_body,
    }
}

/// `s` with each control character replaced by a space, trimmed.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_string()
}

/// A footer is our own prose with URLs in it; only escape what would start formatting.
fn markdown_escape_prose(v: &str) -> String {
    v.split(' ')
        .map(markdown_escape)
        .collect::<Vec<_>>()
        .join(" ")
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn html_frame(subject: &str, programme: &str, body_html: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width\"><title>{}</title></head>\n\
<body style=\"margin:0;padding:24px;background:#ffffff;color:#1a1a1a;\
font-family:Georgia,'Times New Roman',serif;font-size:17px;line-height:1.55\">\n\
<div style=\"max-width:600px;margin:0 auto\">\n\
<p style=\"font-family:Arial,sans-serif;font-size:14px;color:#4a4a4a;margin:0 0 16px\">{}</p>\n\
{}\n</div>\n</body>\n</html>\n",
        html_escape(subject),
        html_escape(programme),
        body_html
    )
}

/// The footer of an optional message: why it came and how to stop it.
pub fn unsubscribe_footer(kind: MessageKind, unsubscribe_url: &str) -> String {
    format!(
        "You receive \"{}\" messages because you chose to. Stop them with one click: {unsubscribe_url}",
        kind.info().title
    )
}

/// How many times a message is tried before it is marked failed.
pub const MAX_ATTEMPTS: i64 = 10;
/// The longest wait between two tries.
pub const MAX_BACKOFF_SECS: i64 = 3600;

/// Seconds to wait after the `attempt`-th failed try (1-based): the base doubled each
/// time, capped at an hour, with ±25% jitter from `jitter` (a number in 0..1000) so that
/// several instances do not retry a recovered server all at once.
pub fn backoff_secs(attempt: i64, base_secs: i64, jitter: u32) -> i64 {
    let exp = attempt.clamp(1, 20) - 1;
    let raw = base_secs.max(1).saturating_mul(1_i64 << exp);
    let capped = raw.min(MAX_BACKOFF_SECS);
    let spread = capped / 4;
    let offset = if spread == 0 {
        0
    } else {
        (i64::from(jitter % 1000) * 2 * spread) / 1000 - spread
    };
    (capped + offset).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_template_is_valid() {
        for k in MessageKind::ALL {
            let t = k.default_template();
            MailTemplate::parse(k, &t.subject, &t.body)
                .unwrap_or_else(|e| panic!("{}: {e} ({})", k.key(), e.field()));
            assert_eq!(MessageKind::parse(k.key()), Some(k));
        }
    }

    #[test]
    fn unknown_and_personal_placeholders_are_refused() {
        let e = MailTemplate::parse(MessageKind::AccountSetup, "Hi", "Hello {{nmae}}")
            .expect_err("typo");
        assert_eq!(e.field(), "body");
        assert!(e.message().contains("{{nmae}}"), "{e}");
        assert!(e.message().contains("{{name}}"), "{e}");
        let e = MailTemplate::parse(MessageKind::AccountSetup, "Hi {{name}}", "Hello")
            .expect_err("identity in subject");
        assert_eq!(e.field(), "subject");
        let e = MailTemplate::parse(MessageKind::AccountSetup, "Hi", "Hello {{name")
            .expect_err("unclosed");
        assert!(e.message().contains("closing"));
    }

    #[test]
    fn the_text_part_reads_as_text_without_markdown_marks() {
        let t = MessageKind::EventConfirmation.default_template();
        let c = compose(
            MessageKind::EventConfirmation,
            &t,
            &Branding::default(),
            &[
                ("name", "Ann"),
                ("event", "Grand *Rounds* & AT&amp;T"),
                ("when", "Tuesday 8 December 2026, 12:00–13:00 EST"),
                ("where", "Room 3C"),
                ("link", "https://x.example/events/1"),
                ("cancel_link", "https://x.example/events/1/registration/abc"),
            ],
            None,
        );
        assert!(!c.text.contains("**"), "{}", c.text);
        assert!(
            c.text
                .contains("Your place at Grand *Rounds* & AT&amp;T is confirmed."),
            "a value is shown as typed: {}",
            c.text
        );
        assert!(c.text.contains("- When: Tuesday 8 December"), "{}", c.text);
        assert_eq!(
            c.text
                .matches("https://x.example/events/1/registration/abc")
                .count(),
            1,
            "a link's address once: {}",
            c.text
        );
        assert!(
            c.html
                .contains("<strong>Grand *Rounds* &amp; AT&amp;amp;T</strong>"),
            "{}",
            c.html
        );
    }

    #[test]
    fn values_fill_both_parts_and_names_do_not_format() {
        let t = MessageKind::AccountSetup.default_template();
        let b = Branding::default();
        let c = compose(
            MessageKind::AccountSetup,
            &t,
            &b,
            &[
                ("name", "Dr. *Bold* <script>"),
                ("link", "https://x.example/setup/abc"),
                ("expires", "soon"),
            ],
            None,
        );
        assert!(c.text.contains("Dr. *Bold* <script>"));
        assert!(c.html.contains("Dr. *Bold* &lt;script&gt;"), "{}", c.html);
        assert!(!c.html.contains("<script>"));
        assert!(
            c.html.contains("href=\"https://x.example/setup/abc\""),
            "{}",
            c.html
        );
        assert!(c.text.contains("\nhttps://x.example/setup/abc\n"));
        assert!(!c.subject.contains("Dr."));
    }

    #[test]
    fn backoff_grows_is_capped_and_jittered() {
        assert_eq!(backoff_secs(1, 60, 500), 60);
        assert_eq!(backoff_secs(2, 60, 500), 120);
        assert_eq!(backoff_secs(12, 60, 500), MAX_BACKOFF_SECS);
        assert!(backoff_secs(3, 60, 0) < backoff_secs(3, 60, 999));
        assert!((180..=300).contains(&backoff_secs(3, 60, 0)));
        assert!(backoff_secs(1, 1, 0) >= 1);
    }
}
