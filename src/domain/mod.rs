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
pub mod content;
pub mod defaults;
pub mod events;
pub mod helpers;
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

/// Seconds since the Unix epoch: how the store keeps time on both databases.
pub fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// A timestamp for people to read, in UTC.
pub fn format_time(unix: impl std::borrow::Borrow<i64>) -> String {
    jiff::Timestamp::from_second(*unix.borrow())
        .map(|t| t.strftime("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

/// Trims a required text field and checks its length.
pub fn required_text(
    field: &'static str,
    label: &str,
    value: &str,
    max: usize,
) -> Result<String, Invalid> {
    let v = value.trim();
    if v.is_empty() {
        return Err(Invalid::new(field, format!("{label} is required.")));
    }
    if v.chars().count() > max {
        return Err(Invalid::new(
            field,
            format!("{label} is too long: at most {max} characters."),
        ));
    }
    Ok(v.to_string())
}

/// Trims an optional text field and checks its length; empty is allowed.
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
    Ok(v.to_string())
}
