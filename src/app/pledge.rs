//! The code-of-conduct pledge: reading it, signing and withdrawing, the public list of
//! those who chose to be on it, and for coordinators publishing versions, the figures
//! (small counts suppressed) and the export.

use crate::app::{Coordinator, Error, Member, Public, Result};
use crate::domain::conflict::Conflict;
use crate::domain::pledge::{self, Act, NewVersion, PledgeVersion, Record, SignRefusal, Standing};
use crate::domain::reports::suppression::{self, Cell, Published, PublishedLine, Threshold};
use crate::domain::{Invalid, Mistakes, optional_line};
use crate::store::{Listing, Store};

/// The longest department a signer may give.
const DEPARTMENT_CHARS: usize = 120;

/// What anyone may read of the pledge.
#[derive(Debug, Clone)]
pub struct PledgePage {
    /// `None` until coordinators publish the first version.
    pub current: Option<PledgeVersion>,
    /// Active accounts that signed the current text (or one only editorially different).
    pub signers: u64,
    /// Those of them who chose to be listed: name, and department if they chose that too.
    pub listed: Vec<(String, Option<String>)>,
}

/// One version as the list of versions shows it.
#[derive(Debug, Clone)]
pub struct VersionSummary {
    pub number: i64,
    pub published_at: i64,
    pub change: pledge::Change,
    pub note: String,
    pub digest: String,
}

/// A member's own pledge: what they signed, and what the public list may show of them.
#[derive(Debug, Clone)]
pub struct MyPledge {
    pub standing: Standing,
    pub records: Vec<Record>,
    pub listing: Listing,
}

/// What a member chooses for the public list.
#[derive(Debug, Clone, Default)]
pub struct ListingInput {
    pub show_name: bool,
    pub show_department: bool,
    pub department: String,
}

/// The pledge settings coordinators choose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PledgeSettings {
    /// Whether applying to be a helper needs a current signature.
    pub required_for_helpers: bool,
    /// Days between reminders to sign a substantive new version (0: none are sent).
    pub reminder_days: i64,
}

impl Default for PledgeSettings {
    fn default() -> Self {
        Self {
            required_for_helpers: false,
            reminder_days: 30,
        }
    }
}

/// Reminders one person gets for one version, at most.
pub const MAX_REMINDERS: i64 = 3;
/// The longest cadence accepted, in days.
const MAX_REMINDER_DAYS: i64 = 365;

/// The figures coordinators see, every small count suppressed.
#[derive(Debug, Clone)]
pub struct PledgeStats {
    pub threshold: Threshold,
    /// Months (`2026-11`), oldest first.
    pub months: Vec<String>,
    /// Per month: first signatures, signatures again, withdrawals.
    pub by_month: Published,
    /// Departments of current signers, small ones folded into "Other departments".
    pub departments: Vec<String>,
    pub by_department: PublishedLine,
    /// People whose signature a substantive version has outdated.
    pub outdated: Cell,
}

/// The columns of `PledgeStats::by_month`.
pub const MONTH_COLUMNS: [&str; 3] = ["First signatures", "Signed again", "Withdrawals"];

impl Public {
    /// The current version, how many signed it, and who chose to be listed.
    #[tracing::instrument(skip_all, level = "debug")]
    pub async fn pledge(&self) -> Result<PledgePage> {
        let versions = self.store().pledge_versions().await?;
        let from = pledge::latest_substantive(&versions);
        let Some(current) = versions.last().cloned() else {
            return Ok(PledgePage {
                current: None,
                signers: 0,
                listed: Vec::new(),
            });
        };
        Ok(PledgePage {
            current: Some(current),
            signers: self.store().pledge_signer_count(from).await?,
            listed: self.store().pledge_listed_signers(from).await?,
        })
    }

    /// Every version, newest first, without their texts.
    #[tracing::instrument(skip_all, level = "debug")]
    pub async fn pledge_versions(&self) -> Result<Vec<VersionSummary>> {
        let mut out: Vec<VersionSummary> = self
            .store()
            .pledge_versions()
            .await?
            .into_iter()
            .map(|v| VersionSummary {
                number: v.number,
                published_at: v.published_at,
                change: v.change,
                note: v.note,
                digest: v.digest,
            })
            .collect();
        out.reverse();
        Ok(out)
    }

    /// One version, with its text: old ones stay readable.
    #[tracing::instrument(skip_all, level = "debug")]
    pub async fn pledge_version(&self, number: i64) -> Result<PledgeVersion> {
        self.store()
            .pledge_versions()
            .await?
            .into_iter()
            .find(|v| v.number == number)
            .ok_or(Error::NotFound)
    }
}

impl Member {
    /// What this member signed and withdrew, and their choice for the public list.
    #[tracing::instrument(skip_all, level = "debug", fields(account = self.id.0))]
    pub async fn my_pledge(&self) -> Result<MyPledge> {
        let versions = self.store().pledge_versions().await?;
        let records = self.store().pledge_records(self.id.0).await?;
        Ok(MyPledge {
            standing: pledge::standing(&records, &versions),
            records,
            listing: self.store().pledge_listing(self.id.0).await?,
        })
    }

