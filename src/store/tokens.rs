//! Personal API tokens. Only a digest is stored; the token itself is shown once.

use serde::Serialize;

use super::{Store, StoreError, StoreResult, get_i64, get_opt_i64, get_string};
use crate::crypto;
use crate::domain::accounts::{Account, AccountId};

/// Tokens carry a prefix so that they are recognisable in a leaked-secret scan.
pub const TOKEN_PREFIX: &str = "wct_";

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ApiTokenInfo {
    pub id: i64,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
    /// When the token stops working; none: when it is revoked.
    pub expires_at: Option<i64>,
}

impl ApiTokenInfo {
    pub fn expired(&self, now: i64) -> bool {
        self.expires_at.is_some_and(|t| t <= now)
    }
}

impl Store {
    /// Creates a token for the account, working until `expires_at` if given, and returns
    /// (its id, the secret).
    pub async fn create_api_token(
        &self,
        account: AccountId,
        name: &str,
        expires_at: Option<i64>,
    ) -> StoreResult<(i64, String)> {
        let id = crypto::random_id();
        let secret = format!("{TOKEN_PREFIX}{}", crypto::random_hex(32));
        self.write_one(sqlx::query(
            "INSERT INTO api_tokens (id, account_id, name, token_digest, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(account.0)
        .bind(name)
        .bind(crypto::secret_digest(&secret))
        .bind(self.now())
        .bind(expires_at))
        .await?;
        Ok((id, secret))
    }

    /// The active account a bearer token acts for, if the token is known, not revoked and
    /// not expired (an expired token is refused like an unknown one).
    pub async fn api_token_account(&self, secret: &str) -> StoreResult<Option<Account>> {
        let now = self.now();
        let row = sqlx::query(
            "SELECT t.id, t.account_id, t.last_used_at FROM api_tokens t
             JOIN accounts a ON a.id = t.account_id
             WHERE t.token_digest = $1 AND t.revoked_at IS NULL AND a.active = 1
               AND (t.expires_at IS NULL OR t.expires_at > $2)",
        )
        .bind(crypto::secret_digest(secret))
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        // Last use is recorded at most once a minute: a busy script need not write per call,
        // and instances that see the same token at once write it once.
        if get_opt_i64(&row, "last_used_at")?.is_none_or(|t| t < now - 60) {
            let id = get_i64(&row, "id")?;
            let recorded = self
                .write_one(
                    sqlx::query(
                        "UPDATE api_tokens SET last_used_at = $1
                         WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $3)",
                    )
                    .bind(now)
                    .bind(id)
                    .bind(now - 60),
                )
                .await;
            if let Err(e) = recorded {
                tracing::warn!(token = id, error = %e, "recording a token's last use failed");
            }
        }
        Ok(Some(
            self.account(AccountId(get_i64(&row, "account_id")?))
                .await?,
        ))
    }

    pub async fn list_api_tokens(&self, account: AccountId) -> StoreResult<Vec<ApiTokenInfo>> {
        let rows = sqlx::query(
            "SELECT id, name, created_at, last_used_at, revoked_at, expires_at FROM api_tokens
             WHERE account_id = $1 ORDER BY created_at DESC, id",
        )
        .bind(account.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ApiTokenInfo {
                    id: get_i64(r, "id")?,
                    name: get_string(r, "name")?,
                    created_at: get_i64(r, "created_at")?,
                    last_used_at: get_opt_i64(r, "last_used_at")?,
                    revoked_at: get_opt_i64(r, "revoked_at")?,
                    expires_at: get_opt_i64(r, "expires_at")?,
                })
            })
            .collect()
    }

    /// Revokes one of the account's tokens. Another account's token is "not found".
    pub async fn revoke_api_token(&self, account: AccountId, token_id: i64) -> StoreResult<()> {
        let done = self
            .write_one(
                sqlx::query(
                    "UPDATE api_tokens SET revoked_at = $1
                     WHERE id = $2 AND account_id = $3 AND revoked_at IS NULL",
                )
                .bind(self.now())
                .bind(token_id)
                .bind(account.0),
            )
            .await?;
        if done == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}
