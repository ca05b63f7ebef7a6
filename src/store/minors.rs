//! Events with school students: the consent and waiver text guardians agree to (every
//! version kept, so a consent's version always says what was agreed), the roster of
//! adults cleared to work with the children, and who is placed on which event.

use super::{Store, StoreResult, get_i64, get_string};
use crate::domain::events::{ClearancePolicy, ConsentText};

impl Store {
    /// How long clearances last, as the programme has set it.
    pub async fn clearance_policy(&self) -> StoreResult<ClearancePolicy> {
        let rows = sqlx::query(
            "SELECT setting_key, setting_value FROM settings
             WHERE setting_key IN ('clearance_background_years', 'clearance_training_years')",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut p = ClearancePolicy::default();
        for r in &rows {
            let v: Option<i64> = get_string(r, "setting_value")?.parse().ok();
            match (get_string(r, "setting_key")?.as_str(), v) {
                ("clearance_background_years", Some(v)) => p.background_check_years = v,
                ("clearance_training_years", Some(v)) => p.youth_training_years = v,
                _ => {}
            }
        }
        Ok(p)
    }

    pub async fn save_clearance_policy(&self, p: &ClearancePolicy) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        super::put_setting(
            &mut tx,
            "clearance_background_years",
            &p.background_check_years.to_string(),
        )
        .await?;
        super::put_setting(
            &mut tx,
            "clearance_training_years",
            &p.youth_training_years.to_string(),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The consent text guardians agree to now.
    pub async fn consent_text(&self) -> StoreResult<ConsentText> {
        let current =
            sqlx::query("SELECT setting_value FROM settings WHERE setting_key = 'consent_current'")
                .fetch_optional(&self.pool)
                .await?;
        let Some(row) = current else {
            return Ok(ConsentText::default());
        };
        let version = get_string(&row, "setting_value")?;
        Ok(self.consent_version(&version).await?.unwrap_or_default())
    }

    /// The text of one version, if it is known.
    pub async fn consent_version(&self, version: &str) -> StoreResult<Option<ConsentText>> {
        if version == ConsentText::default().version {
            return Ok(Some(ConsentText::default()));
        }
        let row = sqlx::query("SELECT setting_value FROM settings WHERE setting_key = $1")
            .bind(format!("consent_text:{version}"))
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            Ok(ConsentText {
                version: version.to_string(),
                text: get_string(&r, "setting_value")?,
            })
        })
        .transpose()
    }

    /// Makes `c` the text guardians agree to from now on; earlier versions stay readable.
    pub async fn save_consent_text(&self, c: &ConsentText) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        super::put_setting(&mut tx, &format!("consent_text:{}", c.version), &c.text).await?;
        super::put_setting(&mut tx, "consent_current", &c.version).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records an adult's clearance dates (YYYY-MM-DD).
    pub async fn save_clearance(
        &self,
        account: i64,
        background: &str,
        training: &str,
    ) -> StoreResult<()> {
        self.write_one(sqlx::query(
            "INSERT INTO volunteer_clearances (account_id, background_check_on, youth_training_on, updated_at)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (account_id) DO UPDATE SET background_check_on = excluded.background_check_on,
                 youth_training_on = excluded.youth_training_on, updated_at = excluded.updated_at",
        )
        .bind(account)
        .bind(background)
        .bind(training)
        .bind(self.now()))
        .await?;
        Ok(())
    }

    /// Every adult with a clearance on record, by name: (account, name, background, training).
    pub async fn clearances(&self) -> StoreResult<Vec<(i64, String, String, String)>> {
        sqlx::query(
            "SELECT a.id, a.display_name, v.background_check_on, v.youth_training_on
             FROM volunteer_clearances v JOIN accounts a ON a.id = v.account_id
             ORDER BY a.display_name",
        )
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            Ok((
                get_i64(r, "id")?,
                get_string(r, "display_name")?,
                get_string(r, "background_check_on")?,
                get_string(r, "youth_training_on")?,
            ))
        })
        .collect()
    }

    pub async fn add_event_volunteer(&self, event_id: i64, account: i64) -> StoreResult<()> {
        self.write_one(
            sqlx::query(
                "INSERT INTO event_volunteers (event_id, account_id, added_at) VALUES ($1, $2, $3)
                 ON CONFLICT (event_id, account_id) DO NOTHING",
            )
            .bind(event_id)
            .bind(account)
            .bind(self.now()),
        )
        .await?;
        Ok(())
    }

    pub async fn remove_event_volunteer(&self, event_id: i64, account: i64) -> StoreResult<()> {
        self.write_one(
            sqlx::query("DELETE FROM event_volunteers WHERE event_id = $1 AND account_id = $2")
                .bind(event_id)
                .bind(account),
        )
        .await?;
        Ok(())
    }

    /// The adults placed on an event: (account, name).
    pub async fn event_volunteers(&self, event_id: i64) -> StoreResult<Vec<(i64, String)>> {
        sqlx::query(
            "SELECT a.id, a.display_name FROM event_volunteers v JOIN accounts a ON a.id = v.account_id
             WHERE v.event_id = $1 ORDER BY a.display_name",
        )
        .bind(event_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| Ok((get_i64(r, "id")?, get_string(r, "display_name")?)))
        .collect()
    }
}