    /// Whether a substantive version has outdated this member's signature: their pages
    /// ask them to read it and sign again.
    #[tracing::instrument(skip_all, level = "debug", fields(account = self.id.0))]
    pub async fn pledge_outdated(&self) -> Result<bool> {
        Ok(self.store().pledge_outdated(self.id.0).await?)
    }

    /// Signs version `read`, the one the member had in front of them, if they ticked
    /// that they agree. Signing again what they already signed changes nothing; a
    /// substantive version published after `read` refuses, so nobody signs unread text.
    #[tracing::instrument(skip_all, fields(account = self.id.0, version = read))]
    pub async fn sign_pledge(&self, read: i64, agreed: bool) -> Result<Standing> {
        if !agreed {
            return Err(Invalid::new(
                "agree",
                "Tick the box to say that you have read the pledge and agree to it.",
            )
            .into());
        }
        let now = self.now();
        let added = self
            .store()
            .act_on_pledge(self.id.0, |records, versions| {
                if versions.is_empty() {
                    return Err(Conflict::NoPledgeYet);
                }
                pledge::sign(records, versions, read, now).map_err(|r| match r {
                    SignRefusal::NoSuchVersion | SignRefusal::ChangedSinceRead => {
                        Conflict::PledgeChangedSinceRead
                    }
                })
            })
            .await?;
        if added.is_some() {
            tracing::info!("pledge signed");
        }
        Ok(self.my_pledge().await?.standing)
    }

    /// Withdraws this member's signature (a record of its own: what they signed stays
    /// in their history). Without a signature it changes nothing.
    #[tracing::instrument(skip_all, fields(account = self.id.0))]
    pub async fn withdraw_pledge(&self) -> Result<Standing> {
        let now = self.now();
        let added = self
            .store()
            .act_on_pledge(self.id.0, |records, _| Ok(pledge::withdraw(records, now)))
            .await?;
        if added.is_some() {
            tracing::info!("pledge signature withdrawn");
        }
        Ok(self.my_pledge().await?.standing)
    }

    /// What the public list shows of this member while their signature is current:
    /// their name only if they say so, and their department only with it.
    #[tracing::instrument(skip_all, fields(account = self.id.0))]
    pub async fn set_pledge_listing(&self, input: &ListingInput) -> Result<Listing> {
        let mut m = Mistakes::new();
        let department = m.or_default(optional_line(
            "department",
            "Your department",
            &input.department,
            DEPARTMENT_CHARS,
        ));
        if input.show_department && department.is_empty() {
            m.note(
                "department",
                "Enter your department, or untick showing it on the list.",
            );
        }
        if input.show_department && !input.show_name {
            m.note(
                "show_department",
                "The list shows a department only beside a name: tick showing your name too, or untick the department.",
            );
        }
        let listing = m.finish(Listing {
            show_name: input.show_name,
            show_department: input.show_department,
            department,
        })?;
        self.store()
            .save_pledge_listing(self.id.0, &listing)
            .await?;
        Ok(listing)
    }
}

/// Reads the pledge settings, with defaults for any not saved.
pub(crate) async fn settings(store: &Store) -> Result<PledgeSettings> {
    let mut s = PledgeSettings::default();
    for (key, value) in store.settings_with_prefix("pledge_").await? {
        match key.as_str() {
            "pledge_required_for_helpers" => s.required_for_helpers = value == "1",
            "pledge_reminder_days" => {
                s.reminder_days = value.parse().unwrap_or(s.reminder_days);
            }
            _ => {}
        }
    }
    Ok(s)
}

/// Refuses when the programme asks helpers to have signed and this account has not
/// signed the current pledge (a pledge not yet published asks nothing).
pub(crate) async fn check_signed_for_helping(store: &Store, account: i64) -> Result<()> {
    if !settings(store).await?.required_for_helpers {
        return Ok(());
    }
    let versions = store.pledge_versions().await?;
    if versions.is_empty() {
        return Ok(());
    }
    let records = store.pledge_records(account).await?;
    match pledge::standing(&records, &versions) {
        Standing::Current { .. } => Ok(()),
        _ => Err(Error::Conflict(Conflict::PledgeRequired)),
    }
}

/// The smallest count reports may show, as the programme set it.
pub(crate) async fn report_threshold(store: &Store) -> Result<Threshold> {
    Ok(store
        .settings_with_prefix("report_threshold")
        .await?
        .into_iter()
        .find_map(|(_, v)| v.parse().ok().and_then(|k| Threshold::new(k).ok()))
        .unwrap_or_default())
}

