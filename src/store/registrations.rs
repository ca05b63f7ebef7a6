//! Registrations: registering (with the event locked), the waiting list and its
//! promotions, offers of a freed place, lotteries, reminders, check-in, a member's
//! registrations and personal calendar feed, and the secrets in registration links.

use crate::domain::conflict::Conflict;
use sqlx::AnyConnection;
use sqlx::any::AnyRow;

use super::events::{Locked, Promoted, opt_string, place_counts};
use super::outbox::enqueue_in;
use super::{NewMessage, Store, StoreError, StoreResult, get_i64, get_opt_i64, get_string};
use crate::crypto;
use crate::domain::events::{
    Allocation, Answer, Child, Consent, Event, EventStatus, GuardianContact, RegistrationStatus,
    lottery_order, promotable,
};

/// Someone's registration as the programme keeps it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Registration {
    pub id: i64,
    /// Name and e-mail are sealed in the database (private events); opened on reading.
    #[serde(skip)]
    pub sealed: bool,
    pub event_id: i64,
    #[serde(skip)]
    pub account_id: Option<i64>,
    pub name: String,
    pub email: String,
    pub places: i64,
    pub answers: Vec<Answer>,
    pub status: RegistrationStatus,
    /// Place on the waiting list, from 1, when waitlisted.
    pub position: Option<i64>,
    pub offer_expires_at: Option<i64>,
    pub checked_in_at: Option<i64>,
    pub created_at: i64,
    pub children: Vec<Child>,
    pub consent_version: Option<String>,
    pub guardian_relationship: Option<String>,
    /// Opened from its sealed column: the telephone numbers staff call on the day.
    pub guardian_contact: Option<GuardianContact>,
    pub consented_at: Option<i64>,
}

/// A registration to record.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct NewRegistration {
    pub event_id: i64,
    pub account_id: Option<i64>,
    pub name: String,
    /// Lower case; one registration per address and event.
    pub email: String,
    pub answers: Vec<Answer>,
    pub children: Vec<Child>,
    pub consent: Option<Consent>,
}

/// What registering did.
#[derive(Debug, Clone)]
pub struct Registered {
    pub id: i64,
    pub status: RegistrationStatus,
    pub position: Option<i64>,
    /// False when the person was already registered: nothing changed.
    pub created: bool,
    /// The secret of the link to manage the registration.
    pub secret: String,
}

const REGISTRATION_COLUMNS: &str =
    "r.id, r.event_id, r.account_id, r.name, r.email, r.sealed, r.places,
    r.answers, r.status, r.offer_expires_at, r.checked_in_at, r.created_at, r.consent_version,
    r.guardian_relationship, r.consented_at, r.guardian_contact,
    CAST(CASE WHEN r.status = 'waitlisted' THEN (SELECT COUNT(*) FROM registrations w
        WHERE w.event_id = r.event_id AND w.status = 'waitlisted' AND w.arrival <= r.arrival)
        ELSE 0 END AS BIGINT) AS position";

fn registration_from(row: &AnyRow) -> StoreResult<Registration> {
    let status = RegistrationStatus::parse(&get_string(row, "status")?)
        .unwrap_or(RegistrationStatus::Cancelled);
    let position = get_i64(row, "position")?;
    Ok(Registration {
        id: get_i64(row, "id")?,
        sealed: get_i64(row, "sealed")? == 1,
        event_id: get_i64(row, "event_id")?,
        account_id: get_opt_i64(row, "account_id")?,
        name: get_string(row, "name")?,
        email: get_string(row, "email")?,
        places: get_i64(row, "places")?,
        answers: serde_json::from_str(&get_string(row, "answers")?).unwrap_or_default(),
        status,
        position: (status == RegistrationStatus::Waitlisted).then_some(position),
        offer_expires_at: get_opt_i64(row, "offer_expires_at")?,
        checked_in_at: get_opt_i64(row, "checked_in_at")?,
        created_at: get_i64(row, "created_at")?,
        children: Vec::new(),
        consent_version: opt_string(row, "consent_version")?,
        guardian_relationship: opt_string(row, "guardian_relationship")?,
        guardian_contact: None,
        consented_at: get_opt_i64(row, "consented_at")?,
    })
}

/// Where a private event's registrant's name or e-mail is sealed.
fn person_context(id: i64, column: &str) -> String {
    format!("registrations:{id}:{column}")
}

/// The secret of a registration's manage link under `key`.
pub(super) fn registration_secret_with(key: &crate::sealing::DataKey, id: i64) -> String {
    key.blind_index("registration:manage", &id.to_string())[..40].to_string()
}

/// Moves registrations to a new data key, inside the rotation's transaction: the digest
/// of each manage link's secret (derived from the key), and a private event's sealed
/// names, e-mails and keyed digests.
pub(super) async fn rotate_registrations(
    conn: &mut AnyConnection,
    old: &crate::sealing::DataKey,
    new: &crate::sealing::DataKey,
) -> StoreResult<()> {
    let damaged = |_| StoreError::Unsealable("A sealed value does not open with the current key.");
    // Members' digests, old to new: a digest is not reversible, so every account is tried.
    let mut moved_index = std::collections::HashMap::new();
    for a in sqlx::query("SELECT id FROM accounts")
        .fetch_all(&mut *conn)
        .await?
    {
        let account = get_i64(&a, "id")?;
        moved_index.insert(account_index(old, account), account_index(new, account));
    }
    let rows = sqlx::query(
        "SELECT id, name, email, person_key, sealed, answers, account_index, guardian_contact
         FROM registrations",
    )
    .fetch_all(&mut *conn)
    .await?;
    for row in &rows {
        let id = get_i64(row, "id")?;
        let (mut name, mut email, mut person_key, mut answers) = (
            get_string(row, "name")?,
            get_string(row, "email")?,
            get_string(row, "person_key")?,
            get_string(row, "answers")?,
        );
        let index = opt_string(row, "account_index")?.and_then(|i| moved_index.get(&i).cloned());
        let contact = match opt_string(row, "guardian_contact")? {
            Some(sealed) => {
                let context = person_context(id, "guardian_contact");
                let plain = old.open(&context, &sealed).map_err(damaged)?;
                Some(new.seal(&context, &plain))
            }
            None => None,
        };
        if get_i64(row, "sealed")? == 1 {
            let plain_name = old
                .open(&person_context(id, "name"), &name)
                .map_err(damaged)?;
            let plain_email = old
                .open(&person_context(id, "email"), &email)
                .map_err(damaged)?;
            name = new.seal(&person_context(id, "name"), &plain_name);
            email = new.seal(&person_context(id, "email"), &plain_email);
            person_key = sealed_person_key(new, &plain_email);
            if is_sealed_text(&answers) {
                let plain = old
                    .open(&person_context(id, "answers"), &answers)
                    .map_err(damaged)?;
                answers = new.seal(&person_context(id, "answers"), &plain);
            }
        }
        sqlx::query(
            "UPDATE registrations SET name = $2, email = $3, person_key = $4, manage_digest = $5,
                 answers = $6, account_index = $7, guardian_contact = $8
             WHERE id = $1",
        )
        .bind(id)
        .bind(name)
        .bind(email)
        .bind(person_key)
        .bind(crypto::secret_digest(&registration_secret_with(new, id)))
        .bind(answers)
        .bind(index)
        .bind(contact)
        .execute(&mut *conn)
        .await?;
    }
    rotate_derived(conn, old, new).await
}

