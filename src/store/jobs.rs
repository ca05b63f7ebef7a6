//! Timed jobs shared by all instances: each run is claimed by exactly one of them.

use serde::Serialize;

use super::{Store, StoreResult, get_opt_i64, get_string};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct JobInfo {
    pub name: String,
    pub next_run_at: i64,
    pub last_started_at: Option<i64>,
    pub last_finished_at: Option<i64>,
    /// What the last run did, or why it failed.
    pub last_result: Option<String>,
}

impl Store {
    /// Makes sure a job has its row; the first run is due at `first_run_at`.
    pub async fn ensure_job(&self, name: &str, first_run_at: i64) -> StoreResult<()> {
        self.write_one(sqlx::query(
            "INSERT INTO jobs (name, next_run_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(first_run_at))
        .await?;
        Ok(())
    }

    /// Claims a due job for `worker`. Returns false when it is not due or another instance
    /// holds it; a claim whose lease ran out (the instance died) can be taken over.
    pub async fn claim_job(&self, name: &str, worker: &str, lease_secs: i64) -> StoreResult<bool> {
        let now = self.now();
        let n = self
            .write_one(
                sqlx::query(
                    "UPDATE jobs SET claimed_by = $1, lease_until = $2, last_started_at = $3
                     WHERE name = $4 AND next_run_at <= $3 AND (lease_until IS NULL OR lease_until < $3)",
                )
                .bind(worker)
                .bind(now + lease_secs)
                .bind(now)
                .bind(name),
            )
            .await?;
        Ok(n == 1)
    }

    /// Records a run's result and when the job is due next.
    pub async fn finish_job(
        &self,
        name: &str,
        worker: &str,
        next_run_at: i64,
        result: &str,
    ) -> StoreResult<()> {
        self.write_one(
            sqlx::query(
                "UPDATE jobs SET next_run_at = $1, lease_until = NULL, last_finished_at = $2,
                     last_result = $3
                 WHERE name = $4 AND claimed_by = $5",
            )
            .bind(next_run_at)
            .bind(self.now())
            .bind(result)
            .bind(name)
            .bind(worker),
        )
        .await?;
        Ok(())
    }

    pub async fn list_jobs(&self) -> StoreResult<Vec<JobInfo>> {
        use sqlx::Row;
        let rows = sqlx::query(
            "SELECT name, next_run_at, last_started_at, last_finished_at, last_result
             FROM jobs ORDER BY name",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(JobInfo {
                    name: get_string(r, "name")?,
                    next_run_at: super::get_i64(r, "next_run_at")?,
                    last_started_at: get_opt_i64(r, "last_started_at")?,
                    last_finished_at: get_opt_i64(r, "last_finished_at")?,
                    last_result: r.try_get::<Option<String>, _>("last_result")?,
                })
            })
            .collect()
    }

    /// Housekeeping: expired sessions, used or expired set-up links, old throttle rows,
    /// unfinished sign-ins at the provider.
    /// Returns how many rows went.
    pub async fn delete_expired_sign_in_data(&self) -> StoreResult<u64> {
        let now = self.now();
        let mut n = 0;
        for (sql, cutoff) in [
            ("DELETE FROM sessions WHERE expires_at < $1", now),
            (
                "DELETE FROM setup_links WHERE expires_at < $1 OR used_at IS NOT NULL",
                now,
            ),
            (
                "DELETE FROM login_throttle WHERE locked_until < $1 AND window_start < $1",
                now - 24 * 3600,
            ),
            // Guests' registrations never confirmed: their names and addresses go.
            ("DELETE FROM guest_confirmations WHERE expires_at < $1", now),
            // Sign-ins started at the provider and never finished.
            ("DELETE FROM sign_in_attempts WHERE expires_at < $1", now),
        ] {
            n += self.write_one(sqlx::query(sql).bind(cutoff)).await?;
        }
        Ok(n)
    }
}
