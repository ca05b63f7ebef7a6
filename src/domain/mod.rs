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
pub mod import;
pub mod mail;
pub mod matching;
pub mod pledge;
pub mod reports;
pub mod series;
pub mod sign_in;
pub mod sla;
pub mod support;
pub mod throttle;

use std::borrow::Cow;

/// One mistake in some input: the field it concerns (the id of the control that takes
/// the answer, so that a page can link to it) and a sentence worded for the person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mistake {
    pub field: Cow<'static, str>,
    pub message: String,
}

/// The mistakes in some input, at least one, in the order of the form, so that a person
/// sees them all at once instead of one per sending.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.sentences())]
pub struct Invalid(Vec<Mistake>);

impl Invalid {
    pub fn new(field: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self(vec![Mistake {
            field: field.into(),
            message: message.into(),
        }])
    }

    /// The field of the first mistake.
    pub fn field(&self) -> &str {
        self.0.first().map_or("", |m| &m.field)
    }

    /// The sentence of the first mistake.
    pub fn message(&self) -> &str {
        self.0.first().map_or("", |m| &m.message)
    }

    pub fn mistakes(&self) -> &[Mistake] {
        &self.0
    }

    /// What is wrong with one field, if anything (every sentence about it, joined).
    pub fn about(&self, field: &str) -> Option<String> {
        let said: Vec<&str> = self
            .0
            .iter()
            .filter(|m| m.field == field)
            .map(|m| m.message.as_str())
            .collect();
        (!said.is_empty()).then(|| said.join(" "))
    }

    /// The same mistakes, told of another field (a helper checked under a generic name).
    pub fn renamed(mut self, field: impl Into<Cow<'static, str>>) -> Self {
        let field = field.into();
        for m in &mut self.0 {
            m.field = field.clone();
        }
        self
    }

    /// The same mistakes with their fields named as another edge names them (the API's
    /// `answers.12` for the page's `q12`); `rename` returns None to keep a name.
    pub fn with_fields_named(mut self, rename: impl Fn(&str) -> Option<String>) -> Self {
        for m in &mut self.0 {
            if let Some(n) = rename(&m.field) {
                m.field = Cow::Owned(n);
            }
        }
        self
    }

    /// Only the mistakes about fields `keep` accepts (those of one step of a longer form),
    /// or None if none is left.
    pub fn only(&self, keep: impl Fn(&str) -> bool) -> Option<Invalid> {
        let kept: Vec<Mistake> = self.0.iter().filter(|m| keep(&m.field)).cloned().collect();
        (!kept.is_empty()).then_some(Invalid(kept))
    }

    fn sentences(&self) -> String {
        let all: Vec<&str> = self.0.iter().map(|m| m.message.as_str()).collect();
        all.join(" ")
    }
}

/// Collects the mistakes of a whole form while it is read field by field: each check
/// that fails is noted and a stand-in value lets the rest be checked too. `finish` gives
/// the value only if nothing was noted.
#[derive(Debug, Default)]
pub struct Mistakes(Vec<Mistake>);

impl Mistakes {
    pub fn new() -> Self {
        Self::default()
    }

    /// The value, or `stand_in` with the mistakes noted.
    pub fn or<T>(&mut self, r: Result<T, Invalid>, stand_in: T) -> T {
        match r {
            Ok(v) => v,
            Err(e) => {
                self.0.extend(e.0);
                stand_in
            }
        }
    }

    /// The value, or its type's empty value with the mistakes noted.
    pub fn or_default<T: Default>(&mut self, r: Result<T, Invalid>) -> T {
        self.or(r, T::default())
    }

