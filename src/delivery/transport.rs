//! Handing a message to the world: an SMTP server (lettre), or a folder of `.eml` files
//! when no server is configured (the demo, and a newcomer's first run).

use std::path::PathBuf;
use std::time::Duration;

use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart};
use lettre::transport::smtp::PoolConfig;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::{ConfigError, MailConfig, SmtpSecurity};
use crate::store::OutboxMessage;

pub enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Folder(PathBuf),
}

/// Why a message did not go: worth trying again later, or not.
#[derive(Debug)]
pub enum SendError {
    Temporary(String),
    Permanent(String),
}

impl Transport {
    pub fn from_config(cfg: &MailConfig) -> Result<Self, ConfigError> {
        let Some(smtp) = &cfg.smtp else {
            return Ok(Self::Folder(cfg.dir.clone()));
        };
        let tls = || {
            TlsParameters::new(smtp.host.clone()).map_err(|e| {
                ConfigError(format!(
                    "cannot prepare TLS for the mail server {} ({e}); check --smtp-url",
                    smtp.display
                ))
            })
        };
        let tls = match smtp.security {
            SmtpSecurity::Implicit => Tls::Wrapper(tls()?),
            SmtpSecurity::StartTls => Tls::Required(tls()?),
            SmtpSecurity::Plain => Tls::None,
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host)
            .port(smtp.port)
            .pool_config(PoolConfig::new().max_size(super::BATCH as u32))
            .tls(tls)
            .timeout(Some(Duration::from_secs(cfg.timeout_secs)));
        if let Some(user) = &smtp.username {
            builder = builder.credentials(Credentials::new(
                user.clone(),
                smtp.password.clone().unwrap_or_default(),
            ));
        }
        Ok(Self::Smtp(builder.build()))
    }

    /// Sends one message; the answer is the server's acceptance (or where the file went).
    /// `now` names a folder file by when it was written (its erasure is counted from it).
    pub async fn send(
        &self,
        email: &Message,
        m: &OutboxMessage,
        now: i64,
    ) -> Result<String, SendError> {
        match self {
            Self::Smtp(t) => match t.send(email.clone()).await {
                Ok(r) => Ok(format!(
                    "{} {}",
                    r.code(),
                    r.message().collect::<Vec<_>>().join(" ")
                )),
                Err(e) if e.is_permanent() => Err(SendError::Permanent(e.to_string())),
                // Refused connections, timeouts, 4xx replies, TLS hiccups: try later.
                Err(e) => Err(SendError::Temporary(e.to_string())),
            },
            Self::Folder(dir) => {
                let name = folder_file_name(now, m.id, m.confidential);
                let tmp = dir.join(format!(".{name}.tmp"));
                let path = dir.join(&name);
                let bytes = email.formatted();
                let written = crate::private_files::write_async(&tmp, &bytes).await;
                match written.and(tokio::fs::rename(&tmp, &path).await) {
                    Ok(()) => Ok(format!("written to {}", path.display())),
                    Err(e) => Err(SendError::Temporary(format!(
                        "cannot write to {} ({e})",
                        dir.display()
                    ))),
                }
            }
        }
    }
}

/// Erases confidential messages written to the mail folder more than `older_than_secs`
/// ago: the folder must not keep who asked for support longer than the database does.
/// Returns how many files went.
pub fn erase_confidential_files(
    dir: &std::path::Path,
    older_than_secs: i64,
    now: i64,
) -> std::io::Result<usize> {
    let cutoff = now - older_than_secs;
    let mut erased = 0;
    let mut failed = None;
    for entry in std::fs::read_dir(dir)? {
        let Ok(entry) = entry else { continue };
        let path = entry.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        // A `.tmp` left by a write that never finished (a crash) may hold a message too.
        let stale_tmp = name.starts_with('.')
            && name.ends_with(".tmp")
            && entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age.as_secs() > 86_400);
        let expired = confidential_file_time(name).is_some_and(|written| written <= cutoff);
        if expired || stale_tmp {
            // One file that cannot be removed must not keep the others.
            match std::fs::remove_file(&path) {
                Ok(()) => erased += 1,
                Err(e) => failed = Some(e),
            }
        }
    }
    match failed {
        Some(e) if erased == 0 => Err(e),
        _ => Ok(erased),
    }
}

