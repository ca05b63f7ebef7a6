//! Support requests. Identities, preferences and free text are sealed here with the data
//! key on the way in and opened on the way out, so nothing above sees ciphertext and
//! nothing below (the database, its backups) sees identities.

use crate::domain::conflict::Conflict;
use serde::Serialize;
use sqlx::any::AnyRow;

use super::{Store, StoreError, StoreResult, get_i64, get_opt_i64, get_string};
use crate::crypto;
use crate::domain::accounts::AccountId;
use crate::domain::support::{
    Channel, ContactMode, NewRequest, RequestStatus, Topic, Urgency, new_receipt_code,
};
use crate::sealing::DataKey;

/// A request without who asked: what queues, status pages and statistics show.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RequestSummary {
    pub id: i64,
    /// A short reference for staff, naming no one.
    pub reference: String,
    pub channel: Channel,
    pub status: RequestStatus,
    pub urgency: Urgency,
    pub topics: Vec<Topic>,
    pub contact_mode: ContactMode,
    pub created_at: i64,
    pub updated_at: i64,
    pub first_contact_at: Option<i64>,
    pub closed_at: Option<i64>,
    /// When the helper raised a safety concern: such requests head the queue.
    pub escalated_at: Option<i64>,
    /// Filed while the programme worked coordinator-blind: it stays blind.
    #[serde(skip)]
    pub filed_blind: bool,
}

const SUMMARY_COLUMNS: &str = "id, reference, channel, status, urgency, topics, contact_mode, \
     created_at, updated_at, first_contact_at, closed_at, escalated_at, filed_blind";

fn summary_from_row(row: &AnyRow) -> StoreResult<RequestSummary> {
    let bad = |what: &str| {
        StoreError::Database(sqlx::Error::Decode(
            format!("unknown {what} in support_requests").into(),
        ))
    };
    Ok(RequestSummary {
        id: get_i64(row, "id")?,
        reference: get_string(row, "reference")?,
        channel: Channel::parse(&get_string(row, "channel")?).ok_or_else(|| bad("channel"))?,
        status: RequestStatus::parse(&get_string(row, "status")?).ok_or_else(|| bad("status"))?,
        urgency: Urgency::parse(&get_string(row, "urgency")?).ok_or_else(|| bad("urgency"))?,
        topics: get_string(row, "topics")?
            .split(',')
            .filter_map(Topic::parse)
            .collect(),
        contact_mode: ContactMode::parse(&get_string(row, "contact_mode")?)
            .ok_or_else(|| bad("contact mode"))?,
        created_at: get_i64(row, "created_at")?,
        updated_at: get_i64(row, "updated_at")?,
        first_contact_at: get_opt_i64(row, "first_contact_at")?,
        closed_at: get_opt_i64(row, "closed_at")?,
        escalated_at: get_opt_i64(row, "escalated_at")?,
        filed_blind: get_i64(row, "filed_blind")? == 1,
    })
}

/// Where each sealed value lives, bound into its encryption.
pub(super) fn context(id: i64, column: &str) -> String {
    format!("support_requests:{id}:{column}")
}

fn owner_index(key: &DataKey, owner: AccountId) -> String {
    key.blind_index("support_request_owner", &owner.0.to_string())
}

/// What the data key's check value is sealed under.
pub(super) const KEY_CHECK_CONTEXT: &str = "settings:data_key_check";

impl Store {
    pub(super) fn data_key(&self) -> StoreResult<&DataKey> {
        self.data_key.as_deref().ok_or(StoreError::Unsealable(
            "this server was started without a data key, so it cannot handle support requests",
        ))
    }

