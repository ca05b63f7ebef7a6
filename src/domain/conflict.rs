//! Why a change was refused because of the state it met: data only, one kind per rule.
//! The store and the application layer return a kind; what a person reads is its
//! `sentence`, chosen where the answer is presented (a page, a JSON error, a form field).

/// A refusal by the programme's rules or by what changed meanwhile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Conflict {
    EmailTaken,
    LastAdmin,
    SeriesAddressTaken,
    ApplicationPending,
    ApplicationDecided,
    RequestAlreadyOffered,
    RequestTaken,
    RequestChanged,
    CaseClosed,
    CaseNotAccepted,
    OfferAnswered,
    RequestGoneWhileOffered,
    CaseChangedWhileWriting,
    CaseChanged,
    AuditBusyRaiseAgain,
    IdentityGone,
    IdentityBlind,
    NotTakeBackable,
    AcceptedOfferMissing,
    MessageRequired,
    NotResendable,
    NotCancellable,
    NoDataKey,
    EventNeedsDate,
    EventCancelledUnchangeable,
    PrivateFlagFixed,
    NoSuchSeries,
    RequestNotFiled,
    RequestClosed,
    AuditBusy,
    FeedbackOnce,
    EventCancelled,
    EventCancelledNoPlace,
    EventCancelledOfferGone,
    GuestLimitReached,
    NotWaiting,
    PlaceOfferGone,
    CheckInCancelled,
    RegistrationClosed,
    ResourceNameTaken,
    ResourceNameTakenChange,
    ConfirmLinkGone,
    CheckInNeedsPlace,
    CheckInNotToday,
    NotALottery,
    NoShortlist,
    BlindRefusal,
    NobodyFree,
    AccountChangedSinceCheck,
    PledgeChangedMeanwhile,
    PledgeChangedSinceRead,
    NoPledgeYet,
    PledgeRequired,
}

