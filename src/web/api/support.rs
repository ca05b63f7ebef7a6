//! The JSON API for peer support: file a request (no account needed), follow it with its
//! receipt code (in the body, never the URL), withdraw it; the coordinators' queue.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::ids::RequestId;
use crate::domain::support::{ReferralInput, RequestInput, RequestStatus};
use crate::store::RequestSummary;
use crate::web::AppState;
use crate::web::api::{ApiJson, ApiPath};
use crate::web::http::auth::{Api, ClientAddr, Coordinator, MaybeApiCaller, Member};
use crate::web::http::error::{ApiResult, ErrorBody};

#[derive(Serialize, ToSchema)]
pub struct ReceiptOut {
    /// Shown once: the only way to follow the request without an account.
    pub receipt_code: String,
    pub status: RequestStatus,
}

/// Files a self-request for peer support. No account is needed unless the programme asks
/// for sign-in; with a token, the request also appears among the member's own. The answer
/// carries the receipt code, which is not stored anywhere in readable form.
#[utoipa::path(post, path = "/api/v1/support/requests", security((), ("bearer" = [])), tag = "support",
    request_body = RequestInput,
    responses((status = 201, body = ReceiptOut), (status = 401, body = ErrorBody),
               (status = 422, body = ErrorBody)))]
pub async fn create_request(
    State(state): State<AppState>,
    MaybeApiCaller(caller): MaybeApiCaller,
    ApiJson(input): ApiJson<RequestInput>,
) -> ApiResult<Response> {
    // When the programme asks for sign-in, the API asks for a token.
    let filed = state
        .app
        .public()
        .ask_for_support(&input, caller.as_ref())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(ReceiptOut {
            receipt_code: filed.receipt_code,
            status: filed.summary.status,
        }),
    )
        .into_response())
}

#[derive(Deserialize, ToSchema)]
pub struct ReceiptIn {
    pub receipt_code: String,
}

#[derive(Serialize, ToSchema)]
pub struct StatusOut {
    pub status: RequestStatus,
    /// The status in words, for the person.
    pub status_text: &'static str,
    pub created_at: i64,
    pub updated_at: i64,
}

impl From<RequestSummary> for StatusOut {
    fn from(r: RequestSummary) -> Self {
        Self {
            status: r.status,
            status_text: r.status.for_requester(false),
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// The status of the request a receipt code belongs to. Wrong codes are counted per
/// client address and locked out after 20 in 15 minutes (429).
#[utoipa::path(post, path = "/api/v1/support/requests/status", tag = "support",
    request_body = ReceiptIn,
    responses((status = 200, body = StatusOut), (status = 422, body = ErrorBody),
               (status = 429, body = ErrorBody)))]
pub async fn request_status(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    ApiJson(body): ApiJson<ReceiptIn>,
) -> ApiResult<Json<StatusOut>> {
    let requester = state
        .app
        .public()
        .requester(&body.receipt_code, &address)
        .await?;
    Ok(Json(requester.into_parts().1.into()))
}

/// Withdraws the request a receipt code belongs to; its free text is erased at once.
#[utoipa::path(post, path = "/api/v1/support/requests/withdraw", tag = "support",
    request_body = ReceiptIn,
    responses((status = 200, body = StatusOut), (status = 409, body = ErrorBody),
               (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn withdraw_request(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    ApiJson(body): ApiJson<ReceiptIn>,
) -> ApiResult<Json<StatusOut>> {
    let requester = state
        .app
        .public()
        .requester(&body.receipt_code, &address)
        .await?;
    Ok(Json(requester.withdraw().await?.into_parts().1.into()))
}

#[derive(Serialize, ToSchema)]
pub struct ReferralOut {
    /// All a referrer learns: that the referral arrived.
    pub received: bool,
}

/// Refers a colleague for proactive outreach (any signed-in member). The answer says only
/// that it was received.
#[utoipa::path(post, path = "/api/v1/support/referrals", tag = "support", security(("bearer" = [])),
    request_body = ReferralInput,
    responses((status = 201, body = ReferralOut), (status = 401, body = ErrorBody),
               (status = 422, body = ErrorBody)))]
pub async fn refer(
    State(_state): State<AppState>,
    Api(a): Api<Member>,
    ApiJson(input): ApiJson<ReferralInput>,
) -> ApiResult<Response> {
    a.refer(&input).await?;
    Ok((StatusCode::CREATED, Json(ReferralOut { received: true })).into_response())
}

/// The caller's own requests (filed while signed in or with a token), newest first.
#[utoipa::path(get, path = "/api/v1/support/mine", tag = "support", security(("bearer" = [])),
    responses((status = 200, body = [RequestSummary]), (status = 401, body = ErrorBody)))]
pub async fn mine(
    State(_state): State<AppState>,
    Api(a): Api<Member>,
) -> ApiResult<Json<Vec<RequestSummary>>> {
    Ok(Json(a.my_support_requests().await?))
}

/// Withdraws one of the caller's own requests (filed while signed in); its free text is
/// erased at once. Another person's request is 404, as if it did not exist.
#[utoipa::path(post, path = "/api/v1/support/mine/{id}/withdraw", tag = "support", security(("bearer" = [])),
    params(("id" = i64, Path, description = "The request's id, from /api/v1/support/mine")),
    responses((status = 200, body = RequestSummary), (status = 401, body = ErrorBody),
               (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn withdraw_mine(
    State(_state): State<AppState>,
    Api(a): Api<Member>,
    ApiPath(id): ApiPath<RequestId>,
) -> ApiResult<Json<RequestSummary>> {
    Ok(Json(a.withdraw_my_request(id).await?))
}

/// Open requests, oldest first, naming no one (coordinators).
#[utoipa::path(get, path = "/api/v1/support/queue", tag = "support", security(("bearer" = ["coordinator"])),
    responses((status = 200, body = [RequestSummary]), (status = 403, body = ErrorBody)))]
pub async fn queue(
    State(_state): State<AppState>,
    Api(coordinator): Api<Coordinator>,
) -> ApiResult<Json<Vec<RequestSummary>>> {
    Ok(Json(coordinator.support_queue().await?))
}
