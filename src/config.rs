//! Configuration: flags and `WECARE_*` environment (clap), then an optional TOML file,
//! then defaults. Every bad value is reported as one sentence that says what to change.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

mod oidc;
mod sign_up;
mod trusted_header;
pub use oidc::{ClientSecret, IdentityClaim, OidcConfig, OidcFile, parse_oidc};
pub use sign_up::{SignUpConfig, SignUpFile, parse_sign_up};
pub use trusted_header::{
    ProxySecret, TrustedHeaderConfig, TrustedHeaderFile, parse_trusted_header,
};

/// A configuration problem, worded for the person starting the server.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

fn fail<T>(msg: impl Into<String>) -> Result<T, ConfigError> {
    Err(ConfigError(msg.into()))
}

/// Environment variables the program reads. Any other `WECARE_*` variable is most likely a
/// typo, and is refused at start-up rather than silently ignored.
pub const KNOWN_ENV: &[&str] = &[
    "WECARE_CONFIG",
    "WECARE_BIND",
    "WECARE_DATABASE_URL",
    "WECARE_PUBLIC_URL",
    "WECARE_LOG_FORMAT",
    "WECARE_LOG",
    "WECARE_TRUST_PROXY",
    "WECARE_TRUSTED_PROXIES",
    "WECARE_METRICS_TOKEN",
    "WECARE_SESSION_HOURS",
    "WECARE_SESSION_MAX_DAYS",
    "WECARE_SMTP_URL",
    "WECARE_MAIL_FROM",
    "WECARE_MAIL_DIR",
    "WECARE_SMTP_TIMEOUT_SECS",
    "WECARE_MAIL_RETRY_SECS",
    "WECARE_DATA_KEY_FILE",
    "WECARE_DATA_KEY",
    "WECARE_RETENTION_DAYS",
    "WECARE_MINORS_RETENTION_DAYS",
    "WECARE_GUEST_REGISTRATIONS_PER_ADDRESS",
    "WECARE_OIDC_CLIENT_SECRET",
    "WECARE_TRUSTED_HEADER_SECRET",
];

/// Prefixes reserved for the test harness and CI.
const RESERVED_ENV_PREFIXES: &[&str] = &["WECARE_TEST_", "WECARE_CI_"];

pub fn check_environment() -> Result<(), ConfigError> {
    check_env_names(std::env::vars_os().filter_map(|(k, _)| k.into_string().ok()))
}

fn check_env_names(names: impl Iterator<Item = String>) -> Result<(), ConfigError> {
    for name in names {
        if name.starts_with("WECARE_")
            && !KNOWN_ENV.contains(&name.as_str())
            && !RESERVED_ENV_PREFIXES.iter().any(|p| name.starts_with(p))
        {
            return fail(format!(
                "the environment variable {name} is not one wecare knows; remove it or correct its name (known: {})",
                KNOWN_ENV.join(", ")
            ));
        }
    }
    Ok(())
}

/// The optional TOML file. Unknown keys are an error so that typos are caught.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub bind: Option<String>,
    pub database_url: Option<String>,
    pub public_url: Option<String>,
    pub log_format: Option<String>,
    pub trust_proxy: Option<bool>,
    pub trusted_proxies: Option<String>,
    pub metrics_token: Option<String>,
    pub session_hours: Option<u32>,
    pub session_max_days: Option<u32>,
    pub smtp_url: Option<String>,
    pub mail_from: Option<String>,
    pub mail_dir: Option<PathBuf>,
    pub smtp_timeout_secs: Option<u64>,
    pub mail_retry_secs: Option<u64>,
    pub data_key_file: Option<PathBuf>,
    pub retention_days: Option<u32>,
    pub minors_retention_days: Option<u32>,
    pub guest_registrations_per_address: Option<u32>,
    /// Single sign-on through the institution's OpenID Connect provider.
    pub oidc: Option<OidcFile>,
    /// Single sign-on through a SAML proxy in front (Shibboleth, mellon).
    pub trusted_header: Option<TrustedHeaderFile>,
    /// Accounts colleagues make themselves, after confirming their address.
    pub sign_up: Option<SignUpFile>,
}

