//! Browser sessions, kept in the database so that every instance sees them.

use super::{Store, StoreResult, get_i64};
use crate::crypto;
use crate::domain::accounts::{Account, AccountId};

impl Store {
    /// Starts a session and returns its secret id (for the cookie). If `replaces` names an
    /// earlier session id from the same browser, that one ends: the id is rotated at sign-in.
    pub async fn create_session(
        &self,
        account: AccountId,
        ttl_secs: i64,
        replaces: Option<&str>,
    ) -> StoreResult<String> {
        self.create_session_via(account, ttl_secs, replaces, None)
            .await
    }

    /// As `create_session`, noting how the person signed in (`Some("oidc")` at the
    /// institution's provider), so that signing out can end that session too.
    pub async fn create_session_via(
        &self,
        account: AccountId,
        ttl_secs: i64,
        replaces: Option<&str>,
        via: Option<&str>,
    ) -> StoreResult<String> {
        let secret = crypto::random_hex(32);
        let now = self.now();
        let mut tx = self.begin_write().await?;
        if let Some(old) = replaces {
            sqlx::query("DELETE FROM sessions WHERE id_digest = $1")
                .bind(crypto::secret_digest(old))
                .execute(&mut *tx)
                .await?;
        }
        // Expired sessions are swept as new ones are made, so the table stays small.
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO sessions (id_digest, account_id, created_at, expires_at, signed_in_with)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(crypto::secret_digest(&secret))
        .bind(account.0)
        .bind(now)
        .bind(now + ttl_secs)
        .bind(via)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(secret)
    }

    /// The active account behind a session id, if the session is current.
    pub async fn session_account(&self, secret: &str) -> StoreResult<Option<Account>> {
        let row = sqlx::query(
            "SELECT s.account_id FROM sessions s JOIN accounts a ON a.id = s.account_id
             WHERE s.id_digest = $1 AND s.expires_at > $2 AND a.active = 1",
        )
        .bind(crypto::secret_digest(secret))
        .bind(self.now())
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(row) => Ok(Some(
                self.account(AccountId(get_i64(&row, "account_id")?))
                    .await?,
            )),
            None => Ok(None),
        }
    }

    /// Ends a session; says how it had begun (`None` for a password, or no session).
    pub async fn end_session(&self, secret: &str) -> StoreResult<Option<String>> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query("DELETE FROM sessions WHERE id_digest = $1 RETURNING signed_in_with")
            .bind(crypto::secret_digest(secret))
            .fetch_optional(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(match row {
            Some(r) => sqlx::Row::try_get::<Option<String>, _>(&r, "signed_in_with")?,
            None => None,
        })
    }
}
