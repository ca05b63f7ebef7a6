//! The helper corps: profiles, training records, and the view of helpers that matching
//! takes.

use crate::domain::conflict::Conflict;
use serde::Serialize;
use sqlx::Row;

use super::{Store, StoreResult, get_i64, get_opt_i64, get_string};
use crate::crypto;
use crate::domain::accounts::{AccountId, Role};
use crate::domain::helpers::{HelperProfile, Training, TrainingKind};
use crate::domain::matching;
use crate::domain::support::{Appointment, Topic};

fn join(list: &[String]) -> String {
    list.join("|")
}

fn split(text: &str) -> Vec<String> {
    text.split('|')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Offers within this window count as "recent" for rotating who is asked.
const RECENT_OFFER_SECS: i64 = 30 * 24 * 3600;

/// A helper as coordinators see them in the corps list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HelperSummary {
    pub account: i64,
    pub name: String,
    pub email: String,
    pub profile: HelperProfile,
    /// When the newest training stops being valid; None: no training on record.
    pub trained_until: Option<i64>,
    pub open_cases: u32,
    /// Offers received in the last 30 days.
    pub recent_offers: u32,
}

/// A helper who chose to appear on the public page.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PublicHelper {
    pub account: i64,
    pub name: String,
    pub department: String,
    pub bio: String,
}

fn profile_from_row(row: &sqlx::any::AnyRow) -> StoreResult<HelperProfile> {
    let capacity = get_i64(row, "capacity")?;
    Ok(HelperProfile {
        department: get_string(row, "department")?,
        appointment: Appointment::parse(&get_string(row, "appointment")?),
        rank: get_string(row, "career_rank")?,
        genders: split(&get_string(row, "genders")?),
        race_ethnicities: split(&get_string(row, "race_ethnicities")?),
        languages: split(&get_string(row, "languages")?),
        topics: get_string(row, "topics")?
            .split('|')
            .filter_map(Topic::parse)
            .collect(),
        capacity: u32::try_from(capacity).unwrap_or(0),
        away_until: get_opt_i64(row, "away_until")?,
        bio: get_string(row, "bio")?,
        bio_public: get_i64(row, "bio_public")? == 1,
    })
}

const PROFILE_COLUMNS: &str = "p.department, p.appointment, p.career_rank, p.genders, \
     p.race_ethnicities, p.languages, p.topics, p.capacity, p.away_until, p.bio, p.bio_public";

impl Store {
    /// A helper's profile, or the defaults if they have not written one yet.
    pub async fn helper_profile(&self, account: AccountId) -> StoreResult<HelperProfile> {
        let mut conn = self.read_connection().await?;
        read_profile(&mut conn, account).await
    }

    pub async fn save_helper_profile(
        &self,
        account: AccountId,
        p: &HelperProfile,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        upsert_profile(&mut tx, account, p, self.now()).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn add_training(
        &self,
        account: AccountId,
        kind: TrainingKind,
        completed_at: i64,
        expires_at: i64,
        by: AccountId,
    ) -> StoreResult<()> {
        self.write_one(
            sqlx::query(
                "INSERT INTO helper_training (id, account_id, kind, completed_at, expires_at,
                     recorded_by, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(crypto::random_id())
            .bind(account.0)
            .bind(kind.key())
            .bind(completed_at)
            .bind(expires_at)
            .bind(by.0)
            .bind(self.now()),
        )
        .await?;
        Ok(())
    }

    pub async fn list_training(&self, account: AccountId) -> StoreResult<Vec<Training>> {
        let rows = sqlx::query(
            "SELECT id, kind, completed_at, expires_at FROM helper_training
             WHERE account_id = $1 ORDER BY completed_at DESC",
        )
        .bind(account.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Training {
                    id: get_i64(r, "id")?,
                    kind: TrainingKind::parse(&get_string(r, "kind")?)
                        .unwrap_or(TrainingKind::Refresher),
                    completed_at: get_i64(r, "completed_at")?,
                    expires_at: get_i64(r, "expires_at")?,
                })
            })
            .collect()
    }

