//! The code-of-conduct pledge: its versions (only added), each person's signings and
//! withdrawals (only added, numbered per person), what each lets the public list show,
//! and the reminders sent to sign a new version.

use super::{Backend, Store, StoreError, StoreResult, get_i64, get_string};
use crate::domain::conflict::Conflict;
use crate::domain::pledge::{Act, Change, NewVersion, PledgeVersion, Record};

/// What a signer lets the public list show.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    pub show_name: bool,
    pub show_department: bool,
    pub department: String,
}

/// One person's last record, with what the coordinators' figures group it by.
#[derive(Debug, Clone)]
pub struct LastRecord {
    pub account_id: i64,
    pub record: Record,
    pub department: String,
}

/// One person as the coordinators' export lists them.
#[derive(Debug, Clone)]
pub struct SignerRow {
    pub display_name: String,
    pub email: String,
    pub department: String,
    pub records: Vec<Record>,
}

fn version_from_row(r: &sqlx::any::AnyRow) -> StoreResult<PledgeVersion> {
    Ok(PledgeVersion {
        number: get_i64(r, "number")?,
        text_md: get_string(r, "text_md")?,
        published_at: get_i64(r, "published_at")?,
        digest: get_string(r, "digest")?,
        change: Change::parse(&get_string(r, "change_kind")?).ok_or(StoreError::Unsealable(
            "a pledge version of an unknown kind",
        ))?,
        note: get_string(r, "note")?,
    })
}

fn record_from_row(r: &sqlx::any::AnyRow) -> StoreResult<Record> {
    Ok(Record {
        version: get_i64(r, "version")?,
        act: Act::parse(&get_string(r, "act")?)
            .ok_or(StoreError::Unsealable("a pledge record of an unknown act"))?,
        at: get_i64(r, "at")?,
    })
}

const VERSION_COLUMNS: &str = "number, text_md, digest, change_kind, note, published_at";

/// Keeps only a person's last record (`r`, the newest `seq`).
const IS_LAST: &str =
    "r.seq = (SELECT MAX(l.seq) FROM pledge_records l WHERE l.account_id = r.account_id)";

