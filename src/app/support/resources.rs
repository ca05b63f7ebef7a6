//! The institution's resources helpers refer people to (counselling, employee
//! assistance, chaplaincy…): anyone reads the list; coordinators keep it.

use crate::app::{Coordinator, Error, Public, Result};
use crate::domain::Invalid;
use crate::domain::cases::Resource;

impl Public {
    /// The resources in use, as the public page lists them.
    #[tracing::instrument(skip_all, level = "debug")]
    pub async fn resources(&self) -> Result<Vec<Resource>> {
        Ok(self.store().list_resources(false).await?)
    }
}

impl Coordinator {
    /// Every resource, archived ones too, each with how often helpers referred to it.
    #[tracing::instrument(skip_all, level = "debug", fields(coordinator = self.id.0))]
    pub async fn resources_with_counts(&self) -> Result<Vec<(Resource, i64)>> {
        let counts = self.store().resource_referral_counts().await?;
        Ok(self
            .store()
            .list_resources(true)
            .await?
            .into_iter()
            .map(|r| {
                let n = counts
                    .iter()
                    .find(|(k, _)| *k == r.key)
                    .map_or(0, |(_, n)| *n);
                (r, n)
            })
            .collect())
    }

    /// Adds a resource; a name already in use is refused beside its field.
    #[tracing::instrument(skip_all, fields(coordinator = self.id.0))]
    pub async fn add_resource(&self, r: &Resource) -> Result<()> {
        self.store().add_resource(r).await.map_err(|e| match e {
            crate::store::StoreError::Conflict(m) => Invalid::new("name", m).into(),
            e => Error::from(e),
        })
    }

    #[tracing::instrument(skip_all, fields(coordinator = self.id.0))]
    pub async fn update_resource(&self, r: &Resource) -> Result<()> {
        Ok(self.store().update_resource(r).await?)
    }
}
