//! Who may come in through the institution's identity provider (OpenID Connect or a
//! trusted SAML header), and with which roles: the rules, free of the protocol. The
//! protocol code turns a verified token or header set into an `ExternalIdentity`; these
//! rules decide.

use std::collections::BTreeMap;

use super::accounts::{Email, Role};

/// A person as the identity provider vouches for them, after every check of the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalIdentity {
    /// The provider's stable, never reassigned identifier (`sub`, or Entra's `tid`/`oid`,
    /// or a SAML `eppn`): what the person is known by. Never the e-mail address.
    pub subject: String,
    pub email: Option<String>,
    /// Whether the provider says it checked that the person holds `email`.
    pub email_verified: bool,
    pub name: Option<String>,
    /// Every other claim the rules may look at, as lists of strings (a group list, an app
    /// role, an affiliation). A single string claim is a list of one.
    pub claims: BTreeMap<String, Vec<String>>,
}

impl ExternalIdentity {
    pub fn has(&self, claim: &ClaimValue) -> bool {
        self.claims
            .get(&claim.claim)
            .is_some_and(|values| values.iter().any(|v| v == &claim.value))
    }

    /// The name to show: the provider's, else the part of the address before the `@`.
    pub fn display_name(&self) -> String {
        let name = self
            .name
            .as_deref()
            .map(clean_name)
            .filter(|n| !n.is_empty());
        match (name, &self.email) {
            (Some(n), _) => n,
            (None, Some(e)) => e.split('@').next().unwrap_or(e).to_string(),
            (None, None) => "Colleague".to_string(),
        }
    }
}

/// Control characters and surrounding space out, and at most 120 characters: a name
/// from outside is shown on pages and written into e-mail headers.
fn clean_name(raw: &str) -> String {
    let cleaned: String = raw
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    cleaned
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(120)
        .collect()
}

/// One value of one claim, as the programme names it in its settings (e.g. the group
/// `wellbeing-coordinators` in the claim `groups`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimValue {
    pub claim: String,
    pub value: String,
}

/// What the programme allows, from its settings.
#[derive(Debug, Clone, Default)]
pub struct SignInPolicy {
    /// Whether someone the programme has no account for gets one at first sign-in.
    pub create_accounts: bool,
    /// Domains a new account's address must be at (empty: any).
    pub allowed_domains: Vec<String>,
    /// A claim value everyone must hold to sign in at all (e.g. membership of faculty).
    pub required: Option<ClaimValue>,
    /// Roles that holders of a claim value get; they go again when the claim does.
    /// (Helpers are not among them: coordinators approve helpers in wecare.)
    pub roles: Vec<(Role, ClaimValue)>,
    /// Whether every address the provider gives is the institution's own and so verified,
    /// for providers that do not send `email_verified` (Microsoft Entra ID).
    pub trust_email: bool,
}

/// Why the provider's word was not enough. Each has a sentence for the person; what to
/// do about it (whom to contact) is added where it is presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The provider could not be reached, or answered something that is not OpenID.
    ProviderUnavailable,
    /// The person cancelled at the provider, or the provider declined to sign them in.
    Cancelled,
    /// The answer from the provider failed a check (signature, audience, nonce, issuer,
    /// a state this browser did not start): it may have been tampered with.
    Tampered,
    /// The sign-in was started too long ago, or its answer was used already.
    Expired,
    /// The person lacks the claim the programme requires.
    NotAllowed,
    /// No account, and the programme does not create them (or not at this domain).
    NoAccount,
    /// The provider gave no address, or one it has not verified, and one is needed.
    EmailUnverified,
    /// The account this identity belongs to has been switched off.
    AccountInactive,
    /// The verified address belongs to an account another identity of the same provider
    /// signs in to: taking it over would need an administrator.
    AlreadyLinked,
}

impl Refusal {
    pub fn sentence(self) -> &'static str {
        match self {
            Refusal::ProviderUnavailable => {
                "The institution's sign-in service did not answer as expected, so you are not signed in. Try again in a few minutes."
            }
            Refusal::Cancelled => {
                "The sign-in was cancelled at the institution's sign-in service, so you are not signed in."
            }
            Refusal::Tampered => {
                "The answer from the sign-in service did not pass wecare's checks, so you are not signed in. Start again from the sign-in page, in the same browser."
            }
            Refusal::Expired => {
                "That sign-in was started too long ago or has been used already. Start again from the sign-in page."
            }
            Refusal::NotAllowed => {
                "Your institutional account is not among those this programme lets in."
            }
            Refusal::NoAccount => {
                "There is no wecare account for you yet, and this programme creates accounts only for colleagues its coordinators add."
            }
            Refusal::EmailUnverified => {
                "The sign-in service did not confirm your e-mail address, which wecare needs to create or link your account."
            }
            Refusal::AccountInactive => "Your wecare account has been switched off.",
            Refusal::AlreadyLinked => {
                "Your e-mail address belongs to a wecare account that signs in as someone else at the institution, so it cannot be linked to you automatically."
            }
        }
    }
}

