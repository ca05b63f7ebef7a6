//! Signing in and out, one's own account: password, API tokens, and first-time setup links.

use crate::web::http::form::Form;
use crate::web::http::form::Query;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::crypto;
use crate::domain::Invalid;
use crate::domain::accounts::{Account, NewPassword};
use crate::domain::ids::TokenId;
use crate::domain::mail::MessageKind;
use crate::store::ApiTokenInfo;
use crate::web::AppState;
use crate::web::http::auth::{ClientAddr, Member};
use crate::web::http::cookies;
use crate::web::http::error::PageResult;
use crate::web::http::layout::{
    Ctx, Layout, field_error, form_status, notice, render, render_status,
};

#[derive(Template)]
#[template(path = "accounts/signin.html")]
struct SignInView {
    l: Layout,
    /// Where to go after signing in (a path on this site).
    next: String,
    email: String,
    error: Option<Invalid>,
    no_admin_yet: bool,
    /// The institution's button, if the programme signs in through its provider.
    single_sign_on: Option<crate::app::sign_in::SingleSignOn>,
    /// Whether the e-mail and password form is offered.
    password: bool,
    /// Whether colleagues may create their own account.
    sign_up: bool,
}

impl SignInView {
    /// The institution's button is a link, not a form: the browser then follows the
    /// redirect to the provider without the pages' `form-action` rule in the way.
    fn single_sign_on_href(&self) -> String {
        let path = self.single_sign_on.as_ref().map_or("/", |s| s.path);
        if self.next.is_empty() {
            path.to_string()
        } else {
            let next: String = url::form_urlencoded::byte_serialize(self.next.as_bytes()).collect();
            format!("{path}?next={next}")
        }
    }
}

#[derive(Deserialize, Default)]
pub struct NextQuery {
    #[serde(default)]
    pub(super) next: String,
}

/// The browser's User-Agent header, for the label of the session it starts.
pub(super) fn user_agent(headers: &HeaderMap) -> &str {
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// Where to go after signing in: `next` if it is a path on this site, else the account.
pub(super) fn after_sign_in(next: &str) -> String {
    if crate::web::http::auth::safe_next(next) {
        next.to_string()
    } else {
        "/account".to_string()
    }
}

pub async fn signin_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<NextQuery>,
) -> PageResult {
    if ctx.account.is_some() {
        return Ok(Redirect::to(&after_sign_in(&q.next)).into_response());
    }
    let public = state.app.public();
    let no_admin_yet = public.no_admin_yet().await?;
    let options = public.sign_in_options();
    render(&SignInView {
        l: ctx.layout("Sign in"),
        next: q.next,
        email: String::new(),
        error: None,
        no_admin_yet,
        single_sign_on: options.single_sign_on,
        password: options.password,
        sign_up: public.sign_up_open(),
    })
}

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

