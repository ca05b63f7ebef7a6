//! Accounts, roles and sign-in: signing in under the throttle, one's own password and API
//! tokens, first-time set-up links, and the administrators' management of accounts.

use super::{Admin, Error, Member, Public, Result};
use crate::crypto;
use crate::delivery::Writer;
use crate::domain::accounts::{self, Account, AccountId, Email, NewPassword, Role, device_label};
use crate::domain::ids::TokenId;
use crate::domain::mail::MessageKind;
use crate::domain::{Invalid, format_time, throttle};
use crate::store::{ApiTokenInfo, NewAccount, Store};

/// How long a set-up link stays valid.
pub const SETUP_LINK_SECS: i64 = 7 * 24 * 60 * 60;

/// How long a link from "Forgotten your password?" works: it reaches a mailbox that may be
/// read by others later, so not long.
pub const RESET_LINK_SECS: i64 = 60 * 60;
/// The hour over which reset links are counted.
const RESET_WINDOW_SECS: i64 = 60 * 60;
/// Links sent to one address per hour; more asks are answered the same but not sent.
const RESETS_PER_ADDRESS: i64 = 3;
/// Asks from one client address per hour (a network may hold many colleagues).
const RESETS_PER_CLIENT: i64 = 30;

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

/// The message telling someone their password was changed, whichever way it was.
async fn password_changed_notice(
    app: &super::App,
    email: &str,
    name: &str,
) -> Result<crate::store::NewMessage> {
    let store = &app.store;
    let writer = Writer::load(store, app.public_url(), MessageKind::PasswordChanged).await?;
    let zone = crate::app::support::requests::programme_zone(store).await?;
    let when = format_time(store.now(), &zone);
    Ok(writer.to(
        email,
        &[
            ("name", name),
            ("when", &when),
            ("link", &writer.url("/account")),
        ],
        format!("password_changed:{}", crypto::random_hex(12)),
    ))
}

/// The limits on the forms that e-mail a link to an address anyone may type (password
/// reset, sign-up), counted together: a few links an hour per address (more are answered
/// the same but not sent: `false`), and a limit per client address, refused in words.
pub(super) async fn emailed_links_allowed(
    store: &Store,
    email: &Email,
    address: &str,
) -> Result<bool> {
    let t = store.now();
    let from_here = store
        .throttle_record_failure(&format!("reset-from:{address}"), t - RESET_WINDOW_SECS, t)
        .await?;
    if from_here > RESETS_PER_CLIENT {
        return Err(Error::Limited(
            "Too many e-mailed links were asked for from this network in the last hour. Try again later, or write to the programme.".into(),
        ));
    }
    let to_address = store
        .throttle_record_failure(
            &format!("reset:{}", crypto::secret_digest(email.as_str())),
            t - RESET_WINDOW_SECS,
            t,
        )
        .await?;
    Ok(to_address <= RESETS_PER_ADDRESS)
}

pub(super) async fn hash(password: NewPassword) -> Result<String> {
    Ok(
        tokio::task::spawn_blocking(move || crypto::hash_password(password.expose()))
            .await
            .map_err(|e| anyhow::Error::new(e).context("password hashing task"))??,
    )
}