/// A personal calendar feed's token: the URL's secret.
fn calendar_token_with(key: &crate::sealing::DataKey, account: i64, nonce: &str) -> String {
    key.blind_index("calendar-feed", &format!("{account}:{nonce}"))[..48].to_string()
}

/// Moves the other things derived from the data key (calendar feed tokens, pending guest
/// confirmations) to a new key, inside the rotation's transaction.
async fn rotate_derived(
    conn: &mut AnyConnection,
    old: &crate::sealing::DataKey,
    new: &crate::sealing::DataKey,
) -> StoreResult<()> {
    for row in sqlx::query("SELECT account_id, nonce FROM calendar_feeds")
        .fetch_all(&mut *conn)
        .await?
    {
        let account = get_i64(&row, "account_id")?;
        let token = calendar_token_with(new, account, &get_string(&row, "nonce")?);
        sqlx::query("UPDATE calendar_feeds SET token = $2 WHERE account_id = $1")
            .bind(account)
            .bind(crypto::secret_digest(&token))
            .execute(&mut *conn)
            .await?;
    }
    let damaged = |_| StoreError::Unsealable("A sealed value does not open with the current key.");
    for row in sqlx::query("SELECT id, sealed_registration FROM guest_confirmations")
        .fetch_all(&mut *conn)
        .await?
    {
        let id = get_i64(&row, "id")?;
        let plain = old
            .open(
                &confirmation_context(id),
                &get_string(&row, "sealed_registration")?,
            )
            .map_err(damaged)?;
        let email = serde_json::from_str::<NewRegistration>(&plain)
            .map(|r| r.email)
            .unwrap_or_default();
        let secret = confirmation_secret_with(new, id);
        sqlx::query(
            "UPDATE guest_confirmations SET sealed_registration = $2, person_key = $3,
                 secret_digest = $4
             WHERE id = $1",
        )
        .bind(id)
        .bind(new.seal(&confirmation_context(id), &plain))
        .bind(sealed_person_key(new, &email))
        .bind(crypto::secret_digest(&secret))
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Whether a stored value is sealed (clear answers are JSON, which starts with `[`).
fn is_sealed_text(v: &str) -> bool {
    v.starts_with("v1.")
}

/// The keyed digest a member's registration for a private event is found by, instead of
/// the account id: a copy of the database does not tell who registered.
pub(super) fn account_index(key: &crate::sealing::DataKey, account: i64) -> String {
    key.blind_index("registration:account", &account.to_string())
}

/// Answers as stored: clear JSON, or for a private event sealed in their place.
fn stored_answers(key: Option<&crate::sealing::DataKey>, id: i64, answers: &[Answer]) -> String {
    let json = serde_json::to_string(answers).unwrap_or_else(|_| "[]".into());
    match key {
        Some(k) => k.seal(&person_context(id, "answers"), &json),
        None => json,
    }
}

/// The key under which a private event's registrant is found (a keyed digest).
pub(super) fn sealed_person_key(key: &crate::sealing::DataKey, email: &str) -> String {
    key.blind_index("registration:person", email)
}

impl Store {
    /// A registration from its row, a private event's registrant's name, e-mail and
    /// answers opened for the caller.
    fn read_registration(&self, row: &AnyRow) -> StoreResult<Registration> {
        let mut r = registration_from(row)?;
        if let Some(sealed) = opt_string(row, "guardian_contact")? {
            let plain = self
                .data_key()?
                .open(&person_context(r.id, "guardian_contact"), &sealed)
                .map_err(|_| StoreError::Unsealable("a guardian's telephone numbers"))?;
            r.guardian_contact = serde_json::from_str(&plain).ok();
        }
        if r.sealed {
            (r.name, r.email) = self.open_name_and_email(r.id, &r.name, &r.email)?;
            let stored = get_string(row, "answers")?;
            if is_sealed_text(&stored) {
                let plain = self
                    .data_key()?
                    .open(&person_context(r.id, "answers"), &stored)
                    .map_err(|_| StoreError::Unsealable("a registration's answers"))?;
                r.answers = serde_json::from_str(&plain).unwrap_or_default();
            }
        }
        Ok(r)
    }

    /// Seals what registrations for private events made before 0013 kept in clear (the
    /// account id, the answers), once, at start-up. Returns how many rows changed.
    pub async fn seal_private_registrations(&self) -> StoreResult<u64> {
        let key = self.data_key()?;
        let rows = sqlx::query(
            "SELECT id, account_id, answers FROM registrations
             WHERE sealed = 1 AND (account_id IS NOT NULL OR answers NOT LIKE 'v1.%')",
        )
        .fetch_all(&self.pool)
        .await?;
        if rows.is_empty() {
            return Ok(0);
        }
        let mut tx = self.begin_write().await?;
        for row in &rows {
            let id = get_i64(row, "id")?;
            let answers = get_string(row, "answers")?;
            let answers = if is_sealed_text(&answers) {
                answers
            } else {
                key.seal(&person_context(id, "answers"), &answers)
            };
            sqlx::query(
                "UPDATE registrations SET account_id = NULL, answers = $2,
                     account_index = COALESCE(account_index, $3)
                 WHERE id = $1",
            )
            .bind(id)
            .bind(answers)
            .bind(get_opt_i64(row, "account_id")?.map(|a| account_index(key, a)))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(rows.len() as u64)
    }

    /// The digest a member's private registrations are found by ("" without a key).
    fn member_index(&self, account: i64) -> String {
        self.data_key
            .as_deref()
            .map(|k| account_index(k, account))
            .unwrap_or_default()
    }

    fn open_name_and_email(
        &self,
        id: i64,
        name: &str,
        email: &str,
    ) -> StoreResult<(String, String)> {
        let key = self.data_key()?;
        let damaged =
            |_| StoreError::Unsealable("A registration does not open with this server's data key.");
        Ok((
            key.open(&person_context(id, "name"), name)
                .map_err(damaged)?,
            key.open(&person_context(id, "email"), email)
                .map_err(damaged)?,
        ))
    }

    /// Name and e-mail from a row with `id`, `name`, `email` and `sealed`, opened.
    pub(super) fn person_of(&self, row: &AnyRow) -> StoreResult<(String, String)> {
        let (name, email) = (get_string(row, "name")?, get_string(row, "email")?);
        if get_i64(row, "sealed")? == 1 {
            self.open_name_and_email(get_i64(row, "id")?, &name, &email)
        } else {
            Ok((name, email))
        }
    }

    /// The keys an address may be stored under: as it is, and for private events as a
    /// keyed digest.
    pub(super) fn person_keys(&self, email: &str) -> (String, String) {
        let sealed = self
            .data_key
            .as_deref()
            .map(|k| sealed_person_key(k, email))
            .unwrap_or_else(|| email.to_string());
        (email.to_string(), sealed)
    }

    /// Registers someone. The same address twice returns the first registration
    /// unchanged. `mail` writes the confirmation (or waiting-list message), given the
    /// outcome and the secret of the manage link.
    pub async fn register(
        &self,
        r: &NewRegistration,
        arrival: Arrival<'_>,
        mail: impl FnOnce(&Registered, &str) -> Option<NewMessage>,
    ) -> StoreResult<Registered> {
        let mut tx = self.begin_write().await?;
        let (limit, guests_from_here) = match &arrival {
            Arrival::Guest(l) => (Some(l), count_guest(&mut tx, l, self.now()).await?),
            Arrival::Confirming { secret } => {
                // The link is used up by the registration it makes, or not at all.
                let n = sqlx::query(
                    "DELETE FROM guest_confirmations WHERE secret_digest = $1 AND expires_at > $2",
                )
                .bind(crypto::secret_digest(secret))
                .bind(self.now())
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if n != 1 {
                    return Err(StoreError::NotFound);
                }
                (None, 0)
            }
            Arrival::Direct => (None, 0),
        };
        // Taking the arrival number locks the event's row (as FOR UPDATE would) and
        // says what decides the outcome, in one statement. A number taken by someone
        // already registered is simply never used: positions are counted, not stored.
        let row = sqlx::query(
            "UPDATE events SET next_arrival = next_arrival + 1 WHERE id = $1
             RETURNING capacity, allocation, drawn_at, status, next_arrival, private_event",
        )
        .bind(r.event_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?;
        if get_string(&row, "status")? == EventStatus::Cancelled.key() {
            return Err(StoreError::Conflict(Conflict::EventCancelled));
        }
        let capacity = get_i64(&row, "capacity")?;
        let lottery_pending = get_string(&row, "allocation")? == Allocation::Lottery.key()
            && get_opt_i64(&row, "drawn_at")?.is_none();
        let arrival = get_i64(&row, "next_arrival")?;
        let private = get_i64(&row, "private_event")? == 1;
        let person_key = if private {
            sealed_person_key(self.data_key()?, &r.email)
        } else {
            r.email.clone()
        };
        // A statement of its own, so that on PostgreSQL it sees every registration
        // committed before the lock was granted.
        let state = sqlx::query(
            "SELECT
                 CAST(COALESCE(SUM(CASE WHEN status IN ('confirmed', 'offered') THEN places ELSE 0 END), 0) AS BIGINT) AS taken,
                 CAST(COALESCE(SUM(CASE WHEN status = 'waitlisted' THEN 1 ELSE 0 END), 0) AS BIGINT) AS waiting,
                 CAST(COALESCE(MAX(CASE WHEN person_key = $2 THEN id END), 0) AS BIGINT) AS existing_id,
                 MAX(CASE WHEN person_key = $2 THEN status END) AS existing_status,
                 CAST(COALESCE(MAX(CASE WHEN person_key = $2 THEN arrival END), 0) AS BIGINT) AS existing_arrival
             FROM registrations WHERE event_id = $1",
        )
        .bind(r.event_id)
        .bind(&person_key)
        .fetch_one(&mut *tx)
        .await?;
        let (mut taken, mut waiting) = (get_i64(&state, "taken")?, get_i64(&state, "waiting")?);
        let existing_id = get_i64(&state, "existing_id")?;
        if existing_id != 0 {
            let status = opt_string(&state, "existing_status")?
                .and_then(|s| RegistrationStatus::parse(&s))
                .unwrap_or(RegistrationStatus::Cancelled);
            if status != RegistrationStatus::Cancelled {
                let position = if status == RegistrationStatus::Waitlisted {
                    Some(
                        waitlist_position(
                            &mut tx,
                            r.event_id,
                            get_i64(&state, "existing_arrival")?,
                        )
                        .await?,
                    )
                } else {
                    None
                };
                tx.commit().await?;
                return Ok(Registered {
                    id: existing_id,
                    status,
                    position,
                    created: false,
                    secret: self.registration_secret(existing_id)?,
                });
            }
            if limit.is_some_and(|l| guests_from_here > l.per_hour) {
                return Err(StoreError::Conflict(Conflict::GuestLimitReached));
            }
            // Someone who cancelled and comes back joins at the end, like anyone new.
            sqlx::query("DELETE FROM registrations WHERE id = $1")
                .bind(existing_id)
                .execute(&mut *tx)
                .await?;
            (taken, waiting) = place_counts(&mut tx, r.event_id).await?;
        }
        if limit.is_some_and(|l| guests_from_here > l.per_hour) {
            return Err(StoreError::Conflict(Conflict::GuestLimitReached));
        }
        let places = (r.children.len() as i64).max(1);
        let status = if lottery_pending {
            RegistrationStatus::Entered
        } else if waiting == 0 && taken + places <= capacity {
            RegistrationStatus::Confirmed
        } else {
            RegistrationStatus::Waitlisted
        };
        let id = crypto::random_id();
        let secret = self.registration_secret(id)?;
        let at = self.now();
        // A private event's registrants are sealed like peer-support requests.
        let (stored_name, stored_email) = if private {
            let key = self.data_key()?;
            (
                key.seal(&person_context(id, "name"), &r.name),
                key.seal(&person_context(id, "email"), &r.email),
            )
        } else {
            (r.name.clone(), r.email.clone())
        };
        // A member of a private event is kept as a keyed digest, not an account id, and
        // their answers sealed: one join on a copy must not say who went to a debrief.
        let (account_id, member_index) = match (private, r.account_id) {
            (true, Some(a)) => (None, Some(account_index(self.data_key()?, a))),
            (_, a) => (a, None),
        };
        // Telephone numbers are sealed whatever the event: they reach a family at home.
        let guardian_contact = match &r.consent {
            Some(c) => Some(self.data_key()?.seal(
                &person_context(id, "guardian_contact"),
                // Three strings always serialise.
                &serde_json::to_string(&c.contact).unwrap_or_default(),
            )),
            None => None,
        };
        let answers_key = if private {
            Some(self.data_key()?)
        } else {
            None
        };
        sqlx::query(
            "INSERT INTO registrations (id, event_id, account_id, person_key, name, email, places,
                 answers, status, arrival, manage_digest, consent_version, guardian_relationship,
                 consented_at, created_at, updated_at, sealed, account_index, guardian_contact)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15, $16,
                 $17, $18)",
        )
        .bind(id)
        .bind(r.event_id)
        .bind(account_id)
        .bind(&person_key)
        .bind(stored_name)
        .bind(stored_email)
        .bind(places)
        .bind(stored_answers(answers_key, id, &r.answers))
        .bind(status.key())
        .bind(arrival)
        .bind(crypto::secret_digest(&secret))
        .bind(r.consent.as_ref().map(|c| c.version.clone()))
        .bind(r.consent.as_ref().map(|c| c.relationship.clone()))
        .bind(r.consent.as_ref().map(|_| at))
        .bind(at)
        .bind(i64::from(private))
        .bind(member_index)
        .bind(guardian_contact)
        .execute(&mut *tx)
        .await?;
        for c in &r.children {
            sqlx::query(
                "INSERT INTO registration_children (id, registration_id, first_name, grade, school)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(crypto::random_id())
            .bind(id)
            .bind(&c.first_name)
            .bind(&c.grade)
            .bind(&c.school)
            .execute(&mut *tx)
            .await?;
        }
        let out = Registered {
            id,
            status,
            position: (status == RegistrationStatus::Waitlisted).then_some(waiting + 1),
            created: true,
            secret: secret.clone(),
        };
        if let Some(m) = mail(&out, &secret) {
            enqueue_in(&mut tx, &m, self).await?;
        }
        tx.commit().await?;
        self.wake_delivery();
        Ok(out)
    }

    /// How many registrations made without an account an address has had since `since`
    /// (the limit that keeps guest registration from being used to flood an inbox).
    pub async fn guest_registrations_since(&self, email: &str, since: i64) -> StoreResult<i64> {
        // Confirmation links waiting for an answer count too: each is a message to the
        // address.
        let row = sqlx::query(
            "SELECT CAST((SELECT COUNT(*) FROM registrations
                          WHERE person_key IN ($1, $3) AND created_at > $2
                            AND account_id IS NULL AND account_index IS NULL)
                       + (SELECT COUNT(*) FROM guest_confirmations
                          WHERE person_key = $3 AND created_at > $2) AS BIGINT) AS n",
        )
        .bind(email)
        .bind(since)
        .bind(self.person_keys(email).1)
        .fetch_one(&self.pool)
        .await?;
        get_i64(&row, "n")
    }

    /// Whether the address has a registration for the event that still stands.
    pub async fn is_registered(&self, event_id: i64, email: &str) -> StoreResult<bool> {
        Ok(sqlx::query(
            "SELECT 1 AS x FROM registrations
             WHERE event_id = $1 AND person_key IN ($2, $3) AND status <> 'cancelled'",
        )
        .bind(event_id)
        .bind(email)
        .bind(self.person_keys(email).1)
        .fetch_optional(&self.pool)
        .await?
        .is_some())
    }

    /// The registration a manage link's secret belongs to.
    pub async fn registration_by_secret(&self, secret: &str) -> StoreResult<Registration> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {REGISTRATION_COLUMNS} FROM registrations r WHERE r.manage_digest = $1"
        )))
        .bind(crypto::secret_digest(secret))
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        let r = self.read_registration(&row)?;
        self.with_children(r).await
    }

    pub async fn registration(&self, id: i64) -> StoreResult<Registration> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {REGISTRATION_COLUMNS} FROM registrations r WHERE r.id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        let r = self.read_registration(&row)?;
        self.with_children(r).await
    }

    async fn with_children(&self, mut r: Registration) -> StoreResult<Registration> {
        let rows = sqlx::query(
            "SELECT first_name, grade, school FROM registration_children
             WHERE registration_id = $1 ORDER BY first_name",
        )
        .bind(r.id)
        .fetch_all(&self.pool)
        .await?;
        for c in &rows {
            r.children.push(Child {
                first_name: get_string(c, "first_name")?,
                grade: get_string(c, "grade")?,
                school: get_string(c, "school")?,
            });
        }
        Ok(r)
    }

    /// Everyone registered for an event, in arrival order (coordinators).
    pub async fn registrations_for(&self, event_id: i64) -> StoreResult<Vec<Registration>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {REGISTRATION_COLUMNS} FROM registrations r WHERE r.event_id = $1
             ORDER BY r.arrival"
        )))
        .bind(event_id)
        .fetch_all(&self.pool)
        .await?;
        let mut out: Vec<Registration> = rows
            .iter()
            .map(|row| self.read_registration(row))
            .collect::<StoreResult<_>>()?;
        let kids = sqlx::query(
            "SELECT c.registration_id, c.first_name, c.grade, c.school
             FROM registration_children c JOIN registrations r ON r.id = c.registration_id
             WHERE r.event_id = $1 ORDER BY c.first_name",
        )
        .bind(event_id)
        .fetch_all(&self.pool)
        .await?;
        for k in &kids {
            let rid = get_i64(k, "registration_id")?;
            if let Some(r) = out.iter_mut().find(|r| r.id == rid) {
                r.children.push(Child {
                    first_name: get_string(k, "first_name")?,
                    grade: get_string(k, "grade")?,
                    school: get_string(k, "school")?,
                });
            }
        }
        Ok(out)
    }

    /// A member's registration for one event, if it still stands.
    pub async fn registration_for_account(
        &self,
        event_id: i64,
        account: i64,
    ) -> StoreResult<Option<Registration>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {REGISTRATION_COLUMNS} FROM registrations r
             WHERE r.event_id = $1 AND (r.account_id = $2 OR r.account_index = $3)
               AND r.status <> 'cancelled'"
        )))
        .bind(event_id)
        .bind(account)
        .bind(self.member_index(account))
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(row) => {
                let r = self.read_registration(&row)?;
                Ok(Some(self.with_children(r).await?))
            }
            None => Ok(None),
        }
    }

    /// A member's registrations that still stand, with their events, soonest first.
    pub async fn registrations_of(
        &self,
        account: i64,
        from: i64,
    ) -> StoreResult<Vec<(Event, Registration)>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {REGISTRATION_COLUMNS} FROM registrations r JOIN events e ON e.id = r.event_id
             WHERE (r.account_id = $1 OR r.account_index = $3) AND r.status <> 'cancelled'
               AND e.ends_at > $2
             ORDER BY e.starts_at"
        )))
        .bind(account)
        .bind(from)
        .bind(self.member_index(account))
        .fetch_all(&self.pool)
        .await?;
        let registrations = rows
            .iter()
            .map(|row| self.read_registration(row))
            .collect::<StoreResult<Vec<_>>>()?;
        let ids: Vec<i64> = registrations.iter().map(|r| r.event_id).collect();
        let events = self.events_by_id(&ids).await?;
        Ok(registrations
            .into_iter()
            .filter_map(|r| {
                let e = events.iter().find(|e| e.id == r.event_id)?.clone();
                Some((e, r))
            })
            .collect())
    }

    /// Cancels a registration. Places it held go to those waiting, in arrival order:
    /// confirmed at once, or offered for the event's offer hours. `promoted_notice`
    /// writes each of their messages. Cancelling twice changes nothing.
    pub async fn cancel_registration(
        &self,
        id: i64,
        promoted_notice: impl Fn(&Promoted) -> Option<NewMessage>,
    ) -> StoreResult<Vec<Promoted>> {
        let mut tx = self.begin_write().await?;
        let event_id = get_i64(
            &sqlx::query("SELECT event_id FROM registrations WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(StoreError::NotFound)?,
            "event_id",
        )?;
        let locked = self.lock_event(&mut tx, event_id).await?;
        let changed = sqlx::query(
            "UPDATE registrations SET status = 'cancelled', offer_expires_at = NULL,
                 updated_at = $2
             WHERE id = $1 AND status <> 'cancelled'",
        )
        .bind(id)
        .bind(self.now())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let promoted = if changed == 1 && locked.status == EventStatus::Scheduled {
            self.fill_free_places(&mut tx, event_id, &locked, &promoted_notice)
                .await?
        } else {
            Vec::new()
        };
        tx.commit().await?;
        self.wake_delivery();
        Ok(promoted)
    }

    /// A coordinator gives someone waiting a place now, beyond the capacity if need be
    /// (an extra chair). They are told with `notice`.
    pub async fn give_place(
        &self,
        id: i64,
        notice: impl FnOnce(&Promoted) -> Option<NewMessage>,
    ) -> StoreResult<Promoted> {
        let mut tx = self.begin_write().await?;
        self.lock_scheduled_event_of(&mut tx, id, Conflict::EventCancelledNoPlace)
            .await?;
        let row = sqlx::query(
            "UPDATE registrations SET status = 'confirmed', offer_expires_at = NULL, updated_at = $2
             WHERE id = $1 AND status IN ('waitlisted', 'offered', 'entered')
             RETURNING id, name, email, sealed",
        )
        .bind(id)
        .bind(self.now())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::Conflict(
            Conflict::NotWaiting,
        ))?;
        let (name, email) = self.person_of(&row)?;
        let p = Promoted {
            id,
            secret: self.registration_secret(id)?,
            name,
            email,
            status: RegistrationStatus::Confirmed,
            offer_expires_at: None,
        };
        if let Some(m) = notice(&p) {
            enqueue_in(&mut tx, &m, self).await?;
        }
        tx.commit().await?;
        self.wake_delivery();
        Ok(p)
    }

    /// Locks the event of registration `id` (as every change to who holds a place does),
    /// refusing with `cancelled` if the event no longer takes place.
    async fn lock_scheduled_event_of(
        &self,
        conn: &mut AnyConnection,
        id: i64,
        cancelled: Conflict,
    ) -> StoreResult<Locked> {
        let event_id = get_i64(
            &sqlx::query("SELECT event_id FROM registrations WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *conn)
                .await?
                .ok_or(StoreError::NotFound)?,
            "event_id",
        )?;
        let locked = self.lock_event(conn, event_id).await?;
        if locked.status == EventStatus::Cancelled {
            return Err(StoreError::Conflict(cancelled));
        }
        Ok(locked)
    }

    /// Turns an offered place into a confirmed one, if the offer still stands and the
    /// event still takes place (with the event locked, like every change to places).
    pub async fn accept_place(&self, id: i64) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        self.lock_scheduled_event_of(&mut tx, id, Conflict::EventCancelledOfferGone)
            .await?;
        let n = sqlx::query(
            "UPDATE registrations SET status = 'confirmed', offer_expires_at = NULL,
                 updated_at = $2
             WHERE id = $1 AND status = 'offered' AND offer_expires_at > $2",
        )
        .bind(id)
        .bind(self.now())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        if n == 1 {
            Ok(())
        } else {
            Err(StoreError::Conflict(Conflict::PlaceOfferGone))
        }
    }

    /// Gives free places to the first waiting, while they fit (called with the event
    /// locked). Nothing moves before a lottery is drawn.
    pub(super) async fn fill_free_places(
        &self,
        conn: &mut AnyConnection,
        event_id: i64,
        locked: &Locked,
        notice: &impl Fn(&Promoted) -> Option<NewMessage>,
    ) -> StoreResult<Vec<Promoted>> {
        if locked.allocation == Allocation::Lottery && !locked.drawn {
            return Ok(Vec::new());
        }
        let (taken, _) = place_counts(conn, event_id).await?;
        let waiting = sqlx::query(
            "SELECT id, places, name, email, sealed FROM registrations
             WHERE event_id = $1 AND status = 'waitlisted' ORDER BY arrival LIMIT 200",
        )
        .bind(event_id)
        .fetch_all(&mut *conn)
        .await?;
        let queue: Vec<(i64, i64)> = waiting
            .iter()
            .map(|r| Ok((get_i64(r, "id")?, get_i64(r, "places")?)))
            .collect::<StoreResult<_>>()?;
        let chosen = promotable(locked.capacity - taken, &queue);
        let at = self.now();
        let (status, expires) = if locked.offer_hours > 0 {
            (
                RegistrationStatus::Offered,
                Some(at + locked.offer_hours * 3600),
            )
        } else {
            (RegistrationStatus::Confirmed, None)
        };
        let mut out = Vec::new();
        for row in &waiting {
            let id = get_i64(row, "id")?;
            if !chosen.contains(&id) {
                continue;
            }
            sqlx::query(
                "UPDATE registrations SET status = $2, offer_expires_at = $3, updated_at = $4
                 WHERE id = $1",
            )
            .bind(id)
            .bind(status.key())
            .bind(expires)
            .bind(at)
            .execute(&mut *conn)
            .await?;
            let (name, email) = self.person_of(row)?;
            let p = Promoted {
                id,
                secret: self.registration_secret(id)?,
                name,
                email,
                status,
                offer_expires_at: expires,
            };
            if let Some(m) = notice(&p) {
                enqueue_in(conn, &m, self).await?;
            }
            out.push(p);
        }
        Ok(out)
    }

    /// Events with offers of a freed place that were not taken up by `at`.
    pub async fn events_with_lapsed_offers(&self, at: i64) -> StoreResult<Vec<i64>> {
        sqlx::query(
            "SELECT DISTINCT event_id FROM registrations
             WHERE status = 'offered' AND offer_expires_at <= $1",
        )
        .bind(at)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| get_i64(r, "event_id"))
        .collect()
    }

    /// An event's offers not taken up in time lapse (the person keeps no place) and pass
    /// on to the next waiting. Returns how many lapsed.
    pub async fn lapse_place_offers(
        &self,
        event_id: i64,
        at: i64,
        notice: impl Fn(&Promoted) -> Option<NewMessage>,
    ) -> StoreResult<u64> {
        let mut tx = self.begin_write().await?;
        let locked = self.lock_event(&mut tx, event_id).await?;
        let lapsed = sqlx::query(
            "UPDATE registrations SET status = 'cancelled', offer_expires_at = NULL,
                 updated_at = $2
             WHERE event_id = $1 AND status = 'offered' AND offer_expires_at <= $2",
        )
        .bind(event_id)
        .bind(at)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if locked.status == EventStatus::Scheduled {
            self.fill_free_places(&mut tx, event_id, &locked, &notice)
                .await?;
        }
        tx.commit().await?;
        self.wake_delivery();
        Ok(lapsed)
    }

    /// Events whose lottery is due and not drawn.
    pub async fn lotteries_due(&self, at: i64) -> StoreResult<Vec<i64>> {
        sqlx::query(
            "SELECT id FROM events WHERE allocation = 'lottery' AND drawn_at IS NULL
                 AND status = 'scheduled' AND lottery_at <= $1",
        )
        .bind(at)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| get_i64(r, "id"))
        .collect()
    }

    /// Draws an event's lottery with `seed`: entries ranked by `lottery_order`, places
    /// given in that order while they fit, the rest waitlisted in drawn order. Returns
    /// the number of entries, or None when it had already been drawn.
    pub async fn draw_lottery(
        &self,
        event_id: i64,
        seed: &str,
        notice: impl Fn(&Promoted, Option<i64>) -> Option<NewMessage>,
    ) -> StoreResult<Option<usize>> {
        let mut tx = self.begin_write().await?;
        let locked = self.lock_event(&mut tx, event_id).await?;
        if locked.drawn || locked.allocation != Allocation::Lottery {
            return Ok(None);
        }
        let rows = sqlx::query(
            "SELECT id, places, name, email, sealed FROM registrations
             WHERE event_id = $1 AND status = 'entered'",
        )
        .bind(event_id)
        .fetch_all(&mut *tx)
        .await?;
        let ids: Vec<i64> = rows
            .iter()
            .map(|r| get_i64(r, "id"))
            .collect::<StoreResult<_>>()?;
        let order = lottery_order(seed, &ids);
        let mut free = locked.capacity;
        let mut waiting = 0;
        let at = self.now();
        for (rank, id) in order.iter().enumerate() {
            let Some(row) = rows.iter().find(|r| get_i64(r, "id").ok() == Some(*id)) else {
                continue;
            };
            let places = get_i64(row, "places")?;
            // Once one entry does not fit, the rest wait: the drawn order is kept.
            let status = if waiting == 0 && places <= free {
                free -= places;
                RegistrationStatus::Confirmed
            } else {
                waiting += 1;
                RegistrationStatus::Waitlisted
            };
            sqlx::query(
                "UPDATE registrations SET status = $2, arrival = $3, updated_at = $4 WHERE id = $1",
            )
            .bind(id)
            .bind(status.key())
            .bind(rank as i64 + 1)
            .bind(at)
            .execute(&mut *tx)
            .await?;
            let (name, email) = self.person_of(row)?;
            let p = Promoted {
                id: *id,
                secret: self.registration_secret(*id)?,
                name,
                email,
                status,
                offer_expires_at: None,
            };
            let position = (status == RegistrationStatus::Waitlisted).then_some(waiting);
            if let Some(m) = notice(&p, position) {
                enqueue_in(&mut tx, &m, self).await?;
            }
        }
        sqlx::query(
            "UPDATE events SET drawn_at = $2, lottery_seed = $3, next_arrival = $4,
                 updated_at = $2
             WHERE id = $1",
        )
        .bind(event_id)
        .bind(at)
        .bind(seed)
        .bind(order.len() as i64 + 1)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.wake_delivery();
        Ok(Some(order.len()))
    }

    /// Confirmed registrations for events starting before `horizon` that have not had
    /// their reminder, with the event.
    pub async fn reminders_due(
        &self,
        at: i64,
        horizon: i64,
    ) -> StoreResult<Vec<(i64, Registration)>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {REGISTRATION_COLUMNS} FROM registrations r JOIN events e ON e.id = r.event_id
             WHERE r.status = 'confirmed' AND r.reminded_at IS NULL AND e.status = 'scheduled'
                 AND e.starts_at > $1 AND e.starts_at <= $2
             ORDER BY e.starts_at LIMIT 500"
        )))
        .bind(at)
        .bind(horizon)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let r = self.read_registration(row)?;
                Ok((get_i64(row, "event_id")?, r))
            })
            .collect()
    }

    /// Records that a reminder went out, with the message, once.
    pub async fn mark_reminded(&self, id: i64, m: Option<&NewMessage>) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE registrations SET reminded_at = $2 WHERE id = $1 AND reminded_at IS NULL",
        )
        .bind(id)
        .bind(self.now())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 1
            && let Some(m) = m
        {
            enqueue_in(&mut tx, m, self).await?;
        }
        tx.commit().await?;
        self.wake_delivery();
        Ok(())
    }

    /// Marks someone as arrived at `at` (None undoes it). An arrival already recorded keeps
    /// its time; only a confirmed place can arrive. Returns the registration.
    pub async fn set_checked_in(&self, id: i64, at: Option<i64>) -> StoreResult<Registration> {
        let n = self
            .write_one(
                sqlx::query(
                    "UPDATE registrations
                     SET checked_in_at = CASE WHEN $2 IS NULL THEN NULL
                                              ELSE COALESCE(checked_in_at, $2) END,
                         updated_at = $3
                     WHERE id = $1 AND status <> 'cancelled'
                       AND ($2 IS NULL OR status = 'confirmed')",
                )
                .bind(id)
                .bind(at)
                .bind(self.now()),
            )
            .await?;
        if n == 0 {
            return Err(StoreError::Conflict(if at.is_some() {
                Conflict::CheckInNeedsPlace
            } else {
                Conflict::CheckInCancelled
            }));
        }
        self.registration(id).await
    }

    /// The member's personal calendar token, made on first use. It is derived from the
    /// data key and a random nonce, and only its digest is stored: a copy of the database
    /// opens no one's feed.
    pub async fn calendar_token(&self, account: i64, renew: bool) -> StoreResult<String> {
        let key = self.data_key()?;
        if !renew
            && let Some(row) = sqlx::query("SELECT nonce FROM calendar_feeds WHERE account_id = $1")
                .bind(account)
                .fetch_optional(&self.pool)
                .await?
        {
            return Ok(calendar_token_with(
                key,
                account,
                &get_string(&row, "nonce")?,
            ));
        }
        let nonce = crypto::random_hex(16);
        let token = calendar_token_with(key, account, &nonce);
        self.write_one(
            sqlx::query(
                "INSERT INTO calendar_feeds (account_id, token, nonce, created_at)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (account_id) DO UPDATE SET token = excluded.token,
                     nonce = excluded.nonce, created_at = excluded.created_at",
            )
            .bind(account)
            .bind(crypto::secret_digest(&token))
            .bind(nonce)
            .bind(self.now()),
        )
        .await?;
        Ok(token)
    }

    /// Whose personal feed a token opens.
    pub async fn calendar_owner(&self, token: &str) -> StoreResult<i64> {
        let row = sqlx::query("SELECT account_id FROM calendar_feeds WHERE token = $1")
            .bind(crypto::secret_digest(token))
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        get_i64(&row, "account_id")
    }

    /// The secret of a registration's manage link: derived from the data key and the
    /// id, so every message about the registration can carry it and none is stored.
    pub fn registration_secret(&self, id: i64) -> StoreResult<String> {
        Ok(registration_secret_with(self.data_key()?, id))
    }

    /// The token in a registration's check-in QR code: `id-signature`.
    pub fn check_in_token(&self, id: i64) -> StoreResult<String> {
        let sig = self
            .data_key()?
            .blind_index("registration:check-in", &id.to_string());
        Ok(format!("{id}-{}", &sig[..32]))
    }

    /// The registration a check-in token names, if its signature is right.
    pub fn check_in_id(&self, token: &str) -> StoreResult<i64> {
        let id: i64 = token
            .split_once('-')
            .and_then(|(id, _)| id.parse().ok())
            .ok_or(StoreError::NotFound)?;
        if crypto::secrets_equal(&self.check_in_token(id)?, token) {
            Ok(id)
        } else {
            Err(StoreError::NotFound)
        }
    }
}