impl FileConfig {
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigError(format!(
                "cannot read the configuration file {} ({e}); check the path given with --config or WECARE_CONFIG",
                path.display()
            ))
        })?;
        toml::from_str(&text).map_err(|e| {
            let detail = e.message().to_string();
            ConfigError(format!(
                "the configuration file {} is not valid: {detail}; fix that line or remove it",
                path.display()
            ))
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

impl LogFormat {
    pub fn parse(s: &str) -> Result<Self, ConfigError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "text" | "" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            other => fail(format!(
                "WECARE_LOG_FORMAT / --log-format is '{other}'; use 'text' or 'json'"
            )),
        }
    }
}

/// Which database a URL names, with what is needed to open it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A SQLite file (or `:memory:`), with the URL to hand to the driver.
    Sqlite { path: PathBuf, url: String },
    /// A PostgreSQL server; `display` has any password replaced by `***`.
    Postgres { url: String, display: String },
}

impl DatabaseUrl {
    pub fn parse(raw: &str) -> Result<Self, ConfigError> {
        let raw = raw.trim();
        if let Some(rest) = raw
            .strip_prefix("sqlite://")
            .or_else(|| raw.strip_prefix("sqlite:"))
        {
            let path_part = rest.split('?').next().unwrap_or_default();
            if path_part.is_empty() {
                return fail(
                    "the database URL 'sqlite://' names no file; give a path such as sqlite://wecare.db",
                );
            }
            let path = PathBuf::from(path_part);
            // `mode=rwc` lets SQLite create the file on first run.
            let url = if rest.contains("mode=") {
                format!("sqlite://{rest}")
            } else if rest.contains('?') {
                format!("sqlite://{rest}&mode=rwc")
            } else {
                format!("sqlite://{rest}?mode=rwc")
            };
            return Ok(Self::Sqlite { path, url });
        }
        let parsed = url::Url::parse(raw).map_err(|e| {
            ConfigError(format!(
                "the database URL is not a valid URL ({e}); use sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DATABASE"
            ))
        })?;
        match parsed.scheme() {
            "postgres" | "postgresql" => {
                if parsed.host_str().unwrap_or_default().is_empty()
                    && !parsed.query_pairs().any(|(k, _)| k == "host")
                {
                    return fail(
                        "the PostgreSQL URL names no host; use postgres://USER:PASSWORD@HOST:PORT/DATABASE",
                    );
                }
                let mut display = parsed.clone();
                if display.password().is_some() {
                    let _ = display.set_password(Some("***"));
                }
                Ok(Self::Postgres {
                    url: raw.to_string(),
                    display: display.to_string(),
                })
            }
            other => fail(format!(
                "the database URL scheme '{other}' is not supported; use sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DATABASE"
            )),
        }
    }

    /// The URL to show in logs and messages: never a password.
    pub fn display(&self) -> String {
        match self {
            Self::Sqlite { path, .. } => format!("sqlite://{}", path.display()),
            Self::Postgres { display, .. } => display.clone(),
        }
    }

    pub fn driver_url(&self) -> &str {
        match self {
            Self::Sqlite { url, .. } | Self::Postgres { url, .. } => url,
        }
    }

    /// For a SQLite file, make sure it can be created and written before the driver tries,
    /// so the message names the path and the reason.
    pub fn check_sqlite_path(&self) -> Result<(), ConfigError> {
        let Self::Sqlite { path, .. } = self else {
            return Ok(());
        };
        if path.as_os_str() == ":memory:" {
            return Ok(());
        }
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
            && !parent.is_dir()
        {
            return fail(format!(
                "the folder {} for the SQLite database does not exist; create it or choose another path with --database-url sqlite://PATH",
                parent.display()
            ));
        }
        // A new database file is the service's own (the -wal and -shm files SQLite makes
        // beside it take the same mode).
        crate::private_files::touch(path).map_err(|e| {
                ConfigError(format!(
                    "cannot write the SQLite database file {} ({e}); choose a writable path with --database-url sqlite://PATH",
                    path.display()
                ))
            })
    }
}

