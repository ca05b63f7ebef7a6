//! Pages, branding settings and series.

use crate::domain::conflict::Conflict;
use sqlx::any::AnyRow;

use super::{Store, StoreError, StoreResult, get_i64, get_string};
use crate::domain::accounts::AccountId;
use crate::domain::content::{Branding, Page, PageEdit};
use crate::domain::defaults;
use crate::domain::series::Series;

fn page_from(row: &AnyRow) -> StoreResult<Page> {
    Ok(Page {
        slug: get_string(row, "slug")?,
        title: get_string(row, "title")?,
        body_md: get_string(row, "body_md")?,
        nav_order: get_i64(row, "nav_order")?,
        updated_at: get_i64(row, "updated_at")?,
    })
}

fn series_from(row: &AnyRow) -> StoreResult<Series> {
    Ok(Series {
        id: get_i64(row, "id")?,
        slug: get_string(row, "slug")?,
        title: get_string(row, "title")?,
        summary: get_string(row, "summary")?,
        body_md: get_string(row, "body_md")?,
        audience: get_string(row, "audience")?,
        sort_order: get_i64(row, "sort_order")?,
    })
}

const BRANDING_KEYS: [&str; 5] = [
    "name",
    "tagline",
    "contact_email",
    "colour_primary",
    "colour_accent",
];

