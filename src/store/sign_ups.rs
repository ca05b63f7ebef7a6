//! Self sign-up: addresses waiting for their owner to follow the e-mailed link. The
//! account is made only when they do, in the same transaction that spends the link.

use super::accounts::{NewAccount, insert_account};
use super::outbox::{NewMessage, enqueue_in};
use super::{Store, StoreError, StoreResult, get_string};
use crate::crypto;
use crate::domain::accounts::{Account, Email};

impl Store {
    /// Saves a sign-up link for `email`, valid `valid_secs`, replacing any earlier one for
    /// the address, and queues the message `mail` makes from its secret with it.
    pub async fn create_sign_up(
        &self,
        email: &Email,
        valid_secs: i64,
        mail: &(dyn Fn(&str) -> NewMessage + Sync),
    ) -> StoreResult<()> {
        let secret = crypto::random_hex(24);
        let now = self.now();
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM sign_ups WHERE email = $1 OR expires_at <= $2")
            .bind(email.as_str())
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO sign_ups (token_digest, email, created_at, expires_at)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(crypto::secret_digest(&secret))
        .bind(email.as_str())
        .bind(now)
        .bind(now + valid_secs)
        .execute(&mut *tx)
        .await?;
        enqueue_in(&mut tx, &mail(&secret), self).await?;
        tx.commit().await?;
        self.wake_delivery();
        Ok(())
    }

    /// The address an unexpired, unused sign-up link is for.
    pub async fn sign_up_email(&self, secret: &str) -> StoreResult<String> {
        let row =
            sqlx::query("SELECT email FROM sign_ups WHERE token_digest = $1 AND expires_at > $2")
                .bind(crypto::secret_digest(secret))
                .bind(self.now())
                .fetch_optional(&self.pool)
                .await?
                .ok_or(StoreError::NotFound)?;
        get_string(&row, "email")
    }

    /// Spends the link and makes the account, a member with this name and password. An
    /// address that got an account meanwhile is a conflict (`EmailTaken`), and the link
    /// is spent either way only if the account was made.
    pub async fn use_sign_up(
        &self,
        secret: &str,
        display_name: &str,
        password_hash: String,
    ) -> StoreResult<Account> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "DELETE FROM sign_ups WHERE token_digest = $1 AND expires_at > $2 RETURNING email",
        )
        .bind(crypto::secret_digest(secret))
        .bind(self.now())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?;
        let email = Email::parse(&get_string(&row, "email")?).map_err(|_| {
            StoreError::Unsealable("a sign-up row holds an address that does not parse")
        })?;
        let account = insert_account(
            &mut tx,
            NewAccount {
                email: &email,
                display_name,
                roles: &[],
                password_hash: Some(password_hash),
            },
            self.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(account)
    }
}
