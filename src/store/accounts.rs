//! Accounts, their roles, and one-time setup links.

use crate::domain::conflict::Conflict;
use sqlx::any::AnyRow;

use super::outbox::{NewMessage, enqueue_in};
use super::{Backend, Store, StoreError, StoreResult, conflict, get_i64, get_string};
use crate::crypto;
use crate::domain::accounts::{Account, AccountId, Email, Role};

pub struct NewAccount<'a> {
    pub email: &'a Email,
    pub display_name: &'a str,
    pub roles: &'a [Role],
    /// An argon2 hash, or `None` for an account that will set its password by setup link.
    pub password_hash: Option<String>,
}

const ACCOUNT_COLUMNS: &str = "id, email, display_name, active, created_at";

fn account_from(row: &AnyRow, roles: Vec<Role>) -> StoreResult<Account> {
    Ok(Account {
        id: AccountId(get_i64(row, "id")?),
        email: get_string(row, "email")?,
        display_name: get_string(row, "display_name")?,
        active: get_i64(row, "active")? != 0,
        created_at: get_i64(row, "created_at")?,
        roles,
    })
}

fn parse_roles(names: impl IntoIterator<Item = String>) -> Vec<Role> {
    let mut roles: Vec<Role> = names
        .into_iter()
        .filter_map(|n| Role::parse(&n).ok().flatten())
        .collect();
    roles.sort();
    roles.dedup();
    roles
}

/// Inserts an account and its roles (given in wecare) inside a caller's transaction.
/// A new set-up link for the account, in the caller's transaction, replacing any unused
/// one. Returns its secret.
pub(super) async fn insert_setup_link(
    conn: &mut sqlx::AnyConnection,
    id: AccountId,
    expires_at: i64,
) -> StoreResult<String> {
    let secret = crypto::random_hex(24);
    sqlx::query("DELETE FROM setup_links WHERE account_id = $1 AND used_at IS NULL")
        .bind(id.0)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO setup_links (token_digest, account_id, expires_at) VALUES ($1, $2, $3)",
    )
    .bind(crypto::secret_digest(&secret))
    .bind(id.0)
    .bind(expires_at)
    .execute(&mut *conn)
    .await?;
    Ok(secret)
}

pub(super) async fn insert_account(
    conn: &mut sqlx::AnyConnection,
    new: NewAccount<'_>,
    now: i64,
) -> StoreResult<Account> {
    let id = crypto::random_id();
    sqlx::query(
        "INSERT INTO accounts (id, email, display_name, password_hash, active, created_at)
         VALUES ($1, $2, $3, $4, 1, $5)",
    )
    .bind(id)
    .bind(new.email.as_str())
    .bind(new.display_name)
    .bind(new.password_hash)
    .bind(now)
    .execute(&mut *conn)
    .await
    .map_err(conflict(Conflict::EmailTaken))?;
    for role in new.roles {
        sqlx::query("INSERT INTO account_roles (account_id, role) VALUES ($1, $2)")
            .bind(id)
            .bind(role.as_str())
            .execute(&mut *conn)
            .await?;
    }
    let mut roles = new.roles.to_vec();
    roles.sort();
    roles.dedup();
    Ok(Account {
        id: AccountId(id),
        email: new.email.to_string(),
        display_name: new.display_name.to_string(),
        roles,
        active: true,
        created_at: now,
    })
}

impl Store {
    pub async fn create_account(&self, new: NewAccount<'_>) -> StoreResult<Account> {
        let mut tx = self.begin_write().await?;
        let account = insert_account(&mut tx, new, self.now()).await?;
        tx.commit().await?;
        Ok(account)
    }

    async fn roles_of(&self, id: i64) -> StoreResult<Vec<Role>> {
        let rows = sqlx::query("SELECT role FROM account_roles WHERE account_id = $1")
            .bind(id)
            .fetch_all(&self.pool)
            .await?;
        let names = rows
            .iter()
            .map(|r| get_string(r, "role"))
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(parse_roles(names))
    }

