//! The code-of-conduct pledge: its versions, and what a person's signatures add up to.
//!
//! Versions are never changed, only added. An **editorial** version (a typo, a link)
//! leaves every signature standing; a **substantive** one asks everyone to sign again.
//! Each version keeps its text, its date and a SHA-256 digest of the text, so a signature
//! says exactly what was agreed to. Signing and withdrawing are records of their own, in
//! order, never overwritten: what a person's pledge is now is read from the last one.

use sha2::{Digest, Sha256};

use super::{Invalid, Mistakes};

/// The longest pledge text accepted: a pledge is read, not skimmed.
pub const MAX_TEXT_CHARS: usize = 20_000;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// Wording only: signatures stand.
    Editorial,
    /// What is promised changed: everyone is asked to sign again.
    Substantive,
}

impl Change {
    pub fn key(self) -> &'static str {
        match self {
            Change::Editorial => "editorial",
            Change::Substantive => "substantive",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "editorial" => Some(Change::Editorial),
            "substantive" => Some(Change::Substantive),
            _ => None,
        }
    }
}

/// One published version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PledgeVersion {
    /// 1, 2, 3… in order of publication.
    pub number: i64,
    pub text_md: String,
    pub published_at: i64,
    /// SHA-256 of the text, hex.
    pub digest: String,
    pub change: Change,
    /// What changed, in the coordinator's words (may be empty).
    pub note: String,
}

/// The digest a version keeps of its text.
pub fn digest(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// A version about to be published, checked against the current one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewVersion {
    pub text_md: String,
    pub change: Change,
    pub note: String,
}

impl NewVersion {
    pub fn parse(
        text: &str,
        change: &str,
        note: &str,
        current: Option<&PledgeVersion>,
    ) -> Result<Self, Invalid> {
        let mut m = Mistakes::new();
        let text_md = m.or_default(super::required_text(
            "text",
            "The pledge",
            text,
            MAX_TEXT_CHARS,
        ));
        let note = m.or_default(super::optional_line("note", "What changed", note, 300));
        // The first version asks everyone to sign; there is nothing to be editorial to.
        let change = match (current, Change::parse(change)) {
            (None, _) => Change::Substantive,
            (Some(_), Some(c)) => c,
            (Some(_), None) => {
                m.note(
                    "change",
                    "Choose whether this version changes what is promised (everyone signs again) or only its wording (signatures stand).",
                );
                Change::Substantive
            }
        };
        if let Some(cur) = current
            && !text_md.is_empty()
            && cur.text_md == text_md
        {
            m.note(
                "text",
                "This is the text of the current version; change it before publishing.",
            );
        }
        m.finish(Self {
            text_md,
            change,
            note,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Act {
    Sign,
    Withdraw,
}

impl Act {
    pub fn key(self) -> &'static str {
        match self {
            Act::Sign => "sign",
            Act::Withdraw => "withdraw",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "sign" => Some(Act::Sign),
            "withdraw" => Some(Act::Withdraw),
            _ => None,
        }
    }
}

/// One signing or withdrawal, with the version it concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record {
    pub version: i64,
    pub act: Act,
    pub at: i64,
}

/// What a person's records add up to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    NeverSigned,
    /// Signed a version no substantive version has replaced.
    Current {
        version: i64,
        at: i64,
    },
    /// Signed a version a substantive one has replaced since: asked to sign again.
    Outdated {
        version: i64,
        at: i64,
    },
    Withdrawn {
        at: i64,
    },
}

/// The newest version that asked everyone to sign.
pub fn latest_substantive(versions: &[PledgeVersion]) -> i64 {
    versions
        .iter()
        .filter(|v| v.change == Change::Substantive)
        .map(|v| v.number)
        .max()
        .unwrap_or(0)
}

/// The standing of records in order (oldest first).
pub fn standing(records: &[Record], versions: &[PledgeVersion]) -> Standing {
    match records.last() {
        None => Standing::NeverSigned,
        Some(r) if r.act == Act::Withdraw => Standing::Withdrawn { at: r.at },
        Some(r) if r.version >= latest_substantive(versions) => Standing::Current {
            version: r.version,
            at: r.at,
        },
        Some(r) => Standing::Outdated {
            version: r.version,
            at: r.at,
        },
    }
}

/// Why a signature is not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignRefusal {
    NoSuchVersion,
    /// A substantive version was published after the one the person read.
    ChangedSinceRead,
}

