//! Registering for events, as anyone may: the programme's listing and feeds, a
//! registration's own page (its secret link is the authority: a [`Registrant`] exists only
//! once the link is checked), a guest's confirmation, and a member's own events and feed.

use crate::app::events::{self as work, Caller, Outcome, RegisterError};
use crate::app::{Error, Member, Public, Result};
use crate::domain::accounts::{Account, Email};
use crate::domain::conflict::Conflict;
use crate::domain::events::{
    Child, ConsentInput, ConsentText, Event, MAX_CHILDREN, Window, instant_text, parse_answers,
    parse_consent,
};
use crate::domain::ids::EventId;
use crate::domain::series::Series;
use crate::domain::{Invalid, Mistakes, required_line};
use crate::store::{EventFilter, NewRegistration, Registered, Registration, StoreError};

/// How far back feeds reach, so that calendars keep last month's entries.
const FEED_PAST_SECS: i64 = 30 * 86_400;

/// Someone holding a registration's secret link.
pub struct Registrant {
    public: Public,
    pub registration: Registration,
    pub event: Event,
    pub secret: String,
}

/// Whether registration is open for this event now, as a person's mistake if not.
fn check_window(e: &Event, now: i64) -> std::result::Result<(), Invalid> {
    match e.window(now) {
        Window::Open => Ok(()),
        Window::NotYet(t) => Err(Invalid::new(
            "event",
            format!("Registration opens on {}.", instant_text(t, &e.tz())),
        )),
        Window::Closed => Err(Invalid::new(
            "event",
            "Registration for this event has closed.",
        )),
        Window::Cancelled => Err(Invalid::new("event", Conflict::EventCancelled)),
    }
}

/// A registration from the form's fields (the API's body is read into the same fields). A
/// member registers as themselves; a guest gives a name and an address.
fn registration_from_form(
    e: &Event,
    account: Option<&Account>,
    form: &[(String, String)],
    consent_text: &ConsentText,
) -> std::result::Result<NewRegistration, Invalid> {
    let get = |k: &str| {
        form.iter()
            .find(|(n, _)| n == k)
            .map_or("", |(_, v)| v.as_str())
    };
    let beyond = format!("child{}_first_name", MAX_CHILDREN + 1);
    if form.iter().any(|(k, _)| *k == beyond) {
        return Err(Invalid::new(
            "children",
            format!("At most {MAX_CHILDREN} children per registration."),
        ));
    }
    let mut m = Mistakes::new();
    let (account_id, name, email) = match account {
        Some(a) => (
            Some(a.id.0),
            a.display_name.clone(),
            a.email.as_str().to_string(),
        ),
        None => {
            if !e.guests_allowed {
                return Err(Invalid::new(
                    "email",
                    "This event is for members: please sign in to register.",
                ));
            }
            let name = m.or_default(required_line("name", "Your name", get("name"), 120));
            let email = m.or_default(Email::parse(get("email")).map(|e| e.as_str().to_string()));
            (None, name, email)
        }
    };
    let given: Vec<(i64, String)> = form
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix('q')
                .and_then(|id| id.parse().ok())
                .map(|id| (id, v.clone()))
        })
        .collect();
    let (children, consent) = if e.for_minors {
        let mut children = Vec::new();
        let mut refused_rows = false;
        for i in 1..=MAX_CHILDREN {
            let child = Child::parse(
                i,
                get(&format!("child{i}_first_name")),
                get(&format!("child{i}_grade")),
                get(&format!("child{i}_school")),
            );
            match m.check(child) {
                Some(Some(c)) => children.push(c),
                Some(None) => {}
                None => refused_rows = true,
            }
        }
        if children.is_empty() && !refused_rows {
            m.note(
                "child1_first_name",
                "Add at least one child: first name, grade and school.",
            );
        }
        let consent = m.check(parse_consent(
            ConsentInput {
                agreed: get("consent") == "yes",
                relationship: get("guardian_relationship"),
                phone: get("guardian_phone"),
                emergency_name: get("emergency_name"),
                emergency_phone: get("emergency_phone"),
                seen: get("consent_version"),
            },
            consent_text,
        ));
        (children, consent)
    } else {
        (Vec::new(), None)
    };
    // The questions come after the children and consent on the page.
    let answers = m.or_default(parse_answers(&e.questions, &given));
    let registration = NewRegistration {
        event_id: e.id,
        account_id,
        name,
        email,
        answers,
        children,
        consent,
    };
    m.finish(registration)
}

