//! Administrators' management of accounts and roles.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;

use super::AppState;
use super::account::notice;
use super::auth::Admin;
use super::error::{AppError, PageResult};
use super::layout::{Ctx, Layout, field_error, form_status, render_status};
use crate::delivery::Writer;
use crate::domain::Invalid;
use crate::domain::accounts::{self, Account, AccountId, Email, Role};
use crate::domain::mail::MessageKind;
use crate::store::{NewAccount, Store};

/// How long a set-up link stays valid.
pub const SETUP_LINK_SECS: i64 = 7 * 24 * 60 * 60;

#[derive(Template)]
#[template(path = "accounts.html")]
struct AccountsView {
    l: Layout,
    accounts: Vec<Account>,
    roles: [Role; 3],
    new_name: String,
    new_email: String,
    error: Option<Invalid>,
}

impl AccountsView {
    fn err(&self, field: &str) -> Option<&str> {
        field_error(&self.error, field)
    }
}

async fn accounts_page(
    state: &AppState,
    ctx: Ctx,
    new_name: String,
    new_email: String,
    error: Option<Invalid>,
) -> PageResult {
    let status = form_status(&error);
    render_status(
        status,
        &AccountsView {
            l: ctx.layout("Accounts and roles"),
            accounts: state.store.list_accounts().await?,
            roles: Role::ALL,
            new_name,
            new_email,
            error,
        },
    )
}

pub async fn accounts(State(state): State<AppState>, ctx: Ctx, _: Admin) -> PageResult {
    accounts_page(&state, ctx, String::new(), String::new(), None).await
}

/// Roles from a form's repeated `role` fields (checkboxes).
fn roles_from(pairs: &[(String, String)]) -> Result<Vec<Role>, Invalid> {
    let mut roles = Vec::new();
    for (k, v) in pairs {
        if k == "role"
            && let Some(r) = Role::parse(v)?
        {
            roles.push(r);
        }
    }
    roles.sort();
    roles.dedup();
    Ok(roles)
}

fn value<'a>(pairs: &'a [(String, String)], name: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_default()
}

/// Creates an account and a set-up link for it, and e-mails the link to the person;
/// shared by the page and the API.
pub async fn create_with_link(
    state: &AppState,
    email: &str,
    display_name: &str,
    roles: &[Role],
) -> Result<(Account, String), AppError> {
    let store = &state.store;
    let email = Email::parse(email)?;
    let display_name = accounts::display_name(display_name)?;
    let account = store
        .create_account(NewAccount {
            email: &email,
            display_name: &display_name,
            roles,
            password_hash: None,
        })
        .await?;
    let writer = Writer::load(store, &state.web.public_url, MessageKind::AccountSetup).await?;
    let expires = crate::domain::format_time(crate::domain::now() + SETUP_LINK_SECS);
    let mail = |secret: &str| {
        writer.to(
            account.email.as_str(),
            &[
                ("name", &account.display_name),
                ("link", &writer.url(&format!("/setup/{secret}"))),
                ("expires", &expires),
            ],
            format!("account_setup:{}", crate::crypto::secret_digest(secret)),
        )
    };
    let secret = store
        .create_setup_link(account.id, SETUP_LINK_SECS, Some(&mail))
        .await?;
    Ok((account, secret))
}

pub fn setup_url(state: &AppState, secret: &str) -> String {
    let base = state.web.public_url.as_str().trim_end_matches('/');
    format!("{base}/setup/{secret}")
}

// Checkboxes repeat a name, which `Form<Struct>` cannot hold; a list of pairs can.
pub async fn create_account(
    State(state): State<AppState>,
    ctx: Ctx,
    _: Admin,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> PageResult {
    let name = value(&pairs, "display_name").to_string();
    let email = value(&pairs, "email").to_string();
    let result = match roles_from(&pairs) {
        Ok(roles) => create_with_link(&state, &email, &name, &roles).await,
        Err(e) => Err(e.into()),
    };
    match result {
        Ok((account, secret)) => notice(
            ctx,
            "Account added",
            &format!(
                "{} has been sent an e-mail with a link to choose a password, valid for 7 days. If it does not arrive, give them the link below through a channel you trust.",
                account.display_name
            ),
            Some(("Set-up link", setup_url(&state, &secret))),
            "/admin/accounts",
            "Back to accounts",
        ),
        Err(AppError::Invalid(e)) => accounts_page(&state, ctx, name, email, Some(e)).await,
        Err(AppError::Conflict(m)) => {
            accounts_page(&state, ctx, name, email, Some(Invalid::new("email", m))).await
        }
        Err(e) => Err(e),
    }
}

/// Applies a role/active change unless it would lock everyone out of administration.
pub async fn change_access(
    store: &Store,
    id: AccountId,
    roles: &[Role],
    active: bool,
) -> Result<(), AppError> {
    let target = store.account(id).await?;
    let admins = store.count_active_admins().await?;
    if accounts::would_remove_last_admin(&target, roles, active, admins) {
        return Err(Invalid::new(
            "role",
            "This is the last active administrator. Make someone else an administrator first.",
        )
        .into());
    }
    store.update_account_access(id, roles, active).await?;
    Ok(())
}

#[derive(Deserialize)]
pub struct IdPath {
    id: i64,
}

pub async fn update_account(
    State(state): State<AppState>,
    ctx: Ctx,
    _: Admin,
    Path(IdPath { id }): Path<IdPath>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> PageResult {
    let active = value(&pairs, "active") == "1";
    let result = match roles_from(&pairs) {
        Ok(roles) => change_access(&state.store, AccountId(id), &roles, active).await,
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(()) => Ok(Redirect::to("/admin/accounts").into_response()),
        Err(AppError::Invalid(e)) => {
            accounts_page(&state, ctx, String::new(), String::new(), Some(e)).await
        }
        Err(e) => Err(e),
    }
}