    /// Checks that `key` is the one this database's identities were sealed with, by
    /// opening a value sealed at first use. A different key is refused rather than
    /// silently producing data no one can read later.
    pub async fn check_data_key(&self, key: &DataKey) -> StoreResult<Result<(), String>> {
        const CTX: &str = KEY_CHECK_CONTEXT;
        // Written first if absent, then read: of two instances starting at once with
        // different keys, the first to write sets the check and the other fails it.
        self.write_one(
            sqlx::query(
                "INSERT INTO settings (setting_key, setting_value) VALUES ('data_key_check', $1)
                 ON CONFLICT (setting_key) DO NOTHING",
            )
            .bind(key.seal(CTX, "wecare")),
        )
        .await?;
        let row =
            sqlx::query("SELECT setting_value FROM settings WHERE setting_key = 'data_key_check'")
                .fetch_one(&self.pool)
                .await?;
        Ok(key
            .open(CTX, &get_string(&row, "setting_value")?)
            .map(|_| ())
            .map_err(|e| e.to_string()))
    }

    /// Records a request and returns it with its receipt code (shown once, stored only as
    /// a digest).
    /// `alerts` (coordinators told of an urgent request) are queued in the same
    /// transaction.
    pub async fn create_support_request(
        &self,
        r: &NewRequest,
        owner: Option<AccountId>,
        alerts: &[super::NewMessage],
    ) -> StoreResult<(RequestSummary, String)> {
        let key = self.data_key()?;
        let now = self.now();
        let id = crypto::random_id();
        let code = new_receipt_code();
        let topics: Vec<&str> = r.topics.iter().map(|t| t.key()).collect();
        let identity = serde_json::to_string(&r.identity)
            .map_err(|e| StoreError::Database(sqlx::Error::Encode(e.into())))?;
        let prefs = serde_json::to_string(&r.preferences)
            .map_err(|e| StoreError::Database(sqlx::Error::Encode(e.into())))?;
        let message =
            (!r.message.is_empty()).then(|| key.seal(&context(id, "message"), &r.message));
        // A reference collision (1 in a million per pair) is retried with another.
        for _ in 0..5 {
            let reference = format!("R-{}", &new_receipt_code()[..4]);
            let mut tx = self.begin_write().await?;
            let inserted = sqlx::query(
                // The blind setting in force is kept with the request: what the form
                // promised holds for it, whatever the setting later.
                "INSERT INTO support_requests (id, reference, receipt_digest, owner_index, channel,
                     status, urgency, topics, contact_mode, sealed_identity, sealed_preferences,
                     sealed_message, created_at, updated_at, reason, filed_blind)
                 VALUES ($1, $2, $3, $4, $5, 'submitted', $6, $7, $8, $9, $10, $11, $12, $12, $13,
                     COALESCE((SELECT CASE WHEN setting_value = '1' THEN 1 ELSE 0 END
                               FROM settings WHERE setting_key = 'support_coordinator_blind'), 0))",
            )
            .bind(id)
            .bind(&reference)
            .bind(crypto::secret_digest(&code))
            .bind(owner.map(|o| owner_index(key, o)))
            .bind(r.channel.key())
            .bind(r.urgency.key())
            .bind(topics.join(","))
            .bind(r.contact_mode.key())
            .bind(key.seal(&context(id, "identity"), &identity))
            .bind(key.seal(&context(id, "preferences"), &prefs))
            .bind(message.clone())
            .bind(now)
            .bind(r.reason.map(|x| x.key()))
            .execute(&mut *tx)
            .await;
            match inserted {
                Ok(_) => {
                    for m in alerts {
                        super::outbox::enqueue_in(&mut tx, m, self).await?;
                    }
                    tx.commit().await?;
                    if !alerts.is_empty() {
                        self.wake_delivery();
                    }
                    return Ok((self.support_request(id).await?, code));
                }
                Err(sqlx::Error::Database(d)) if d.is_unique_violation() => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::Conflict(Conflict::RequestNotFiled))
    }