impl From<RegisterError> for Error {
    fn from(e: RegisterError) -> Self {
        match e {
            RegisterError::TooMany => Error::Limited(format!(
                "This e-mail address has been registered for {} events in the last hour without \
                 signing in. Please wait an hour, or sign in to register for more.",
                crate::domain::events::GUEST_REGISTRATIONS_PER_HOUR
            )),
            RegisterError::TooManyFromAddress { per_hour } => Error::Limited(format!(
                "More than {per_hour} registrations without an account came from your network \
                 in the last hour. Please try again in an hour, sign in to register, or ask the \
                 programme to register you."
            )),
            RegisterError::Store(e) => e.into(),
        }
    }
}

impl Public {
    /// The programme's time zone (business hours), in which months are counted.
    #[tracing::instrument(skip_all, level = "debug")]
    pub async fn time_zone(&self) -> Result<String> {
        Ok(self.store().service_level_settings().await?.time_zone)
    }

    #[tracing::instrument(skip_all, level = "debug")]
    pub async fn events(&self, f: &EventFilter) -> Result<Vec<Event>> {
        Ok(self.store().list_events(f).await?)
    }

    #[tracing::instrument(skip_all, level = "debug", fields(event = id.0))]
    pub async fn event(&self, id: EventId) -> Result<Event> {
        Ok(self.store().event(id.0).await?)
    }

    /// The whole programme for its calendar feed, with last month's and cancelled events
    /// (so that calendars show the cancellation).
    #[tracing::instrument(skip_all, level = "debug")]
    pub async fn programme_feed(&self) -> Result<Vec<Event>> {
        self.events(&EventFilter {
            from: self.now() - FEED_PAST_SECS,
            include_cancelled: true,
            ..Default::default()
        })
        .await
    }

    /// One series for its calendar feed.
    #[tracing::instrument(skip_all, level = "debug")]
    pub async fn series_feed(&self, slug: &str) -> Result<(Series, Vec<Event>)> {
        let s = self.store().series_by_slug(slug).await?;
        let events = self
            .events(&EventFilter {
                series_id: Some(s.id),
                from: self.now() - FEED_PAST_SECS,
                include_cancelled: true,
                ..Default::default()
            })
            .await?;
        Ok((s, events))
    }

    /// Registers for an event from the form's fields, as `member` or as a guest, while
    /// registration is open. A mistake names its field; guests are limited per address.
    #[tracing::instrument(skip_all, fields(event = event_id.0))]
    pub async fn register(
        &self,
        event_id: EventId,
        form: &[(String, String)],
        member: Option<&Member>,
        address: &str,
    ) -> Result<Outcome> {
        let e = self.store().event(event_id.0).await?;
        check_window(&e, self.now())?;
        // Only students' events ask for consent: others skip reading its text.
        let consent = if e.for_minors {
            self.store().consent_text().await?
        } else {
            ConsentText::default()
        };
        let r = registration_from_form(&e, member.map(|m| m.account()), form, &consent)?;
        let caller = Caller {
            address,
            guest_registrations_per_hour: self.app().settings.guest_registrations_per_address,
        };
        Ok(work::register(self.store(), self.app().public_url(), &e, &r, caller).await?)
    }

    /// A registration by the secret of its link.
    #[tracing::instrument(skip_all, level = "debug")]
    pub async fn registrant(&self, secret: &str) -> Result<Registrant> {
        let registration = self.store().registration_by_secret(secret).await?;
        let event = self.store().event(registration.event_id).await?;
        Ok(Registrant {
            public: self.clone(),
            registration,
            event,
            secret: secret.to_string(),
        })
    }

