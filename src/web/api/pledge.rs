//! The JSON API of the code-of-conduct pledge: the current text and its signers (anyone),
//! a member's own signature and listing, and for coordinators publishing, settings,
//! figures (small counts suppressed, as on the page) and the signatures.

use axum::Json;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::pledge::{ListingInput, MONTH_COLUMNS, MyPledge, PledgeSettings};
use crate::domain::pledge::{Act, Change, PledgeVersion, Record, Standing};
use crate::domain::reports::suppression::Cell;
use crate::web::AppState;
use crate::web::api::{ApiJson, ApiPath};
use crate::web::http::auth::{Api, Coordinator, Member};
use crate::web::http::error::{ApiResult, ErrorBody};
use axum::extract::State;

/// One version of the pledge.
#[derive(Serialize, ToSchema)]
pub struct VersionOut {
    pub number: i64,
    /// Markdown.
    pub text: String,
    /// Unix seconds.
    pub published_at: i64,
    /// SHA-256 of `text`, hex.
    pub digest: String,
    pub change: Change,
    pub note: String,
}

impl From<PledgeVersion> for VersionOut {
    fn from(v: PledgeVersion) -> Self {
        Self {
            number: v.number,
            text: v.text_md,
            published_at: v.published_at,
            digest: v.digest,
            change: v.change,
            note: v.note,
        }
    }
}

/// Someone on the public list: they chose to be on it.
#[derive(Serialize, ToSchema)]
pub struct ListedOut {
    pub name: String,
    /// Only if they chose to show it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct PledgeOut {
    /// Absent until the programme publishes its pledge.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current: Option<VersionOut>,
    /// Active accounts whose signature is current.
    pub signers: u64,
    pub listed: Vec<ListedOut>,
}

/// The current pledge, how many signed it, and those who chose to be listed.
#[utoipa::path(get, path = "/api/v1/pledge", tag = "pledge",
    responses((status = 200, body = PledgeOut)))]
pub async fn get_pledge(State(state): State<AppState>) -> ApiResult<Json<PledgeOut>> {
    let p = state.app.public().pledge().await?;
    Ok(Json(PledgeOut {
        current: p.current.map(VersionOut::from),
        signers: p.signers,
        listed: p
            .listed
            .into_iter()
            .map(|(name, department)| ListedOut { name, department })
            .collect(),
    }))
}

/// Every version, newest first, with its text.
#[utoipa::path(get, path = "/api/v1/pledge/versions", tag = "pledge",
    responses((status = 200, body = [VersionOut])))]
pub async fn versions(State(state): State<AppState>) -> ApiResult<Json<Vec<VersionOut>>> {
    let public = state.app.public();
    let mut out = Vec::new();
    for v in public.pledge_versions().await? {
        out.push(public.pledge_version(v.number).await?.into());
    }
    Ok(Json(out))
}

/// One version.
#[utoipa::path(get, path = "/api/v1/pledge/versions/{id}", tag = "pledge",
    params(("id" = i64, Path, description = "Version number")),
    responses((status = 200, body = VersionOut)))]
