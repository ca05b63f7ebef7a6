//! The resource directory, and how often helpers suggested each entry.

use super::{Store, StoreResult, get_i64, get_string};
use crate::crypto;
use crate::domain::cases::{Resource, default_resources};
use crate::domain::conflict::Conflict;

fn resource_from_row(r: &sqlx::any::AnyRow) -> StoreResult<Resource> {
    Ok(Resource {
        key: get_string(r, "resource_key")?,
        name: get_string(r, "name")?,
        what: get_string(r, "what")?,
        how_to_reach: get_string(r, "how_to_reach")?,
        hours: get_string(r, "hours")?,
        confidential: get_i64(r, "confidential")? == 1,
        active: get_i64(r, "active")? == 1,
    })
}

impl Store {
    /// Puts in the default directory when a programme has none yet.
    pub async fn seed_resources(&self) -> StoreResult<()> {
        let any = sqlx::query("SELECT 1 AS x FROM resources LIMIT 1")
            .fetch_optional(&self.pool)
            .await?;
        if any.is_some() {
            return Ok(());
        }
        for (i, r) in default_resources().iter().enumerate() {
            self.insert_resource(r, i as i64 * 10).await?;
        }
        Ok(())
    }

    async fn insert_resource(&self, r: &Resource, order: i64) -> StoreResult<()> {
        self.write_one(sqlx::query(
            "INSERT INTO resources (id, resource_key, name, what, how_to_reach, hours, confidential,
                 sort_order, active, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9)
             ON CONFLICT (resource_key) DO NOTHING",
        )
        .bind(crypto::random_id())
        .bind(&r.key)
        .bind(&r.name)
        .bind(&r.what)
        .bind(&r.how_to_reach)
        .bind(&r.hours)
        .bind(i64::from(r.confidential))
        .bind(order)
        .bind(self.now()))
        .await
        .map_err(super::conflict(Conflict::ResourceNameTaken))?;
        Ok(())
    }

    /// The keys of the listed entries: what a logged contact may suggest.
    pub async fn active_resource_keys(&self) -> StoreResult<Vec<String>> {
        Ok(self
            .list_resources(false)
            .await?
            .into_iter()
            .map(|r| r.key)
            .collect())
    }

    /// The directory in its order; archived entries only if asked for.
    pub async fn list_resources(&self, with_archived: bool) -> StoreResult<Vec<Resource>> {
        let rows = sqlx::query(
            "SELECT resource_key, name, what, how_to_reach, hours, confidential, active
             FROM resources WHERE active = 1 OR $1 = 1 ORDER BY sort_order, name",
        )
        .bind(i64::from(with_archived))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(resource_from_row).collect()
    }

    /// Adds an entry at the end of the directory.
    pub async fn add_resource(&self, r: &Resource) -> StoreResult<()> {
        let row = sqlx::query("SELECT COALESCE(MAX(sort_order), 0) AS m FROM resources")
            .fetch_one(&self.pool)
            .await?;
        let existing = sqlx::query("SELECT 1 AS x FROM resources WHERE resource_key = $1")
            .bind(&r.key)
            .fetch_optional(&self.pool)
            .await?;
        if existing.is_some() {
            return Err(super::StoreError::Conflict(
                Conflict::ResourceNameTakenChange,
            ));
        }
        self.insert_resource(r, get_i64(&row, "m")? + 10).await
    }

    pub async fn update_resource(&self, r: &Resource) -> StoreResult<()> {
        let n = self
            .write_one(
                sqlx::query(
                    "UPDATE resources SET name = $1, what = $2, how_to_reach = $3, hours = $4,
                         confidential = $5, active = $6, updated_at = $7
                     WHERE resource_key = $8",
                )
                .bind(&r.name)
                .bind(&r.what)
                .bind(&r.how_to_reach)
                .bind(&r.hours)
                .bind(i64::from(r.confidential))
                .bind(i64::from(r.active))
                .bind(self.now())
                .bind(&r.key),
            )
            .await?;
        if n == 0 {
            return Err(super::StoreError::NotFound);
        }
        Ok(())
    }

    /// How many logged contacts suggested each resource, by key.
    pub async fn resource_referral_counts(&self) -> StoreResult<Vec<(String, i64)>> {
        let rows = sqlx::query("SELECT resources FROM support_contacts WHERE resources <> ''")
            .fetch_all(&self.pool)
            .await?;
        let mut counts: Vec<(String, i64)> = Vec::new();
        for r in &rows {
            for key in get_string(r, "resources")?
                .split(',')
                .filter(|k| !k.is_empty())
            {
                match counts.iter_mut().find(|(k, _)| k == key) {
                    Some((_, n)) => *n += 1,
                    None => counts.push((key.to_string(), 1)),
                }
            }
        }
        Ok(counts)
    }
}
