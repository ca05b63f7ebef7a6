//! The JSON API for e-mail: the outbox (administrators), the wording of each message
//! (coordinators), and each person's choice of optional messages.

use axum::Json;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::Invalid;
use crate::domain::ids::MessageId;
use crate::domain::mail::{MailTemplate, MessageKind};
use crate::store::{OutboxEntry, OutboxStatus};
use crate::web::api::{ApiJson, ApiPath, ApiQuery};
use crate::web::http::auth::{Admin, Api, Coordinator, Member};
use crate::web::http::error::{ApiResult, AppError, ErrorBody};

#[derive(Deserialize, utoipa::IntoParams)]
pub struct OutboxQuery {
    /// Only messages in this status: queued, sending, sent, failed or cancelled.
    #[serde(default)]
    status: Option<String>,
}

/// The newest 200 messages, optionally of one status (administrators). Peer-support
/// messages show "(confidential)" instead of their recipient; bodies are never listed.
#[utoipa::path(get, path = "/api/v1/outbox", tag = "mail", security(("bearer" = ["admin"])),
    params(OutboxQuery),
    responses((status = 200, body = [OutboxEntry]), (status = 403, body = ErrorBody),
               (status = 422, body = ErrorBody)))]
pub async fn list_outbox(
    Api(admin): Api<Admin>,
    ApiQuery(q): ApiQuery<OutboxQuery>,
) -> ApiResult<Json<Vec<OutboxEntry>>> {
    let status = match q.status.as_deref() {
        None | Some("") => None,
        Some(s) => Some(OutboxStatus::parse(s).ok_or_else(|| {
            AppError::Invalid(Invalid::new(
                "status",
                "Use one of queued, sending, sent, failed or cancelled.",
            ))
        })?),
    };
    Ok(Json(admin.outbox(status, 200).await?))
}

/// Puts a failed or cancelled message back in the queue (administrators).
#[utoipa::path(post, path = "/api/v1/outbox/{id}/retry", tag = "mail", security(("bearer" = ["admin"])),
    params(("id" = i64, Path, description = "Message id")),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn retry_message(
    Api(admin): Api<Admin>,
    ApiPath(id): ApiPath<MessageId>,
) -> ApiResult<StatusCode> {
    admin.retry_message(id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Stops a queued or failed message (administrators).
#[utoipa::path(post, path = "/api/v1/outbox/{id}/cancel", tag = "mail", security(("bearer" = ["admin"])),
    params(("id" = i64, Path, description = "Message id")),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn cancel_message(
    Api(admin): Api<Admin>,
    ApiPath(id): ApiPath<MessageId>,
) -> ApiResult<StatusCode> {
    admin.cancel_message(id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct MessageOut {
    pub kind: MessageKind,
    pub title: &'static str,
    pub when: &'static str,
    /// Whether recipients may switch it off.
    pub optional: bool,
    /// Whether the programme changed the default wording.
    pub customised: bool,
    pub subject: String,
    pub body: String,
    /// The placeholders the wording may use.
    pub placeholders: Vec<&'static str>,
}

fn message_out(kind: MessageKind, t: MailTemplate) -> MessageOut {
    let i = kind.info();
    MessageOut {
        kind,
        title: i.title,
        when: i.when,
        optional: i.optional,
        customised: t != kind.default_template(),
        subject: t.subject,
        body: t.body,
        placeholders: kind.placeholders().map(|p| p.name).collect(),
    }
}

fn kind_param(key: &str) -> Result<MessageKind, AppError> {
    MessageKind::parse(key).ok_or(AppError::NotFound)
}

/// Every message the programme sends, with its wording (coordinators).
#[utoipa::path(get, path = "/api/v1/messages", tag = "mail", security(("bearer" = ["coordinator"])),
    responses((status = 200, body = [MessageOut]), (status = 403, body = ErrorBody)))]
pub async fn list_messages(Api(coordinator): Api<Coordinator>) -> ApiResult<Json<Vec<MessageOut>>> {
    let templates = coordinator.mail_templates(&MessageKind::ALL).await?;
    Ok(Json(
        MessageKind::ALL
            .into_iter()
            .zip(templates)
            .map(|(k, t)| message_out(k, t))
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct MessageIn {
    pub subject: String,
    pub body: String,
}

/// Changes a message's wording (coordinators). Unknown placeholders, and placeholders
/// that could name a person in the subject, are refused with the field at fault.
#[utoipa::path(put, path = "/api/v1/messages/{kind}", tag = "mail", security(("bearer" = ["coordinator"])),
    params(("kind" = String, Path, description = "The message kind, such as account_setup")),
    request_body = MessageIn,
    responses((status = 200, body = MessageOut), (status = 404, body = ErrorBody),
               (status = 422, body = ErrorBody)))]
pub async fn put_message(
    Api(a): Api<Coordinator>,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<MessageIn>,
) -> ApiResult<Json<MessageOut>> {
    let kind = kind_param(&key)?;
    let t = MailTemplate::parse(kind, &body.subject, &body.body)?;
    a.save_mail_template(kind, &t).await?;
    Ok(Json(message_out(kind, a.mail_template(kind).await?)))
}

/// Goes back to the default wording (coordinators).
#[utoipa::path(delete, path = "/api/v1/messages/{kind}", tag = "mail", security(("bearer" = ["coordinator"])),
    params(("kind" = String, Path, description = "The message kind")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn reset_message(
    Api(coordinator): Api<Coordinator>,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<StatusCode> {
    coordinator.reset_mail_template(kind_param(&key)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct MailChoice {
    pub kind: MessageKind,
    pub title: &'static str,
    pub receive: bool,
}

async fn choices_out(member: &Member) -> Result<Vec<MailChoice>, AppError> {
    Ok(member
        .mail_choices()
        .await?
        .into_iter()
        .map(|(kind, receive)| MailChoice {
            kind,
            title: kind.info().title,
            receive,
        })
        .collect())
}

/// The optional messages the caller receives or has switched off.
#[utoipa::path(get, path = "/api/v1/me/mail", tag = "mail", security(("bearer" = [])),
    responses((status = 200, body = [MailChoice]), (status = 401, body = ErrorBody)))]
pub async fn my_mail(Api(a): Api<Member>) -> ApiResult<Json<Vec<MailChoice>>> {
    Ok(Json(choices_out(&a).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct MailChoiceIn {
    pub kind: String,
    pub receive: bool,
}

/// Switches optional messages on or off for the caller. Messages a case, a registration
/// or the account depends on cannot be switched off (409).
#[utoipa::path(put, path = "/api/v1/me/mail", tag = "mail", security(("bearer" = [])),
    request_body = [MailChoiceIn],
    responses((status = 200, body = [MailChoice]), (status = 409, body = ErrorBody),
               (status = 422, body = ErrorBody)))]
pub async fn set_my_mail(
    Api(a): Api<Member>,
    ApiJson(body): ApiJson<Vec<MailChoiceIn>>,
) -> ApiResult<Json<Vec<MailChoice>>> {
    let mut choices = Vec::new();
    for c in &body {
        let kind = MessageKind::parse(&c.kind).ok_or_else(|| {
            AppError::Invalid(Invalid::new(
                "kind",
                format!("'{}' is not a kind of message.", c.kind),
            ))
        })?;
        choices.push((kind, c.receive));
    }
    a.set_mail_choices(&choices).await?;
    Ok(Json(choices_out(&a).await?))
}