    /// Several requests by id, in one query (ids that name none are left out).
    pub(super) async fn support_requests_by_id(
        &self,
        ids: &[i64],
    ) -> StoreResult<Vec<RequestSummary>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list = super::placeholders(ids.len());
        let rows = super::bind_ids(
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {SUMMARY_COLUMNS} FROM support_requests WHERE id IN ({list})"
            ))),
            ids,
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(summary_from_row).collect()
    }

    pub async fn support_request(&self, id: i64) -> StoreResult<RequestSummary> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {SUMMARY_COLUMNS} FROM support_requests WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        summary_from_row(&row)
    }

    /// The request a receipt code belongs to.
    pub async fn support_request_by_receipt(&self, code: &str) -> StoreResult<RequestSummary> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {SUMMARY_COLUMNS} FROM support_requests WHERE receipt_digest = $1"
        )))
        .bind(crypto::secret_digest(code))
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        summary_from_row(&row)
    }

    /// Withdraws an open request; its free text is erased at once.
    pub async fn withdraw_support_request(&self, code: &str) -> StoreResult<RequestSummary> {
        let digest = crypto::secret_digest(code);
        if !self.withdraw_where("receipt_digest = $2", &digest).await? {
            // Unknown codes are NotFound (one answer for all of them); known ones are closed.
            self.support_request_by_receipt(code).await?;
            return Err(StoreError::Conflict(Conflict::RequestClosed));
        }
        self.support_request_by_receipt(code).await
    }

    /// A signed-in member withdraws one of their own requests, found by its owner's blind
    /// index: another member's request (or one filed signed out) is NotFound, as if it
    /// did not exist.
    pub async fn withdraw_own_support_request(
        &self,
        owner: AccountId,
        id: i64,
    ) -> StoreResult<RequestSummary> {
        let index = owner_index(self.data_key()?, owner);
        let clause = format!("owner_index = $2 AND id = {id}");
        if !self.withdraw_where(&clause, &index).await? {
            let mine = self.my_support_requests(owner).await?;
            return Err(match mine.iter().any(|r| r.id == id) {
                true => StoreError::Conflict(Conflict::RequestClosed),
                false => StoreError::NotFound,
            });
        }
        self.support_request(id).await
    }

    /// Withdraws the open request that `clause` finds (with `$2` bound to `key`); false
    /// if there is none. One transaction: the request is withdrawn and any offer still
    /// open on it is cancelled, so no helper can accept it afterwards.
    async fn withdraw_where(&self, clause: &str, key: &str) -> StoreResult<bool> {
        let now = self.now();
        let mut tx = self.begin_write().await?;
        // Offers first, then the request: the order answering and expiring take, so that
        // on PostgreSQL two of them at once wait for each other instead of deadlocking.
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE support_offers SET status = 'cancelled', responded_at = $1
             WHERE status = 'offered' AND request_id IN (
                 SELECT id FROM support_requests
                 WHERE {clause} AND status NOT IN ('closed', 'withdrawn'))"
        )))
        .bind(now)
        .bind(key)
        .execute(&mut *tx)
        .await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE support_requests SET status = 'withdrawn', updated_at = $1, closed_at = $1,
                 outcome = 'withdrawn', sealed_message = NULL
             WHERE {clause} AND status NOT IN ('closed', 'withdrawn')
             RETURNING id"
        )))
        .bind(now)
        .bind(key)
        .fetch_optional(&mut *tx)
        .await?;
        if row.is_none() {
            return Ok(false);
        }
        tx.commit().await?;
        Ok(true)
    }

    /// A member's own requests, newest first.
    pub async fn my_support_requests(&self, owner: AccountId) -> StoreResult<Vec<RequestSummary>> {
        let key = self.data_key()?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {SUMMARY_COLUMNS} FROM support_requests WHERE owner_index = $1
             ORDER BY created_at DESC, id DESC"
        )))
        .bind(owner_index(key, owner))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(summary_from_row).collect()
    }

    /// Open requests, oldest first: the coordinators' queue.
    pub async fn support_queue(&self) -> StoreResult<Vec<RequestSummary>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {SUMMARY_COLUMNS} FROM support_requests
             WHERE status NOT IN ('closed', 'withdrawn')
             ORDER BY CASE WHEN escalated_at IS NULL THEN 1 ELSE 0 END, created_at, id"
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(summary_from_row).collect()
    }
}

