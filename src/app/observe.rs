//! What a metrics scraper may read: counts about the service, never about a person.

use super::{App, Result};
use crate::store::OutboxStatus;

/// A reader of `/metrics`: a scraper with the configured metrics token, or an
/// administrator's API token.
pub struct Observer {
    app: App,
}

impl App {
    /// The observer a bearer token stands for, if any.
    #[tracing::instrument(skip_all, level = "debug")]
    pub async fn observer(&self, token: &str) -> Result<Option<Observer>> {
        if let Some(expected) = &self.settings.metrics_token
            && bool::from(subtle::ConstantTimeEq::ct_eq(
                token.as_bytes(),
                expected.as_bytes(),
            ))
        {
            return Ok(Some(Observer { app: self.clone() }));
        }
        Ok(self
            .by_api_token(token)
            .await?
            .and_then(|m| m.as_admin())
            .map(|_| Observer { app: self.clone() }))
    }
}

impl Observer {
    /// The connection pool's size and idle connections.
    pub fn pool_stats(&self) -> (u32, usize) {
        self.app.store.pool_stats()
    }

    /// Messages in the outbox by status.
    #[tracing::instrument(skip_all, level = "debug")]
    pub async fn outbox_counts(&self) -> Result<Vec<(OutboxStatus, i64)>> {
        Ok(self.app.store.outbox_counts().await?)
    }
}