/// `{unix time}-{id}.eml`, or `{unix time}-{id}-confidential.eml` for sealed kinds, so that
/// the retention job finds them without opening them.
fn folder_file_name(now: i64, id: i64, confidential: bool) -> String {
    if confidential {
        format!("{now}-{id}-confidential.eml")
    } else {
        format!("{now}-{id}.eml")
    }
}

fn confidential_file_time(name: &str) -> Option<i64> {
    let stem = name.strip_suffix("-confidential.eml")?;
    stem.split('-').next()?.parse().ok()
}

fn header(name: &'static str, value: String) -> HeaderValue {
    HeaderValue::new(HeaderName::new_from_ascii_str(name), value)
}

/// The e-mail for an outbox row: plain text and HTML alternatives, an optional attachment,
/// a Message-ID fixed by the row (so that a receiver can spot a repeat), and the
/// List-Unsubscribe headers of optional messages (RFC 2369 and 8058).
pub fn build_email(m: &OutboxMessage, from_address: &str) -> Result<Message, String> {
    if m.from_name.chars().any(char::is_control) || m.subject.chars().any(char::is_control) {
        return Err(
            "the sender's name or the subject holds a line break or another control character; correct the programme's name or the message wording, then retry".into(),
        );
    }
    // lettre panics on some header values it cannot write; one such message must fail
    // alone, with its reason, instead of taking the worker down or staying "sending".
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        build_checked(m, from_address)
    }))
    .unwrap_or_else(|_| Err("the message could not be built (its headers are not valid)".into()))
}

fn build_checked(m: &OutboxMessage, from_address: &str) -> Result<Message, String> {
    let from_addr = from_address
        .parse()
        .map_err(|e| format!("the sender address is not valid ({e})"))?;
    let from = Mailbox::new(Some(m.from_name.clone()), from_addr);
    let to: Mailbox = m
        .to_address
        .parse()
        .map_err(|e| format!("the recipient address is not valid ({e})"))?;
    let domain = from_address.rsplit('@').next().unwrap_or("localhost");
    let mut b = Message::builder()
        .from(from)
        .to(to)
        .subject(m.subject.clone())
        .message_id(Some(format!("<wecare.{}.{}@{domain}>", m.kind, m.id)))
        .date_now()
        .raw_header(header("Auto-Submitted", "auto-generated".into()));
    // Alerts to coordinators (urgent requests, safety concerns) are flagged for mail
    // programs that sort by importance.
    if m.kind == crate::domain::mail::MessageKind::CoordinatorAlert.key() {
        b = b
            .raw_header(header("Importance", "high".into()))
            .raw_header(header("X-Priority", "1 (Highest)".into()));
    }
    if let Some(url) = &m.list_unsubscribe {
        b = b
            .raw_header(header("List-Unsubscribe", format!("<{url}>")))
            .raw_header(header(
                "List-Unsubscribe-Post",
                "List-Unsubscribe=One-Click".into(),
            ));
    }
    let alternative = MultiPart::alternative_plain_html(m.body_text.clone(), m.body_html.clone());
    let result = match &m.attachment {
        Some(a) => {
            let content_type = ContentType::parse(&a.content_type)
                .map_err(|e| format!("the attachment's type is not valid ({e})"))?;
            b.multipart(
                MultiPart::mixed()
                    .multipart(alternative)
                    .singlepart(Attachment::new(a.name.clone()).body(a.body.clone(), content_type)),
            )
        }
        None => b.multipart(alternative),
    };
    result.map_err(|e| format!("the message could not be built ({e})"))
}