pub fn parse_bind(raw: &str) -> Result<SocketAddr, ConfigError> {
    let raw = raw.trim();
    if let Some((_, port)) = raw.rsplit_once(':')
        && !port.is_empty()
        && port.chars().all(|c| c.is_ascii_digit())
        && port.parse::<u16>().is_err()
    {
        return fail(format!(
            "the port in --bind / WECARE_BIND '{raw}' is out of range; use a port from 1 to 65535, as in 127.0.0.1:8080"
        ));
    }
    raw.parse().map_err(|_| {
        ConfigError(format!(
            "--bind / WECARE_BIND '{raw}' is not an address and port; use the form 127.0.0.1:8080 or [::1]:8080"
        ))
    })
}

pub fn parse_public_url(raw: &str) -> Result<url::Url, ConfigError> {
    let url = url::Url::parse(raw.trim()).map_err(|e| {
        ConfigError(format!(
            "--public-url / WECARE_PUBLIC_URL '{raw}' is not a valid URL ({e}); use the address people type, such as https://wellbeing.example.edu"
        ))
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return fail(format!(
            "--public-url / WECARE_PUBLIC_URL must start with http:// or https://, not '{}'",
            url.scheme()
        ));
    }
    Ok(url)
}

/// Everything `wecare serve` needs, validated.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub bind: SocketAddr,
    pub database: DatabaseUrl,
    pub public_url: url::Url,
    pub log_format: LogFormat,
    pub trust_proxy: bool,
    /// The reverse proxies in front of wecare (empty: the peer, whoever it is).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// A bearer token for Prometheus to read `/metrics` with.
    pub metrics_token: Option<MetricsToken>,
    /// A session ends this long after its last use...
    pub session_hours: u32,
    /// ...and this long after it began, however much it is used.
    pub session_max_days: u32,
    pub demo: bool,
    pub mail: MailConfig,
    /// Seals the identities of support requests; never stored in the database.
    pub data_key: crate::sealing::DataKey,
    /// Days after a request closes before its identity is erased.
    pub retention_days: u32,
    /// Days after a students' event ends before the children's details are erased.
    pub minors_retention_days: u32,
    /// Guest registrations one client address may make in an hour.
    pub guest_registrations_per_address: u32,
    /// Single sign-on, if the programme uses its institution's provider.
    pub oidc: Option<OidcConfig>,
    /// Single sign-on through headers from a SAML proxy in front.
    pub trusted_header: Option<TrustedHeaderConfig>,
    /// Whether (and for which addresses) colleagues may make their own account.
    pub sign_up: Option<SignUpConfig>,
}

impl ServeConfig {
    /// Cookies get the `Secure` flag when people reach the server over https.
    pub fn cookies_secure(&self) -> bool {
        self.public_url.scheme() == "https"
    }
}

/// The `/metrics` token; its `Debug` hides it, so a configuration dump cannot leak it.
#[derive(Clone, PartialEq, Eq)]
pub struct MetricsToken(pub String);

impl std::fmt::Debug for MetricsToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MetricsToken(***)")
    }
}

pub fn parse_metrics_token(raw: &str) -> Result<MetricsToken, ConfigError> {
    let t = raw.trim();
    if t.len() < 24 || t.len() > 200 || !t.chars().all(|c| c.is_ascii_graphic()) {
        return fail(
            "--metrics-token / WECARE_METRICS_TOKEN must be 24 to 200 printable characters without spaces; make one with `wecare keys generate`",
        );
    }
    Ok(MetricsToken(t.to_string()))
}

