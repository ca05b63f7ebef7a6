//! The `[oidc]` table of the configuration file: single sign-on through the institution's
//! OpenID Connect provider. Every value is checked at start-up, and the client secret is
//! read from a file or the environment, never from the file itself, and never printed.

use std::path::PathBuf;

use serde::Deserialize;

use super::{ConfigError, fail, is_loopback_host};
use crate::domain::accounts::Role;
use crate::domain::sign_in::{ClaimValue, SignInPolicy};

/// The table as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcFile {
    pub issuer: Option<String>,
    pub client_id: Option<String>,
    pub client_secret_file: Option<PathBuf>,
    pub scopes: Option<Vec<String>>,
    pub button_label: Option<String>,
    pub password_sign_in: Option<bool>,
    pub identity_claim: Option<String>,
    pub create_accounts: Option<bool>,
    pub trust_email: Option<bool>,
    pub allowed_email_domains: Option<Vec<String>>,
    pub required_claim: Option<String>,
    pub coordinator_claim: Option<String>,
    pub admin_claim: Option<String>,
}

/// Which claim names a person for good.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentityClaim {
    /// `sub`, the standard (unique per issuer).
    Subject,
    /// Microsoft Entra ID's object id, with its tenant id (`tid/oid`): the same person in
    /// every application of the tenant, where `sub` differs per application.
    EntraObjectId,
}

/// The client secret: shown as `***` wherever the configuration is printed.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientSecret(pub String);

impl std::fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

#[derive(Debug, Clone)]
pub struct OidcConfig {
    /// Exactly as the provider writes it in `iss` (a trailing slash matters).
    pub issuer: String,
    pub client_id: String,
    pub client_secret: ClientSecret,
    /// Always with `openid`.
    pub scopes: Vec<String>,
    pub button_label: String,
    /// Whether e-mail and password still sign in beside the provider.
    pub password_sign_in: bool,
    pub identity_claim: IdentityClaim,
    pub policy: SignInPolicy,
}

const SECRET_HELP: &str = "put the client secret the provider gave you in a file readable only by the service and name it with client_secret_file, or set WECARE_OIDC_CLIENT_SECRET";

fn claim_value(table: &str, key: &str, raw: &str) -> Result<ClaimValue, ConfigError> {
    match raw.split_once('=') {
        Some((claim, value)) if !claim.trim().is_empty() && !value.trim().is_empty() => {
            Ok(ClaimValue {
                claim: claim.trim().to_string(),
                value: value.trim().to_string(),
            })
        }
        _ => fail(format!(
            "[{table}] {key} is '{raw}'; write it as claim=value, e.g. {key} = \"groups=wellbeing-coordinators\""
        )),
    }
}

/// What both ways of signing in through the institution share: who gets an account,
/// who may come in, and which claims make coordinators and administrators.
pub(super) struct PolicyKeys<'a> {
    pub table: &'a str,
    pub create_accounts: Option<bool>,
    pub trust_email: bool,
    pub allowed_email_domains: &'a Option<Vec<String>>,
    pub required_claim: &'a Option<String>,
    pub coordinator_claim: &'a Option<String>,
    pub admin_claim: &'a Option<String>,
}

pub(super) fn parse_policy(k: PolicyKeys<'_>) -> Result<SignInPolicy, ConfigError> {
    let table = k.table;
    let mut roles = Vec::new();
    for (key, role, raw) in [
        ("coordinator_claim", Role::Coordinator, k.coordinator_claim),
        ("admin_claim", Role::Admin, k.admin_claim),
    ] {
        if let Some(raw) = raw {
            roles.push((role, claim_value(table, key, raw)?));
        }
    }
    Ok(SignInPolicy {
        create_accounts: k.create_accounts.unwrap_or(false),
        trust_email: k.trust_email,
        allowed_domains: email_domains(table, k.allowed_email_domains)?,
        required: k
            .required_claim
            .as_deref()
            .map(|r| claim_value(table, "required_claim", r))
            .transpose()?,
        roles,
    })
}

/// `allowed_email_domains`, lower-cased and without a leading `@`.
pub(super) fn email_domains(
    table: &str,
    list: &Option<Vec<String>>,
) -> Result<Vec<String>, ConfigError> {
    let mut domains = Vec::new();
    for d in list.iter().flatten() {
        let d = d.trim().trim_start_matches('@').to_lowercase();
        if d.is_empty() || !d.contains('.') || d.contains(char::is_whitespace) || d.contains('@') {
            return fail(format!(
                "[{table}] allowed_email_domains has '{d}'; list domains such as \"med.example.edu\""
            ));
        }
        domains.push(d);
    }
    Ok(domains)
}

/// A secret from the environment if set there, else from a file only the service reads.
pub(super) fn read_secret(
    env: Option<&str>,
    file: Option<&std::path::Path>,
    help: &str,
    missing: &str,
) -> Result<String, ConfigError> {
    match (env, file) {
        (Some(s), _) if !s.trim().is_empty() => Ok(s.trim().to_string()),
        (_, Some(path)) => {
            if let Ok(Some(mode)) = crate::private_files::loose_mode(path) {
                return fail(format!(
                    "the secret file {} can be read by other users (mode {mode:o}); run `chmod 600 {}`",
                    path.display(),
                    path.display()
                ));
            }
            let text = std::fs::read_to_string(path).map_err(|e| {
                ConfigError(format!(
                    "cannot read the secret file {} ({e}); {help}",
                    path.display()
                ))
            })?;
            let text = text.trim().to_string();
            if text.is_empty() {
                return fail(format!(
                    "the secret file {} is empty; {help}",
                    path.display()
                ));
            }
            Ok(text)
        }
        _ => fail(format!("{missing}; {help}")),
    }
}

