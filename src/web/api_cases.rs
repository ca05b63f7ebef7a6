//! The JSON API for matching and cases: a request's shortlist and offers (coordinators);
//! a helper's profile, offers, cases, contacts and closing (helpers). The same rules as
//! the pages: a helper not on a case gets 404; who asked is shown only to the case's
//! helper, after the view is audited.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::AppState;
use super::api::{ApiJson, ApiPath};
use super::auth::{ApiCoordinator, ApiHelper};
use super::error::{ApiResult, AppError, ErrorBody};
use crate::domain::cases::{ContactWhen, Outcome, parse_contact};
use crate::domain::helpers::{HelperProfile, ProfileInput};
use crate::domain::matching::{self, Candidate};
use crate::domain::{Invalid, now};
use crate::store::{Offer, RequestSummary};

/// The best three helpers for a request, with the reasons for each score (coordinators).
#[utoipa::path(get, path = "/api/v1/support/requests/{id}/shortlist", tag = "matching",
    security(("bearer" = [])), params(("id" = i64, Path, description = "Request id")),
    responses((status = 200, body = [Candidate]), (status = 403, body = ErrorBody),
               (status = 404, body = ErrorBody),
               (status = 409, description = "The programme works coordinator-blind", body = ErrorBody)))]
pub async fn shortlist(
    State(state): State<AppState>,
    ApiCoordinator(c): ApiCoordinator,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<Candidate>>> {
    // Scores and their reasons come from the person's sealed preferences.
    if state.store.coordinator_blind().await? || state.store.filed_blind(id).await? {
        return Err(AppError::Conflict(
            "This programme works coordinator-blind: requests are matched automatically, and no shortlist is shown.".into(),
        )
        .into());
    }
    let m = super::cases::matching_inputs(&state, id, c.id).await?;
    Ok(Json(matching::shortlist(
        &m.helpers,
        &m.request,
        &m.weights,
        m.policy,
        now(),
        3,
    )))
}

/// Offers a waiting request to its next suitable helper, chosen by the programme
/// (coordinators): the way to offer in a coordinator-blind programme. 409 when no helper
/// can take it now.
#[utoipa::path(post, path = "/api/v1/support/requests/{id}/offer-next", tag = "matching",
    security(("bearer" = [])), params(("id" = i64, Path, description = "Request id")),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn offer_next(
    State(state): State<AppState>,
    _: ApiCoordinator,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    super::cases::offer_next_for(&state, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct OfferIn {
    /// The helper's account id.
    pub helper: i64,
}

/// Offers a waiting request to a helper who meets every hard constraint (coordinators).
#[utoipa::path(post, path = "/api/v1/support/requests/{id}/offers", tag = "matching",
    security(("bearer" = [])), params(("id" = i64, Path, description = "Request id")),
    request_body = OfferIn,
    responses((status = 201, body = Offer),
               (status = 409, description = "Taken, or the programme works coordinator-blind", body = ErrorBody),
               (status = 422, body = ErrorBody)))]
pub async fn offer(
    State(state): State<AppState>,
    ApiCoordinator(c): ApiCoordinator,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<OfferIn>,
) -> ApiResult<(StatusCode, Json<Offer>)> {
    let o = super::cases::offer_checked(&state, id, body.helper, c.id).await?;
    Ok((StatusCode::CREATED, Json(o)))
}

/// The caller's helper profile.
#[utoipa::path(get, path = "/api/v1/helper/profile", tag = "helpers", security(("bearer" = [])),
    responses((status = 200, body = HelperProfile), (status = 403, body = ErrorBody)))]
pub async fn get_profile(
    State(state): State<AppState>,
    ApiHelper(a): ApiHelper,
) -> ApiResult<Json<HelperProfile>> {
    Ok(Json(state.store.helper_profile(a.id).await?))
}

/// Replaces the caller's helper profile; a mistake names its field.
#[utoipa::path(put, path = "/api/v1/helper/profile", tag = "helpers", security(("bearer" = [])),
    request_body = ProfileInput,
    responses((status = 200, body = HelperProfile), (status = 422, body = ErrorBody)))]
pub async fn put_profile(
    State(state): State<AppState>,
    ApiHelper(a): ApiHelper,
    ApiJson(input): ApiJson<ProfileInput>,
) -> ApiResult<Json<HelperProfile>> {
    let p = HelperProfile::parse(&input)?;
    state.store.save_helper_profile(a.id, &p).await?;
    Ok(Json(p))
}