pub async fn version(
    State(state): State<AppState>,
    ApiPath(number): ApiPath<i64>,
) -> ApiResult<Json<VersionOut>> {
    Ok(Json(
        state.app.public().pledge_version(number).await?.into(),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishIn {
    /// The newest version number the coordinator read (0 when there is none): if
    /// another was published since, this one is refused with 409.
    pub based_on: i64,
    /// Markdown, at most 20,000 characters.
    pub text: String,
    /// Required after the first version (which is always substantive).
    #[serde(default)]
    pub change: Option<Change>,
    #[serde(default)]
    pub note: String,
}

/// Publishes a new version (coordinators).
#[utoipa::path(post, path = "/api/v1/pledge/versions", tag = "pledge",
    security(("bearer" = ["coordinator"])),
    request_body = PublishIn,
    responses((status = 201, body = VersionOut),
              (status = 409, body = ErrorBody, description = "Another version was published since `based_on`")))]
pub async fn publish(
    Api(c): Api<Coordinator>,
    ApiJson(body): ApiJson<PublishIn>,
) -> ApiResult<(StatusCode, Json<VersionOut>)> {
    let change = body.change.map(Change::key).unwrap_or("");
    let v = c
        .publish_pledge(body.based_on, &body.text, change, &body.note)
        .await?;
    Ok((StatusCode::CREATED, Json(v.into())))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StandingState {
    NeverSigned,
    Current,
    /// A substantive version replaced the one signed: asked to sign again.
    Outdated,
    Withdrawn,
}

#[derive(Serialize, ToSchema)]
pub struct StandingOut {
    pub state: StandingState,
    /// The version signed (current or outdated).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
    /// When the last act was, Unix seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<i64>,
}

impl From<Standing> for StandingOut {
    fn from(s: Standing) -> Self {
        let (state, version, at) = match s {
            Standing::NeverSigned => (StandingState::NeverSigned, None, None),
            Standing::Current { version, at } => (StandingState::Current, Some(version), Some(at)),
            Standing::Outdated { version, at } => {
                (StandingState::Outdated, Some(version), Some(at))
            }
            Standing::Withdrawn { at } => (StandingState::Withdrawn, None, Some(at)),
        };
        Self { state, version, at }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActOut {
    Sign,
    Withdraw,
}

#[derive(Serialize, ToSchema)]
pub struct RecordOut {
    pub act: ActOut,
    pub version: i64,
    pub at: i64,
}

impl From<Record> for RecordOut {
    fn from(r: Record) -> Self {
        Self {
            act: match r.act {
                Act::Sign => ActOut::Sign,
                Act::Withdraw => ActOut::Withdraw,
            },
            version: r.version,
            at: r.at,
        }
    }
}

/// What the public list shows of a member (nothing unless they choose).
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListingOut {
    pub show_name: bool,
    /// Shown only beside the name.
    pub show_department: bool,
    #[serde(default)]
    pub department: String,
}

#[derive(Serialize, ToSchema)]
pub struct MyPledgeOut {
    pub standing: StandingOut,
    /// Every signing and withdrawal, oldest first.
    pub records: Vec<RecordOut>,
    pub listing: ListingOut,
}

impl From<MyPledge> for MyPledgeOut {
    fn from(m: MyPledge) -> Self {
        Self {
            standing: m.standing.into(),
            records: m.records.into_iter().map(RecordOut::from).collect(),
            listing: ListingOut {
                show_name: m.listing.show_name,
                show_department: m.listing.show_department,
                department: m.listing.department,
            },
        }
    }
}

/// The caller's own pledge.
#[utoipa::path(get, path = "/api/v1/me/pledge", tag = "pledge", security(("bearer" = [])),
    responses((status = 200, body = MyPledgeOut)))]
pub async fn mine(Api(m): Api<Member>) -> ApiResult<Json<MyPledgeOut>> {
    Ok(Json(m.my_pledge().await?.into()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    /// The version the caller read (`GET /api/v1/pledge`).
    pub version: i64,
    /// Must be true: the caller agrees to that version.
    pub agree: bool,
}

/// Signs the version the caller read. Signing it again changes nothing.
#[utoipa::path(post, path = "/api/v1/me/pledge/signature", tag = "pledge", security(("bearer" = [])),
    request_body = SignIn,
    responses((status = 200, body = MyPledgeOut),
              (status = 409, body = ErrorBody, description = "A substantive version was published after the one read")))]
pub async fn sign(
    Api(m): Api<Member>,
    ApiJson(body): ApiJson<SignIn>,
) -> ApiResult<Json<MyPledgeOut>> {
    m.sign_pledge(body.version, body.agree).await?;
    Ok(Json(m.my_pledge().await?.into()))
}

/// Withdraws the caller's signature (kept in their history as a record of its own).
#[utoipa::path(delete, path = "/api/v1/me/pledge/signature", tag = "pledge", security(("bearer" = [])),
    responses((status = 200, body = MyPledgeOut)))]
pub async fn withdraw(Api(m): Api<Member>) -> ApiResult<Json<MyPledgeOut>> {
    m.withdraw_pledge().await?;
    Ok(Json(m.my_pledge().await?.into()))
}

/// What the public list may show of the caller.
#[utoipa::path(put, path = "/api/v1/me/pledge/listing", tag = "pledge", security(("bearer" = [])),
    request_body = ListingOut,
    responses((status = 200, body = ListingOut)))]
