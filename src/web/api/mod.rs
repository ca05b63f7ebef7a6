//! The JSON API under `/api/v1/`, authenticated by personal bearer tokens. Routes are
//! registered together with their OpenAPI description, so none can go undocumented.

mod cases;
mod events;
mod mail;
mod pledge;
mod support;

use axum::extract::{FromRequest, FromRequestParts, Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::Invalid;
use crate::domain::accounts::{Account, AccountId, Role};
use crate::domain::content::{Branding, Page, PageEdit};
use crate::domain::ids::TokenId;
use crate::domain::series::{Series, SeriesInput};
use crate::store::ApiTokenInfo;
use crate::web::AppState;
use crate::web::http::auth::{Admin, Api, Coordinator, Member};
use crate::web::http::error::{ApiError, ApiResult, AppError, ErrorBody};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "wecare API",
        description = "JSON API of wecare. Authenticate with a personal token: `Authorization: Bearer wct_…` (create one on your account page or with `wecare admin token`). Errors have the shape `{\"error\": {\"code\", \"message\", \"field\"}}`."
    ),
    modifiers(&BearerAuth),
    components(schemas(ErrorBody))
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(c) = openapi.components.as_mut() {
            c.add_security_scheme(
                "bearer",
                SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
            );
        }
    }
}

fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(me))
        .routes(routes!(list_pages))
        .routes(routes!(get_page, put_page))
        .routes(routes!(get_settings, put_settings))
        .routes(routes!(list_series, create_series))
        .routes(routes!(update_series))
        .routes(routes!(list_accounts, create_account))
        .routes(routes!(update_account))
        .routes(routes!(list_tokens))
        .routes(routes!(revoke_token))
        .routes(routes!(mail::list_outbox))
        .routes(routes!(mail::retry_message))
        .routes(routes!(mail::cancel_message))
        .routes(routes!(mail::list_messages))
        .routes(routes!(mail::put_message, mail::reset_message))
        .routes(routes!(mail::my_mail, mail::set_my_mail))
        .routes(routes!(support::create_request))
        .routes(routes!(support::request_status))
        .routes(routes!(support::withdraw_request))
        .routes(routes!(support::queue))
        .routes(routes!(support::refer))
        .routes(routes!(support::mine))
        .routes(routes!(support::withdraw_mine))
        .routes(routes!(cases::shortlist))
        .routes(routes!(cases::offer))
        .routes(routes!(cases::offer_next))
        .routes(routes!(cases::get_profile, cases::put_profile))
        .routes(routes!(cases::offers))
        .routes(routes!(cases::answer))
        .routes(routes!(cases::cases))
        .routes(routes!(cases::contact))
        .routes(routes!(cases::close))
        .routes(routes!(events::list_events, events::create_event))
        .routes(routes!(events::get_event, events::update_event))
        .routes(routes!(events::cancel_event))
        .routes(routes!(events::draw))
        .routes(routes!(events::register, events::registrations))
        .routes(routes!(events::cancel_registration))
        .routes(routes!(events::check_in))
        .routes(routes!(events::counts))
        .routes(routes!(events::series_counts))
        .routes(routes!(events::mine))
        .routes(routes!(events::get_current, events::put_current))
        .routes(routes!(pledge::get_pledge))
        .routes(routes!(pledge::versions, pledge::publish))
        .routes(routes!(pledge::version))
        .routes(routes!(pledge::mine))
        .routes(routes!(pledge::sign, pledge::withdraw))
        .routes(routes!(pledge::set_listing))
        .routes(routes!(pledge::get_settings, pledge::put_settings))
        .routes(routes!(pledge::stats))
}

/// The OpenAPI document of every API route.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = api_router().split_for_parts().1;
    document_answers_every_operation_gives(&mut doc);
    doc
}

