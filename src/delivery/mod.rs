//! Delivery: turning outbox rows into e-mail. Each instance runs one delivery worker; the
//! store's atomic claims make sure that each message is handled by one of them only.

mod transport;
mod worker;
mod writer;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use transport::{Transport, erase_confidential_files};
pub use writer::Writer;

use crate::config::MailConfig;

/// Messages claimed, and sent side by side, at once. Each send waits on the network
/// (several round trips per message), so sending a few together multiplies throughput; a
/// small batch keeps the rest free for other instances. The SMTP pool holds as many.
const BATCH: i64 = 8;
use crate::store::Store;

/// Starts this instance's delivery worker; it stops after its current message once
/// `stop` turns true.
pub fn start_worker(
    store: Store,
    mail: &MailConfig,
    transport: Transport,
    instance: &str,
    stop: watch::Receiver<bool>,
) -> JoinHandle<()> {
    let settings = worker::Settings {
        from_address: mail.from_address.clone(),
        retry_base_secs: i64::try_from(mail.retry_base_secs).unwrap_or(60),
        send_timeout: Duration::from_secs(mail.timeout_secs),
        // A claim outlives the longest a send may take, so a live worker keeps its
        // message; after a crash the message is due again once the lease runs out.
        lease_secs: i64::try_from(mail.timeout_secs * 2).unwrap_or(60).max(2),
    };
    tokio::spawn(worker::run(
        store,
        Arc::new(transport),
        Arc::new(settings),
        format!("mail-{instance}"),
        stop,
    ))
}
