//! The JSON API for matching and cases: a request's shortlist and offers (coordinators);
//! a helper's profile, offers, cases, contacts and closing (helpers). The same rules as
//! the pages: a helper not on a case gets 404; who asked is shown only to the case's
//! helper, after the view is audited.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::accounts::AccountId;
use crate::domain::cases::{ContactInput, Outcome};
use crate::domain::helpers::{HelperProfile, ProfileInput};
use crate::domain::ids::{OfferId, RequestId};
use crate::domain::matching::Candidate;
use crate::store::{Offer, RequestSummary};
use crate::web::AppState;
use crate::web::api::{ApiJson, ApiPath};
use crate::web::http::auth::{Api, Coordinator, Helper};
use crate::web::http::error::{ApiResult, ErrorBody};

/// The best three helpers for a request, with the reasons for each score (coordinators).
#[utoipa::path(get, path = "/api/v1/support/requests/{id}/shortlist", tag = "matching",
    security(("bearer" = ["coordinator"])), params(("id" = i64, Path, description = "Request id")),
    responses((status = 200, body = [Candidate]), (status = 403, body = ErrorBody),
               (status = 404, body = ErrorBody),
               (status = 409, description = "The programme works coordinator-blind", body = ErrorBody)))]
pub async fn shortlist(
    State(_state): State<AppState>,
    Api(c): Api<Coordinator>,
    ApiPath(id): ApiPath<RequestId>,
) -> ApiResult<Json<Vec<Candidate>>> {
    // Scores and their reasons come from the person's sealed preferences.
    Ok(Json(c.shortlist(id, 3).await?))
}

/// Offers a waiting request to its next suitable helper, chosen by the programme
/// (coordinators): the way to offer in a coordinator-blind programme. 409 when no helper
/// can take it now.
#[utoipa::path(post, path = "/api/v1/support/requests/{id}/offer-next", tag = "matching",
    security(("bearer" = ["coordinator"])), params(("id" = i64, Path, description = "Request id")),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn offer_next(
    State(_state): State<AppState>,
    Api(coordinator): Api<Coordinator>,
    ApiPath(id): ApiPath<RequestId>,
) -> ApiResult<StatusCode> {
    coordinator.offer_next(id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct OfferIn {
    /// The helper's account id.
    pub helper: AccountId,
}

/// Offers a waiting request to a helper who meets every hard constraint (coordinators).
#[utoipa::path(post, path = "/api/v1/support/requests/{id}/offers", tag = "matching",
    security(("bearer" = ["coordinator"])), params(("id" = i64, Path, description = "Request id")),
    request_body = OfferIn,
    responses((status = 201, body = Offer),
               (status = 409, description = "Taken, or the programme works coordinator-blind", body = ErrorBody),
               (status = 422, body = ErrorBody)))]
pub async fn offer(
    State(_state): State<AppState>,
    Api(c): Api<Coordinator>,
    ApiPath(id): ApiPath<RequestId>,
    ApiJson(body): ApiJson<OfferIn>,
) -> ApiResult<(StatusCode, Json<Offer>)> {
    let o = c.offer(id, body.helper).await?;
    Ok((StatusCode::CREATED, Json(o)))
}

/// The caller's helper profile.
#[utoipa::path(get, path = "/api/v1/helper/profile", tag = "helpers", security(("bearer" = ["helper"])),
    responses((status = 200, body = HelperProfile), (status = 403, body = ErrorBody)))]
pub async fn get_profile(
    State(_state): State<AppState>,
    Api(a): Api<Helper>,
) -> ApiResult<Json<HelperProfile>> {
    Ok(Json(a.profile().await?))
}

/// Replaces the caller's helper profile; a mistake names its field.
#[utoipa::path(put, path = "/api/v1/helper/profile", tag = "helpers", security(("bearer" = ["helper"])),
    request_body = ProfileInput,
    responses((status = 200, body = HelperProfile), (status = 422, body = ErrorBody)))]
pub async fn put_profile(
    State(_state): State<AppState>,
    Api(a): Api<Helper>,
    ApiJson(input): ApiJson<ProfileInput>,
) -> ApiResult<Json<HelperProfile>> {
    Ok(Json(a.save_profile(&input).await?))
}

#[derive(Serialize, ToSchema)]
pub struct OfferOut {
    pub offer: Offer,
    /// What the request is about; never who asked.
    pub request: RequestSummary,
}

/// The caller's offers waiting for an answer.
#[utoipa::path(get, path = "/api/v1/helper/offers", tag = "helpers", security(("bearer" = ["helper"])),
    responses((status = 200, body = [OfferOut]), (status = 403, body = ErrorBody)))]
pub async fn offers(
    State(_state): State<AppState>,
    Api(a): Api<Helper>,
) -> ApiResult<Json<Vec<OfferOut>>> {
    Ok(Json(
        a.offers()
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
#[utoipa::path(post, path = "/api/v1/helper/offers/{id}", tag = "helpers", security(("bearer" = ["helper"])),
    params(("id" = i64, Path, description = "Offer id")), request_body = AnswerIn,
    responses((status = 200, body = Offer), (status = 404, body = ErrorBody),
               (status = 409, body = ErrorBody)))]
pub async fn answer(
    State(_state): State<AppState>,
    Api(a): Api<Helper>,
    ApiPath(id): ApiPath<OfferId>,
    ApiJson(body): ApiJson<AnswerIn>,
) -> ApiResult<Json<Offer>> {
    let o = if body.accept {
        a.accept_offer(id).await?
    } else {
        a.decline_offer(id).await?
    };
    Ok(Json(o))
}

/// The caller's open cases.
#[utoipa::path(get, path = "/api/v1/helper/cases", tag = "helpers", security(("bearer" = ["helper"])),
    responses((status = 200, body = [RequestSummary]), (status = 403, body = ErrorBody)))]
pub async fn cases(
    State(_state): State<AppState>,
    Api(a): Api<Helper>,
) -> ApiResult<Json<Vec<RequestSummary>>> {
    Ok(Json(a.cases().await?))
}

/// Logs a contact on the caller's case: when, how, how long, which resources. There is
/// no free-text field.
#[utoipa::path(post, path = "/api/v1/helper/cases/{id}/contacts", tag = "helpers",
    security(("bearer" = ["helper"])), params(("id" = i64, Path, description = "Request id")),
    request_body = ContactInput,
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
               (status = 422, body = ErrorBody)))]
pub async fn contact(
    State(_state): State<AppState>,
    Api(a): Api<Helper>,
    ApiPath(id): ApiPath<RequestId>,
    ApiJson(input): ApiJson<ContactInput>,
) -> ApiResult<StatusCode> {
    a.log_contact(id, &input).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseIn {
    pub outcome: Outcome,
}

/// Closes the caller's case; what the person wrote is erased.
#[utoipa::path(post, path = "/api/v1/helper/cases/{id}/close", tag = "helpers",
    security(("bearer" = ["helper"])), params(("id" = i64, Path, description = "Request id")),
    request_body = CloseIn,
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
               (status = 422, body = ErrorBody)))]
pub async fn close(
    State(_state): State<AppState>,
    Api(a): Api<Helper>,
    ApiPath(id): ApiPath<RequestId>,
    ApiJson(body): ApiJson<CloseIn>,
) -> ApiResult<StatusCode> {
    a.close_case(id, body.outcome).await?;
    Ok(StatusCode::NO_CONTENT)
}
