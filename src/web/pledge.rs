//! The code-of-conduct pledge on the web: the public page (the current text, how many
//! signed, the opt-in list), signing and withdrawing, every earlier version, and for
//! coordinators publishing a version, the settings, the figures and the CSV export.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use serde::Deserialize;

use crate::app::pledge::{
    ListingInput, MONTH_COLUMNS, MyPledge, PledgePage, PledgeSettings, PledgeStats, VersionSummary,
};
use crate::domain::Invalid;
use crate::domain::content::render_markdown;
use crate::domain::pledge::{Act, Change, PledgeVersion, Standing};
use crate::web::AppState;
use crate::web::http::auth::{Coordinator, MaybeSignedIn, Member};
use crate::web::http::csv::{csv_response, csv_row};
use crate::web::http::error::{PageResult, on_its_field};
use crate::web::http::form::Form;
use crate::web::http::layout::{Ctx, Layout, field_error, form_status, render, render_status};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/pledge", get(show))
        .route("/pledge/sign", post(sign))
        .route("/pledge/withdraw", post(withdraw))
        .route("/pledge/listing", post(save_listing))
        .route("/pledge/versions", get(versions))
        .route("/pledge/versions/{id}", get(version))
        .route("/manage/pledge", get(manage).post(publish))
        .route("/manage/pledge/settings", post(save_settings))
        .route("/manage/pledge/signatures.csv", get(export))
}

/// The two kinds of version, for the radios (`key` and `label`).
struct ChangeOption(Change);

impl ChangeOption {
    fn key(&self) -> &'static str {
        self.0.key()
    }

    fn label(&self) -> &'static str {
        match self.0 {
            Change::Substantive => "What is promised changes: everyone is asked to sign again",
            Change::Editorial => "Only the wording changes (a typo, a link): signatures stand",
        }
    }
}

fn change_options() -> Vec<ChangeOption> {
    vec![
        ChangeOption(Change::Substantive),
        ChangeOption(Change::Editorial),
    ]
}

#[derive(Template)]
#[template(path = "pledge/pledge.html")]
struct PledgeView {
    l: Layout,
    page: PledgePage,
    text_html: String,
    /// The signed-in person's own pledge, if someone is signed in.
    mine: Option<MyPledge>,
    /// What they typed into the list form, sent back with its mistakes.
    typed_listing: Option<ListingInput>,
    error: Option<Invalid>,
    /// A one-line confirmation after a change.
    done: Option<&'static str>,
}

impl PledgeView {
    fn err(&self, field: &str) -> Option<String> {
        field_error(&self.error, field)
    }

    fn listing(&self) -> ListingInput {
        match (&self.typed_listing, &self.mine) {
            (Some(t), _) => t.clone(),
            (None, Some(m)) => ListingInput {
                show_name: m.listing.show_name,
                show_department: m.listing.show_department,
                department: m.listing.department.clone(),
            },
            (None, None) => ListingInput::default(),
        }
    }

    fn act_label(&self, act: &Act) -> &'static str {
        match act {
            Act::Sign => "Signed",
            Act::Withdraw => "Withdrew",
        }
    }
}

async fn pledge_page(
    ctx: Ctx,
    who: Option<&crate::app::Member>,
    public: crate::app::Public,
    typed_listing: Option<ListingInput>,
    error: Option<Invalid>,
    done: Option<&'static str>,
) -> PageResult {
    let page = public.pledge().await?;
    let text_html = page
        .current
        .as_ref()
        .map(|v| render_markdown(&v.text_md))
        .unwrap_or_default();
    let mine = match who {
        Some(m) => Some(m.my_pledge().await?),
        None => None,
    };
    render_status(
        form_status(&error),
        &PledgeView {
            l: ctx.layout("Code-of-conduct pledge"),
            page,
            text_html,
            mine,
            typed_listing,
            error,
            done,
        },
    )
}

#[derive(Deserialize)]
struct Done {
    #[serde(default)]
    done: String,
}

