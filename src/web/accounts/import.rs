//! Administrators import accounts from a spreadsheet: upload the file, see what each
//! line will do, then import it all (or, with any line refused, nothing).

use askama::Template;
use axum::extract::Multipart;
use axum::http::StatusCode;

use crate::app::import::{Action, Plan};
use crate::domain::Invalid;
use crate::domain::import::COLUMNS;
use crate::web::http::auth::Admin;
use crate::web::http::error::{AppError, PageResult};
use crate::web::http::layout::{Ctx, Layout, field_error, notice, render, render_status};

/// One line of the plan, in words for the table.
struct LineView {
    line: u64,
    email: String,
    what: &'static str,
    detail: String,
    refused: bool,
}

#[derive(Template)]
#[template(path = "accounts/import.html")]
struct ImportView {
    l: Layout,
    columns: &'static [(&'static str, &'static str)],
    error: Option<Invalid>,
    /// After a check: the file's lines and what each does.
    lines: Vec<LineView>,
    summary: String,
    /// The file to import and the digest of its plan, sent back by the confirm form,
    /// when nothing is refused.
    ready: Option<(String, String)>,
}

impl ImportView {
    fn err(&self, field: &str) -> Option<String> {
        field_error(&self.error, field)
    }
}

fn view(ctx: Ctx, error: Option<Invalid>) -> ImportView {
    ImportView {
        l: ctx.layout("Import accounts"),
        columns: COLUMNS,
        error,
        lines: Vec::new(),
        summary: String::new(),
        ready: None,
    }
}

pub async fn form(ctx: Ctx, _: Admin) -> PageResult {
    render(&view(ctx, None))
}

fn lines_of(plan: &Plan) -> Vec<LineView> {
    plan.lines
        .iter()
        .map(|l| {
            let (what, detail, refused) = match &l.action {
                Action::Create { roles } => {
                    let roles: Vec<&str> = roles.iter().map(|r| r.label()).collect();
                    let roles = if roles.is_empty() {
                        "Member".to_string()
                    } else {
                        roles.join(", ")
                    };
                    ("Create", roles, false)
                }
                Action::Change(what) => ("Change", what.join("; "), false),
                Action::Unchanged => ("No change", String::new(), false),
                Action::Refused(m) => (
                    "Refused",
                    m.iter()
                        .map(|m| {
                            if m.column.is_empty() {
                                m.message.clone()
                            } else {
                                format!("{}: {}", m.column, m.message)
                            }
                        })
                        .collect::<Vec<_>>()
                        .join(" "),
                    true,
                ),
            };
            LineView {
                line: l.line,
                email: l.email.clone(),
                what,
                detail,
                refused,
            }
        })
        .collect()
}

fn summary(plan: &Plan) -> String {
    format!(
        "{} to create, {} to change, {} unchanged, {} refused.",
        plan.creates(),
        plan.changes(),
        plan.unchanged(),
        plan.refused()
    )
}

type Upload = Result<Multipart, axum::extract::multipart::MultipartRejection>;

/// The named fields of an upload (the first of each name), in the order asked.
async fn fields_of<const N: usize>(
    upload: Upload,
    names: [&str; N],
) -> Result<[Option<Vec<u8>>; N], AppError> {
    // Not a form with a file at all: a page that says so, not axum's plain text.
    let mut upload = upload.map_err(|_| unreadable())?;
    let mut found: [Option<Vec<u8>>; N] = std::array::from_fn(|_| None);
    while let Some(field) = upload.next_field().await.map_err(|_| unreadable())? {
        let Some(i) = names.iter().position(|n| field.name() == Some(*n)) else {
            continue;
        };
        if found[i].is_none() {
            found[i] = Some(field.bytes().await.map_err(|_| unreadable())?.to_vec());
        }
    }
    Ok(found)
}

/// The plan as a page; with a confirm form carrying the file and the plan's digest
/// when there is something to import and nothing is refused.
fn plan_view(ctx: Ctx, error: Option<Invalid>, plan: &Plan, text: &[u8]) -> ImportView {
    let mut v = view(ctx, error);
    v.lines = lines_of(plan);
    v.summary = summary(plan);
    // The confirm form carries the text back; the file read as UTF-8 already.
    v.ready = (plan.refused() == 0 && plan.creates() + plan.changes() > 0)
        .then(|| (String::from_utf8_lossy(text).into_owned(), plan.digest()));
    v
}

/// The uploaded file is checked: nothing changes yet.
pub async fn check(ctx: Ctx, admin: Admin, upload: Upload) -> PageResult {
    let [file] = fields_of(upload, ["file"]).await?;
    let bytes = match file {
        Some(b) if !b.is_empty() => b,
        _ => {
            let e = Invalid::new("file", "Choose the CSV file to import.");
            return render_status(StatusCode::UNPROCESSABLE_ENTITY, &view(ctx, Some(e)));
        }
    };
    let plan = admin.plan_import(&bytes).await?;
    let v = plan_view(ctx, None, &plan, &bytes);
    let status = if plan.refused() > 0 {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render_status(status, &v)
}

fn unreadable() -> AppError {
    AppError::BadInput {
        field: "file".into(),
        message: "The upload could not be read; choose the file and send it again.".into(),
    }
}

/// The checked file is imported, planned afresh (accounts may have changed meanwhile).
pub async fn import(ctx: Ctx, admin: Admin, upload: Upload) -> PageResult {
    let [csv, checked] = fields_of(upload, ["csv", "plan"]).await?;
    let (csv, checked) = (csv.unwrap_or_default(), checked.unwrap_or_default());
    match admin.import(&csv, &String::from_utf8_lossy(&checked)).await {
        Ok((_, done)) => notice(
            ctx,
            "Accounts imported",
            &format!(
                "{} account(s) created and {} changed. Each new account has been sent a link to set it up (or signs in through the institution).",
                done.created, done.changed
            ),
            None,
            "/admin/accounts",
            "Accounts and roles",
        ),
        Err(crate::app::Error::Invalid(e)) => {
            // Something changed since the check: show the plan as it is now, to be
            // confirmed again if it is right.
            let plan = admin.plan_import(&csv).await?;
            render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &plan_view(ctx, Some(e), &plan, &csv),
            )
        }
        Err(e) => Err(e.into()),
    }
}
