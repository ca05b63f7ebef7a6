//! The `[sign_up]` table: colleagues may make their own account, at the institution's
//! addresses only, after confirming the address by an e-mailed link. Off without it.

use serde::Deserialize;

use super::oidc::email_domains;
use super::{ConfigError, fail};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignUpFile {
    pub allowed_email_domains: Option<Vec<String>>,
}

#[derive(Debug, Clone)]
pub struct SignUpConfig {
    /// Lower-case, without `@`; never empty.
    pub allowed_domains: Vec<String>,
}

/// Checks the table; `password_sign_in` is whether password sign-in is on, without which
/// an account of one's own could never be used.
pub fn parse_sign_up(
    file: &SignUpFile,
    password_sign_in: bool,
) -> Result<SignUpConfig, ConfigError> {
    let allowed_domains = email_domains("sign_up", &file.allowed_email_domains)?;
    if allowed_domains.is_empty() {
        return fail(
            "[sign_up] has no allowed_email_domains; list the institution's domains, e.g. allowed_email_domains = [\"example.edu\"] (anyone anywhere could sign up otherwise)",
        );
    }
    if !password_sign_in {
        return fail(
            "[sign_up] makes password accounts, but password sign-in is off; remove [sign_up] (the institution's sign-in makes accounts itself with create_accounts = true)",
        );
    }
    Ok(SignUpConfig { allowed_domains })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_up_needs_domains_and_passwords() {
        let file = SignUpFile {
            allowed_email_domains: Some(vec!["@Example.edu".into()]),
        };
        assert_eq!(
            parse_sign_up(&file, true).expect("valid").allowed_domains,
            ["example.edu"]
        );
        assert!(
            parse_sign_up(&file, false)
                .expect_err("no passwords")
                .0
                .contains("password sign-in is off")
        );
        let none = SignUpFile::default();
        assert!(
            parse_sign_up(&none, true)
                .expect_err("no domains")
                .0
                .contains("allowed_email_domains")
        );
    }
}