/// Adds the answers an operation gives by construction, so that no annotation can forget
/// them: 401 where a token is required or may be sent (a missing, wrong or expired one),
/// 403 where the token must hold a role (the role is the bearer scope, e.g.
/// `"bearer": ["coordinator"]`), 404 where the path names something, and 422 where a path
/// segment, the query or the body can be malformed (`ApiPath`, `ApiQuery`, `ApiJson`).
fn document_answers_every_operation_gives(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::path::{Operation, ParameterIn};
    use utoipa::openapi::{ContentBuilder, RefOr, ResponseBuilder};

    fn error(description: &str) -> RefOr<utoipa::openapi::Response> {
        RefOr::T(
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(utoipa::openapi::Ref::from_schema_name("ErrorBody")))
                        .build(),
                )
                .build(),
        )
    }
    fn add(op: &mut Operation, status: &str, description: &str) {
        op.responses
            .responses
            .entry(status.to_string())
            .or_insert_with(|| error(description));
    }
    for item in doc.paths.paths.values_mut() {
        let ops = [
            item.get.as_mut(),
            item.put.as_mut(),
            item.post.as_mut(),
            item.delete.as_mut(),
            item.patch.as_mut(),
        ];
        for op in ops.into_iter().flatten() {
            // SecurityRequirement keeps its map private; its JSON form is the map itself.
            let security = serde_json::to_value(&op.security).unwrap_or_default();
            let schemes: Vec<&serde_json::Map<String, serde_json::Value>> = security
                .as_array()
                .map(|a| a.iter().filter_map(|r| r.as_object()).collect())
                .unwrap_or_default();
            let bearer: Vec<&serde_json::Value> =
                schemes.iter().filter_map(|s| s.get("bearer")).collect();
            if !bearer.is_empty() {
                add(
                    op,
                    "401",
                    "No token, or one that is wrong, expired or revoked",
                );
            }
            if bearer
                .iter()
                .any(|scopes| scopes.as_array().is_some_and(|a| !a.is_empty()))
            {
                add(
                    op,
                    "403",
                    "The token's account does not hold the role this needs",
                );
            }
            let params = op.parameters.as_deref().unwrap_or_default();
            let located = |place: ParameterIn| {
                params
                    .iter()
                    .any(|p| matches!(p, RefOr::T(p) if p.parameter_in == place))
            };
            let (in_path, in_query) = (located(ParameterIn::Path), located(ParameterIn::Query));
            if in_path {
                add(op, "404", "Nothing of that id here, or not yours to see");
            }
            if in_path || in_query || op.request_body.is_some() {
                add(
                    op,
                    "422",
                    "A value is malformed or breaks a rule; `field` names it",
                );
            }
        }
    }
}

pub fn router() -> Router<AppState> {
    let (router, _) = api_router().split_for_parts();
    let doc = openapi();
    let json = doc.to_pretty_json().unwrap_or_else(|_| "{}".to_string());
    router.route(
        "/api/openapi.json",
        axum::routing::get(move || {
            let json = json.clone();
            async move {
                (
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    json,
                )
            }
        }),
    )
}

/// A JSON body whose mistakes are API errors naming the field they concern: a value of the
/// wrong type (`capacity`), an unknown choice (`audience[1]`), a missing or unknown field,
/// or a body that is not JSON at all (`body`).
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let refuse =
            |field: String, message: String| ApiError(AppError::BadInput { field, message });
        let is_json = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase())
            .is_some_and(|m| {
                m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
            });
        if !is_json {
            return Err(refuse(
                "body".into(),
                "Send the body as JSON, with Content-Type: application/json.".into(),
            ));
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| {
                refuse(
                    "body".into(),
                    format!("The body could not be read: {}", e.body_text()),
                )
            })?;
        let mut de = serde_json::Deserializer::from_slice(&bytes);
        let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let inner = e.inner();
            if inner.is_syntax() || inner.is_eof() {
                return refuse(
                    "body".into(),
                    format!("The body is not valid JSON: {inner}."),
                );
            }
            let (field, sentence) = refusal(e.path().to_string(), &inner.to_string(), "body");
            refuse(field, sentence)
        })?;
        de.end()
            .map_err(|e| refuse("body".into(), format!("The body is not valid JSON: {e}.")))?;
        Ok(ApiJson(value))
    }
}