/// `--trusted-proxies`: addresses or ranges, separated by commas (`10.0.0.0/8, 192.0.2.1`).
pub fn parse_trusted_proxies(raw: &str) -> Result<Vec<ipnet::IpNet>, ConfigError> {
    raw.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            p.parse::<ipnet::IpNet>()
                .or_else(|_| p.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| {
                    ConfigError(format!(
                        "--trusted-proxies / WECARE_TRUSTED_PROXIES has '{p}', which is not an address or a range; list your proxies' addresses separated by commas, such as 10.0.0.0/8, 192.0.2.1"
                    ))
                })
        })
        .collect()
}

pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
pub const DEFAULT_DATABASE_URL: &str = "sqlite://wecare.db";
pub const DEFAULT_SESSION_HOURS: u32 = 12;
pub const DEFAULT_SESSION_MAX_DAYS: u32 = 7;

pub const DEFAULT_RETENTION_DAYS: u32 = 90;

pub fn validate_retention_days(days: u32) -> Result<u32, ConfigError> {
    if (1..=3650).contains(&days) {
        Ok(days)
    } else {
        fail(format!(
            "--retention-days / WECARE_RETENTION_DAYS is {days}; use a number of days from 1 to 3650"
        ))
    }
}

pub const DEFAULT_MINORS_RETENTION_DAYS: u32 = 30;

/// Enough for a family, or a school's office registering its pupils for an outreach day,
/// and far too few to fill an event with invented guests.
pub const DEFAULT_GUEST_REGISTRATIONS_PER_ADDRESS: u32 = 30;

pub fn validate_guest_registrations(n: u32) -> Result<u32, ConfigError> {
    if (1..=100_000).contains(&n) {
        Ok(n)
    } else {
        fail(format!(
            "--guest-registrations-per-address / WECARE_GUEST_REGISTRATIONS_PER_ADDRESS is {n}; use a number of registrations an hour from 1 to 100000"
        ))
    }
}

pub fn validate_minors_retention_days(days: u32) -> Result<u32, ConfigError> {
    if (1..=3650).contains(&days) {
        Ok(days)
    } else {
        fail(format!(
            "--minors-retention-days / WECARE_MINORS_RETENTION_DAYS is {days}; use a number of days from 1 to 3650"
        ))
    }
}

/// The absolute limit, which must leave room for the idle one.
pub fn validate_session_max_days(days: u32, idle_hours: u32) -> Result<u32, ConfigError> {
    if !(1..=365).contains(&days) {
        return fail(format!(
            "WECARE_SESSION_MAX_DAYS / session_max_days is {days}; use a number of days from 1 to 365"
        ));
    }
    if u64::from(days) * 24 < u64::from(idle_hours) {
        return fail(format!(
            "session_max_days ({days} days) is shorter than session_hours ({idle_hours} hours); a session could never last its idle time. Raise WECARE_SESSION_MAX_DAYS or lower WECARE_SESSION_HOURS"
        ));
    }
    Ok(days)
}

pub fn validate_session_hours(hours: u32) -> Result<u32, ConfigError> {
    if (1..=24 * 30).contains(&hours) {
        Ok(hours)
    } else {
        fail(format!(
            "WECARE_SESSION_HOURS / session_hours is {hours}; use a number of hours from 1 to 720"
        ))
    }
}

/// The file demo mode keeps its generated data key in (in the working folder).
pub const DEMO_KEY_FILE: &str = "wecare-demo.key";

const KEY_HELP: &str = "create one with `wecare keys generate > /etc/wecare/data.key` (readable only by the service), keep a copy in your password safe, and pass it with --data-key-file / WECARE_DATA_KEY_FILE";