impl Store {
    /// Re-seals every sealed value and blind index under `new`, in one transaction: after
    /// it commits, only `new` opens the data. Returns how many requests were re-sealed.
    pub async fn rotate_data_key(&self, old: &DataKey, new: &DataKey) -> StoreResult<u64> {
        use sqlx::Row;
        let damaged =
            |_| StoreError::Unsealable("A sealed value does not open with the current key.");
        let mut tx = self.begin_write().await?;
        let rows = sqlx::query(
            "SELECT id, sealed_identity, sealed_preferences, sealed_message, owner_index
             FROM support_requests",
        )
        .fetch_all(&mut *tx)
        .await?;
        // Blind indexes cannot be opened, only recomputed: map each account's old index to
        // its new one.
        let accounts = sqlx::query("SELECT id FROM accounts")
            .fetch_all(&mut *tx)
            .await?;
        let mut owners = std::collections::HashMap::new();
        for a in &accounts {
            let id = AccountId(get_i64(a, "id")?);
            owners.insert(owner_index(old, id), owner_index(new, id));
        }
        let mut n = 0;
        for row in &rows {
            let id = get_i64(row, "id")?;
            let reseal = |column: &str| -> StoreResult<Option<String>> {
                match row.try_get::<Option<String>, _>(column)? {
                    Some(v) => {
                        let ctx = context(id, column.trim_start_matches("sealed_"));
                        let plain = old.open(&ctx, &v).map_err(damaged)?;
                        Ok(Some(new.seal(&ctx, &plain)))
                    }
                    None => Ok(None),
                }
            };
            let identity = reseal("sealed_identity")?;
            let preferences = reseal("sealed_preferences")?;
            let message = reseal("sealed_message")?;
            let owner = row
                .try_get::<Option<String>, _>("owner_index")?
                .and_then(|o| owners.get(&o).cloned());
            sqlx::query(
                "UPDATE support_requests SET sealed_identity = $1, sealed_preferences = $2,
                     sealed_message = $3, owner_index = $4 WHERE id = $5",
            )
            .bind(identity)
            .bind(preferences)
            .bind(message)
            .bind(owner)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            n += 1;
        }
        // Peer-support messages in the outbox are sealed with the same key.
        let messages = sqlx::query(
            "SELECT id, to_address, body_text, body_html FROM outbox WHERE confidential = 1",
        )
        .fetch_all(&mut *tx)
        .await?;
        for row in &messages {
            let id = get_i64(row, "id")?;
            let mut values = Vec::new();
            for column in ["to_address", "body_text", "body_html"] {
                let v = get_string(row, column)?;
                // Bodies are erased (empty) once a message is sent.
                values.push(if v.is_empty() {
                    v
                } else {
                    let ctx = super::outbox::outbox_context(id, column);
                    new.seal(&ctx, &old.open(&ctx, &v).map_err(damaged)?)
                });
            }
            sqlx::query(
                "UPDATE outbox SET to_address = $1, body_text = $2, body_html = $3 WHERE id = $4",
            )
            .bind(&values[0])
            .bind(&values[1])
            .bind(&values[2])
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        // Registration links and private events' registrants depend on the key too.
        super::registrations::rotate_registrations(&mut tx, old, new).await?;
        sqlx::query("UPDATE settings SET setting_value = $1 WHERE setting_key = 'data_key_check'")
            .bind(new.seal(KEY_CHECK_CONTEXT, "wecare"))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(n)
    }

    /// The sealed identity of a request, opened (for the peer who takes it; and for tests).
    pub async fn support_identity(
        &self,
        id: i64,
    ) -> StoreResult<Option<crate::domain::support::Identity>> {
        let key = self.data_key()?;
        let row = sqlx::query("SELECT sealed_identity FROM support_requests WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        use sqlx::Row;
        let Some(sealed) = row.try_get::<Option<String>, _>("sealed_identity")? else {
            return Ok(None);
        };
        let json = key.open(&context(id, "identity"), &sealed).map_err(|_| {
            StoreError::Unsealable("A sealed value does not open with the current key.")
        })?;
        serde_json::from_str(&json)
            .map(Some)
            .map_err(|e| StoreError::Database(sqlx::Error::Decode(e.into())))
    }
}

impl Store {
    /// A request as matching takes it: its sealed department, avoid list and preferences
    /// opened in memory, never shown. Also says whose it is, if a member filed it, only as
    /// far as matching needs (never to be the requester's own helper).
    pub async fn request_for_matching(
        &self,
        id: i64,
        accounts: &[i64],
    ) -> StoreResult<crate::domain::matching::Request> {
        self.requests_for_matching(&[id], accounts)
            .await?
            .pop()
            .ok_or(StoreError::NotFound)
    }

    /// What matching needs of several requests, in one query, in the order of `ids`.
    pub async fn requests_for_matching(
        &self,
        ids: &[i64],
        accounts: &[i64],
    ) -> StoreResult<Vec<crate::domain::matching::Request>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list = super::placeholders(ids.len());
        let rows = super::bind_ids(
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT id, topics, sealed_identity, sealed_preferences, owner_index
                 FROM support_requests WHERE id IN ({list})"
            ))),
            ids,
        )
        .fetch_all(&self.pool)
        .await?;
        let mut found = rows
            .iter()
            .map(|r| self.matching_request_from(r, accounts))
            .collect::<StoreResult<Vec<_>>>()?;
        found.sort_by_key(|r| ids.iter().position(|i| *i == r.id));
        if found.len() != ids.len() {
            return Err(StoreError::NotFound);
        }
        Ok(found)
    }

    fn matching_request_from(
        &self,
        row: &sqlx::any::AnyRow,
        accounts: &[i64],
    ) -> StoreResult<crate::domain::matching::Request> {
        use sqlx::Row;
        let key = self.data_key()?;
        let id = get_i64(row, "id")?;
        let open = |column: &str| -> StoreResult<Option<String>> {
            match row.try_get::<Option<String>, _>(column)? {
                Some(v) => key
                    .open(&context(id, column.trim_start_matches("sealed_")), &v)
                    .map(Some)
                    .map_err(|_| {
                        StoreError::Unsealable("A sealed value does not open with the current key.")
                    }),
                None => Ok(None),
            }
        };
        let decode = |e: serde_json::Error| StoreError::Database(sqlx::Error::Decode(e.into()));
        let identity: crate::domain::support::Identity = match open("sealed_identity")? {
            Some(j) => serde_json::from_str(&j).map_err(decode)?,
            None => Default::default(),
        };
        let preferences: crate::domain::support::Preferences = match open("sealed_preferences")? {
            Some(j) => serde_json::from_str(&j).map_err(decode)?,
            None => Default::default(),
        };
        let owner = row.try_get::<Option<String>, _>("owner_index")?;
        let requester_account = owner.and_then(|o| {
            accounts
                .iter()
                .copied()
                .find(|a| owner_index(key, AccountId(*a)) == o)
        });
        Ok(crate::domain::matching::Request {
            id,
            requester_account,
            department: identity.department,
            avoid: identity.avoid,
            topics: get_string(row, "topics")?
                .split(',')
                .filter_map(Topic::parse)
                .collect(),
            preferences,
        })
    }
}

