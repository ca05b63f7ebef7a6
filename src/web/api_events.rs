//! The JSON API for events: listing and reading them (anyone), registering (a member
//! with a token, or a guest where the event allows), cancelling with the link's secret,
//! and for coordinators creating, changing and cancelling events, the registrant list,
//! check-in, lotteries and counts.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::api::{ApiJson, ApiPath};
use super::auth::{ApiCaller, ApiCoordinator, ClientAddr, MaybeApiCaller};
use super::error::{ApiResult, AppError, ErrorBody};
use super::events::{ListQuery, check_window, filter_from, registration_from_form};
use crate::domain::events::{Child, Event, EventDraft, EventInput, RegistrationStatus};
use crate::domain::{Invalid, now};
use crate::eventwork;
use crate::store::{EventCounts, Registration};

#[derive(Deserialize, IntoParams)]
pub struct EventsQuery {
    /// A series' slug.
    #[serde(default)]
    pub series: String,
    /// faculty, residents, students or public.
    #[serde(default)]
    pub audience: String,
    /// YYYY-MM.
    #[serde(default)]
    pub month: String,
}

/// Upcoming events, soonest first. Online links are given only to people with a place,
/// so they are left out here.
#[utoipa::path(get, path = "/api/v1/events", tag = "events", params(EventsQuery),
    responses((status = 200, body = [Event])))]
pub async fn list_events(
    State(state): State<AppState>,
    Query(q): Query<EventsQuery>,
) -> ApiResult<Json<Vec<Event>>> {
    let series = state.store.list_series().await?;
    let zone = state.store.service_level_settings().await?.time_zone;
    let (f, _) = filter_from(
        &ListQuery::new(q.series, q.audience, q.month),
        &series,
        &zone,
    );
    let events = state.store.list_events(&f).await?;
    Ok(Json(events.into_iter().map(Event::for_public).collect()))
}

/// One event with its questions and readings.
#[utoipa::path(get, path = "/api/v1/events/{id}", tag = "events",
    params(("id" = i64, Path, description = "Event id")),
    responses((status = 200, body = Event), (status = 404, body = ErrorBody)))]
pub async fn get_event(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Event>> {
    Ok(Json(state.store.event(id).await?.for_public()))
}

#[derive(Serialize, ToSchema)]
pub struct Created {
    /// The new events' ids, one per occurrence, in date order.
    pub ids: Vec<i64>,
}

/// Creates an event, or one per occurrence when it repeats (coordinators). Mistakes name
/// their field.
#[utoipa::path(post, path = "/api/v1/events", tag = "events", security(("bearer" = [])),
    request_body = EventInput,
    responses((status = 201, body = Created), (status = 422, body = ErrorBody)))]
pub async fn create_event(
    State(state): State<AppState>,
    _: ApiCoordinator,
    ApiJson(input): ApiJson<EventInput>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let d = EventDraft::parse(&input).map_err(AppError::from)?;
    let ids = state.store.create_events(&d).await.map_err(|e| match e {
        crate::store::StoreError::Conflict(m) => AppError::from(Invalid::new("series", m)),
        e => e.into(),
    })?;
    Ok((StatusCode::CREATED, Json(Created { ids })))
}

/// Changes one event (coordinators); everyone registered is told, with a new calendar
/// entry. Repetition fields are ignored: each occurrence is changed on its own.
#[utoipa::path(put, path = "/api/v1/events/{id}", tag = "events", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Event id")), request_body = EventInput,
    responses((status = 200, body = Event), (status = 422, body = ErrorBody),
               (status = 409, body = ErrorBody)))]
pub async fn update_event(
    State(state): State<AppState>,
    _: ApiCoordinator,
    ApiPath(id): ApiPath<i64>,
    ApiJson(mut input): ApiJson<EventInput>,
) -> ApiResult<Json<Event>> {
    input.repeat.clear();
    let d = EventDraft::parse(&input).map_err(AppError::from)?;
    eventwork::change_event(&state.store, &state.web.public_url, id, &d).await?;
    Ok(Json(state.store.event(id).await?))
}

/// Cancels an event and tells everyone registered (coordinators).
#[utoipa::path(post, path = "/api/v1/events/{id}/cancel", tag = "events",
    security(("bearer" = [])), params(("id" = i64, Path, description = "Event id")),
    responses((status = 200, body = Event), (status = 404, body = ErrorBody)))]
pub async fn cancel_event(
    State(state): State<AppState>,
    _: ApiCoordinator,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Event>> {
    eventwork::cancel_event(&state.store, &state.web.public_url, id).await?;
    Ok(Json(state.store.event(id).await?))
}

/// Draws a lottery now (coordinators). The seed is returned and kept with the event.
#[utoipa::path(post, path = "/api/v1/events/{id}/draw", tag = "events",
    security(("bearer" = [])), params(("id" = i64, Path, description = "Event id")),
    responses((status = 200, body = Event), (status = 409, body = ErrorBody)))]