impl Store {
    /// Puts in the default pages and series where they are missing. Never overwrites what
    /// a coordinator has written, so it is safe on every start.
    pub async fn seed_defaults(&self) -> StoreResult<()> {
        let now = self.now();
        let mut tx = self.begin_write().await?;
        for p in defaults::PAGES {
            sqlx::query(
                "INSERT INTO pages (slug, title, body_md, nav_order, updated_at)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (slug) DO NOTHING",
            )
            .bind(p.slug)
            .bind(p.title)
            .bind(p.body_md)
            .bind(p.nav_order)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        for (i, s) in defaults::SERIES.iter().enumerate() {
            sqlx::query(
                "INSERT INTO series (id, slug, title, summary, body_md, audience, sort_order)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (slug) DO NOTHING",
            )
            .bind(crate::crypto::random_id())
            .bind(s.slug)
            .bind(s.title)
            .bind(s.summary)
            .bind(s.body_md)
            .bind(s.audience)
            .bind(i as i64 * 10)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn list_pages(&self) -> StoreResult<Vec<Page>> {
        let rows = sqlx::query(
            "SELECT slug, title, body_md, nav_order, updated_at FROM pages ORDER BY nav_order, slug",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(page_from).collect()
    }

    /// (order, slug, title) of every page but the home page: what the navigation needs,
    /// without reading every page's text on every request.
    pub async fn page_nav(&self) -> StoreResult<Vec<(i64, String, String)>> {
        let rows = sqlx::query(
            "SELECT nav_order, slug, title FROM pages WHERE slug <> 'home' ORDER BY nav_order, slug",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    get_i64(r, "nav_order")?,
                    get_string(r, "slug")?,
                    get_string(r, "title")?,
                ))
            })
            .collect()
    }

    pub async fn page(&self, slug: &str) -> StoreResult<Page> {
        let row = sqlx::query(
            "SELECT slug, title, body_md, nav_order, updated_at FROM pages WHERE slug = $1",
        )
        .bind(slug)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        page_from(&row)
    }

    /// Saves an edit of an existing page.
    pub async fn update_page(
        &self,
        slug: &str,
        edit: &PageEdit,
        by: AccountId,
    ) -> StoreResult<Page> {
        let done = self
            .write_one(
                sqlx::query(
                    "UPDATE pages SET title = $1, body_md = $2, updated_at = $3, updated_by = $4
                     WHERE slug = $5",
                )
                .bind(&edit.title)
                .bind(&edit.body_md)
                .bind(self.now())
                .bind(by.0)
                .bind(slug),
            )
            .await?;
        if done == 0 {
            return Err(StoreError::NotFound);
        }
        self.page(slug).await
    }

    /// The settings whose keys start with `prefix` (`pledge_`): a capability reads its
    /// own and keeps its defaults for the others.
    pub async fn settings_with_prefix(&self, prefix: &str) -> StoreResult<Vec<(String, String)>> {
        let rows = sqlx::query(
            "SELECT setting_key, setting_value FROM settings WHERE setting_key LIKE $1",
        )
        // `_` in LIKE matches any one character: the prefix is checked exactly below.
        .bind(format!("{prefix}%"))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    get_string(r, "setting_key")?,
                    get_string(r, "setting_value")?,
                ))
            })
            .filter(|kv: &StoreResult<(String, String)>| {
                kv.as_ref().map_or(true, |(k, _)| k.starts_with(prefix))
            })
            .collect()
    }

    /// Saves several settings in one transaction: all of them or none.
    pub async fn save_settings(&self, pairs: &[(&str, String)]) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        for (key, value) in pairs {
            super::put_setting(&mut tx, key, value).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The branding settings, with defaults for any not yet saved.
    pub async fn branding(&self) -> StoreResult<Branding> {
        let rows = sqlx::query("SELECT setting_key, setting_value FROM settings")
            .fetch_all(&self.pool)
            .await?;
        let mut b = Branding::default();
        for row in &rows {
            let value = get_string(row, "setting_value")?;
            match get_string(row, "setting_key")?.as_str() {
                "name" => b.name = value,
                "tagline" => b.tagline = value,
                "contact_email" => b.contact_email = value,
                "colour_primary" => b.colour_primary = value,
                "colour_accent" => b.colour_accent = value,
                _ => {}
            }
        }
        Ok(b)
    }

    pub async fn save_branding(&self, b: &Branding) -> StoreResult<()> {
        let values = [
            &b.name,
            &b.tagline,
            &b.contact_email,
            &b.colour_primary,
            &b.colour_accent,
        ];
        let mut tx = self.begin_write().await?;
        for (key, value) in BRANDING_KEYS.iter().zip(values) {
            super::put_setting(&mut tx, key, value).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn list_series(&self) -> StoreResult<Vec<Series>> {
        let rows = sqlx::query(
            "SELECT id, slug, title, summary, body_md, audience, sort_order FROM series
             ORDER BY sort_order, title",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(series_from).collect()
    }

    pub async fn series_by_slug(&self, slug: &str) -> StoreResult<Series> {
        let row = sqlx::query(
            "SELECT id, slug, title, summary, body_md, audience, sort_order FROM series
             WHERE slug = $1",
        )
        .bind(slug)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        series_from(&row)
    }

    /// Adds a series at the end of the list.
    pub async fn create_series(
        &self,
        s: &crate::domain::series::SeriesInput,
    ) -> StoreResult<Series> {
        let id = crate::crypto::random_id();
        self.write_one(
            sqlx::query(
                "INSERT INTO series (id, slug, title, summary, body_md, audience, sort_order)
                 VALUES ($1, $2, $3, $4, $5, $6,
                     (SELECT COALESCE(MAX(sort_order), 0) + 10 FROM series))",
            )
            .bind(id)
            .bind(&s.slug)
            .bind(&s.title)
            .bind(&s.summary)
            .bind(&s.body_md)
            .bind(&s.audience),
        )
        .await
        .map_err(super::conflict(Conflict::SeriesAddressTaken))?;
        self.series_by_slug(&s.slug).await
    }

    /// Changes a series' words; its address stays, so links and feeds keep working.
    pub async fn update_series(
        &self,
        slug: &str,
        s: &crate::domain::series::SeriesInput,
    ) -> StoreResult<Series> {
        let n = self
            .write_one(
                sqlx::query(
                    "UPDATE series SET title = $2, summary = $3, body_md = $4, audience = $5
                     WHERE slug = $1",
                )
                .bind(slug)
                .bind(&s.title)
                .bind(&s.summary)
                .bind(&s.body_md)
                .bind(&s.audience),
            )
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        self.series_by_slug(slug).await
    }
}
