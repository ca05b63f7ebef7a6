//! The programme's support settings: business hours and service levels, matching
//! weights and policy, coordinator-blind working, sign-in and choosing one's helper.

use crate::app::{Coordinator, Result};
use crate::domain::sla::BusinessHours;
use crate::store::SupportSettings;

impl Coordinator {
    /// Whether coordinators work blind: they never see who asked, unless a helper raises
    /// a safety concern.
    #[tracing::instrument(skip_all, level = "debug", fields(coordinator = self.id.0))]
    pub async fn coordinator_blind(&self) -> Result<bool> {
        Ok(self.store().coordinator_blind().await?)
    }

    /// The settings in force.
    #[tracing::instrument(skip_all, level = "debug", fields(coordinator = self.id.0))]
    pub async fn support_settings(&self) -> Result<SupportSettings> {
        let store = self.store();
        let (weights, policy) = store.matching_rules().await?;
        Ok(SupportSettings {
            service_level: store.service_level_settings().await?,
            weights,
            policy,
            coordinator_blind: store.coordinator_blind().await?,
            requires_sign_in: store.support_requires_sign_in().await?,
            requester_chooses: store.support_requester_chooses().await?,
        })
    }

    /// Checks and saves every setting at once (the weights come parsed): a mistake names
    /// its field and nothing is saved; otherwise all of them change in one transaction.
    #[tracing::instrument(skip_all, fields(coordinator = self.id.0))]
    pub async fn save_support_settings(&self, s: &SupportSettings) -> Result<()> {
        BusinessHours::parse(&s.service_level)?;
        self.store().save_support_settings(s, Some(self.id)).await?;
        Ok(())
    }
}
