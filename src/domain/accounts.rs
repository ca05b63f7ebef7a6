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

/// A short name for the browser a session began in ("Firefox on Windows"), from its
/// User-Agent header, for the owner's list of sessions. Only this label is kept, never
/// the header, which can single a person out.
pub fn device_label(user_agent: &str) -> String {
    let ua = user_agent;
    // Order matters: Edge and Opera say "Chrome", Chrome says "Safari".
    let browser = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Chromium/", "Chromium"),
        ("Safari/", "Safari"),
    ]
    .iter()
    .find(|(token, _)| ua.contains(token))
    .map(|(_, name)| *name);
    let system = [
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Android", "Android"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("Macintosh", "macOS"),
        ("CrOS", "ChromeOS"),
        ("Linux", "Linux"),
    ]
    .iter()
    .find(|(token, _)| ua.contains(token))
    .map(|(_, name)| *name);
    match (browser, system) {
        (Some(b), Some(s)) => format!("{b} on {s}"),
        (Some(b), None) => b.to_string(),
        (None, Some(s)) => format!("A browser on {s}"),
        (None, None) => "An unknown browser".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_browser_is_named_by_what_it_is_not_by_its_header() {
        let edge = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36 Edg/120.0";
        assert_eq!(device_label(edge), "Edge on Windows");
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
        assert_eq!(device_label(iphone), "Safari on iPhone");
        let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0";
        assert_eq!(device_label(firefox), "Firefox on Linux");
        assert_eq!(device_label("curl/8.0\r\n<script>"), "An unknown browser");
        assert_eq!(device_label(""), "An unknown browser");
    }

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
