//! Browser sessions, kept in the database so that every instance sees them.

use super::{Store, StoreResult, get_i64};
use crate::crypto;
use crate::domain::accounts::{Account, AccountId};

/// How long a session lasts: `idle_secs` after its last use, and never beyond `max_secs`
/// after it began.
#[derive(Debug, Clone, Copy)]
pub struct SessionTerms {
    pub idle_secs: i64,
    pub max_secs: i64,
}

/// A session as its owner sees it in the list of where they are signed in.
#[derive(Debug, Clone)]
pub struct SessionEntry {
    pub handle: String,
    pub device: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    /// `Some("oidc")` for a session begun at the institution's provider.
    pub signed_in_with: Option<String>,
    /// The session this list was asked for from.
    pub current: bool,
}

/// A session is renewed (its idle end pushed back) at most this often, so that a busy
/// page is not a write per request.
const RENEW_AFTER_SECS: i64 = 300;

impl Store {
    /// Starts a session and returns its secret id (for the cookie). If `replaces` names an
    /// earlier session id from the same browser, that one ends: the id is rotated at sign-in.
    pub async fn create_session(
        &self,
        account: AccountId,
        terms: SessionTerms,
        replaces: Option<&str>,
    ) -> StoreResult<String> {
        self.create_session_via(account, terms, replaces, None, "")
            .await
    }

    /// As `create_session`, noting how the person signed in (`Some("oidc")` at the
    /// institution's provider, so that signing out can end that session too) and on what
    /// (`device`, shown in their list of sessions).
    pub async fn create_session_via(
        &self,
        account: AccountId,
        terms: SessionTerms,
        replaces: Option<&str>,
        via: Option<&str>,
        device: &str,
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
        let absolute = now + terms.max_secs;
        sqlx::query(
            "INSERT INTO sessions (id_digest, account_id, created_at, expires_at, signed_in_with,
                                   last_seen_at, absolute_expires_at, handle, device)
             VALUES ($1, $2, $3, $4, $5, $3, $6, $7, $8)",
        )
        .bind(crypto::secret_digest(&secret))
        .bind(account.0)
        .bind(now)
        .bind((now + terms.idle_secs).min(absolute))
        .bind(via)
        .bind(absolute)
        .bind(crypto::random_hex(12))
        .bind(device)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(secret)
    }

    /// The active account behind a session id, if the session is current. A session in
    /// use is renewed: its idle end moves to `idle_secs` from now, never past its
    /// absolute end. The terms are today's settings, so shortening them shortens the
    /// sessions already running too.
    pub async fn session_account(
        &self,
        secret: &str,
        terms: SessionTerms,
    ) -> StoreResult<Option<Account>> {
        let idle_secs = terms.idle_secs;
        let now = self.now();
        let digest = crypto::secret_digest(secret);
        let row = sqlx::query(
            "SELECT s.account_id, COALESCE(s.last_seen_at, s.created_at) AS last_seen_at,
                    COALESCE(s.absolute_expires_at, s.expires_at) AS absolute_end
             FROM sessions s JOIN accounts a ON a.id = s.account_id
             WHERE s.id_digest = $1 AND s.expires_at > $2
               AND COALESCE(s.absolute_expires_at, s.expires_at) > $2 AND a.active = 1
               AND s.created_at > $3 AND COALESCE(s.last_seen_at, s.created_at) > $4",
        )
        .bind(&digest)
        .bind(now)
        .bind(now - terms.max_secs)
        .bind(now - idle_secs)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        if get_i64(&row, "last_seen_at")? <= now - RENEW_AFTER_SECS {
            let end = (now + idle_secs).min(get_i64(&row, "absolute_end")?);
            // Of two requests at once, one renews; a failed renewal costs the page nothing
            // (the session is still good until its current end).
            let renewed = self
                .write_one(
                    sqlx::query(
                        "UPDATE sessions SET last_seen_at = $1, expires_at = $2
                         WHERE id_digest = $3 AND expires_at > $1
                           AND COALESCE(last_seen_at, created_at) <= $4",
                    )
                    .bind(now)
                    .bind(end)
                    .bind(&digest)
                    .bind(now - RENEW_AFTER_SECS),
                )
                .await;
            if let Err(e) = renewed {
                tracing::warn!(error = %e, "a session could not be renewed");
            }
        }
        Ok(Some(
            self.account(AccountId(get_i64(&row, "account_id")?))
                .await?,
        ))
    }

    /// Where an account is signed in, the most recently used first.
    pub async fn list_sessions(
        &self,
        account: AccountId,
        current_secret: &str,
    ) -> StoreResult<Vec<SessionEntry>> {
        let current = crypto::secret_digest(current_secret);
        let rows = sqlx::query(
            "SELECT id_digest, COALESCE(handle, '') AS handle, COALESCE(device, '') AS device,
                    created_at, COALESCE(last_seen_at, created_at) AS last_seen_at, signed_in_with
             FROM sessions
             WHERE account_id = $1 AND expires_at > $2
               AND COALESCE(absolute_expires_at, expires_at) > $2
             ORDER BY COALESCE(last_seen_at, created_at) DESC, created_at DESC",
        )
        .bind(account.0)
        .bind(self.now())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(SessionEntry {
                    current: super::get_string(r, "id_digest")? == current,
                    handle: super::get_string(r, "handle")?,
                    device: super::get_string(r, "device")?,
                    created_at: get_i64(r, "created_at")?,
                    last_seen_at: get_i64(r, "last_seen_at")?,
                    signed_in_with: sqlx::Row::try_get::<Option<String>, _>(r, "signed_in_with")?,
                })
            })
            .collect()
    }

    /// Ends one of an account's sessions by its handle; false if it has none by that name
    /// (another person's handle ends nothing).
    pub async fn end_session_by_handle(
        &self,
        account: AccountId,
        handle: &str,
    ) -> StoreResult<bool> {
        let n = self
            .write_one(
                sqlx::query("DELETE FROM sessions WHERE account_id = $1 AND handle = $2")
                    .bind(account.0)
                    .bind(handle),
            )
            .await?;
        Ok(n > 0)
    }

    /// Ends every session (after a restore: the backup's sessions include some that had
    /// ended since). Returns how many.
    pub async fn end_all_sessions(&self) -> StoreResult<u64> {
        self.write_one(sqlx::query("DELETE FROM sessions")).await
    }

    /// Ends every session of an account but the one `keep` names; returns how many ended.
    pub async fn end_other_sessions(&self, account: AccountId, keep: &str) -> StoreResult<u64> {
        self.write_one(
            sqlx::query(
                "DELETE FROM sessions WHERE account_id = $1 AND id_digest <> $2 AND expires_at > $3",
            )
            .bind(account.0)
            .bind(crypto::secret_digest(keep))
            .bind(self.now()),
        )
        .await
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
