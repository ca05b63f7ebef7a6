//! Programme series: the recurring strands of the programme (outreach academy, lecture
//! series, clubs, grand rounds…). Events belong to a series.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Series {
    pub id: i64,
    pub slug: String,
    pub title: String,
    /// One or two sentences for listings.
    pub summary: String,
    /// The series' description in Markdown.
    pub body_md: String,
    /// Who it is for, in words (faculty, residents, students, public…).
    pub audience: String,
    pub sort_order: i64,
}

impl Series {
    pub fn body_html(&self) -> String {
        super::content::render_markdown(&self.body_md)
    }
}

/// A series as typed by a coordinator, checked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct SeriesInput {
    /// The address part (`/programmes/{slug}`); made from the title when empty.
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub body_md: String,
    pub audience: String,
}

impl SeriesInput {
    /// Checks the fields; returns the input with a normalised slug.
    pub fn parse(&self) -> Result<SeriesInput, super::Invalid> {
        use super::{Mistakes, optional_text, required_line};
        let mut m = Mistakes::new();
        let title = m.or_default(required_line("title", "Title", &self.title, 150));
        let raw = if self.slug.trim().is_empty() {
            title.clone()
        } else {
            self.slug.trim().to_string()
        };
        let mut slug = String::new();
        for c in raw.to_lowercase().chars() {
            if c.is_ascii_alphanumeric() {
                slug.push(c);
            } else if !slug.ends_with('-') {
                slug.push('-');
            }
        }
        let slug = slug.trim_matches('-').chars().take(60).collect::<String>();
        if slug.len() < 2 && !raw.is_empty() {
            m.note("slug", "The address needs at least two letters or digits.");
        }
        let summary = m.or_default(required_line("summary", "Summary", &self.summary, 300));
        let audience = m.or_default(required_line(
            "audience",
            "Who it is for",
            &self.audience,
            200,
        ));
        let body_md = m.or_default(optional_text(
            "body_md",
            "Description",
            &self.body_md,
            20_000,
        ));
        m.finish(SeriesInput {
            slug,
            title,
            summary,
            body_md,
            audience,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_made_from_titles_and_checked() {
        let s = SeriesInput {
            title: "Narrative Medicine: Reading Group".into(),
            summary: "Stories of care.".into(),
            audience: "Faculty".into(),
            ..Default::default()
        }
        .parse()
        .expect("valid");
        assert_eq!(s.slug, "narrative-medicine-reading-group");
        let bad = SeriesInput {
            slug: "!".into(),
            ..s.clone()
        };
        assert_eq!(bad.parse().expect_err("bad slug").field(), "slug");
    }
}
