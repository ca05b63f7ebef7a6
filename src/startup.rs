//! Building the application from a validated configuration: open and migrate the store,
//! seed content, bind the listener. Every failure here is a `ConfigError` sentence.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;

use crate::config::{ConfigError, DatabaseUrl, MailConfig, ServeConfig};
use crate::delivery::Transport;
use crate::domain::accounts::{Email, Role};
use crate::domain::support::{ContactMode, NewRequest, RequestInput, Topic, Urgency};
use crate::jobs::JobSettings;
use crate::store::{NewAccount, Store, StoreError};
use crate::web::{AppState, Metrics, WebSettings};

/// Opens the database named by the URL, with a sentence for each way that can fail.
pub async fn open_store(db: &DatabaseUrl) -> Result<Store, ConfigError> {
    db.check_sqlite_path()?;
    if let DatabaseUrl::Sqlite { path, .. } = db
        && let Ok(Some(mode)) = crate::private_files::loose_mode(path)
    {
        tracing::warn!(
            "the SQLite database {} can be read by other users (mode {mode:o}); run `chmod 600 {}` (and the same for its -wal and -shm files)",
            path.display(),
            path.display()
        );
    }
    let shown = db.display();
    Store::connect(db).await.map_err(|e| {
        let hint = "check --database-url / WECARE_DATABASE_URL";
        ConfigError(match (&e, db) {
            (sqlx::Error::Io(io), DatabaseUrl::Postgres { .. }) => format!(
                "cannot reach PostgreSQL at {shown} ({io}); make sure the server is running and reachable, and {hint}"
            ),
            (sqlx::Error::PoolTimedOut, _) => format!(
                "the database at {shown} did not answer within 10 seconds; make sure it is running and reachable, and {hint}"
            ),
            (sqlx::Error::Database(d), DatabaseUrl::Postgres { .. }) => format!(
                "PostgreSQL at {shown} refused the connection ({}); check the user, password and database name: {hint}",
                d.message()
            ),
            _ => format!("cannot open the database at {shown} ({e}); {hint}"),
        })
    })
}

/// Opens and migrates the database, and puts in the default content where it is missing.
pub async fn prepare_store(db: &DatabaseUrl) -> Result<Store, ConfigError> {
    let store = open_store(db).await?;
    store.migrate().await.map_err(|e| {
        ConfigError(format!(
            "applying database migrations to {} failed ({e}); the database may belong to another program or to a newer wecare",
            db.display()
        ))
    })?;
    store
        .seed_defaults()
        .await
        .map_err(|e| ConfigError(format!("writing the default content failed ({e})")))?;
    store.seed_resources().await.map_err(|e| {
        ConfigError(format!(
            "writing the default resource directory failed ({e})"
        ))
    })?;
    Ok(store)
}

pub const DEMO_PASSWORD: &str = "wecare-demo-only";

/// Demo accounts, one per role, so a newcomer can try every part, and a few support
/// requests from made-up people for the queue. Created only if absent.
pub async fn seed_demo(store: &Store) -> anyhow::Result<()> {
    seed_demo_accounts(store).await?;
    seed_demo_helpers(store).await?;
    crate::demo_events::seed(store).await?;
    if store.support_queue().await?.is_empty() {
        for (topics, urgency, mode, name, email) in DEMO_REQUESTS {
            let mut input = RequestInput::new(topics.to_vec(), urgency, mode, name, email);
            input.phone = "+1 555 0100".into();
            input.contact_times = "Weekday afternoons".into();
            let (r, _) = store
                .create_support_request(&NewRequest::parse(&input)?, None, &[])
                .await?;
            // The request after an adverse event is with the demo helper, who raised a
            // safety concern: the queue shows it first, flagged, and the helper's case page
            // what happens next.
            if topics.contains(&Topic::GriefOrAdverseEvent) {
                let helper = store
                    .account_by_email(&Email::parse("helper@example.edu")?)
                    .await?
                    .id;
                let offer = store
                    .offer_request(r.id, helper, None, store.now() + 3600, None)
                    .await?;
                store.answer_offer(offer.id, helper, true, None).await?;
                store.escalate_case(r.id, helper, &[]).await?;
            }
        }
    }
    Ok(())
}

