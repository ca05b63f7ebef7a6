//! Accounts, roles and sign-in: signing in under the throttle, one's own password and API
//! tokens, first-time set-up links, and the administrators' management of accounts.

use super::{Admin, Error, Member, Public, Result};
use crate::crypto;
use crate::delivery::Writer;
use crate::domain::accounts::{self, Account, AccountId, Email, NewPassword, Role};
use crate::domain::ids::TokenId;
use crate::domain::mail::MessageKind;
use crate::domain::{Invalid, format_time, throttle};
use crate::store::{ApiTokenInfo, NewAccount, Store};

/// How long a set-up link stays valid.
pub const SETUP_LINK_SECS: i64 = 7 * 24 * 60 * 60;

/// A new browser session: its secret goes into the cookie.
pub struct Session {
    pub account: Account,
    pub secret: String,
}

/// Checks credentials under the throttling rules: a locked account or address is refused
/// before the password is even checked, and every failure counts against both.
async fn check_credentials(
    store: &Store,
    email: &str,
    password: &str,
    address: &str,
) -> Result<Option<Account>> {
    let t = store.now();
    let account_key = throttle::account_key(email);
    let address_key = throttle::address_key(address);
    let locked = store
        .throttle_locked_until(&account_key)
        .await?
        .max(store.throttle_locked_until(&address_key).await?);
    if locked > t {
        return Err(Error::Throttled {
            minutes: throttle::minutes_left(locked, t),
        });
    }
    let found = store.account_for_sign_in(email).await?;
    let (account, hash) = match found {
        Some((a, h)) if a.active => (Some(a), h),
        _ => (None, None),
    };
    let password = password.to_string();
    let ok =
        tokio::task::spawn_blocking(move || crypto::verify_password(&password, hash.as_deref()))
            .await
            .map_err(|e| anyhow::Error::new(e).context("password check task"))?;
    match (ok, account) {
        (true, Some(account)) => {
            store.throttle_clear(&account_key).await?;
            Ok(Some(account))
        }
        _ => {
            for (key, policy) in [
                (&account_key, throttle::PER_ACCOUNT),
                (&address_key, throttle::PER_ADDRESS),
            ] {
                let n = store
                    .throttle_record_failure(key, policy.window_start(t), t)
                    .await?;
                if let Some(until) = policy.lock_after(n, t) {
                    store.throttle_lock(key, until).await?;
                }
            }
            Ok(None)
        }
    }
}

async fn hash(password: NewPassword) -> Result<String> {
    Ok(
        tokio::task::spawn_blocking(move || crypto::hash_password(password.expose()))
            .await
            .map_err(|e| anyhow::Error::new(e).context("password hashing task"))??,
    )
}

impl Public {
    /// Whether nobody can administer the programme yet (the sign-in page says how to start).
    #[tracing::instrument(skip_all, level = "debug")]
    pub async fn no_admin_yet(&self) -> Result<bool> {
        Ok(self.store().count_active_admins().await? == 0)
    }

    /// Signs in: a new session replacing `old` (its secret, if the browser had one), or
    /// `None` for a wrong address or password. Refused while throttled.
    #[tracing::instrument(skip_all)]
    pub async fn sign_in(
        &self,
        email: &str,
        password: &str,
        address: &str,
        old: Option<&str>,
    ) -> Result<Option<Session>> {
        let Some(account) = check_credentials(self.store(), email, password, address).await? else {
            return Ok(None);
        };
        let secret = self
            .store()
            .create_session(account.id, self.app().settings.session_ttl_secs, old)
            .await?;
        Ok(Some(Session { account, secret }))
    }

    #[tracing::instrument(skip_all)]
    pub async fn sign_out(&self, secret: &str) -> Result<()> {
        Ok(self.store().end_session(secret).await?)
    }

    /// The account a set-up link is for; an unknown, used or expired link gets one
    /// message, so nothing tells which it was.
    #[tracing::instrument(skip_all, level = "debug")]
    pub async fn setup_link_account(&self, secret: &str) -> Result<Account> {
        match self.store().setup_link_account(secret).await {
            Ok(a) => Ok(a),
            Err(crate::store::StoreError::NotFound) => Err(Invalid::new(
                "link",
                "This set-up link has expired or has already been used. Ask an administrator for a new one.",
            )
            .into()),
            Err(e) => Err(e.into()),
        }
    }

    /// Sets the first password through a set-up link, which is then used up, and signs in.
    #[tracing::instrument(skip_all)]
    pub async fn use_setup_link(&self, secret: &str, password: NewPassword) -> Result<Session> {
        self.setup_link_account(secret).await?;
        let id = self
            .store()
            .use_setup_link(secret, &hash(password).await?)
            .await?;
        let secret = self
            .store()
            .create_session(id, self.app().settings.session_ttl_secs, None)
            .await?;
        Ok(Session {
            account: self.store().account(id).await?,
            secret,
        })
    }
}

