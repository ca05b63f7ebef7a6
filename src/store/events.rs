//! Events and registrations. Every change to who holds a place runs in one transaction
//! that first locks the event's row (`FOR UPDATE` on PostgreSQL; SQLite has one writer
//! at a time), so capacity is never exceeded and the waiting list keeps arrival order,
//! across any number of requests and server processes. The messages a change causes are
//! written in the same transaction.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::outbox::enqueue_in;
use super::{
    Backend, NewMessage, Store, StoreError, StoreResult, get_i64, get_opt_i64, get_string,
};
use crate::crypto;
use crate::domain::events::{
    Allocation, Answer, Audience, Child, Consent, Event, EventDraft, EventStatus, Occurrence,
    Question, QuestionKind, Reading, ReadingKind, RegistrationStatus, lottery_order, promotable,
};
use crate::domain::now;

/// What to filter the event listing by.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub series_id: Option<i64>,
    pub audience: Option<Audience>,
    /// Events ending after this instant.
    pub from: i64,
    /// Events starting before this instant.
    pub until: Option<i64>,
    pub include_cancelled: bool,
}

/// Someone's registration as the programme keeps it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Registration {
    pub id: i64,
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
    pub consented_at: Option<i64>,
}

/// A registration to record.
#[derive(Debug, Clone)]
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

/// Someone who got a place (or the offer of one) because another person left.
#[derive(Debug, Clone)]
pub struct Promoted {
    pub id: i64,
    /// The secret of their manage link, for the message.
    pub secret: String,
    pub name: String,
    pub email: String,
    pub status: RegistrationStatus,
    pub offer_expires_at: Option<i64>,
}

/// Per-event figures for coordinators' reports.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct EventCounts {
    pub event_id: i64,
    pub title: String,
    pub starts_at: i64,
    pub series_title: Option<String>,
    pub registered: i64,
    pub waitlisted: i64,
    pub attended: i64,
    pub cancelled: i64,
    /// Share of confirmed registrants who did not come, once the event is over.
    pub no_show_rate: Option<f64>,
}

const EVENT_COLUMNS: &str = "e.id, e.series_id, s.slug AS series_slug, s.title AS series_title,
    e.recurrence_id, e.title, e.body_md, e.time_zone, e.starts_at, e.ends_at, e.place,
    e.online_url, e.audience, e.capacity, e.opens_at, e.closes_at, e.guests_allowed,
    e.private_event, e.for_minors, e.allocation, e.lottery_at, e.drawn_at, e.lottery_seed,
    e.offer_hours, e.status, e.sequence, e.erased_at, e.kept_registered, e.kept_waitlisted,
    CAST(COALESCE((SELECT SUM(r.places) FROM registrations r WHERE r.event_id = e.id
        AND r.status IN ('confirmed', 'offered')), 0) AS BIGINT) AS taken,
    CAST((SELECT COUNT(*) FROM registrations r WHERE r.event_id = e.id
        AND r.status = 'waitlisted') AS BIGINT) AS waitlisted";

const EVENT_FROM: &str = "events e LEFT JOIN series s ON s.id = e.series_id";

fn opt_string(row: &AnyRow, col: &str) -> StoreResult<Option<String>> {
    Ok(row.try_get::<Option<String>, _>(col)?)
}

fn event_from(row: &AnyRow) -> StoreResult<Event> {
    let erased = get_opt_i64(row, "erased_at")?.is_some();
    let (taken, waitlisted) = if erased {
        (
            get_i64(row, "kept_registered")?,
            get_i64(row, "kept_waitlisted")?,
        )
    } else {
        (get_i64(row, "taken")?, get_i64(row, "waitlisted")?)
    };
    Ok(Event {
        id: get_i64(row, "id")?,
        series_id: get_opt_i64(row, "series_id")?,
        series_slug: opt_string(row, "series_slug")?,
        series_title: opt_string(row, "series_title")?,
        recurrence_id: get_opt_i64(row, "recurrence_id")?,
        title: get_string(row, "title")?,
        body_md: get_string(row, "body_md")?,
        time_zone: get_string(row, "time_zone")?,
        starts_at: get_i64(row, "starts_at")?,
        ends_at: get_i64(row, "ends_at")?,
        place: get_string(row, "place")?,
        online_url: get_string(row, "online_url")?,
        audience: get_string(row, "audience")?
            .split(',')
            .filter_map(Audience::parse)
            .collect(),
        capacity: get_i64(row, "capacity")?,
        opens_at: get_opt_i64(row, "opens_at")?,
        closes_at: get_opt_i64(row, "closes_at")?,
        guests_allowed: get_i64(row, "guests_allowed")? == 1,
        private: get_i64(row, "private_event")? == 1,
        for_minors: get_i64(row, "for_minors")? == 1,
        allocation: Allocation::parse(&get_string(row, "allocation")?)
            .unwrap_or(Allocation::FirstCome),
        lottery_at: get_opt_i64(row, "lottery_at")?,
        drawn_at: get_opt_i64(row, "drawn_at")?,
        lottery_seed: opt_string(row, "lottery_seed")?,
        offer_hours: get_i64(row, "offer_hours")?,
        status: EventStatus::parse(&get_string(row, "status")?).unwrap_or(EventStatus::Scheduled),
        sequence: get_i64(row, "sequence")?,
        questions: Vec::new(),
        readings: Vec::new(),
        taken,
        waitlisted,
    })
}

