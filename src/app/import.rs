//! Importing accounts and helper profiles from a spreadsheet, for the command line
//! (`wecare import accounts`) and the administrators' upload page alike: a plan that says
//! what each line will do (create, change, leave, or refuse, and why), then all of it in
//! one transaction, or nothing.

use std::collections::HashMap;

use super::accounts::{SETUP_LINK_SECS, SetupMail};
use super::{Admin, Result};
use crate::domain::accounts::{Account, Role};
use crate::domain::conflict::Conflict;
use crate::domain::helpers::HelperProfile;
use crate::domain::import::{ImportRow, RowMistake, read_rows};
use crate::store::{AccountState, ImportChange, SetupLinks, Store, StoreError};

/// Mistakes shown at most: past this many the file needs another look anyway.
const MISTAKES_SHOWN: usize = 500;

/// What one line will do.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Create {
        roles: Vec<Role>,
    },
    /// What changes, in words.
    Change(Vec<String>),
    Unchanged,
    Refused(Vec<RowMistake>),
}

#[derive(Debug, Clone)]
pub struct PlannedLine {
    pub line: u64,
    /// The row's address as read (empty where the line could not be read).
    pub email: String,
    pub action: Action,
}

/// What an import would do, line by line.
pub struct Plan {
    pub lines: Vec<PlannedLine>,
    /// The rows to apply, in file order, with the account each changes.
    work: Vec<Work>,
}

struct Work {
    row: ImportRow,
    existing: Option<Account>,
    /// The existing account as the plan read it; the change is made only if it still is.
    seen: Option<AccountState>,
    /// The profile to save, the row's cells over what the helper had.
    profile: Option<HelperProfile>,
    name: Option<String>,
    add_roles: Vec<Role>,
}

impl Plan {
    pub fn refused(&self) -> usize {
        self.lines
            .iter()
            .filter(|l| matches!(l.action, Action::Refused(_)))
            .count()
    }

    pub fn creates(&self) -> usize {
        self.lines
            .iter()
            .filter(|l| matches!(l.action, Action::Create { .. }))
            .count()
    }

    pub fn changes(&self) -> usize {
        self.lines
            .iter()
            .filter(|l| matches!(l.action, Action::Change(_)))
            .count()
    }

    /// A digest of what each line would do, so that a confirmation can be tied to the
    /// plan the administrator saw: if anything differs when it arrives, they see the new
    /// plan instead of having it applied unseen.
    pub fn digest(&self) -> String {
        let text: String = self
            .lines
            .iter()
            .map(|l| format!("{}\t{}\t{:?}\n", l.line, l.email, l.action))
            .collect();
        crate::crypto::secret_digest(&text)
    }

    pub fn unchanged(&self) -> usize {
        self.lines
            .iter()
            .filter(|l| matches!(l.action, Action::Unchanged))
            .count()
    }
}

/// Reads the file and decides each line against the accounts there are now.
pub async fn plan(store: &Store, bytes: &[u8]) -> Result<Plan> {
    let (rows, mistakes) = read_rows(bytes, MISTAKES_SHOWN);
    let accounts: HashMap<String, Account> = store
        .list_accounts()
        .await?
        .into_iter()
        .map(|a| (a.email.clone(), a))
        .collect();
    let mut lines = Vec::new();
    let mut by_line: HashMap<u64, Vec<RowMistake>> = HashMap::new();
    for m in mistakes {
        by_line.entry(m.line).or_default().push(m);
    }
    let mut work = Vec::new();
    for row in rows {
        let existing = accounts.get(row.email.as_str()).cloned();
        let refuse = |column: &str, message: &str| {
            Action::Refused(vec![RowMistake {
                line: row.line,
                column: column.into(),
                message: message.into(),
            }])
        };
        let helper = row.roles.contains(&Role::Helper)
            || existing.as_ref().is_some_and(|a| a.has(Role::Helper));
        let action = match &existing {
            _ if row.profile.is_some() && !helper => refuse(
                "roles",
                "This row fills helper columns, but the person is not a helper: add helper to its roles, or empty those cells.",
            ),
            Some(a) if !a.active => refuse(
                "email",
                "This account is switched off; switch it on in Administration → Accounts first, or remove the row.",
            ),
            None if row.name.is_none() => refuse("name", "A new account needs a name."),
            None => Action::Create {
                roles: row.roles.clone(),
            },
            Some(_) => Action::Unchanged,
        };
        let mut item = Work {
            existing: existing.clone(),
            seen: None,
            profile: None,
            name: None,
            add_roles: Vec::new(),
            row,
        };
        let action = match (action, &existing) {
            (Action::Unchanged, Some(a)) => {
                let state = store.account_state(a.id).await?;
                let mut said = Vec::new();
                if let Some(n) = item.row.name.as_ref().filter(|n| **n != state.display_name) {
                    said.push(format!("name {} → {n}", state.display_name));
                    item.name = Some(n.clone());
                }
                let (added, kept): (Vec<Role>, Vec<Role>) = item
                    .row
                    .roles
                    .iter()
                    .copied()
                    .filter(|r| !a.has(*r) || state.from_claims(*r))
                    .partition(|r| !a.has(*r));
                if !added.is_empty() {
                    let added: Vec<&str> = added.iter().map(|r| r.as_str()).collect();
                    said.push(format!("adds {}", added.join(", ")));
                }
                if !kept.is_empty() {
                    let kept: Vec<&str> = kept.iter().map(|r| r.as_str()).collect();
                    said.push(format!(
                        "keeps {} for good (the institution's sign-in had granted it, and would take it away with the claim)",
                        kept.join(", ")
                    ));
                }
                item.add_roles = added.into_iter().chain(kept).collect();
                if let Some(cells) = &item.row.profile {
                    let after = cells.apply(&state.profile);
                    if after != state.profile {
                        said.push("updates the helper profile".into());
                        item.profile = Some(after);
                    }
                }
                item.seen = Some(state);
                if said.is_empty() {
                    Action::Unchanged
                } else {
                    Action::Change(said)
                }
            }
            (Action::Create { roles }, None) => {
                item.profile = item.row.profile.as_ref().map(|c| {
                    c.apply(&HelperProfile {
                        capacity: 2,
                        ..Default::default()
                    })
                });
                Action::Create { roles }
            }
            (other, _) => other,
        };
        lines.push(PlannedLine {
            line: item.row.line,
            email: item.row.email.to_string(),
            action: action.clone(),
        });
        if !matches!(action, Action::Refused(_)) {
            work.push(item);
        }
    }
    for (line, mistakes) in by_line {
        lines.push(PlannedLine {
            line,
            email: String::new(),
            action: Action::Refused(mistakes),
        });
    }
    lines.sort_by_key(|l| l.line);
    Ok(Plan { lines, work })
}

