//! Signing in through the institution's identity provider: starting a sign-in, and what
//! the programme makes of the provider's answer (which account, which roles). The
//! protocols are `crate::oidc` and, for a SAML proxy in front, the trusted headers read
//! here; the rules are `domain::sign_in`.

use std::collections::BTreeMap;

use subtle::ConstantTimeEq;

use super::accounts::Session;
use super::{Error, Public, Result};
use crate::domain::accounts::{Account, Email};
use crate::domain::conflict::Conflict;
use crate::domain::sign_in::{self, ExternalIdentity, Refusal};
use crate::store::{IdentityUpdate, StoreError};

/// How long a person has at the provider's pages before the sign-in must start again.
pub const ATTEMPT_SECS: i64 = 15 * 60;

/// What the sign-in page offers.
pub struct SignInOptions {
    /// The institution's button, if there is one.
    pub single_sign_on: Option<SingleSignOn>,
    pub password: bool,
}

pub struct SingleSignOn {
    pub label: String,
    /// Where the button goes (a path here).
    pub path: &'static str,
}

/// Where the trusted-header sign-in is, the one route that reads those headers.
pub const TRUSTED_HEADER_PATH: &str = "/signin/institution";

/// How a session began, as stored with it.
const VIA_OIDC: &str = "oidc";
const VIA_HEADER: &str = "header";

/// What reached the trusted-header sign-in route: the connecting peer (the socket's, never
/// a forwarded address) and the request's headers.
pub struct ProxiedRequest<'a> {
    pub peer: Option<std::net::IpAddr>,
    /// Every value of the named (lower-case) header, as text.
    pub header: &'a (dyn Fn(&str) -> Vec<String> + Sync),
}

/// A sign-in sent to the provider: the browser goes to `url` and keeps `state` in a
/// cookie, so that only the browser that started it can finish it.
pub struct Started {
    pub url: String,
    pub state: String,
}

/// The provider's answer, as it reached the callback.
pub struct Answer<'a> {
    pub state: &'a str,
    /// The state this browser was given when it started (its cookie).
    pub browser_state: Option<&'a str>,
    pub code: Option<&'a str>,
    /// The provider's `error` (e.g. `access_denied` when the person cancelled).
    pub error: Option<&'a str>,
    /// The `iss` the provider names itself by in the answer (RFC 9207), where it does:
    /// an answer from another provider is refused before its code is sent anywhere.
    pub issuer: Option<&'a str>,
}

impl Public {
    pub fn sign_in_options(&self) -> SignInOptions {
        let settings = &self.app().settings;
        match (&settings.oidc, &settings.trusted_header) {
            (Some(p), _) => SignInOptions {
                single_sign_on: Some(SingleSignOn {
                    label: p.button_label().to_string(),
                    path: "/signin/oidc",
                }),
                password: p.password_sign_in(),
            },
            (None, Some(h)) => SignInOptions {
                single_sign_on: Some(SingleSignOn {
                    label: h.button_label.clone(),
                    path: TRUSTED_HEADER_PATH,
                }),
                password: h.password_sign_in,
            },
            (None, None) => SignInOptions {
                single_sign_on: None,
                password: true,
            },
        }
    }

    /// Refuses password sign-in (and reset links) where the programme has turned it off.
    pub(super) fn check_password_sign_in(&self) -> Result<()> {
        match self.sign_in_options() {
            SignInOptions {
                single_sign_on: Some(sso),
                password: false,
            } => Err(Error::Invalid(crate::domain::Invalid::new(
                "email",
                format!(
                    "This programme signs in through the institution only: use \"{}\".",
                    sso.label
                ),
            ))),
            _ => Ok(()),
        }
    }

