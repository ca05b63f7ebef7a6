//! Peer support as the people who ask meet it: the request form, the receipt code, the
//! status page (the code travels in the form body, never in a URL), withdrawal, and a
//! member's own requests; and the coordinators' queue, which names no one.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;

use super::AppState;
use super::auth::{ClientAddr, Coordinator, MaybeSignedIn, SignedIn};
use super::error::{AppError, PageResult};
use super::layout::{Ctx, Layout, field_error, render, render_status};
use crate::domain::matching::{Policy, Weights};
use crate::domain::sla::{self, BusinessHours, ServiceLevelSettings, SlaState};
use crate::domain::support::{
    Appointment, ContactMode, NewRequest, ReferralInput, ReferralReason, RequestInput, Topic,
    Urgency, normalise_receipt_code,
};
use crate::domain::{Invalid, now, throttle};
use crate::store::{RequestSummary, Store};

#[derive(Template)]
#[template(path = "support_request.html")]
struct RequestView {
    l: Layout,
    input: RequestInput,
    /// Helpers who chose to be listed publicly, to be asked for by name.
    public_helpers: Vec<crate::store::PublicHelper>,
    error: Option<Invalid>,
    /// What the programme promises, from the settings in force.
    promises: Vec<String>,
}

impl RequestView {
    fn err(&self, field: &str) -> Option<&str> {
        field_error(&self.error, field)
    }
    fn has_topic(&self, t: &Topic) -> bool {
        self.input.topics.iter().any(|x| x == t.key())
    }
    fn topics(&self) -> &'static [Topic] {
        Topic::ALL
    }
    fn urgencies(&self) -> &'static [Urgency] {
        Urgency::ALL
    }
    fn modes(&self) -> &'static [ContactMode] {
        ContactMode::ALL
    }
    fn appointments(&self) -> &'static [Appointment] {
        Appointment::ALL
    }
    fn is_named(&self, id: &i64) -> bool {
        self.input.named_helper == Some(*id)
    }
    fn is_avoided(&self, id: &i64) -> bool {
        self.input.avoid_helpers.contains(id)
    }
}

pub async fn request_form(State(state): State<AppState>, ctx: Ctx) -> PageResult {
    if ctx.account.is_none() && state.store.support_requires_sign_in().await? {
        return Err(AppError::Unauthorized);
    }
    let input = RequestInput {
        urgency: "routine".into(),
        contact_mode: "email".into(),
        email: ctx
            .account
            .as_ref()
            .map(|a| a.email.as_str().to_string())
            .unwrap_or_default(),
        name: ctx
            .account
            .as_ref()
            .map(|a| a.display_name.clone())
            .unwrap_or_default(),
        ..Default::default()
    };
    render(&RequestView {
        l: ctx.layout("Ask for peer support"),
        input,
        public_helpers: state.store.public_helpers().await?,
        error: None,
        promises: promises(&state).await?,
    })
}

/// A form's fields (topics repeat) as the API's input.
fn input_from_pairs(pairs: &[(String, String)]) -> RequestInput {
    let one = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    RequestInput {
        topics: pairs
            .iter()
            .filter(|(k, _)| k == "topics")
            .map(|(_, v)| v.clone())
            .collect(),
        urgency: one("urgency"),
        contact_mode: one("contact_mode"),
        name: one("name"),
        email: one("email"),
        phone: one("phone"),
        department: one("department"),
        contact_times: one("contact_times"),
        avoid: one("avoid"),
        appointment: one("appointment"),
        rank: one("rank"),
        gender: one("gender"),
        race_ethnicity: one("race_ethnicity"),
        language: one("language"),
        outside_department: one("outside_department") == "1",
        named_helper: one("named_helper").parse().ok(),
        avoid_helpers: pairs
            .iter()
            .filter(|(k, _)| k == "avoid_helpers")
            .filter_map(|(_, v)| v.parse().ok())
            .collect(),
        message: one("message"),
    }
}