/// Whether and how the new accounts hear of their account.
pub enum Welcome {
    /// A set-up link by e-mail, to choose a password (valid 7 days).
    SetupLinks,
    /// Nothing: they sign in through the institution.
    SingleSignOn,
}

/// What an import did.
pub struct Imported {
    pub created: usize,
    pub changed: usize,
}

/// Makes the plan's changes in one transaction, refusing the whole file if any line is
/// refused. `progress` hears how many rows are written.
pub async fn apply(
    store: &Store,
    public_url: &url::Url,
    plan: &Plan,
    welcome: Welcome,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<Imported> {
    if plan.refused() > 0 {
        return Err(crate::domain::Invalid::new(
            "file",
            format!(
                "{} line(s) of the file are refused, so nothing was imported; correct them and try again.",
                plan.refused()
            ),
        )
        .into());
    }
    let changes: Vec<ImportChange<'_>> = plan
        .work
        .iter()
        .filter_map(|w| match &w.existing {
            None => Some(ImportChange::Create {
                email: &w.row.email,
                name: w.row.name.as_deref().unwrap_or_default(),
                roles: &w.row.roles,
                profile: w.profile.as_ref(),
            }),
            Some(a) if w.name.is_some() || !w.add_roles.is_empty() || w.profile.is_some() => {
                Some(ImportChange::Change {
                    account: a.id,
                    seen: w.seen.as_ref()?,
                    name: w.name.as_deref(),
                    add_roles: &w.add_roles,
                    profile: w.profile.as_ref(),
                })
            }
            Some(_) => None,
        })
        .collect();
    let welcome_mail = SetupMail::load(store, public_url).await?;
    let mail = |account: &Account, secret: &str| welcome_mail.message(account, secret);
    let links = SetupLinks {
        valid_secs: SETUP_LINK_SECS,
        mail: &mail,
    };
    let links = match welcome {
        Welcome::SetupLinks => Some(&links),
        Welcome::SingleSignOn => None,
    };
    match store.import_accounts(&changes, links, progress).await {
        Ok(created) => Ok(Imported {
            created: created.len(),
            changed: changes.len() - created.len(),
        }),
        Err(StoreError::Conflict(Conflict::EmailTaken)) => Err(crate::domain::Invalid::new(
            "file",
            "An account for one of the new addresses was made while the file was being imported, so nothing was imported; look at the plan again.",
        )
        .into()),
        Err(StoreError::Conflict(Conflict::AccountChangedSinceCheck)) => Err(
            crate::domain::Invalid::new("file", Conflict::AccountChangedSinceCheck.sentence()).into(),
        ),
        Err(e) => Err(e.into()),
    }
}

impl Admin {
    /// The plan for an uploaded file.
    #[tracing::instrument(skip_all, fields(admin = self.id.0))]
    pub async fn plan_import(&self, bytes: &[u8]) -> Result<Plan> {
        plan(self.store(), bytes).await
    }

    /// Imports an uploaded file, planned afresh, if the plan is still the one the
    /// administrator checked (`checked`, its digest); new accounts get set-up links
    /// unless the programme signs in through the institution only.
    #[tracing::instrument(skip_all, fields(admin = self.id.0))]
    pub async fn import(&self, bytes: &[u8], checked: &str) -> Result<(Plan, Imported)> {
        let plan = plan(self.store(), bytes).await?;
        if !crate::crypto::secrets_equal(&plan.digest(), checked) {
            return Err(crate::domain::Invalid::new(
                "file",
                "What this file would do has changed since you checked it (accounts were added or changed meanwhile); look at the lines below, and import again if they are right.",
            )
            .into());
        }
        let welcome = match self.public().sign_in_options().password {
            true => Welcome::SetupLinks,
            false => Welcome::SingleSignOn,
        };
        let done = apply(
            self.store(),
            self.app().public_url(),
            &plan,
            welcome,
            &|_| {},
        )
        .await?;
        tracing::info!(
            created = done.created,
            changed = done.changed,
            "accounts imported"
        );
        Ok((plan, done))
    }
}