/// The field and the sentence for a value serde refused, at `path` ("." for the whole of
/// it, named `whole`: "body" or "query"). Names a missing or unknown field; for a wrong
/// value says only what was expected, never what was sent.
fn refusal(path: String, message: &str, whole: &str) -> (String, String) {
    let message = message.split(" at line ").next().unwrap_or(message);
    // serde names a missing field in its message, not in the path; an unknown one
    // is in both.
    let named = |prefix: &str| {
        message
            .strip_prefix(prefix)
            .and_then(|rest| rest.split('`').nth(1))
            .map(str::to_string)
    };
    let (field, sentence) = if let Some(name) = named("missing field") {
        let field = if path == "." {
            name
        } else {
            format!("{path}.{name}")
        };
        (field, "This field is required.".to_string())
    } else if message.starts_with("unknown field") {
        let known = message.split_once("expected ").map_or("", |(_, k)| k);
        (
            path,
            format!("There is no such field here; expected {known}."),
        )
    } else {
        // serde quotes the value it refused ("invalid type: string \"…\""); the
        // answer says only what was expected, so no text sent (a name, a message)
        // is echoed into a response that proxies or clients may log.
        // Only serde's own messages put the value before ", expected": a type's
        // own parser (a date's, a time's) may quote what it read anywhere.
        let serde_says = [
            "invalid type:",
            "invalid value:",
            "unknown variant",
            "invalid length",
        ]
        .iter()
        .any(|p| message.starts_with(p));
        let expected = message
            .split_once(", expected ")
            .filter(|_| serde_says)
            .map_or("the format the API document gives for it", |(_, e)| e);
        // Rust's names for numbers mean nothing to a client.
        let expected = match expected {
            "i64" | "i32" | "u64" | "u32" | "u16" | "u8" => "a whole number",
            other => other,
        };
        let field = if path == "." { whole.to_string() } else { path };
        (
            field,
            format!("This value is not what the field takes: expected {expected}."),
        )
    };
    (field, sentence)
}

/// `Query<T>` whose rejections (a number that is not one, an unknown value) are JSON
/// errors naming the query, as every other API mistake is.
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: serde::de::DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        let de = serde_html_form::Deserializer::from_bytes(query.as_bytes());
        serde_path_to_error::deserialize(de)
            .map(ApiQuery)
            .map_err(|e| {
                let (field, message) =
                    refusal(e.path().to_string(), &e.inner().to_string(), "query");
                ApiError(AppError::BadInput { field, message })
            })
    }
}

/// `Path<T>` whose rejections (an id that is not a number) are JSON errors too.
pub struct ApiPath<T>(pub T);

impl<T> FromRequestParts<AppState> for ApiPath<T>
where
    T: serde::de::DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, ApiError> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(v)) => Ok(ApiPath(v)),
            Err(rejection) => Err(ApiError(AppError::Invalid(Invalid::new(
                "path",
                format!("The address is not valid: {}", rejection.body_text()),
            )))),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AccountOut {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub roles: Vec<Role>,
    pub active: bool,
}

impl From<Account> for AccountOut {
    fn from(a: Account) -> Self {
        Self {
            id: a.id.0,
            email: a.email,
            display_name: a.display_name,
            roles: a.roles,
            active: a.active,
        }
    }
}

/// The account the token acts for.
#[utoipa::path(get, path = "/api/v1/me", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, body = AccountOut), (status = 401, body = ErrorBody)))]
async fn me(Api(a): Api<Member>) -> Json<AccountOut> {
    Json(a.into_account().into())
}

/// The programme's pages (public).
#[utoipa::path(get, path = "/api/v1/pages", tag = "content",
    responses((status = 200, body = [Page])))]
