//! What needs a coordinator now, on one page: requests waiting for a helper, safety
//! concerns, promises broken or about to be, offers about to lapse, helpers whose training
//! runs out, this week's events and mail that could not be delivered. Each item names no
//! one who asked for support; it links to the page where the coordinator acts.

use crate::app::support::requests::Queued;
use crate::app::{Coordinator, Result};
use crate::domain::events::Event;
use crate::domain::sla::SlaState;
use crate::domain::support::{RequestStatus, Urgency};
use crate::store::{EventFilter, HelperSummary, Offer, OutboxStatus, RequestSummary};

/// How far ahead the home looks for offers that lapse and trainings that run out.
pub const OFFER_HORIZON_SECS: i64 = 24 * 3600;
pub const TRAINING_HORIZON_DAYS: i64 = 30;
const WEEK_SECS: i64 = 7 * 24 * 3600;

pub struct CoordinatorHome {
    /// Safety concerns raised on open requests, first of all.
    pub safety: Vec<RequestSummary>,
    /// Waiting for a helper: urgent first, then oldest.
    pub waiting: Vec<Queued>,
    /// Past the promised first contact, or three quarters of the way there.
    pub late: Vec<Queued>,
    /// Offers that lapse within a day, with the helper's name and when.
    pub lapsing_offers: Vec<(Offer, RequestSummary, String, String)>,
    /// Helpers whose training has run out or runs out within 30 days, with the date.
    pub training: Vec<(HelperSummary, String, bool)>,
    pub applications: usize,
    /// Events starting within a week.
    pub events: Vec<Event>,
    /// Messages that could not be delivered.
    pub failed_mail: i64,
}

impl Coordinator {
    #[tracing::instrument(skip_all, level = "debug", fields(coordinator = self.id.0))]
    pub async fn home(&self) -> Result<CoordinatorHome> {
        let now = self.now();
        let queue = self.queue_with_service_levels().await?;
        let safety = queue
            .iter()
            .filter(|q| q.request.escalated_at.is_some())
            .map(|q| q.request.clone())
            .collect();
        let late: Vec<Queued> = queue
            .iter()
            .filter(|q| matches!(q.service, SlaState::Overdue | SlaState::DueSoon))
            .map(|q| Queued {
                request: q.request.clone(),
                service: q.service,
                due: q.due.clone(),
            })
            .collect();
        let mut waiting: Vec<Queued> = queue
            .into_iter()
            .filter(|q| q.request.status == RequestStatus::Submitted)
            .collect();
        waiting.sort_by_key(|q| (q.request.urgency != Urgency::Urgent, q.request.created_at));

        let (hours, _) = self.public().business_hours().await?;
        let helpers = self.helpers().await?;
        let name_of = |id: i64| {
            helpers
                .iter()
                .find(|h| h.account == id)
                .map_or_else(|| "a helper".to_string(), |h| h.name.clone())
        };
        let lapsing_offers = self
            .store()
            .lapsing_offers(now + OFFER_HORIZON_SECS)
            .await?
            .into_iter()
            .map(|(o, r)| {
                let who = name_of(o.helper_id);
                let when = hours.local_text(o.respond_by);
                (o, r, who, when)
            })
            .collect();
        let horizon = now + TRAINING_HORIZON_DAYS * 24 * 3600;
        let training = helpers
            .iter()
            .filter_map(|h| {
                let until = h.trained_until?;
                (until <= horizon).then(|| {
                    let day = hours.local_text(until);
                    (h.clone(), day, until <= now)
                })
            })
            .collect();
        let events = self
            .public()
            .events(&EventFilter {
                from: now,
                until: Some(now + WEEK_SECS),
                ..EventFilter::default()
            })
            .await?;
        let failed_mail = self
            .store()
            .outbox_counts()
            .await?
            .into_iter()
            .find(|(s, _)| *s == OutboxStatus::Failed)
            .map_or(0, |(_, n)| n);
        Ok(CoordinatorHome {
            safety,
            waiting,
            late,
            lapsing_offers,
            training,
            applications: self.pending_applications().await?.len(),
            events,
            failed_mail,
        })
    }
}
