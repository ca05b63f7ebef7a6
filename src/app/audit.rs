//! The audit log: what was looked at and changed, chained so that a removed or rewritten
//! entry shows. Administrators read it and check the chain.

use super::{Admin, Result};
use crate::store::{AuditReport, AuditRow};

impl Admin {
    /// A page of entries, newest first, older than `before` (a sequence number).
    #[tracing::instrument(skip_all, level = "debug", fields(admin = self.id.0))]
    pub async fn audit_page(&self, before: Option<i64>, limit: i64) -> Result<Vec<AuditRow>> {
        Ok(self.store().audit_page(before, limit).await?)
    }

    /// Checks the whole chain.
    #[tracing::instrument(skip_all, level = "debug", fields(admin = self.id.0))]
    pub async fn verify_audit(&self) -> Result<AuditReport> {
        Ok(self.store().verify_audit().await?)
    }
}