    /// The value if there is one, noting the mistakes if not.
    pub fn check<T>(&mut self, r: Result<T, Invalid>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.0.extend(e.0);
                None
            }
        }
    }

    pub fn note(&mut self, field: impl Into<Cow<'static, str>>, message: impl Into<String>) {
        self.0.push(Mistake {
            field: field.into(),
            message: message.into(),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether a mistake about `field` is noted already.
    pub fn mistakes_about(&self, field: &str) -> bool {
        self.0.iter().any(|m| m.field == field)
    }

    /// Puts the mistakes in the order the fields appear on the page (those not listed
    /// last), when they were found in another order.
    pub fn in_form_order(&mut self, fields: &[&str]) {
        self.0.sort_by_key(|m| {
            fields
                .iter()
                .position(|f| *f == m.field)
                .unwrap_or(fields.len())
        });
    }

    /// The value, if no mistake was noted.
    pub fn finish<T>(self, value: T) -> Result<T, Invalid> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(Invalid(self.0))
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

/// A count with its noun: "1 day", "3 days".
pub fn plural(n: impl TryInto<u64>, one: &str, many: &str) -> String {
    let n: u64 = n.try_into().unwrap_or(0);
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A timestamp for people to read in `zone` (the programme's, or an event's), with the
/// zone's abbreviation so that no one has to guess: "2026-12-02 09:30 EST".
pub fn format_time(unix: impl std::borrow::Borrow<i64>, zone: &jiff::tz::TimeZone) -> String {
    jiff::Timestamp::from_second(*unix.borrow())
        .map(|t| {
            t.to_zoned(zone.clone())
                .strftime("%Y-%m-%d %H:%M %Z")
                .to_string()
        })
        .unwrap_or_default()
}

/// A timestamp for spreadsheets: local time in `zone` with its offset from UTC
/// ("2026-12-02T09:30:00-05:00"), which a spreadsheet reads as a date and a person as
/// the time they knew.
pub fn format_time_iso(unix: impl std::borrow::Borrow<i64>, zone: &jiff::tz::TimeZone) -> String {
    jiff::Timestamp::from_second(*unix.borrow())
        .map(|t| {
            t.to_zoned(zone.clone())
                .strftime("%Y-%m-%dT%H:%M:%S%:z")
                .to_string()
        })
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

/// A telephone number someone must be reachable on: one line of digits and the marks
/// people write between them (`+1 (312) 555-0147 ext. 2`), with at least seven digits.
pub fn required_phone(field: &'static str, label: &str, value: &str) -> Result<String, Invalid> {
    let v = required_line(field, label, value, 40)?;
    let allowed = |c: char| c.is_ascii_digit() || " +-().x/".contains(c) || "ext".contains(c);
    let digits = v.chars().filter(char::is_ascii_digit).count();
    if !v.to_ascii_lowercase().chars().all(allowed) || digits < 7 {
        return Err(Invalid::new(
            field,
            format!("{label} must be a telephone number, such as 312 555 0147."),
        ));
    }
    Ok(v)
}

/// The `tel:` address of a number as people write it, so a phone dials it in one tap.
pub fn tel_uri(phone: &str) -> String {
    let digits: String = phone
        .split(|c: char| c.is_ascii_alphabetic())
        .next()
        .unwrap_or("")
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '+')
        .collect();
    format!("tel:{digits}")
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
    fn telephone_numbers_are_read_as_people_write_them_and_dial_in_one_tap() {
        for ok in ["312 555 0147", "+1 (312) 555-0147 ext. 2", "0161.496.0000"] {
            assert_eq!(required_phone("p", "Phone", ok).ok().as_deref(), Some(ok));
        }
        for wrong in [
            "",
            "call me",
            "555",
            "312 555 0147\r\nBcc: x",
            "312-555-0147; drop",
        ] {
            assert!(required_phone("p", "Phone", wrong).is_err(), "{wrong:?}");
        }
        assert_eq!(tel_uri("+1 (312) 555-0147 ext. 2"), "tel:+13125550147");
    }

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
            assert_eq!(e.field(), "name");
        }
        assert_eq!(
            required_line("name", "The name", "  Wellbeing  ", 100).expect("ok"),
            "Wellbeing"
        );
        assert!(optional_text("body", "The text", "two\r\nlines\tand a tab", 100).is_ok());
        let e = optional_text("body", "The text", "nul\u{0}here", 100).expect_err("nul");
        assert!(e.message().contains("NUL"), "{e}");
        assert!(optional_text("body", "The text", "bell\u{7}", 100).is_err());
        assert!(required_text("body", "The text", " ", 100).is_err());
    }
}
