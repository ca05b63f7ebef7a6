//! The JSON API for events: listing and reading them (anyone), registering (a member
//! with a token, or a guest where the event allows), cancelling with the link's secret,
//! and for coordinators creating, changing and cancelling events, the registrant list,
//! check-in, lotteries and counts.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::app::events as eventwork;
use crate::domain::events::ConsentText;
use crate::domain::events::{Child, Event, EventInput, RegistrationStatus};
use crate::domain::ids::{EventId, RegistrationId};
use crate::store::{EventCounts, Registration};
use crate::web::AppState;
use crate::web::api::{ApiJson, ApiPath, ApiQuery};
use crate::web::events::listing::{ListQuery, filter_from};
use crate::web::events::manage::consent::ConsentIn;
use crate::web::http::auth::{Api, ClientAddr, Coordinator, MaybeApiCaller, Member};
use crate::web::http::error::{ApiResult, ErrorBody};

#[derive(Deserialize, IntoParams)]
pub struct EventsQuery {
    /// A series' slug.
    #[serde(default)]
    pub series: String,
    #[serde(default)]
    pub audience: Option<crate::domain::events::Audience>,
    /// A month of the programme's calendar.
    #[serde(default)]
    #[param(pattern = r"^[0-9]{4}-(0[1-9]|1[0-2])$", example = "2027-03")]
    pub month: String,
}

/// Upcoming events, soonest first. Online links are given only to people with a place,
/// so they are left out here.
#[utoipa::path(get, path = "/api/v1/events", tag = "events", params(EventsQuery),
    responses((status = 200, body = [Event])))]
pub async fn list_events(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<EventsQuery>,
) -> ApiResult<Json<Vec<Event>>> {
    // The page ignores a malformed month (a visitor's typing); the API says so.
    if !q.month.is_empty()
        && format!("{}-01", q.month.trim())
            .parse::<jiff::civil::Date>()
            .is_err()
    {
        return Err(crate::domain::Invalid::new(
            "month",
            "Give the month as YYYY-MM, such as 2027-03.",
        )
        .into());
    }
    let series = state.app.public().series_list().await?;
    // An unknown series would otherwise filter nothing and list every event.
    if !q.series.is_empty() && !series.iter().any(|s| s.slug == q.series) {
        return Err(
            crate::domain::Invalid::new("series", "There is no series with that address.").into(),
        );
    }
    let zone = state.app.public().time_zone().await?;
    let audience = q.audience.map(|a| a.key().to_string()).unwrap_or_default();
    let (f, _) = filter_from(
        &ListQuery::new(q.series, audience, q.month),
        &series,
        &zone,
        state.app.now(),
    );
    let events = state.app.public().events(&f).await?;
    Ok(Json(events.into_iter().map(Event::for_public).collect()))
}

/// One event with its questions and readings.
#[utoipa::path(get, path = "/api/v1/events/{id}", tag = "events",
    params(("id" = i64, Path, description = "Event id")),
    responses((status = 200, body = Event), (status = 404, body = ErrorBody)))]
pub async fn get_event(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<EventId>,
) -> ApiResult<Json<Event>> {
    Ok(Json(state.app.public().event(id).await?.for_public()))
}

#[derive(Serialize, ToSchema)]
pub struct Created {
    /// The new events' ids, one per occurrence, in date order.
    pub ids: Vec<i64>,
}

/// A mistake in an event's rows named as the body names them: the page's `q2_label` and
/// `r1_title` are `questions[1]` and `readings[0]`.
fn event_fields(e: crate::app::Error) -> crate::app::Error {
    match e {
        crate::app::Error::Invalid(i) => crate::app::Error::Invalid(i.with_fields_named(|f| {
            let (list, rest) = match f.as_bytes().first() {
                Some(b'q') => ("questions", f.strip_suffix("_label")?),
                Some(b'r') => ("readings", f.strip_suffix("_title")?),
                _ => return None,
            };
            let n: usize = rest.get(1..)?.parse().ok()?;
            Some(format!("{list}[{}]", n.checked_sub(1)?))
        })),
        e => e,
    }
}

/// Creates an event, or one per occurrence when it repeats (coordinators). Mistakes name
/// their field.
#[utoipa::path(post, path = "/api/v1/events", tag = "events", security(("bearer" = ["coordinator"])),
    request_body = EventInput,
    responses((status = 201, body = Created), (status = 409, body = ErrorBody, description = "No such series (`field`: series)"),
               (status = 422, body = ErrorBody)))]
pub async fn create_event(
    State(_state): State<AppState>,
    Api(coordinator): Api<Coordinator>,
    ApiJson(input): ApiJson<EventInput>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let ids = coordinator
        .create_events(&input)
        .await
        .map_err(event_fields)?;
    Ok((StatusCode::CREATED, Json(Created { ids })))
}