const REGISTRATION_COLUMNS: &str = "r.id, r.event_id, r.account_id, r.name, r.email, r.places,
    r.answers, r.status, r.offer_expires_at, r.checked_in_at, r.created_at, r.consent_version,
    r.guardian_relationship, r.consented_at,
    CAST(CASE WHEN r.status = 'waitlisted' THEN (SELECT COUNT(*) FROM registrations w
        WHERE w.event_id = r.event_id AND w.status = 'waitlisted' AND w.arrival <= r.arrival)
        ELSE 0 END AS BIGINT) AS position";

fn registration_from(row: &AnyRow) -> StoreResult<Registration> {
    let status = RegistrationStatus::parse(&get_string(row, "status")?)
        .unwrap_or(RegistrationStatus::Cancelled);
    let position = get_i64(row, "position")?;
    Ok(Registration {
        id: get_i64(row, "id")?,
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
        consented_at: get_opt_i64(row, "consented_at")?,
    })
}

/// The numbers that decide a registration, read with the event's row locked.
struct Locked {
    capacity: i64,
    allocation: Allocation,
    drawn: bool,
    offer_hours: i64,
    status: EventStatus,
}

impl Store {
    /// Locks an event's row for the rest of the transaction: the one place where
    /// registrations for one event are serialised.
    async fn lock_event(&self, conn: &mut AnyConnection, id: i64) -> StoreResult<Locked> {
        let sql = match self.backend {
            Backend::Postgres => {
                "SELECT capacity, allocation, drawn_at, offer_hours, status FROM events
                 WHERE id = $1 FOR UPDATE"
            }
            Backend::Sqlite => {
                "SELECT capacity, allocation, drawn_at, offer_hours, status FROM events
                 WHERE id = $1"
            }
        };
        let row = sqlx::query(sql)
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(Locked {
            capacity: get_i64(&row, "capacity")?,
            allocation: Allocation::parse(&get_string(&row, "allocation")?)
                .unwrap_or(Allocation::FirstCome),
            drawn: get_opt_i64(&row, "drawn_at")?.is_some(),
            offer_hours: get_i64(&row, "offer_hours")?,
            status: EventStatus::parse(&get_string(&row, "status")?)
                .unwrap_or(EventStatus::Scheduled),
        })
    }

    /// Creates an event and, when it repeats, each occurrence; returns their ids in date
    /// order. Occurrences share the first one's id as their recurrence id.
    pub async fn create_events(&self, d: &EventDraft) -> StoreResult<Vec<i64>> {
        let mut tx = self.begin_write().await?;
        let series_id = match &d.series {
            Some(slug) => Some(
                sqlx::query("SELECT id FROM series WHERE slug = $1")
                    .bind(slug)
                    .fetch_optional(&mut *tx)
                    .await?
                    .map(|r| get_i64(&r, "id"))
                    .transpose()?
                    .ok_or(StoreError::Conflict(
                        "There is no such series; choose one from the list.",
                    ))?,
            ),
            None => None,
        };
        let mut ids = Vec::new();
        let recurrence = (d.occurrences.len() > 1).then(crypto::random_id);
        for o in &d.occurrences {
            let id = crypto::random_id();
            insert_event(&mut tx, id, series_id, recurrence, d, o).await?;
            replace_questions_and_readings(&mut tx, id, &d.questions, &d.readings).await?;
            ids.push(id);
        }
        tx.commit().await?;
        Ok(ids)
    }

