//! Peer support as the people who ask meet it: the request form and referral, the receipt
//! code, the status page (the code travels in the form body, never in a URL), choosing a
//! helper, feedback, withdrawal, and a member's own requests.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;

use crate::app::support::requests::Requester;
use crate::domain::Invalid;
use crate::domain::support::{
    Appointment, ContactMode, ReferralForm, ReferralInput, ReferralReason, RequestForm,
    RequestInput, Topic, Urgency,
};
use crate::store::RequestSummary;
use crate::web::AppState;
use crate::web::http::auth::{ClientAddr, MaybeSignedIn, Member};
use crate::web::http::error::{AppError, PageResult};
use crate::web::http::form::Form;
use crate::web::http::layout::{Ctx, Layout, field_error, render, render_status};

#[derive(Template)]
#[template(path = "support/request.html")]
struct RequestView {
    l: Layout,
    input: RequestForm,
    /// Helpers who chose to be listed publicly, to be asked for by name.
    public_helpers: Vec<crate::store::PublicHelper>,
    error: Option<Invalid>,
    /// What the programme promises, from the settings in force.
    promises: Vec<String>,
}

impl RequestView {
    fn err(&self, field: &str) -> Option<String> {
        field_error(&self.error, field)
    }
    /// The optional preferences fold away; a mistake among them opens them.
    fn has_preference_error(&self) -> bool {
        [
            "appointment",
            "rank",
            "gender",
            "race_ethnicity",
            "language",
            "named_helper",
            "avoid_helpers",
        ]
        .iter()
        .any(|f| self.err(f).is_some())
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
        self.input.named_helper.trim() == id.to_string()
    }
    fn is_avoided(&self, id: &i64) -> bool {
        self.input
            .avoid_helpers
            .iter()
            .any(|h| h.trim() == id.to_string())
    }
}

pub async fn request_form(State(state): State<AppState>, ctx: Ctx) -> PageResult {
    let public = state.app.public();
    if ctx.account.is_none() && public.support_requires_sign_in().await? {
        return Err(AppError::Unauthorized);
    }
    // How soon and how to be reached are the person's to choose: nothing is pre-selected.
    let input = RequestForm {
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
#[template(path = "support/receipt.html")]
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
    Form(input): Form<RequestForm>,
) -> PageResult {
    let public = state.app.public();
    let asked = match RequestInput::try_from(&input) {
        Ok(typed) => public.ask_for_support(&typed, account.as_ref()).await,
        Err(e) => Err(e.into()),
    };
    let filed = match asked {
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
}

pub async fn mine(State(_state): State<AppState>, ctx: Ctx, a: Member) -> PageResult {
    render(&MineView {
        l: ctx.layout("My support requests"),
        requests: a.my_support_requests().await?,
    })
}
