//! Delivery: turning outbox rows into e-mail, and the timed jobs every instance runs.
//! Each instance runs one delivery worker and one scheduler; the store's atomic claims
//! make sure that each message and each job run is handled by one of them only.

mod scheduler;
mod transport;
mod worker;
mod writer;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use scheduler::{JOBS, JobSettings, run_if_due};
pub use transport::Transport;
pub use writer::Writer;

use crate::config::MailConfig;
use crate::store::Store;

/// The background tasks of one instance, stopped together.
pub struct Background {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Background {
    /// Starts the delivery worker and the scheduler.
    pub fn start(store: Store, mail: &MailConfig, transport: Transport, jobs: JobSettings) -> Self {
        let (stop, stopped) = watch::channel(false);
        let instance = format!("{}-{}", std::process::id(), crate::crypto::random_hex(4));
        let settings = worker::Settings {
            from_address: mail.from_address.clone(),
            retry_base_secs: i64::try_from(mail.retry_base_secs).unwrap_or(60),
            send_timeout: Duration::from_secs(mail.timeout_secs),
            // A claim outlives the longest a send may take, so a live worker keeps its
            // message; after a crash the message is due again once the lease runs out.
            lease_secs: i64::try_from(mail.timeout_secs * 2).unwrap_or(60).max(2),
        };
        let tasks = vec![
            tokio::spawn(worker::run(
                store.clone(),
                Arc::new(transport),
                Arc::new(settings),
                format!("mail-{instance}"),
                stopped.clone(),
            )),
            tokio::spawn(scheduler::run(
                store,
                jobs,
                format!("jobs-{instance}"),
                stopped,
            )),
        ];
        Self { stop, tasks }
    }

    /// Asks the tasks to stop after what they are doing, and waits a little for them.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = tokio::time::timeout(Duration::from_secs(15), t).await;
        }
    }
}