/// A sign-in button's words: one short line.
pub(super) fn button_label(table: &str, raw: &Option<String>) -> Result<String, ConfigError> {
    let label = raw
        .as_deref()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .unwrap_or("Sign in with your institution")
        .to_string();
    if label.chars().count() > 60 || label.chars().any(char::is_control) {
        return fail(format!(
            "[{table}] button_label must be one line of at most 60 characters"
        ));
    }
    Ok(label)
}

/// Checks the table; `secret_env` is WECARE_OIDC_CLIENT_SECRET if set.
pub fn parse_oidc(file: &OidcFile, secret_env: Option<&str>) -> Result<OidcConfig, ConfigError> {
    let issuer = match file.issuer.as_deref().map(str::trim) {
        Some(i) if !i.is_empty() => i.to_string(),
        _ => {
            return fail(
                "[oidc] has no issuer; set issuer to your provider's issuer URL, e.g. issuer = \"https://login.microsoftonline.com/TENANT-ID/v2.0\"",
            );
        }
    };
    let url = url::Url::parse(&issuer).map_err(|e| {
        ConfigError(format!(
            "[oidc] issuer '{issuer}' is not a URL ({e}); use the issuer URL your provider publishes"
        ))
    })?;
    let loopback = url.host_str().is_some_and(is_loopback_host);
    if url.scheme() != "https" && !(url.scheme() == "http" && loopback) {
        return fail(format!(
            "[oidc] issuer '{issuer}' must start with https:// (plain http is accepted only for a provider on this machine)"
        ));
    }
    let client_id = match file.client_id.as_deref().map(str::trim) {
        Some(c) if !c.is_empty() => c.to_string(),
        _ => {
            return fail(
                "[oidc] has no client_id; set it to the client (application) id registered with the provider",
            );
        }
    };
    let client_secret = read_secret(
        secret_env,
        file.client_secret_file.as_deref(),
        SECRET_HELP,
        "[oidc] has no client secret",
    )?;
    let mut scopes: Vec<String> = file
        .scopes
        .clone()
        .unwrap_or_else(|| vec!["openid".into(), "email".into(), "profile".into()])
        .into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    if let Some(bad) = scopes.iter().find(|s| {
        s.chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '"')
    }) {
        return fail(format!(
            "[oidc] scope '{bad}' has a space or quote in it; list each scope as its own string"
        ));
    }
    if !scopes.iter().any(|s| s == "openid") {
        scopes.insert(0, "openid".into());
    }
    let button_label = button_label("oidc", &file.button_label)?;
    let identity_claim = match file.identity_claim.as_deref().map(str::trim) {
        None | Some("sub") => IdentityClaim::Subject,
        Some("oid") => IdentityClaim::EntraObjectId,
        Some(other) => {
            return fail(format!(
                "[oidc] identity_claim is '{other}'; use 'sub' (the standard), or 'oid' for Microsoft Entra ID"
            ));
        }
    };
    Ok(OidcConfig {
        issuer,
        client_id,
        client_secret: ClientSecret(client_secret),
        scopes,
        button_label,
        password_sign_in: file.password_sign_in.unwrap_or(true),
        identity_claim,
        policy: parse_policy(PolicyKeys {
            table: "oidc",
            create_accounts: file.create_accounts,
            trust_email: file.trust_email.unwrap_or(false),
            allowed_email_domains: &file.allowed_email_domains,
            required_claim: &file.required_claim,
            coordinator_claim: &file.coordinator_claim,
            admin_claim: &file.admin_claim,
        })?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> OidcFile {
        OidcFile {
            issuer: Some("https://login.example.edu".into()),
            client_id: Some("wecare".into()),
            ..Default::default()
        }
    }

    #[test]
    fn a_complete_table_is_read() {
        let mut f = base();
        f.scopes = Some(vec!["email".into(), "groups".into()]);
        f.coordinator_claim = Some("groups = wellbeing".into());
        f.allowed_email_domains = Some(vec!["@Med.Example.edu".into()]);
        f.identity_claim = Some("oid".into());
        let c = parse_oidc(&f, Some("s3cret")).expect("valid");
        assert_eq!(c.scopes, ["openid", "email", "groups"]);
        assert_eq!(c.policy.roles[0].1.value, "wellbeing");
        assert_eq!(c.policy.allowed_domains, ["med.example.edu"]);
        assert_eq!(c.identity_claim, IdentityClaim::EntraObjectId);
        assert!(c.password_sign_in && !c.policy.create_accounts);
        assert!(
            !format!("{c:?}").contains("s3cret"),
            "the secret is never printed"
        );
    }

    #[test]
    fn mistakes_say_what_to_change() {
        let err = |f: OidcFile, s: Option<&str>| parse_oidc(&f, s).expect_err("refused").0;
        assert!(err(base(), None).contains("client_secret_file"));
        let mut f = base();
        f.issuer = Some("http://login.example.edu".into());
        assert!(err(f, Some("x")).contains("https://"));
        let mut f = base();
        f.issuer = Some("http://127.0.0.1:9000".into());
        assert!(
            parse_oidc(&f, Some("x")).is_ok(),
            "a provider on loopback may be http"
        );
        let mut f = base();
        f.admin_claim = Some("groups".into());
        assert!(err(f, Some("x")).contains("claim=value"));
        let mut f = base();
        f.identity_claim = Some("email".into());
        assert!(err(f, Some("x")).contains("'sub'"));
        let mut f = base();
        f.client_id = None;
        assert!(err(f, Some("x")).contains("client_id"));
    }
}