    /// What a guest's confirmation link would confirm.
    #[tracing::instrument(skip_all, level = "debug")]
    pub async fn pending_guest(&self, secret: &str) -> Result<(NewRegistration, Event)> {
        let pending = self
            .store()
            .pending_guest(secret)
            .await
            .map_err(|e| match e {
                StoreError::NotFound => Error::Conflict(Conflict::ConfirmLinkGone),
                e => e.into(),
            })?;
        let e = self.store().event(pending.event_id).await?;
        Ok((pending, e))
    }

    /// Follows a guest's confirmation link: only now is a place held.
    #[tracing::instrument(skip_all)]
    pub async fn confirm_guest(&self, secret: &str) -> Result<Registered> {
        work::confirm_guest(self.store(), self.app().public_url(), secret)
            .await
            .map_err(|e| match e {
                StoreError::NotFound => Error::Conflict(Conflict::ConfirmLinkGone),
                e => e.into(),
            })
    }

    /// A member's personal feed, by its secret token: what they registered for.
    #[tracing::instrument(skip_all, level = "debug")]
    pub async fn personal_feed(&self, token: &str) -> Result<Vec<(Event, Registration)>> {
        let account = self.store().calendar_owner(token).await?;
        let mut mine = self
            .store()
            .registrations_of(account, self.now() - FEED_PAST_SECS)
            .await?;
        for (e, r) in &mut mine {
            if !r.status.holds_place() {
                e.online_url.clear();
            }
        }
        Ok(mine)
    }
}

impl Registrant {
    /// The address the door staff's scanner opens for this registration.
    pub fn check_in_url(&self) -> Result<String> {
        let base = self
            .public
            .app()
            .public_url()
            .as_str()
            .trim_end_matches('/');
        let token = self.public.store().check_in_token(self.registration.id)?;
        Ok(format!("{base}/checkin/{token}"))
    }

    /// Cancels the registration; the place goes to the next person waiting.
    #[tracing::instrument(skip_all)]
    pub async fn cancel(self) -> Result<Registrant> {
        work::cancel(
            self.public.store(),
            self.public.app().public_url(),
            &self.event,
            self.registration.id,
        )
        .await?;
        self.public.registrant(&self.secret).await
    }

    /// Takes the place offered from the waiting list.
    #[tracing::instrument(skip_all)]
    pub async fn accept_place(self) -> Result<Registrant> {
        self.public
            .store()
            .accept_place(self.registration.id)
            .await?;
        self.public.registrant(&self.secret).await
    }
}

impl Member {
    /// This person's registration for an event, with its link's secret.
    // No account or event in the span: who registered for what stays out of the log.
    #[tracing::instrument(skip_all, level = "debug")]
    pub async fn registration_for(
        &self,
        event_id: EventId,
    ) -> Result<Option<(Registration, String)>> {
        match self
            .store()
            .registration_for_account(event_id.0, self.id.0)
            .await?
        {
            Some(r) => {
                let secret = self.store().registration_secret(r.id)?;
                Ok(Some((r, secret)))
            }
            None => Ok(None),
        }
    }

    /// This person's events still to come, each with its registration and link's secret.
    /// The online link is only for those who hold a place: not for those waiting, nor
    /// after a cancellation.
    #[tracing::instrument(skip_all, level = "debug")]
    pub async fn my_events(&self) -> Result<Vec<(Event, Registration, String)>> {
        let mut mine = Vec::new();
        for (mut e, r) in self.store().registrations_of(self.id.0, self.now()).await? {
            if !r.status.holds_place() {
                e.online_url.clear();
            }
            let secret = self.store().registration_secret(r.id)?;
            mine.push((e, r, secret));
        }
        Ok(mine)
    }

    /// The address of this person's calendar feed; `renew` makes a new one and the old
    /// stops working.
    #[tracing::instrument(skip_all, fields(member = self.id.0))]
    pub async fn calendar_feed_url(&self, renew: bool) -> Result<String> {
        let token = self.store().calendar_token(self.id.0, renew).await?;
        let base = self.app().public_url().as_str().trim_end_matches('/');
        Ok(format!("{base}/calendar/{token}.ics"))
    }
}
