//! Offers and cases. Coordinators offer a waiting request to a helper (or let the
//! programme pass it to the next suitable one); a helper accepts or declines, then works
//! the case: contacts, a safety concern, closing with the resource list. Every `Helper`
//! method acts on the helper's own offers and cases only: another helper's is not found.

use crate::app::support::{
    MatchingInputs, Opener, QueuePlan, matching_inputs, offer_next, offer_to, plan_queue,
    raise_safety_concern, requests::business_hours,
};
use crate::app::{Coordinator, Error, Helper, Result};
use crate::delivery::Writer;
use crate::domain::Invalid;
use crate::domain::accounts::AccountId;
use crate::domain::cases::{ContactInput, ContactWhen, Outcome, Resource, parse_contact};
use crate::domain::conflict::Conflict;
use crate::domain::ids::{OfferId, RequestId};
use crate::domain::mail::MessageKind;
use crate::domain::matching::{self, Candidate};
use crate::domain::sla::BusinessHours;
use crate::domain::support::Identity;
use crate::store::{Contact, Offer, RequestSummary};

/// Everything a helper's case page shows.
pub struct CaseFile {
    pub request: RequestSummary,
    /// Who asked and what they wrote: only while the case is open.
    pub identity: Option<Identity>,
    pub message: Option<String>,
    pub contacts: Vec<Contact>,
    /// Every resource, archived ones too, so that old referrals keep their names.
    pub resources: Vec<Resource>,
    pub hours: BusinessHours,
}

impl Helper {
    /// Offers waiting for this helper's answer, each with its request (naming no one).
    #[tracing::instrument(skip_all, level = "debug", fields(helper = self.id.0))]
    pub async fn offers(&self) -> Result<Vec<(Offer, RequestSummary)>> {
        Ok(self.store().pending_offers(self.id).await?)
    }

    /// This helper's cases, open and closed.
    #[tracing::instrument(skip_all, level = "debug", fields(helper = self.id.0))]
    pub async fn cases(&self) -> Result<Vec<RequestSummary>> {
        Ok(self.store().helper_cases(self.id).await?)
    }

    /// Accepts an offer made to this helper; the requester is told by e-mail, in the same
    /// transaction, that someone will be in touch.
    #[tracing::instrument(skip_all, fields(helper = self.id.0, offer))]
    pub async fn accept_offer(&self, offer: OfferId) -> Result<Offer> {
        let writer = Writer::load(
            self.store(),
            self.app().public_url(),
            MessageKind::RequesterUpdate,
        )
        .await?;
        let status_link = writer.url("/support/status");
        let tell = |who: &Identity| {
            writer.to(
                &who.email,
                &[("link", &status_link)],
                format!("requester_update:accepted:{offer}"),
            )
        };
        Ok(self
            .store()
            .answer_offer(offer.0, self.id, true, Some(&tell))
            .await?)
    }

    /// Declines an offer; the request passes to its next candidate.
    #[tracing::instrument(skip_all, fields(helper = self.id.0, offer))]
    pub async fn decline_offer(&self, offer: OfferId) -> Result<Offer> {
        let o = self
            .store()
            .answer_offer(offer.0, self.id, false, None)
            .await?;
        offer_next(self.store(), self.app().public_url(), o.request_id).await?;
        Ok(o)
    }

    /// One of this helper's cases, with who asked while it is open.
    #[tracing::instrument(skip_all, level = "debug", fields(helper = self.id.0, request = id.0))]
    pub async fn case(&self, id: RequestId) -> Result<CaseFile> {
        let store = self.store();
        let request = store.case_of(id.0, self.id).await?;
        let (hours, _) = business_hours(store).await?;
        let (identity, message) = if request.status.is_open() {
            store.case_identity(id.0, self.id).await?
        } else {
            (None, None)
        };
        Ok(CaseFile {
            contacts: store.list_contacts(id.0).await?,
            resources: store.list_resources(true).await?,
            request,
            identity,
            message,
            hours,
        })
    }

    /// Logs a contact on this helper's case; a mistake names its field.
    #[tracing::instrument(skip_all, fields(helper = self.id.0, request = id.0))]
    pub async fn log_contact(&self, id: RequestId, input: &ContactInput) -> Result<()> {
        let store = self.store();
        let known = store.active_resource_keys().await?;
        let request = store.case_of(id.0, self.id).await?;
        let (hours, _) = business_hours(store).await?;
        let when = ContactWhen {
            date: input.date,
            time: input.time,
            zone: hours.time_zone(),
            requested_at: request.created_at,
            now: self.now(),
        };
        let c = parse_contact(when, input, &known)?;
        store.log_contact(id.0, self.id, &c).await?;
        Ok(())
    }

    /// Raises a safety concern on this helper's case: every coordinator is alerted at once
    /// and the case heads the queue. Raising it again sends nothing more.
    #[tracing::instrument(skip_all, fields(helper = self.id.0, request = id.0))]
    pub async fn raise_safety_concern(&self, id: RequestId) -> Result<bool> {
        Ok(raise_safety_concern(self.store(), self.app().public_url(), id.0, self.id).await?)
    }

