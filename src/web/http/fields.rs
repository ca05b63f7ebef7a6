//! What the form parts in `templates/_fields.html` ask of Rust.

/// Whether `key` is among the values a form sent back (a ticked checkbox).
pub fn among(sent: &[String], key: &str) -> bool {
    sent.iter().any(|s| s.trim() == key)
}

/// A choice a form offers, for the radios and checkboxes of `_fields.html` when the
/// choices are not one of the domain's closed sets (an event's own question).
pub struct Offered {
    key: String,
    label: String,
}

impl Offered {
    pub fn new(key: impl Into<String>, label: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            label: label.into(),
        }
    }
    pub fn key(&self) -> &str {
        &self.key
    }
    pub fn label(&self) -> &str {
        &self.label
    }
}

/// The mistakes of one row's form among many on a page (a helper's training, a
/// resource): each field is named with the row (`completed-12`), as the row's controls
/// are, so the summary links to the right one and the row shows its own messages.
pub fn in_row(e: crate::domain::Invalid, row: impl std::fmt::Display) -> crate::domain::Invalid {
    e.with_fields_named(|f| Some(format!("{f}-{row}")))
}

/// Addresses and numbers are not words: no spell-checking underlines on them.
pub fn no_spelling(kind: &str) -> bool {
    matches!(kind, "email" | "tel" | "url")
}