impl Coordinator {
    /// Publishes a new version after `based_on`, the one the coordinator was looking at
    /// (0 for the first). Every mistake is told at once; a version published meanwhile
    /// refuses this one, so nobody overwrites what they have not read.
    #[tracing::instrument(skip_all, fields(coordinator = self.id.0, based_on))]
    pub async fn publish_pledge(
        &self,
        based_on: i64,
        text: &str,
        change: &str,
        note: &str,
    ) -> Result<PledgeVersion> {
        let versions = self.store().pledge_versions().await?;
        if versions.last().map_or(0, |v| v.number) != based_on {
            return Err(Error::Conflict(Conflict::PledgeChangedMeanwhile));
        }
        let new = NewVersion::parse(text, change, note, versions.last())?;
        let published = self
            .store()
            .publish_pledge_version(based_on, &new, self.id.0)
            .await?;
        tracing::info!(
            version = published.number,
            change = published.change.key(),
            "pledge version published"
        );
        Ok(published)
    }

    pub async fn pledge_settings(&self) -> Result<PledgeSettings> {
        settings(self.store()).await
    }

    /// Saves the pledge settings; the cadence is whole days, 0 to 365.
    #[tracing::instrument(skip_all, fields(coordinator = self.id.0))]
    pub async fn save_pledge_settings(
        &self,
        required_for_helpers: bool,
        reminder_days: &str,
    ) -> Result<PledgeSettings> {
        let reminder_days = reminder_days
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|d| (0..=MAX_REMINDER_DAYS).contains(d))
            .ok_or_else(|| {
                Invalid::new(
                    "reminder_days",
                    "Enter the days between reminders as a whole number from 0 (no reminders) to 365.",
                )
            })?;
        let s = PledgeSettings {
            required_for_helpers,
            reminder_days,
        };
        self.store()
            .save_settings(&[
                (
                    "pledge_required_for_helpers",
                    if required_for_helpers { "1" } else { "0" }.to_string(),
                ),
                ("pledge_reminder_days", reminder_days.to_string()),
            ])
            .await?;
        Ok(s)
    }

    /// Signatures over time (by month in the programme's zone) and current signers by
    /// department, with every count below the threshold suppressed.
    #[tracing::instrument(skip_all, level = "debug", fields(coordinator = self.id.0))]
    pub async fn pledge_stats(&self) -> Result<PledgeStats> {
        let k = report_threshold(self.store()).await?;
        let zone = crate::app::support::requests::programme_zone(self.store()).await?;
        let versions = self.store().pledge_versions().await?;
        let from = pledge::latest_substantive(&versions);

        let mut months: Vec<String> = Vec::new();
        let mut counts: Vec<Vec<u64>> = Vec::new();
        let mut signed_before = std::collections::HashSet::new();
        for (account, r) in self.store().pledge_all_records().await? {
            let month = jiff::Timestamp::from_second(r.at)
                .map(|t| t.to_zoned(zone.clone()).strftime("%Y-%m").to_string())
                .unwrap_or_default();
            if months.last() != Some(&month) {
                months.push(month);
                counts.push(vec![0; MONTH_COLUMNS.len()]);
            }
            let row = counts.last_mut().expect("a month was just pushed");
            match r.act {
                Act::Sign if signed_before.insert(account) => row[0] += 1,
                Act::Sign => row[1] += 1,
                Act::Withdraw => row[2] += 1,
            }
        }

        let last = self.store().pledge_last_records().await?;
        let mut departments: Vec<(String, u64)> = Vec::new();
        let mut outdated = 0;
        for l in &last {
            if l.record.act != Act::Sign {
                continue;
            }
            if l.record.version < from {
                outdated += 1;
                continue;
            }
            let name = match l.department.trim() {
                "" => "Not given".to_string(),
                d => d.to_string(),
            };
            match departments
                .iter_mut()
                .find(|(d, _)| d.to_lowercase() == name.to_lowercase())
            {
                Some((_, n)) => *n += 1,
                None => departments.push((name, 1)),
            }
        }
        departments.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let folded = suppression::fold_small(&departments, k, "Other departments");
        let by_department =
            suppression::line(&folded.iter().map(|(_, n)| *n).collect::<Vec<_>>(), k);
        Ok(PledgeStats {
            threshold: k,
            by_month: suppression::table(&counts, k),
            months,
            departments: folded.into_iter().map(|(d, _)| d).collect(),
            by_department,
            outdated: suppression::line(&[outdated], k).total,
        })
    }

    /// Everyone who ever signed, with each signing and withdrawal: for the coordinators'
    /// CSV export.
    #[tracing::instrument(skip_all, fields(coordinator = self.id.0))]
    pub async fn pledge_signers(&self) -> Result<Vec<(crate::store::SignerRow, Standing)>> {
        let versions = self.store().pledge_versions().await?;
        tracing::info!("pledge signatures exported");
        Ok(self
            .store()
            .pledge_signer_rows()
            .await?
            .into_iter()
            .map(|row| {
                let standing = pledge::standing(&row.records, &versions);
                (row, standing)
            })
            .collect())
    }
}