impl Store {
    /// Every version, oldest first (a pledge has a handful).
    pub async fn pledge_versions(&self) -> StoreResult<Vec<PledgeVersion>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {VERSION_COLUMNS} FROM pledge_versions ORDER BY number"
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(version_from_row).collect()
    }

    /// Publishes `v` as the version after `based_on` (the one the coordinator was
    /// looking at). If another was published meanwhile, nothing is and the conflict says so.
    pub async fn publish_pledge_version(
        &self,
        based_on: i64,
        v: &NewVersion,
        by: i64,
    ) -> StoreResult<PledgeVersion> {
        let mut tx = self.begin_write().await?;
        let newest = sqlx::query("SELECT COALESCE(MAX(number), 0) AS n FROM pledge_versions")
            .fetch_one(&mut *tx)
            .await?;
        if get_i64(&newest, "n")? != based_on {
            return Err(StoreError::Conflict(Conflict::PledgeChangedMeanwhile));
        }
        let published = PledgeVersion {
            number: based_on + 1,
            text_md: v.text_md.clone(),
            published_at: self.now(),
            digest: crate::domain::pledge::digest(&v.text_md),
            change: v.change,
            note: v.note.clone(),
        };
        sqlx::query(
            "INSERT INTO pledge_versions
                 (number, text_md, digest, change_kind, note, published_at, published_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(published.number)
        .bind(&published.text_md)
        .bind(&published.digest)
        .bind(published.change.key())
        .bind(&published.note)
        .bind(published.published_at)
        .bind(by)
        .execute(&mut *tx)
        .await
        .map_err(super::conflict(Conflict::PledgeChangedMeanwhile))?;
        tx.commit().await?;
        Ok(published)
    }

    /// One person's records, oldest first.
    pub async fn pledge_records(&self, account: i64) -> StoreResult<Vec<Record>> {
        let rows = sqlx::query(
            "SELECT version, act, at FROM pledge_records WHERE account_id = $1 ORDER BY seq",
        )
        .bind(account)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(record_from_row).collect()
    }

    /// Adds the record `decide` makes of this person's records and the versions, read
    /// in the same transaction (and, on PostgreSQL, with the person's account locked), so
    /// that two clicks at once are decided one after the other. `None` adds nothing.
    pub async fn act_on_pledge(
        &self,
        account: i64,
        decide: impl FnOnce(&[Record], &[PledgeVersion]) -> Result<Option<Record>, Conflict>,
    ) -> StoreResult<Option<Record>> {
        let mut tx = self.begin_write().await?;
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT id FROM accounts WHERE id = $1 FOR UPDATE")
                .bind(account)
                .execute(&mut *tx)
                .await?;
        }
        let versions = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {VERSION_COLUMNS} FROM pledge_versions ORDER BY number"
        )))
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(version_from_row)
        .collect::<StoreResult<Vec<_>>>()?;
        let records = sqlx::query(
            "SELECT version, act, at FROM pledge_records WHERE account_id = $1 ORDER BY seq",
        )
        .bind(account)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(record_from_row)
        .collect::<StoreResult<Vec<_>>>()?;
        let Some(record) = decide(&records, &versions).map_err(StoreError::Conflict)? else {
            return Ok(None);
        };
        sqlx::query(
            "INSERT INTO pledge_records (account_id, seq, version, act, at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(account)
        .bind(records.len() as i64 + 1)
        .bind(record.version)
        .bind(record.act.key())
        .bind(record.at)
        .execute(&mut *tx)
        .await?;
        // A signature ends the reminders for the version it answers.
        if record.act == Act::Sign {
            sqlx::query("DELETE FROM pledge_reminders WHERE account_id = $1")
                .bind(account)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(Some(record))
    }

    /// What this person lets the public list show (nothing, until they choose).
    pub async fn pledge_listing(&self, account: i64) -> StoreResult<Listing> {
        let row = sqlx::query(
            "SELECT show_name, show_department, department FROM pledge_listing
             WHERE account_id = $1",
        )
        .bind(account)
        .fetch_optional(&self.pool)
        .await?;
        Ok(match row {
            None => Listing::default(),
            Some(r) => Listing {
                show_name: get_i64(&r, "show_name")? == 1,
                show_department: get_i64(&r, "show_department")? == 1,
                department: get_string(&r, "department")?,
            },
        })
    }

    pub async fn save_pledge_listing(&self, account: i64, l: &Listing) -> StoreResult<()> {
        self.write_one(
            sqlx::query(
                "INSERT INTO pledge_listing
                     (account_id, show_name, show_department, department, updated_at)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (account_id) DO UPDATE SET show_name = excluded.show_name,
                     show_department = excluded.show_department,
                     department = excluded.department, updated_at = excluded.updated_at",
            )
            .bind(account)
            .bind(i64::from(l.show_name))
            .bind(i64::from(l.show_department))
            .bind(&l.department)
            .bind(self.now()),
        )
        .await?;
        Ok(())
    }

    /// Every active account's last record, with the department it gave.
    pub async fn pledge_last_records(&self) -> StoreResult<Vec<LastRecord>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT r.account_id, r.version, r.act, r.at,
                    COALESCE(p.department, '') AS department
             FROM pledge_records r
             JOIN accounts a ON a.id = r.account_id AND a.active = 1
             LEFT JOIN pledge_listing p ON p.account_id = r.account_id
             WHERE {IS_LAST}"
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(LastRecord {
                    account_id: get_i64(r, "account_id")?,
                    record: record_from_row(r)?,
                    department: get_string(r, "department")?,
                })
            })
            .collect()
    }

    /// The names (and departments, where chosen) of active accounts whose last act was
    /// signing a version at or after `from` and who chose to be listed, by name.
    pub async fn pledge_listed_signers(
        &self,
        from: i64,
    ) -> StoreResult<Vec<(String, Option<String>)>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT a.display_name, p.show_department, p.department
             FROM pledge_records r
             JOIN accounts a ON a.id = r.account_id AND a.active = 1
             JOIN pledge_listing p ON p.account_id = r.account_id AND p.show_name = 1
             WHERE r.act = 'sign' AND r.version >= $1 AND {IS_LAST}
             ORDER BY a.display_name, a.id"
        )))
        .bind(from)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let department = get_string(r, "department")?;
                let shown = get_i64(r, "show_department")? == 1 && !department.is_empty();
                Ok((get_string(r, "display_name")?, shown.then_some(department)))
            })
            .collect()
    }

    /// How many active accounts' last act was signing a version at or after `from`.
    pub async fn pledge_signer_count(&self, from: i64) -> StoreResult<u64> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) AS n FROM pledge_records r
             JOIN accounts a ON a.id = r.account_id AND a.active = 1
             WHERE r.act = 'sign' AND r.version >= $1 AND {IS_LAST}"
        )))
        .bind(from)
        .fetch_one(&self.pool)
        .await?;
        Ok(get_i64(&row, "n")?.max(0) as u64)
    }

    /// Every record of every account, oldest first: for the coordinators' figures over
    /// time (an account switched off keeps its history).
    pub async fn pledge_all_records(&self) -> StoreResult<Vec<(i64, Record)>> {
        let rows = sqlx::query(
            "SELECT account_id, version, act, at FROM pledge_records ORDER BY at, account_id, seq",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((get_i64(r, "account_id")?, record_from_row(r)?)))
            .collect()
    }

    /// Everyone with a record, with every record, by name: the coordinators' export.
    pub async fn pledge_signer_rows(&self) -> StoreResult<Vec<SignerRow>> {
        let rows = sqlx::query(
            "SELECT a.id, a.display_name, a.email, COALESCE(p.department, '') AS department,
                    r.version, r.act, r.at
             FROM pledge_records r
             JOIN accounts a ON a.id = r.account_id
             LEFT JOIN pledge_listing p ON p.account_id = r.account_id
             ORDER BY a.display_name, a.id, r.seq",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut out: Vec<(i64, SignerRow)> = Vec::new();
        for r in &rows {
            let id = get_i64(r, "id")?;
            let record = record_from_row(r)?;
            match out.last_mut() {
                Some((last, row)) if *last == id => row.records.push(record),
                _ => out.push((
                    id,
                    SignerRow {
                        display_name: get_string(r, "display_name")?,
                        email: get_string(r, "email")?,
                        department: get_string(r, "department")?,
                        records: vec![record],
                    },
                )),
            }
        }
        Ok(out.into_iter().map(|(_, row)| row).collect())
    }

    /// Whether this person signed a version that a substantive one has replaced since,
    /// and has not signed again: read on every page they open, so one small query.
    pub async fn pledge_outdated(&self, account: i64) -> StoreResult<bool> {
        let row = sqlx::query(
            "SELECT r.version, r.act,
                    (SELECT COALESCE(MAX(v.number), 0) FROM pledge_versions v
                     WHERE v.change_kind = 'substantive') AS latest
             FROM pledge_records r WHERE r.account_id = $1
             ORDER BY r.seq DESC LIMIT 1",
        )
        .bind(account)
        .fetch_optional(&self.pool)
        .await?;
        Ok(match row {
            None => false,
            Some(r) => {
                get_string(&r, "act")? == "sign" && get_i64(&r, "version")? < get_i64(&r, "latest")?
            }
        })
    }
}