/// Made-up people (`example.org` addresses reach no one).
const DEMO_REQUESTS: [(&[Topic], Urgency, ContactMode, &str, &str); 3] = [
    (
        &[Topic::Burnout, Topic::WorkLifeBalance],
        Urgency::Routine,
        ContactMode::Email,
        "Dr. Imani Castellanos",
        "imani.c@example.org",
    ),
    (
        &[Topic::GriefOrAdverseEvent],
        Urgency::Soon,
        ContactMode::Phone,
        "Dr. Tobias Ferreira-Lund",
        "t.ferreira@example.org",
    ),
    (
        &[Topic::CareerAdvancement],
        Urgency::Routine,
        ContactMode::Video,
        "Dr. Hana Okonkwo",
        "hana.okonkwo@example.org",
    ),
];

/// Profiles and current training for the demo helpers, so matching has someone to offer.
async fn seed_demo_helpers(store: &Store) -> anyhow::Result<()> {
    use crate::domain::helpers::{HelperProfile, TrainingKind};
    use crate::domain::support::Appointment;
    let year = 365 * 24 * 3600;
    let now = store.now();
    let helpers = [
        (
            "helper@example.edu",
            "Internal Medicine",
            Appointment::Clinical,
            "Associate Professor",
            vec![
                Topic::Burnout,
                Topic::WorkLifeBalance,
                Topic::GriefOrAdverseEvent,
            ],
            vec!["English", "Swedish"],
            "Hospitalist for fifteen years; I know how heavy a run of night shifts can feel.",
        ),
        (
            "mei.tanaka@example.edu",
            "Surgery",
            Appointment::Clinical,
            "Professor",
            vec![Topic::GriefOrAdverseEvent, Topic::WorkplaceConflict],
            vec!["English", "Japanese"],
            "Surgeon. After a bad outcome, talking to someone who has been there helps.",
        ),
        (
            "kwame.mensah@example.edu",
            "Medical Education",
            Appointment::NonClinical,
            "Assistant Professor",
            vec![Topic::CareerAdvancement, Topic::Burnout, Topic::Other],
            vec!["English", "French", "Twi"],
            "I teach and mentor early-career faculty, and I am happy to just listen.",
        ),
    ];
    for (email, department, appointment, rank, topics, languages, bio) in helpers {
        let account = store.account_by_email(&Email::parse(email)?).await?;
        if store.list_training(account.id).await?.is_empty() {
            store
                .save_helper_profile(
                    account.id,
                    &HelperProfile {
                        department: department.into(),
                        appointment: Some(appointment),
                        rank: rank.into(),
                        languages: languages.into_iter().map(String::from).collect(),
                        topics,
                        capacity: 3,
                        bio: bio.into(),
                        bio_public: true,
                        ..Default::default()
                    },
                )
                .await?;
            store
                .add_training(
                    account.id,
                    TrainingKind::Initial,
                    now - year / 4,
                    now + 2 * year - year / 4,
                    account.id,
                )
                .await?;
        }
    }
    Ok(())
}