impl Public {
    /// A new session for `account` on today's terms, replacing `old` (the browser's
    /// earlier one), noting how it began (`via`) and on what browser. Every way of
    /// signing in ends here.
    pub(super) async fn start_session(
        &self,
        account: AccountId,
        old: Option<&str>,
        via: Option<&str>,
        user_agent: &str,
    ) -> Result<String> {
        Ok(self
            .store()
            .create_session_via(
                account,
                self.app().session_terms(),
                old,
                via,
                &device_label(user_agent),
            )
            .await?)
    }

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
        user_agent: &str,
    ) -> Result<Option<Session>> {
        self.check_password_sign_in()?;
        let Some(account) = check_credentials(self.store(), email, password, address).await? else {
            return Ok(None);
        };
        let secret = self
            .start_session(account.id, old, None, user_agent)
            .await?;
        Ok(Some(Session { account, secret }))
    }

    /// The account a set-up link is for; an unknown, used or expired link gets one
    /// message, so nothing tells which it was.
    #[tracing::instrument(skip_all, level = "debug")]
    pub async fn setup_link(&self, secret: &str) -> Result<SetupLink> {
        // A link sent before password sign-in was turned off must not become a way round
        // the institution's sign-in (its second factor, its required groups).
        if let Err(Error::Invalid(e)) = self.check_password_sign_in() {
            return Err(Invalid::new("link", e.message()).into());
        }
        match self.store().setup_link_account(secret).await {
            Ok((account, has_password)) => Ok(SetupLink {
                account,
                first_time: !has_password,
            }),
            Err(crate::store::StoreError::NotFound) => Err(Invalid::new(
                "link",
                "This link has expired or has already been used. Ask for a new one from the sign-in page (\"Forgotten your password?\"), or write to the programme.",
            )
            .into()),
            Err(e) => Err(e.into()),
        }
    }

    /// Sets the password through a set-up or reset link, which is then used up, and signs
    /// in. Every other session ends; a reset is told by e-mail in the same transaction,
    /// and lifts a sign-in lock on the account (the person has just proved the mailbox).
    #[tracing::instrument(skip_all)]
    pub async fn use_setup_link(
        &self,
        secret: &str,
        password: NewPassword,
        user_agent: &str,
    ) -> Result<Session> {
        let link = self.setup_link(secret).await?;
        let store = self.store();
        let notice = if link.first_time {
            None
        } else {
            Some(
                password_changed_notice(
                    self.app(),
                    &link.account.email,
                    &link.account.display_name,
                )
                .await?,
            )
        };
        let id = store
            .use_setup_link(secret, &hash(password).await?, notice.as_ref())
            .await?;
        store
            .throttle_clear(&throttle::account_key(&link.account.email))
            .await?;
        let secret = self.start_session(id, None, None, user_agent).await?;
        Ok(Session {
            account: store.account(id).await?,
            secret,
        })
    }

    /// "Forgotten your password?": e-mails a one-hour link to choose a new one if the
    /// address belongs to an active account. The answer is the same whether or not it
    /// does; a few links an hour per address at most (more are silently not sent), and
    /// a limit per client address, so the form cannot flood a mailbox or probe addresses.
    #[tracing::instrument(skip_all)]
    pub async fn request_password_reset(&self, email: &str, address: &str) -> Result<()> {
        self.check_password_sign_in()?;
        let email = Email::parse(email)?;
        let store = self.store();
        if !emailed_links_allowed(store, &email, address).await? {
            tracing::info!("password link not sent: the address had its share this hour");
            return Ok(());
        }
        let t = self.now();
        let account = match store.account_by_email(&email).await {
            Ok(a) if a.active => a,
            Ok(_) | Err(crate::store::StoreError::NotFound) => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        let writer =
            Writer::load(store, self.app().public_url(), MessageKind::PasswordReset).await?;
        let zone = crate::app::support::requests::programme_zone(store).await?;
        let expires = format_time(t + RESET_LINK_SECS, &zone);
        let mail = |secret: &str| {
            writer.to(
                account.email.as_str(),
                &[
                    ("name", &account.display_name),
                    ("link", &writer.url(&format!("/setup/{secret}"))),
                    ("expires", &expires),
                ],
                format!("password_reset:{}", crypto::secret_digest(secret)),
            )
        };
        store
            .create_setup_link(account.id, RESET_LINK_SECS, Some(&mail))
            .await?;
        Ok(())
    }
}

/// The message that carries a new account's set-up link, worded once for every way an
/// account is made by someone else (an administrator, an import).
pub(super) struct SetupMail {
    writer: Writer,
    expires: String,
}

impl SetupMail {
    pub(super) async fn load(store: &Store, public_url: &url::Url) -> Result<Self> {
        let writer = Writer::load(store, public_url, MessageKind::AccountSetup).await?;
        let zone = crate::app::support::requests::programme_zone(store).await?;
        let expires = format_time(store.now() + SETUP_LINK_SECS, &zone);
        Ok(Self { writer, expires })
    }

    pub(super) fn message(&self, account: &Account, secret: &str) -> crate::store::NewMessage {
        self.writer.to(
            account.email.as_str(),
            &[
                ("name", &account.display_name),
                ("link", &self.writer.url(&format!("/setup/{secret}"))),
                ("expires", &self.expires),
            ],
            format!("account_setup:{}", crypto::secret_digest(secret)),
        )
    }
}

/// A set-up or reset link that still works, and whom it is for.
pub struct SetupLink {
    pub account: Account,
    /// No password yet: the account was just made (else the person forgot theirs).
    pub first_time: bool,
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
        let notice =
            password_changed_notice(self.app(), self.email.as_str(), &self.display_name).await?;
        self.store()
            .set_password(self.id, &hash(new).await?, keep, Some(&notice))
            .await?;
        Ok(())
    }

    /// Where this person is signed in, the session asking (`current`, its secret) marked.
    #[tracing::instrument(skip_all, level = "debug", fields(member = self.id.0))]
    pub async fn sessions(&self, current: &str) -> Result<Vec<crate::store::SessionEntry>> {
        Ok(self.store().list_sessions(self.id, current).await?)
    }

    /// Signs out one of this person's other browsers; another person's session is not
    /// found.
    #[tracing::instrument(skip_all, fields(member = self.id.0))]
    pub async fn end_session(&self, handle: &str) -> Result<()> {
        if self.store().end_session_by_handle(self.id, handle).await? {
            Ok(())
        } else {
            Err(Error::NotFound)
        }
    }

    /// Signs out every browser but the one asking; says how many.
    #[tracing::instrument(skip_all, fields(member = self.id.0))]
    pub async fn end_other_sessions(&self, current: &str) -> Result<u64> {
        Ok(self.store().end_other_sessions(self.id, current).await?)
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
    ) -> Result<(Account, Option<String>)> {
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
        // Where the institution's sign-in is the only way in, a link to choose a password
        // would be a way round it; the person simply signs in there.
        if self.public().check_password_sign_in().is_err() {
            return Ok((account, None));
        }
        let welcome = SetupMail::load(store, self.app().public_url()).await?;
        let mail = |secret: &str| welcome.message(&account, secret);
        let secret = store
            .create_setup_link(account.id, SETUP_LINK_SECS, Some(&mail))
            .await?;
        Ok((account, Some(secret)))
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