/// The roles the claims grant, in a stable order.
pub fn roles_from_claims(policy: &SignInPolicy, who: &ExternalIdentity) -> Vec<Role> {
    let mut roles: Vec<Role> = policy
        .roles
        .iter()
        .filter(|(_, claim)| who.has(claim))
        .map(|(role, _)| *role)
        .collect();
    roles.sort();
    roles.dedup();
    roles
}

/// Whether this person may sign in at all (before any account is looked at).
pub fn admit(policy: &SignInPolicy, who: &ExternalIdentity) -> Result<(), Refusal> {
    match &policy.required {
        Some(required) if !who.has(required) => Err(Refusal::NotAllowed),
        _ => Ok(()),
    }
}

/// The verified address an account may be created for or linked by, if any.
pub fn verified_email(policy: &SignInPolicy, who: &ExternalIdentity) -> Result<Email, Refusal> {
    match (&who.email, who.email_verified || policy.trust_email) {
        (Some(raw), true) => Email::parse(raw).map_err(|_| Refusal::EmailUnverified),
        _ => Err(Refusal::EmailUnverified),
    }
}

/// Whether the address is at one of the domains the settings allow (any, if none).
pub fn domain_allowed(policy: &SignInPolicy, email: &Email) -> bool {
    policy.allowed_domains.is_empty() || at_one_of(email, &policy.allowed_domains)
}

/// Whether the address is at exactly one of `domains` (lower-case, without `@`).
pub fn at_one_of(email: &Email, domains: &[String]) -> bool {
    let domain = email.as_str().rsplit('@').next().unwrap_or("");
    domains.iter().any(|d| d == domain)
}

/// Whether a first sign-in may create an account for this (verified) address.
pub fn may_create(policy: &SignInPolicy, email: &Email) -> Result<(), Refusal> {
    if policy.create_accounts && domain_allowed(policy, email) {
        Ok(())
    } else {
        Err(Refusal::NoAccount)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn who(groups: &[&str]) -> ExternalIdentity {
        ExternalIdentity {
            subject: "abc".into(),
            email: Some("Ada@Med.example.edu".into()),
            email_verified: true,
            name: Some("  Ada\r\nLovelace ".into()),
            claims: BTreeMap::from([(
                "groups".to_string(),
                groups.iter().map(|g| g.to_string()).collect(),
            )]),
        }
    }

    fn cv(claim: &str, value: &str) -> ClaimValue {
        ClaimValue {
            claim: claim.into(),
            value: value.into(),
        }
    }

    #[test]
    fn roles_follow_the_claims() {
        let policy = SignInPolicy {
            roles: vec![
                (Role::Coordinator, cv("groups", "wellbeing")),
                (Role::Admin, cv("groups", "it")),
                (Role::Coordinator, cv("roles", "coordinator")),
            ],
            ..Default::default()
        };
        assert_eq!(
            roles_from_claims(&policy, &who(&["wellbeing", "x"])),
            vec![Role::Coordinator]
        );
        assert_eq!(
            roles_from_claims(&policy, &who(&["it", "wellbeing"])),
            vec![Role::Coordinator, Role::Admin]
        );
        assert!(roles_from_claims(&policy, &who(&["WELLBEING"])).is_empty());
    }

    #[test]
    fn a_required_claim_keeps_others_out() {
        let policy = SignInPolicy {
            required: Some(cv("groups", "faculty")),
            ..Default::default()
        };
        assert_eq!(admit(&policy, &who(&["faculty"])), Ok(()));
        assert_eq!(admit(&policy, &who(&["staff"])), Err(Refusal::NotAllowed));
        assert_eq!(admit(&SignInPolicy::default(), &who(&[])), Ok(()));
    }

    #[test]
    fn accounts_are_made_only_for_verified_addresses_at_allowed_domains() {
        let mut person = who(&[]);
        let email = verified_email(&SignInPolicy::default(), &person).expect("verified");
        assert_eq!(email.as_str(), "ada@med.example.edu");
        let closed = SignInPolicy::default();
        assert_eq!(may_create(&closed, &email), Err(Refusal::NoAccount));
        let open = SignInPolicy {
            create_accounts: true,
            allowed_domains: vec!["med.example.edu".into()],
            ..Default::default()
        };
        assert_eq!(may_create(&open, &email), Ok(()));
        let elsewhere = Email::parse("ada@evil-med.example.edu").expect("email");
        assert_eq!(may_create(&open, &elsewhere), Err(Refusal::NoAccount));
        person.email_verified = false;
        assert_eq!(
            verified_email(&SignInPolicy::default(), &person),
            Err(Refusal::EmailUnverified)
        );
        let trusting = SignInPolicy {
            trust_email: true,
            ..Default::default()
        };
        assert!(verified_email(&trusting, &person).is_ok());
        person.email = None;
        person.email_verified = true;
        assert_eq!(
            verified_email(&SignInPolicy::default(), &person),
            Err(Refusal::EmailUnverified)
        );
    }

    #[test]
    fn names_from_outside_are_cleaned() {
        assert_eq!(who(&[]).display_name(), "Ada Lovelace");
        let mut person = who(&[]);
        person.name = Some("\u{0}\t".into());
        assert_eq!(person.display_name(), "Ada");
        person.name = Some("x".repeat(500));
        assert_eq!(person.display_name().chars().count(), 120);
    }
}
