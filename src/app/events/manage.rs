//! Running events, for coordinators: creating and changing them (a repeating event's
//! later dates all at once, or none), cancelling, drawing lotteries, the registrants with
//! their check-in, places given by hand, and the adults cleared to work with students.
//! A registration is always reached through its event: one of another event is not found.

use crate::app::events::{self as work, SeriesTotals};
use crate::app::{Coordinator, Error, Result};
use crate::domain::accounts::AccountId;
use crate::domain::accounts::{Account, Email};
use crate::domain::conflict::Conflict;
use crate::domain::events::{
    Clearance, ClearancePolicy, Event, EventDraft, EventInput, RegistrationStatus, local_datetime,
};
use crate::domain::ids::{EventId, RegistrationId};
use crate::domain::{Invalid, required_line};
use crate::store::{EventCounts, NewRegistration, Registered, Registration, StoreError};

/// An event's registrants page: everyone registered, and each adult placed on it with why
/// their clearance no longer covers it.
/// What a scan at the door did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckIn {
    /// Checked in now.
    Now,
    /// Already checked in, at this time.
    Already(i64),
}

pub struct Registrants {
    pub event: Event,
    pub registrations: Vec<Registration>,
    pub volunteers: Vec<(i64, String, Option<String>)>,
}

/// The clearance roster; a row whose dates no longer parse is left out with a warning
/// (it was checked when saved, so only a damaged row).
fn roster(rows: Vec<(i64, String, String, String)>) -> Vec<Clearance> {
    rows.into_iter()
        .filter_map(|(id, name, b, t)| match (b.parse(), t.parse()) {
            (Ok(background_check_on), Ok(youth_training_on)) => Some(Clearance {
                account_id: id,
                name,
                background_check_on,
                youth_training_on,
            }),
            _ => {
                tracing::warn!(account = id, "a clearance row has dates that do not parse");
                None
            }
        })
        .collect()
}

/// Why an adult's clearance does not cover a students' event (None: it does, or the
/// event is not for students).
fn clearance_problem(
    e: &Event,
    account: i64,
    roster: &[Clearance],
    policy: &ClearancePolicy,
) -> Result<Option<String>> {
    if !e.for_minors {
        return Ok(None);
    }
    let day = jiff::Timestamp::from_second(e.ends_at)
        .map(|t| t.to_zoned(e.tz()).date())
        .map_err(|err| anyhow::Error::new(err).context("event date out of range"))?;
    Ok(match roster.iter().find(|c| c.account_id == account) {
        None => Some(
            "This person has no background check or youth-protection training on record."
                .to_string(),
        ),
        Some(c) => c.lapsed_on(day, policy),
    })
}

impl Coordinator {
    /// An event as coordinators see it (a private event's title too).
    #[tracing::instrument(skip_all, level = "debug", fields(coordinator = self.id.0, event = id.0))]
    pub async fn event(&self, id: EventId) -> Result<Event> {
        Ok(self.store().event(id.0).await?)
    }

    /// Per-event figures, newest first, for one series (by its slug) or all.
    #[tracing::instrument(skip_all, level = "debug", fields(coordinator = self.id.0))]
    pub async fn event_counts(&self, series_slug: &str) -> Result<Vec<EventCounts>> {
        let series_id = if series_slug.is_empty() {
            None
        } else {
            Some(self.store().series_by_slug(series_slug).await?.id)
        };
        Ok(self.store().event_counts(series_id).await?)
    }

    /// Totals per series over every event.
    #[tracing::instrument(skip_all, level = "debug", fields(coordinator = self.id.0))]
    pub async fn series_totals(&self) -> Result<Vec<SeriesTotals>> {
        Ok(work::series_totals(&self.event_counts("").await?))
    }

    /// How many later dates a repeating event has (what "and every later date" changes).
    #[tracing::instrument(skip_all, level = "debug", fields(coordinator = self.id.0, event = id.0))]
    pub async fn later_dates(&self, id: EventId) -> Result<usize> {
        let e = self.store().event(id.0).await?;
        Ok(match e.recurrence_id {
            Some(r) => self.store().later_occurrences(r, e.starts_at).await?.len(),
            None => 0,
        })
    }