impl Store {
    /// Erases who asked, and everything they wrote or preferred, from requests closed or
    /// withdrawn before `before`. What remains is de-identified: month, channel, topics,
    /// urgency, time to first contact, the contacts (date, mode, minutes, resources) and
    /// the outcome. Returns how many requests were erased.
    pub async fn purge_identities(&self, before: i64) -> StoreResult<u64> {
        self.write_one(
            sqlx::query(
                "UPDATE support_requests SET sealed_identity = NULL, sealed_preferences = NULL,
                         sealed_message = NULL, owner_index = NULL
                     WHERE status IN ('closed', 'withdrawn') AND closed_at < $1
                       AND (sealed_identity IS NOT NULL OR sealed_preferences IS NOT NULL
                            OR sealed_message IS NOT NULL OR owner_index IS NOT NULL)",
            )
            .bind(before),
        )
        .await
    }
}

/// The service-level settings as stored: one row per key.
fn sla_pairs(
    s: &crate::domain::sla::ServiceLevelSettings,
) -> impl Iterator<Item = (&'static str, String)> {
    let values = [
        s.time_zone.clone(),
        s.days.clone(),
        s.hours.clone(),
        s.holidays.clone(),
        s.first_contact_hours.to_string(),
        s.urgent_first_contact_hours.to_string(),
        s.routine_first_contact_hours.to_string(),
        s.urgent_offer_hours.to_string(),
        s.soon_offer_hours.to_string(),
        s.routine_offer_hours.to_string(),
    ];
    SLA_KEYS.into_iter().zip(values)
}