async fn list_pages(State(state): State<AppState>) -> ApiResult<Json<Vec<Page>>> {
    Ok(Json(state.app.public().pages().await?))
}

#[derive(Serialize, ToSchema)]
pub struct PageOut {
    #[serde(flatten)]
    pub page: Page,
    /// The page rendered to sanitised HTML.
    pub body_html: String,
}

/// One page, with its sanitised HTML (public).
#[utoipa::path(get, path = "/api/v1/pages/{slug}", tag = "content",
    params(("slug" = String, Path, description = "The page's address, e.g. `about`")),
    responses((status = 200, body = PageOut), (status = 404, body = ErrorBody)))]
async fn get_page(
    State(state): State<AppState>,
    ApiPath(slug): ApiPath<String>,
) -> ApiResult<Json<PageOut>> {
    let page = state.app.public().page(&slug).await?;
    Ok(Json(PageOut {
        body_html: page.body_html(),
        page,
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct PageIn {
    pub title: String,
    pub body_md: String,
}

/// Replaces a page's title and text (coordinators).
#[utoipa::path(put, path = "/api/v1/pages/{slug}", tag = "content", security(("bearer" = ["coordinator"])),
    params(("slug" = String, Path, description = "The page's address")),
    request_body = PageIn,
    responses((status = 200, body = PageOut), (status = 403, body = ErrorBody),
               (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn put_page(
    State(_state): State<AppState>,
    Api(account): Api<Coordinator>,
    ApiPath(slug): ApiPath<String>,
    ApiJson(body): ApiJson<PageIn>,
) -> ApiResult<Json<PageOut>> {
    let edit = PageEdit::parse(&body.title, &body.body_md)?;
    let page = account.update_page(&slug, &edit).await?;
    Ok(Json(PageOut {
        body_html: page.body_html(),
        page,
    }))
}

/// The programme's name, tagline, contact address and colours (public).
#[utoipa::path(get, path = "/api/v1/settings", tag = "content",
    responses((status = 200, body = Branding)))]
async fn get_settings(State(state): State<AppState>) -> ApiResult<Json<Branding>> {
    Ok(Json(state.app.public().branding().await?))
}

/// Changes the programme's name, tagline, contact address and colours (coordinators).
#[utoipa::path(put, path = "/api/v1/settings", tag = "content", security(("bearer" = ["coordinator"])),
    request_body = Branding,
    responses((status = 200, body = Branding), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn put_settings(
    State(_state): State<AppState>,
    Api(coordinator): Api<Coordinator>,
    ApiJson(b): ApiJson<Branding>,
) -> ApiResult<Json<Branding>> {
    let b = Branding::parse(
        &b.name,
        &b.tagline,
        &b.contact_email,
        &b.colour_primary,
        &b.colour_accent,
    )?;
    coordinator.save_branding(&b).await?;
    Ok(Json(b))
}

/// The programme's series (public).
#[utoipa::path(get, path = "/api/v1/series", tag = "programmes",
    responses((status = 200, body = [Series])))]
async fn list_series(State(state): State<AppState>) -> ApiResult<Json<Vec<Series>>> {
    Ok(Json(state.app.public().series_list().await?))
}

/// Adds a series (coordinators). Mistakes name their field; a taken address is 422.
#[utoipa::path(post, path = "/api/v1/series", tag = "programmes", security(("bearer" = ["coordinator"])),
    request_body = SeriesInput,
    responses((status = 201, body = Series), (status = 422, body = ErrorBody)))]
async fn create_series(
    State(_state): State<AppState>,
    Api(coordinator): Api<Coordinator>,
    ApiJson(input): ApiJson<SeriesInput>,
) -> ApiResult<(StatusCode, Json<Series>)> {
    let s = input.parse()?;
    let created = coordinator.create_series(&s).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Changes a series' words (coordinators); its address stays.
#[utoipa::path(put, path = "/api/v1/series/{slug}", tag = "programmes",
    security(("bearer" = ["coordinator"])), params(("slug" = String, Path, description = "Series address")),
    request_body = SeriesInput,
    responses((status = 200, body = Series), (status = 404, body = ErrorBody),
               (status = 422, body = ErrorBody)))]