pub async fn draw(
    State(state): State<AppState>,
    _: ApiCoordinator,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Event>> {
    let seed = crate::crypto::random_hex(16);
    eventwork::draw_lottery(&state.store, &state.web.public_url, id, &seed)
        .await?
        .ok_or_else(|| {
            AppError::Conflict(
                "This event's places are not drawn by lottery, or were drawn already.".into(),
            )
        })?;
    Ok(Json(state.store.event(id).await?))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct RegistrationIn {
    /// For guests; a member's token registers the member.
    pub name: String,
    pub email: String,
    /// Answers by question id; a several-choices question takes a list.
    #[schema(value_type = Object)]
    pub answers: std::collections::HashMap<String, serde_json::Value>,
    /// For students' events: the children a guardian registers.
    pub children: Vec<Child>,
    pub guardian_relationship: String,
    /// The guardian agrees to the consent text (its version is recorded).
    pub consent: bool,
    /// The version of the consent text the guardian read (`GET /api/v1/consent`); if
    /// given and no longer current, the registration is refused so that they read the
    /// new one.
    pub consent_version: String,
}

#[derive(Serialize, ToSchema)]
pub struct RegistrationOut {
    pub id: i64,
    /// confirmed, waitlisted, or entered (in a lottery not yet drawn).
    pub status: RegistrationStatus,
    /// Place on the waiting list, when waitlisted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<i64>,
    /// The page where the registration is seen and cancelled; keep it private. Left out
    /// when a guest registers an address again (its confirmation is sent again instead).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manage_url: Option<String>,
}

/// A guest's registration waiting for their address to be confirmed.
#[derive(Serialize, ToSchema)]
pub struct AwaitingConfirmationOut {
    /// Always `awaiting_confirmation`.
    pub status: &'static str,
    pub message: String,
    /// When the link in the message stops working.
    pub expires_at: i64,
}

/// Registers the caller (with a token) or a guest. 201 with `status` and, when
/// waitlisted, `position`; registering again returns the same registration with 200. A
/// guest of an event that asks guests to confirm their address gets 202: a link went to
/// the address, and no place is held until it is followed. Guests are limited per client
/// address and per e-mail address each hour (429).
#[utoipa::path(post, path = "/api/v1/events/{id}/registrations", tag = "events",
    params(("id" = i64, Path, description = "Event id")), request_body = RegistrationIn,
    responses((status = 201, body = RegistrationOut), (status = 200, body = RegistrationOut),
               (status = 202, body = AwaitingConfirmationOut),
               (status = 422, body = ErrorBody), (status = 409, body = ErrorBody),
               (status = 429, body = ErrorBody)))]
pub async fn register(
    State(state): State<AppState>,
    MaybeApiCaller(caller): MaybeApiCaller,
    ClientAddr(address): ClientAddr,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<RegistrationIn>,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let e = state.store.event(id).await?;
    check_window(&e).map_err(AppError::from)?;
    // The same reading as the form's: turn the body into its fields.
    let mut pairs = vec![
        ("name".to_string(), body.name),
        ("email".to_string(), body.email),
        (
            "guardian_relationship".to_string(),
            body.guardian_relationship,
        ),
        (
            "consent".to_string(),
            if body.consent { "yes" } else { "" }.to_string(),
        ),
        ("consent_version".to_string(), body.consent_version),
    ];
    for (q, v) in body.answers {
        let values = match v {
            serde_json::Value::Array(items) => items,
            v => vec![v],
        };
        for v in values {
            let text = match v {
                serde_json::Value::String(s) => s,
                serde_json::Value::Bool(b) => if b { "yes" } else { "no" }.to_string(),
                v => v.to_string(),
            };
            pairs.push((format!("q{q}"), text));
        }
    }
    if body.children.len() > crate::domain::events::MAX_CHILDREN {
        return Err(AppError::from(Invalid::new(
            "children",
            format!(
                "At most {} children per registration.",
                crate::domain::events::MAX_CHILDREN
            ),
        ))
        .into());
    }
    for (i, c) in body.children.iter().enumerate() {
        let n = i + 1;
        pairs.push((format!("child{n}_first_name"), c.first_name.clone()));
        pairs.push((format!("child{n}_grade"), c.grade.clone()));
        pairs.push((format!("child{n}_school"), c.school.clone()));
    }
    // Only students' events ask for consent: others skip reading its text.
    let consent = if e.for_minors {
        state.store.consent_text().await?
    } else {
        crate::domain::events::ConsentText::default()
    };
    let r =
        registration_from_form(&e, caller.as_ref(), &pairs, &consent).map_err(AppError::from)?;
    let out = match eventwork::register(
        &state.store,
        &state.web.public_url,
        &e,
        &r,
        eventwork::Caller {
            address: &address,
            guest_registrations_per_hour: state.web.guest_registrations_per_address,
        },
    )
    .await
    .map_err(AppError::from)?
    {
        eventwork::Outcome::Registered(out) => out,
        eventwork::Outcome::CheckYourMail { expires_at } => {
            return Ok((
                StatusCode::ACCEPTED,
                Json(AwaitingConfirmationOut {
                    status: "awaiting_confirmation",
                    message: CONFIRM_SENT.to_string(),
                    expires_at,
                }),
            )
                .into_response());
        }
    };
    let code = if out.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        code,
        Json(RegistrationOut {
            id: out.id,
            status: out.status,
            position: out.position,
            manage_url: (out.created || r.account_id.is_some()).then(|| {
                format!(
                    "{}{}",
                    state.web.public_url.as_str().trim_end_matches('/'),
                    eventwork::manage_path(&out.secret)
                )
            }),
        }),
    )
        .into_response())
}

