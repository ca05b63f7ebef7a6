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

/// A line of contact details as HTML, with its web addresses, e-mail addresses and
/// telephone numbers made into links (a phone dials in one tap); everything else escaped.
pub fn contact_links(text: &str) -> String {
    fn escape(s: &str) -> String {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    }
    let trailing = |s: &str| {
        s.trim_end_matches(['.', ',', ';', ':', ')', '!', '?'])
            .len()
    };
    let mut out = String::new();
    let mut rest = text;
    while !rest.is_empty() {
        // A word: a web or e-mail address, or the start of a telephone number.
        let start = rest.len() - rest.trim_start().len();
        out.push_str(&escape(&rest[..start]));
        rest = &rest[start..];
        if rest.is_empty() {
            break;
        }
        let word_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let word = &rest[..word_end];
        let linked = trailing(word);
        let (head, tail) = word.split_at(linked);
        if (head.starts_with("https://") || head.starts_with("http://")) && head.len() > 8 {
            out.push_str(&format!(
                "<a href=\"{0}\">{0}</a>{1}",
                escape(head),
                escape(tail)
            ));
            rest = &rest[word_end..];
            continue;
        }
        if let Some((user, domain)) = head.split_once('@')
            && !user.is_empty()
            && domain.contains('.')
            && head
                .chars()
                .all(|c| c.is_alphanumeric() || "@.-_+".contains(c))
        {
            out.push_str(&format!(
                "<a href=\"mailto:{0}\">{0}</a>{1}",
                escape(head),
                escape(tail)
            ));
            rest = &rest[word_end..];
            continue;
        }
        // A telephone number may span words ("312 555 0100"): the longest run of digits
        // and the marks between them, with seven digits at least.
        // Groups separated by single spaces, each of digits and marks with its
        // parentheses closed ("(312)", not the "(24" of "(24 hours)").
        let mut run_end = 0;
        for group in rest.split(' ') {
            // A comma or full stop after the last digit ends the number.
            let g = group.trim_end_matches(['.', ',', ';', ':', '!', '?']);
            let closed = g.matches('(').count() == g.matches(')').count();
            let phone_like = !g.is_empty()
                && closed
                && g.chars().all(|c| c.is_ascii_digit() || "+-().".contains(c));
            if !phone_like {
                break;
            }
            run_end += g.len() + 1;
            if g.len() != group.len() {
                break;
            }
        }
        let run = rest[..run_end.saturating_sub(1).min(rest.len())].trim_end();
        let digits = run.chars().filter(char::is_ascii_digit).count();
        if (7..=15).contains(&digits)
            && run.starts_with(|c: char| c.is_ascii_digit() || c == '+' || c == '(')
        {
            out.push_str(&format!(
                "<a href=\"{}\">{}</a>",
                super::tel_uri(run),
                escape(run)
            ));
            rest = &rest[run.len()..];
            continue;
        }
        out.push_str(&escape(word));
        rest = &rest[word_end..];
    }
    out
}

