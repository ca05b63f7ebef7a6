//! The `wecare` command line: `serve`, `migrate`, and `admin` subcommands.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::config::{
    self, ConfigError, DatabaseUrl, FileConfig, LogFormat, MailConfig, ServeConfig, parse_bind,
    parse_public_url, validate_session_hours, validate_session_max_days,
};
use crate::domain::accounts::{self, Email, NewPassword, Role};
use crate::startup::{self, Application};
use crate::store::NewAccount;

#[derive(Parser, Debug)]
#[command(
    name = "wecare",
    version,
    about = "Run a faculty well-being programme: peer support, pledge, events."
)]
pub struct Cli {
    /// A TOML file with settings; flags and WECARE_* variables override it.
    #[arg(long, env = "WECARE_CONFIG", global = true)]
    config: Option<PathBuf>,
    /// sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DATABASE [default: sqlite://wecare.db]
    #[arg(
        long,
        env = "WECARE_DATABASE_URL",
        global = true,
        hide_env_values = true
    )]
    database_url: Option<String>,
    /// Log as human-readable text or as JSON lines [default: text]
    #[arg(long, env = "WECARE_LOG_FORMAT", global = true)]
    log_format: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the web server.
    Serve(ServeArgs),
    /// Apply database migrations and exit.
    Migrate,
    /// Manage accounts from the server's shell.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Data keys: the key that encrypts identities at rest.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// The audit log of views of identifying data.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Copy a SQLite database to a new file while the server runs (a consistent
    /// snapshot). The data key is not in it. PostgreSQL: use pg_dump (see the README).
    Backup {
        /// The new file to write (never overwritten).
        #[arg(long)]
        to: PathBuf,
    },
    /// Bring a backup back as the database --database-url names, with the server
    /// stopped. The database it replaces is kept beside it.
    Restore {
        /// A file `wecare backup` wrote.
        #[arg(long)]
        from: PathBuf,
        /// The data key the backup's identities were sealed with.
        #[arg(long, env = "WECARE_DATA_KEY_FILE")]
        data_key_file: Option<PathBuf>,
    },
    /// Import from a spreadsheet saved as CSV.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Erase the identities of support requests closed longer ago than the retention
    /// period now (the server also does this every hour).
    Purge {
        /// [default: 90, or WECARE_RETENTION_DAYS]
        #[arg(long, env = "WECARE_RETENTION_DAYS")]
        retention_days: Option<u32>,
    },
}

#[derive(Subcommand, Debug)]
enum ImportCommand {
    /// Accounts with roles, and helper profiles, one row per person. The first line names
    /// the columns: email (required), name, roles, department, appointment, rank,
    /// languages, topics, capacity. Every line is checked first; if any is refused,
    /// nothing is imported. New accounts are e-mailed a set-up link.
    Accounts {
        /// The CSV file (UTF-8; "CSV UTF-8" in a spreadsheet's Save As).
        file: PathBuf,
        /// Say what each line would do, and change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Send no set-up links: the new accounts sign in through the institution.
        #[arg(long)]
        no_setup_links: bool,
    },
}

#[derive(Subcommand, Debug)]
enum AuditCommand {
    /// Check the hash chain: any edited or deleted entry is found and named. With --head,
    /// also that a head recorded earlier (the server logs one every day; administrators can
    /// copy it from Administration → Audit log) is still there: entries cut off the end, or
    /// a rewritten chain, are found too.
    Verify {
        /// An earlier head, SEQ:HASH (repeat for several).
        #[arg(long = "head", value_name = "SEQ:HASH")]
        heads: Vec<String>,
    },
}

#[derive(Subcommand, Debug)]
enum KeysCommand {
    /// Print a new random data key (64 hexadecimal characters) for a key file.
    Generate,
    /// Re-encrypt every identity with a new key, in one transaction. The current key comes
    /// from --current-key-file, WECARE_DATA_KEY_FILE or WECARE_DATA_KEY.
    Rotate {
        #[arg(long, env = "WECARE_DATA_KEY_FILE")]
        current_key_file: Option<PathBuf>,
        /// The new key's file (made with `wecare keys generate`).
        #[arg(long)]
        new_key_file: PathBuf,
    },
}

