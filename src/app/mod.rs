//! The application: the only way to act on the programme. Pages, the JSON API, the timed
//! jobs and the command line all come here, and every rule lives here once.
//!
//! Authority is in the types. [`App`] hands out role-scoped handles, and each action exists
//! only on the handle of the role allowed to take it: [`Public`] (anyone, signed in or not),
//! [`Member`] (a signed-in account), [`Helper`], [`Coordinator`] and [`Admin`]. A helper's
//! handle carries the helper's account, so `helper.case(id)` is always *their* case. The web
//! extractors build the handles, and a handler that lacks the right one cannot call the
//! action: the check is a compile error, not a review comment.
//!
//! The store inside [`App`] is private to this module. Jobs and the command line act for
//! the programme itself, with no person's authority; they reach it through
//! [`App::unscoped_store`], which clippy refuses everywhere else (`clippy.toml`).

pub mod accounts;
pub mod audit;
pub mod content;
pub mod events;
pub mod home;
pub mod import;
pub mod mail;
pub mod observe;
pub mod pledge;
pub mod sign_in;
pub mod sign_up;
pub mod support;

use std::sync::Arc;

use crate::domain::Invalid;
use crate::domain::accounts::{Account, Role};
use crate::store::{Store, StoreError};

/// Why an action was not taken. The person's mistakes (`Invalid`, `Conflict`, `Throttled`,
/// `Limited`) are told to them by the web layer; `Unexpected` is logged with its context
/// and answered with an apology.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("not found")]
    NotFound,
    /// The handle's role may not do this to this thing.
    #[error("forbidden")]
    Forbidden,
    /// The programme asks whoever does this to sign in first.
    #[error("sign-in required")]
    SignInRequired,
    #[error("{0}")]
    Invalid(#[from] Invalid),
    #[error("{0}")]
    Conflict(crate::domain::conflict::Conflict),
    #[error("too many attempts")]
    Throttled { minutes: i64 },
    /// A limit on how often something may be done, with the sentence that explains it.
    #[error("{0}")]
    Limited(String),
    /// Single sign-on did not sign the person in, and why.
    #[error("{}", .0.sentence())]
    SignInRefused(crate::domain::sign_in::Refusal),
    /// The database failed (its context travels in the store error). The span is the
    /// action's, where it failed: the web layer logs the failure inside it, so the log
    /// line says which action failed as well as which request.
    #[error("{0}")]
    Database(StoreError, tracing::Span),
    #[error("{0}")]
    Unexpected(anyhow::Error, tracing::Span),
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Error::NotFound,
            StoreError::Conflict(what) => Error::Conflict(what),
            other => Error::Database(other, tracing::Span::current()),
        }
    }
}