/// A self-request checked as the form and the API both take it: its fields, then that a
/// helper named or to avoid is one of those listed publicly (nobody may learn, by trying
/// ids, who else is a helper).
pub fn checked_request(
    input: &RequestInput,
    public_helpers: &[crate::store::PublicHelper],
) -> Result<NewRequest, Invalid> {
    let r = NewRequest::parse(input)?;
    let listed = |h: &i64| public_helpers.iter().any(|p| p.account == *h);
    if let Some(h) = r.preferences.named_helper
        && !listed(&h)
    {
        return Err(Invalid::new(
            "named_helper",
            "Choose a helper from the list, or no one in particular.",
        ));
    }
    if !r.preferences.avoid_helpers.iter().all(listed) {
        return Err(Invalid::new(
            "avoid_helpers",
            "Choose the helpers to avoid from the list.",
        ));
    }
    Ok(r)
}

#[derive(Template)]
#[template(path = "support_refer.html")]
struct ReferView {
    l: Layout,
    input: ReferralInput,
    received: bool,
    error: Option<Invalid>,
}

impl ReferView {
    fn err(&self, field: &str) -> Option<&str> {
        field_error(&self.error, field)
    }
    fn reasons(&self) -> &'static [ReferralReason] {
        ReferralReason::ALL
    }
}

pub async fn refer_form(ctx: Ctx, _: SignedIn) -> PageResult {
    render(&ReferView {
        l: ctx.layout("Refer a colleague"),
        input: ReferralInput::default(),
        received: false,
        error: None,
    })
}

/// A referral. The referrer learns only that it was received: not who takes it, nor
/// whether the colleague accepts.
pub async fn refer(
    State(state): State<AppState>,
    ctx: Ctx,
    SignedIn(a): SignedIn,
    Form(input): Form<ReferralInput>,
) -> PageResult {
    match NewRequest::parse_referral(&input, &format!("{} <{}>", a.display_name, a.email)) {
        Ok(r) => {
            file_request(&state, &r, None).await?;
            render(&ReferView {
                l: ctx.layout("Referral received"),
                input: ReferralInput::default(),
                received: true,
                error: None,
            })
        }
        Err(e) => render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &ReferView {
                l: ctx.layout("Refer a colleague"),
                input,
                received: false,
                error: Some(e),
            },
        ),
    }
}

#[derive(Template)]
#[template(path = "support_receipt.html")]
struct ReceiptView {
    l: Layout,
    /// An urgent request filed outside business hours: when people are next at work.
    after_hours: Option<String>,
    code: String,
    chooses: bool,
    promises: Vec<String>,
}

/// The form's promises, from the settings in force now.
async fn promises(state: &AppState) -> Result<Vec<String>, AppError> {
    let (_, sla) = business_hours(&state.store).await?;
    Ok(crate::domain::support::promises(
        &crate::domain::support::PromiseSettings {
            coordinator_blind: state.store.coordinator_blind().await?,
            retention_days: state.web.retention_days,
            first_contact_hours: [
                sla.promise_hours(Urgency::Urgent),
                sla.promise_hours(Urgency::Soon),
                sla.promise_hours(Urgency::Routine),
            ],
        },
    ))
}

