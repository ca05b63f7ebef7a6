//! The programme's e-mail as people meet it: coordinators edit the wording of each
//! message with a preview; everyone chooses which optional messages they get; a one-click
//! link in each optional message switches it off without signing in.

use crate::web::http::form::Form;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;

use crate::domain::Invalid;
use crate::domain::mail::{self, MailTemplate, MessageKind};
use crate::web::AppState;
use crate::web::http::auth::{Coordinator, Member};
use crate::web::http::error::{AppError, PageResult};
use crate::web::http::layout::notice;
use crate::web::http::layout::{Ctx, Layout, field_error, render, render_status};

pub struct KindRow {
    pub key: &'static str,
    pub title: &'static str,
    pub when: &'static str,
    pub optional: bool,
    pub customised: bool,
}

#[derive(Template)]
#[template(path = "mail/messages.html")]
struct MessagesView {
    l: Layout,
    kinds: Vec<KindRow>,
}

pub async fn list(ctx: Ctx, coordinator: Coordinator) -> PageResult {
    let customised = coordinator.customised_mail_kinds().await?;
    let kinds = MessageKind::ALL
        .into_iter()
        .map(|k| {
            let i = k.info();
            KindRow {
                key: i.key,
                title: i.title,
                when: i.when,
                optional: i.optional,
                customised: customised.contains(&k),
            }
        })
        .collect();
    render(&MessagesView {
        l: ctx.layout("Messages"),
        kinds,
    })
}

/// What a preview shows: the message as a sample recipient would get it.
pub struct Preview {
    pub subject: String,
    pub text: String,
    pub html: String,
}

#[derive(Template)]
#[template(path = "mail/edit_message.html")]
struct EditMessageView {
    l: Layout,
    key: &'static str,
    title: &'static str,
    when: &'static str,
    optional: bool,
    placeholders: Vec<(&'static str, &'static str, bool)>,
    subject: String,
    body: String,
    preview: Option<Preview>,
    saved: bool,
    error: Option<Invalid>,
}

impl EditMessageView {
    fn err(&self, field: &str) -> Option<String> {
        field_error(&self.error, field)
    }
}

fn kind_from(key: &str) -> Result<MessageKind, AppError> {
    MessageKind::parse(key).ok_or(AppError::NotFound)
}

fn edit_view(
    ctx: &Ctx,
    kind: MessageKind,
    subject: String,
    body: String,
    preview: Option<Preview>,
    saved: bool,
    error: Option<Invalid>,
) -> EditMessageView {
    let i = kind.info();
    EditMessageView {
        l: ctx.layout(format!("Message: {}", i.title)),
        key: i.key,
        title: i.title,
        when: i.when,
        optional: i.optional,
        placeholders: kind
            .placeholders()
            .map(|p| (p.name, p.meaning, p.subject_ok))
            .collect(),
        subject,
        body,
        preview,
        saved,
        error,
    }
}

pub async fn edit_form(ctx: Ctx, coordinator: Coordinator, Path(key): Path<String>) -> PageResult {
    let kind = kind_from(&key)?;
    let t = coordinator.mail_template(kind).await?;
    render(&edit_view(&ctx, kind, t.subject, t.body, None, false, None))
}

#[derive(Deserialize)]
pub struct EditForm {
    #[serde(default)]
    subject: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    action: String,
}

/// Sample values for a preview: each placeholder shows what it stands for.
fn sample_values(kind: MessageKind) -> Vec<(&'static str, String)> {
    kind.placeholders()
        .filter(|p| !matches!(p.name, "programme" | "contact"))
        .map(|p| {
            let v = if p.name.ends_with("link") {
                format!("https://wellbeing.example.edu/{}", p.name.replace('_', "-"))
            } else {
                format!("[{}]", p.meaning)
            };
            (p.name, v)
        })
        .collect()
}

pub async fn edit(
    ctx: Ctx,
    account: Coordinator,
    Path(key): Path<String>,
    Form(form): Form<EditForm>,
) -> PageResult {
    let kind = kind_from(&key)?;
    if form.action == "reset" {
        account.reset_mail_template(kind).await?;
        return Ok(Redirect::to(&format!("/manage/messages/{}", kind.key())).into_response());
    }
    match MailTemplate::parse(kind, &form.subject, &form.body) {
        // What the coordinator typed comes back to them with the reason: nothing is lost,
        // and the template in use is unchanged.
        Err(e) => render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &edit_view(&ctx, kind, form.subject, form.body, None, false, Some(e)),
        ),
        Ok(t) if form.action == "preview" => {
            let branding = account.branding_for_preview().await?;
            let samples = sample_values(kind);
            let values: Vec<(&str, &str)> = samples.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let footer = kind.optional().then(|| {
                mail::unsubscribe_footer(kind, "https://wellbeing.example.edu/unsubscribe/…")
            });
            let c = mail::compose(kind, &t, &branding, &values, footer.as_deref());
            let preview = Preview {
                subject: c.subject,
                text: c.text,
                html: c.html_body,
            };
            render(&edit_view(
                &ctx,
                kind,
                t.subject,
                t.body,
                Some(preview),
                false,
                None,
            ))
        }
        Ok(t) => {
            account.save_mail_template(kind, &t).await?;
            render(&edit_view(&ctx, kind, t.subject, t.body, None, true, None))
        }
    }
}

/// The account page's e-mail choices: `receive` repeats, once per ticked kind.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ChoicesForm {
    receive: Vec<String>,
}

/// Saves the account page's e-mail choices: each optional kind ticked or not.
pub async fn save_choices(account: Member, Form(form): Form<ChoicesForm>) -> PageResult {
    let choices: Vec<(MessageKind, bool)> = MessageKind::ALL
        .into_iter()
        .filter(|k| k.optional())
        .map(|kind| (kind, form.receive.iter().any(|v| v == kind.key())))
        .collect();
    account.set_mail_choices(&choices).await?;
    Ok(Redirect::to("/account#mail").into_response())
}

#[derive(Template)]
#[template(path = "mail/unsubscribe.html")]
struct UnsubscribeView {
    l: Layout,
    title: &'static str,
    secret: String,
    done: bool,
}

/// The page an unsubscribe link opens: it says what will stop and asks for a click, so
/// that mail scanners which follow links do not unsubscribe anyone.
pub async fn unsubscribe_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(secret): Path<String>,
) -> PageResult {
    let kind = state.app.public().unsubscribe_link_kind(&secret).await?;
    render(&UnsubscribeView {
        l: ctx.layout("Unsubscribe"),
        title: kind.info().title,
        secret,
        done: false,
    })
}

/// Switches the message off. Mail programs' one-click unsubscribe (RFC 8058) posts here
/// without a session or form token: the link's secret is the authority, so this route sits
/// outside the CSRF layer.
pub async fn unsubscribe(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(secret): Path<String>,
) -> PageResult {
    let kind = state.app.public().unsubscribe(&secret).await?;
    render(&UnsubscribeView {
        l: ctx.layout("Unsubscribed"),
        title: kind.info().title,
        secret: String::new(),
        done: true,
    })
}

/// Sends the signed-in administrator a test message through the configured route.
pub async fn send_test(
    State(state): State<AppState>,
    ctx: Ctx,
    account: crate::web::http::auth::Admin,
) -> PageResult {
    account.send_test_message().await?;
    notice(
        ctx,
        "Test message queued",
        &format!(
            "A test message to {} is in the outbox. Messages are {}.",
            account.email, state.web.mail_route
        ),
        None,
        "/admin/outbox",
        "Back to the outbox",
    )
}