pub async fn signin(
    State(state): State<AppState>,
    ctx: Ctx,
    ClientAddr(address): ClientAddr,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> PageResult {
    let old = cookies::get(&headers, cookies::SESSION);
    let public = state.app.public();
    let outcome = public
        .sign_in(
            &form.email,
            &form.password,
            &address,
            old,
            user_agent(&headers),
        )
        .await;
    let error = match outcome {
        Ok(Some(session)) => {
            return Ok(with_new_session(
                &state,
                &session.secret,
                Redirect::to(&after_sign_in(&form.next)).into_response(),
            ));
        }
        Ok(None) => Invalid::new(
            "email",
            "That e-mail address and password do not match an account. Check both and try again.",
        ),
        // Password sign-in is off here: the page says which button to use.
        Err(crate::app::Error::Invalid(i)) => i,
        Err(e) => return Err(e.into()),
    };
    let options = public.sign_in_options();
    let view = SignInView {
        l: ctx.layout("Sign in"),
        next: form.next.clone(),
        email: form.email.trim().to_string(),
        error: Some(error),
        no_admin_yet: false,
        single_sign_on: options.single_sign_on,
        password: options.password,
        sign_up: public.sign_up_open(),
    };
    render_status(StatusCode::UNAUTHORIZED, &view)
}

/// Sets the session cookie, and the CSRF cookie to the new session's token: a token
/// planted before sign-in is worthless after it.
pub(super) fn with_new_session(state: &AppState, secret: &str, mut resp: Response) -> Response {
    let secure = state.web.cookies_secure;
    let h = resp.headers_mut();
    h.append(
        header::SET_COOKIE,
        cookies::set(
            cookies::SESSION,
            secret,
            state.app.session_cookie_secs(),
            secure,
        ),
    );
    h.append(
        header::SET_COOKIE,
        cookies::set(
            cookies::CSRF,
            &crate::web::http::csrf::session_token(secret),
            state.app.session_cookie_secs(),
            secure,
        ),
    );
    resp
}

pub async fn signout(State(state): State<AppState>, headers: HeaderMap) -> PageResult {
    let mut then = None;
    if let Some(secret) = cookies::get(&headers, cookies::SESSION) {
        then = state.app.public().sign_out(secret).await?;
    }
    // Signed in at the provider: its session ends too, and it sends the browser back.
    let mut resp = Redirect::to(then.as_deref().unwrap_or("/")).into_response();
    resp.headers_mut().append(
        header::SET_COOKIE,
        cookies::clear(cookies::SESSION, state.web.cookies_secure),
    );
    // A new anonymous token: the signed-out browser's forms use it from now on.
    resp.headers_mut().append(
        header::SET_COOKIE,
        cookies::set(
            cookies::CSRF,
            &crypto::random_hex(32),
            60 * 60 * 24 * 7,
            state.web.cookies_secure,
        ),
    );
    Ok(resp)
}

#[derive(Template)]
#[template(path = "accounts/account.html")]
struct AccountView {
    l: Layout,
    account: Account,
    mail_choices: Vec<(MessageKind, bool)>,
}

pub async fn show(ctx: Ctx, member: Member) -> PageResult {
    render(&AccountView {
        l: ctx.layout("My account"),
        account: member.account().clone(),
        mail_choices: member.mail_choices().await?,
    })
}

/// API tokens live on a page of their own: most members never need one, and a list of
/// secrets-to-be does not belong beside a person's e-mail choices.
#[derive(Template)]
#[template(path = "accounts/developers.html")]
struct DevelopersView {
    l: Layout,
    tokens: Vec<ApiTokenInfo>,
    typed_name: String,
    error: Option<Invalid>,
    now: i64,
}

impl DevelopersView {
    fn err(&self, field: &str) -> Option<String> {
        field_error(&self.error, field)
    }
}

async fn developers_page(
    ctx: Ctx,
    member: &Member,
    typed_name: String,
    error: Option<Invalid>,
) -> PageResult {
    render_status(
        form_status(&error),
        &DevelopersView {
            l: ctx.layout("API tokens"),
            tokens: member.api_tokens().await?,
            typed_name,
            error,
            now: member.now(),
        },
    )
}

pub async fn developers(ctx: Ctx, member: Member) -> PageResult {
    developers_page(ctx, &member, String::new(), None).await
}

#[derive(Template)]
#[template(path = "accounts/password.html")]
struct PasswordView {
    l: Layout,
    heading: String,
    action: String,
    ask_current: bool,
    error: Option<Invalid>,
}

impl PasswordView {
    fn err(&self, field: &str) -> Option<String> {
        field_error(&self.error, field)
    }
}

pub async fn password_form(ctx: Ctx, _: Member) -> PageResult {
    render(&PasswordView {
        l: ctx.layout("Change password"),
        heading: "Change my password".into(),
        action: "/account/password".into(),
        ask_current: true,
        error: None,
    })
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

pub async fn change_password(
    ctx: Ctx,
    ClientAddr(address): ClientAddr,
    headers: HeaderMap,
    account: Member,
    Form(form): Form<PasswordForm>,
) -> PageResult {
    let again = |ctx: Ctx, error: Invalid| {
        render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &PasswordView {
                l: ctx.layout("Change password"),
                heading: "Change my password".into(),
                action: "/account/password".into(),
                ask_current: true,
                error: Some(error),
            },
        )
    };
    let keep = cookies::get(&headers, cookies::SESSION).map(crypto::secret_digest);
    match account
        .change_password(
            &form.current,
            &form.password,
            &form.confirm,
            &address,
            keep.as_deref(),
        )
        .await
    {
        Ok(()) => {}
        Err(crate::app::Error::Invalid(e)) => return again(ctx, e),
        Err(e) => return Err(e.into()),
    }
    notice(
        ctx,
        "Password changed",
        "Your password is changed. Any other browser where you were signed in has been signed out.",
        None,
        "/account",
        "Back to my account",
    )
}

#[derive(Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    expires_days: String,
}

/// How long a new token may work: the form's choices, in days (none: until revoked).
pub const TOKEN_LIFETIMES: &[(&str, Option<i64>)] = &[
    ("30", Some(30)),
    ("90", Some(90)),
    ("365", Some(365)),
    ("never", None),
];

