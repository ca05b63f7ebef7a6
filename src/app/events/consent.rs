//! The consent and waiver text guardians agree to for students' events, kept by version.

use crate::app::{Coordinator, Public, Result};
use crate::domain::events::ConsentText;

impl Public {
    /// The text guardians agree to now, with its version.
    #[tracing::instrument(skip_all, level = "debug")]
    pub async fn consent_text(&self) -> Result<ConsentText> {
        Ok(self.store().consent_text().await?)
    }
}

impl Coordinator {
    /// Replaces the consent text; it gets a new version, and registrations keep the
    /// version their guardian agreed to.
    #[tracing::instrument(skip_all, fields(coordinator = self.id.0))]
    pub async fn replace_consent_text(&self, text: &str) -> Result<ConsentText> {
        let new = ConsentText::new_version(text, self.store().clock().timestamp())?;
        self.store().save_consent_text(&new).await?;
        tracing::info!(version = %new.version, by = self.id.0, "consent text changed");
        Ok(new)
    }
}