/// Everything on the support settings page, saved together.
pub struct SupportSettings {
    pub service_level: crate::domain::sla::ServiceLevelSettings,
    pub weights: crate::domain::matching::Weights,
    pub policy: crate::domain::matching::Policy,
    pub coordinator_blind: bool,
    pub requires_sign_in: bool,
    pub requester_chooses: bool,
}

const SLA_KEYS: [&str; 10] = [
    "sla_time_zone",
    "sla_days",
    "sla_hours",
    "sla_holidays",
    "sla_first_contact_hours",
    "sla_urgent_first_contact_hours",
    "sla_routine_first_contact_hours",
    "sla_urgent_offer_hours",
    "sla_soon_offer_hours",
    "sla_routine_offer_hours",
];

impl Store {
    /// The service-level settings, with defaults for any not yet saved.
    pub async fn service_level_settings(
        &self,
    ) -> StoreResult<crate::domain::sla::ServiceLevelSettings> {
        let rows = sqlx::query(
            "SELECT setting_key, setting_value FROM settings WHERE setting_key LIKE 'sla_%'",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut s = crate::domain::sla::ServiceLevelSettings::default();
        for row in &rows {
            let v = get_string(row, "setting_value")?;
            match get_string(row, "setting_key")?.as_str() {
                "sla_time_zone" => s.time_zone = v,
                "sla_days" => s.days = v,
                "sla_hours" => s.hours = v,
                "sla_holidays" => s.holidays = v,
                "sla_first_contact_hours" => {
                    s.first_contact_hours = v.parse().unwrap_or(s.first_contact_hours)
                }
                "sla_urgent_first_contact_hours" => {
                    s.urgent_first_contact_hours = v.parse().unwrap_or(s.urgent_first_contact_hours)
                }
                "sla_routine_first_contact_hours" => {
                    s.routine_first_contact_hours =
                        v.parse().unwrap_or(s.routine_first_contact_hours)
                }
                "sla_urgent_offer_hours" => {
                    s.urgent_offer_hours = v.parse().unwrap_or(s.urgent_offer_hours)
                }
                "sla_soon_offer_hours" => {
                    s.soon_offer_hours = v.parse().unwrap_or(s.soon_offer_hours)
                }
                "sla_routine_offer_hours" => {
                    s.routine_offer_hours = v.parse().unwrap_or(s.routine_offer_hours)
                }
                _ => {}
            }
        }
        Ok(s)
    }

    pub async fn save_service_level_settings(
        &self,
        s: &crate::domain::sla::ServiceLevelSettings,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        for (key, value) in sla_pairs(s) {
            super::put_setting(&mut tx, key, &value).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Everything on the support settings page, in one transaction: a failure leaves
    /// every setting as it was. Switching coordinator-blind is audited with who did it,
    /// in the same transaction.
    pub async fn save_support_settings(
        &self,
        s: &SupportSettings,
        by: Option<AccountId>,
    ) -> StoreResult<()> {
        for _ in 0..10 {
            let mut tx = self.begin_write().await?;
            for (key, value) in sla_pairs(&s.service_level) {
                super::put_setting(&mut tx, key, &value).await?;
            }
            for (key, value) in super::helpers::matching_rule_pairs(&s.weights, &s.policy) {
                super::put_setting(&mut tx, &key, &value).await?;
            }
            for (key, on) in [
                ("support_requires_sign_in", s.requires_sign_in),
                ("support_requester_chooses", s.requester_chooses),
            ] {
                super::put_setting(&mut tx, key, if on { "1" } else { "0" }).await?;
            }
            match put_coordinator_blind_in(&mut tx, self.now(), s.coordinator_blind, by).await {
                Ok(()) => {}
                // Another instance appended to the audit log first: run it again.
                Err(StoreError::Database(sqlx::Error::Database(d))) if d.is_unique_violation() => {
                    continue;
                }
                Err(e) => return Err(e),
            }
            tx.commit().await?;
            return Ok(());
        }
        Err(StoreError::Conflict(Conflict::AuditBusy))
    }

    /// Open requests still waiting for a first contact, with their helper if any.
    pub async fn awaiting_first_contact(&self) -> StoreResult<Vec<(RequestSummary, Option<i64>)>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {SUMMARY_COLUMNS}, helper_id FROM support_requests
             WHERE status IN ('submitted', 'offered', 'accepted') AND first_contact_at IS NULL"
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((summary_from_row(r)?, get_opt_i64(r, "helper_id")?)))
            .collect()
    }
}

/// Feedback counts for coordinators.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct FeedbackSummary {
    pub answers: i64,
    /// How many rated the conversation 4 or 5 out of 5.
    pub helpful: i64,
    pub would_recommend: i64,
}