/// Changes one event (coordinators); everyone registered is told, with a new calendar
/// entry. Repetition fields are ignored: each occurrence is changed on its own.
#[utoipa::path(put, path = "/api/v1/events/{id}", tag = "events", security(("bearer" = ["coordinator"])),
    params(("id" = i64, Path, description = "Event id")), request_body = EventInput,
    responses((status = 200, body = Event), (status = 422, body = ErrorBody),
               (status = 409, body = ErrorBody)))]
pub async fn update_event(
    State(_state): State<AppState>,
    Api(coordinator): Api<Coordinator>,
    ApiPath(id): ApiPath<EventId>,
    ApiJson(input): ApiJson<EventInput>,
) -> ApiResult<Json<Event>> {
    coordinator
        .change_event(id, input, false)
        .await
        .map_err(event_fields)?;
    Ok(Json(coordinator.event(id).await?))
}

/// Cancels an event and tells everyone registered (coordinators).
#[utoipa::path(post, path = "/api/v1/events/{id}/cancel", tag = "events",
    security(("bearer" = ["coordinator"])), params(("id" = i64, Path, description = "Event id")),
    responses((status = 200, body = Event), (status = 404, body = ErrorBody)))]
pub async fn cancel_event(
    State(_state): State<AppState>,
    Api(coordinator): Api<Coordinator>,
    ApiPath(id): ApiPath<EventId>,
) -> ApiResult<Json<Event>> {
    coordinator.cancel_event(id).await?;
    Ok(Json(coordinator.event(id).await?))
}

/// Draws a lottery now (coordinators). The seed is returned and kept with the event.
#[utoipa::path(post, path = "/api/v1/events/{id}/draw", tag = "events",
    security(("bearer" = ["coordinator"])), params(("id" = i64, Path, description = "Event id")),
    responses((status = 200, body = Event), (status = 409, body = ErrorBody)))]
pub async fn draw(
    State(_state): State<AppState>,
    Api(coordinator): Api<Coordinator>,
    ApiPath(id): ApiPath<EventId>,
) -> ApiResult<Json<Event>> {
    coordinator.draw_lottery(id).await?;
    Ok(Json(coordinator.event(id).await?))
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
    /// For students' events: the guardian's telephone number for the day.
    pub guardian_phone: String,
    /// For students' events: another adult staff call if the guardian does not answer.
    pub emergency_name: String,
    pub emergency_phone: String,
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

/// The body's name for a field of the registration form: `q12` is `answers.12`,
/// `child2_grade` is `children[1].grade`.
fn body_field(form: &str) -> Option<String> {
    if let Some(q) = form.strip_prefix('q')
        && q.chars().all(|c| c.is_ascii_digit())
        && !q.is_empty()
    {
        return Some(format!("answers.{q}"));
    }
    let rest = form.strip_prefix("child")?;
    let (n, part) = rest.split_once('_')?;
    let n: usize = n.parse().ok()?;
    Some(format!("children[{}].{part}", n.checked_sub(1)?))
}

/// Registers the caller (with a token) or a guest. 201 with `status` and, when
/// waitlisted, `position`; registering again returns the same registration with 200. A
/// guest of an event that asks guests to confirm their address gets 202: a link went to
/// the address, and no place is held until it is followed. Guests are limited per client
/// address and per e-mail address each hour (429).
#[utoipa::path(post, path = "/api/v1/events/{id}/registrations", security((), ("bearer" = [])), tag = "events",
    params(("id" = i64, Path, description = "Event id")), request_body = RegistrationIn,
    responses((status = 201, body = RegistrationOut), (status = 200, body = RegistrationOut),
               (status = 202, body = AwaitingConfirmationOut),
               (status = 422, body = ErrorBody), (status = 409, body = ErrorBody),
               (status = 429, body = ErrorBody)))]
