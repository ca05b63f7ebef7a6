//! Accounts imported from a spreadsheet, all in one transaction: either every row's
//! change is made, or none is.

use super::accounts::{NewAccount, insert_account, insert_setup_link};
use super::helpers::upsert_profile;
use super::outbox::{NewMessage, enqueue_in};
use super::{Store, StoreResult};
use crate::domain::accounts::{Account, AccountId, Email, Role};
use crate::domain::helpers::HelperProfile;

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
                    name,
                    add_roles,
                    profile,
                } => {
                    if let Some(n) = name {
                        sqlx::query("UPDATE accounts SET display_name = $1 WHERE id = $2")
                            .bind(*n)
                            .bind(account.0)
                            .execute(&mut *tx)
                            .await?;
                    }
                    for role in add_roles.iter() {
                        sqlx::query(
                            "INSERT INTO account_roles (account_id, role) VALUES ($1, $2)
                             ON CONFLICT (account_id, role) DO NOTHING",
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