/// The data key: from WECARE_DATA_KEY (hex), or from a key file. In demo mode without
/// either, a key is generated once into `wecare-demo.key` and reused.
pub fn load_data_key(
    inline: Option<&str>,
    file: Option<&Path>,
    demo: bool,
) -> Result<crate::sealing::DataKey, ConfigError> {
    use crate::sealing::DataKey;
    if let Some(hex) = inline {
        return DataKey::from_hex(hex).map_err(|e| {
            ConfigError(format!(
                "WECARE_DATA_KEY is not a usable key: {e}; {KEY_HELP}"
            ))
        });
    }
    let path = match (file, demo) {
        (Some(p), _) => p.to_path_buf(),
        (None, true) => {
            let p = PathBuf::from(DEMO_KEY_FILE);
            // A demo key made before keys were created 0600: it is ours, so tighten it.
            if let Ok(Some(_)) = crate::private_files::loose_mode(&p) {
                let _ = crate::private_files::make_private(&p);
            }
            if !p.exists() {
                crate::private_files::write(&p, format!("{}\n", DataKey::generate_hex()).as_bytes()).map_err(|e| {
                    ConfigError(format!(
                        "cannot write the demo data key to {} ({e}); run from a writable folder or pass --data-key-file",
                        p.display()
                    ))
                })?;
            }
            p
        }
        (None, false) => {
            return fail(format!(
                "wecare needs a data key to encrypt the identities of people who ask for support; {KEY_HELP}"
            ));
        }
    };
    let text = std::fs::read_to_string(&path).map_err(|e| {
        ConfigError(format!(
            "cannot read the data key file {} ({e}); check --data-key-file / WECARE_DATA_KEY_FILE, or {KEY_HELP}",
            path.display()
        ))
    })?;
    // Anyone who can read the key can read every identity in a copy of the database.
    if let Ok(Some(mode)) = crate::private_files::loose_mode(&path) {
        return fail(format!(
            "the data key file {} can be read or changed by other users (mode {mode:o}); run `chmod 600 {}` so that only the service's own user can read it, then start again",
            path.display(),
            path.display()
        ));
    }
    DataKey::from_hex(&text).map_err(|e| {
        ConfigError(format!(
            "the data key file {} is not usable: {e}; {KEY_HELP}",
            path.display()
        ))
    })
}

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// TLS from the first byte (`smtps://`, port 465).
    Implicit,
    /// STARTTLS, required: nothing is sent unless the upgrade succeeds (`smtp://`, 587).
    StartTls,
    /// No encryption (`smtp://…?tls=none`): only to a relay on this machine.
    Plain,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: Option<String>,
    pub password: Option<String>,
    /// The URL without its password, for logs and messages.
    pub display: String,
}

/// Where messages go and in whose name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailConfig {
    /// None: messages are written as `.eml` files to `dir` instead of being sent.
    pub smtp: Option<SmtpConfig>,
    pub dir: PathBuf,
    /// The sender address; the programme's name is shown with it.
    pub from_address: String,
    pub timeout_secs: u64,
    /// The first wait after a temporary failure; it doubles with each try, to an hour.
    pub retry_base_secs: u64,
}

pub const DEFAULT_MAIL_DIR: &str = "mail-outbox";
pub const DEFAULT_SMTP_TIMEOUT_SECS: u64 = 30;
pub const DEFAULT_MAIL_RETRY_SECS: u64 = 60;
/// The sender used when mail is only written to a folder.
pub const FOLDER_MAIL_FROM: &str = "wecare@localhost.invalid";

impl MailConfig {
    /// Written to a folder, with the defaults: for tests and the demo.
    pub fn folder(dir: PathBuf) -> Self {
        Self {
            smtp: None,
            dir,
            from_address: FOLDER_MAIL_FROM.into(),
            timeout_secs: DEFAULT_SMTP_TIMEOUT_SECS,
            retry_base_secs: DEFAULT_MAIL_RETRY_SECS,
        }
    }

    /// Makes sure the folder for `.eml` files can be written, when it is used.
    pub fn check_dir(&self) -> Result<(), ConfigError> {
        if self.smtp.is_some() {
            return Ok(());
        }
        let dir = &self.dir;
        // A name of its own: several instances may share the folder.
        let probe = dir.join(format!(
            ".wecare-write-test-{}-{}",
            std::process::id(),
            crate::crypto::random_hex(4)
        ));
        // The folder holds addresses and one-time links: the service's user only.
        crate::private_files::create_dir(dir)
            .and_then(|()| std::fs::write(&probe, b"ok"))
            .and_then(|()| std::fs::remove_file(&probe))
            .map_err(|e| {
                ConfigError(format!(
                    "cannot write e-mail files to the folder {} ({e}); choose a writable folder with --mail-dir / WECARE_MAIL_DIR, or configure a mail server with --smtp-url",
                    dir.display()
                ))
            })
    }
}