async fn waitlist_position(
    conn: &mut AnyConnection,
    event_id: i64,
    arrival: i64,
) -> StoreResult<i64> {
    let row = sqlx::query(
        "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM registrations
         WHERE event_id = $1 AND status = 'waitlisted' AND arrival <= $2",
    )
    .bind(event_id)
    .bind(arrival)
    .fetch_one(conn)
    .await?;
    get_i64(&row, "n")
}

/// How a registration arrives, which decides what else its transaction does.
pub enum Arrival<'a> {
    /// A guest registering themselves, counted against their address's hourly limit.
    Guest(GuestLimit<'a>),
    /// A guest following the link that confirms their address: the link is used up in
    /// the transaction that makes the registration, so a failure leaves it working.
    Confirming { secret: &'a str },
    /// A member, or a coordinator registering someone.
    Direct,
}

/// A limit on guest registrations from one client address, counted in the registration's
/// own transaction (one durable commit per registration, not two).
#[derive(Debug, Clone, Copy)]
pub struct GuestLimit<'a> {
    /// The throttle key the client address is counted under.
    pub key: &'a str,
    pub per_hour: i64,
}

/// Counts one guest registration for `limit` inside `conn`'s transaction; the count in
/// the current hour.
async fn count_guest(conn: &mut AnyConnection, limit: &GuestLimit<'_>, t: i64) -> StoreResult<i64> {
    super::throttle::count_in(conn, limit.key, t - 3600, t).await
}

