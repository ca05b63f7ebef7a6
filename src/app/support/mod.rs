//! Actions on support requests that both the web layer and the timed jobs take: gathering
//! what matching needs, offering a request to a helper (with the helper's e-mail in the
//! same transaction), and passing a request to its next candidate.

pub mod cases;
pub mod helpers;
pub mod requests;
pub mod resources;
pub mod settings;

use crate::delivery::Writer;
use crate::domain::accounts::AccountId;
use crate::domain::format_time;
use crate::domain::mail::MessageKind;
use crate::domain::matching::{self, Policy, Weights};
use crate::store::{Offer, Store, StoreError, StoreResult};

/// What matching needs for one request: the helpers, the request (its sealed
/// preferences opened in memory), and the programme's weights and policy.
pub struct MatchingInputs {
    pub helpers: Vec<matching::Helper>,
    pub request: matching::Request,
    pub weights: Weights,
    pub policy: Policy,
}

/// Who is opening a request's sealed preferences for matching. A coordinator's look is
/// written to the audit log before anything is opened; the programme's own matching and
/// the person choosing their helper are not views by anyone else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opener {
    Automatic,
    Requester,
    Coordinator(AccountId),
}

async fn record_opening(store: &Store, opener: Opener, request_id: i64) -> StoreResult<()> {
    if let Opener::Coordinator(c) = opener {
        store
            .audit(
                Some(c),
                "coordinator_matching_view",
                &format!("support_request:{request_id}"),
            )
            .await?;
    }
    Ok(())
}

#[tracing::instrument(skip_all, fields(request = request_id))]
pub async fn matching_inputs(
    store: &Store,
    request_id: i64,
    opener: Opener,
) -> StoreResult<MatchingInputs> {
    record_opening(store, opener, request_id).await?;
    let helpers = store.helpers_for_matching().await?;
    let ids: Vec<i64> = helpers.iter().map(|h| h.account).collect();
    let request = store.request_for_matching(request_id, &ids).await?;
    let (weights, policy) = store.matching_rules().await?;
    Ok(MatchingInputs {
        helpers,
        request,
        weights,
        policy,
    })
}

/// The alert every active coordinator gets when peer support needs them (an urgent request,
/// a missed first contact, a safety concern), loaded once and written without I/O so that
/// the messages join the transaction of their cause. Subjects say why, never who.
pub struct CoordinatorAlerts {
    writer: Writer,
    coordinators: Vec<crate::domain::accounts::Account>,
}

impl CoordinatorAlerts {
    #[tracing::instrument(skip_all, level = "debug")]
    pub async fn load(store: &Store, public_url: &url::Url) -> StoreResult<Self> {
        let writer = Writer::load(store, public_url, MessageKind::CoordinatorAlert).await?;
        let coordinators = store
            .list_accounts()
            .await?
            .into_iter()
            .filter(|a| a.active && a.has(crate::domain::accounts::Role::Coordinator))
            .collect();
        Ok(Self {
            writer,
            coordinators,
        })
    }

    /// One message per coordinator; `cause` (plus the coordinator's id) is the dedupe key.
    pub fn messages(&self, reason: &str, path: &str, cause: &str) -> Vec<crate::store::NewMessage> {
        let link = self.writer.url(path);
        self.coordinators
            .iter()
            .map(|c| {
                self.writer.to(
                    c.email.as_str(),
                    &[("reason", reason), ("link", &link)],
                    format!("{cause}:{}", c.id.0),
                )
            })
            .collect()
    }
}

/// A helper raises a safety concern on their case: every coordinator is alerted at once
/// (in the transaction that records it), and the case heads the queue. Raising it again
/// sends nothing more. Returns whether this call raised it.
#[tracing::instrument(skip_all, fields(helper = helper.0, request = request_id))]
pub async fn raise_safety_concern(
    store: &Store,
    public_url: &url::Url,
    request_id: i64,
    helper: AccountId,
) -> StoreResult<bool> {
    let alerts = CoordinatorAlerts::load(store, public_url).await?.messages(
        "URGENT, a safety concern on a case",
        &format!("/support/queue/{request_id}"),
        &format!("safety:{request_id}"),
    );
    store.escalate_case(request_id, helper, &alerts).await
}