    /// Creates an event, or one per occurrence when it repeats. Mistakes name their field;
    /// an unknown series is a conflict.
    #[tracing::instrument(skip_all, fields(coordinator = self.id.0))]
    pub async fn create_events(&self, input: &EventInput) -> Result<Vec<i64>> {
        let d = EventDraft::parse(input)?;
        let ids = self.store().create_events(&d).await?;
        tracing::info!(events = ids.len(), by = self.id.0, "events created");
        Ok(ids)
    }

    /// Changes one event, or with `every_later_date` this one and the later dates of its
    /// series, which keep their distance from it. Every change is checked before any is
    /// saved, and all are saved (with their messages) in one transaction. The allocation
    /// is fixed once people registered; a lottery time left empty keeps the one set.
    #[tracing::instrument(skip_all, fields(coordinator = self.id.0, event = id.0))]
    pub async fn change_event(
        &self,
        id: EventId,
        mut input: EventInput,
        every_later_date: bool,
    ) -> Result<()> {
        let store = self.store();
        input.repeat = None;
        let current = store.event(id.0).await?;
        input.allocation = Some(current.allocation);
        if input.lottery_at.is_none() {
            input.lottery_at = local_datetime(current.lottery_at, &current.tz());
        }
        let mut changes = vec![(id, input.clone())];
        if every_later_date && let Some(r) = current.recurrence_id {
            let this_day: jiff::civil::Date = current
                .local_date()
                .parse()
                .map_err(|_| anyhow::anyhow!("event {id} has no local date"))?;
            for other in store.later_occurrences(r, current.starts_at).await? {
                let e = store.event(other).await?;
                let day: jiff::civil::Date = e
                    .local_date()
                    .parse()
                    .map_err(|_| anyhow::anyhow!("event {other} has no local date"))?;
                let days = i64::from((day - this_day).get_days());
                changes.push((EventId(other), input.moved_by_days(days)?));
            }
        }
        let mut drafts = Vec::with_capacity(changes.len());
        for (eid, i) in &changes {
            drafts.push((*eid, EventDraft::parse(i)?));
        }
        let list: Vec<(i64, &EventDraft)> = drafts.iter().map(|(id, d)| (id.0, d)).collect();
        Ok(work::change_events(store, self.app().public_url(), &list).await?)
    }

    /// Cancels an event and tells everyone registered.
    #[tracing::instrument(skip_all, fields(coordinator = self.id.0, event = id.0))]
    pub async fn cancel_event(&self, id: EventId) -> Result<()> {
        Ok(work::cancel_event(self.store(), self.app().public_url(), id.0).await?)
    }

    /// Draws a lottery now rather than at its time; the seed is kept with the event.
    #[tracing::instrument(skip_all, fields(coordinator = self.id.0, event = id.0))]
    pub async fn draw_lottery(&self, id: EventId) -> Result<()> {
        let seed = crate::crypto::random_hex(16);
        match work::draw_lottery(self.store(), self.app().public_url(), id.0, &seed).await? {
            Some(_) => {
                tracing::info!(event = id.0, by = self.id.0, "lottery drawn by hand");
                Ok(())
            }
            None => Err(Error::Conflict(Conflict::NotALottery)),
        }
    }

    /// Everyone registered for an event, in arrival order.
    #[tracing::instrument(skip_all, level = "debug", fields(coordinator = self.id.0, event = event_id.0))]
    pub async fn registrations(&self, event_id: EventId) -> Result<(Event, Vec<Registration>)> {
        let e = self.store().event(event_id.0).await?;
        let all = self.store().registrations_for(event_id.0).await?;
        Ok((e, all))
    }

    /// The registrants page: the roster and the policy are read once for every adult.
    #[tracing::instrument(skip_all, level = "debug", fields(coordinator = self.id.0, event = event_id.0))]
    pub async fn registrants(&self, event_id: EventId) -> Result<Registrants> {
        let store = self.store();
        let (event, registrations) = self.registrations(event_id).await?;
        let placed = store.event_volunteers(event_id.0).await?;
        let mut volunteers = Vec::with_capacity(placed.len());
        if !placed.is_empty() {
            let roster = roster(store.clearances().await?);
            let policy = store.clearance_policy().await?;
            for (account, name) in placed {
                let problem = clearance_problem(&event, account, &roster, &policy)?;
                volunteers.push((account, name, problem));
            }
        }
        Ok(Registrants {
            event,
            registrations,
            volunteers,
        })
    }