async fn update_series(
    State(_state): State<AppState>,
    Api(coordinator): Api<Coordinator>,
    ApiPath(slug): ApiPath<String>,
    ApiJson(mut input): ApiJson<SeriesInput>,
) -> ApiResult<Json<Series>> {
    input.slug = slug.clone();
    let s = input.parse()?;
    Ok(Json(coordinator.update_series(&slug, &s).await?))
}

/// Every account (administrators).
#[utoipa::path(get, path = "/api/v1/accounts", tag = "accounts", security(("bearer" = ["admin"])),
    responses((status = 200, body = [AccountOut]), (status = 403, body = ErrorBody)))]
async fn list_accounts(Api(admin): Api<Admin>) -> ApiResult<Json<Vec<AccountOut>>> {
    let accounts = admin.accounts().await?;
    Ok(Json(accounts.into_iter().map(AccountOut::from).collect()))
}

#[derive(Deserialize, ToSchema)]
pub struct NewAccountIn {
    pub email: String,
    pub display_name: String,
    #[serde(default)]
    pub roles: Vec<Role>,
}

#[derive(Serialize, ToSchema)]
pub struct NewAccountOut {
    pub account: AccountOut,
    /// A one-time link, valid for 7 days, where the person chooses a password; absent
    /// where password sign-in is off (they sign in through the institution).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub setup_url: Option<String>,
}

/// Adds an account; the reply carries its one-time set-up link (administrators).
#[utoipa::path(post, path = "/api/v1/accounts", tag = "accounts", security(("bearer" = ["admin"])),
    request_body = NewAccountIn,
    responses((status = 201, body = NewAccountOut), (status = 403, body = ErrorBody),
               (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_account(
    Api(admin): Api<Admin>,
    ApiJson(body): ApiJson<NewAccountIn>,
) -> ApiResult<Response> {
    let (account, secret) = admin
        .create_account(&body.email, &body.display_name, &body.roles)
        .await?;
    let out = NewAccountOut {
        account: account.into(),
        setup_url: secret.map(|s| admin.setup_url(&s)),
    };
    Ok((StatusCode::CREATED, Json(out)).into_response())
}

#[derive(Deserialize, ToSchema)]
pub struct AccessIn {
    pub roles: Vec<Role>,
    pub active: bool,
}

/// Sets an account's roles and whether it is active (administrators). The last active
/// administrator cannot be removed.
#[utoipa::path(put, path = "/api/v1/accounts/{id}", tag = "accounts", security(("bearer" = ["admin"])),
    params(("id" = i64, Path, description = "Account id")),
    request_body = AccessIn,
    responses((status = 200, body = AccountOut), (status = 403, body = ErrorBody),
               (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_account(
    Api(admin): Api<Admin>,
    ApiPath(id): ApiPath<AccountId>,
    ApiJson(body): ApiJson<AccessIn>,
) -> ApiResult<Json<AccountOut>> {
    admin.change_access(id, &body.roles, body.active).await?;
    Ok(Json(admin.account_by_id(id).await?.into()))
}

/// The caller's own API tokens (never the secrets).
#[utoipa::path(get, path = "/api/v1/tokens", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, body = [ApiTokenInfo]), (status = 401, body = ErrorBody)))]
async fn list_tokens(Api(a): Api<Member>) -> ApiResult<Json<Vec<ApiTokenInfo>>> {
    Ok(Json(a.api_tokens().await?))
}

/// Revokes one of the caller's tokens; it stops working at once.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "accounts", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Token id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn revoke_token(
    State(_state): State<AppState>,
    Api(a): Api<Member>,
    ApiPath(id): ApiPath<TokenId>,
) -> ApiResult<StatusCode> {
    a.revoke_api_token(id).await?;
    Ok(StatusCode::NO_CONTENT)
}