impl Store {
    /// Records anonymous feedback for the closed request a receipt code belongs to, once.
    /// The answer is stored apart from the request, with its month only.
    pub async fn give_feedback(&self, code: &str, helpful: u8, recommend: bool) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "UPDATE support_requests SET feedback_given = 1
             WHERE receipt_digest = $1 AND status = 'closed' AND feedback_given = 0
             RETURNING closed_at",
        )
        .bind(crypto::secret_digest(code))
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::Conflict(Conflict::FeedbackOnce))?;
        let month = jiff::Timestamp::from_second(get_opt_i64(&row, "closed_at")?.unwrap_or(0))
            .map(|t| t.strftime("%Y-%m").to_string())
            .unwrap_or_default();
        sqlx::query(
            "INSERT INTO support_feedback (id, month, helpful, recommend) VALUES ($1, $2, $3, $4)",
        )
        .bind(crypto::random_id())
        .bind(month)
        .bind(i64::from(helpful))
        .bind(i64::from(recommend))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn feedback_summary(&self) -> StoreResult<FeedbackSummary> {
        let row = sqlx::query(
            "SELECT CAST(COUNT(*) AS BIGINT) AS n,
                    CAST(COALESCE(SUM(CASE WHEN helpful >= 4 THEN 1 ELSE 0 END), 0) AS BIGINT) AS helpful,
                    CAST(COALESCE(SUM(recommend), 0) AS BIGINT) AS recommend
             FROM support_feedback",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(FeedbackSummary {
            answers: get_i64(&row, "n")?,
            helpful: get_i64(&row, "helpful")?,
            would_recommend: get_i64(&row, "recommend")?,
        })
    }
}

/// Sets coordinator-blind working inside the caller's transaction, and audits a change
/// with who made it there too: the flag read, its change and the audit entry are one
/// act, so two coordinators switching it at once leave one entry per real change.
pub(super) async fn put_coordinator_blind_in(
    tx: &mut sqlx::AnyConnection,
    now: i64,
    blind: bool,
    by: Option<AccountId>,
) -> StoreResult<()> {
    const KEY: &str = "support_coordinator_blind";
    // The row is locked before it is read (on PostgreSQL a plain read would not wait for
    // another switch in flight, and both could act on the same old value). Absent means
    // off, so an absent row is made "0" first.
    sqlx::query(
        "INSERT INTO settings (setting_key, setting_value) VALUES ($1, '0')
         ON CONFLICT (setting_key) DO NOTHING",
    )
    .bind(KEY)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE settings SET setting_value = setting_value WHERE setting_key = $1")
        .bind(KEY)
        .execute(&mut *tx)
        .await?;
    let was_blind = sqlx::query("SELECT setting_value FROM settings WHERE setting_key = $1")
        .bind(KEY)
        .fetch_optional(&mut *tx)
        .await?
        .map(|r| get_string(&r, "setting_value"))
        .transpose()?
        .is_some_and(|v| v == "1");
    if was_blind == blind {
        return Ok(());
    }
    super::put_setting(tx, KEY, if blind { "1" } else { "0" }).await?;
    let action = if blind {
        "settings.coordinator_blind_on"
    } else {
        "settings.coordinator_blind_off"
    };
    Ok(super::audit::append_in(tx, now, by, action, "settings:support_coordinator_blind").await?)
}