pub async fn submit(
    State(state): State<AppState>,
    ctx: Ctx,
    MaybeSignedIn(account): MaybeSignedIn,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    if account.is_none() && state.store.support_requires_sign_in().await? {
        return Err(AppError::Unauthorized);
    }
    let input = input_from_pairs(&pairs);
    let public_helpers = state.store.public_helpers().await?;
    let checked = checked_request(&input, &public_helpers);
    let request = match checked {
        Ok(r) => r,
        // Everything typed comes back, with the reason beside its field.
        Err(e) => {
            return render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &RequestView {
                    l: ctx.layout("Ask for peer support"),
                    input,
                    public_helpers,
                    error: Some(e),
                    promises: promises(&state).await?,
                },
            );
        }
    };
    let (_, code) = file_request(&state, &request, account.map(|a| a.id)).await?;
    // Urgent, at night or at a weekend: say plainly when a person will first see it.
    let (hours, _) = business_hours(&state.store).await?;
    let t = now();
    let after_hours = (request.urgency == Urgency::Urgent && !hours.is_open(t))
        .then(|| hours.local_text(hours.next_open(t)));
    // The code is shown in the page body only: never in a URL, a redirect or a log.
    render(&ReceiptView {
        after_hours,
        l: ctx.layout("Your request is in"),
        code,
        chooses: state.store.support_requester_chooses().await?,
        promises: promises(&state).await?,
    })
}

/// Files a request; an urgent one alerts every coordinator at once, in the same
/// transaction. The alert says that something urgent arrived, never who or what.
pub async fn file_request(
    state: &AppState,
    request: &NewRequest,
    owner: Option<crate::domain::accounts::AccountId>,
) -> Result<(RequestSummary, String), AppError> {
    let alerts = if request.urgency == Urgency::Urgent {
        crate::casework::CoordinatorAlerts::load(&state.store, &state.web.public_url)
            .await?
            .messages(
                "an urgent request arrived",
                "/support/queue",
                &format!("urgent:{}", crate::crypto::random_hex(8)),
            )
    } else {
        Vec::new()
    };
    let (r, code) = state
        .store
        .create_support_request(request, owner, &alerts)
        .await?;
    // Coordinator-blind: the request is offered straight away, so that only the helper
    // who accepts ever sees who asked. With no helper free, it waits in the queue.
    if state.store.coordinator_blind().await? && !state.store.support_requester_chooses().await? {
        super::cases::offer_next(state, r.id).await?;
    }
    Ok((r, code))
}

