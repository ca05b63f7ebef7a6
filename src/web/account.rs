//! Signing in and out, one's own account: password, API tokens, and first-time setup links.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::AppState;
use super::auth::{ClientAddr, SignedIn};
use super::cookies;
use super::error::{AppError, PageResult};
use super::layout::{Ctx, Layout, field_error, form_status, render, render_status};
use crate::crypto;
use crate::delivery::Writer;
use crate::domain::accounts::{Account, NewPassword};
use crate::domain::mail::MessageKind;
use crate::domain::{Invalid, now, throttle};
use crate::store::{ApiTokenInfo, Store};

#[derive(Template)]
#[template(path = "signin.html")]
struct SignInView {
    l: Layout,
    /// Where to go after signing in (a path on this site).
    next: String,
    email: String,
    error: Option<Invalid>,
    no_admin_yet: bool,
}

#[derive(Deserialize, Default)]
pub struct NextQuery {
    #[serde(default)]
    next: String,
}

/// Where to go after signing in: `next` if it is a path on this site, else the account.
fn after_sign_in(next: &str) -> String {
    if super::auth::safe_next(next) {
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
    let no_admin_yet = state.store.count_active_admins().await? == 0;
    render(&SignInView {
        l: ctx.layout("Sign in"),
        next: q.next,
        email: String::new(),
        error: None,
        no_admin_yet,
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

pub enum SignInOutcome {
    Ok(Account),
    WrongCredentials,
    Throttled { minutes: i64 },
}

/// Checks credentials under the throttling rules: a locked account or address is refused
/// before the password is even checked, and every failure counts against both.
pub async fn check_credentials(
    store: &Store,
    email: &str,
    password: &str,
    address: &str,
) -> Result<SignInOutcome, AppError> {
    let t = now();
    let account_key = throttle::account_key(email);
    let address_key = throttle::address_key(address);
    let locked = store
        .throttle_locked_until(&account_key)
        .await?
        .max(store.throttle_locked_until(&address_key).await?);
    if locked > t {
        return Ok(SignInOutcome::Throttled {
            minutes: throttle::minutes_left(locked, t),
        });
    }
    let found = store.account_for_sign_in(email).await?;
    let (account, hash) = match found {
        Some((a, h)) if a.active => (Some(a), h),
        _ => (None, None),
    };
    let password = password.to_string();
    let ok =
        tokio::task::spawn_blocking(move || crypto::verify_password(&password, hash.as_deref()))
            .await
            .map_err(|e| {
                AppError::Internal(anyhow::Error::new(e).context("password check task"))
            })?;
    match (ok, account) {
        (true, Some(account)) => {
            store.throttle_clear(&account_key).await?;
            Ok(SignInOutcome::Ok(account))
        }
        _ => {
            for (key, policy) in [
                (&account_key, throttle::PER_ACCOUNT),
                (&address_key, throttle::PER_ADDRESS),
            ] {
                let n = store
                    .throttle_record_failure(key, policy.window_start(t), t)
                    .await?;
                if let Some(until) = policy.lock_after(n, t) {
                    store.throttle_lock(key, until).await?;
                }
            }
            Ok(SignInOutcome::WrongCredentials)
        }
    }
}

pub async fn signin(
    State(state): State<AppState>,
    ctx: Ctx,
    ClientAddr(address): ClientAddr,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> PageResult {
    let outcome = check_credentials(&state.store, &form.email, &form.password, &address).await?;
    let account = match outcome {
        SignInOutcome::Ok(a) => a,
        SignInOutcome::Throttled { minutes } => return Err(AppError::Throttled { minutes }),
        SignInOutcome::WrongCredentials => {
            let view = SignInView {
                l: ctx.layout("Sign in"),
                next: form.next.clone(),
                email: form.email.trim().to_string(),
                error: Some(Invalid::new(
                    "email",
                    "That e-mail address and password do not match an account. Check both and try again.",
                )),
                no_admin_yet: false,
            };
            return render_status(StatusCode::UNAUTHORIZED, &view);
        }
    };
    let old = cookies::get(&headers, cookies::SESSION);
    let secret = state
        .store
        .create_session(account.id, state.web.session_ttl_secs, old)
        .await?;
    Ok(with_new_session(
        &state,
        &secret,
        Redirect::to(&after_sign_in(&form.next)).into_response(),
    ))
}

/// Sets the session cookie, and the CSRF cookie to the new session's token: a token
/// planted before sign-in is worthless after it.
fn with_new_session(state: &AppState, secret: &str, mut resp: Response) -> Response {
    let secure = state.web.cookies_secure;
    let h = resp.headers_mut();
    h.append(
        header::SET_COOKIE,
        cookies::set(cookies::SESSION, secret, state.web.session_ttl_secs, secure),
    );
    h.append(
        header::SET_COOKIE,
        cookies::set(
            cookies::CSRF,
            &super::csrf::session_token(secret),
            state.web.session_ttl_secs,
            secure,
        ),
    );
    resp
}

pub async fn signout(State(state): State<AppState>, headers: HeaderMap) -> PageResult {
    if let Some(secret) = cookies::get(&headers, cookies::SESSION) {
        state.store.end_session(secret).await?;
    }
    let mut resp = Redirect::to("/").into_response();
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
#[template(path = "account.html")]
struct AccountView {
    l: Layout,
    account: Account,
    tokens: Vec<ApiTokenInfo>,
    mail_choices: Vec<(MessageKind, bool)>,
    error: Option<Invalid>,
    now: i64,
}

async fn account_page(
    state: &AppState,
    ctx: Ctx,
    account: Account,
    error: Option<Invalid>,
) -> PageResult {
    let tokens = state.store.list_api_tokens(account.id).await?;
    let mail_choices = super::messages::choices(state, account.email.as_str()).await?;
    let status = form_status(&error);
    render_status(
        status,
        &AccountView {
            l: ctx.layout("My account"),
            account,
            tokens,
            mail_choices,
            error,
            now: now(),
        },
    )
}

pub async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    SignedIn(account): SignedIn,
) -> PageResult {
    account_page(&state, ctx, account, None).await
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordView {
    l: Layout,
    heading: String,
    action: String,
    ask_current: bool,
    error: Option<Invalid>,
}

impl PasswordView {
    fn err(&self, field: &str) -> Option<&str> {
        field_error(&self.error, field)
    }
}

pub async fn password_form(ctx: Ctx, SignedIn(_): SignedIn) -> PageResult {
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

async fn hash(password: NewPassword) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || crypto::hash_password(password.expose()))
        .await
        .map_err(|e| AppError::Internal(anyhow::Error::new(e).context("password hashing task")))?
        .map_err(AppError::Internal)
}

pub async fn change_password(
    State(state): State<AppState>,
    ctx: Ctx,
    ClientAddr(address): ClientAddr,
    headers: HeaderMap,
    SignedIn(account): SignedIn,
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
    // The current password is checked under the same throttle as signing in, so a stolen
    // session cannot be used to guess it.
    match check_credentials(&state.store, &account.email, &form.current, &address).await? {
        SignInOutcome::Ok(_) => {}
        SignInOutcome::Throttled { minutes } => return Err(AppError::Throttled { minutes }),
        SignInOutcome::WrongCredentials => {
            return again(
                ctx,
                Invalid::new("current", "Your current password is not right."),
            );
        }
    }
    let new = match NewPassword::parse(&form.password, Some(&form.confirm)) {
        Ok(p) => p,
        Err(e) => return again(ctx, e),
    };
    let keep = cookies::get(&headers, cookies::SESSION).map(crypto::secret_digest);
    let writer = Writer::load(
        &state.store,
        &state.web.public_url,
        MessageKind::PasswordChanged,
    )
    .await?;
    let when = crate::domain::format_time(now());
    let notice_mail = writer.to(
        account.email.as_str(),
        &[
            ("name", &account.display_name),
            ("when", &when),
            ("link", &writer.url("/account")),
        ],
        format!("password_changed:{}", crypto::random_hex(12)),
    );
    state
        .store
        .set_password(
            account.id,
            &hash(new).await?,
            keep.as_deref(),
            Some(&notice_mail),
        )
        .await?;
    notice(
        ctx,
        "Password changed",
        "Your password is changed. Any other browser where you were signed in has been signed out.",
        None,
        "/account",
        "Back to my account",
    )
}

#[derive(Template)]
#[template(path = "notice.html")]
struct NoticeView {
    l: Layout,
    heading: String,
    message: String,
    secret: Option<String>,
    secret_label: String,
    back_href: String,
    back_label: String,
}

/// A one-off message page, optionally showing a secret exactly once.
pub fn notice(
    ctx: Ctx,
    heading: &str,
    message: &str,
    secret: Option<(&str, String)>,
    back_href: &str,
    back_label: &str,
) -> PageResult {
    let (secret_label, secret) = match secret {
        Some((label, s)) => (label.to_string(), Some(s)),
        None => (String::new(), None),
    };
    render(&NoticeView {
        l: ctx.layout(heading),
        heading: heading.into(),
        message: message.into(),
        secret,
        secret_label,
        back_href: back_href.into(),
        back_label: back_label.into(),
    })
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

pub async fn create_token(
    State(state): State<AppState>,
    ctx: Ctx,
    SignedIn(account): SignedIn,
    Form(form): Form<TokenForm>,
) -> PageResult {
    let checked = token_name(&form.name)
        .and_then(|n| token_expiry(&form.expires_days, now()).map(|e| (n, e)));
    let (name, expires_at) = match checked {
        Ok(v) => v,
        Err(e) => return account_page(&state, ctx, account, Some(e)).await,
    };
    let (_, secret) = state
        .store
        .create_api_token(account.id, &name, expires_at)
        .await?;
    let lasts = match expires_at {
        Some(t) => format!(
            " It works until {}; make a new one before then.",
            crate::domain::format_time(t)
        ),
        None => " It works until you revoke it.".to_string(),
    };
    notice(
        ctx,
        "New API token",
        &format!("Send it in the Authorization header as: Bearer followed by the token.{lasts}"),
        Some(("Your new token", secret)),
        "/account",
        "Back to my account",
    )
}

pub async fn revoke_token(
    State(state): State<AppState>,
    SignedIn(account): SignedIn,
    Path(id): Path<i64>,
) -> PageResult {
    state.store.revoke_api_token(account.id, id).await?;
    Ok(Redirect::to("/account").into_response())
}

/// The account a set-up link is for; an unknown, used or expired link gets one message,
/// so the page reveals nothing about which it was.
async fn setup_link_account(state: &AppState, secret: &str) -> Result<Account, AppError> {
    match state.store.setup_link_account(secret).await {
        Ok(a) => Ok(a),
        Err(crate::store::StoreError::NotFound) => Err(AppError::Invalid(Invalid::new(
            "link",
            "This set-up link has expired or has already been used. Ask an administrator for a new one.",
        ))),
        Err(e) => Err(e.into()),
    }
}

pub async fn setup_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(secret): Path<String>,
) -> PageResult {
    let account = setup_link_account(&state, &secret).await?;
    render(&PasswordView {
        l: ctx.layout("Choose your password"),
        heading: format!("Welcome, {}: choose your password", account.display_name),
        action: format!("/setup/{secret}"),
        ask_current: false,
        error: None,
    })
}

pub async fn setup(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(secret): Path<String>,
    Form(form): Form<PasswordForm>,
) -> PageResult {
    let account = setup_link_account(&state, &secret).await?;
    let new = match NewPassword::parse(&form.password, Some(&form.confirm)) {
        Ok(p) => p,
        Err(e) => {
            return render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &PasswordView {
                    l: ctx.layout("Choose your password"),
                    heading: format!("Welcome, {}: choose your password", account.display_name),
                    action: format!("/setup/{secret}"),
                    ask_current: false,
                    error: Some(e),
                },
            );
        }
    };
    let id = state
        .store
        .use_setup_link(&secret, &hash(new).await?)
        .await?;
    let session = state
        .store
        .create_session(id, state.web.session_ttl_secs, None)
        .await?;
    Ok(with_new_session(
        &state,
        &session,
        Redirect::to("/account").into_response(),
    ))
}