/// How long a guest has to confirm their address.
pub const GUEST_CONFIRM_SECS: i64 = 24 * 3600;

fn confirmation_secret_with(key: &crate::sealing::DataKey, id: i64) -> String {
    key.blind_index("registration:confirm", &id.to_string())[..40].to_string()
}

fn confirmation_context(id: i64) -> String {
    format!("guest_confirmations:{id}")
}

/// A guest's registration waiting for their address to be confirmed.
#[derive(Debug, Clone)]
pub struct PendingGuest {
    pub id: i64,
    /// The secret of the confirmation link (derived from the data key and the id, so the
    /// same link can be sent again).
    pub secret: String,
    pub expires_at: i64,
    /// False when the address already had one waiting for this event.
    pub created: bool,
}

impl Store {
    fn confirmation_secret(&self, id: i64) -> StoreResult<String> {
        Ok(confirmation_secret_with(self.data_key()?, id))
    }

    /// Keeps a guest's registration until they confirm their address; no place is held.
    /// The same address for the same event keeps its first pending registration (and its
    /// link). `mail` writes the message with the link, in the same transaction.
    pub async fn hold_guest_registration(
        &self,
        r: &NewRegistration,
        limit: Option<GuestLimit<'_>>,
        mail: impl FnOnce(&PendingGuest) -> NewMessage,
    ) -> StoreResult<PendingGuest> {
        let key = self.data_key()?;
        let person_key = sealed_person_key(key, &r.email);
        let at = self.now();
        let mut tx = self.begin_write().await?;
        if let Some(l) = &limit
            && count_guest(&mut tx, l, self.now()).await? > l.per_hour
        {
            return Err(StoreError::Conflict(Conflict::GuestLimitReached));
        }
        // An expired one for the address makes room; a live one is kept, with its link.
        sqlx::query(
            "DELETE FROM guest_confirmations
             WHERE event_id = $1 AND person_key = $2 AND expires_at <= $3",
        )
        .bind(r.event_id)
        .bind(&person_key)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        let id = crypto::random_id();
        let secret = self.confirmation_secret(id)?;
        let json = serde_json::to_string(r)
            .map_err(|e| StoreError::Database(sqlx::Error::Encode(Box::new(e))))?;
        // Two requests at once for one address: the unique index keeps one, and the other
        // finds it below.
        let inserted = sqlx::query(
            "INSERT INTO guest_confirmations (id, event_id, secret_digest, person_key,
                 sealed_registration, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (event_id, person_key) DO NOTHING",
        )
        .bind(id)
        .bind(r.event_id)
        .bind(crypto::secret_digest(&secret))
        .bind(&person_key)
        .bind(key.seal(&confirmation_context(id), &json))
        .bind(at)
        .bind(at + GUEST_CONFIRM_SECS)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let pending = if inserted == 1 {
            PendingGuest {
                id,
                secret,
                expires_at: at + GUEST_CONFIRM_SECS,
                created: true,
            }
        } else {
            let row = sqlx::query(
                "SELECT id, expires_at FROM guest_confirmations
                 WHERE event_id = $1 AND person_key = $2",
            )
            .bind(r.event_id)
            .bind(&person_key)
            .fetch_one(&mut *tx)
            .await?;
            let id = get_i64(&row, "id")?;
            PendingGuest {
                id,
                secret: self.confirmation_secret(id)?,
                expires_at: get_i64(&row, "expires_at")?,
                created: false,
            }
        };
        enqueue_in(&mut tx, &mail(&pending), self).await?;
        tx.commit().await?;
        self.wake_delivery();
        Ok(pending)
    }

    /// The registration a confirmation link holds, if it has not expired.
    pub async fn pending_guest(&self, secret: &str) -> StoreResult<NewRegistration> {
        let row = sqlx::query(
            "SELECT id, sealed_registration FROM guest_confirmations
             WHERE secret_digest = $1 AND expires_at > $2",
        )
        .bind(crypto::secret_digest(secret))
        .bind(self.now())
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        self.open_pending(&row)
    }

    fn open_pending(&self, row: &AnyRow) -> StoreResult<NewRegistration> {
        let id = get_i64(row, "id")?;
        let plain = self
            .data_key()?
            .open(
                &confirmation_context(id),
                &get_string(row, "sealed_registration")?,
            )
            .map_err(|_| {
                StoreError::Unsealable("A registration does not open with this server's data key.")
            })?;
        serde_json::from_str(&plain)
            .map_err(|e| StoreError::Database(sqlx::Error::Decode(Box::new(e))))
    }
}
