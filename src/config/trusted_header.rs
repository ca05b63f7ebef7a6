//! The `[trusted_header]` table: signing in through a SAML service provider in front of
//! wecare (Shibboleth's `mod_shib`, `mod_auth_mellon`), which puts the person's
//! attributes into request headers. wecare believes those headers only on the sign-in
//! route, only from the proxies listed here, and only beside a shared secret the proxy
//! adds; everywhere else they are ignored.

use std::path::PathBuf;

use serde::Deserialize;

use super::oidc::{PolicyKeys, button_label, parse_policy, read_secret};
use super::{ConfigError, fail, parse_trusted_proxies};
use crate::domain::sign_in::SignInPolicy;

/// The table as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustedHeaderFile {
    /// The addresses the proxy connects from, e.g. `["127.0.0.1"]`.
    pub proxies: Option<Vec<String>>,
    pub secret_header: Option<String>,
    pub secret_file: Option<PathBuf>,
    pub identity_header: Option<String>,
    pub email_header: Option<String>,
    pub name_header: Option<String>,
    pub value_separator: Option<String>,
    pub button_label: Option<String>,
    pub password_sign_in: Option<bool>,
    pub create_accounts: Option<bool>,
    pub trust_email: Option<bool>,
    pub allowed_email_domains: Option<Vec<String>>,
    pub required_claim: Option<String>,
    pub coordinator_claim: Option<String>,
    pub admin_claim: Option<String>,
    pub logout_url: Option<String>,
}

/// The proxy's shared secret: shown as `***` wherever the configuration is printed.
#[derive(Clone, PartialEq, Eq)]
pub struct ProxySecret(pub String);

impl std::fmt::Debug for ProxySecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

#[derive(Debug, Clone)]
pub struct TrustedHeaderConfig {
    pub proxies: Vec<ipnet::IpNet>,
    /// Header names, lower-case (HTTP header names are case-insensitive).
    pub secret_header: String,
    pub secret: ProxySecret,
    pub identity_header: String,
    pub email_header: String,
    pub name_header: String,
    /// Between the values of a multi-valued attribute (`;` for Shibboleth and mellon).
    pub value_separator: char,
    pub button_label: String,
    pub password_sign_in: bool,
    /// Where to send the browser after wecare's sign-out, to end the SAML session too
    /// (e.g. `/Shibboleth.sso/Logout`).
    pub logout_url: Option<String>,
    /// Claims are headers: `isMemberOf=...` reads the `isMemberOf` header.
    pub policy: SignInPolicy,
}

impl TrustedHeaderConfig {
    /// Every header wecare reads from the proxy: the proxy must remove each from what the
    /// client sent before adding its own (mod_shib clears only the attributes it maps).
    pub fn headers_to_clear(&self) -> Vec<String> {
        let mut all = vec![
            self.secret_header.clone(),
            self.identity_header.clone(),
            self.email_header.clone(),
            self.name_header.clone(),
        ];
        for c in self
            .policy
            .required
            .iter()
            .chain(self.policy.roles.iter().map(|(_, c)| c))
        {
            if !all.contains(&c.claim) {
                all.push(c.claim.clone());
            }
        }
        all
    }

    /// Where identities from these headers are kept apart from others: a change of the
    /// identity attribute is a new set of identities, never a mix-up of people.
    pub fn issuer(&self) -> String {
        format!("header:{}", self.identity_header)
    }
}

const SECRET_HELP: &str = "make a random secret of at least 24 characters (`wecare keys generate` prints one), have the proxy add it in the secret header, and put it in a file readable only by the service named by secret_file, or in WECARE_TRUSTED_HEADER_SECRET";

/// A header name as HTTP allows it (RFC 9110 token), lower-cased.
fn header_name(key: &str, raw: Option<&str>, default: &str) -> Result<String, ConfigError> {
    let name = raw.map(str::trim).unwrap_or(default).to_ascii_lowercase();
    let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    if name.is_empty() || !name.chars().all(token) {
        return fail(format!(
            "[trusted_header] {key} is '{name}', which is not a header name; use letters, digits and dashes, e.g. \"{default}\""
        ));
    }
    Ok(name)
}