fn is_loopback_host(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost")
        || h.parse::<std::net::IpAddr>()
            .map(|ip| ip.is_loopback())
            .unwrap_or(false)
}

/// Parses `smtps://USER:PASSWORD@HOST[:465]`, `smtp://USER:PASSWORD@HOST[:587]`
/// (STARTTLS required) or `smtp://HOST:PORT?tls=none` (a relay on this machine only).
pub fn parse_smtp_url(raw: &str) -> Result<SmtpConfig, ConfigError> {
    let forms = "use smtps://USER:PASSWORD@HOST:465, smtp://USER:PASSWORD@HOST:587 (STARTTLS) or smtp://localhost:25?tls=none";
    let url = url::Url::parse(raw.trim()).map_err(|e| {
        ConfigError(format!(
            "--smtp-url / WECARE_SMTP_URL is not a valid URL ({e}); {forms}"
        ))
    })?;
    let host = url.host_str().unwrap_or_default().to_string();
    if host.is_empty() {
        return fail(format!(
            "--smtp-url / WECARE_SMTP_URL names no host; {forms}"
        ));
    }
    let tls = url
        .query_pairs()
        .find(|(k, _)| k == "tls")
        .map(|(_, v)| v.to_ascii_lowercase());
    let security = match (url.scheme(), tls.as_deref()) {
        ("smtps", None | Some("implicit")) => SmtpSecurity::Implicit,
        ("smtp", None | Some("starttls" | "required")) => SmtpSecurity::StartTls,
        ("smtp", Some("none")) => SmtpSecurity::Plain,
        (scheme @ ("smtp" | "smtps"), Some(other)) => {
            return fail(format!(
                "--smtp-url / WECARE_SMTP_URL has tls={other}, which {scheme}:// does not take; {forms}"
            ));
        }
        (other, _) => {
            return fail(format!(
                "--smtp-url / WECARE_SMTP_URL has the scheme '{other}'; {forms}"
            ));
        }
    };
    if security == SmtpSecurity::Plain && !is_loopback_host(&host) {
        return fail(format!(
            "--smtp-url / WECARE_SMTP_URL sends mail without encryption to {host}, which is not this machine; use STARTTLS (smtp://HOST:587) or TLS (smtps://HOST:465), or tls=none only with localhost"
        ));
    }
    let port = url.port().unwrap_or(match security {
        SmtpSecurity::Implicit => 465,
        SmtpSecurity::StartTls => 587,
        SmtpSecurity::Plain => 25,
    });
    let decode = |s: &str| {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    let username = (!url.username().is_empty()).then(|| decode(url.username()));
    let password = url.password().map(decode);
    let mut shown = url.clone();
    if shown.password().is_some() {
        let _ = shown.set_password(Some("***"));
    }
    Ok(SmtpConfig {
        host,
        port,
        security,
        username,
        password,
        display: shown.to_string(),
    })
}

/// The sender address: a plain address, checked.
pub fn parse_mail_from(raw: &str) -> Result<String, ConfigError> {
    crate::domain::accounts::Email::parse(raw)
        .map(|e| e.as_str().to_string())
        .map_err(|_| {
            ConfigError(format!(
                "--mail-from / WECARE_MAIL_FROM '{raw}' is not an e-mail address; give the address messages come from, such as wellbeing@example.edu"
            ))
        })
}

pub fn validate_smtp_timeout(secs: u64) -> Result<u64, ConfigError> {
    if (1..=600).contains(&secs) {
        Ok(secs)
    } else {
        fail(format!(
            "--smtp-timeout-secs / WECARE_SMTP_TIMEOUT_SECS is {secs}; use a number of seconds from 1 to 600"
        ))
    }
}

pub fn validate_mail_retry(secs: u64) -> Result<u64, ConfigError> {
    if (1..=3600).contains(&secs) {
        Ok(secs)
    } else {
        fail(format!(
            "--mail-retry-secs / WECARE_MAIL_RETRY_SECS is {secs}; use a number of seconds from 1 to 3600"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_get_create_mode() {
        let db = DatabaseUrl::parse("sqlite://data/w.db").expect("valid");
        assert_eq!(db.driver_url(), "sqlite://data/w.db?mode=rwc");
        let db = DatabaseUrl::parse("sqlite:w.db").expect("valid");
        assert_eq!(db.driver_url(), "sqlite://w.db?mode=rwc");
    }

    #[test]
    fn postgres_password_is_hidden() {
        let db = DatabaseUrl::parse("postgres://u:secret@localhost:5432/w").expect("valid");
        assert!(!db.display().contains("secret"));
        assert!(db.display().contains("***"));
    }

    #[test]
    fn bad_urls_say_what_to_use() {
        let e = DatabaseUrl::parse("mysql://x/y").expect_err("unsupported");
        assert!(e.0.contains("sqlite://PATH"), "{e}");
        let e = DatabaseUrl::parse("not a url").expect_err("invalid");
        assert!(e.0.contains("not a valid URL"), "{e}");
    }

    #[test]
    fn bind_errors() {
        assert!(parse_bind("127.0.0.1:8080").is_ok());
        assert!(
            parse_bind("127.0.0.1:99999")
                .expect_err("range")
                .0
                .contains("out of range")
        );
        assert!(
            parse_bind("localhost")
                .expect_err("form")
                .0
                .contains("address and port")
        );
    }

    #[test]
    fn smtp_urls() {
        let c = parse_smtp_url("smtps://me%40x.edu:p%40ss@mail.x.edu").expect("implicit");
        assert_eq!(c.security, SmtpSecurity::Implicit);
        assert_eq!(c.port, 465);
        assert_eq!(c.username.as_deref(), Some("me@x.edu"));
        assert_eq!(c.password.as_deref(), Some("p@ss"));
        assert!(!c.display.contains("p%40ss"));
        let c = parse_smtp_url("smtp://mail.x.edu").expect("starttls");
        assert_eq!((c.security, c.port), (SmtpSecurity::StartTls, 587));
        let c = parse_smtp_url("smtp://127.0.0.1:2525?tls=none").expect("plain local");
        assert_eq!((c.security, c.port), (SmtpSecurity::Plain, 2525));
        let e = parse_smtp_url("smtp://mail.x.edu?tls=none").expect_err("plain remote");
        assert!(e.0.contains("not this machine"), "{e}");
        let e = parse_smtp_url("http://mail.x.edu").expect_err("scheme");
        assert!(e.0.contains("smtps://"), "{e}");
    }

    #[test]
    fn proxies_and_metrics_token() {
        let p = parse_trusted_proxies("10.0.0.0/8, 192.0.2.1,,::1").expect("list");
        assert_eq!(p.len(), 3);
        let e = parse_trusted_proxies("10.0.0.0/8, proxy.local").expect_err("name");
        assert!(e.0.contains("proxy.local"), "{e}");
        assert!(parse_metrics_token("short").is_err());
        let t = parse_metrics_token("0123456789abcdef0123456789abcdef").expect("token");
        assert!(!format!("{t:?}").contains("0123"));
    }

    #[test]
    fn unknown_env_is_refused() {
        let names = ["WECARE_BIND".to_string(), "WECARE_DATABSE_URL".to_string()];
        let e = check_env_names(names.into_iter()).expect_err("typo");
        assert!(e.0.contains("WECARE_DATABSE_URL"));
        assert!(check_env_names(["WECARE_TEST_POSTGRES_URL".to_string()].into_iter()).is_ok());
    }
}
