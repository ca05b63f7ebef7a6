//! Asking for support: filing a request (yourself, or referring a colleague), and
//! following it with its receipt code. The code is the requester's only authority, so a
//! [`Requester`] handle exists only once a code has been checked under the throttle.

use crate::app::support::{CoordinatorAlerts, Opener, matching_inputs, offer_next, offer_to};
use crate::app::{Coordinator, Member, Public, Result};
use crate::domain::accounts::AccountId;
use crate::domain::ids::RequestId;
use crate::domain::sla::{BusinessHours, ServiceLevelSettings, SlaState};
use crate::domain::support::{
    NewRequest, PromiseSettings, ReferralInput, RequestInput, RequestStatus, Urgency,
    normalise_receipt_code,
};
use crate::domain::{Invalid, throttle};
use crate::store::{PublicHelper, RequestSummary, Store};

/// A request just filed: the receipt code is shown once and stored nowhere readable.
pub struct Filed {
    pub summary: RequestSummary,
    pub receipt_code: String,
    /// An urgent request filed outside business hours: when people are next at work.
    pub after_hours: Option<String>,
}

/// Someone holding the receipt code of a request.
pub struct Requester {
    public: Public,
    code: String,
    request: RequestSummary,
}

/// The business hours and service levels in force; settings that no longer parse (they
/// were checked when saved, so only a damaged row) give the defaults, with a warning.
pub(crate) async fn business_hours(store: &Store) -> Result<(BusinessHours, ServiceLevelSettings)> {
    let s = store.service_level_settings().await?;
    match BusinessHours::parse(&s) {
        Ok(h) => Ok((h, s)),
        Err(e) => {
            tracing::warn!(error = %e, "the saved business hours do not parse; using the defaults");
            let d = ServiceLevelSettings::default();
            let h = BusinessHours::parse(&d)
                .map_err(|e| anyhow::anyhow!("the default business hours do not parse: {e}"))?;
            Ok((h, d))
        }
    }
}

/// The programme's time zone (set with its business hours).
pub(crate) async fn programme_zone(store: &Store) -> Result<jiff::tz::TimeZone> {
    Ok(business_hours(store).await?.0.time_zone().clone())
}

/// A self-request's fields, then that a helper named or to avoid is one of those listed
/// publicly (nobody may learn, by trying ids, who else is a helper).
fn checked_request(input: &RequestInput, public_helpers: &[PublicHelper]) -> Result<NewRequest> {
    let r = NewRequest::parse(input)?;
    let listed = |h: &i64| public_helpers.iter().any(|p| p.account == *h);
    if let Some(h) = r.preferences.named_helper
        && !listed(&h)
    {
        return Err(crate::domain::support::not_a_listed_helper().into());
    }
    if !r.preferences.avoid_helpers.iter().all(listed) {
        return Err(crate::domain::support::not_listed_helpers_to_avoid().into());
    }
    Ok(r)
}

impl Public {
    /// Whether the programme asks people to sign in before asking for support.
    #[tracing::instrument(skip_all, level = "debug")]
    pub async fn support_requires_sign_in(&self) -> Result<bool> {
        Ok(self.store().support_requires_sign_in().await?)
    }

    /// Whether people choose their helper among the best public matches.
    #[tracing::instrument(skip_all, level = "debug")]
    pub async fn requester_chooses(&self) -> Result<bool> {
        Ok(self.store().support_requester_chooses().await?)
    }

    /// The helpers who chose to be listed publicly.
    #[tracing::instrument(skip_all, level = "debug")]
    pub async fn public_helpers(&self) -> Result<Vec<PublicHelper>> {
        Ok(self.store().public_helpers().await?)
    }

    #[tracing::instrument(skip_all, level = "debug")]
    pub async fn business_hours(&self) -> Result<(BusinessHours, ServiceLevelSettings)> {
        business_hours(self.store()).await
    }

    /// The programme's time zone, in which people read every time that is not an
    /// event's.
    #[tracing::instrument(skip_all, level = "debug")]
    pub async fn programme_zone(&self) -> Result<jiff::tz::TimeZone> {
        programme_zone(self.store()).await
    }

    /// What the request form promises, from the settings in force now.
    #[tracing::instrument(skip_all, level = "debug")]
    pub async fn support_promises(&self) -> Result<Vec<String>> {
        let (_, sla) = business_hours(self.store()).await?;
        Ok(crate::domain::support::promises(&PromiseSettings {
            coordinator_blind: self.store().coordinator_blind().await?,
            retention_days: self.app().settings.retention_days,
            first_contact_hours: [
                sla.promise_hours(Urgency::Urgent),
                sla.promise_hours(Urgency::Soon),
                sla.promise_hours(Urgency::Routine),
            ],
        }))
    }