    /// Signs in the person a SAML proxy in front vouches for in its headers: only when
    /// the request comes from one of the configured proxies and carries the proxy's
    /// secret, so that nobody who reaches wecare another way can name themselves.
    #[tracing::instrument(skip_all)]
    pub async fn sign_in_with_trusted_headers(
        &self,
        request: ProxiedRequest<'_>,
        old: Option<&str>,
        user_agent: &str,
    ) -> Result<Session> {
        let settings = self.app().settings.trusted_header.clone();
        let settings = settings.ok_or(Error::NotFound)?;
        let refuse = |r: Refusal| Error::SignInRefused(r);
        let from_proxy = request.peer.is_some_and(|ip| {
            let ip = ip.to_canonical();
            settings.proxies.iter().any(|net| net.contains(&ip))
        });
        if !from_proxy {
            let peer = request.peer.map(|p| p.to_canonical().to_string());
            tracing::warn!(
                peer = peer.as_deref().unwrap_or("unknown"),
                "identity headers from an address that is not a configured proxy were ignored"
            );
            return Err(refuse(Refusal::Tampered));
        }
        let secrets = (request.header)(&settings.secret_header);
        let secret_matches = matches!(secrets.as_slice(), [one]
            if bool::from(one.trim().as_bytes().ct_eq(settings.secret.0.as_bytes())));
        if !secret_matches {
            tracing::warn!("identity headers without the proxy's secret were ignored");
            return Err(refuse(Refusal::Tampered));
        }
        let sep = settings.value_separator;
        // A header line a client slipped past the proxy would sit beside the proxy's own:
        // more than one line of any header read here is refused, not merged.
        let mut repeated = None;
        let mut values = |name: &str| -> Vec<String> {
            let lines = (request.header)(name);
            if lines.len() > 1 {
                repeated = Some(name.to_string());
            }
            lines
                .iter()
                .flat_map(|v| split_values(v, sep))
                // Apache writes an unset variable as "(null)": no value, not a value.
                .filter(|v| v != "(null)")
                .collect()
        };
        // The identity and the address must each be one value: with several, which one
        // names the person would be a guess (and an alias could link another account).
        let mut single = |name: &str| -> std::result::Result<Option<String>, ()> {
            let mut all = values(name);
            match all.len() {
                0 => Ok(None),
                1 => Ok(all.pop()),
                _ => Err(()),
            }
        };
        let subject = single(&settings.identity_header);
        let email = single(&settings.email_header);
        let name = single(&settings.name_header).unwrap_or(None);
        let mut claims = BTreeMap::new();
        for claim in settings
            .policy
            .required
            .iter()
            .chain(settings.policy.roles.iter().map(|(_, c)| c))
        {
            claims.insert(claim.claim.clone(), values(&claim.claim));
        }
        if let Some(header) = repeated {
            tracing::warn!(%header, "a header the proxy sets came more than once; the sign-in was refused");
            return Err(refuse(Refusal::Tampered));
        }
        let (Ok(subject), Ok(email)) = (subject, email) else {
            tracing::warn!(
                "the proxy sent several identities or addresses for one person; the sign-in was refused"
            );
            return Err(refuse(Refusal::NotAllowed));
        };
        let Some(subject) =
            subject.filter(|s| s.chars().count() <= 256 && !s.chars().any(char::is_control))
        else {
            // The proxy let the request through without a SAML session: its configuration
            // does not require one on this route.
            tracing::warn!(
                header = %settings.identity_header,
                "the proxy sent no usable identity; require a session on the sign-in route"
            );
            return Err(refuse(Refusal::ProviderUnavailable));
        };
        let who = ExternalIdentity {
            subject,
            email,
            email_verified: false,
            name,
            claims,
        };
        let account = self
            .account_for(&settings.issuer(), &settings.policy, &who)
            .await?;
        let secret = self
            .start_session(account.id, old, Some(VIA_HEADER), user_agent)
            .await?;
        tracing::info!(
            account = account.id.0,
            "signed in through the proxy's headers"
        );
        Ok(Session { account, secret })
    }

    /// Starts a sign-in at the provider; `next` is where to go afterwards (a path here).
    #[tracing::instrument(skip_all)]
    pub async fn start_single_sign_on(&self, next: &str) -> Result<Started> {
        let provider = self.app().settings.oidc.clone().ok_or(Error::NotFound)?;
        // Anyone can start a sign-in: keep what each attempt stores small.
        let next = if next.len() <= 256 { next } else { "/account" };
        let started = provider.start().await.map_err(Error::SignInRefused)?;
        self.store()
            .save_sign_in_attempt(
                &started.state,
                &started.nonce,
                &started.pkce_verifier,
                next,
                ATTEMPT_SECS,
            )
            .await?;
        Ok(Started {
            url: started.url,
            state: started.state,
        })
    }

    /// Finishes a sign-in from the provider's answer: a new session (replacing `old`),
    /// and the path to go to. Each refusal says what happened; the details are logged.
    #[tracing::instrument(skip_all)]
    pub async fn finish_single_sign_on(
        &self,
        answer: Answer<'_>,
        old: Option<&str>,
        user_agent: &str,
    ) -> Result<(Session, String)> {
        let provider = self.app().settings.oidc.clone().ok_or(Error::NotFound)?;
        let refuse = |r: Refusal| Error::SignInRefused(r);
        // Login CSRF: an answer is taken only by the browser that asked for it.
        let same_browser = answer
            .browser_state
            .is_some_and(|b| bool::from(b.as_bytes().ct_eq(answer.state.as_bytes())));
        if !same_browser {
            tracing::warn!("a sign-in answer came to a browser that did not start it");
            return Err(refuse(Refusal::Tampered));
        }
        let attempt = self
            .store()
            .take_sign_in_attempt(answer.state)
            .await?
            .ok_or_else(|| {
                tracing::warn!("a sign-in answer with an unknown or used state");
                refuse(Refusal::Expired)
            })?;
        if let Some(error) = answer.error {
            let error: String = error
                .chars()
                .filter(char::is_ascii_graphic)
                .take(64)
                .collect();
            tracing::info!(%error, "the provider answered with an error");
            return Err(refuse(
                if error == "access_denied" || error == "login_required" {
                    Refusal::Cancelled
                } else {
                    Refusal::ProviderUnavailable
                },
            ));
        }
        if !attempt.current {
            return Err(refuse(Refusal::Expired));
        }
        if answer.issuer.is_some_and(|iss| iss != provider.issuer()) {
            tracing::warn!("a sign-in answer names another issuer");
            return Err(refuse(Refusal::Tampered));
        }
        let code = answer.code.ok_or(refuse(Refusal::Tampered))?;
        let who = provider
            .finish(code, &attempt.nonce, &attempt.pkce_verifier)
            .await
            .map_err(refuse)?;
        let account = self
            .account_for(provider.issuer(), provider.policy(), &who)
            .await?;
        let secret = self
            .start_session(account.id, old, Some(VIA_OIDC), user_agent)
            .await?;
        tracing::info!(account = account.id.0, "signed in through the provider");
        Ok((Session { account, secret }, attempt.next_path))
    }

