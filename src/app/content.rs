//! The programme's words and face: pages, branding, navigation and programme series.
//! Anyone reads them; coordinators change them.

use super::{Coordinator, Public, Result};
use crate::domain::content::{Branding, Page, PageEdit};
use crate::domain::events::Event;
use crate::domain::series::{Series, SeriesInput};
use crate::store::EventFilter;

impl Public {
    #[tracing::instrument(skip_all, level = "debug")]
    pub async fn branding(&self) -> Result<Branding> {
        Ok(self.store().branding().await?)
    }

    /// The pages in the main navigation: (order, slug, title).
    #[tracing::instrument(skip_all, level = "debug")]
    pub async fn page_nav(&self) -> Result<Vec<(i64, String, String)>> {
        Ok(self.store().page_nav().await?)
    }

    #[tracing::instrument(skip_all, level = "debug")]
    pub async fn pages(&self) -> Result<Vec<Page>> {
        Ok(self.store().list_pages().await?)
    }

    #[tracing::instrument(skip_all, level = "debug")]
    pub async fn page(&self, slug: &str) -> Result<Page> {
        Ok(self.store().page(slug).await?)
    }

    #[tracing::instrument(skip_all, level = "debug")]
    pub async fn series_list(&self) -> Result<Vec<Series>> {
        Ok(self.store().list_series().await?)
    }

    /// A series and its events still to come.
    #[tracing::instrument(skip_all, level = "debug")]
    pub async fn series(&self, slug: &str) -> Result<(Series, Vec<Event>)> {
        let series = self.store().series_by_slug(slug).await?;
        let events = self
            .store()
            .list_events(&EventFilter {
                series_id: Some(series.id),
                from: self.now(),
                ..Default::default()
            })
            .await?;
        Ok((series, events))
    }

    /// Whether the database answers (the readiness probe).
    #[tracing::instrument(skip_all, level = "debug")]
    pub async fn ready(&self) -> Result<()> {
        Ok(self.store().ping().await?)
    }
}

impl Coordinator {
    #[tracing::instrument(skip_all, fields(coordinator = self.id.0))]
    pub async fn update_page(&self, slug: &str, edit: &PageEdit) -> Result<Page> {
        Ok(self.store().update_page(slug, edit, self.id).await?)
    }

    #[tracing::instrument(skip_all, fields(coordinator = self.id.0))]
    pub async fn save_branding(&self, b: &Branding) -> Result<()> {
        Ok(self.store().save_branding(b).await?)
    }

    /// Adds a series at the end of the list; a taken address is refused beside its field.
    #[tracing::instrument(skip_all, fields(coordinator = self.id.0))]
    pub async fn create_series(&self, s: &SeriesInput) -> Result<Series> {
        self.store().create_series(s).await.map_err(|e| match e {
            crate::store::StoreError::Conflict(m) => crate::domain::Invalid::new("slug", m).into(),
            e => e.into(),
        })
    }

    /// Changes a series' words; its address stays, so links and feeds keep working.
    #[tracing::instrument(skip_all, fields(coordinator = self.id.0))]
    pub async fn update_series(&self, slug: &str, s: &SeriesInput) -> Result<Series> {
        Ok(self.store().update_series(slug, s).await?)
    }
}
