//! Administrators' management of accounts and roles.

use askama::Template;
use axum::extract::Path;
use axum::response::{IntoResponse, Redirect};

use crate::domain::Invalid;
use crate::domain::accounts::{Account, AccountId, Role};
use crate::web::http::IdPath;
use crate::web::http::auth::Admin;
use crate::web::http::error::{AppError, PageResult};
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
    fn err(&self, field: &str) -> Option<&str> {
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

// Checkboxes repeat a name, which `Form<Struct>` cannot hold; a list of pairs can.
pub async fn create_account(
    ctx: Ctx,
    admin: Admin,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> PageResult {
    let name = value(&pairs, "display_name").to_string();
    let email = value(&pairs, "email").to_string();
    let result = match roles_from(&pairs) {
        Ok(roles) => admin
            .create_account(&email, &name, &roles)
            .await
            .map_err(AppError::from),
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
            Some(("Set-up link", admin.setup_url(&secret))),
            "/admin/accounts",
            "Back to accounts",
        ),
        Err(AppError::Invalid(e)) => accounts_page(&admin, ctx, name, email, Some(e)).await,
        // An address already in use is shown beside the address.
        Err(AppError::Conflict(c)) => {
            accounts_page(&admin, ctx, name, email, Some(Invalid::new("email", c))).await
        }
        Err(e) => Err(e),
    }
}

pub async fn update_account(
    ctx: Ctx,
    admin: Admin,
    Path(IdPath { id }): Path<IdPath<AccountId>>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> PageResult {
    let active = value(&pairs, "active") == "1";
    let result = match roles_from(&pairs) {
        Ok(roles) => admin
            .change_access(id, &roles, active)
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