/// Offers a request to a helper and tells them by e-mail (in the same transaction). The
/// e-mail says only that a colleague asked and where to answer.
#[tracing::instrument(skip_all, fields(helper = helper.0, request = request_id))]
pub async fn offer_to(
    store: &Store,
    public_url: &url::Url,
    request_id: i64,
    helper: AccountId,
    by: Option<AccountId>,
) -> StoreResult<Offer> {
    let account = store.account(helper).await?;
    // The more urgent the request, the sooner an unanswered offer passes to the next
    // helper. The window is counted in business hours: at night an urgent request would
    // otherwise run through every helper and find nobody left by morning.
    let urgency = store.support_request(request_id).await?.urgency;
    let sla = store.service_level_settings().await?;
    let window = i64::from(sla.offer_hours(urgency)) * 3600;
    let (respond_by, zone) = match crate::domain::sla::BusinessHours::parse(&sla) {
        Ok(hours) => (hours.add(store.now(), window), hours.time_zone().clone()),
        Err(_) => (store.now() + window, jiff::tz::TimeZone::UTC),
    };
    let writer = Writer::load(store, public_url, MessageKind::HelperOffer).await?;
    let mail = writer.to(
        account.email.as_str(),
        &[
            ("name", &account.display_name),
            ("link", &writer.url("/helper/cases")),
            ("respond_by", &format_time(respond_by, &zone)),
        ],
        format!("helper_offer:{request_id}:{}:{}", helper.0, store.now()),
    );
    store
        .offer_request(request_id, helper, by, respond_by, Some(&mail))
        .await
}

/// Offers a request to its best helper who has not already declined it or let an offer
/// expire. Returns whether someone was found; if not, the request waits in the queue.
#[tracing::instrument(skip_all, fields(request = request_id))]
pub async fn offer_next(
    store: &Store,
    public_url: &url::Url,
    request_id: i64,
) -> StoreResult<bool> {
    let passed = store.helpers_passed(request_id).await?;
    let mut m = matching_inputs(store, request_id, Opener::Automatic).await?;
    m.helpers.retain(|h| !passed.contains(&h.id));
    let best = matching::shortlist(&m.helpers, &m.request, &m.weights, m.policy, store.now(), 1);
    match best.first() {
        Some(c) => match offer_to(store, public_url, request_id, AccountId(c.helper), None).await {
            Ok(_) => Ok(true),
            // The request changed meanwhile (withdrawn, or offered by a coordinator): there
            // is nothing to pass on, and the other requests of a job run still are.
            Err(StoreError::Conflict(why)) => {
                tracing::info!(request = request_id, refusal = ?why, "not passed on");
                Ok(false)
            }
            Err(e) => Err(e),
        },
        None => Ok(false),
    }
}

/// The waiting queue scored against every helper: what "plan for the queue" shows and
/// "offer every request as planned" acts on.
pub struct QueuePlan {
    /// Requests waiting for a helper, oldest first.
    pub queue: Vec<crate::store::RequestSummary>,
    pub helpers: Vec<matching::Helper>,
    /// `scores[r][h]`: None where a hard constraint rules the helper out.
    pub scores: Vec<Vec<Option<i64>>>,
    pub optimal: matching::Assignment,
}

#[tracing::instrument(skip_all)]
pub async fn plan_queue(store: &Store, opener: Opener) -> StoreResult<QueuePlan> {
    let queue: Vec<crate::store::RequestSummary> = store
        .support_queue()
        .await?
        .into_iter()
        .filter(|r| r.status == crate::domain::support::RequestStatus::Submitted)
        .collect();
    let helpers = store.helpers_for_matching().await?;
    let ids: Vec<i64> = helpers.iter().map(|h| h.account).collect();
    let requests: Vec<i64> = queue.iter().map(|r| r.id).collect();
    // Every look is audited, all in one transaction, before anything is opened.
    if let Opener::Coordinator(c) = opener {
        let subjects: Vec<String> = requests
            .iter()
            .map(|id| format!("support_request:{id}"))
            .collect();
        store
            .audit_each(Some(c), "coordinator_matching_view", &subjects)
            .await?;
    }
    let wanted = store.requests_for_matching(&requests, &ids).await?;
    let (weights, policy) = store.matching_rules().await?;
    let scores = matching::score_matrix(&helpers, &wanted, &weights, policy, store.now());
    let optimal = matching::assign(&helpers, &scores);
    Ok(QueuePlan {
        queue,
        helpers,
        scores,
        optimal,
    })
}