#[derive(Serialize, ToSchema)]
pub struct OfferOut {
    pub offer: Offer,
    /// What the request is about; never who asked.
    pub request: RequestSummary,
}

/// The caller's offers waiting for an answer.
#[utoipa::path(get, path = "/api/v1/helper/offers", tag = "helpers", security(("bearer" = [])),
    responses((status = 200, body = [OfferOut]), (status = 403, body = ErrorBody)))]
pub async fn offers(
    State(state): State<AppState>,
    ApiHelper(a): ApiHelper,
) -> ApiResult<Json<Vec<OfferOut>>> {
    Ok(Json(
        state
            .store
            .pending_offers(a.id)
            .await?
            .into_iter()
            .map(|(offer, request)| OfferOut { offer, request })
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct AnswerIn {
    pub accept: bool,
}

/// Accepts or declines an offer. A decline passes the request to the next candidate.
#[utoipa::path(post, path = "/api/v1/helper/offers/{id}", tag = "helpers", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Offer id")), request_body = AnswerIn,
    responses((status = 200, body = Offer), (status = 404, body = ErrorBody),
               (status = 409, body = ErrorBody)))]
pub async fn answer(
    State(state): State<AppState>,
    ApiHelper(a): ApiHelper,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<AnswerIn>,
) -> ApiResult<Json<Offer>> {
    let o = if body.accept {
        super::cases::accept_offer(&state, id, a.id).await?
    } else {
        super::cases::decline_offer(&state, id, a.id).await?
    };
    Ok(Json(o))
}

/// The caller's open cases.
#[utoipa::path(get, path = "/api/v1/helper/cases", tag = "helpers", security(("bearer" = [])),
    responses((status = 200, body = [RequestSummary]), (status = 403, body = ErrorBody)))]
pub async fn cases(
    State(state): State<AppState>,
    ApiHelper(a): ApiHelper,
) -> ApiResult<Json<Vec<RequestSummary>>> {
    Ok(Json(state.store.helper_cases(a.id).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct ContactIn {
    /// YYYY-MM-DD in the programme's time zone; with `time`, or both left out for now.
    #[serde(default)]
    pub date: String,
    /// HH:MM in the programme's time zone.
    #[serde(default)]
    pub time: String,
    /// email, phone, video or in_person
    pub mode: String,
    pub minutes: u32,
    /// Keys from the resource directory.
    #[serde(default)]
    pub resources: Vec<String>,
}

/// Logs a contact on the caller's case: when, how, how long, which resources. There is
/// no free-text field.
#[utoipa::path(post, path = "/api/v1/helper/cases/{id}/contacts", tag = "helpers",
    security(("bearer" = [])), params(("id" = i64, Path, description = "Request id")),
    request_body = ContactIn,
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
               (status = 422, body = ErrorBody)))]
pub async fn contact(
    State(state): State<AppState>,
    ApiHelper(a): ApiHelper,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ContactIn>,
) -> ApiResult<StatusCode> {
    let known = state.store.active_resource_keys().await?;
    let request = state.store.case_of(id, a.id).await?;
    let (hours, _) = super::support::business_hours(&state.store).await?;
    let when = ContactWhen {
        date: &body.date,
        time: &body.time,
        zone: hours.time_zone(),
        requested_at: request.created_at,
        now: now(),
    };
    let c = parse_contact(
        when,
        &body.mode,
        &body.minutes.to_string(),
        &body.resources,
        &known,
    )?;
    state.store.log_contact(id, a.id, &c).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct CloseIn {
    /// met, declined, unreachable or referred_on
    pub outcome: String,
}

/// Closes the caller's case; what the person wrote is erased.
#[utoipa::path(post, path = "/api/v1/helper/cases/{id}/close", tag = "helpers",
    security(("bearer" = [])), params(("id" = i64, Path, description = "Request id")),
    request_body = CloseIn,
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
               (status = 422, body = ErrorBody)))]
pub async fn close(
    State(state): State<AppState>,
    ApiHelper(a): ApiHelper,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<CloseIn>,
) -> ApiResult<StatusCode> {
    let outcome = Outcome::parse(&body.outcome).ok_or_else(|| {
        AppError::from(Invalid::new(
            "outcome",
            "Use met, declined, unreachable or referred_on.",
        ))
    })?;
    super::cases::close_case(&state, id, a.id, outcome).await?;
    Ok(StatusCode::NO_CONTENT)
}