    /// Every active account with the helper role, with its profile and training.
    pub async fn list_helpers(&self) -> StoreResult<Vec<HelperSummary>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT a.id, a.display_name, a.email,
                    COALESCE(p.department, '') AS department, COALESCE(p.appointment, '') AS appointment,
                    COALESCE(p.career_rank, '') AS career_rank, COALESCE(p.genders, '') AS genders,
                    COALESCE(p.race_ethnicities, '') AS race_ethnicities,
                    COALESCE(p.languages, '') AS languages, COALESCE(p.topics, '') AS topics,
                    COALESCE(p.capacity, 2) AS capacity, p.away_until,
                    COALESCE(p.bio, '') AS bio, COALESCE(p.bio_public, 0) AS bio_public,
                    (SELECT MAX(t.expires_at) FROM helper_training t WHERE t.account_id = a.id)
                        AS trained_until,
                    (SELECT COUNT(*) FROM support_requests q
                        WHERE q.helper_id = a.id AND q.status IN ('accepted', 'contacted'))
                    + (SELECT COUNT(*) FROM support_offers o
                        WHERE o.helper_id = a.id AND o.status = 'offered') AS open_cases,
                    (SELECT COUNT(*) FROM support_offers o2
                        WHERE o2.helper_id = a.id AND o2.offered_at > {}) AS recent_offers
             FROM accounts a
             JOIN account_roles r ON r.account_id = a.id AND r.role = '{}'
             LEFT JOIN helper_profiles p ON p.account_id = a.id
             WHERE a.active = 1
             ORDER BY a.display_name, a.id",
            self.now() - RECENT_OFFER_SECS,
            Role::Helper.as_str()
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(HelperSummary {
                    account: get_i64(r, "id")?,
                    name: get_string(r, "display_name")?,
                    email: get_string(r, "email")?,
                    profile: profile_from_row(r)?,
                    trained_until: r.try_get::<Option<i64>, _>("trained_until")?,
                    // Open cases and offers awaiting an answer both take a place.
                    open_cases: u32::try_from(get_i64(r, "open_cases")?).unwrap_or(u32::MAX),
                    recent_offers: u32::try_from(get_i64(r, "recent_offers")?).unwrap_or(u32::MAX),
                })
            })
            .collect()
    }

    /// Helpers as matching takes them.
    pub async fn helpers_for_matching(&self) -> StoreResult<Vec<matching::Helper>> {
        Ok(self
            .list_helpers()
            .await?
            .into_iter()
            .map(|h| matching::Helper {
                id: h.account,
                account: h.account,
                name: h.name,
                department: h.profile.department,
                appointment: h.profile.appointment,
                rank: h.profile.rank,
                genders: h.profile.genders,
                race_ethnicities: h.profile.race_ethnicities,
                languages: h.profile.languages,
                topics: h.profile.topics,
                capacity: h.profile.capacity,
                open_cases: h.open_cases,
                away_until: h.profile.away_until,
                trained_until: h.trained_until,
                active: true,
                recent_offers: h.recent_offers,
            })
            .collect())
    }

    /// Helpers who chose to be shown publicly, with their bios.
    pub async fn public_helpers(&self) -> StoreResult<Vec<PublicHelper>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT a.id, a.display_name, p.department, p.bio
             FROM helper_profiles p
             JOIN accounts a ON a.id = p.account_id AND a.active = 1
             JOIN account_roles r ON r.account_id = a.id AND r.role = '{}'
             WHERE p.bio_public = 1
             ORDER BY a.display_name",
            Role::Helper.as_str()
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(PublicHelper {
                    account: get_i64(r, "id")?,
                    name: get_string(r, "display_name")?,
                    department: get_string(r, "department")?,
                    bio: get_string(r, "bio")?,
                })
            })
            .collect()
    }
}

const WEIGHT_NAMES: [&str; 9] = [
    "topic",
    "appointment",
    "rank",
    "gender",
    "race_ethnicity",
    "language",
    "named_helper",
    "spare_capacity",
    "recent_offer",
];

fn weight_mut<'a>(w: &'a mut matching::Weights, name: &str) -> Option<&'a mut i64> {
    Some(match name {
        "topic" => &mut w.topic,
        "appointment" => &mut w.appointment,
        "rank" => &mut w.rank,
        "gender" => &mut w.gender,
        "race_ethnicity" => &mut w.race_ethnicity,
        "language" => &mut w.language,
        "named_helper" => &mut w.named_helper,
        "spare_capacity" => &mut w.spare_capacity,
        "recent_offer" => &mut w.recent_offer,
        _ => return None,
    })
}

impl Store {
    /// The matching weights and policy coordinators set, with defaults for the rest.
    pub async fn matching_rules(&self) -> StoreResult<(matching::Weights, matching::Policy)> {
        let rows = sqlx::query(
            "SELECT setting_key, setting_value FROM settings WHERE setting_key LIKE 'match_%'",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut w = matching::Weights::default();
        let mut p = matching::Policy::default();
        for row in &rows {
            let key = get_string(row, "setting_key")?;
            let value = get_string(row, "setting_value")?;
            if key == "match_exclude_same_department" {
                p.exclude_same_department = value == "1";
            } else if let Some(name) = key.strip_prefix("match_weight_")
                && let (Some(slot), Ok(v)) = (weight_mut(&mut w, name), value.parse())
            {
                *slot = v;
            }
        }
        Ok((w, p))
    }
}

/// The matching rules as stored: one row per key.
pub(super) fn matching_rule_pairs(
    w: &matching::Weights,
    p: &matching::Policy,
) -> Vec<(String, String)> {
    let mut w = *w;
    let mut pairs: Vec<(String, String)> = WEIGHT_NAMES
        .iter()
        .filter_map(|n| weight_mut(&mut w, n).map(|v| (format!("match_weight_{n}"), v.to_string())))
        .collect();
    pairs.push((
        "match_exclude_same_department".into(),
        if p.exclude_same_department { "1" } else { "0" }.into(),
    ));
    pairs
}

/// An application to join the helper corps.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Application {
    pub id: i64,
    pub account: i64,
    pub name: String,
    pub email: String,
    pub motivation: String,
    pub department: String,
    pub status: String,
    pub created_at: i64,
}

