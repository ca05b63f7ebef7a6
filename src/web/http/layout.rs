//! What every HTML page shares: branding, navigation, the signed-in account, the CSRF token.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use askama::Template;

use super::auth::MaybeSignedIn;
use super::csrf::CsrfToken;
use super::error::AppError;
use super::error::PageResult;
use crate::domain::Invalid;
use crate::domain::accounts::Account;
use crate::domain::content::Branding;
use crate::web::AppState;

/// Where "Programmes" sits among the pages in the main navigation.
const PROGRAMMES_NAV_ORDER: i64 = 35;

pub struct Layout {
    pub title: String,
    pub branding: Branding,
    pub nav: Vec<(String, String)>,
    pub account: Option<Account>,
    pub csrf: String,
    pub current: String,
    /// The programme's time zone: every time a person reads is in it (an event's own
    /// times are in the event's zone).
    pub zone: jiff::tz::TimeZone,
    /// The signed-in person signed a pledge a substantive version has replaced: every
    /// page asks them to read the new one.
    pub pledge_prompt: bool,
}

impl Layout {
    /// A moment in the programme's zone, for people to read.
    pub fn time(&self, unix: impl std::borrow::Borrow<i64>) -> String {
        crate::domain::format_time(unix, &self.zone)
    }
}

/// The page context, taken by every HTML handler.
pub struct Ctx {
    pub branding: Branding,
    pub nav: Vec<(String, String)>,
    pub account: Option<Account>,
    pub csrf: String,
    pub path: String,
    pub zone: jiff::tz::TimeZone,
    pub pledge_prompt: bool,
}

impl Ctx {
    pub fn layout(&self, title: impl Into<String>) -> Layout {
        Layout {
            title: title.into(),
            branding: self.branding.clone(),
            nav: self.nav.clone(),
            account: self.account.clone(),
            csrf: self.csrf.clone(),
            current: self.path.clone(),
            zone: self.zone.clone(),
            pledge_prompt: self.pledge_prompt,
        }
    }
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let MaybeSignedIn(account) = MaybeSignedIn::from_request_parts(parts, state).await?;
        let CsrfToken(csrf) = CsrfToken::from_request_parts(parts, state).await?;
        let branding = state.app.public().branding().await?;
        let zone = state.app.public().programme_zone().await?;
        let mut entries: Vec<(i64, String, String)> = state
            .app
            .public()
            .page_nav()
            .await?
            .into_iter()
            .map(|(order, slug, title)| (order, format!("/{slug}"), title))
            .collect();
        entries.push((
            PROGRAMMES_NAV_ORDER,
            "/programmes".into(),
            "Programmes".into(),
        ));
        entries.push((PROGRAMMES_NAV_ORDER + 1, "/events".into(), "Events".into()));
        entries.sort_by_key(|e| e.0);
        let pledge_prompt = match &account {
            Some(m) => m.pledge_outdated().await?,
            None => false,
        };
        Ok(Ctx {
            branding,
            nav: entries.into_iter().map(|(_, h, t)| (h, t)).collect(),
            account: account.map(crate::app::Member::into_account),
            csrf,
            path: parts.uri.path().to_string(),
            zone,
            pledge_prompt,
        })
    }
}

/// Finds the message for one field among a form's errors (templates call this).
pub fn field_error(error: &Option<Invalid>, field: &str) -> Option<String> {
    error.as_ref().and_then(|e| e.about(field))
}

/// Renders a template to an HTML response.
pub fn render(t: &impl askama::Template) -> Result<axum::response::Response, AppError> {
    use axum::response::IntoResponse;
    Ok(axum::response::Html(t.render()?).into_response())
}

/// The status of a page that may be a form sent back with a mistake: 422 then, else 200.
pub fn form_status(error: &Option<Invalid>) -> axum::http::StatusCode {
    if error.is_some() {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        axum::http::StatusCode::OK
    }
}

/// Renders a template with a status (422 for a form sent back with errors).
pub fn render_status(
    status: axum::http::StatusCode,
    t: &impl askama::Template,
) -> Result<axum::response::Response, AppError> {
    use axum::response::IntoResponse;
    Ok((status, axum::response::Html(t.render()?)).into_response())
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
