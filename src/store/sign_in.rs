//! Single sign-on: sign-ins on their way to the provider, the identities it vouches for,
//! and the roles its claims grant.

use super::accounts::insert_account;
use super::{NewAccount, Store, StoreResult, get_i64, get_string};
use crate::crypto;
use crate::domain::accounts::{Account, AccountId, Email, Role};

/// What the answer to a sign-in is checked against.
pub struct SignInAttempt {
    pub nonce: String,
    pub pkce_verifier: String,
    pub next_path: String,
    /// False when it was started too long ago.
    pub current: bool,
}

/// What the provider says of a person at this sign-in, to bring the account up to date.
pub struct IdentityUpdate<'a> {
    pub issuer: &'a str,
    pub subject: &'a str,
    pub email: Option<&'a Email>,
    pub display_name: &'a str,
    /// Every role the claims grant now; roles they granted before and no longer do go.
    pub claim_roles: &'a [Role],
}

const FROM_CLAIMS: &str = "claims";

impl Store {
    pub async fn save_sign_in_attempt(
        &self,
        state: &str,
        nonce: &str,
        pkce_verifier: &str,
        next_path: &str,
        ttl_secs: i64,
    ) -> StoreResult<()> {
        let now = self.now();
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM sign_in_attempts WHERE expires_at < $1")
            .bind(now - 3600)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO sign_in_attempts (state_digest, nonce, pkce_verifier, next_path, expires_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(crypto::secret_digest(state))
        .bind(nonce)
        .bind(pkce_verifier)
        .bind(next_path)
        .bind(now + ttl_secs)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Takes the attempt a state belongs to: it is deleted, so an answer is used once.
    pub async fn take_sign_in_attempt(&self, state: &str) -> StoreResult<Option<SignInAttempt>> {
        let now = self.now();
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "DELETE FROM sign_in_attempts WHERE state_digest = $1
             RETURNING nonce, pkce_verifier, next_path, expires_at",
        )
        .bind(crypto::secret_digest(state))
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        row.map(|r| {
            Ok(SignInAttempt {
                nonce: get_string(&r, "nonce")?,
                pkce_verifier: get_string(&r, "pkce_verifier")?,
                next_path: get_string(&r, "next_path")?,
                current: get_i64(&r, "expires_at")? > now,
            })
        })
        .transpose()
    }

    /// The account an identity of this issuer belongs to, if it has signed in before.
    pub async fn identity_account(
        &self,
        issuer: &str,
        subject: &str,
    ) -> StoreResult<Option<Account>> {
        let row = sqlx::query(
            "SELECT account_id FROM sign_in_identities WHERE issuer = $1 AND subject = $2",
        )
        .bind(issuer)
        .bind(subject)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(r) => Ok(Some(
                self.account(AccountId(get_i64(&r, "account_id")?)).await?,
            )),
            None => Ok(None),
        }
    }

    /// Whether an account already has an identity at this issuer (then another identity
    /// of the same issuer may not take it over by e-mail address).
    pub async fn has_identity_at(&self, account: AccountId, issuer: &str) -> StoreResult<bool> {
        Ok(sqlx::query(
            "SELECT 1 AS x FROM sign_in_identities WHERE account_id = $1 AND issuer = $2",
        )
        .bind(account.0)
        .bind(issuer)
        .fetch_optional(&self.pool)
        .await?
        .is_some())
    }

    /// A first sign-in that makes the account: account, identity and claimed roles in
    /// one transaction. Two at once for the same person: the second is `EmailTaken`.
    pub async fn create_account_for_identity(
        &self,
        email: &Email,
        update: &IdentityUpdate<'_>,
    ) -> StoreResult<Account> {
        let now = self.now();
        let mut tx = self.begin_write().await?;
        let account = insert_account(
            &mut tx,
            NewAccount {
                email,
                display_name: update.display_name,
                roles: &[],
                password_hash: None,
            },
            now,
        )
        .await?;
        insert_identity(&mut tx, account.id, update, now).await?;
        sync_claim_roles(&mut tx, account.id, update.claim_roles).await?;
        tx.commit().await?;
        self.account(account.id).await
    }