pub async fn register(
    State(state): State<AppState>,
    MaybeApiCaller(caller): MaybeApiCaller,
    ClientAddr(address): ClientAddr,
    ApiPath(id): ApiPath<EventId>,
    ApiJson(body): ApiJson<RegistrationIn>,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    // The same reading as the form's: turn the body into its fields.
    let mut pairs = vec![
        ("name".to_string(), body.name),
        ("email".to_string(), body.email),
        (
            "guardian_relationship".to_string(),
            body.guardian_relationship,
        ),
        ("guardian_phone".to_string(), body.guardian_phone),
        ("emergency_name".to_string(), body.emergency_name),
        ("emergency_phone".to_string(), body.emergency_phone),
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
    // More children than a registration holds are refused by the app, once the event
    // and its window are known.
    for (i, c) in body.children.iter().enumerate() {
        let n = i + 1;
        pairs.push((format!("child{n}_first_name"), c.first_name.clone()));
        pairs.push((format!("child{n}_grade"), c.grade.clone()));
        pairs.push((format!("child{n}_school"), c.school.clone()));
    }
    let outcome = match state
        .app
        .public()
        .register(id, &pairs, caller.as_ref(), &address)
        .await
    {
        Ok(o) => o,
        Err(crate::app::Error::Invalid(e)) => {
            return Err(crate::app::Error::Invalid(e.with_fields_named(body_field)).into());
        }
        Err(e) => return Err(e.into()),
    };
    let out = match outcome {
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
            manage_url: (out.created || caller.is_some()).then(|| {
                format!(
                    "{}{}",
                    state.app.public_url().as_str().trim_end_matches('/'),
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
    let registrant = state
        .app
        .public()
        .registrant(body.secret.trim())
        .await?
        .cancel()
        .await?;
    Ok(Json(registrant.registration))
}

/// Everyone registered for an event, in arrival order (coordinators).
#[utoipa::path(get, path = "/api/v1/events/{id}/registrations", tag = "events",
    security(("bearer" = ["coordinator"])), params(("id" = i64, Path, description = "Event id")),
    responses((status = 200, body = [Registration]), (status = 403, body = ErrorBody)))]
pub async fn registrations(
    State(_state): State<AppState>,
    Api(coordinator): Api<Coordinator>,
    ApiPath(id): ApiPath<EventId>,
) -> ApiResult<Json<Vec<Registration>>> {
    Ok(Json(coordinator.registrations(id).await?.1))
}

#[derive(Deserialize, ToSchema)]
pub struct CheckInIn {
    /// True to mark as arrived, false to undo.
    pub arrived: bool,
}

/// Marks someone as arrived (coordinators).
#[utoipa::path(post, path = "/api/v1/events/{id}/registrations/{registration}/check-in",
    tag = "events", security(("bearer" = ["coordinator"])),
    params(("id" = i64, Path, description = "Event id"),
           ("registration" = i64, Path, description = "Registration id")),
    request_body = CheckInIn,
    responses((status = 200, body = Registration), (status = 409, body = ErrorBody)))]
pub async fn check_in(
    State(_state): State<AppState>,
    Api(coordinator): Api<Coordinator>,
    ApiPath((id, registration)): ApiPath<(EventId, RegistrationId)>,
    ApiJson(body): ApiJson<CheckInIn>,
) -> ApiResult<Json<Registration>> {
    Ok(Json(
        coordinator
            .set_checked_in(id, registration, body.arrived)
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
    security(("bearer" = ["coordinator"])), params(CountsQuery),
    responses((status = 200, body = [EventCounts])))]
pub async fn counts(
    State(_state): State<AppState>,
    Api(coordinator): Api<Coordinator>,
    ApiQuery(q): ApiQuery<CountsQuery>,
) -> ApiResult<Json<Vec<EventCounts>>> {
    Ok(Json(coordinator.event_counts(&q.series).await?))
}

/// Totals per series: events, registered, waitlisted, attended, no-show rate
/// (coordinators).
#[utoipa::path(get, path = "/api/v1/reports/series", tag = "events",
    security(("bearer" = ["coordinator"])),
    responses((status = 200, body = [eventwork::SeriesTotals])))]
pub async fn series_counts(
    State(_state): State<AppState>,
    Api(coordinator): Api<Coordinator>,
) -> ApiResult<Json<Vec<eventwork::SeriesTotals>>> {
    Ok(Json(coordinator.series_totals().await?))
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
    State(_state): State<AppState>,
    Api(a): Api<Member>,
) -> ApiResult<Json<Vec<MyRegistration>>> {
    Ok(Json(
        a.my_events()
            .await?
            .into_iter()
            .map(|(event, registration, _)| MyRegistration {
                event,
                registration,
            })
            .collect(),
    ))
}

/// The consent and waiver text guardians agree to now, with its version.
#[utoipa::path(get, path = "/api/v1/consent", tag = "events",
    responses((status = 200, body = ConsentText)))]
pub async fn get_current(State(state): State<AppState>) -> ApiResult<Json<ConsentText>> {
    Ok(Json(state.app.public().consent_text().await?))
}

/// Replaces the consent text (coordinators); it gets a new version.
#[utoipa::path(put, path = "/api/v1/consent", tag = "events", security(("bearer" = ["coordinator"])),
    request_body = ConsentIn,
    responses((status = 200, body = ConsentText), (status = 422, body = ErrorBody)))]
pub async fn put_current(
    State(_state): State<AppState>,
    Api(coordinator): Api<Coordinator>,
    ApiJson(body): ApiJson<ConsentIn>,
) -> ApiResult<Json<ConsentText>> {
    Ok(Json(coordinator.replace_consent_text(&body.text).await?))
}
