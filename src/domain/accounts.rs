//! Accounts, their roles, and the rules for e-mail addresses and passwords.

use serde::{Deserialize, Serialize};

use super::Invalid;

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(transparent)]
pub struct AccountId(pub i64);

/// What an account may do beyond being a member. Every signed-in account is a member;
/// roles add to that, and are independent: an admin is not a coordinator unless given both.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Helper,
    Coordinator,
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Helper, Role::Coordinator, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Helper => "helper",
            Role::Coordinator => "coordinator",
            Role::Admin => "admin",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Helper => "Helper",
            Role::Coordinator => "Coordinator",
            Role::Admin => "Administrator",
        }
    }

    /// Parses a role name; "member" is accepted and means no extra role.
    pub fn parse(s: &str) -> Result<Option<Role>, Invalid> {
        match s.trim().to_ascii_lowercase().as_str() {
            "member" => Ok(None),
            "helper" => Ok(Some(Role::Helper)),
            "coordinator" => Ok(Some(Role::Coordinator)),
            "admin" => Ok(Some(Role::Admin)),
            other => Err(Invalid::new(
                "role",
                format!("'{other}' is not a role; use member, helper, coordinator or admin."),
            )),
        }
    }
}

/// A normalised (trimmed, lower-case) e-mail address of plausible shape.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let v = raw.trim().to_lowercase();
        let bad = || Invalid::new("email", "Enter an e-mail address such as name@example.edu.");
        if v.is_empty() {
            return Err(Invalid::new("email", "Enter an e-mail address."));
        }
        if v.len() > 254 || v.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad());
        }
        let (local, domain) = v.rsplit_once('@').ok_or_else(bad)?;
        if local.is_empty()
            || domain.len() < 3
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
            || domain.contains('@')
        {
            return Err(bad());
        }
        Ok(Self(v))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

pub const MIN_PASSWORD_CHARS: usize = 12;
const MAX_PASSWORD_CHARS: usize = 256;

/// A password that meets the policy: long enough to resist guessing, short enough that
/// hashing it cannot be used to exhaust the server. No composition rules (NIST SP 800-63B).
pub struct NewPassword(String);

impl NewPassword {
    pub fn parse(raw: &str, confirm: Option<&str>) -> Result<Self, Invalid> {
        let n = raw.chars().count();
        if n < MIN_PASSWORD_CHARS {
            return Err(Invalid::new(
                "password",
                format!(
                    "Choose a password of at least {MIN_PASSWORD_CHARS} characters; a few unrelated words work well."
                ),
            ));
        }
        if n > MAX_PASSWORD_CHARS {
            return Err(Invalid::new(
                "password",
                format!("A password can have at most {MAX_PASSWORD_CHARS} characters."),
            ));
        }
        if let Some(c) = confirm
            && c != raw
        {
            return Err(Invalid::new(
                "confirm",
                "The two passwords are not the same; type the new password twice.",
            ));
        }
        Ok(Self(raw.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

pub fn display_name(raw: &str) -> Result<String, Invalid> {
    super::required_line("display_name", "Name", raw, 120)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account {
    pub id: AccountId,
    pub email: String,
    pub display_name: String,
    pub roles: Vec<Role>,
    pub active: bool,
    pub created_at: i64,
}

impl Account {
    pub fn has(&self, role: impl std::borrow::Borrow<Role>) -> bool {
        self.roles.contains(role.borrow())
    }

    pub fn roles_text(&self) -> String {
        if self.roles.is_empty() {
            "Member".to_string()
        } else {
            self.roles
                .iter()
                .map(|r| r.label())
                .collect::<Vec<_>>()
                .join(", ")
        }
    }
}

/// Whether changing `target`'s roles/active flag would leave the programme with no active
/// administrator, which nobody could then undo from the browser.
pub fn would_remove_last_admin(
    target: &Account,
    new_roles: &[Role],
    new_active: bool,
    active_admins: usize,
) -> bool {
    let is_admin_now = target.active && target.has(Role::Admin);
    let admin_after = new_active && new_roles.contains(&Role::Admin);
    is_admin_now && !admin_after && active_admins <= 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            Email::parse("  Ada@Example.EDU ").expect("ok").as_str(),
            "ada@example.edu"
        );
        for bad in ["", "ada", "ada@", "@x.org", "a@b", "a b@x.org", "a@.org"] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn password_policy() {
        assert!(NewPassword::parse("short", None).is_err());
        assert!(NewPassword::parse("long enough phrase", Some("different phrase!")).is_err());
        assert!(NewPassword::parse("long enough phrase", Some("long enough phrase")).is_ok());
    }

    #[test]
    fn the_last_admin_stays() {
        let a = Account {
            id: AccountId(1),
            email: "a@x.org".into(),
            display_name: "A".into(),
            roles: vec![Role::Admin],
            active: true,
            created_at: 0,
        };
        assert!(would_remove_last_admin(&a, &[], true, 1));
        assert!(would_remove_last_admin(&a, &[Role::Admin], false, 1));
        assert!(!would_remove_last_admin(&a, &[], true, 2));
        assert!(!would_remove_last_admin(&a, &[Role::Admin], true, 1));
    }
}