impl Conflict {
    /// What the person is told, in the programme's words.
    pub fn sentence(self) -> &'static str {
        match self {
            Conflict::EmailTaken => "An account with this e-mail address already exists.",
            Conflict::PledgeChangedMeanwhile => {
                "Another version of the pledge was published while you were writing this one, so yours was not; read the new current version, then publish yours again if it is still needed."
            }
            Conflict::PledgeChangedSinceRead => {
                "The pledge changed while you were reading it, so your signature was not taken; read the new version below, then sign it if you agree."
            }
            Conflict::NoPledgeYet => "The programme has not published its pledge yet.",
            Conflict::PledgeRequired => {
                "The programme asks helpers to have signed the current pledge first: read and sign it on the pledge page, then apply again."
            }
            Conflict::AccountChangedSinceCheck => {
                "Some of these accounts changed after the file was checked (a profile saved, a role or an account switched off), so nothing was imported; check the file again."
            }
            Conflict::LastAdmin => {
                "This is the last active administrator. Make someone else an administrator first."
            }
            Conflict::SeriesAddressTaken => {
                "Another series already has this address; choose another."
            }
            Conflict::ApplicationPending => "Your application is already with the coordinators.",
            Conflict::ApplicationDecided => {
                "This application was already decided, or does not exist."
            }
            Conflict::RequestAlreadyOffered => {
                "This request is already offered to a helper; wait for their answer or for the offer to expire."
            }
            Conflict::RequestTaken => "This request already has a helper, or is closed.",
            Conflict::RequestChanged => "The request changed; look again.",
            Conflict::CaseClosed => "This case is closed.",
            Conflict::CaseNotAccepted => "This case has not been accepted yet.",
            Conflict::OfferAnswered => {
                "This offer has already been answered, or it expired and passed to someone else."
            }
            Conflict::RequestGoneWhileOffered => {
                "The person withdrew this request, or it was taken back, while the offer was open: there is nothing to accept."
            }
            Conflict::CaseChangedWhileWriting => {
                "This case was closed or taken back while you were writing: the contact was not recorded."
            }
            Conflict::CaseChanged => "This case changed meanwhile; look again.",
            Conflict::AuditBusyRaiseAgain => {
                "The audit log is busy; please raise the concern again."
            }
            Conflict::IdentityGone => "Who asked is not shown for closed or withdrawn requests.",
            Conflict::IdentityBlind => {
                "This programme works coordinator-blind: who asked is shown to coordinators only after a helper raises a safety concern."
            }
            Conflict::NotTakeBackable => {
                "Only a request accepted but not yet contacted can be taken back."
            }
            Conflict::AcceptedOfferMissing => {
                "This request's accepted offer was not found: it changed while you were looking."
            }
            Conflict::MessageRequired => {
                "This message cannot be switched off: something you take part in depends on it."
            }
            Conflict::NotResendable => "Only a failed or cancelled message can be sent again.",
            Conflict::NotCancellable => "Only a queued or failed message can be cancelled.",
            Conflict::NoDataKey => {
                "This server was started without a data key, so it cannot send peer-support messages."
            }
            Conflict::EventNeedsDate => "An event needs a date.",
            Conflict::EventCancelledUnchangeable => {
                "This event has been cancelled and can no longer be changed."
            }
            Conflict::PrivateFlagFixed => {
                "People have registered for this event, so it cannot be made private or public now; cancel it and create a new one instead."
            }
            Conflict::NoSuchSeries => "There is no such series; choose one from the list.",
            Conflict::RequestNotFiled => "Could not file the request; please send it again.",
            Conflict::RequestClosed => "This request is already closed.",
            Conflict::AuditBusy => "The audit log is busy; please try again.",
            Conflict::FeedbackOnce => "Feedback can be given once, after the request is closed.",
            Conflict::EventCancelled => "This event has been cancelled.",
            Conflict::EventCancelledNoPlace => {
                "This event has been cancelled: no place can be given."
            }
            Conflict::EventCancelledOfferGone => {
                "This event has been cancelled, so the place can no longer be taken."
            }
            Conflict::GuestLimitReached => {
                "Too many registrations without an account came from this network in the last hour."
            }
            Conflict::NotWaiting => {
                "Only someone waiting (or offered a place, or in a draw) can be given a place."
            }
            Conflict::PlaceOfferGone => "This offer has expired or was already answered.",
            Conflict::CheckInCancelled => {
                "This registration was cancelled; it cannot be checked in."
            }
            Conflict::RegistrationClosed => {
                "Registration for this event has closed, so the registration could not be confirmed."
            }
            Conflict::ResourceNameTaken => "An entry with this name already exists.",
            Conflict::ResourceNameTakenChange => {
                "An entry with this name already exists; change that one instead."
            }
            Conflict::CheckInNeedsPlace => {
                "Only someone with a confirmed place can be checked in; this registration is waiting, in the draw, offered or cancelled."
            }
            Conflict::CheckInNotToday => {
                "This event is not today. Check people in on the day of the event, or choose \u{201c}Check in anyway\u{201d}."
            }
            Conflict::ConfirmLinkGone => {
                "This link has expired or has been used already. Register again from the event's page if you still want a place."
            }
            Conflict::NotALottery => {
                "This event's places are not drawn by lottery, or were drawn already."
            }
            Conflict::NoShortlist => {
                "This programme works coordinator-blind: requests are matched automatically, and no shortlist is shown."
            }
            Conflict::BlindRefusal => {
                "This programme works coordinator-blind: its requests go to the next suitable helper, chosen by the programme, not to a helper picked by hand. Use \"Offer to the next suitable helper\"."
            }
            Conflict::NobodyFree => {
                "No helper can take this request now: it waits in the queue, and is offered again when a helper is free."
            }
        }
    }
}

impl std::fmt::Display for Conflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.sentence())
    }
}

/// A refusal shown beside a form's field reads as its sentence.
impl From<Conflict> for String {
    fn from(c: Conflict) -> Self {
        c.sentence().to_string()
    }
}