impl From<anyhow::Error> for Error {
    fn from(e: anyhow::Error) -> Self {
        Error::Unexpected(e, tracing::Span::current())
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// Settings the actions need, fixed at start-up.
#[derive(Debug, Clone)]
pub struct AppSettings {
    /// For links in messages and pages.
    pub public_url: url::Url,
    /// How long a browser session lasts after its last use.
    pub session_ttl_secs: i64,
    /// How long it lasts at most, however much it is used.
    pub session_max_secs: i64,
    /// Days after a request closes before who asked is erased (the form says so).
    pub retention_days: u32,
    /// A bearer token that may read `/metrics` (an administrator's API token may too).
    pub metrics_token: Option<String>,
    /// Guest registrations one client address may make in an hour.
    pub guest_registrations_per_address: u32,
    /// The institution's identity provider, if the programme signs in through it.
    pub oidc: Option<Arc<crate::oidc::Provider>>,
    /// The SAML proxy in front whose headers say who signs in, if the programme uses one.
    pub trusted_header: Option<Arc<crate::config::TrustedHeaderConfig>>,
    /// Whether colleagues may make their own account, and at which addresses.
    pub sign_up: Option<crate::config::SignUpConfig>,
}

/// The programme: its store and settings. Cheap to clone.
#[derive(Clone)]
pub struct App {
    store: Store,
    settings: Arc<AppSettings>,
}

impl App {
    pub fn new(store: Store, settings: AppSettings) -> Self {
        Self {
            store,
            settings: Arc::new(settings),
        }
    }

    pub fn public_url(&self) -> &url::Url {
        &self.settings.public_url
    }

    /// Now, by the programme's clock (the store's): what pages and jobs compare against.
    pub fn now(&self) -> i64 {
        self.store.now()
    }

    /// How long a session cookie is kept: to the session's absolute end (the server
    /// ends it sooner when it goes unused).
    pub fn session_cookie_secs(&self) -> i64 {
        self.settings.session_max_secs
    }

    pub(crate) fn session_terms(&self) -> crate::store::SessionTerms {
        crate::store::SessionTerms {
            idle_secs: self.settings.session_ttl_secs,
            max_secs: self.settings.session_max_secs,
        }
    }

    /// Anyone, signed in or not.
    pub fn public(&self) -> Public {
        Public { app: self.clone() }
    }

    /// The account a browser session belongs to, if it is live.
    #[tracing::instrument(skip_all, level = "debug")]
    pub async fn by_session(&self, secret: &str) -> Result<Option<Member>> {
        Ok(self
            .store
            .session_account(secret, self.session_terms())
            .await?
            .map(|account| self.member(account)))
    }

    /// The account an API token belongs to, if it is live.
    #[tracing::instrument(skip_all, level = "debug")]
    pub async fn by_api_token(&self, token: &str) -> Result<Option<Member>> {
        Ok(self
            .store
            .api_token_account(token)
            .await?
            .map(|account| self.member(account)))
    }

    fn member(&self, account: Account) -> Member {
        Member {
            app: self.clone(),
            account,
        }
    }

    /// The store with no person's authority: for timed jobs, the command line and start-up
    /// only. Anything a person asks for goes through a handle instead.
    pub fn unscoped_store(&self) -> &Store {
        &self.store
    }
}

/// Anyone, signed in or not: public pages, requests for support, guest registration.
#[derive(Clone)]
pub struct Public {
    app: App,
}

/// A signed-in account.
#[derive(Clone)]
pub struct Member {
    app: App,
    account: Account,
}

impl Member {
    pub fn account(&self) -> &Account {
        &self.account
    }

    pub fn into_account(self) -> Account {
        self.account
    }

    /// What anyone may do, for a signed-in person too.
    pub fn public(&self) -> Public {
        self.app.public()
    }

    pub fn as_helper(&self) -> Option<Helper> {
        self.account.has(Role::Helper).then(|| Helper(self.clone()))
    }

    pub fn as_coordinator(&self) -> Option<Coordinator> {
        self.account
            .has(Role::Coordinator)
            .then(|| Coordinator(self.clone()))
    }

    pub fn as_admin(&self) -> Option<Admin> {
        self.account.has(Role::Admin).then(|| Admin(self.clone()))
    }
}

/// A handle reads as its account (`helper.id`, `coordinator.display_name`).
impl std::ops::Deref for Member {
    type Target = Account;

    fn deref(&self) -> &Account {
        &self.account
    }
}

macro_rules! role_handle {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name(Member);

        impl std::ops::Deref for $name {
            type Target = Account;

            fn deref(&self) -> &Account {
                &self.0.account
            }
        }

        impl $name {
            pub fn account(&self) -> &Account {
                &self.0.account
            }

            /// What every signed-in person may do, for this one too.
            pub fn member(&self) -> &Member {
                &self.0
            }

            /// What anyone may do (reading public pages), for this one too.
            pub fn public(&self) -> Public {
                self.0.app.public()
            }

            fn app(&self) -> &App {
                &self.0.app
            }

            fn store(&self) -> &Store {
                &self.0.app.store
            }

            /// Now, by the programme's clock.
            pub fn now(&self) -> i64 {
                self.0.app.now()
            }

            /// Today's date, by the programme's clock.
            pub fn today(&self) -> jiff::civil::Date {
                self.0.today()
            }
        }
    };
}

role_handle!(
    /// A signed-in helper: their offers, their cases, their profile.
    Helper
);
role_handle!(
    /// A signed-in coordinator: the queue, the helpers, events, content and settings.
    Coordinator
);
role_handle!(
    /// A signed-in administrator: accounts, roles, the audit log and the outbox.
    Admin
);

impl Public {
    fn store(&self) -> &Store {
        &self.app.store
    }

    fn app(&self) -> &App {
        &self.app
    }

    /// Now, by the programme's clock.
    pub fn now(&self) -> i64 {
        self.app.now()
    }

    /// Today's date, by the programme's clock.
    pub fn today(&self) -> jiff::civil::Date {
        self.app.store.clock().today()
    }
}

impl Member {
    fn store(&self) -> &Store {
        &self.app.store
    }

    fn app(&self) -> &App {
        &self.app
    }

    /// Now, by the programme's clock.
    pub fn now(&self) -> i64 {
        self.app.now()
    }

    /// Today's date, by the programme's clock.
    pub fn today(&self) -> jiff::civil::Date {
        self.app.store.clock().today()
    }
}
