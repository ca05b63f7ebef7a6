//! Counts of failed sign-ins per key, for throttling (rules in `domain::throttle`).

use super::{Store, StoreResult, get_i64};

impl Store {
    /// When the key is locked until (0 if it is not).
    pub async fn throttle_locked_until(&self, key: &str) -> StoreResult<i64> {
        let row = sqlx::query("SELECT locked_until FROM login_throttle WHERE throttle_key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        row.map_or(Ok(0), |r| get_i64(&r, "locked_until"))
    }

    /// Counts one failure and returns the failures in the current window. A count from
    /// before `window_start` is forgotten and the window starts again now. One statement,
    /// so two instances counting at once both count.
    pub async fn throttle_record_failure(
        &self,
        key: &str,
        window_start: i64,
        now: i64,
    ) -> StoreResult<i64> {
        // Through the writers' queue: on SQLite a write outside it sleeps in the busy
        // handler behind whatever else is writing.
        let row = self
            .write_returning(
                sqlx::query(
                    "INSERT INTO login_throttle (throttle_key, failures, window_start, locked_until)
                     VALUES ($1, 1, $2, 0)
                     ON CONFLICT (throttle_key) DO UPDATE SET
                       failures = CASE WHEN login_throttle.window_start < $3 THEN 1
                                       ELSE login_throttle.failures + 1 END,
                       window_start = CASE WHEN login_throttle.window_start < $3 THEN $2
                                           ELSE login_throttle.window_start END
                     RETURNING failures",
                )
                .bind(key.to_string())
                .bind(now)
                .bind(window_start),
            )
            .await?
            .ok_or(super::StoreError::NotFound)?;
        get_i64(&row, "failures")
    }

    pub async fn throttle_lock(&self, key: &str, until: i64) -> StoreResult<()> {
        sqlx::query("UPDATE login_throttle SET locked_until = $1 WHERE throttle_key = $2")
            .bind(until)
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn throttle_clear(&self, key: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM login_throttle WHERE throttle_key = $1")
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