#[derive(Args, Debug)]
struct ServeArgs {
    /// Address and port to listen on [default: 127.0.0.1:8080]
    #[arg(long, env = "WECARE_BIND")]
    bind: Option<String>,
    /// The address people use to reach wecare, for links; https here makes cookies Secure
    /// [default: http://BIND]
    #[arg(long, env = "WECARE_PUBLIC_URL")]
    public_url: Option<String>,
    /// Take the client address from X-Forwarded-For (only behind a reverse proxy you run).
    #[arg(long, env = "WECARE_TRUST_PROXY")]
    trust_proxy: Option<bool>,
    /// With --trust-proxy: your proxies' addresses or ranges, comma-separated. The client
    /// is the rightmost X-Forwarded-For entry that is not one of them, and the header is
    /// believed only from them [default: the peer is the one proxy]
    #[arg(long, env = "WECARE_TRUSTED_PROXIES")]
    trusted_proxies: Option<String>,
    /// A bearer token Prometheus sends to read /metrics (an administrator's API token works
    /// too); prefer the environment variable to the flag, which others can see in `ps`
    #[arg(long, env = "WECARE_METRICS_TOKEN", hide_env_values = true)]
    metrics_token: Option<String>,
    /// How long a browser session lasts after its last use, in hours [default: 12]
    #[arg(long, env = "WECARE_SESSION_HOURS")]
    session_hours: Option<u32>,
    /// The longest a browser session lasts however much it is used, in days [default: 7]
    #[arg(long, env = "WECARE_SESSION_MAX_DAYS")]
    session_max_days: Option<u32>,
    /// Add demo accounts (one per role, password printed at start) to explore the programme.
    #[arg(long)]
    demo: bool,
    /// The mail server: smtps://USER:PASSWORD@HOST:465, smtp://USER:PASSWORD@HOST:587
    /// (STARTTLS) or smtp://localhost:25?tls=none. Without it, messages are written as
    /// .eml files to --mail-dir.
    #[arg(long, env = "WECARE_SMTP_URL", hide_env_values = true)]
    smtp_url: Option<String>,
    /// The address messages come from (required with --smtp-url).
    #[arg(long, env = "WECARE_MAIL_FROM")]
    mail_from: Option<String>,
    /// Where messages are written when no mail server is configured [default: mail-outbox]
    #[arg(long, env = "WECARE_MAIL_DIR")]
    mail_dir: Option<PathBuf>,
    /// How long to wait for the mail server before trying later [default: 30]
    #[arg(long, env = "WECARE_SMTP_TIMEOUT_SECS")]
    smtp_timeout_secs: Option<u64>,
    /// The first wait after a temporary delivery failure, doubled each time [default: 60]
    #[arg(long, env = "WECARE_MAIL_RETRY_SECS")]
    mail_retry_secs: Option<u64>,
    /// The file holding the data key that encrypts identities (see `wecare keys generate`).
    /// WECARE_DATA_KEY may hold the key itself instead.
    #[arg(long, env = "WECARE_DATA_KEY_FILE")]
    data_key_file: Option<PathBuf>,
    /// Days after a support request closes before who asked is erased [default: 90]
    #[arg(long, env = "WECARE_RETENTION_DAYS")]
    retention_days: Option<u32>,
    /// Days after an event with school students ends before the children's details are
    /// erased [default: 30]
    #[arg(long, env = "WECARE_MINORS_RETENTION_DAYS")]
    minors_retention_days: Option<u32>,
    /// Guest registrations (without an account) one client address may make in an hour
    /// [default: 30]
    #[arg(long, env = "WECARE_GUEST_REGISTRATIONS_PER_ADDRESS")]
    guest_registrations_per_address: Option<u32>,
}