    /// The account the provider's person is, brought up to date, or made for them.
    async fn account_for(
        &self,
        issuer: &str,
        policy: &sign_in::SignInPolicy,
        who: &ExternalIdentity,
    ) -> Result<Account> {
        let refuse = |r: Refusal| Error::SignInRefused(r);
        let store = self.store();
        if let Err(r) = sign_in::admit(policy, who) {
            // Someone the provider once let in and now does not: what it gave goes.
            store.withdraw_identity(issuer, &who.subject).await?;
            return Err(refuse(r));
        }
        let claim_roles = sign_in::roles_from_claims(policy, who);
        let email = sign_in::verified_email(policy, who).ok();
        let name = who.display_name();
        let update = IdentityUpdate {
            issuer,
            subject: &who.subject,
            email: email.as_ref(),
            display_name: &name,
            claim_roles: &claim_roles,
        };
        // Twice at most: a first sign-in racing another for the same person finds the
        // account the other made.
        for _ in 0..2 {
            if let Some(account) = store.identity_account(issuer, &who.subject).await? {
                if !account.active {
                    return Err(refuse(Refusal::AccountInactive));
                }
                return Ok(store.update_identity(account.id, &update).await?);
            }
            // Not seen before: an existing account is linked only by an address the
            // provider has verified, and only if no other identity there holds it.
            let email: &Email = email.as_ref().ok_or(refuse(Refusal::EmailUnverified))?;
            match store.account_by_email(email).await {
                Ok(account) => {
                    if !account.active {
                        return Err(refuse(Refusal::AccountInactive));
                    }
                    if store.has_identity_at(account.id, issuer).await? {
                        tracing::warn!(
                            account = account.id.0,
                            "another identity of the provider holds this account"
                        );
                        return Err(refuse(Refusal::AlreadyLinked));
                    }
                    // The domains that may make accounts are also the ones that may link.
                    if !sign_in::domain_allowed(policy, email) {
                        tracing::warn!(
                            account = account.id.0,
                            "a sign-in at a domain the settings do not allow would link this account"
                        );
                        return Err(refuse(Refusal::NotAllowed));
                    }
                    return match store.update_identity(account.id, &update).await {
                        Ok(account) => Ok(account),
                        // Another identity linked it in the same moment.
                        Err(StoreError::Conflict(_)) => Err(refuse(Refusal::AlreadyLinked)),
                        Err(e) => Err(e.into()),
                    };
                }
                Err(StoreError::NotFound) => {
                    sign_in::may_create(policy, email).map_err(refuse)?;
                    match store.create_account_for_identity(email, &update).await {
                        Ok(account) => return Ok(account),
                        Err(StoreError::Conflict(Conflict::EmailTaken)) => continue,
                        Err(e) => return Err(e.into()),
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(refuse(Refusal::AlreadyLinked))
    }

    /// Ends a session. For one begun at the provider, the address that ends the
    /// provider's session too (RP-initiated logout), if it offers one.
    #[tracing::instrument(skip_all)]
    pub async fn sign_out(&self, secret: &str) -> Result<Option<String>> {
        let via = self.store().end_session(secret).await?;
        let settings = &self.app().settings;
        match (via.as_deref(), &settings.oidc, &settings.trusted_header) {
            (Some(VIA_OIDC), Some(provider), _) => Ok(provider.logout_url().await),
            (Some(VIA_HEADER), _, Some(h)) => Ok(h.logout_url.clone()),
            _ => Ok(None),
        }
    }
}

/// The values of a multi-valued attribute as Shibboleth and mellon write them: separated
/// by `sep`, with `\` before a separator that belongs to a value.
fn split_values(raw: &str, sep: char) -> Vec<String> {
    let mut values = Vec::new();
    let mut current = String::new();
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(n) if n == sep => current.push(n),
                Some(n) => {
                    current.push('\\');
                    current.push(n);
                }
                None => current.push('\\'),
            },
            c if c == sep => values.push(std::mem::take(&mut current)),
            c => current.push(c),
        }
    }
    values.push(current);
    values
        .into_iter()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::split_values;

    #[test]
    fn multi_valued_attributes_split_on_unescaped_separators() {
        assert_eq!(
            split_values("faculty; urn:a\\;b ;;member", ';'),
            ["faculty", "urn:a;b", "member"]
        );
        assert!(split_values(" ; ", ';').is_empty());
        assert_eq!(split_values("a\\b", ';'), ["a\\b"]);
    }
}
