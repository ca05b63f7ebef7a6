//! Coordinators' editing of the programme's pages and branding.

use crate::web::http::form::Form;
use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use serde::Deserialize;

use crate::domain::Invalid;
use crate::domain::content::{Branding, Page, PageEdit, render_markdown};
use crate::web::AppState;
use crate::web::http::auth::Coordinator;
use crate::web::http::error::PageResult;
use crate::web::http::layout::{Ctx, Layout, field_error, render, render_status};

#[derive(Template)]
#[template(path = "content/pages.html")]
struct PagesView {
    l: Layout,
    pages: Vec<Page>,
}

pub async fn pages(
    State(_state): State<AppState>,
    ctx: Ctx,
    coordinator: Coordinator,
) -> PageResult {
    let pages = coordinator.public().pages().await?;
    render(&PagesView {
        l: ctx.layout("Manage the programme"),
        pages,
    })
}

#[derive(Template)]
#[template(path = "content/edit_page.html")]
struct EditView {
    l: Layout,
    slug: String,
    title: String,
    body_md: String,
    preview_html: Option<String>,
    error: Option<Invalid>,
}

impl EditView {
    fn err(&self, field: &str) -> Option<String> {
        field_error(&self.error, field)
    }
}

pub async fn edit_form(
    State(_state): State<AppState>,
    ctx: Ctx,
    coordinator: Coordinator,
    Path(slug): Path<String>,
) -> PageResult {
    let page = coordinator.public().page(&slug).await?;
    render(&EditView {
        l: ctx.layout(format!("Edit {}", page.title)),
        slug: page.slug,
        title: page.title,
        body_md: page.body_md,
        preview_html: None,
        error: None,
    })
}

#[derive(Deserialize)]
pub struct EditForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    body_md: String,
    #[serde(default)]
    action: String,
}

pub async fn edit(
    State(_state): State<AppState>,
    ctx: Ctx,
    account: Coordinator,
    Path(slug): Path<String>,
    Form(form): Form<EditForm>,
) -> PageResult {
    // Make sure the page exists before anything else, so a typo in the address is a 404.
    account.public().page(&slug).await?;
    let parsed = PageEdit::parse(&form.title, &form.body_md);
    let view = |ctx: Ctx, preview_html, error| EditView {
        l: ctx.layout(format!("Edit {slug}")),
        slug: slug.clone(),
        title: form.title.clone(),
        body_md: form.body_md.clone(),
        preview_html,
        error,
    };
    match (parsed, form.action.as_str()) {
        // What the coordinator typed always comes back to them: nothing is lost on an error.
        (Err(e), _) => render_status(StatusCode::UNPROCESSABLE_ENTITY, &view(ctx, None, Some(e))),
        (Ok(edit), "preview") => render(&view(ctx, Some(render_markdown(&edit.body_md)), None)),
        (Ok(edit), _) => {
            account.update_page(&slug, &edit).await?;
            let to = if slug == "home" {
                "/".to_string()
            } else {
                format!("/{slug}")
            };
            Ok(Redirect::to(&to).into_response())
        }
    }
}

pub struct SettingField {
    pub name: &'static str,
    pub label: &'static str,
    pub kind: &'static str,
    pub hint: &'static str,
    pub value: String,
}

#[derive(Template)]
#[template(path = "content/settings.html")]
struct SettingsView {
    l: Layout,
    fields: Vec<SettingField>,
    saved: bool,
    error: Option<Invalid>,
}

impl SettingsView {
    fn err(&self, field: &str) -> Option<String> {
        field_error(&self.error, field)
    }
}

#[derive(Deserialize, Default)]
pub struct SettingsForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    tagline: String,
    #[serde(default)]
    contact_email: String,
    #[serde(default)]
    colour_primary: String,
    #[serde(default)]
    colour_accent: String,
}

fn setting_fields(f: &SettingsForm) -> Vec<SettingField> {
    let field = |name, label, kind, hint, value: &String| SettingField {
        name,
        label,
        kind,
        hint,
        value: value.clone(),
    };
    vec![
        field("name", "Programme name", "text", "", &f.name),
        field("tagline", "Tagline (optional)", "text", "", &f.tagline),
        field(
            "contact_email",
            "Contact e-mail address",
            "email",
            "Shown at the foot of every page.",
            &f.contact_email,
        ),
        field(
            "colour_primary",
            "Main colour",
            "text",
            "As # and six hex digits, such as #1f4e79. The header and buttons carry white text on it, and links are drawn in it: it needs a contrast of at least 4.5:1 with white.",
            &f.colour_primary,
        ),
        field(
            "colour_accent",
            "Accent colour",
            "text",
            "As # and six hex digits, such as #c8702a. It outlines where the keyboard is: it needs a contrast of at least 3:1 with white.",
            &f.colour_accent,
        ),
    ]
}

impl From<&Branding> for SettingsForm {
    fn from(b: &Branding) -> Self {
        Self {
            name: b.name.clone(),
            tagline: b.tagline.clone(),
            contact_email: b.contact_email.clone(),
            colour_primary: b.colour_primary.clone(),
            colour_accent: b.colour_accent.clone(),
        }
    }
}

pub async fn settings_form(ctx: Ctx, _coordinator: Coordinator) -> PageResult {
    let fields = setting_fields(&SettingsForm::from(&ctx.branding));
    render(&SettingsView {
        l: ctx.layout("Branding"),
        fields,
        saved: false,
        error: None,
    })
}

pub async fn save_settings(
    State(_state): State<AppState>,
    ctx: Ctx,
    coordinator: Coordinator,
    Form(form): Form<SettingsForm>,
) -> PageResult {
    match Branding::parse(
        &form.name,
        &form.tagline,
        &form.contact_email,
        &form.colour_primary,
        &form.colour_accent,
    ) {
        Err(e) => render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &SettingsView {
                l: ctx.layout("Branding"),
                fields: setting_fields(&form),
                saved: false,
                error: Some(e),
            },
        ),
        Ok(b) => {
            coordinator.save_branding(&b).await?;
            let mut ctx = ctx;
            ctx.branding = b.clone();
            render(&SettingsView {
                l: ctx.layout("Branding"),
                fields: setting_fields(&SettingsForm::from(&b)),
                saved: true,
                error: None,
            })
        }
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/manage/pages", get(pages))
        .route("/manage/pages/{slug}", get(edit_form).post(edit))
        .route("/manage/settings", get(settings_form).post(save_settings))
}