    /// One event with its questions and readings.
    pub async fn event(&self, id: i64) -> StoreResult<Event> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {EVENT_COLUMNS} FROM {EVENT_FROM} WHERE e.id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        let mut e = event_from(&row)?;
        let qs = sqlx::query(
            "SELECT id, kind, label, required, options FROM event_questions
             WHERE event_id = $1 ORDER BY sort_order",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        for q in &qs {
            e.questions.push(Question {
                id: get_i64(q, "id")?,
                kind: QuestionKind::parse(&get_string(q, "kind")?).unwrap_or(QuestionKind::Text),
                label: get_string(q, "label")?,
                required: get_i64(q, "required")? == 1,
                options: get_string(q, "options")?
                    .lines()
                    .map(str::to_string)
                    .collect(),
            });
        }
        let rs = sqlx::query(
            "SELECT kind, title, authors, isbn, journal, pub_year, doi FROM event_readings
             WHERE event_id = $1 ORDER BY sort_order",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        for r in &rs {
            e.readings.push(Reading {
                kind: ReadingKind::parse(&get_string(r, "kind")?).unwrap_or(ReadingKind::Book),
                title: get_string(r, "title")?,
                authors: get_string(r, "authors")?,
                isbn: get_string(r, "isbn")?,
                journal: get_string(r, "journal")?,
                year: get_opt_i64(r, "pub_year")?,
                doi: get_string(r, "doi")?,
            });
        }
        Ok(e)
    }

    /// Events in start order, without their questions and readings.
    pub async fn list_events(&self, f: &EventFilter) -> StoreResult<Vec<Event>> {
        let mut sql = format!(
            "SELECT {EVENT_COLUMNS} FROM {EVENT_FROM} WHERE e.ends_at > $1
                 AND ($2 = 0 OR e.series_id = $2) AND ($3 = 0 OR e.starts_at < $3)"
        );
        if !f.include_cancelled {
            sql.push_str(" AND e.status = 'scheduled'");
        }
        sql.push_str(" ORDER BY e.starts_at, e.id LIMIT 500");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(f.from)
            .bind(f.series_id.unwrap_or(0))
            .bind(f.until.unwrap_or(0))
            .fetch_all(&self.pool)
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let e = event_from(r)?;
            if f.audience.is_none_or(|a| e.audience.contains(&a)) {
                out.push(e);
            }
        }
        Ok(out)
    }

    /// Changes one event. Its sequence rises so calendars replace their copy; everyone
    /// registered gets `notice`; places added to a full event go to those waiting.
    pub async fn update_event(
        &self,
        id: i64,
        d: &EventDraft,
        notice: impl Fn(&Promoted) -> Option<NewMessage>,
        promoted_notice: impl Fn(&Promoted) -> Option<NewMessage>,
    ) -> StoreResult<()> {
        let o = d
            .occurrences
            .first()
            .ok_or(StoreError::Conflict("An event needs a date."))?;
        let mut tx = self.begin_write().await?;
        let locked = self.lock_event(&mut tx, id).await?;
        if locked.status == EventStatus::Cancelled {
            return Err(StoreError::Conflict(
                "This event has been cancelled and can no longer be changed.",
            ));
        }
        let series_id = match &d.series {
            Some(slug) => sqlx::query("SELECT id FROM series WHERE slug = $1")
                .bind(slug)
                .fetch_optional(&mut *tx)
                .await?
                .map(|r| get_i64(&r, "id"))
                .transpose()?,
            None => None,
        };
        sqlx::query(
            "UPDATE events SET series_id = $2, title = $3, body_md = $4, time_zone = $5,
                 starts_at = $6, ends_at = $7, place = $8, online_url = $9, audience = $10,
                 capacity = $11, opens_at = $12, closes_at = $13, guests_allowed = $14,
                 private_event = $15, for_minors = $16, offer_hours = $17,
                 sequence = sequence + 1, updated_at = $18
             WHERE id = $1",
        )
        .bind(id)
        .bind(series_id)
        .bind(&d.title)
        .bind(&d.body_md)
        .bind(&d.time_zone)
        .bind(o.starts_at)
        .bind(o.ends_at)
        .bind(&d.place)
        .bind(&d.online_url)
        .bind(audience_text(&d.audience))
        .bind(d.capacity)
        .bind(o.opens_at)
        .bind(o.closes_at)
        .bind(i64::from(d.guests_allowed))
        .bind(i64::from(d.private))
        .bind(i64::from(d.for_minors))
        .bind(d.offer_hours)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        replace_questions_and_readings(&mut tx, id, &d.questions, &d.readings).await?;
        for r in self.active_registrations(&mut tx, id).await? {
            if let Some(m) = notice(&r) {
                enqueue_in(&mut tx, &m, self.data_key.as_deref()).await?;
            }
        }
        let locked = Locked {
            capacity: d.capacity,
            offer_hours: d.offer_hours,
            ..locked
        };
        self.fill_free_places(&mut tx, id, &locked, &promoted_notice)
            .await?;
        tx.commit().await?;
        self.wake_delivery();
        Ok(())
    }

    /// Cancels an event and tells everyone registered (their calendars get the update).
    pub async fn cancel_event(
        &self,
        id: i64,
        notice: impl Fn(&Promoted) -> Option<NewMessage>,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let locked = self.lock_event(&mut tx, id).await?;
        if locked.status == EventStatus::Cancelled {
            return Ok(());
        }
        sqlx::query(
            "UPDATE events SET status = 'cancelled', sequence = sequence + 1, updated_at = $2
             WHERE id = $1",
        )
        .bind(id)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        for r in self.active_registrations(&mut tx, id).await? {
            if let Some(m) = notice(&r) {
                enqueue_in(&mut tx, &m, self.data_key.as_deref()).await?;
            }
        }
        tx.commit().await?;
        self.wake_delivery();
        Ok(())
    }

    /// Registers someone. The same address twice returns the first registration
    /// unchanged. `mail` writes the confirmation (or waiting-list message), given the
    /// outcome and the secret of the manage link.
    pub async fn register(
        &self,
        r: &NewRegistration,
        mail: impl FnOnce(&Registered, &str) -> Option<NewMessage>,
    ) -> StoreResult<Registered> {
        let mut tx = self.begin_write().await?;
        // Taking the arrival number locks the event's row (as FOR UPDATE would) and
        // says what decides the outcome, in one statement. A number taken by someone
        // already registered is simply never used: positions are counted, not stored.
        let row = sqlx::query(
            "UPDATE events SET next_arrival = next_arrival + 1 WHERE id = $1
             RETURNING capacity, allocation, drawn_at, status, next_arrival",
        )
        .bind(r.event_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?;
        if get_string(&row, "status")? == EventStatus::Cancelled.key() {
            return Err(StoreError::Conflict("This event has been cancelled."));
        }
        let capacity = get_i64(&row, "capacity")?;
        let lottery_pending = get_string(&row, "allocation")? == Allocation::Lottery.key()
            && get_opt_i64(&row, "drawn_at")?.is_none();
        let arrival = get_i64(&row, "next_arrival")?;
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
        .bind(&r.email)
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
            // Someone who cancelled and comes back joins at the end, like anyone new.
            sqlx::query("DELETE FROM registrations WHERE id = $1")
                .bind(existing_id)
                .execute(&mut *tx)
                .await?;
            (taken, waiting) = place_counts(&mut tx, r.event_id).await?;
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
        let at = now();
        sqlx::query(
            "INSERT INTO registrations (id, event_id, account_id, person_key, name, email, places,
                 answers, status, arrival, manage_digest, consent_version, guardian_relationship,
                 consented_at, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15)",
        )
        .bind(id)
        .bind(r.event_id)
        .bind(r.account_id)
        .bind(&r.email)
        .bind(&r.name)
        .bind(&r.email)
        .bind(places)
        .bind(serde_json::to_string(&r.answers).unwrap_or_else(|_| "[]".into()))
        .bind(status.key())
        .bind(arrival)
        .bind(crypto::secret_digest(&secret))
        .bind(r.consent.as_ref().map(|c| c.version.clone()))
        .bind(r.consent.as_ref().map(|c| c.relationship.clone()))
        .bind(r.consent.as_ref().map(|_| at))
        .bind(at)
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
            enqueue_in(&mut tx, &m, self.data_key.as_deref()).await?;
        }
        tx.commit().await?;
        self.wake_delivery();
        Ok(out)
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
        self.with_children(registration_from(&row)?).await
    }

    pub async fn registration(&self, id: i64) -> StoreResult<Registration> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {REGISTRATION_COLUMNS} FROM registrations r WHERE r.id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        self.with_children(registration_from(&row)?).await
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
            .map(registration_from)
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

    /// A member's registrations that still stand, with their events, soonest first.
    pub async fn registrations_of(
        &self,
        account: i64,
        from: i64,
    ) -> StoreResult<Vec<(Event, Registration)>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {REGISTRATION_COLUMNS} FROM registrations r JOIN events e ON e.id = r.event_id
             WHERE r.account_id = $1 AND r.status <> 'cancelled' AND e.ends_at > $2
             ORDER BY e.starts_at"
        )))
        .bind(account)
        .bind(from)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        for row in &rows {
            let r = registration_from(row)?;
            out.push((self.event(r.event_id).await?, r));
        }
        Ok(out)
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
        .bind(now())
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

    /// Turns an offered place into a confirmed one, if the offer still stands.
    pub async fn accept_place(&self, id: i64) -> StoreResult<()> {
        let n = self
            .write_one(
                sqlx::query(
                    "UPDATE registrations SET status = 'confirmed', offer_expires_at = NULL,
                         updated_at = $2
                     WHERE id = $1 AND status = 'offered' AND offer_expires_at > $2",
                )
                .bind(id)
                .bind(now()),
            )
            .await?;
        if n == 1 {
            Ok(())
        } else {
            Err(StoreError::Conflict(
                "This offer has expired or was already answered.",
            ))
        }
    }

    /// Gives free places to the first waiting, while they fit (called with the event
    /// locked). Nothing moves before a lottery is drawn.
    async fn fill_free_places(
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
            "SELECT id, places, name, email FROM registrations
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
        let at = now();
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
            let p = Promoted {
                id,
                secret: self.registration_secret(id)?,
                name: get_string(row, "name")?,
                email: get_string(row, "email")?,
                status,
                offer_expires_at: expires,
            };
            if let Some(m) = notice(&p) {
                enqueue_in(conn, &m, self.data_key.as_deref()).await?;
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
            "SELECT id, places, name, email FROM registrations
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
        let at = now();
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
            let p = Promoted {
                id: *id,
                secret: self.registration_secret(*id)?,
                name: get_string(row, "name")?,
                email: get_string(row, "email")?,
                status,
                offer_expires_at: None,
            };
            let position = (status == RegistrationStatus::Waitlisted).then_some(waiting);
            if let Some(m) = notice(&p, position) {
                enqueue_in(&mut tx, &m, self.data_key.as_deref()).await?;
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
            .map(|r| Ok((get_i64(r, "event_id")?, registration_from(r)?)))
            .collect()
    }

    /// Records that a reminder went out, with the message, once.
    pub async fn mark_reminded(&self, id: i64, m: Option<&NewMessage>) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE registrations SET reminded_at = $2 WHERE id = $1 AND reminded_at IS NULL",
        )
        .bind(id)
        .bind(now())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 1
            && let Some(m) = m
        {
            enqueue_in(&mut tx, m, self.data_key.as_deref()).await?;
        }
        tx.commit().await?;
        self.wake_delivery();
        Ok(())
    }

    /// Marks someone as arrived (or not). Returns the registration.
    pub async fn set_checked_in(&self, id: i64, arrived: bool) -> StoreResult<Registration> {
        let n = self
            .write_one(
                sqlx::query(
                    "UPDATE registrations SET checked_in_at = $2, updated_at = $3
                     WHERE id = $1 AND status <> 'cancelled'",
                )
                .bind(id)
                .bind(arrived.then(now))
                .bind(now()),
            )
            .await?;
        if n == 0 {
            return Err(StoreError::Conflict(
                "This registration was cancelled; it cannot be checked in.",
            ));
        }
        self.registration(id).await
    }

    /// Per-event figures, newest first, optionally for one series.
    pub async fn event_counts(&self, series_id: Option<i64>) -> StoreResult<Vec<EventCounts>> {
        let rows = sqlx::query(
            "SELECT e.id, e.title, e.private_event, e.starts_at, e.ends_at, s.title AS series_title,
                 e.erased_at, e.kept_registered, e.kept_waitlisted, e.kept_attended,
                 CAST(COALESCE(SUM(CASE WHEN r.status IN ('confirmed', 'offered') THEN r.places ELSE 0 END), 0) AS BIGINT) AS registered,
                 CAST(COALESCE(SUM(CASE WHEN r.status = 'waitlisted' THEN 1 ELSE 0 END), 0) AS BIGINT) AS waitlisted,
                 CAST(COALESCE(SUM(CASE WHEN r.checked_in_at IS NOT NULL AND r.status <> 'cancelled' THEN r.places ELSE 0 END), 0) AS BIGINT) AS attended,
                 CAST(COALESCE(SUM(CASE WHEN r.status = 'cancelled' THEN 1 ELSE 0 END), 0) AS BIGINT) AS cancelled
             FROM events e LEFT JOIN series s ON s.id = e.series_id
                 LEFT JOIN registrations r ON r.event_id = e.id
             WHERE ($1 = 0 OR e.series_id = $1)
             GROUP BY e.id, e.title, e.private_event, e.starts_at, e.ends_at, s.title, e.erased_at,
                 e.kept_registered, e.kept_waitlisted, e.kept_attended
             ORDER BY e.starts_at DESC LIMIT 1000",
        )
        .bind(series_id.unwrap_or(0))
        .fetch_all(&self.pool)
        .await?;
        let at = now();
        rows.iter()
            .map(|r| {
                let erased = get_opt_i64(r, "erased_at")?.is_some();
                let pick = |live: &str, kept: &str| -> StoreResult<i64> {
                    get_i64(r, if erased { kept } else { live })
                };
                let registered = pick("registered", "kept_registered")?;
                let attended = pick("attended", "kept_attended")?;
                let over = get_i64(r, "ends_at")? < at;
                Ok(EventCounts {
                    event_id: get_i64(r, "id")?,
                    title: if get_i64(r, "private_event")? == 1 {
                        crate::domain::events::NEUTRAL_TITLE.to_string()
                    } else {
                        get_string(r, "title")?
                    },
                    starts_at: get_i64(r, "starts_at")?,
                    series_title: opt_string(r, "series_title")?,
                    registered,
                    waitlisted: pick("waitlisted", "kept_waitlisted")?,
                    attended,
                    cancelled: if erased { 0 } else { get_i64(r, "cancelled")? },
                    no_show_rate: (over && registered > 0)
                        .then(|| (registered - attended).max(0) as f64 / registered as f64),
                })
            })
            .collect()
    }

    /// Erases the registrations of private events once over, and children's details
    /// `minors_days` after a minors' event, keeping the counts. Returns events erased.
    pub async fn erase_event_registrations(&self, at: i64, minors_days: i64) -> StoreResult<u64> {
        let due: Vec<(i64, bool)> = sqlx::query(
            "SELECT id, private_event FROM events WHERE erased_at IS NULL AND (
                 (private_event = 1 AND ends_at < $1) OR (for_minors = 1 AND ends_at < $2))",
        )
        .bind(at)
        .bind(at - minors_days * 86400)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| Ok((get_i64(r, "id")?, get_i64(r, "private_event")? == 1)))
        .collect::<StoreResult<_>>()?;
        for (id, private) in &due {
            let mut tx = self.begin_write().await?;
            self.lock_event(&mut tx, *id).await?;
            let (taken, waiting) = place_counts(&mut tx, *id).await?;
            let attended = get_i64(
                &sqlx::query(
                    "SELECT CAST(COALESCE(SUM(places), 0) AS BIGINT) AS n FROM registrations
                     WHERE event_id = $1 AND checked_in_at IS NOT NULL AND status <> 'cancelled'",
                )
                .bind(id)
                .fetch_one(&mut *tx)
                .await?,
                "n",
            )?;
            sqlx::query(
                "UPDATE events SET erased_at = $2, kept_registered = $3, kept_waitlisted = $4,
                     kept_attended = $5
                 WHERE id = $1",
            )
            .bind(id)
            .bind(at)
            .bind(taken)
            .bind(waiting)
            .bind(attended)
            .execute(&mut *tx)
            .await?;
            // Children's rows go with their registration (ON DELETE CASCADE).
            sqlx::query("DELETE FROM registrations WHERE event_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            tracing::info!(
                event = id,
                private,
                "event registrations erased, counts kept"
            );
        }
        Ok(due.len() as u64)
    }

    /// The member's personal calendar token, made on first use.
    pub async fn calendar_token(&self, account: i64, renew: bool) -> StoreResult<String> {
        if !renew
            && let Some(row) = sqlx::query("SELECT token FROM calendar_feeds WHERE account_id = $1")
                .bind(account)
                .fetch_optional(&self.pool)
                .await?
        {
            return get_string(&row, "token");
        }
        let token = crypto::random_hex(24);
        sqlx::query(
            "INSERT INTO calendar_feeds (account_id, token, created_at) VALUES ($1, $2, $3)
             ON CONFLICT (account_id) DO UPDATE SET token = excluded.token,
                 created_at = excluded.created_at",
        )
        .bind(account)
        .bind(&token)
        .bind(now())
        .execute(&self.pool)
        .await?;
        Ok(token)
    }

    /// Whose personal feed a token opens.
    pub async fn calendar_owner(&self, token: &str) -> StoreResult<i64> {
        let row = sqlx::query("SELECT account_id, token FROM calendar_feeds WHERE token = $1")
            .bind(token)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        if !crypto::secrets_equal(&get_string(&row, "token")?, token) {
            return Err(StoreError::NotFound);
        }
        get_i64(&row, "account_id")
    }

    /// Records an adult's clearance dates (YYYY-MM-DD).
    pub async fn save_clearance(
        &self,
        account: i64,
        background: &str,
        training: &str,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO volunteer_clearances (account_id, background_check_on, youth_training_on, updated_at)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (account_id) DO UPDATE SET background_check_on = excluded.background_check_on,
                 youth_training_on = excluded.youth_training_on, updated_at = excluded.updated_at",
        )
        .bind(account)
        .bind(background)
        .bind(training)
        .bind(now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Every adult with a clearance on record, by name: (account, name, background, training).
    pub async fn clearances(&self) -> StoreResult<Vec<(i64, String, String, String)>> {
        sqlx::query(
            "SELECT a.id, a.display_name, v.background_check_on, v.youth_training_on
             FROM volunteer_clearances v JOIN accounts a ON a.id = v.account_id
             ORDER BY a.display_name",
        )
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            Ok((
                get_i64(r, "id")?,
                get_string(r, "display_name")?,
                get_string(r, "background_check_on")?,
                get_string(r, "youth_training_on")?,
            ))
        })
        .collect()
    }

    pub async fn add_event_volunteer(&self, event_id: i64, account: i64) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO event_volunteers (event_id, account_id, added_at) VALUES ($1, $2, $3)
             ON CONFLICT (event_id, account_id) DO NOTHING",
        )
        .bind(event_id)
        .bind(account)
        .bind(now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn remove_event_volunteer(&self, event_id: i64, account: i64) -> StoreResult<()> {
        sqlx::query("DELETE FROM event_volunteers WHERE event_id = $1 AND account_id = $2")
            .bind(event_id)
            .bind(account)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The adults placed on an event: (account, name).
    pub async fn event_volunteers(&self, event_id: i64) -> StoreResult<Vec<(i64, String)>> {
        sqlx::query(
            "SELECT a.id, a.display_name FROM event_volunteers v JOIN accounts a ON a.id = v.account_id
             WHERE v.event_id = $1 ORDER BY a.display_name",
        )
        .bind(event_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| Ok((get_i64(r, "id")?, get_string(r, "display_name")?)))
        .collect()
    }

    /// Whether any event exists (the demo seeds events only into an empty programme).
    pub async fn has_events(&self) -> StoreResult<bool> {
        Ok(sqlx::query("SELECT 1 AS x FROM events LIMIT 1")
            .fetch_optional(&self.pool)
            .await?
            .is_some())
    }
}

fn audience_text(a: &[Audience]) -> String {
    a.iter().map(|a| a.key()).collect::<Vec<_>>().join(",")
}

async fn insert_event(
    conn: &mut AnyConnection,
    id: i64,
    series_id: Option<i64>,
    recurrence: Option<i64>,
    d: &EventDraft,
    o: &Occurrence,
) -> StoreResult<()> {
    let at = now();
    sqlx::query(
        "INSERT INTO events (id, series_id, recurrence_id, title, body_md, time_zone, starts_at,
             ends_at, place, online_url, audience, capacity, opens_at, closes_at, guests_allowed,
             private_event, for_minors, allocation, lottery_at, offer_hours, status, sequence,
             next_arrival, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
             $19, $20, 'scheduled', 0, 0, $21, $21)",
    )
    .bind(id)
    .bind(series_id)
    .bind(recurrence)
    .bind(&d.title)
    .bind(&d.body_md)
    .bind(&d.time_zone)
    .bind(o.starts_at)
    .bind(o.ends_at)
    .bind(&d.place)
    .bind(&d.online_url)
    .bind(audience_text(&d.audience))
    .bind(d.capacity)
    .bind(o.opens_at)
    .bind(o.closes_at)
    .bind(i64::from(d.guests_allowed))
    .bind(i64::from(d.private))
    .bind(i64::from(d.for_minors))
    .bind(d.allocation.key())
    .bind(o.lottery_at)
    .bind(d.offer_hours)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

async fn replace_questions_and_readings(
    conn: &mut AnyConnection,
    event_id: i64,
    questions: &[Question],
    readings: &[Reading],
) -> StoreResult<()> {
    // Questions keep their ids when their label is unchanged, so that answers given
    // before an edit still line up.
    let old = sqlx::query("SELECT id, label FROM event_questions WHERE event_id = $1")
        .bind(event_id)
        .fetch_all(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM event_questions WHERE event_id = $1")
        .bind(event_id)
        .execute(&mut *conn)
        .await?;
    for (i, q) in questions.iter().enumerate() {
        let id = old
            .iter()
            .find(|r| get_string(r, "label").ok().as_deref() == Some(q.label.as_str()))
            .map(|r| get_i64(r, "id"))
            .transpose()?
            .unwrap_or_else(crypto::random_id);
        sqlx::query(
            "INSERT INTO event_questions (id, event_id, sort_order, kind, label, required, options)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id)
        .bind(event_id)
        .bind(i as i64)
        .bind(q.kind.key())
        .bind(&q.label)
        .bind(i64::from(q.required))
        .bind(q.options.join("\n"))
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query("DELETE FROM event_readings WHERE event_id = $1")
        .bind(event_id)
        .execute(&mut *conn)
        .await?;
    for (i, r) in readings.iter().enumerate() {
        sqlx::query(
            "INSERT INTO event_readings (id, event_id, sort_order, kind, title, authors, isbn,
                 journal, pub_year, doi)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(crypto::random_id())
        .bind(event_id)
        .bind(i as i64)
        .bind(r.kind.key())
        .bind(&r.title)
        .bind(&r.authors)
        .bind(&r.isbn)
        .bind(&r.journal)
        .bind(r.year)
        .bind(&r.doi)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Places held and registrations waiting, for an event.
async fn place_counts(conn: &mut AnyConnection, event_id: i64) -> StoreResult<(i64, i64)> {
    let row = sqlx::query(
        "SELECT
             CAST(COALESCE(SUM(CASE WHEN status IN ('confirmed', 'offered') THEN places ELSE 0 END), 0) AS BIGINT) AS taken,
             CAST(COALESCE(SUM(CASE WHEN status = 'waitlisted' THEN 1 ELSE 0 END), 0) AS BIGINT) AS waiting
         FROM registrations WHERE event_id = $1",
    )
    .bind(event_id)
    .fetch_one(conn)
    .await?;
    Ok((get_i64(&row, "taken")?, get_i64(&row, "waiting")?))
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

/// Registrations that still stand (for notices about the event).
impl Store {
    async fn active_registrations(
        &self,
        conn: &mut AnyConnection,
        event_id: i64,
    ) -> StoreResult<Vec<Promoted>> {
        let rows = sqlx::query(
            "SELECT id, name, email, status, offer_expires_at FROM registrations
             WHERE event_id = $1 AND status <> 'cancelled' ORDER BY arrival",
        )
        .bind(event_id)
        .fetch_all(conn)
        .await?;
        rows.iter()
            .map(|r| {
                let id = get_i64(r, "id")?;
                Ok(Promoted {
                    id,
                    secret: self.registration_secret(id)?,
                    name: get_string(r, "name")?,
                    email: get_string(r, "email")?,
                    status: RegistrationStatus::parse(&get_string(r, "status")?)
                        .unwrap_or(RegistrationStatus::Cancelled),
                    offer_expires_at: get_opt_i64(r, "offer_expires_at")?,
                })
            })
            .collect()
    }

    /// The secret of a registration's manage link: derived from the data key and the
    /// id, so every message about the registration can carry it and none is stored.
    pub fn registration_secret(&self, id: i64) -> StoreResult<String> {
        Ok(self
            .data_key()?
            .blind_index("registration:manage", &id.to_string())[..40]
            .to_string())
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