impl Member {
    #[tracing::instrument(skip_all, level = "debug", fields(member = self.id.0))]
    pub async fn api_tokens(&self) -> Result<Vec<ApiTokenInfo>> {
        Ok(self.store().list_api_tokens(self.id).await?)
    }

    /// A new API token for this person; the secret is shown once.
    #[tracing::instrument(skip_all, fields(member = self.id.0))]
    pub async fn create_api_token(
        &self,
        name: &str,
        expires_at: Option<i64>,
    ) -> Result<(i64, String)> {
        Ok(self
            .store()
            .create_api_token(self.id, name, expires_at)
            .await?)
    }

    /// Revokes one of this person's own tokens (anyone else's is not found).
    #[tracing::instrument(skip_all, fields(member = self.id.0, token = id.0))]
    pub async fn revoke_api_token(&self, id: TokenId) -> Result<()> {
        Ok(self.store().revoke_api_token(self.id, id.0).await?)
    }

    /// Changes the password after checking the current one under the sign-in throttle (so
    /// a stolen session cannot guess it). Every other session ends; `keep` is the digest of
    /// the one that asked. The person is told by e-mail, in the same transaction.
    #[tracing::instrument(skip_all, fields(member = self.id.0))]
    pub async fn change_password(
        &self,
        current: &str,
        new: &str,
        confirm: &str,
        address: &str,
        keep: Option<&str>,
    ) -> Result<()> {
        // The current password first: every wrong guess counts, whatever else was typed.
        if check_credentials(self.store(), self.email.as_str(), current, address)
            .await?
            .is_none()
        {
            return Err(Invalid::new("current", "Your current password is not right.").into());
        }
        let new = NewPassword::parse(new, Some(confirm))?;
        let writer = Writer::load(
            self.store(),
            self.app().public_url(),
            MessageKind::PasswordChanged,
        )
        .await?;
        let zone = crate::app::support::requests::programme_zone(self.store()).await?;
        let when = format_time(self.now(), &zone);
        let notice = writer.to(
            self.email.as_str(),
            &[
                ("name", &self.display_name),
                ("when", &when),
                ("link", &writer.url("/account")),
            ],
            format!("password_changed:{}", crypto::random_hex(12)),
        );
        self.store()
            .set_password(self.id, &hash(new).await?, keep, Some(&notice))
            .await?;
        Ok(())
    }
}

impl Admin {
    #[tracing::instrument(skip_all, level = "debug", fields(admin = self.id.0))]
    pub async fn accounts(&self) -> Result<Vec<Account>> {
        Ok(self.store().list_accounts().await?)
    }

    #[tracing::instrument(skip_all, level = "debug", fields(admin = self.id.0, account = id.0))]
    pub async fn account_by_id(&self, id: AccountId) -> Result<Account> {
        Ok(self.store().account(id).await?)
    }

    /// Creates an account and a set-up link for it, and e-mails the link to the person.
    /// The link's secret comes back too, for the administrator to pass on if mail fails.
    #[tracing::instrument(skip_all, fields(admin = self.id.0))]
    pub async fn create_account(
        &self,
        email: &str,
        display_name: &str,
        roles: &[Role],
    ) -> Result<(Account, String)> {
        let store = self.store();
        let email = Email::parse(email)?;
        let display_name = accounts::display_name(display_name)?;
        let account = store
            .create_account(NewAccount {
                email: &email,
                display_name: &display_name,
                roles,
                password_hash: None,
            })
            .await?;
        let writer =
            Writer::load(store, self.app().public_url(), MessageKind::AccountSetup).await?;
        let zone = crate::app::support::requests::programme_zone(store).await?;
        let expires = format_time(self.now() + SETUP_LINK_SECS, &zone);
        let mail = |secret: &str| {
            writer.to(
                account.email.as_str(),
                &[
                    ("name", &account.display_name),
                    ("link", &writer.url(&format!("/setup/{secret}"))),
                    ("expires", &expires),
                ],
                format!("account_setup:{}", crypto::secret_digest(secret)),
            )
        };
        let secret = store
            .create_setup_link(account.id, SETUP_LINK_SECS, Some(&mail))
            .await?;
        Ok((account, secret))
    }

    /// The address of a set-up link, to show the administrator.
    pub fn setup_url(&self, secret: &str) -> String {
        let base = self.app().public_url().as_str().trim_end_matches('/');
        format!("{base}/setup/{secret}")
    }

    /// Sets an account's roles and whether it is active, unless that would leave nobody
    /// able to administer the programme (checked inside the store's transaction).
    #[tracing::instrument(skip_all, fields(admin = self.id.0, account = id.0))]
    pub async fn change_access(&self, id: AccountId, roles: &[Role], active: bool) -> Result<()> {
        Ok(self
            .store()
            .update_account_access(id, roles, active)
            .await?)
    }
}