pub async fn set_listing(
    Api(m): Api<Member>,
    ApiJson(body): ApiJson<ListingOut>,
) -> ApiResult<Json<ListingOut>> {
    let l = m
        .set_pledge_listing(&ListingInput {
            show_name: body.show_name,
            show_department: body.show_department,
            department: body.department,
        })
        .await?;
    Ok(Json(ListingOut {
        show_name: l.show_name,
        show_department: l.show_department,
        department: l.department,
    }))
}

#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsOut {
    /// Applying to be a helper needs a current signature.
    pub required_for_helpers: bool,
    /// Days between reminders to sign a substantive new version, 0 to 365 (0: none).
    pub reminder_days: i64,
}

impl From<PledgeSettings> for SettingsOut {
    fn from(s: PledgeSettings) -> Self {
        Self {
            required_for_helpers: s.required_for_helpers,
            reminder_days: s.reminder_days,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/pledge/settings", tag = "pledge",
    security(("bearer" = ["coordinator"])),
    responses((status = 200, body = SettingsOut)))]
pub async fn get_settings(Api(c): Api<Coordinator>) -> ApiResult<Json<SettingsOut>> {
    Ok(Json(c.pledge_settings().await?.into()))
}

#[utoipa::path(put, path = "/api/v1/pledge/settings", tag = "pledge",
    security(("bearer" = ["coordinator"])),
    request_body = SettingsOut,
    responses((status = 200, body = SettingsOut)))]
pub async fn put_settings(
    Api(c): Api<Coordinator>,
    ApiJson(body): ApiJson<SettingsOut>,
) -> ApiResult<Json<SettingsOut>> {
    Ok(Json(
        c.save_pledge_settings(body.required_for_helpers, &body.reminder_days.to_string())
            .await?
            .into(),
    ))
}

/// A published count: the number, or why it is not shown.
#[derive(Serialize, ToSchema)]
pub struct CellOut {
    /// Absent when suppressed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    /// As the page shows it: "12", "fewer than 11" or "withheld".
    pub text: String,
    pub suppressed: bool,
}

impl From<Cell> for CellOut {
    fn from(c: Cell) -> Self {
        Self {
            count: c.count(),
            text: c.text(),
            suppressed: c.is_suppressed(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct MonthOut {
    /// `YYYY-MM`, in the programme's time zone.
    pub month: String,
    pub first_signatures: CellOut,
    pub signed_again: CellOut,
    pub withdrawals: CellOut,
    pub all: CellOut,
}

#[derive(Serialize, ToSchema)]
pub struct DepartmentOut {
    pub department: String,
    pub signatures: CellOut,
}

#[derive(Serialize, ToSchema)]
pub struct StatsOut {
    /// Counts below this are shown as "fewer than" it.
    pub threshold: u64,
    pub months: Vec<MonthOut>,
    /// The month columns' totals, in the order first signatures, signed again, withdrawals.
    pub month_totals: Vec<CellOut>,
    pub all_months: CellOut,
    pub departments: Vec<DepartmentOut>,
    pub all_departments: CellOut,
    /// People whose signature a substantive version has outdated.
    pub outdated: CellOut,
}

/// Signatures by month and current signatures by department (coordinators), with the
/// same suppression as the page.
#[utoipa::path(get, path = "/api/v1/pledge/stats", tag = "pledge",
    security(("bearer" = ["coordinator"])),
    responses((status = 200, body = StatsOut)))]
pub async fn stats(Api(c): Api<Coordinator>) -> ApiResult<Json<StatsOut>> {
    let s = c.pledge_stats().await?;
    debug_assert_eq!(MONTH_COLUMNS.len(), 3);
    let months = s
        .months
        .iter()
        .enumerate()
        .map(|(i, month)| {
            let row = &s.by_month.cells[i];
            MonthOut {
                month: month.clone(),
                first_signatures: row[0].into(),
                signed_again: row[1].into(),
                withdrawals: row[2].into(),
                all: s.by_month.row_totals[i].into(),
            }
        })
        .collect();
    Ok(Json(StatsOut {
        threshold: s.threshold.get(),
        months,
        month_totals: s
            .by_month
            .column_totals
            .iter()
            .map(|c| (*c).into())
            .collect(),
        all_months: s.by_month.total.into(),
        departments: s
            .departments
            .iter()
            .zip(&s.by_department.cells)
            .map(|(d, c)| DepartmentOut {
                department: d.clone(),
                signatures: (*c).into(),
            })
            .collect(),
        all_departments: s.by_department.total.into(),
        outdated: s.outdated.into(),
    }))
}
