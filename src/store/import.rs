//! Accounts imported from a spreadsheet, all in one transaction: either every row's
//! change is made, or none is.

use super::accounts::{NewAccount, insert_account, insert_setup_link};
use super::helpers::{read_profile, upsert_profile};
use super::outbox::{NewMessage, enqueue_in};
use super::{Backend, Store, StoreError, StoreResult, get_i64, get_string};
use crate::domain::accounts::{Account, AccountId, Email, Role};
use crate::domain::conflict::Conflict;
use crate::domain::helpers::HelperProfile;

/// An existing account as an import sees it when it plans a change. The change is made
/// only if the account is still exactly so when the transaction reaches it: a profile a
/// helper saved, a role taken away or an account switched off in between refuses the
/// file, instead of being written over with what the plan read.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountState {
    pub display_name: String,
    pub active: bool,
    /// Each role, and whether the institution's sign-in granted it (then it goes when
    /// the claim does).
    pub roles: Vec<(Role, bool)>,
    pub profile: HelperProfile,
}

impl AccountState {
    pub fn from_claims(&self, role: Role) -> bool {
        self.roles.iter().any(|&(r, claims)| r == role && claims)
    }
}

async fn account_state(
    conn: &mut sqlx::AnyConnection,
    backend: Backend,
    account: AccountId,
) -> StoreResult<AccountState> {
    // On PostgreSQL the row lock makes a second import (or an administrator's change)
    // wait for this one, and then see what it wrote.
    let lock = match backend {
        Backend::Postgres => "FOR UPDATE",
        Backend::Sqlite => "",
    };
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT display_name, active FROM accounts WHERE id = $1 {lock}"
    )))
    .bind(account.0)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    let mut roles = Vec::new();
    for r in sqlx::query(
        "SELECT role, granted_by FROM account_roles WHERE account_id = $1 ORDER BY role",
    )
    .bind(account.0)
    .fetch_all(&mut *conn)
    .await?
    {
        let by: Option<String> = sqlx::Row::try_get(&r, "granted_by")?;
        if let Some(role) = Role::parse(&get_string(&r, "role")?).ok().flatten() {
            roles.push((role, by.as_deref() == Some("claims")));
        }
    }
    Ok(AccountState {
        display_name: get_string(&row, "display_name")?,
        active: get_i64(&row, "active")? == 1,
        roles,
        profile: read_profile(conn, account).await?,
    })
}

/// What one row does.
pub enum ImportChange<'a> {
    Create {
        email: &'a Email,
        name: &'a str,
        roles: &'a [Role],
        profile: Option<&'a HelperProfile>,
    },
    Change {
        account: AccountId,
        /// What the plan saw.
        seen: &'a AccountState,
        name: Option<&'a str>,
        add_roles: &'a [Role],
        profile: Option<&'a HelperProfile>,
    },
}

/// Set-up links for the new accounts: how long they work, and the message that carries
/// each (queued in the same transaction).
pub struct SetupLinks<'a> {
    pub valid_secs: i64,
    pub mail: &'a (dyn Fn(&Account, &str) -> NewMessage + Sync),
}

impl Store {
    /// An existing account as an import plans against it.
    pub async fn account_state(&self, account: AccountId) -> StoreResult<AccountState> {
        let mut conn = self.read_connection().await?;
        account_state(&mut conn, self.backend, account).await
    }

    /// Makes every change, or none. `progress` is told how many rows are done.
    pub async fn import_accounts(
        &self,
        changes: &[ImportChange<'_>],
        links: Option<&SetupLinks<'_>>,
        progress: &(dyn Fn(usize) + Sync),
    ) -> StoreResult<Vec<Account>> {
        let now = self.now();
        let mut created = Vec::new();
        let mut tx = self.begin_write().await?;
        for (done, change) in changes.iter().enumerate() {
            match change {
                ImportChange::Create {
                    email,
                    name,
                    roles,
                    profile,
                } => {
                    let account = insert_account(
                        &mut tx,
                        NewAccount {
                            email,
                            display_name: name,
                            roles,
                            password_hash: None,
                        },
                        now,
                    )
                    .await?;
                    if let Some(p) = profile {
                        upsert_profile(&mut tx, account.id, p, now).await?;
                    }
                    if let Some(l) = links {
                        let secret =
                            insert_setup_link(&mut tx, account.id, now + l.valid_secs).await?;
                        enqueue_in(&mut tx, &(l.mail)(&account, &secret), self).await?;
                    }
                    created.push(account);
                }
                ImportChange::Change {
                    account,
                    seen,
                    name,
                    add_roles,
                    profile,
                } => {
                    if account_state(&mut tx, self.backend, *account).await? != **seen {
                        return Err(StoreError::Conflict(Conflict::AccountChangedSinceCheck));
                    }
                    if let Some(n) = name {
                        sqlx::query("UPDATE accounts SET display_name = $1 WHERE id = $2")
                            .bind(*n)
                            .bind(account.0)
                            .execute(&mut *tx)
                            .await?;
                    }
                    for role in add_roles.iter() {
                        // A role the file gives is the programme's own, even where the
                        // institution's claims had granted it: it stays when they go.
                        sqlx::query(
                            "INSERT INTO account_roles (account_id, role, granted_by) VALUES ($1, $2, NULL)
                             ON CONFLICT (account_id, role) DO UPDATE SET granted_by = NULL",
                        )
                        .bind(account.0)
                        .bind(role.as_str())
                        .execute(&mut *tx)
                        .await?;
                    }
                    if let Some(p) = profile {
                        upsert_profile(&mut tx, *account, p, now).await?;
                    }
                }
            }
            if done % 100 == 99 {
                progress(done + 1);
            }
        }
        tx.commit().await?;
        progress(changes.len());
        if links.is_some() && !created.is_empty() {
            self.wake_delivery();
        }
        Ok(created)
    }
}