    /// Closes this helper's case; the requester receives the resource list.
    #[tracing::instrument(skip_all, fields(helper = self.id.0, request = id.0))]
    pub async fn close_case(&self, id: RequestId, outcome: Outcome) -> Result<()> {
        let store = self.store();
        let writer =
            Writer::load(store, self.app().public_url(), MessageKind::ResourceList).await?;
        let list: String = store
            .list_resources(false)
            .await?
            .iter()
            .map(|r| format!("- {}: {} ({})\n", r.name, r.how_to_reach, r.hours))
            .collect();
        let farewell = |who: &Identity| {
            writer.to(
                &who.email,
                &[("resources", &list)],
                format!("resource_list:{id}"),
            )
        };
        store
            .close_case(id.0, self.id, outcome, Some(&farewell))
            .await?;
        Ok(())
    }
}

impl Coordinator {
    /// Whether requests are matched without coordinators seeing them: the programme's
    /// setting, or the setting in force when this request was filed.
    async fn blind_for(&self, request_id: i64) -> Result<bool> {
        Ok(self.store().coordinator_blind().await? || self.store().filed_blind(request_id).await?)
    }

    /// What matching sees for one request (the look is audited before anything opens).
    #[tracing::instrument(skip_all, fields(coordinator = self.id.0, request = request_id))]
    pub async fn matching_inputs(&self, request_id: i64) -> Result<MatchingInputs> {
        Ok(matching_inputs(self.store(), request_id, Opener::Coordinator(self.id)).await?)
    }

    /// The best helpers for a waiting request, with their reasons. Refused when the
    /// programme works coordinator-blind.
    #[tracing::instrument(skip_all, level = "debug", fields(coordinator = self.id.0, request = request_id.0))]
    pub async fn shortlist(&self, request_id: RequestId, n: usize) -> Result<Vec<Candidate>> {
        if self.blind_for(request_id.0).await? {
            return Err(Error::Conflict(Conflict::NoShortlist));
        }
        let m = self.matching_inputs(request_id.0).await?;
        Ok(matching::shortlist(
            &m.helpers,
            &m.request,
            &m.weights,
            m.policy,
            self.now(),
            n,
        ))
    }

    /// Offers a request to a chosen helper. The shortlist is only advice, but the hard
    /// constraints are not: a helper who may not take it is refused with the reason. A
    /// coordinator-blind programme takes no hand-picked offers at all: even one sentence
    /// for every refusal would let a coordinator who tries helper after helper work out
    /// whom the person excluded.
    #[tracing::instrument(skip_all, fields(coordinator = self.id.0, request = request_id.0, helper))]
    pub async fn offer(&self, request_id: RequestId, helper: AccountId) -> Result<Offer> {
        if self.blind_for(request_id.0).await? {
            return Err(Error::Conflict(Conflict::BlindRefusal));
        }
        let m = self.matching_inputs(request_id.0).await?;
        let h = m
            .helpers
            .iter()
            .find(|h| h.id == helper.0)
            .ok_or_else(|| Invalid::new("helper", "This person is not an active helper."))?;
        if let Err(why) = matching::check(h, &m.request, m.policy, self.now()) {
            return Err(Invalid::new(
                "helper",
                format!("This helper cannot take this request: {}.", why.label()),
            )
            .into());
        }
        Ok(offer_to(
            self.store(),
            self.app().public_url(),
            request_id.0,
            AccountId(helper.0),
            Some(self.id),
        )
        .await?)
    }

    /// Passes a waiting request to its next suitable helper, chosen by the programme:
    /// what a coordinator-blind programme offers instead of a choice.
    #[tracing::instrument(skip_all, fields(coordinator = self.id.0, request = request_id.0))]
    pub async fn offer_next(&self, request_id: RequestId) -> Result<()> {
        if offer_next(self.store(), self.app().public_url(), request_id.0).await? {
            Ok(())
        } else {
            Err(Error::Conflict(Conflict::NobodyFree))
        }
    }

    /// Takes a request back from a helper who accepted but has not made contact, and
    /// passes it to the next candidate.
    #[tracing::instrument(skip_all, fields(coordinator = self.id.0, request = request_id.0))]
    pub async fn take_back(&self, request_id: RequestId) -> Result<()> {
        self.store().take_back(request_id.0).await?;
        offer_next(self.store(), self.app().public_url(), request_id.0).await?;
        Ok(())
    }

    /// The waiting queue scored against every helper (each request's look is audited).
    #[tracing::instrument(skip_all, fields(coordinator = self.id.0))]
    pub async fn queue_plan(&self) -> Result<QueuePlan> {
        Ok(plan_queue(self.store(), Opener::Coordinator(self.id)).await?)
    }

    /// Offers every pair of the optimal plan; a request someone else offered meanwhile is
    /// left as it is.
    #[tracing::instrument(skip_all, fields(coordinator = self.id.0))]
    pub async fn offer_plan(&self) -> Result<()> {
        let plan = self.queue_plan().await?;
        for (i, h) in plan.optimal.helper_of.iter().enumerate() {
            if let Some(h) = h {
                let (request, helper) = (plan.queue[i].id, plan.helpers[*h].id);
                match offer_to(
                    self.store(),
                    self.app().public_url(),
                    request,
                    AccountId(helper),
                    Some(self.id),
                )
                .await
                {
                    Ok(_) | Err(crate::store::StoreError::Conflict(_)) => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
        Ok(())
    }
}