/// Checks the table; `secret_env` is WECARE_TRUSTED_HEADER_SECRET if set.
pub fn parse_trusted_header(
    file: &TrustedHeaderFile,
    secret_env: Option<&str>,
) -> Result<TrustedHeaderConfig, ConfigError> {
    let proxies = match &file.proxies {
        Some(list) if !list.is_empty() => parse_trusted_proxies(&list.join(","))?,
        _ => {
            return fail(
                "[trusted_header] has no proxies; list the addresses your SAML proxy connects from, e.g. proxies = [\"127.0.0.1\"]",
            );
        }
    };
    if proxies.iter().any(|p| p.prefix_len() == 0) {
        return fail(
            "[trusted_header] proxies lets every address in (a /0 range); list only the proxy's own addresses",
        );
    }
    let secret = read_secret(
        secret_env,
        file.secret_file.as_deref(),
        SECRET_HELP,
        "[trusted_header] has no secret",
    )?;
    if secret.chars().count() < 24 || secret.chars().any(|c| !c.is_ascii_graphic()) {
        return fail(format!(
            "the [trusted_header] secret is shorter than 24 characters or has spaces in it; {SECRET_HELP}"
        ));
    }
    let identity_header = header_name("identity_header", file.identity_header.as_deref(), "eppn")?;
    let email_header = header_name("email_header", file.email_header.as_deref(), "mail")?;
    let name_header = header_name("name_header", file.name_header.as_deref(), "displayname")?;
    let secret_header = header_name(
        "secret_header",
        file.secret_header.as_deref(),
        "x-wecare-proxy-secret",
    )?;
    let value_separator = match file.value_separator.as_deref() {
        None => ';',
        Some(s) if s.chars().count() == 1 => s.chars().next().unwrap_or(';'),
        Some(other) => {
            return fail(format!(
                "[trusted_header] value_separator is '{other}'; give one character, e.g. \";\""
            ));
        }
    };
    let logout_url = match file.logout_url.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(u) if u.starts_with('/') && !u.starts_with("//") => Some(u.to_string()),
        Some(u) if url::Url::parse(u).is_ok_and(|p| p.scheme() == "https") => Some(u.to_string()),
        Some(u) => {
            return fail(format!(
                "[trusted_header] logout_url is '{u}'; give a path on this site (e.g. \"/Shibboleth.sso/Logout\") or an https:// address"
            ));
        }
    };
    let mut policy = parse_policy(PolicyKeys {
        table: "trusted_header",
        create_accounts: file.create_accounts,
        // The institution's directory fills the mail attribute: there is nothing the
        // person could have typed in it, unlike an address at an OpenID provider.
        trust_email: file.trust_email.unwrap_or(true),
        allowed_email_domains: &file.allowed_email_domains,
        required_claim: &file.required_claim,
        coordinator_claim: &file.coordinator_claim,
        admin_claim: &file.admin_claim,
    })?;
    // Claims name headers, which are case-insensitive.
    for claim in policy
        .required
        .iter_mut()
        .chain(policy.roles.iter_mut().map(|(_, c)| c))
    {
        claim.claim = header_name("a claim", Some(&claim.claim), "ismemberof")?;
    }
    Ok(TrustedHeaderConfig {
        proxies,
        secret_header,
        secret: ProxySecret(secret),
        identity_header,
        email_header,
        name_header,
        value_separator,
        button_label: button_label("trusted_header", &file.button_label)?,
        password_sign_in: file.password_sign_in.unwrap_or(true),
        logout_url,
        policy,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "a-proxy-secret-of-enough-length";

    fn base() -> TrustedHeaderFile {
        TrustedHeaderFile {
            proxies: Some(vec!["127.0.0.1".into(), "10.1.2.0/24".into()]),
            ..Default::default()
        }
    }

    #[test]
    fn a_table_is_read_with_shibboleth_defaults() {
        let mut f = base();
        f.coordinator_claim = Some("isMemberOf = urn:example:wellbeing".into());
        let c = parse_trusted_header(&f, Some(SECRET)).expect("valid");
        assert_eq!(c.identity_header, "eppn");
        assert_eq!(c.email_header, "mail");
        assert_eq!(c.secret_header, "x-wecare-proxy-secret");
        assert_eq!(c.policy.roles[0].1.claim, "ismemberof");
        assert_eq!(c.value_separator, ';');
        assert!(c.policy.trust_email && !c.policy.create_accounts);
        assert_eq!(c.issuer(), "header:eppn");
        assert!(
            !format!("{c:?}").contains(SECRET),
            "the secret is never printed"
        );
    }

    #[test]
    fn mistakes_say_what_to_change() {
        let err = |f: TrustedHeaderFile, s: Option<&str>| {
            parse_trusted_header(&f, s).expect_err("refused").0
        };
        assert!(err(TrustedHeaderFile::default(), Some(SECRET)).contains("no proxies"));
        assert!(err(base(), None).contains("secret_file"));
        assert!(err(base(), Some("short")).contains("24 characters"));
        let mut f = base();
        f.proxies = Some(vec!["0.0.0.0/0".into()]);
        assert!(err(f, Some(SECRET)).contains("every address"));
        let mut f = base();
        f.identity_header = Some("eppn: x".into());
        assert!(err(f, Some(SECRET)).contains("not a header name"));
        let mut f = base();
        f.logout_url = Some("http://idp.example.edu/logout".into());
        assert!(err(f, Some(SECRET)).contains("logout_url"));
        let mut f = base();
        f.value_separator = Some(";;".into());
        assert!(err(f, Some(SECRET)).contains("one character"));
    }
}