async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    MaybeSignedIn(who): MaybeSignedIn,
    crate::web::http::form::Query(q): crate::web::http::form::Query<Done>,
) -> PageResult {
    // The confirmation is chosen from a fixed list: nothing typed into the URL is shown.
    let done = match q.done.as_str() {
        "signed" => Some("Thank you: your signature is recorded."),
        "withdrawn" => Some("Your signature is withdrawn. You can sign again at any time."),
        "listing" => Some("Your choice for the list of signatories is saved."),
        _ => None,
    };
    pledge_page(ctx, who.as_ref(), state.app.public(), None, None, done).await
}

#[derive(Deserialize)]
struct SignForm {
    #[serde(default)]
    version: String,
    #[serde(default)]
    agree: Option<String>,
}

async fn sign(ctx: Ctx, m: Member, Form(f): Form<SignForm>) -> PageResult {
    let read = f.version.trim().parse::<i64>().unwrap_or(0);
    match m
        .sign_pledge(read, f.agree.is_some())
        .await
        .map_err(on_its_field)
    {
        Ok(_) => Ok(Redirect::to("/pledge?done=signed").into_response()),
        Err(crate::app::Error::Invalid(e)) => {
            pledge_page(ctx, Some(&m), m.public(), None, Some(e), None).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn withdraw(m: Member) -> PageResult {
    m.withdraw_pledge().await?;
    Ok(Redirect::to("/pledge?done=withdrawn").into_response())
}

#[derive(Deserialize)]
struct ListingForm {
    #[serde(default)]
    show_name: Option<String>,
    #[serde(default)]
    show_department: Option<String>,
    #[serde(default)]
    department: String,
}

async fn save_listing(ctx: Ctx, m: Member, Form(f): Form<ListingForm>) -> PageResult {
    let input = ListingInput {
        show_name: f.show_name.is_some(),
        show_department: f.show_department.is_some(),
        department: f.department,
    };
    match m.set_pledge_listing(&input).await {
        Ok(_) => Ok(Redirect::to("/pledge?done=listing").into_response()),
        Err(crate::app::Error::Invalid(e)) => {
            pledge_page(ctx, Some(&m), m.public(), Some(input), Some(e), None).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "pledge/versions.html")]
struct VersionsView {
    l: Layout,
    versions: Vec<VersionSummary>,
}

async fn versions(State(state): State<AppState>, ctx: Ctx) -> PageResult {
    render(&VersionsView {
        l: ctx.layout("Every version of the pledge"),
        versions: state.app.public().pledge_versions().await?,
    })
}

#[derive(Template)]
#[template(path = "pledge/version.html")]
struct VersionView {
    l: Layout,
    version: PledgeVersion,
    text_html: String,
    newest: i64,
}

async fn version(State(state): State<AppState>, ctx: Ctx, Path(number): Path<i64>) -> PageResult {
    let public = state.app.public();
    let version = public.pledge_version(number).await?;
    let newest = public
        .pledge_versions()
        .await?
        .first()
        .map_or(0, |v| v.number);
    render(&VersionView {
        l: ctx.layout(format!("Pledge, version {}", version.number)),
        text_html: render_markdown(&version.text_md),
        version,
        newest,
    })
}

#[derive(Template)]
#[template(path = "pledge/manage.html")]
struct ManageView {
    l: Layout,
    current: Option<PledgeVersion>,
    signers: u64,
    settings: PledgeSettings,
    stats: PledgeStats,
    month_columns: [&'static str; 3],
    options: Vec<ChangeOption>,
    /// The publishing form as typed (text, change, note), or the current text.
    typed: PublishForm,
    /// What was typed into the settings form, sent back with its mistake.
    typed_days: Option<String>,
    error: Option<Invalid>,
    done: Option<&'static str>,
}

impl ManageView {
    fn err(&self, field: &str) -> Option<String> {
        field_error(&self.error, field)
    }

    fn reminder_days(&self) -> String {
        self.typed_days
            .clone()
            .unwrap_or_else(|| self.settings.reminder_days.to_string())
    }
}

#[derive(Deserialize, Default, Clone)]
struct PublishForm {
    #[serde(default)]
    based_on: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    change: String,
    #[serde(default)]
    note: String,
}

async fn manage_page(
    c: &Coordinator,
    ctx: Ctx,
    typed: Option<PublishForm>,
    typed_days: Option<String>,
    error: Option<Invalid>,
    done: Option<&'static str>,
) -> PageResult {
    let page = c.public().pledge().await?;
    let typed = typed.unwrap_or_else(|| PublishForm {
        based_on: String::new(),
        text: page
            .current
            .as_ref()
            .map(|v| v.text_md.clone())
            .unwrap_or_default(),
        change: String::new(),
        note: String::new(),
    });
    render_status(
        form_status(&error),
        &ManageView {
            l: ctx.layout("Pledge"),
            signers: page.signers,
            current: page.current,
            settings: c.pledge_settings().await?,
            stats: c.pledge_stats().await?,
            month_columns: MONTH_COLUMNS,
            options: change_options(),
            typed,
            typed_days,
            error,
            done,
        },
    )
}

async fn manage(
    ctx: Ctx,
    c: Coordinator,
    crate::web::http::form::Query(q): crate::web::http::form::Query<Done>,
) -> PageResult {
    let done = match q.done.as_str() {
        "published" => Some("The new version is published."),
        "settings" => Some("The pledge settings are saved."),
        _ => None,
    };
    manage_page(&c, ctx, None, None, None, done).await
}

async fn publish(ctx: Ctx, c: Coordinator, Form(f): Form<PublishForm>) -> PageResult {
    let based_on = f.based_on.trim().parse::<i64>().unwrap_or(-1);
    match c
        .publish_pledge(based_on, &f.text, &f.change, &f.note)
        .await
        .map_err(on_its_field)
    {
        Ok(_) => Ok(Redirect::to("/manage/pledge?done=published").into_response()),
        Err(crate::app::Error::Invalid(e)) => {
            manage_page(&c, ctx, Some(f), None, Some(e), None).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct SettingsForm {
    #[serde(default)]
    required_for_helpers: Option<String>,
    #[serde(default)]
    reminder_days: String,
}

async fn save_settings(ctx: Ctx, c: Coordinator, Form(f): Form<SettingsForm>) -> PageResult {
    match c
        .save_pledge_settings(f.required_for_helpers.is_some(), &f.reminder_days)
        .await
    {
        Ok(_) => Ok(Redirect::to("/manage/pledge?done=settings").into_response()),
        Err(crate::app::Error::Invalid(e)) => {
            manage_page(&c, ctx, None, Some(f.reminder_days), Some(e), None).await
        }
        Err(e) => Err(e.into()),
    }
}

/// Everyone who signed, one line each: their standing and every act, oldest first.
async fn export(c: Coordinator) -> PageResult {
    let mut out = csv_row(&[
        "Name".into(),
        "E-mail".into(),
        "Department".into(),
        "Standing".into(),
        "Version".into(),
        "Last act".into(),
        "Last act at (UTC)".into(),
        "First signed at (UTC)".into(),
        "History".into(),
    ]);
    let utc = |at: i64| {
        jiff::Timestamp::from_second(at)
            .map(|t| t.strftime("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_default()
    };
    for (row, standing) in c.pledge_signers().await? {
        let (label, version) = match standing {
            Standing::Current { version, .. } => ("Current", version.to_string()),
            Standing::Outdated { version, .. } => {
                ("Outdated: asked to sign again", version.to_string())
            }
            Standing::Withdrawn { .. } => ("Withdrawn", String::new()),
            Standing::NeverSigned => ("Never signed", String::new()),
        };
        let last = row.records.last();
        let first_signed = row.records.iter().find(|r| r.act == Act::Sign);
        let history = row
            .records
            .iter()
            .map(|r| format!("{} v{} {}", r.act.key(), r.version, utc(r.at)))
            .collect::<Vec<_>>()
            .join("; ");
        out.push_str(&csv_row(&[
            row.display_name,
            row.email,
            row.department,
            label.into(),
            version,
            last.map(|r| r.act.key().to_string()).unwrap_or_default(),
            last.map(|r| utc(r.at)).unwrap_or_default(),
            first_signed.map(|r| utc(r.at)).unwrap_or_default(),
            history,
        ]));
    }
    Ok(csv_response(out, "pledge-signatures.csv"))
}
