//! Self sign-up, where the programme allows it: a colleague gives their institutional
//! address, follows the link e-mailed to it, and only then chooses a name and password and
//! has an account. The answer to the first step is the same whether or not the address
//! has an account already (its owner is told by e-mail instead), so the form tells nobody
//! who is in the programme.

use super::accounts::{Session, emailed_links_allowed, hash};
use super::{Error, Public, Result};
use crate::crypto;
use crate::delivery::Writer;
use crate::domain::accounts::{self, Email, NewPassword};
use crate::domain::conflict::Conflict;
use crate::domain::mail::MessageKind;
use crate::domain::{Invalid, Mistakes, format_time};
use crate::store::StoreError;

/// How long a sign-up link works.
pub const SIGN_UP_LINK_SECS: i64 = 24 * 60 * 60;

impl Public {
    /// Whether the sign-up page is open.
    pub fn sign_up_open(&self) -> bool {
        self.app().settings.sign_up.is_some() && self.check_password_sign_in().is_ok()
    }

    /// The domains sign-up accepts, for the page to say.
    pub fn sign_up_domains(&self) -> Vec<String> {
        self.app()
            .settings
            .sign_up
            .as_ref()
            .map(|s| s.allowed_domains.clone())
            .unwrap_or_default()
    }

    /// E-mails a link that creates an account for `email`, or, if the address has an
    /// account, a note saying so; the caller says the same in either case.
    #[tracing::instrument(skip_all)]
    pub async fn request_sign_up(&self, email: &str, address: &str) -> Result<()> {
        let settings = self
            .app()
            .settings
            .sign_up
            .as_ref()
            .ok_or(Error::NotFound)?;
        self.check_password_sign_in()?;
        let email = Email::parse(email)?;
        if !crate::domain::sign_in::at_one_of(&email, &settings.allowed_domains) {
            return Err(Invalid::new(
                "email",
                format!(
                    "Accounts here are for addresses at {}. Use your institutional address.",
                    settings.allowed_domains.join(", ")
                ),
            )
            .into());
        }
        let store = self.store();
        if !emailed_links_allowed(store, &email, address).await? {
            tracing::info!("sign-up link not sent: the address had its share this hour");
            return Ok(());
        }
        match store.account_by_email(&email).await {
            Ok(account) if account.active => {
                let writer =
                    Writer::load(store, self.app().public_url(), MessageKind::SignUpExisting)
                        .await?;
                let mail = writer.to(
                    account.email.as_str(),
                    &[
                        ("name", &account.display_name),
                        ("link", &writer.url("/signin")),
                        ("reset", &writer.url("/password-reset")),
                    ],
                    format!("sign_up_existing:{}", crypto::random_hex(12)),
                );
                store.enqueue(&mail).await?;
                return Ok(());
            }
            // A switched-off account stays off: its owner writes to the programme.
            Ok(_) => return Ok(()),
            Err(StoreError::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
        let writer =
            Writer::load(store, self.app().public_url(), MessageKind::SignUpConfirm).await?;
        let zone = crate::app::support::requests::programme_zone(store).await?;
        let expires = format_time(self.now() + SIGN_UP_LINK_SECS, &zone);
        let mail = |secret: &str| {
            writer.to(
                email.as_str(),
                &[
                    ("link", &writer.url(&format!("/signup/{secret}"))),
                    ("expires", &expires),
                ],
                format!("sign_up_confirm:{}", crypto::secret_digest(secret)),
            )
        };
        store
            .create_sign_up(&email, SIGN_UP_LINK_SECS, &mail)
            .await?;
        Ok(())
    }

    /// The address a sign-up link is for; an unknown, used or expired link gets one
    /// message.
    #[tracing::instrument(skip_all, level = "debug")]
    pub async fn sign_up_link(&self, secret: &str) -> Result<String> {
        self.app()
            .settings
            .sign_up
            .as_ref()
            .ok_or(Error::NotFound)?;
        match self.store().sign_up_email(secret).await {
            Ok(email) => Ok(email),
            Err(StoreError::NotFound) => Err(expired_link()),
            Err(e) => Err(e.into()),
        }
    }

    /// Makes the account from a sign-up link, with the name and password chosen, and
    /// signs in. Every mistake in the form is reported at once.
    #[tracing::instrument(skip_all)]
    pub async fn finish_sign_up(
        &self,
        secret: &str,
        display_name: &str,
        password: &str,
        confirm: &str,
        old: Option<&str>,
        user_agent: &str,
    ) -> Result<Session> {
        self.sign_up_link(secret).await?;
        let mut mistakes = Mistakes::new();
        let name = mistakes.or(accounts::display_name(display_name), String::new());
        let password = mistakes.check(NewPassword::parse(password, Some(confirm)));
        // `finish` gives the password back only when every field was right.
        let Some(password) = mistakes.finish(password)? else {
            return Err(expired_link());
        };
        let account = match self
            .store()
            .use_sign_up(secret, &name, hash(password).await?)
            .await
        {
            Ok(account) => account,
            Err(StoreError::NotFound) => return Err(expired_link()),
            Err(StoreError::Conflict(Conflict::EmailTaken)) => {
                return Err(Invalid::new(
                    "link",
                    "This address has an account already. Sign in, or use \"Forgotten your password?\" on the sign-in page.",
                )
                .into());
            }
            Err(e) => return Err(e.into()),
        };
        tracing::info!(account = account.id.0, "an account was made by sign-up");
        let secret = self
            .start_session(account.id, old, None, user_agent)
            .await?;
        Ok(Session { account, secret })
    }
}

fn expired_link() -> Error {
    Invalid::new(
        "link",
        "This link has expired or has already been used. Ask for a new one on the sign-up page.",
    )
    .into()
}