/// What a guest is told when their address must be confirmed first.
pub const CONFIRM_SENT: &str = "We have e-mailed a link to this address. Your place is held only once you follow it, within a day; if the message does not arrive, check the address and your spam folder.";

#[derive(Deserialize, ToSchema)]
pub struct CancelIn {
    /// The secret from the registration's manage link.
    pub secret: String,
}

/// Cancels a registration with its link's secret (no sign-in). Freed places go to those
/// waiting. Cancelling twice is harmless.
#[utoipa::path(post, path = "/api/v1/registrations/cancel", tag = "events",
    request_body = CancelIn,
    responses((status = 200, body = Registration), (status = 404, body = ErrorBody)))]
pub async fn cancel_registration(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CancelIn>,
) -> ApiResult<Json<Registration>> {
    let r = state
        .store
        .registration_by_secret(body.secret.trim())
        .await?;
    let e = state.store.event(r.event_id).await?;
    eventwork::cancel(&state.store, &state.web.public_url, &e, r.id).await?;
    Ok(Json(state.store.registration(r.id).await?))
}

/// Everyone registered for an event, in arrival order (coordinators).
#[utoipa::path(get, path = "/api/v1/events/{id}/registrations", tag = "events",
    security(("bearer" = [])), params(("id" = i64, Path, description = "Event id")),
    responses((status = 200, body = [Registration]), (status = 403, body = ErrorBody)))]
pub async fn registrations(
    State(state): State<AppState>,
    _: ApiCoordinator,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<Registration>>> {
    state.store.event(id).await?;
    Ok(Json(state.store.registrations_for(id).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct CheckInIn {
    /// True to mark as arrived, false to undo.
    pub arrived: bool,
}

/// Marks someone as arrived (coordinators).
#[utoipa::path(post, path = "/api/v1/events/{id}/registrations/{registration}/check-in",
    tag = "events", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Event id"),
           ("registration" = i64, Path, description = "Registration id")),
    request_body = CheckInIn,
    responses((status = 200, body = Registration), (status = 409, body = ErrorBody)))]
pub async fn check_in(
    State(state): State<AppState>,
    _: ApiCoordinator,
    ApiPath((id, registration)): ApiPath<(i64, i64)>,
    ApiJson(body): ApiJson<CheckInIn>,
) -> ApiResult<Json<Registration>> {
    if state.store.registration(registration).await?.event_id != id {
        return Err(AppError::NotFound.into());
    }
    Ok(Json(
        state
            .store
            .set_checked_in(registration, body.arrived)
            .await?,
    ))
}

#[derive(Deserialize, IntoParams)]
pub struct CountsQuery {
    /// A series' slug; empty for every event.
    #[serde(default)]
    pub series: String,
}

/// Registered, waitlisted, attended and no-show rate per event (coordinators).
#[utoipa::path(get, path = "/api/v1/reports/events", tag = "events",
    security(("bearer" = [])), params(CountsQuery),
    responses((status = 200, body = [EventCounts])))]
pub async fn counts(
    State(state): State<AppState>,
    _: ApiCoordinator,
    Query(q): Query<CountsQuery>,
) -> ApiResult<Json<Vec<EventCounts>>> {
    let series = if q.series.is_empty() {
        None
    } else {
        Some(state.store.series_by_slug(&q.series).await?.id)
    };
    Ok(Json(state.store.event_counts(series).await?))
}

/// Totals per series: events, registered, waitlisted, attended, no-show rate
/// (coordinators).
#[utoipa::path(get, path = "/api/v1/reports/series", tag = "events",
    security(("bearer" = [])),
    responses((status = 200, body = [eventwork::SeriesTotals])))]
pub async fn series_counts(
    State(state): State<AppState>,
    _: ApiCoordinator,
) -> ApiResult<Json<Vec<eventwork::SeriesTotals>>> {
    let counts = state.store.event_counts(None).await?;
    Ok(Json(eventwork::series_totals(&counts)))
}

#[derive(Serialize, ToSchema)]
pub struct MyRegistration {
    pub event: Event,
    pub registration: Registration,
}

/// The caller's upcoming registrations.
#[utoipa::path(get, path = "/api/v1/me/registrations", tag = "events",
    security(("bearer" = [])), responses((status = 200, body = [MyRegistration])))]
pub async fn mine(
    State(state): State<AppState>,
    ApiCaller(a): ApiCaller,
) -> ApiResult<Json<Vec<MyRegistration>>> {
    Ok(Json(
        state
            .store
            .registrations_of(a.id.0, now())
            .await?
            .into_iter()
            .map(|(event, registration)| MyRegistration {
                event,
                registration,
            })
            .collect(),
    ))
}
