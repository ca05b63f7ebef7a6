//! Counts of failed sign-ins per key, for throttling (rules in `domain::throttle`).

use super::{Store, StoreResult, get_i64};

/// Counts one more under `key` inside the caller's transaction and returns the count in
/// the current window (a count from before `window_start` is forgotten). One statement, so
/// two instances counting at once both count. Sign-in failures and guest registrations use
/// it.
pub(super) async fn count_in(
    conn: &mut sqlx::AnyConnection,
    key: &str,
    window_start: i64,
    now: i64,
) -> StoreResult<i64> {
    let row = sqlx::query(
        "INSERT INTO login_throttle (throttle_key, failures, window_start, locked_until)
         VALUES ($1, 1, $2, 0)
         ON CONFLICT (throttle_key) DO UPDATE SET
           failures = CASE WHEN login_throttle.window_start < $3 THEN 1
                           ELSE login_throttle.failures + 1 END,
           window_start = CASE WHEN login_throttle.window_start < $3 THEN $2
                               ELSE login_throttle.window_start END
         RETURNING failures",
    )
    .bind(key)
    .bind(now)
    .bind(window_start)
    .fetch_one(&mut *conn)
    .await?;
    get_i64(&row, "failures")
}

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
        let mut tx = self.begin_write().await?;
        let n = count_in(&mut tx, key, window_start, now).await?;
        tx.commit().await?;
        Ok(n)
    }

    pub async fn throttle_lock(&self, key: &str, until: i64) -> StoreResult<()> {
        self.write_one(
            sqlx::query("UPDATE login_throttle SET locked_until = $1 WHERE throttle_key = $2")
                .bind(until)
                .bind(key),
        )
        .await?;
        Ok(())
    }

    pub async fn throttle_clear(&self, key: &str) -> StoreResult<()> {
        self.write_one(sqlx::query("DELETE FROM login_throttle WHERE throttle_key = $1").bind(key))
            .await?;
        Ok(())
    }
}
