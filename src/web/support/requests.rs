//! Peer support as the people who ask meet it: the request form and referral, the receipt
//! code, the status page (the code travels in the form body, never in a URL), choosing a
//! helper, feedback, withdrawal, and a member's own requests.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;

use crate::app::support::requests::Requester;
use crate::domain::Invalid;
use crate::domain::ids::RequestId;
use crate::domain::support::{ReferralForm, ReferralInput, ReferralReason, Urgency};
use crate::store::RequestSummary;
use crate::web::AppState;
use crate::web::http::auth::{ClientAddr, Member};
use crate::web::http::error::PageResult;
use crate::web::http::form::Form;
use crate::web::http::layout::{Ctx, Layout, field_error, render, render_status};

#[derive(Template)]
#[template(path = "support/refer.html")]
struct ReferView {
    l: Layout,
    input: ReferralForm,
    received: bool,
    error: Option<Invalid>,
}

impl ReferView {
    fn err(&self, field: &str) -> Option<String> {
        field_error(&self.error, field)
    }
    fn reasons(&self) -> &'static [ReferralReason] {
        ReferralReason::ALL
    }
    fn urgencies(&self) -> &'static [Urgency] {
        Urgency::ALL
    }
}

pub async fn refer_form(ctx: Ctx, _: Member) -> PageResult {
    render(&ReferView {
        l: ctx.layout("Refer a colleague"),
        input: ReferralForm::default(),
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
    Form(input): Form<ReferralForm>,
) -> PageResult {
    let referred = match ReferralInput::try_from(&input) {
        Ok(typed) => a.refer(&typed).await,
        Err(e) => Err(e.into()),
    };
    match referred {
        Ok(()) => render(&ReferView {
            l: ctx.layout("Referral received"),
            input: ReferralForm::default(),
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
#[template(path = "support/status.html")]
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
    fn err(&self, field: &str) -> Option<String> {
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
    crate::web::http::layout::notice(
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
#[template(path = "support/mine.html")]
struct MineView {
    l: Layout,
    requests: Vec<RequestSummary>,
    withdrawn_now: bool,
}

pub async fn mine(State(_state): State<AppState>, ctx: Ctx, a: Member) -> PageResult {
    render(&MineView {
        l: ctx.layout("My support requests"),
        requests: a.my_support_requests().await?,
        withdrawn_now: false,
    })
}

/// A signed-in member withdraws a request from their list, without its receipt code.
pub async fn withdraw_mine(
    State(_state): State<AppState>,
    ctx: Ctx,
    a: Member,
    Path(id): Path<RequestId>,
) -> PageResult {
    a.withdraw_my_request(id).await?;
    render(&MineView {
        l: ctx.layout("My support requests"),
        requests: a.my_support_requests().await?,
        withdrawn_now: true,
    })
}
