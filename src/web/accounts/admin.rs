//! Administrators' management of accounts and roles.

use askama::Template;
use axum::extract::Path;
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;

use crate::domain::Invalid;
use crate::domain::accounts::{Account, AccountId, Role};
use crate::web::http::IdPath;
use crate::web::http::auth::Admin;
use crate::web::http::error::{AppError, PageResult};
use crate::web::http::form::Form;
use crate::web::http::layout::notice;
use crate::web::http::layout::{Ctx, Layout, field_error, form_status, render_status};

#[derive(Template)]
#[template(path = "accounts/admin_accounts.html")]
struct AccountsView {
    l: Layout,
    accounts: Vec<Account>,
    roles: [Role; 3],
    new_name: String,
    new_email: String,
    error: Option<Invalid>,
}

impl AccountsView {
    fn err(&self, field: &str) -> Option<String> {
        field_error(&self.error, field)
    }
}

async fn accounts_page(
    admin: &Admin,
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
            accounts: admin.accounts().await?,
            roles: Role::ALL,
            new_name,
            new_email,
            error,
        },
    )
}

pub async fn accounts(ctx: Ctx, admin: Admin) -> PageResult {
    accounts_page(&admin, ctx, String::new(), String::new(), None).await
}

/// An account as the administrators' forms send it: `role` repeats, one per ticked box.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AccountForm {
    display_name: String,
    email: String,
    #[serde(rename = "role")]
    roles: Vec<String>,
    #[serde(deserialize_with = "crate::domain::ticked")]
    active: bool,
}

impl AccountForm {
    /// The ticked roles, each once.
    fn roles(&self) -> Result<Vec<Role>, Invalid> {
        let mut roles = Vec::new();
        for v in &self.roles {
            if let Some(r) = Role::parse(v)? {
                roles.push(r);
            }
        }
        roles.sort();
        roles.dedup();
        Ok(roles)
    }
}

pub async fn create_account(ctx: Ctx, admin: Admin, Form(form): Form<AccountForm>) -> PageResult {
    let result = match form.roles() {
        Ok(roles) => admin
            .create_account(&form.email, &form.display_name, &roles)
            .await
            .map_err(AppError::from),
        Err(e) => Err(e.into()),
    };
    match result {
        Ok((account, Some(secret))) => notice(
            ctx,
            "Account added",
            &format!(
                "{} has been sent an e-mail with a link to choose a password, valid for 7 days. If it does not arrive, give them the link below through a channel you trust.",
                account.display_name
            ),
            Some(("Set-up link", admin.setup_url(&secret))),
            "/admin/accounts",
            "Back to accounts",
        ),
        Ok((account, None)) => notice(
            ctx,
            "Account added",
            &format!(
                "{} signs in through the institution (password sign-in is off), so no set-up link was sent. Their first sign-in there finds this account by its verified e-mail address.",
                account.display_name
            ),
            None,
            "/admin/accounts",
            "Back to accounts",
        ),
        Err(AppError::Invalid(e)) => {
            accounts_page(&admin, ctx, form.display_name, form.email, Some(e)).await
        }
        // An address already in use is shown beside the address.
        Err(AppError::Conflict(c)) => {
            let e = Invalid::new("email", c);
            accounts_page(&admin, ctx, form.display_name, form.email, Some(e)).await
        }
        Err(e) => Err(e),
    }
}

pub async fn update_account(
    ctx: Ctx,
    admin: Admin,
    Path(IdPath { id }): Path<IdPath<AccountId>>,
    Form(form): Form<AccountForm>,
) -> PageResult {
    let result = match form.roles() {
        Ok(roles) => admin
            .change_access(id, &roles, form.active)
            .await
            .map_err(AppError::from),
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(()) => Ok(Redirect::to("/admin/accounts").into_response()),
        Err(AppError::Invalid(e)) => {
            accounts_page(&admin, ctx, String::new(), String::new(), Some(e)).await
        }
        Err(e) => Err(e),
    }
}