    /// One registration of an event; a registration of another event is not found, so
    /// that ids given the wrong way round can change nothing.
    #[tracing::instrument(skip_all, level = "debug", fields(coordinator = self.id.0, event = event_id.0, registration = id.0))]
    pub async fn registration(
        &self,
        event_id: EventId,
        id: RegistrationId,
    ) -> Result<Registration> {
        let r = self.store().registration(id.0).await?;
        if r.event_id != event_id.0 {
            return Err(Error::NotFound);
        }
        Ok(r)
    }

    /// Marks someone as arrived (only with a confirmed place; a second time keeps the
    /// first arrival's time), or undoes it. From the event's list, on any day: ticking a
    /// name there is the coordinator's own decision.
    #[tracing::instrument(skip_all, fields(coordinator = self.id.0, event = event_id.0, registration = id.0))]
    pub async fn set_checked_in(
        &self,
        event_id: EventId,
        id: RegistrationId,
        arrived: bool,
    ) -> Result<Registration> {
        self.registration(event_id, id).await?;
        let at = arrived.then(|| self.now());
        Ok(self.store().set_checked_in(id.0, at).await?)
    }

    /// The registration a scanned check-in code stands for, with its event.
    #[tracing::instrument(skip_all, level = "debug", fields(coordinator = self.id.0))]
    pub async fn check_in_code(&self, token: &str) -> Result<(Registration, Event)> {
        let id = self.store().check_in_id(token)?;
        let r = self.store().registration(id).await?;
        let e = self.store().event(r.event_id).await?;
        Ok((r, e))
    }

    /// Checks in the holder of a scanned code: only with a confirmed place, on the event's
    /// day unless the coordinator chooses `any_day`, and once (a second scan answers when
    /// they arrived and changes nothing).
    #[tracing::instrument(skip_all, fields(coordinator = self.id.0))]
    pub async fn check_in_by_code(&self, token: &str, any_day: bool) -> Result<CheckIn> {
        let (r, e) = self.check_in_code(token).await?;
        if let Some(at) = r.checked_in_at {
            return Ok(CheckIn::Already(at));
        }
        if r.status != RegistrationStatus::Confirmed {
            return Err(Error::Conflict(Conflict::CheckInNeedsPlace));
        }
        let now = self.now();
        if !any_day && !e.is_on(now) {
            return Err(Error::Conflict(Conflict::CheckInNotToday));
        }
        // Two scans at once: the first arrival's time stands, and the second is told it.
        let r = self.store().set_checked_in(r.id, Some(now)).await?;
        Ok(match r.checked_in_at {
            Some(at) if at != now => CheckIn::Already(at),
            _ => CheckIn::Now,
        })
    }

    /// Gives someone waiting a place now, even when the event is full.
    #[tracing::instrument(skip_all, fields(coordinator = self.id.0, event = event_id.0, registration = id.0))]
    pub async fn give_place(&self, event_id: EventId, id: RegistrationId) -> Result<()> {
        self.registration(event_id, id).await?;
        let e = self.store().event(event_id.0).await?;
        work::give_place(self.store(), self.app().public_url(), &e, id.0).await?;
        tracing::info!(
            event = event_id.0,
            registration = id.0,
            by = self.id.0,
            "place given by a coordinator"
        );
        Ok(())
    }

    /// Cancels someone's registration; the place goes to the next person waiting.
    #[tracing::instrument(skip_all, fields(coordinator = self.id.0, event = event_id.0, registration = id.0))]
    pub async fn cancel_registration(&self, event_id: EventId, id: RegistrationId) -> Result<()> {
        self.registration(event_id, id).await?;
        let e = self.store().event(event_id.0).await?;
        work::cancel(self.store(), self.app().public_url(), &e, id.0).await?;
        Ok(())
    }