/// Looks a receipt code up under the per-address throttle: a wrong code counts as a
/// failed attempt, so codes cannot be guessed by trying many. Every kind of wrong code
/// gets the same answer.
pub async fn by_receipt(
    store: &Store,
    typed: &str,
    address: &str,
) -> Result<(String, RequestSummary), AppError> {
    let t = now();
    let key = throttle::receipt_key(address);
    let locked = store.throttle_locked_until(&key).await?;
    if locked > t {
        return Err(AppError::Throttled {
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
        Some(hit) => Ok(hit),
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

#[derive(Template)]
#[template(path = "support_status.html")]
struct StatusView {
    l: Layout,
    found: Option<(String, RequestSummary)>,
    typed: String,
    withdrawn_now: bool,
    /// When the programme lets people choose: the public helpers who may take it.
    choices: Vec<crate::store::PublicHelper>,
    error: Option<Invalid>,
}

impl StatusView {
    fn err(&self, field: &str) -> Option<&str> {
        field_error(&self.error, field)
    }
}

pub async fn status_form(ctx: Ctx) -> PageResult {
    render(&StatusView {
        l: ctx.layout("Check a request"),
        found: None,
        typed: String::new(),
        withdrawn_now: false,
        choices: Vec::new(),
        error: None,
    })
}

#[derive(Deserialize)]
pub struct ReceiptForm {
    #[serde(default)]
    receipt_code: String,
}

/// The helpers a person may choose from for their waiting request: the best three of
/// the shortlist, among helpers who chose to be listed publicly. Empty unless the
/// programme lets people choose.
pub async fn choices_for(
    state: &AppState,
    request: &RequestSummary,
) -> Result<Vec<crate::store::PublicHelper>, AppError> {
    if request.status != crate::domain::support::RequestStatus::Submitted
        || !state.store.support_requester_chooses().await?
    {
        return Ok(Vec::new());
    }
    let public = state.store.public_helpers().await?;
    let mut m = crate::casework::matching_inputs(
        &state.store,
        request.id,
        crate::casework::Opener::Requester,
    )
    .await?;
    m.helpers
        .retain(|h| public.iter().any(|p| p.account == h.id));
    let list =
        crate::domain::matching::shortlist(&m.helpers, &m.request, &m.weights, m.policy, now(), 3);
    Ok(list
        .iter()
        .filter_map(|c| public.iter().find(|p| p.account == c.helper).cloned())
        .collect())
}

async fn status_result(
    state: &AppState,
    ctx: Ctx,
    typed: String,
    result: Result<(String, RequestSummary), AppError>,
    withdrawn_now: bool,
) -> PageResult {
    match result {
        Ok(found) => render(&StatusView {
            l: ctx.layout("Your request"),
            choices: choices_for(state, &found.1).await?,
            found: Some(found),
            typed: String::new(),
            withdrawn_now,
            error: None,
        }),
        Err(AppError::Invalid(e)) => render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &StatusView {
                l: ctx.layout("Check a request"),
                found: None,
                typed,
                withdrawn_now: false,
                choices: Vec::new(),
                error: Some(e),
            },
        ),
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
pub struct ChooseForm {
    #[serde(default)]
    receipt_code: String,
    #[serde(default)]
    helper: i64,
}

/// The person picks one of the helpers offered to them; the request is offered to that
/// helper at once.
pub async fn choose(
    State(state): State<AppState>,
    ctx: Ctx,
    ClientAddr(address): ClientAddr,
    Form(form): Form<ChooseForm>,
) -> PageResult {
    let (code, request) = by_receipt(&state.store, &form.receipt_code, &address).await?;
    let choices = choices_for(&state, &request).await?;
    if !choices.iter().any(|c| c.account == form.helper) {
        return Err(Invalid::new("helper", "Choose one of the helpers shown.").into());
    }
    crate::casework::offer_to(
        &state.store,
        &state.web.public_url,
        request.id,
        crate::domain::accounts::AccountId(form.helper),
        None,
    )
    .await?;
    let updated = state.store.support_request_by_receipt(&code).await?;
    status_result(&state, ctx, String::new(), Ok((code, updated)), false).await
}

pub async fn status(
    State(state): State<AppState>,
    ctx: Ctx,
    ClientAddr(address): ClientAddr,
    Form(form): Form<ReceiptForm>,
) -> PageResult {
    let result = by_receipt(&state.store, &form.receipt_code, &address).await;
    status_result(&state, ctx, form.receipt_code, result, false).await
}

#[derive(Deserialize)]
pub struct FeedbackForm {
    #[serde(default)]
    receipt_code: String,
    #[serde(default)]
    helpful: String,
    #[serde(default)]
    recommend: String,
}

/// Anonymous feedback on a closed request, with its receipt code.
pub async fn feedback(
    State(state): State<AppState>,
    ctx: Ctx,
    ClientAddr(address): ClientAddr,
    Form(form): Form<FeedbackForm>,
) -> PageResult {
    let (code, _) = by_receipt(&state.store, &form.receipt_code, &address).await?;
    let helpful = form
        .helpful
        .parse::<u8>()
        .ok()
        .filter(|h| (1..=5).contains(h))
        .ok_or_else(|| Invalid::new("helpful", "Choose from 1 (not at all) to 5 (very)."))?;
    let recommend = match form.recommend.as_str() {
        "yes" => true,
        "no" => false,
        _ => return Err(Invalid::new("recommend", "Answer yes or no.").into()),
    };
    state.store.give_feedback(&code, helpful, recommend).await?;
    super::account::notice(
        ctx,
        "Thank you",
        "Your answer is kept apart from your request, so no one can tell it was yours.",
        None,
        "/",
        "Home",
    )
}

pub async fn withdraw(
    State(state): State<AppState>,
    ctx: Ctx,
    ClientAddr(address): ClientAddr,
    Form(form): Form<ReceiptForm>,
) -> PageResult {
    let result = match by_receipt(&state.store, &form.receipt_code, &address).await {
        Ok((code, _)) => state
            .store
            .withdraw_support_request(&code)
            .await
            .map(|r| (code, r))
            .map_err(AppError::from),
        Err(e) => Err(e),
    };
    status_result(&state, ctx, form.receipt_code, result, true).await
}

#[derive(Template)]
#[template(path = "support_mine.html")]
struct MineView {
    l: Layout,
    requests: Vec<RequestSummary>,
}

pub async fn mine(State(state): State<AppState>, ctx: Ctx, SignedIn(a): SignedIn) -> PageResult {
    render(&MineView {
        l: ctx.layout("My support requests"),
        requests: state.store.my_support_requests(a.id).await?,
    })
}

#[derive(Template)]
#[template(path = "support_queue.html")]
struct QueueView {
    l: Layout,
    requests: Vec<(RequestSummary, SlaState, String)>,
    feedback: crate::store::FeedbackSummary,
    now: i64,
}

impl QueueView {
    /// How long a request has waited, in words.
    fn age(&self, r: &RequestSummary) -> String {
        let mins = (self.now - r.created_at).max(0) / 60;
        match mins {
            0..=59 => format!("{mins} min"),
            60..=2879 => format!("{} h", mins / 60),
            _ => format!("{} days", mins / 1440),
        }
    }
}

/// The programme's business hours and the service-level settings in force, or the
/// defaults if the saved ones no longer parse.
pub async fn business_hours(
    store: &Store,
) -> Result<(BusinessHours, ServiceLevelSettings), AppError> {
    let s = store.service_level_settings().await?;
    Ok(match BusinessHours::parse(&s) {
        Ok(h) => (h, s),
        Err(_) => {
            let d = ServiceLevelSettings::default();
            let h = BusinessHours::parse(&d)
                .map_err(|e| AppError::Internal(anyhow::anyhow!("default business hours: {e}")))?;
            (h, d)
        }
    })
}

pub async fn queue(State(state): State<AppState>, ctx: Ctx, _: Coordinator) -> PageResult {
    let (hours, settings) = business_hours(&state.store).await?;
    let t = now();
    let requests = state
        .store
        .support_queue()
        .await?
        .into_iter()
        .map(|r| {
            let promise = settings.promise_hours(r.urgency);
            let s = sla::state(&hours, promise, r.created_at, r.first_contact_at, t);
            let due = hours.local_text(hours.add(r.created_at, i64::from(promise) * 3600));
            (r, s, due)
        })
        .collect();
    render(&QueueView {
        l: ctx.layout("Support queue"),
        requests,
        feedback: state.store.feedback_summary().await?,
        now: t,
    })
}

#[derive(Template)]
#[template(path = "support_settings.html")]
struct SettingsView {
    l: Layout,
    s: ServiceLevelSettings,
    blind: bool,
    requires_sign_in: bool,
    requester_chooses: bool,
    weights: Weights,
    policy: Policy,
    saved: bool,
    error: Option<Invalid>,
}

impl SettingsView {
    fn err(&self, field: &str) -> Option<&str> {
        field_error(&self.error, field)
    }
}

pub async fn settings_form(State(state): State<AppState>, ctx: Ctx, _: Coordinator) -> PageResult {
    let (weights, policy) = state.store.matching_rules().await?;
    render(&SettingsView {
        l: ctx.layout("Service level"),
        s: state.store.service_level_settings().await?,
        blind: state.store.coordinator_blind().await?,
        requires_sign_in: state.store.support_requires_sign_in().await?,
        requester_chooses: state.store.support_requester_chooses().await?,
        weights,
        policy,
        saved: false,
        error: None,
    })
}

#[derive(Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    time_zone: String,
    #[serde(default)]
    days: String,
    #[serde(default)]
    hours: String,
    #[serde(default)]
    holidays: String,
    #[serde(default)]
    first_contact_hours: String,
    #[serde(default)]
    urgent_first_contact_hours: String,
    #[serde(default)]
    routine_first_contact_hours: String,
    #[serde(default)]
    urgent_offer_hours: String,
    #[serde(default)]
    soon_offer_hours: String,
    #[serde(default)]
    routine_offer_hours: String,
    #[serde(default)]
    coordinator_blind: Option<String>,
    #[serde(default)]
    exclude_same_department: Option<String>,
    #[serde(default)]
    requires_sign_in: Option<String>,
    #[serde(default)]
    requester_chooses: Option<String>,
    #[serde(flatten)]
    rest: std::collections::HashMap<String, String>,
}

pub async fn save_settings(
    State(state): State<AppState>,
    ctx: Ctx,
    Coordinator(coordinator): Coordinator,
    Form(f): Form<SettingsForm>,
) -> PageResult {
    // A number left out of the form keeps its current value; a number not understood is
    // 0, which the check refuses with the field's name.
    let saved = state.store.service_level_settings().await?;
    let number = |raw: &str, current: u32| {
        if raw.trim().is_empty() {
            current
        } else {
            raw.trim().parse::<u32>().unwrap_or(0)
        }
    };
    let s = ServiceLevelSettings {
        time_zone: f.time_zone.trim().to_string(),
        days: f.days.trim().to_string(),
        hours: f.hours.trim().to_string(),
        holidays: f.holidays.trim().to_string(),
        first_contact_hours: f.first_contact_hours.trim().parse::<u32>().unwrap_or(0),
        urgent_first_contact_hours: number(
            &f.urgent_first_contact_hours,
            saved.urgent_first_contact_hours,
        ),
        routine_first_contact_hours: number(
            &f.routine_first_contact_hours,
            saved.routine_first_contact_hours,
        ),
        urgent_offer_hours: number(&f.urgent_offer_hours, saved.urgent_offer_hours),
        soon_offer_hours: number(&f.soon_offer_hours, saved.soon_offer_hours),
        routine_offer_hours: number(&f.routine_offer_hours, saved.routine_offer_hours),
    };
    // A weight left out of the form keeps its current value.
    let current = state.store.matching_rules().await?.0;
    let weight = |name: &str| {
        f.rest
            .get(&format!("weight_{name}"))
            .cloned()
            .unwrap_or_else(|| {
                current
                    .labelled()
                    .iter()
                    .find(|(n, _, _)| *n == name)
                    .map(|(_, _, v)| v.to_string())
                    .unwrap_or_default()
            })
    };
    let policy = Policy {
        exclude_same_department: f.exclude_same_department.is_some(),
    };
    let checked = BusinessHours::parse(&s).and_then(|_| Weights::parse(weight));
    match checked {
        Ok(weights) => {
            state.store.save_service_level_settings(&s).await?;
            let blind = f.coordinator_blind.is_some();
            state
                .store
                .set_coordinator_blind(blind, Some(coordinator.id))
                .await?;
            state.store.save_matching_rules(&weights, &policy).await?;
            let requires_sign_in = f.requires_sign_in.is_some();
            state
                .store
                .set_support_requires_sign_in(requires_sign_in)
                .await?;
            let requester_chooses = f.requester_chooses.is_some();
            state
                .store
                .set_support_requester_chooses(requester_chooses)
                .await?;
            render(&SettingsView {
                l: ctx.layout("Service level"),
                s,
                blind,
                requires_sign_in,
                requester_chooses,
                weights,
                policy,
                saved: true,
                error: None,
            })
        }
        Err(e) => render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &SettingsView {
                l: ctx.layout("Service level"),
                s,
                blind: f.coordinator_blind.is_some(),
                requires_sign_in: f.requires_sign_in.is_some(),
                requester_chooses: f.requester_chooses.is_some(),
                weights: current,
                policy,
                saved: false,
                error: Some(e),
            },
        ),
    }
}