    /// Files a self-request, from the form or the API alike. `owner` is the signed-in
    /// person, if any (the request then also appears among their own); without one, a
    /// programme that asks for sign-in refuses.
    #[tracing::instrument(skip_all)]
    pub async fn ask_for_support(
        &self,
        input: &RequestInput,
        owner: Option<&Member>,
    ) -> Result<Filed> {
        if owner.is_none() && self.store().support_requires_sign_in().await? {
            return Err(crate::app::Error::SignInRequired);
        }
        let public_helpers = self.store().public_helpers().await?;
        let request = checked_request(input, &public_helpers)?;
        let (summary, receipt_code) = self.file(&request, owner.map(|m| m.id)).await?;
        // Urgent, at night or at a weekend: say plainly when a person will first see it.
        let (hours, _) = business_hours(self.store()).await?;
        let t = self.now();
        let after_hours = (request.urgency == Urgency::Urgent && !hours.is_open(t))
            .then(|| hours.local_text(hours.next_open(t)));
        Ok(Filed {
            summary,
            receipt_code,
            after_hours,
        })
    }

    /// Files a request with the urgent alert in its transaction and, when coordinators
    /// are blind, offers it at once so that only the helper who accepts sees who asked.
    async fn file(
        &self,
        request: &NewRequest,
        owner: Option<AccountId>,
    ) -> Result<(RequestSummary, String)> {
        let store = self.store();
        let alerts = if request.urgency == Urgency::Urgent {
            CoordinatorAlerts::load(store, self.app().public_url())
                .await?
                // Each urgent request is its own cause: a fixed key would let the outbox
                // take every later alert for a repeat of the first.
                .messages(
                    "an urgent request arrived",
                    "/support/queue",
                    &format!("urgent:{}", crate::crypto::random_hex(8)),
                )
        } else {
            Vec::new()
        };
        let (r, code) = store
            .create_support_request(request, owner, &alerts)
            .await?;
        // With no helper free, it waits in the queue.
        if store.coordinator_blind().await? && !store.support_requester_chooses().await? {
            offer_next(store, self.app().public_url(), r.id).await?;
        }
        Ok((r, code))
    }

    /// The request a receipt code belongs to, looked up under the per-address throttle: a
    /// wrong code counts as a failed attempt, so codes cannot be guessed by trying many.
    /// Every kind of wrong code gets the same answer.
    #[tracing::instrument(skip_all, level = "debug")]
    pub async fn requester(&self, typed: &str, address: &str) -> Result<Requester> {
        let store = self.store();
        let t = self.now();
        let key = throttle::receipt_key(address);
        let locked = store.throttle_locked_until(&key).await?;
        if locked > t {
            return Err(crate::app::Error::Throttled {
                minutes: throttle::minutes_left(locked, t),
            });
        }
        let found = match normalise_receipt_code(typed) {
            Some(code) => match store.support_request_by_receipt(&code).await {
                Ok(r) => Some((code, r)),
                Err(crate::store::StoreError::NotFound) => None,
                Err(e) => return Err(e.into()),
            },
            None => None,
        };
        match found {
            Some((code, request)) => Ok(Requester {
                public: self.clone(),
                code,
                request,
            }),
            None => {
                let policy = throttle::PER_ADDRESS;
                let n = store
                    .throttle_record_failure(&key, policy.window_start(t), t)
                    .await?;
                if let Some(until) = policy.lock_after(n, t) {
                    store.throttle_lock(&key, until).await?;
                }
                Err(Invalid::new(
                    "receipt_code",
                    "No request matches this code. Check it against what you noted (16 letters and digits, in four groups).",
                )
                .into())
            }
        }
    }
}

impl Member {
    /// Refers a colleague for proactive outreach. The referrer learns only that it was
    /// received: not who takes it, nor whether the colleague accepts.
    // No account in the span: who refers or asks is never written to the log.
    #[tracing::instrument(skip_all)]
    pub async fn refer(&self, input: &ReferralInput) -> Result<()> {
        let r =
            NewRequest::parse_referral(input, &format!("{} <{}>", self.display_name, self.email))?;
        self.public().file(&r, None).await?;
        Ok(())
    }

    /// The requests this person filed while signed in, newest first.
    #[tracing::instrument(skip_all, level = "debug")]
    pub async fn my_support_requests(&self) -> Result<Vec<RequestSummary>> {
        Ok(self.store().my_support_requests(self.id).await?)
    }