    /// Registers someone who asked by phone or at the door. Children are registered by a
    /// guardian, who gives consent on the event's page.
    #[tracing::instrument(skip_all, fields(coordinator = self.id.0, event = event_id.0))]
    pub async fn register_on_behalf(
        &self,
        event_id: EventId,
        name: &str,
        email: &str,
    ) -> Result<Registered> {
        let e = self.store().event(event_id.0).await?;
        if e.for_minors {
            return Err(Invalid::new(
                "add_email",
                "Children are registered by a guardian, who gives consent on the event's page.",
            )
            .into());
        }
        let mut m = crate::domain::Mistakes::new();
        let name = m.or_default(required_line("add_name", "Their name", name, 120));
        let email = m.check(Email::parse(email).map_err(|e| e.renamed("add_email")));
        let Some(email) = m.finish(email)? else {
            return Err(Invalid::new("add_email", "Give their e-mail address.").into());
        };
        let r = NewRegistration {
            event_id: event_id.0,
            account_id: None,
            name,
            email: email.as_str().to_string(),
            answers: Vec::new(),
            children: Vec::new(),
            consent: None,
        };
        let out = work::register_on_behalf(self.store(), self.app().public_url(), &e, &r).await?;
        tracing::info!(
            event = event_id.0,
            registration = out.id,
            by = self.id.0,
            "registered by a coordinator"
        );
        Ok(out)
    }

    /// The clearance roster with the policy in force.
    #[tracing::instrument(skip_all, level = "debug", fields(coordinator = self.id.0))]
    pub async fn clearances(&self) -> Result<(ClearancePolicy, Vec<Clearance>)> {
        let policy = self.store().clearance_policy().await?;
        Ok((policy, roster(self.store().clearances().await?)))
    }

    #[tracing::instrument(skip_all, fields(coordinator = self.id.0))]
    pub async fn save_clearance_policy(&self, p: &ClearancePolicy) -> Result<()> {
        Ok(self.store().save_clearance_policy(p).await?)
    }

    /// The account of an adult, by address; an unknown address is a mistake on the form.
    async fn adult(&self, email: &str) -> Result<Account> {
        let email = Email::parse(email)?;
        self.store()
            .account_by_email(&email)
            .await
            .map_err(|e| match e {
                StoreError::NotFound => Invalid::new(
                    "email",
                    "No account has that e-mail address; add the person as a member first.",
                )
                .into(),
                e => Error::from(e),
            })
    }

    /// Records an adult's background check and youth-protection training dates.
    #[tracing::instrument(skip_all, fields(coordinator = self.id.0))]
    pub async fn save_clearance(
        &self,
        email: &str,
        background_check_on: &str,
        youth_training_on: &str,
    ) -> Result<()> {
        // The address and the dates are told together when both are wrong.
        let mut m = crate::domain::Mistakes::new();
        let account = match self.adult(email).await {
            Ok(a) => Some(a),
            Err(Error::Invalid(e)) => m.check::<Account>(Err(e)),
            Err(e) => return Err(e),
        };
        let dates = m.check(Clearance::parse(
            background_check_on,
            youth_training_on,
            self.today(),
        ));
        let (Some(account), Some((b, t))) = m.finish((account, dates))? else {
            return Err(Invalid::new("email", "Give their account's e-mail address.").into());
        };
        Ok(self
            .store()
            .save_clearance(account.id.0, &b.to_string(), &t.to_string())
            .await?)
    }

    /// Places an adult on an event; on a students' event only while their clearance
    /// covers its date.
    #[tracing::instrument(skip_all, fields(coordinator = self.id.0, event = event_id.0))]
    pub async fn add_event_volunteer(&self, event_id: EventId, email: &str) -> Result<()> {
        let e = self.store().event(event_id.0).await?;
        let account = self.adult(email).await?;
        let (policy, roster) = self.clearances().await?;
        if let Some(problem) = clearance_problem(&e, account.id.0, &roster, &policy)? {
            return Err(Invalid::new(
                "email",
                format!("{problem} They cannot be placed on an event with school students."),
            )
            .into());
        }
        Ok(self
            .store()
            .add_event_volunteer(event_id.0, account.id.0)
            .await?)
    }

    #[tracing::instrument(skip_all, fields(coordinator = self.id.0, event = event_id.0, account = account.0))]
    pub async fn remove_event_volunteer(
        &self,
        event_id: EventId,
        account: AccountId,
    ) -> Result<()> {
        Ok(self
            .store()
            .remove_event_volunteer(event_id.0, account.0)
            .await?)
    }
}
