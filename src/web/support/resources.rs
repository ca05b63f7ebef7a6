//! The resource directory: public, edited by coordinators, with how often helpers
//! suggested each entry.

use crate::web::http::form::Form;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;

use crate::domain::Invalid;
use crate::domain::cases::Resource;
use crate::web::AppState;
use crate::web::http::auth::Coordinator;
use crate::web::http::error::PageResult;
use crate::web::http::layout::{Ctx, Layout, form_status, render, render_status};

#[derive(Template)]
#[template(path = "support/resources.html")]
struct PublicView {
    l: Layout,
    resources: Vec<Resource>,
}

pub async fn public(State(state): State<AppState>, ctx: Ctx) -> PageResult {
    render(&PublicView {
        l: ctx.layout("Resources"),
        resources: state.app.public().resources().await?,
    })
}

#[derive(Template)]
#[template(path = "support/manage_resources.html")]
struct ManageView {
    l: Layout,
    resources: Vec<(Resource, i64)>,
    error: Option<Invalid>,
    /// What was typed, sent back with its mistakes: into an entry's form (its key) or
    /// the form that adds one ("").
    typed: Option<(String, ResourceForm)>,
}

impl ManageView {
    fn err(&self, field: &str) -> Option<String> {
        crate::web::http::layout::field_error(&self.error, field)
    }

    /// What a field of one form shows: what was typed into it, if it came back, else
    /// what is stored (`stored`; empty for the form that adds).
    fn shown(&self, row: &str, field: &str, stored: &str) -> String {
        match &self.typed {
            Some((k, f)) if k == row => match field {
                "name" => f.name.clone(),
                "what" => f.what.clone(),
                "how_to_reach" => f.how_to_reach.clone(),
                _ => f.hours.clone(),
            },
            _ => stored.to_string(),
        }
    }

    fn ticked(&self, row: &str, field: &str, stored: &bool) -> bool {
        match &self.typed {
            Some((k, f)) if k == row => match field {
                "confidential" => f.confidential.is_some(),
                _ => f.active.is_some(),
            },
            _ => *stored,
        }
    }
}

async fn manage_page(
    coordinator: &Coordinator,
    ctx: Ctx,
    error: Option<Invalid>,
    typed: Option<(String, ResourceForm)>,
) -> PageResult {
    let resources = coordinator.resources_with_counts().await?;
    let status = form_status(&error);
    render_status(
        status,
        &ManageView {
            l: ctx.layout("Resource directory"),
            resources,
            error,
            typed,
        },
    )
}

pub async fn manage(
    State(_state): State<AppState>,
    ctx: Ctx,
    coordinator: Coordinator,
) -> PageResult {
    manage_page(&coordinator, ctx, None, None).await
}

#[derive(Deserialize)]
pub(crate) struct ResourceForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    what: String,
    #[serde(default)]
    how_to_reach: String,
    #[serde(default)]
    hours: String,
    #[serde(default)]
    confidential: Option<String>,
    #[serde(default)]
    active: Option<String>,
}

pub async fn add(
    State(_state): State<AppState>,
    ctx: Ctx,
    coordinator: Coordinator,
    Form(f): Form<ResourceForm>,
) -> PageResult {
    let parsed = Resource::parse(
        None,
        &f.name,
        &f.what,
        &f.how_to_reach,
        &f.hours,
        f.confidential.is_some(),
    );
    let result = match parsed {
        Ok(r) => coordinator
            .add_resource(&r)
            .await
            .map_err(crate::web::http::error::AppError::from),
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(()) => Ok(Redirect::to("/support/resources").into_response()),
        Err(crate::web::http::error::AppError::Invalid(e)) => {
            manage_page(&coordinator, ctx, Some(e), Some((String::new(), f))).await
        }
        Err(e) => Err(e),
    }
}

pub async fn update(
    State(_state): State<AppState>,
    ctx: Ctx,
    coordinator: Coordinator,
    Path(key): Path<String>,
    Form(f): Form<ResourceForm>,
) -> PageResult {
    match Resource::parse(
        Some(&key),
        &f.name,
        &f.what,
        &f.how_to_reach,
        &f.hours,
        f.confidential.is_some(),
    ) {
        Ok(mut r) => {
            r.active = f.active.is_some();
            coordinator.update_resource(&r).await?;
            Ok(Redirect::to("/support/resources").into_response())
        }
        Err(e) => {
            let e = crate::web::http::fields::in_row(e, &key);
            manage_page(&coordinator, ctx, Some(e), Some((key, f))).await
        }
    }
}