/// The record signing `read` (the version the person had in front of them) adds, or
/// `None` when they have already signed it and nothing since asks them again (a second
/// click changes nothing).
pub fn sign(
    records: &[Record],
    versions: &[PledgeVersion],
    read: i64,
    now: i64,
) -> Result<Option<Record>, SignRefusal> {
    if !versions.iter().any(|v| v.number == read) {
        return Err(SignRefusal::NoSuchVersion);
    }
    if read < latest_substantive(versions) {
        return Err(SignRefusal::ChangedSinceRead);
    }
    match records.last() {
        Some(r) if r.act == Act::Sign && r.version == read => Ok(None),
        _ => Ok(Some(Record {
            version: read,
            act: Act::Sign,
            at: now,
        })),
    }
}

/// The record withdrawing adds, or `None` when there is no signature to withdraw.
pub fn withdraw(records: &[Record], now: i64) -> Option<Record> {
    match records.last() {
        Some(r) if r.act == Act::Sign => Some(Record {
            version: r.version,
            act: Act::Withdraw,
            at: now,
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(number: i64, change: Change, text: &str) -> PledgeVersion {
        PledgeVersion {
            number,
            text_md: text.into(),
            published_at: number * 100,
            digest: digest(text),
            change,
            note: String::new(),
        }
    }

    #[test]
    fn an_editorial_version_leaves_signatures_standing_and_a_substantive_one_asks_again() {
        let mut versions = vec![version(1, Change::Substantive, "We respect.")];
        let mut records = Vec::new();
        let r = sign(&records, &versions, 1, 10)
            .expect("signs")
            .expect("a record");
        records.push(r);
        assert_eq!(
            standing(&records, &versions),
            Standing::Current { version: 1, at: 10 }
        );
        assert_eq!(sign(&records, &versions, 1, 11), Ok(None), "a second click");

        versions.push(version(2, Change::Editorial, "We respect one another."));
        assert_eq!(
            standing(&records, &versions),
            Standing::Current { version: 1, at: 10 },
            "a typo fixed changes nobody's signature"
        );
        versions.push(version(3, Change::Substantive, "We respect and speak up."));
        assert_eq!(
            standing(&records, &versions),
            Standing::Outdated { version: 1, at: 10 }
        );
        assert_eq!(
            sign(&records, &versions, 2, 20),
            Err(SignRefusal::ChangedSinceRead),
            "what they read is no longer what is asked"
        );
        assert_eq!(
            sign(&records, &versions, 9, 20),
            Err(SignRefusal::NoSuchVersion)
        );
        records.push(
            sign(&records, &versions, 3, 30)
                .expect("ok")
                .expect("record"),
        );
        assert_eq!(
            standing(&records, &versions),
            Standing::Current { version: 3, at: 30 }
        );
        let w = withdraw(&records, 40).expect("a withdrawal");
        assert_eq!((w.act, w.version), (Act::Withdraw, 3));
        records.push(w);
        assert_eq!(
            standing(&records, &versions),
            Standing::Withdrawn { at: 40 }
        );
        assert_eq!(withdraw(&records, 41), None, "nothing left to withdraw");
        assert_eq!(records.len(), 3, "each act is its own record");
    }

    #[test]
    fn a_new_version_says_what_to_fix() {
        let cur = version(1, Change::Substantive, "We respect.");
        let e = NewVersion::parse("We respect.", "editorial", "", Some(&cur)).expect_err("same");
        assert_eq!(e.field(), "text");
        let e = NewVersion::parse("New text", "", "", Some(&cur)).expect_err("no kind");
        assert_eq!(e.field(), "change");
        let e = NewVersion::parse("", "", "a\nb", Some(&cur)).expect_err("empty");
        assert_eq!(e.field(), "text");
        assert_eq!(e.mistakes().len(), 3, "every mistake at once");
        let long = "x".repeat(MAX_TEXT_CHARS + 1);
        assert!(NewVersion::parse(&long, "substantive", "", None).is_err());
        let first = NewVersion::parse("We respect.", "editorial", "", None).expect("first");
        assert_eq!(
            first.change,
            Change::Substantive,
            "the first version asks everyone"
        );
    }

    #[test]
    fn the_digest_is_of_the_exact_text() {
        assert_eq!(digest("abc").len(), 64);
        assert_ne!(digest("We respect."), digest("We respect. "));
    }
}
