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
