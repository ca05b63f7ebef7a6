//! The programme's rules, free of HTTP and SQL. Values here are valid by construction:
//! the web layer parses input into these types, and the store persists them.

/// A closed set of choices with a stable key (stored and sent) and a label (shown).
macro_rules! choice {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $key:literal : $label:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn key(self) -> &'static str { match self { $($name::$variant => $key),+ } }
            pub fn label(self) -> &'static str { match self { $($name::$variant => $label),+ } }
            pub fn parse(s: &str) -> Option<Self> { Self::ALL.iter().copied().find(|v| v.key() == s) }
        }
    };
}

pub mod accounts;
pub mod calendar;
pub mod cases;
pub mod conflict;
pub mod content;
pub mod defaults;
pub mod events;
pub mod helpers;
pub mod ids;
pub mod mail;
pub mod matching;
pub mod series;
pub mod sla;
pub mod support;
pub mod throttle;

/// A user's mistake in some input, with the field it concerns, worded for that user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Invalid {
    pub field: &'static str,
    pub message: String,
}

impl Invalid {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

/// An optional JSON field that clients before December 2026 sent as `""` for "none":
/// absent, `null` and blank text all read as None; other text reads as `T` would.
pub fn blank_is_none<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    use serde::de::IntoDeserializer;
    match <Option<String> as serde::Deserialize>::deserialize(d)? {
        None => Ok(None),
        Some(s) if s.trim().is_empty() => Ok(None),
        Some(s) => T::deserialize(s.into_deserializer())
            .map(Some)
            .map_err(|e: serde::de::value::Error| serde::de::Error::custom(e)),
    }
}

/// A form checkbox: ticked when sent with any value but "0" (browsers send "on" or the
/// input's `value`), not ticked when absent (with `#[serde(default)]`).
pub fn ticked<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    let v = <String as serde::Deserialize>::deserialize(d)?;
    Ok(!v.is_empty() && v != "0")
}

/// A timestamp for people to read, in UTC.
pub fn format_time(unix: impl std::borrow::Borrow<i64>) -> String {
    jiff::Timestamp::from_second(*unix.borrow())
        .map(|t| t.strftime("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

/// Whether `c` may appear in text people type: everything but control characters, except
/// the line breaks and tabs of multi-line text. NUL cannot be stored by PostgreSQL, and no
/// one means to type the others.
pub fn allowed_in_text(c: char) -> bool {
    !c.is_control() || matches!(c, '\n' | '\r' | '\t')
}

/// Trims a required text field (it may span lines) and checks its length and characters.
pub fn required_text(
    field: &'static str,
    label: &str,
    value: &str,
    max: usize,
) -> Result<String, Invalid> {
    let v = optional_text(field, label, value, max)?;
    if v.is_empty() {
        return Err(Invalid::new(field, format!("{label} is required.")));
    }
    Ok(v)
}

/// Trims an optional text field (it may span lines) and checks its length and characters;
/// empty is allowed.
pub fn optional_text(
    field: &'static str,
    label: &str,
    value: &str,
    max: usize,
) -> Result<String, Invalid> {
    let v = value.trim();
    if v.chars().count() > max {
        return Err(Invalid::new(
            field,
            format!("{label} is too long: at most {max} characters."),
        ));
    }
    if !v.chars().all(allowed_in_text) {
        return Err(Invalid::new(
            field,
            format!(
                "{label} contains a control character (such as NUL) that cannot be kept; remove it."
            ),
        ));
    }
    Ok(v.to_string())
}

/// A required one-line field (a name, a title, a subject): no line breaks, tabs or other
/// control characters, which would break headers, calendars and CSV rows built from it.
pub fn required_line(
    field: &'static str,
    label: &str,
    value: &str,
    max: usize,
) -> Result<String, Invalid> {
    let v = required_text(field, label, value, max)?;
    one_line(field, label, v)
}

/// An optional one-line field; empty is allowed.
pub fn optional_line(
    field: &'static str,
    label: &str,
    value: &str,
    max: usize,
) -> Result<String, Invalid> {
    let v = optional_text(field, label, value, max)?;
    one_line(field, label, v)
}

fn one_line(field: &'static str, label: &str, v: String) -> Result<String, Invalid> {
    if v.chars().any(char::is_control) {
        return Err(Invalid::new(
            field,
            format!("{label} must be one line: remove the line breaks and tabs."),
        ));
    }
    Ok(v)
}

#[cfg(test)]
mod text_tests {
    use super::*;

    #[test]
    fn one_line_fields_refuse_line_breaks_and_all_text_refuses_nul() {
        for bad in [
            "Well\nbeing",
            "Well\rbeing",
            "Well\tbeing",
            "Well\u{0}being",
            "a\u{85}b",
        ] {
            let e = required_line("name", "The name", bad, 100).expect_err(bad);
            assert_eq!(e.field, "name");
        }
        assert_eq!(
            required_line("name", "The name", "  Wellbeing  ", 100).expect("ok"),
            "Wellbeing"
        );
        assert!(optional_text("body", "The text", "two\r\nlines\tand a tab", 100).is_ok());
        let e = optional_text("body", "The text", "nul\u{0}here", 100).expect_err("nul");
        assert!(e.message.contains("NUL"), "{}", e.message);
        assert!(optional_text("body", "The text", "bell\u{7}", 100).is_err());
        assert!(required_text("body", "The text", " ", 100).is_err());
    }
}