#[derive(Subcommand, Debug)]
enum AdminCommand {
    /// Create an account. Prints a one-time set-up link, or with --password-stdin reads
    /// the password from standard input.
    Create {
        #[arg(long)]
        email: String,
        /// The person's name as shown to others [default: the part of the e-mail before @]
        #[arg(long)]
        name: Option<String>,
        /// member, helper, coordinator or admin; repeat for several.
        #[arg(long = "role")]
        roles: Vec<String>,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Create a personal API token for an account and print it once.
    Token {
        #[arg(long)]
        email: String,
        /// What the token is for, to recognise it later.
        #[arg(long, default_value = "command line")]
        name: String,
        /// Days until the token stops working [default: it works until revoked]
        #[arg(long)]
        expires_days: Option<u32>,
    },
    /// Revoke every API token of an account.
    RevokeTokens {
        #[arg(long)]
        email: String,
    },
}

/// Settings shared by all commands, after merging flags, environment and file.
struct Common {
    database: DatabaseUrl,
    log_format: LogFormat,
    file: FileConfig,
}

fn common(cli: &Cli) -> Result<Common, ConfigError> {
    config::check_environment()?;
    let file = match &cli.config {
        Some(p) => FileConfig::load(p)?,
        None => FileConfig::default(),
    };
    let db_raw = cli
        .database_url
        .clone()
        .or_else(|| file.database_url.clone())
        .unwrap_or_else(|| config::DEFAULT_DATABASE_URL.to_string());
    let database = DatabaseUrl::parse(&db_raw)?;
    let log_format = LogFormat::parse(
        cli.log_format
            .as_deref()
            .or(file.log_format.as_deref())
            .unwrap_or("text"),
    )?;
    Ok(Common {
        database,
        log_format,
        file,
    })
}

fn serve_config(c: &Common, args: &ServeArgs) -> Result<ServeConfig, ConfigError> {
    let bind = parse_bind(
        args.bind
            .as_deref()
            .or(c.file.bind.as_deref())
            .unwrap_or(config::DEFAULT_BIND),
    )?;
    let public_url = match args.public_url.as_deref().or(c.file.public_url.as_deref()) {
        Some(u) => parse_public_url(u)?,
        None => parse_public_url(&format!("http://{bind}"))?,
    };
    let session_hours = validate_session_hours(
        args.session_hours
            .or(c.file.session_hours)
            .unwrap_or(config::DEFAULT_SESSION_HOURS),
    )?;
    let mut cfg = ServeConfig {
        bind,
        database: c.database.clone(),
        public_url,
        log_format: c.log_format,
        trust_proxy: args.trust_proxy.or(c.file.trust_proxy).unwrap_or(false),
        trusted_proxies: match args
            .trusted_proxies
            .as_deref()
            .or(c.file.trusted_proxies.as_deref())
        {
            Some(raw) => config::parse_trusted_proxies(raw)?,
            None => Vec::new(),
        },
        metrics_token: args
            .metrics_token
            .as_deref()
            .or(c.file.metrics_token.as_deref())
            .map(config::parse_metrics_token)
            .transpose()?,
        session_hours,
        session_max_days: validate_session_max_days(
            args.session_max_days
                .or(c.file.session_max_days)
                .unwrap_or(config::DEFAULT_SESSION_MAX_DAYS),
            session_hours,
        )?,
        demo: args.demo,
        mail: mail_config(c, args)?,
        data_key: config::load_data_key(
            std::env::var("WECARE_DATA_KEY").ok().as_deref(),
            args.data_key_file
                .as_deref()
                .or(c.file.data_key_file.as_deref()),
            args.demo,
        )?,
        retention_days: config::validate_retention_days(
            args.retention_days
                .or(c.file.retention_days)
                .unwrap_or(config::DEFAULT_RETENTION_DAYS),
        )?,
        minors_retention_days: config::validate_minors_retention_days(
            args.minors_retention_days
                .or(c.file.minors_retention_days)
                .unwrap_or(config::DEFAULT_MINORS_RETENTION_DAYS),
        )?,
        guest_registrations_per_address: config::validate_guest_registrations(
            args.guest_registrations_per_address
                .or(c.file.guest_registrations_per_address)
                .unwrap_or(config::DEFAULT_GUEST_REGISTRATIONS_PER_ADDRESS),
        )?,
        oidc: c
            .file
            .oidc
            .as_ref()
            .map(|f| {
                config::parse_oidc(
                    f,
                    std::env::var("WECARE_OIDC_CLIENT_SECRET").ok().as_deref(),
                )
            })
            .transpose()?,
        trusted_header: match (&c.file.oidc, &c.file.trusted_header) {
            (Some(_), Some(_)) => {
                return Err(ConfigError(
                    "the configuration has both [oidc] and [trusted_header]; a programme signs in through one of them, so remove the other table".into(),
                ));
            }
            (_, Some(f)) => Some(config::parse_trusted_header(
                f,
                std::env::var("WECARE_TRUSTED_HEADER_SECRET")
                    .ok()
                    .as_deref(),
            )?),
            _ => None,
        },
        sign_up: None,
    };
    let password_sign_in = match (&cfg.oidc, &cfg.trusted_header) {
        (Some(o), _) => o.password_sign_in,
        (None, Some(h)) => h.password_sign_in,
        (None, None) => true,
    };
    // The demo lets a newcomer try sign-up too (its messages land in the mail folder),
    // unless it signs in through a provider only.
    let demo_sign_up = config::SignUpFile {
        allowed_email_domains: Some(vec!["example.edu".into()]),
    };
    let sign_up = match (&c.file.sign_up, args.demo && password_sign_in) {
        (Some(f), _) => Some(f),
        (None, true) => Some(&demo_sign_up),
        (None, false) => None,
    };
    let required = match (&cfg.oidc, &cfg.trusted_header) {
        (Some(o), _) => o.policy.required.is_some(),
        (None, Some(h)) => h.policy.required.is_some(),
        (None, None) => false,
    };
    if let Some(f) = sign_up.filter(|_| !(required && c.file.sign_up.is_none())) {
        if required {
            return Err(ConfigError(
                "[sign_up] would let in anyone with an address at its domains, but the institution's sign-in admits only holders of required_claim; remove [sign_up], or required_claim".into(),
            ));
        }
        cfg.sign_up = Some(config::parse_sign_up(f, password_sign_in)?);
    }
    Ok(cfg)
}

fn mail_config(c: &Common, args: &ServeArgs) -> Result<MailConfig, ConfigError> {
    let smtp = match args.smtp_url.as_deref().or(c.file.smtp_url.as_deref()) {
        Some(u) if !u.trim().is_empty() => Some(config::parse_smtp_url(u)?),
        _ => None,
    };
    // Demo content has made-up addresses at real-looking domains: never send it anywhere.
    let smtp = if args.demo {
        if smtp.is_some() {
            eprintln!("note: --demo writes messages to the mail folder; --smtp-url is ignored");
        }
        None
    } else {
        smtp
    };
    let from_address = match args.mail_from.as_deref().or(c.file.mail_from.as_deref()) {
        Some(f) => config::parse_mail_from(f)?,
        None if smtp.is_some() => {
            return Err(ConfigError(
                "--smtp-url is set but not --mail-from / WECARE_MAIL_FROM; give the address messages come from, such as wellbeing@example.edu".into(),
            ));
        }
        None => config::FOLDER_MAIL_FROM.into(),
    };
    let mail = MailConfig {
        smtp,
        dir: args
            .mail_dir
            .clone()
            .or_else(|| c.file.mail_dir.clone())
            .unwrap_or_else(|| PathBuf::from(config::DEFAULT_MAIL_DIR)),
        from_address,
        timeout_secs: config::validate_smtp_timeout(
            args.smtp_timeout_secs
                .or(c.file.smtp_timeout_secs)
                .unwrap_or(config::DEFAULT_SMTP_TIMEOUT_SECS),
        )?,
        retry_base_secs: config::validate_mail_retry(
            args.mail_retry_secs
                .or(c.file.mail_retry_secs)
                .unwrap_or(config::DEFAULT_MAIL_RETRY_SECS),
        )?,
    };
    mail.check_dir()?;
    Ok(mail)
}

pub async fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // clap prints help and version on stdout, and usage errors on stderr.
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

async fn run(cli: Cli) -> Result<(), ConfigError> {
    let c = common(&cli)?;
    crate::telemetry::init(c.log_format);
    match &cli.command {
        Command::Serve(args) => {
            let cfg = serve_config(&c, args)?;
            let app = Application::build(&cfg).await?;
            let addr = app
                .local_addr()
                .map_err(|e| ConfigError(format!("cannot read the listening address ({e})")))?;
            tracing::info!(
                address = %addr,
                database = %cfg.database.display(),
                "wecare is listening on http://{addr}"
            );
            tracing::info!("e-mail is {}", app.mail_route());
            app.run(startup::shutdown_signal())
                .await
                .map_err(|e| ConfigError(format!("the server stopped with an error ({e})")))
        }
        Command::Migrate => {
            startup::prepare_store(&c.database).await?;
            println!("migrations applied to {}", c.database.display());
            Ok(())
        }
        Command::Admin(cmd) => admin(&c, cmd).await,
        Command::Import(ImportCommand::Accounts {
            file,
            dry_run,
            no_setup_links,
        }) => import_accounts(&c, file, *dry_run, *no_setup_links).await,
        Command::Backup { to } => {
            println!("{}", crate::backup::backup(&c.database, to).await?);
            Ok(())
        }
        Command::Restore {
            from,
            data_key_file,
        } => {
            let key = config::load_data_key(
                std::env::var("WECARE_DATA_KEY").ok().as_deref(),
                data_key_file.as_deref().or(c.file.data_key_file.as_deref()),
                false,
            )?;
            let now = crate::clock::Clock::default().now();
            println!(
                "{}",
                crate::backup::restore(&c.database, from, &key, now).await?
            );
            Ok(())
        }
        Command::Purge { retention_days } => {
            let days = config::validate_retention_days(
                retention_days
                    .or(c.file.retention_days)
                    .unwrap_or(config::DEFAULT_RETENTION_DAYS),
            )?;
            let store = startup::prepare_store(&c.database).await?;
            let n = store
                .purge_identities(store.now() - i64::from(days) * 86_400)
                .await
                .map_err(|e| ConfigError(format!("erasing identities failed ({e})")))?;
            println!(
                "erased the identities of {} closed more than {} ago",
                crate::domain::plural(n, "support request", "support requests"),
                crate::domain::plural(days, "day", "days"),
            );
            Ok(())
        }
        Command::Audit(AuditCommand::Verify { heads }) => {
            let anchors = heads
                .iter()
                .map(|h| {
                    crate::store::AuditHead::parse(h).ok_or_else(|| {
                        ConfigError(format!(
                            "--head '{h}' is not an entry number and hash; give it as SEQ:HASH, such as 42:{}, as the server's log or the audit page shows it",
                            "0".repeat(64)
                        ))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let store = startup::prepare_store(&c.database).await?;
            let report = store
                .verify_audit_against(&anchors)
                .await
                .map_err(|e| ConfigError(format!("reading the audit log failed ({e})")))?;
            match report.broken_at {
                None => {
                    println!(
                        "the audit log is intact: {} entries, head {}",
                        report.rows, report.head
                    );
                    Ok(())
                }
                Some((seq, why)) => Err(ConfigError(format!(
                    "the audit log has been tampered with at entry {seq}: {why}"
                ))),
            }
        }
        Command::Keys(KeysCommand::Generate) => {
            println!("{}", crate::sealing::DataKey::generate_hex());
            Ok(())
        }
        Command::Keys(KeysCommand::Rotate {
            current_key_file,
            new_key_file,
        }) => {
            let current = config::load_data_key(
                std::env::var("WECARE_DATA_KEY").ok().as_deref(),
                current_key_file.as_deref(),
                false,
            )?;
            let new = config::load_data_key(None, Some(new_key_file), false)?;
            if new.id() == current.id() {
                return Err(ConfigError(
                    "the new key is the same as the current one; make a new one with `wecare keys generate`".into(),
                ));
            }
            let store = startup::prepare_store(&c.database).await?;
            match store.check_data_key(&current).await {
                Ok(Ok(())) => {}
                Ok(Err(why)) => {
                    return Err(ConfigError(format!(
                        "the current key does not open this database's data ({why}); give the key it was encrypted with"
                    )));
                }
                Err(e) => return Err(ConfigError(format!("checking the key failed ({e})"))),
            }
            let n = store.rotate_data_key(&current, &new).await.map_err(|e| {
                ConfigError(format!("re-encrypting failed, nothing was changed ({e})"))
            })?;
            println!(
                "re-encrypted {n} support request(s) with key {}; start wecare with the new key file now, and keep the old key as long as backups made before today exist",
                new.id()
            );
            Ok(())
        }
    }
}

fn invalid(e: crate::domain::Invalid) -> ConfigError {
    ConfigError(format!("{} ({})", e.message(), e.field()))
}

/// The address links in messages start with, outside the server: as it is configured.
fn configured_public_url(c: &Common) -> String {
    std::env::var("WECARE_PUBLIC_URL")
        .ok()
        .or_else(|| c.file.public_url.clone())
        .unwrap_or_else(|| format!("http://{}", config::DEFAULT_BIND))
}

async fn import_accounts(
    c: &Common,
    file: &Path,
    dry_run: bool,
    no_setup_links: bool,
) -> Result<(), ConfigError> {
    use crate::app::import::{Action, Welcome, apply, plan};
    use std::io::IsTerminal;
    let bytes = std::fs::read(file).map_err(|e| {
        ConfigError(format!(
            "cannot read {} ({e}); check the path",
            file.display()
        ))
    })?;
    let store = startup::prepare_store(&c.database).await?;
    let public_url = parse_public_url(&configured_public_url(c))?;
    let fail = |e: crate::app::Error| ConfigError(format!("the import failed ({e})"));
    let plan = plan(&store, &bytes).await.map_err(fail)?;
    for l in &plan.lines {
        match &l.action {
            Action::Create { roles } => {
                let roles: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
                let roles = if roles.is_empty() {
                    "member".to_string()
                } else {
                    roles.join(", ")
                };
                println!("line {}: create {} ({roles})", l.line, l.email);
            }
            Action::Change(what) => {
                println!("line {}: change {}: {}", l.line, l.email, what.join("; "))
            }
            Action::Unchanged => println!("line {}: unchanged {}", l.line, l.email),
            Action::Refused(mistakes) => {
                for m in mistakes {
                    let column = if m.column.is_empty() {
                        String::new()
                    } else {
                        format!(", column {}", m.column)
                    };
                    println!("line {}{column}: refused: {}", l.line, m.message);
                }
            }
        }
    }
    println!(
        "{} to create, {} to change, {} unchanged, {} refused",
        plan.creates(),
        plan.changes(),
        plan.unchanged(),
        plan.refused()
    );
    if plan.refused() > 0 {
        return Err(ConfigError(format!(
            "{} line(s) are refused, so nothing was imported; correct them and run the command again",
            plan.refused()
        )));
    }
    if dry_run {
        println!("dry run: nothing was changed");
        return Ok(());
    }
    let total = plan.creates() + plan.changes();
    let show = std::io::stderr().is_terminal() && total >= 200;
    let progress = move |done: usize| {
        if show {
            let width = 30;
            let filled = (done * width) / total.max(1);
            eprint!(
                "\r[{}{}] {done}/{total}",
                "#".repeat(filled),
                " ".repeat(width - filled.min(width))
            );
            if done >= total {
                eprintln!();
            }
        }
    };
    // With password sign-in off, a set-up link would be a way round the institution's
    // sign-in: the new accounts are found there by their address instead.
    let password_sign_in = c
        .file
        .oidc
        .as_ref()
        .and_then(|o| o.password_sign_in)
        .or_else(|| {
            c.file
                .trusted_header
                .as_ref()
                .and_then(|h| h.password_sign_in)
        })
        .unwrap_or(true);
    let no_setup_links = no_setup_links || !password_sign_in;
    if !password_sign_in && plan.creates() > 0 {
        println!(
            "password sign-in is off in the configuration: the new accounts sign in through the institution, and no set-up links are sent"
        );
    }
    let welcome = if no_setup_links {
        Welcome::SingleSignOn
    } else {
        Welcome::SetupLinks
    };
    let done = apply(&store, &public_url, &plan, welcome, &progress)
        .await
        .map_err(fail)?;
    println!(
        "imported: {} created, {} changed{}",
        done.created,
        done.changed,
        if no_setup_links || done.created == 0 {
            String::new()
        } else {
            "; each new account has been sent a set-up link (valid 7 days) through the outbox"
                .to_string()
        }
    );
    Ok(())
}

async fn admin(c: &Common, cmd: &AdminCommand) -> Result<(), ConfigError> {
    let store = startup::prepare_store(&c.database).await?;
    let fail = |what: &str, e: &dyn std::fmt::Display| ConfigError(format!("{what} failed ({e})"));
    match cmd {
        AdminCommand::Create {
            email,
            name,
            roles,
            password_stdin,
        } => {
            let email = Email::parse(email).map_err(invalid)?;
            let mut parsed = Vec::new();
            for r in roles {
                if let Some(role) = Role::parse(r).map_err(invalid)? {
                    parsed.push(role);
                }
            }
            let default_name = email
                .as_str()
                .split('@')
                .next()
                .unwrap_or_default()
                .to_string();
            let display_name = accounts::display_name(name.as_deref().unwrap_or(&default_name))
                .map_err(invalid)?;
            let password_hash = if *password_stdin {
                let mut line = String::new();
                std::io::stdin()
                    .lock()
                    .read_line(&mut line)
                    .map_err(|e| fail("reading the password from standard input", &e))?;
                let pw = NewPassword::parse(line.trim_end_matches(['\r', '\n']), None)
                    .map_err(invalid)?;
                Some(
                    crate::crypto::hash_password(pw.expose())
                        .map_err(|e| fail("hashing the password", &e))?,
                )
            } else {
                None
            };
            let has_password = password_hash.is_some();
            let account = store
                .create_account(NewAccount {
                    email: &email,
                    display_name: &display_name,
                    roles: &parsed,
                    password_hash,
                })
                .await
                .map_err(|e| fail("creating the account", &e))?;
            println!(
                "created account {} ({})",
                account.email,
                account.roles_text()
            );
            if !has_password {
                let secret = store
                    .create_setup_link(account.id, crate::app::accounts::SETUP_LINK_SECS, None)
                    .await
                    .map_err(|e| fail("creating the set-up link", &e))?;
                let base = configured_public_url(c);
                println!(
                    "open this link once, within 7 days, to choose the password:\n{}/setup/{secret}",
                    base.trim_end_matches('/')
                );
            }
            Ok(())
        }
        AdminCommand::Token {
            email,
            name,
            expires_days,
        } => {
            let email = Email::parse(email).map_err(invalid)?;
            let account = store.account_by_email(&email).await.map_err(|_| {
                ConfigError(format!(
                    "there is no account {email}; create it first with `wecare admin create`"
                ))
            })?;
            let name = crate::domain::required_line("name", "The token's name", name, 80)
                .map_err(invalid)?;
            let expires_at = match expires_days {
                Some(d @ 1..=3650) => Some(store.now() + i64::from(*d) * 86_400),
                Some(d) => {
                    return Err(ConfigError(format!(
                        "--expires-days is {d}; give a number of days from 1 to 3650, or leave it out for a token that works until revoked"
                    )));
                }
                None => None,
            };
            let (_, secret) = store
                .create_api_token(account.id, &name, expires_at)
                .await
                .map_err(|e| fail("creating the token", &e))?;
            println!("{secret}");
            Ok(())
        }
        AdminCommand::RevokeTokens { email } => {
            let email = Email::parse(email).map_err(invalid)?;
            let account = store
                .account_by_email(&email)
                .await
                .map_err(|_| ConfigError(format!("there is no account {email}")))?;
            let tokens = store
                .list_api_tokens(account.id)
                .await
                .map_err(|e| fail("listing tokens", &e))?;
            let mut n = 0;
            for t in tokens.iter().filter(|t| t.revoked_at.is_none()) {
                store
                    .revoke_api_token(account.id, t.id)
                    .await
                    .map_err(|e| fail("revoking a token", &e))?;
                n += 1;
            }
            println!("revoked {n} token(s) of {email}");
            Ok(())
        }
    }
}