async fn seed_demo_accounts(store: &Store) -> anyhow::Result<()> {
    let people: [(&str, &str, &[Role]); 6] = [
        (
            "admin@example.edu",
            "Avery Admin",
            &[Role::Admin, Role::Coordinator],
        ),
        (
            "coordinator@example.edu",
            "Dr. Amara Okafor",
            &[Role::Coordinator],
        ),
        ("helper@example.edu", "Dr. Sam Lindqvist", &[Role::Helper]),
        ("mei.tanaka@example.edu", "Dr. Mei Tanaka", &[Role::Helper]),
        (
            "kwame.mensah@example.edu",
            "Dr. Kwame Mensah",
            &[Role::Helper],
        ),
        ("member@example.edu", "Dr. Priya Natarajan", &[]),
    ];
    let hash = crate::crypto::hash_password(DEMO_PASSWORD)?;
    for (email, name, roles) in people {
        let email = Email::parse(email)?;
        match store
            .create_account(NewAccount {
                email: &email,
                display_name: name,
                roles,
                password_hash: Some(hash.clone()),
            })
            .await
        {
            Ok(_) | Err(StoreError::Conflict(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

pub struct Application {
    listener: TcpListener,
    /// Held (shared) while the server runs on a SQLite file: `wecare restore` refuses to
    /// replace a database a server has open.
    _db_lock: Option<std::fs::File>,
    state: AppState,
    transport: Transport,
    mail: MailConfig,
    jobs: JobSettings,
}

impl Application {
    pub async fn build(cfg: &ServeConfig) -> Result<Self, ConfigError> {
        cfg.mail.check_dir()?;
        let transport = Transport::from_config(&cfg.mail)?;
        // The folder and file first, so that a wrong path is named as such.
        cfg.database.check_sqlite_path()?;
        let db_lock = match &cfg.database {
            DatabaseUrl::Sqlite { path, .. } if path.as_os_str() != ":memory:" => {
                let f = crate::private_files::lock_file(path).map_err(|e| {
                    ConfigError(format!(
                        "cannot create the lock file beside {} ({e}); the database's folder must be writable",
                        path.display()
                    ))
                })?;
                match f.try_lock_shared() {
                    Ok(()) => Some(f),
                    Err(std::fs::TryLockError::WouldBlock) => {
                        return Err(ConfigError(format!(
                            "{} is being restored from a backup; start the server when `wecare restore` has finished",
                            path.display()
                        )));
                    }
                    Err(std::fs::TryLockError::Error(e)) => {
                        return Err(ConfigError(format!(
                            "cannot lock {} ({e}); the database's folder must be on a local file system",
                            path.display()
                        )));
                    }
                }
            }
            _ => None,
        };
        let store = prepare_store(&cfg.database).await?;
        match store.check_data_key(&cfg.data_key).await {
            Ok(Ok(())) => {}
            Ok(Err(why)) => {
                return Err(ConfigError(format!(
                    "the data key (id {}) is not the one this database's identities were encrypted with ({why}); start with the original key file, or restore it from your backup",
                    cfg.data_key.id()
                )));
            }
            Err(e) => {
                return Err(ConfigError(format!(
                    "checking the data key against the database failed ({e})"
                )));
            }
        }
        let store = store.with_data_key(cfg.data_key.clone());
        // Registrations for private events made before they were sealed in full.
        match store.seal_private_registrations().await {
            Ok(0) => {}
            Ok(n) => {
                tracing::info!("sealed the account and answers of {n} private-event registrations")
            }
            Err(e) => {
                return Err(ConfigError(format!(
                    "sealing earlier private-event registrations failed ({e})"
                )));
            }
        }
        if cfg.mail.smtp.is_none() && !cfg.demo {
            tracing::warn!(
                "no mail server is configured: every message, with addresses and one-time links, is written to the folder {} instead of being sent; set --smtp-url and --mail-from to send mail",
                cfg.mail.dir.display()
            );
        }
        if cfg.demo {
            seed_demo(&store)
                .await
                .map_err(|e| ConfigError(format!("creating the demo accounts failed ({e:#})")))?;
            tracing::info!(
                "demo mode: sign in as admin@example.edu, coordinator@example.edu, helper@example.edu or member@example.edu with the password '{DEMO_PASSWORD}'"
            );
        } else if store.count_active_admins().await.unwrap_or(0) == 0 {
            tracing::warn!(
                "no administrator exists yet: create one with `wecare admin create --email you@example.edu --role admin` and open the link it prints"
            );
        }
        let listener = TcpListener::bind(cfg.bind).await.map_err(|e| {
            ConfigError(match e.kind() {
                std::io::ErrorKind::AddrInUse => format!(
                    "cannot listen on {}: the address is already in use; stop the other program or choose another with --bind / WECARE_BIND",
                    cfg.bind
                ),
                std::io::ErrorKind::PermissionDenied => format!(
                    "cannot listen on {}: permission denied (ports below 1024 need privileges); choose a port above 1024 with --bind / WECARE_BIND",
                    cfg.bind
                ),
                std::io::ErrorKind::AddrNotAvailable => format!(
                    "cannot listen on {}: this machine has no such address; use 127.0.0.1, 0.0.0.0 or one of its own addresses in --bind / WECARE_BIND",
                    cfg.bind
                ),
                _ => format!("cannot listen on {} ({e}); choose another --bind / WECARE_BIND", cfg.bind),
            })
        })?;
        if let Some(h) = &cfg.trusted_header {
            tracing::info!(
                headers = %h.headers_to_clear().join(", "),
                "sign-in through the proxy's headers is on; the proxy must remove these headers from every request before adding its own"
            );
        }
        let provider_origin = cfg.oidc.as_ref().and_then(|o| {
            url::Url::parse(&o.issuer)
                .ok()
                .map(|u| u.origin().ascii_serialization())
        });
        let state = AppState {
            app: crate::app::App::new(
                store,
                crate::app::AppSettings {
                    public_url: cfg.public_url.clone(),
                    session_ttl_secs: i64::from(cfg.session_hours) * 3600,
                    session_max_secs: i64::from(cfg.session_max_days) * 86_400,
                    retention_days: cfg.retention_days,
                    metrics_token: cfg.metrics_token.as_ref().map(|t| t.0.clone()),
                    guest_registrations_per_address: cfg.guest_registrations_per_address,
                    oidc: match &cfg.oidc {
                        Some(o) => Some(Arc::new(
                            crate::oidc::Provider::new(o.clone(), &cfg.public_url).map_err(
                                |e| {
                                    ConfigError(format!(
                                        "single sign-on cannot be set up ({e:#}); check the [oidc] table and the public URL"
                                    ))
                                },
                            )?,
                        )),
                        None => None,
                    },
                    trusted_header: cfg.trusted_header.clone().map(Arc::new),
                    sign_up: cfg.sign_up.clone(),
                },
            ),
            web: Arc::new(WebSettings {
                cookies_secure: cfg.cookies_secure(),
                proxy_trust: crate::web::http::auth::ProxyTrust {
                    enabled: cfg.trust_proxy,
                    proxies: cfg.trusted_proxies.clone(),
                },
                mail_route: match &cfg.mail.smtp {
                    Some(s) => format!("sent through {}", s.display),
                    None => format!(
                        "written as .eml files to the folder {} (no mail server is configured)",
                        cfg.mail.dir.display()
                    ),
                },
                csp: crate::web::http::observe::content_security_policy(
                    provider_origin.as_deref(),
                )
                .map_err(|e| {
                    ConfigError(format!(
                        "the [oidc] issuer cannot be written in a Content-Security-Policy ({e}); check its spelling"
                    ))
                })?,
            }),
            metrics: Arc::new(Metrics::default()),
        };
        Ok(Self {
            listener,
            _db_lock: db_lock,
            state,
            transport,
            mail: cfg.mail.clone(),
            jobs: JobSettings {
                retention_days: cfg.retention_days,
                minors_retention_days: cfg.minors_retention_days,
                public_url: cfg.public_url.clone(),
                mail_folder: cfg.mail.smtp.is_none().then(|| cfg.mail.dir.clone()),
            },
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Where messages go, in words.
    pub fn mail_route(&self) -> &str {
        &self.state.web.mail_route
    }

    /// The store itself, for the command line and the tests' checks on what was saved.
    #[allow(clippy::disallowed_methods)]
    pub fn store(&self) -> &Store {
        self.state.app.unscoped_store()
    }

    /// Serves until `shutdown` completes, then finishes in-flight requests.
    pub async fn run(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        // The mail worker and the timed jobs act for the programme itself.
        #[allow(clippy::disallowed_methods)]
        let store = self.state.app.unscoped_store().clone();
        let background = Background::start(store.clone(), &self.mail, self.transport, self.jobs);
        let app = crate::web::router(self.state);
        let result = axum::serve(
            self.listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await;
        background.stop().await;
        store.close().await;
        result
    }
}

/// The background tasks of one instance, stopped together: the delivery worker and the
/// timed jobs.
struct Background {
    stop: tokio::sync::watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Background {
    fn start(store: Store, mail: &MailConfig, transport: Transport, jobs: JobSettings) -> Self {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let instance = format!("{}-{}", std::process::id(), crate::crypto::random_hex(4));
        let tasks = vec![
            crate::delivery::start_worker(
                store.clone(),
                mail,
                transport,
                &instance,
                stopped.clone(),
            ),
            tokio::spawn(crate::jobs::run(
                store,
                jobs,
                format!("jobs-{instance}"),
                stopped,
            )),
        ];
        Self { stop, tasks }
    }

    /// Asks the tasks to stop after what they are doing, and waits a little for them.
    async fn stop(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(15), t).await;
        }
    }
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}