    pub async fn account(&self, id: AccountId) -> StoreResult<Account> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        let roles = self.roles_of(id.0).await?;
        account_from(&row, roles)
    }

    /// The account and its password hash, for signing in.
    pub async fn account_for_sign_in(
        &self,
        email: &str,
    ) -> StoreResult<Option<(Account, Option<String>)>> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS}, password_hash FROM accounts WHERE email = $1");
        let Some(row) = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(email.trim().to_lowercase())
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        let id = get_i64(&row, "id")?;
        let hash: Option<String> = sqlx::Row::try_get(&row, "password_hash")?;
        let account = account_from(&row, self.roles_of(id).await?)?;
        Ok(Some((account, hash)))
    }

    pub async fn account_by_email(&self, email: &Email) -> StoreResult<Account> {
        match self.account_for_sign_in(email.as_str()).await? {
            Some((a, _)) => Ok(a),
            None => Err(StoreError::NotFound),
        }
    }

    pub async fn list_accounts(&self) -> StoreResult<Vec<Account>> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts ORDER BY email");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?;
        let role_rows = sqlx::query("SELECT account_id, role FROM account_roles")
            .fetch_all(&self.pool)
            .await?;
        let mut by_account: std::collections::HashMap<i64, Vec<String>> = Default::default();
        for r in &role_rows {
            by_account
                .entry(get_i64(r, "account_id")?)
                .or_default()
                .push(get_string(r, "role")?);
        }
        rows.iter()
            .map(|row| {
                let id = get_i64(row, "id")?;
                account_from(row, parse_roles(by_account.remove(&id).unwrap_or_default()))
            })
            .collect()
    }

    pub async fn count_active_admins(&self) -> StoreResult<usize> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM accounts a JOIN account_roles r ON r.account_id = a.id
             WHERE r.role = 'admin' AND a.active = 1",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(get_i64(&row, "n")?.max(0) as usize)
    }

    /// Replaces an account's roles and active flag. Deactivating also ends its sessions.
    /// Refused with `Conflict(Conflict::LastAdmin)` when it would leave no active administrator:
    /// the rule is checked inside the transaction, after the administrators' rows are
    /// locked, so two administrators removing each other at once cannot leave none.
    pub async fn update_account_access(
        &self,
        id: AccountId,
        roles: &[Role],
        active: bool,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        // On SQLite the write transaction already excludes every other writer.
        if self.backend == Backend::Postgres {
            sqlx::query(
                "SELECT a.id FROM accounts a JOIN account_roles r ON r.account_id = a.id
                 WHERE r.role = 'admin' AND a.active = 1 FOR UPDATE",
            )
            .fetch_all(&mut *tx)
            .await?;
        }
        let was_admin = sqlx::query(
            "SELECT 1 AS x FROM accounts a JOIN account_roles r ON r.account_id = a.id
             WHERE a.id = $1 AND r.role = 'admin' AND a.active = 1",
        )
        .bind(id.0)
        .fetch_optional(&mut *tx)
        .await?
        .is_some();
        let done = sqlx::query("UPDATE accounts SET active = $1 WHERE id = $2")
            .bind(i64::from(active))
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        // A role kept keeps its origin: one the provider's claims granted still goes
        // when the claim does.
        let before =
            sqlx::query("SELECT role, granted_by FROM account_roles WHERE account_id = $1")
                .bind(id.0)
                .fetch_all(&mut *tx)
                .await?;
        let mut granted_by = std::collections::HashMap::new();
        for row in &before {
            let by: Option<String> = sqlx::Row::try_get(row, "granted_by")?;
            granted_by.insert(get_string(row, "role")?, by);
        }
        sqlx::query("DELETE FROM account_roles WHERE account_id = $1")
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        for role in roles {
            sqlx::query(
                "INSERT INTO account_roles (account_id, role, granted_by) VALUES ($1, $2, $3)",
            )
            .bind(id.0)
            .bind(role.as_str())
            .bind(granted_by.get(role.as_str()).cloned().flatten())
            .execute(&mut *tx)
            .await?;
        }
        if !active {
            sqlx::query("DELETE FROM sessions WHERE account_id = $1")
                .bind(id.0)
                .execute(&mut *tx)
                .await?;
        }
        let left = sqlx::query(
            "SELECT COUNT(*) AS n FROM accounts a JOIN account_roles r ON r.account_id = a.id
             WHERE r.role = 'admin' AND a.active = 1",
        )
        .fetch_one(&mut *tx)
        .await?;
        if was_admin && get_i64(&left, "n")? == 0 {
            return Err(StoreError::Conflict(Conflict::LastAdmin));
        }
        tx.commit().await?;
        Ok(())
    }

    /// Sets a new password hash and ends every session of the account except `keep`
    /// (the digest of the session that made the change, if any).
    /// `notice` (telling the person of the change) is queued in the same transaction.
    pub async fn set_password(
        &self,
        id: AccountId,
        hash: &str,
        keep_session_digest: Option<&str>,
        notice: Option<&NewMessage>,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE accounts SET password_hash = $1 WHERE id = $2")
            .bind(hash)
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM sessions WHERE account_id = $1 AND id_digest <> $2")
            .bind(id.0)
            .bind(keep_session_digest.unwrap_or(""))
            .execute(&mut *tx)
            .await?;
        if let Some(m) = notice {
            enqueue_in(&mut tx, m, self).await?;
        }
        tx.commit().await?;
        if notice.is_some() {
            self.wake_delivery();
        }
        Ok(())
    }

    /// Makes a one-time link secret for an account to choose its password, in place of any
    /// earlier unused one (only the newest link in a mailbox works). Returns the secret;
    /// only its digest is kept. `mail` makes the message carrying the link, which is
    /// queued in the same transaction: no link without its message, nor the reverse.
    pub async fn create_setup_link(
        &self,
        id: AccountId,
        valid_secs: i64,
        mail: Option<&(dyn Fn(&str) -> NewMessage + Sync)>,
    ) -> StoreResult<String> {
        let mut tx = self.begin_write().await?;
        let secret = insert_setup_link(&mut tx, id, self.now() + valid_secs).await?;
        if let Some(make) = mail {
            enqueue_in(&mut tx, &make(&secret), self).await?;
        }
        tx.commit().await?;
        if mail.is_some() {
            self.wake_delivery();
        }
        Ok(secret)
    }

    /// The account a setup link is for, if the link is unused and unexpired, and whether
    /// the account has a password already (the link came from "Forgotten your password?").
    pub async fn setup_link_account(&self, secret: &str) -> StoreResult<(Account, bool)> {
        let row = sqlx::query(
            "SELECT account_id FROM setup_links
             WHERE token_digest = $1 AND used_at IS NULL AND expires_at > $2",
        )
        .bind(crypto::secret_digest(secret))
        .bind(self.now())
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        let account = self
            .account(AccountId(get_i64(&row, "account_id")?))
            .await?;
        let has_password = self
            .account_for_sign_in(&account.email)
            .await?
            .is_some_and(|(_, hash)| hash.is_some());
        Ok((account, has_password))
    }

    /// Uses a setup link to set the password, once: a second use finds nothing. Every
    /// session of the account ends; `notice` (telling the person) is queued with the change.
    pub async fn use_setup_link(
        &self,
        secret: &str,
        hash: &str,
        notice: Option<&NewMessage>,
    ) -> StoreResult<AccountId> {
        let now = self.now();
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "UPDATE setup_links SET used_at = $1
             WHERE token_digest = $2 AND used_at IS NULL AND expires_at > $1
             RETURNING account_id",
        )
        .bind(now)
        .bind(crypto::secret_digest(secret))
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?;
        let id = get_i64(&row, "account_id")?;
        sqlx::query("UPDATE accounts SET password_hash = $1 WHERE id = $2")
            .bind(hash)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM sessions WHERE account_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if let Some(m) = notice {
            enqueue_in(&mut tx, m, self).await?;
        }
        tx.commit().await?;
        if notice.is_some() {
            self.wake_delivery();
        }
        Ok(AccountId(id))
    }
}