/// The expiry a form's choice gives, from `now`.
pub fn token_expiry(choice: &str, now: i64) -> Result<Option<i64>, Invalid> {
    let choice = if choice.trim().is_empty() {
        "90"
    } else {
        choice.trim()
    };
    TOKEN_LIFETIMES
        .iter()
        .find(|(k, _)| *k == choice)
        .map(|(_, d)| d.map(|d| now + d * 86_400))
        .ok_or_else(|| {
            Invalid::new(
                "expires_days",
                "Choose how long the token works: 30, 90 or 365 days, or until you revoke it.",
            )
        })
}

pub fn token_name(raw: &str) -> Result<String, Invalid> {
    crate::domain::required_line("name", "A name for the token", raw, 80)
}

pub async fn create_token(ctx: Ctx, account: Member, Form(form): Form<TokenForm>) -> PageResult {
    let mut mistakes = crate::domain::Mistakes::new();
    let name = mistakes.or(token_name(&form.name), String::new());
    let expires_at = mistakes.or(token_expiry(&form.expires_days, account.now()), None);
    if let Err(e) = mistakes.finish(()) {
        return developers_page(ctx, &account, form.name, Some(e)).await;
    }
    let (_, secret) = account.create_api_token(&name, expires_at).await?;
    let lasts = match expires_at {
        Some(t) => format!(
            " It works until {}; make a new one before then.",
            crate::domain::format_time(t, &ctx.zone)
        ),
        None => " It works until you revoke it.".to_string(),
    };
    notice(
        ctx,
        "New API token",
        &format!("Send it in the Authorization header as: Bearer followed by the token.{lasts}"),
        Some(("Your new token", secret)),
        "/account/developers",
        "Back to API tokens",
    )
}

pub async fn revoke_token(account: Member, Path(id): Path<TokenId>) -> PageResult {
    account.revoke_api_token(id).await?;
    Ok(Redirect::to("/account/developers").into_response())
}

/// The set-up page's heading: a welcome for a new account, plainer for a forgotten password.
fn setup_heading(link: &crate::app::accounts::SetupLink) -> String {
    if link.first_time {
        format!(
            "Welcome, {}: choose your password",
            link.account.display_name
        )
    } else {
        "Choose a new password".to_string()
    }
}

pub async fn setup_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(secret): Path<String>,
) -> PageResult {
    let link = state.app.public().setup_link(&secret).await?;
    render(&PasswordView {
        l: ctx.layout("Choose your password"),
        heading: setup_heading(&link),
        action: format!("/setup/{secret}"),
        ask_current: false,
        error: None,
    })
}

pub async fn setup(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(secret): Path<String>,
    headers: HeaderMap,
    Form(form): Form<PasswordForm>,
) -> PageResult {
    let link = state.app.public().setup_link(&secret).await?;
    let new = match NewPassword::parse(&form.password, Some(&form.confirm)) {
        Ok(p) => p,
        Err(e) => {
            return render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &PasswordView {
                    l: ctx.layout("Choose your password"),
                    heading: setup_heading(&link),
                    action: format!("/setup/{secret}"),
                    ask_current: false,
                    error: Some(e),
                },
            );
        }
    };
    let session = state
        .app
        .public()
        .use_setup_link(&secret, new, user_agent(&headers))
        .await?;
    Ok(with_new_session(
        &state,
        &session.secret,
        Redirect::to("/account").into_response(),
    ))
}

#[derive(Template)]
#[template(path = "accounts/reset.html")]
struct ResetView {
    l: Layout,
    email: String,
    error: Option<Invalid>,
}

impl ResetView {
    fn err(&self, field: &str) -> Option<String> {
        field_error(&self.error, field)
    }
}

pub async fn reset_form(ctx: Ctx) -> PageResult {
    render(&ResetView {
        l: ctx.layout("Forgotten your password?"),
        email: String::new(),
        error: None,
    })
}

#[derive(Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    email: String,
}

pub async fn reset(
    State(state): State<AppState>,
    ctx: Ctx,
    ClientAddr(address): ClientAddr,
    Form(form): Form<ResetForm>,
) -> PageResult {
    match state
        .app
        .public()
        .request_password_reset(&form.email, &address)
        .await
    {
        Ok(()) => {}
        Err(crate::app::Error::Invalid(e)) => {
            return render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &ResetView {
                    l: ctx.layout("Forgotten your password?"),
                    email: form.email.trim().to_string(),
                    error: Some(e),
                },
            );
        }
        Err(e) => return Err(e.into()),
    }
    // The same words whether or not the address has an account.
    notice(
        ctx,
        "Check your e-mail",
        "If that address belongs to an account, a link to choose a new password is on its way. It works once, for an hour. Nothing arrived? Look in the junk folder, check the address, or write to the programme.",
        None,
        "/signin",
        "Back to sign in",
    )
}
