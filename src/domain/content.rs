//! The programme's own pages (Markdown, sanitised on output) and its branding settings.

use serde::{Deserialize, Serialize};

use super::{Invalid, optional_line, required_line};

/// Renders Markdown to HTML that is safe to embed: raw HTML, scripts, event handlers and
/// `javascript:` links are removed by ammonia's allow-list, whatever the author typed.
pub fn render_markdown(md: &str) -> String {
    use pulldown_cmark::{Options, Parser, html};
    let mut opts = Options::empty();
    opts.insert(Options::ENABLE_TABLES);
    opts.insert(Options::ENABLE_STRIKETHROUGH);
    let parser = Parser::new_ext(md, opts);
    let mut out = String::with_capacity(md.len() * 3 / 2);
    html::push_html(&mut out, parser);
    ammonia::Builder::default()
        .link_rel(Some("noopener noreferrer"))
        .clean(&out)
        .to_string()
}

pub const MAX_PAGE_BYTES: usize = 100_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Page {
    /// The page's address: `/about` has the slug `about`.
    pub slug: String,
    pub title: String,
    /// The page's text in Markdown.
    pub body_md: String,
    pub nav_order: i64,
    pub updated_at: i64,
}

impl Page {
    pub fn body_html(&self) -> String {
        render_markdown(&self.body_md)
    }
}

/// A page edit, checked.
pub struct PageEdit {
    pub title: String,
    pub body_md: String,
}

impl PageEdit {
    pub fn parse(title: &str, body_md: &str) -> Result<Self, Invalid> {
        let title = required_line("title", "Title", title, 120)?;
        if body_md.trim().is_empty() {
            return Err(Invalid::new("body_md", "The page needs some text."));
        }
        if body_md.len() > MAX_PAGE_BYTES {
            return Err(Invalid::new(
                "body_md",
                format!("The page is too long: at most {MAX_PAGE_BYTES} bytes."),
            ));
        }
        Ok(Self {
            title,
            // Normalise line endings so that browsers' CRLF does not double the blank lines.
            body_md: body_md.replace("\r\n", "\n"),
        })
    }
}

/// The programme's name, voice and colours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Branding {
    pub name: String,
    pub tagline: String,
    pub contact_email: String,
    /// Main colour, `#rrggbb`.
    pub colour_primary: String,
    /// Accent colour, `#rrggbb`.
    pub colour_accent: String,
}

impl Default for Branding {
    fn default() -> Self {
        Self {
            name: "Faculty Well-being Programme".into(),
            tagline: "Collegial support, a shared pledge, and a calendar worth keeping.".into(),
            contact_email: "wellbeing@example.edu".into(),
            colour_primary: "#1f4e79".into(),
            colour_accent: "#c8702a".into(),
        }
    }
}

fn colour(field: &'static str, label: &str, raw: &str) -> Result<String, Invalid> {
    let v = raw.trim().to_ascii_lowercase();
    let ok = v.len() == 7 && v.starts_with('#') && v[1..].chars().all(|c| c.is_ascii_hexdigit());
    if ok {
        Ok(v)
    } else {
        Err(Invalid::new(
            field,
            format!("{label} must be a colour written as # and six hex digits, such as #1f4e79."),
        ))
    }
}

impl Branding {
    pub fn parse(
        name: &str,
        tagline: &str,
        contact_email: &str,
        colour_primary: &str,
        colour_accent: &str,
    ) -> Result<Self, Invalid> {
        let contact =
            super::accounts::Email::parse(contact_email).map_err(|e| e.renamed("contact_email"))?;
        Ok(Self {
            name: required_line("name", "The programme's name", name, 120)?,
            tagline: optional_line("tagline", "The tagline", tagline, 240)?,
            contact_email: contact.to_string(),
            colour_primary: colour("colour_primary", "The main colour", colour_primary)?,
            colour_accent: colour("colour_accent", "The accent colour", colour_accent)?,
        })
    }

    /// The theme stylesheet: the colours as CSS variables. Values are validated hex, so
    /// nothing a coordinator types can break out of the declaration.
    pub fn theme_css(&self) -> String {
        format!(
            ":root {{ --primary: {}; --accent: {}; }}\n",
            self.colour_primary, self.colour_accent
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_and_javascript_links_are_removed() {
        let html = render_markdown(
            "# Hi\n\n<script>alert(1)</script>\n\n[x](javascript:alert(2)) <img src=x onerror=alert(3)>",
        );
        assert!(html.contains("<h1>Hi</h1>"));
        assert!(!html.contains("<script"));
        assert!(!html.contains("javascript:"));
        assert!(!html.contains("onerror"));
    }

    #[test]
    fn colours_are_checked() {
        assert!(Branding::parse("N", "", "a@b.org", "#ABCDEF", "#000000").is_ok());
        let e = Branding::parse("N", "", "a@b.org", "red; } body {", "#000000").expect_err("bad");
        assert_eq!(e.field(), "colour_primary");
    }
}