    /// The provider no longer admits a person it once did (they left the required group):
    /// the roles their claims gave go, and so do their sessions begun at the provider.
    pub async fn withdraw_identity(&self, issuer: &str, subject: &str) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "SELECT account_id FROM sign_in_identities WHERE issuer = $1 AND subject = $2",
        )
        .bind(issuer)
        .bind(subject)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(row) = row {
            let account = AccountId(get_i64(&row, "account_id")?);
            sync_claim_roles(&mut tx, account, &[]).await?;
            // Sessions begun through the institution end; one begun with a password stays.
            sqlx::query(
                "DELETE FROM sessions WHERE account_id = $1 AND signed_in_with IS NOT NULL",
            )
            .bind(account.0)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Links an identity to an account (found by its verified address) or refreshes one
    /// already linked: last seen, name, address, and the roles the claims grant. A new
    /// address that another account holds is left as it was.
    pub async fn update_identity(
        &self,
        account: AccountId,
        update: &IdentityUpdate<'_>,
    ) -> StoreResult<Account> {
        let now = self.now();
        let mut tx = self.begin_write().await?;
        let seen = sqlx::query(
            "UPDATE sign_in_identities SET last_seen_at = $1
             WHERE issuer = $2 AND subject = $3 AND account_id = $4",
        )
        .bind(now)
        .bind(update.issuer)
        .bind(update.subject)
        .bind(account.0)
        .execute(&mut *tx)
        .await?;
        if seen.rows_affected() == 0 {
            insert_identity(&mut tx, account, update, now).await?;
        }
        sqlx::query("UPDATE accounts SET display_name = $1 WHERE id = $2")
            .bind(update.display_name)
            .bind(account.0)
            .execute(&mut *tx)
            .await?;
        if let Some(email) = update.email {
            let taken = sqlx::query("SELECT 1 AS x FROM accounts WHERE email = $1 AND id <> $2")
                .bind(email.as_str())
                .bind(account.0)
                .fetch_optional(&mut *tx)
                .await?
                .is_some();
            if !taken {
                sqlx::query("UPDATE accounts SET email = $1 WHERE id = $2")
                    .bind(email.as_str())
                    .bind(account.0)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        sync_claim_roles(&mut tx, account, update.claim_roles).await?;
        tx.commit().await?;
        self.account(account).await
    }
}

async fn insert_identity(
    conn: &mut sqlx::AnyConnection,
    account: AccountId,
    update: &IdentityUpdate<'_>,
    now: i64,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO sign_in_identities (issuer, subject, account_id, created_at, last_seen_at)
         VALUES ($1, $2, $3, $4, $4)",
    )
    .bind(update.issuer)
    .bind(update.subject)
    .bind(account.0)
    .bind(now)
    .execute(conn)
    .await
    .map_err(super::conflict(
        crate::domain::conflict::Conflict::EmailTaken,
    ))?;
    Ok(())
}

async fn other_active_admins(
    conn: &mut sqlx::AnyConnection,
    account: AccountId,
) -> StoreResult<i64> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM account_roles r JOIN accounts a ON a.id = r.account_id
         WHERE r.role = $1 AND a.active = 1 AND r.account_id <> $2",
    )
    .bind(Role::Admin.as_str())
    .bind(account.0)
    .fetch_one(&mut *conn)
    .await?;
    get_i64(&row, "n")
}

/// Roles granted by claims follow the claims; a role given in wecare stays whatever the
/// claims say, and a claim does not take it over.
async fn sync_claim_roles(
    conn: &mut sqlx::AnyConnection,
    account: AccountId,
    claim_roles: &[Role],
) -> StoreResult<()> {
    let rows = sqlx::query("SELECT role, granted_by FROM account_roles WHERE account_id = $1")
        .bind(account.0)
        .fetch_all(&mut *conn)
        .await?;
    let mut held = Vec::new();
    for row in &rows {
        let by: Option<String> = sqlx::Row::try_get(row, "granted_by")?;
        held.push((get_string(row, "role")?, by));
    }
    for (role, by) in &held {
        let still = claim_roles.iter().any(|r| r.as_str() == role);
        if by.as_deref() == Some(FROM_CLAIMS) && !still {
            // A claim that goes missing (a renamed group, a token too full to list them)
            // must not leave the programme with no administrator.
            if role == Role::Admin.as_str() && other_active_admins(conn, account).await? == 0 {
                tracing::warn!(
                    account = account.0,
                    "the claims no longer make this account an administrator, but it is the last one: the role stays"
                );
                continue;
            }
            sqlx::query("DELETE FROM account_roles WHERE account_id = $1 AND role = $2")
                .bind(account.0)
                .bind(role)
                .execute(&mut *conn)
                .await?;
        }
    }
    for role in claim_roles {
        if !held.iter().any(|(r, _)| r == role.as_str()) {
            sqlx::query(
                "INSERT INTO account_roles (account_id, role, granted_by) VALUES ($1, $2, $3)",
            )
            .bind(account.0)
            .bind(role.as_str())
            .bind(FROM_CLAIMS)
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(())
}