/// Markdown as plain text, for the text part of an e-mail: emphasis without its
/// asterisks, a link as its text with the address after it (once), list items with a
/// dash, paragraphs apart. Markup written as HTML is left out.
pub fn markdown_to_text(md: &str) -> String {
    use pulldown_cmark::{Event, Parser, Tag, TagEnd};
    let mut out = String::with_capacity(md.len());
    let mut links: Vec<(String, usize)> = Vec::new();
    let mut lists: Vec<Option<u64>> = Vec::new();
    for event in Parser::new(md) {
        match event {
            Event::Text(t) | Event::Code(t) => out.push_str(&t),
            Event::SoftBreak | Event::HardBreak => out.push('\n'),
            Event::Rule => out.push_str("---\n\n"),
            Event::Start(Tag::List(first)) => lists.push(first),
            Event::End(TagEnd::List(_)) => {
                lists.pop();
                if lists.is_empty() {
                    out.push('\n');
                }
            }
            Event::Start(Tag::Item) => {
                let depth = lists.len().saturating_sub(1);
                out.push_str(&"  ".repeat(depth));
                match lists.last_mut() {
                    Some(Some(n)) => {
                        out.push_str(&format!("{n}. "));
                        *n += 1;
                    }
                    _ => out.push_str("- "),
                }
            }
            Event::End(TagEnd::Item) if !out.ends_with('\n') => out.push('\n'),
            Event::End(TagEnd::Paragraph | TagEnd::Heading(_) | TagEnd::BlockQuote(_)) => {
                // A paragraph inside a list item is the item's line.
                out.push_str(if lists.is_empty() { "\n\n" } else { "\n" });
            }
            Event::End(TagEnd::CodeBlock) => out.push('\n'),
            Event::Start(Tag::Link { dest_url, .. }) => {
                links.push((dest_url.to_string(), out.len()))
            }
            Event::End(TagEnd::Link) => {
                if let Some((url, from)) = links.pop()
                    && out.get(from..).is_some_and(|text| text.trim() != url)
                {
                    out.push_str(&format!(" ({url})"));
                }
            }
            _ => {}
        }
    }
    let mut text = out.trim_end().to_string();
    text.push('\n');
    text
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

/// WCAG's relative luminance of a `#rrggbb` colour.
fn luminance(hex: &str) -> f64 {
    let channel = |i: usize| {
        let v = f64::from(u8::from_str_radix(hex.get(i..i + 2).unwrap_or("00"), 16).unwrap_or(0))
            / 255.0;
        if v <= 0.040_45 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5)
}

/// The contrast ratio between two colours, from 1 (none) to 21 (black on white).
pub fn contrast(a: &str, b: &str) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

/// Where the theme's colours meet others on the pages (static/style.css): white text and
/// the white focus ring on the main colour, links in the main colour on white and on the
/// footer's grey, the accent's focus ring on both.
const WHITE: &str = "#ffffff";
const FOOTER: &str = "#f4f6f8";
/// WCAG 1.4.3 for text, 1.4.11 for the focus ring and other non-text marks.
const TEXT_CONTRAST: f64 = 4.5;
const MARK_CONTRAST: f64 = 3.0;

fn readable(field: &'static str, colour: &str, m: &mut super::Mistakes) {
    let worst = contrast(colour, WHITE).min(contrast(colour, FOOTER));
    if worst < TEXT_CONTRAST {
        m.note(
            field,
            format!(
                "The main colour {colour} has a contrast of {worst:.1}:1 with the white text and light backgrounds it meets; WCAG asks for at least {TEXT_CONTRAST}:1. Choose a darker colour."
            ),
        );
    }
}

fn visible_mark(field: &'static str, colour: &str, m: &mut super::Mistakes) {
    let worst = contrast(colour, WHITE).min(contrast(colour, FOOTER));
    if worst < MARK_CONTRAST {
        m.note(
            field,
            format!(
                "The accent colour {colour} marks where the keyboard is with a contrast of {worst:.1}:1 on the page's light backgrounds; WCAG asks for at least {MARK_CONTRAST}:1. Choose a darker colour."
            ),
        );
    }
}

impl Branding {
    /// Checks every field; colours are refused when text or the focus ring drawn in
    /// them would fall below WCAG's contrast, with the ratio in the sentence.
    pub fn parse(
        name: &str,
        tagline: &str,
        contact_email: &str,
        colour_primary: &str,
        colour_accent: &str,
    ) -> Result<Self, Invalid> {
        let mut m = super::Mistakes::new();
        let name = m.or_default(required_line("name", "The programme's name", name, 120));
        let tagline = m.or_default(optional_line("tagline", "The tagline", tagline, 240));
        let contact_email = m.or_default(
            super::accounts::Email::parse(contact_email)
                .map(|e| e.to_string())
                .map_err(|e| e.renamed("contact_email")),
        );
        let colour_primary = m.check(colour("colour_primary", "The main colour", colour_primary));
        if let Some(c) = &colour_primary {
            readable("colour_primary", c, &mut m);
        }
        let colour_accent = m.check(colour("colour_accent", "The accent colour", colour_accent));
        if let Some(c) = &colour_accent {
            visible_mark("colour_accent", c, &mut m);
        }
        m.finish(Self {
            name,
            tagline,
            contact_email,
            colour_primary: colour_primary.unwrap_or_default(),
            colour_accent: colour_accent.unwrap_or_default(),
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
        let d = Branding::default();
        assert!(Branding::parse("N", "", "a@b.org", &d.colour_primary, &d.colour_accent).is_ok());
        assert!(Branding::parse("N", "", "a@b.org", "#1F4E79", "#000000").is_ok());
        let e = Branding::parse("N", "", "a@b.org", "red; } body {", "#000000").expect_err("bad");
        assert_eq!(e.field(), "colour_primary");
    }

    #[test]
    fn colours_that_fail_contrast_are_refused_with_the_ratio() {
        assert!((contrast("#000000", "#ffffff") - 21.0).abs() < 0.01);
        assert!((contrast("#767676", "#ffffff") - 4.54).abs() < 0.01);
        // The audit's light blue: white text on it is unreadable, and so is it as a link.
        let e = Branding::parse("N", "", "a@b.org", "#7fb3e0", "#c8702a").expect_err("pale");
        assert_eq!(e.field(), "colour_primary");
        assert!(
            e.message().contains("2.1:1") && e.message().contains("4.5:1"),
            "{e}"
        );
        // A pale accent would hide where the keyboard is.
        let e = Branding::parse("N", "", "a@b.org", "#1f4e79", "#f5c77e").expect_err("pale");
        assert_eq!(e.field(), "colour_accent");
        assert!(e.message().contains(":1"), "{e}");
        // Both, and the name, at once.
        let e = Branding::parse("", "", "a@b.org", "#7fb3e0", "#f5c77e").expect_err("three");
        let fields: Vec<&str> = e.mistakes().iter().map(|m| m.field.as_ref()).collect();
        assert_eq!(fields, ["name", "colour_primary", "colour_accent"]);
    }
}

#[cfg(test)]
mod contact_link_tests {
    use super::contact_links;
    use proptest::prelude::*;

    proptest! {
        /// Whatever a coordinator types, the page renders: no panic, and no markup but ours.
        #[test]
        fn any_text_is_escaped_and_never_panics(text in "[ -~\\PC]{0,80}") {
            let html = contact_links(&text);
            let without_ours = html
                .replace("<a href=\"", "")
                .replace("\">", "")
                .replace("</a>", "");
            prop_assert!(!without_ours.contains('<'), "{}", html);
        }
    }

    #[test]
    fn addresses_and_numbers_in_contact_details_become_links() {
        assert_eq!(
            contact_links("Call 312-555-0100 (24 hours) or see https://eap.example.edu."),
            "Call <a href=\"tel:3125550100\">312-555-0100</a> (24 hours) or see \
             <a href=\"https://eap.example.edu\">https://eap.example.edu</a>."
        );
        assert_eq!(
            contact_links("Write to help@example.edu, Room 4 <b>"),
            "Write to <a href=\"mailto:help@example.edu\">help@example.edu</a>, Room 4 &lt;b&gt;"
        );
        assert_eq!(
            contact_links("+1 (312) 555 0147"),
            "<a href=\"tel:+13125550147\">+1 (312) 555 0147</a>"
        );
        // Short numbers (a room, a year, 988) stay text; quotes cannot escape an href.
        assert_eq!(contact_links("Room 2024, dial 988"), "Room 2024, dial 988");
        assert_eq!(
            contact_links("Ring 312 555 0100, any time."),
            "Ring <a href=\"tel:3125550100\">312 555 0100</a>, any time."
        );
        assert_eq!(
            contact_links("https://x.example/\"onclick=\"a"),
            "<a href=\"https://x.example/&quot;onclick=&quot;a\">https://x.example/&quot;onclick=&quot;a</a>"
        );
    }
}