impl Store {
    /// Files an application; one may be pending per person at a time.
    pub async fn apply_to_help(
        &self,
        account: AccountId,
        motivation: &str,
        department: &str,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let pending = sqlx::query(
            "SELECT 1 AS x FROM helper_applications WHERE account_id = $1 AND status = 'pending'",
        )
        .bind(account.0)
        .fetch_optional(&mut *tx)
        .await?;
        if pending.is_some() {
            return Err(super::StoreError::Conflict(Conflict::ApplicationPending));
        }
        sqlx::query(
            "INSERT INTO helper_applications (id, account_id, motivation, department, status, created_at)
             VALUES ($1, $2, $3, $4, 'pending', $5)",
        )
        .bind(crypto::random_id())
        .bind(account.0)
        .bind(motivation)
        .bind(department)
        .bind(self.now())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn applications(&self, status: &str) -> StoreResult<Vec<Application>> {
        let rows = sqlx::query(
            "SELECT h.id, h.account_id, a.display_name, a.email, h.motivation, h.department,
                    h.status, h.created_at
             FROM helper_applications h JOIN accounts a ON a.id = h.account_id
             WHERE h.status = $1 ORDER BY h.created_at, h.id",
        )
        .bind(status)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Application {
                    id: get_i64(r, "id")?,
                    account: get_i64(r, "account_id")?,
                    name: get_string(r, "display_name")?,
                    email: get_string(r, "email")?,
                    motivation: get_string(r, "motivation")?,
                    department: get_string(r, "department")?,
                    status: get_string(r, "status")?,
                    created_at: get_i64(r, "created_at")?,
                })
            })
            .collect()
    }

    /// Approves (adding the helper role and a first profile) or declines a pending
    /// application, in one transaction.
    pub async fn decide_application(
        &self,
        id: i64,
        approve: bool,
        by: AccountId,
    ) -> StoreResult<()> {
        let now = self.now();
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "UPDATE helper_applications SET status = $1, decided_at = $2, decided_by = $3
             WHERE id = $4 AND status = 'pending' RETURNING account_id, department",
        )
        .bind(if approve { "approved" } else { "declined" })
        .bind(now)
        .bind(by.0)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(super::StoreError::Conflict(Conflict::ApplicationDecided))?;
        if approve {
            let account = get_i64(&row, "account_id")?;
            sqlx::query(
                "INSERT INTO account_roles (account_id, role) VALUES ($1, $2)
                 ON CONFLICT (account_id, role) DO NOTHING",
            )
            .bind(account)
            .bind(Role::Helper.as_str())
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO helper_profiles (account_id, department, updated_at) VALUES ($1, $2, $3)
                 ON CONFLICT (account_id) DO NOTHING",
            )
            .bind(account)
            .bind(get_string(&row, "department")?)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// Writes a helper's profile, made or replaced, in the caller's transaction.
/// A helper's profile, or the defaults if they have not written one yet, read on a
/// connection (inside a transaction, it is what that transaction sees).
pub(super) async fn read_profile(
    conn: &mut sqlx::AnyConnection,
    account: AccountId,
) -> StoreResult<HelperProfile> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {PROFILE_COLUMNS} FROM helper_profiles p WHERE p.account_id = $1"
    )))
    .bind(account.0)
    .fetch_optional(&mut *conn)
    .await?;
    match row {
        Some(r) => profile_from_row(&r),
        None => Ok(HelperProfile {
            capacity: 2,
            ..Default::default()
        }),
    }
}

pub(super) async fn upsert_profile(
    conn: &mut sqlx::AnyConnection,
    account: AccountId,
    p: &HelperProfile,
    now: i64,
) -> StoreResult<()> {
    let topics: Vec<String> = p.topics.iter().map(|t| t.key().to_string()).collect();
    sqlx::query(
        "INSERT INTO helper_profiles (account_id, department, appointment, career_rank, genders,
             race_ethnicities, languages, topics, capacity, away_until, bio, bio_public, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
         ON CONFLICT (account_id) DO UPDATE SET department = $2, appointment = $3,
             career_rank = $4, genders = $5, race_ethnicities = $6, languages = $7,
             topics = $8, capacity = $9, away_until = $10, bio = $11, bio_public = $12,
             updated_at = $13",
    )
    .bind(account.0)
    .bind(&p.department)
    .bind(p.appointment.map(|a| a.key()).unwrap_or(""))
    .bind(&p.rank)
    .bind(join(&p.genders))
    .bind(join(&p.race_ethnicities))
    .bind(join(&p.languages))
    .bind(topics.join("|"))
    .bind(i64::from(p.capacity))
    .bind(p.away_until)
    .bind(&p.bio)
    .bind(i64::from(p.bio_public))
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
