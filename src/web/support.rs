//! Peer support as the people who ask meet it: the request form, the receipt code, the
//! status page (the code travels in the form body, never in a URL), withdrawal, and a
//! member's own requests; and the coordinators' queue, which names no one.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;

use super::AppState;
use super::auth::{ClientAddr, Coordinator, MaybeSignedIn, Member};
use super::error::{AppError, PageResult};
use super::layout::{Ctx, Layout, field_error, render, render_status};
use crate::app::support::requests::Requester;
use crate::domain::matching::{Policy, Weights};
use crate::domain::sla::{self, BusinessHours, ServiceLevelSettings, SlaState};
use crate::domain::support::{
    Appointment, ContactMode, ReferralInput, ReferralReason, RequestInput, Topic, Urgency,
};
use crate::domain::{Invalid, now};
use crate::store::{RequestSummary, SupportSettings};

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
    let public = state.app.public();
    if ctx.account.is_none() && public.support_requires_sign_in().await? {
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
        public_helpers: public.public_helpers().await?,
        error: None,
        promises: public.support_promises().await?,
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

pub async fn refer_form(ctx: Ctx, _: Member) -> PageResult {
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
    State(_state): State<AppState>,
    ctx: Ctx,
    a: Member,
    Form(input): Form<ReferralInput>,
) -> PageResult {
    match a.refer(&input).await {
        Ok(()) => render(&ReferView {
            l: ctx.layout("Referral received"),
            input: ReferralInput::default(),
            received: true,
            error: None,
        }),
        Err(crate::app::Error::Invalid(e)) => render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &ReferView {
                l: ctx.layout("Refer a colleague"),
                input,
                received: false,
                error: Some(e),
            },
        ),
        Err(e) => Err(e.into()),
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

pub async fn submit(
    State(state): State<AppState>,
    ctx: Ctx,
    MaybeSignedIn(account): MaybeSignedIn,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let public = state.app.public();
    let input = input_from_pairs(&pairs);
    let filed = match public.ask_for_support(&input, account.as_ref()).await {
        Ok(filed) => filed,
        // Everything typed comes back, with the reason beside its field.
        Err(crate::app::Error::Invalid(e)) => {
            return render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &RequestView {
                    l: ctx.layout("Ask for peer support"),
                    input,
                    public_helpers: public.public_helpers().await?,
                    error: Some(e),
                    promises: public.support_promises().await?,
                },
            );
        }
        Err(e) => return Err(e.into()),
    };
    // The code is shown in the page body only: never in a URL, a redirect or a log.
    render(&ReceiptView {
        after_hours: filed.after_hours,
        l: ctx.layout("Your request is in"),
        code: filed.receipt_code,
        chooses: public.requester_chooses().await?,
        promises: public.support_promises().await?,
    })
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

async fn status_result(
    ctx: Ctx,
    typed: String,
    result: crate::app::Result<Requester>,
    withdrawn_now: bool,
) -> PageResult {
    match result {
        Ok(requester) => render(&StatusView {
            l: ctx.layout("Your request"),
            choices: requester.choices().await?,
            found: Some(requester.into_parts()),
            typed: String::new(),
            withdrawn_now,
            error: None,
        }),
        Err(crate::app::Error::Invalid(e)) => render_status(
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
        Err(e) => Err(e.into()),
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
    let requester = state
        .app
        .public()
        .requester(&form.receipt_code, &address)
        .await?;
    let chosen = requester
        .choose(crate::domain::accounts::AccountId(form.helper))
        .await?;
    status_result(ctx, String::new(), Ok(chosen), false).await
}

pub async fn status(
    State(state): State<AppState>,
    ctx: Ctx,
    ClientAddr(address): ClientAddr,
    Form(form): Form<ReceiptForm>,
) -> PageResult {
    let result = state
        .app
        .public()
        .requester(&form.receipt_code, &address)
        .await;
    status_result(ctx, form.receipt_code, result, false).await
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
    let requester = state
        .app
        .public()
        .requester(&form.receipt_code, &address)
        .await?;
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
    requester.give_feedback(helpful, recommend).await?;
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
    let result = match state
        .app
        .public()
        .requester(&form.receipt_code, &address)
        .await
    {
        Ok(requester) => requester.withdraw().await,
        Err(e) => Err(e),
    };
    status_result(ctx, form.receipt_code, result, true).await
}

#[derive(Template)]
#[template(path = "support_mine.html")]
struct MineView {
    l: Layout,
    requests: Vec<RequestSummary>,
}

pub async fn mine(State(_state): State<AppState>, ctx: Ctx, a: Member) -> PageResult {
    render(&MineView {
        l: ctx.layout("My support requests"),
        requests: a.my_support_requests().await?,
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
pub async fn queue(
    State(_state): State<AppState>,
    ctx: Ctx,
    coordinator: Coordinator,
) -> PageResult {
    let (hours, settings) = coordinator.public().business_hours().await?;
    let t = now();
    let requests = coordinator
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
        feedback: coordinator.feedback_summary().await?,
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

pub async fn settings_form(
    State(_state): State<AppState>,
    ctx: Ctx,
    coordinator: Coordinator,
) -> PageResult {
    let current = coordinator.support_settings().await?;
    render(&SettingsView {
        l: ctx.layout("Service level"),
        s: current.service_level,
        blind: current.coordinator_blind,
        requires_sign_in: current.requires_sign_in,
        requester_chooses: current.requester_chooses,
        weights: current.weights,
        policy: current.policy,
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
    State(_state): State<AppState>,
    ctx: Ctx,
    coordinator: Coordinator,
    Form(f): Form<SettingsForm>,
) -> PageResult {
    // A number left out of the form keeps its current value; a number not understood is
    // 0, which the check refuses with the field's name.
    let in_force = coordinator.support_settings().await?;
    let saved = &in_force.service_level;
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
    let current = in_force.weights;
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
            let new = SupportSettings {
                service_level: s,
                weights,
                policy,
                coordinator_blind: f.coordinator_blind.is_some(),
                requires_sign_in: f.requires_sign_in.is_some(),
                requester_chooses: f.requester_chooses.is_some(),
            };
            coordinator.save_support_settings(&new).await?;
            render(&SettingsView {
                l: ctx.layout("Service level"),
                s: new.service_level,
                blind: new.coordinator_blind,
                requires_sign_in: new.requires_sign_in,
                requester_chooses: new.requester_chooses,
                weights: new.weights,
                policy: new.policy,
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