    /// Withdraws one of this person's own requests, as its receipt code would: any open
    /// offer is cancelled and the message erased. Someone else's request is not found.
    #[tracing::instrument(skip_all)]
    pub async fn withdraw_my_request(&self, id: RequestId) -> Result<RequestSummary> {
        Ok(self
            .store()
            .withdraw_own_support_request(self.id, id.0)
            .await?)
    }
}

impl Requester {
    pub fn receipt_code(&self) -> &str {
        &self.code
    }

    pub fn request(&self) -> &RequestSummary {
        &self.request
    }

    pub fn into_parts(self) -> (String, RequestSummary) {
        (self.code, self.request)
    }

    /// The helpers this person may choose from while the request waits: the best three of
    /// the shortlist among those listed publicly. Empty unless the programme lets people
    /// choose.
    #[tracing::instrument(skip_all, level = "debug")]
    pub async fn choices(&self) -> Result<Vec<PublicHelper>> {
        let store = self.public.store();
        if self.request.status != RequestStatus::Submitted
            || !store.support_requester_chooses().await?
        {
            return Ok(Vec::new());
        }
        let public = store.public_helpers().await?;
        let mut m = matching_inputs(store, self.request.id, Opener::Requester).await?;
        m.helpers
            .retain(|h| public.iter().any(|p| p.account == h.id));
        let list = crate::domain::matching::shortlist(
            &m.helpers,
            &m.request,
            &m.weights,
            m.policy,
            store.now(),
            3,
        );
        Ok(list
            .iter()
            .filter_map(|c| public.iter().find(|p| p.account == c.helper).cloned())
            .collect())
    }

    /// Offers the request to one of the helpers in [`Requester::choices`].
    #[tracing::instrument(skip_all, fields(helper = helper.0))]
    pub async fn choose(self, helper: AccountId) -> Result<Requester> {
        if !self.choices().await?.iter().any(|c| c.account == helper.0) {
            return Err(Invalid::new("helper", "Choose one of the helpers shown.").into());
        }
        let store = self.public.store();
        offer_to(
            store,
            self.public.app().public_url(),
            self.request.id,
            helper,
            None,
        )
        .await?;
        let request = store.support_request_by_receipt(&self.code).await?;
        Ok(Requester { request, ..self })
    }

    /// Withdraws the request; its free text is erased at once.
    #[tracing::instrument(skip_all)]
    pub async fn withdraw(self) -> Result<Requester> {
        let request = self
            .public
            .store()
            .withdraw_support_request(&self.code)
            .await?;
        Ok(Requester { request, ..self })
    }

    /// Feedback after the request closed: how helpful (1 to 5) and whether they would
    /// recommend it. Kept apart from the request, in counts.
    #[tracing::instrument(skip_all)]
    pub async fn give_feedback(&self, helpful: u8, recommend: bool) -> Result<()> {
        Ok(self
            .public
            .store()
            .give_feedback(&self.code, helpful, recommend)
            .await?)
    }
}

/// An open request with where it stands against the programme's promise of a first
/// contact, and when that falls due (in the programme's zone).
pub struct Queued {
    pub request: RequestSummary,
    pub service: SlaState,
    pub due: String,
}

impl Coordinator {
    /// Open requests, oldest first, naming no one.
    #[tracing::instrument(skip_all, level = "debug", fields(coordinator = self.id.0))]
    pub async fn support_queue(&self) -> Result<Vec<RequestSummary>> {
        Ok(self.store().support_queue().await?)
    }

    /// The open requests, each with its service level now: the queue and the
    /// coordinators' home read the same promise the same way.
    #[tracing::instrument(skip_all, level = "debug", fields(coordinator = self.id.0))]
    pub async fn queue_with_service_levels(&self) -> Result<Vec<Queued>> {
        let (hours, settings) = business_hours(self.store()).await?;
        let now = self.now();
        Ok(self
            .store()
            .support_queue()
            .await?
            .into_iter()
            .map(|request| {
                let promise = settings.promise_hours(request.urgency);
                let service = crate::domain::sla::state(
                    &hours,
                    promise,
                    request.created_at,
                    request.first_contact_at,
                    now,
                );
                let due =
                    hours.local_text(hours.add(request.created_at, i64::from(promise) * 3600));
                Queued {
                    request,
                    service,
                    due,
                }
            })
            .collect())
    }

    #[tracing::instrument(skip_all, level = "debug", fields(coordinator = self.id.0))]
    pub async fn feedback_summary(&self) -> Result<crate::store::FeedbackSummary> {
        Ok(self.store().feedback_summary().await?)
    }
}
