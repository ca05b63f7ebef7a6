//! Events: creating, reading, listing, changing and cancelling them, their counts, and
//! erasing the registrations of private and students' events. Every change to who holds
//! a place locks the event's row first (`lock_event`: `FOR UPDATE` on PostgreSQL; SQLite
//! has one writer at a time), so capacity is never exceeded and the waiting list keeps
//! arrival order across any number of requests and processes.

use crate::domain::conflict::Conflict;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::outbox::enqueue_in;
use super::{
    Backend, NewMessage, Store, StoreError, StoreResult, get_i64, get_opt_i64, get_string,
};
use crate::crypto;
use crate::domain::events::{
    Allocation, Audience, Event, EventDraft, EventStatus, Occurrence, Question, QuestionKind,
    Reading, ReadingKind, RegistrationStatus,
};

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

/// One event's change with the messages it sends: `notice` to everyone registered,
/// `promoted_notice` to whoever a larger capacity lets in.
pub struct EventChange<'a> {
    pub id: i64,
    pub draft: &'a EventDraft,
    pub notice: &'a (dyn Fn(&Promoted) -> Option<NewMessage> + Sync),
    pub promoted_notice: &'a (dyn Fn(&Promoted) -> Option<NewMessage> + Sync),
}

/// Per-event figures for coordinators' reports.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct EventCounts {
    pub event_id: i64,
    pub title: String,
    pub starts_at: i64,
    /// The event's own zone, for showing when it starts.
    pub time_zone: String,
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
    e.guests_confirm,
    e.private_event, e.for_minors, e.allocation, e.lottery_at, e.drawn_at, e.lottery_seed,
    e.offer_hours, e.status, e.sequence, e.erased_at, e.kept_registered, e.kept_waitlisted,
    CAST(COALESCE((SELECT SUM(r.places) FROM registrations r WHERE r.event_id = e.id
        AND r.status IN ('confirmed', 'offered')), 0) AS BIGINT) AS taken,
    CAST((SELECT COUNT(*) FROM registrations r WHERE r.event_id = e.id
        AND r.status = 'waitlisted') AS BIGINT) AS waitlisted";

const EVENT_FROM: &str = "events e LEFT JOIN series s ON s.id = e.series_id";

pub(super) fn opt_string(row: &AnyRow, col: &str) -> StoreResult<Option<String>> {
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
        guests_confirm: get_i64(row, "guests_confirm")? == 1,
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

/// The numbers that decide a registration, read with the event's row locked.
/// A registrant to write to: someone who got a place (or the offer of one) because
/// another person left, or anyone registered when their event changes.
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

pub(super) struct Locked {
    pub(super) capacity: i64,
    pub(super) allocation: Allocation,
    pub(super) drawn: bool,
    pub(super) offer_hours: i64,
    pub(super) status: EventStatus,
    pub(super) private: bool,
}

impl EventCounts {
    /// When the event starts, in its own zone.
    pub fn starts_text(&self) -> String {
        let tz = jiff::tz::TimeZone::get(&self.time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
        crate::domain::events::instant_text(self.starts_at, &tz)
    }
}

impl Store {
    /// Locks an event's row for the rest of the transaction: the one place where
    /// registrations for one event are serialised.
    pub(super) async fn lock_event(
        &self,
        conn: &mut AnyConnection,
        id: i64,
    ) -> StoreResult<Locked> {
        let lock = match self.backend {
            Backend::Postgres => "FOR UPDATE",
            Backend::Sqlite => "",
        };
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT capacity, allocation, drawn_at, offer_hours, status, private_event FROM events
             WHERE id = $1 {lock}"
        )))
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
            private: get_i64(&row, "private_event")? == 1,
        })
    }

    /// Creates an event and, when it repeats, each occurrence; returns their ids in date
    /// order. Occurrences share the first one's id as their recurrence id.
    pub async fn create_events(&self, d: &EventDraft) -> StoreResult<Vec<i64>> {
        let mut tx = self.begin_write().await?;
        let series_id = series_id(&mut tx, d.series.as_deref()).await?;
        let mut ids = Vec::new();
        let recurrence = (d.occurrences.len() > 1).then(crypto::random_id);
        for o in &d.occurrences {
            let id = crypto::random_id();
            insert_event(&mut tx, id, series_id, recurrence, d, o, self.now()).await?;
            replace_questions_and_readings(&mut tx, id, &d.questions, &d.readings).await?;
            ids.push(id);
        }
        tx.commit().await?;
        Ok(ids)
    }

    /// One event with its questions and readings.
    pub async fn event(&self, id: i64) -> StoreResult<Event> {
        self.events_by_id(&[id])
            .await?
            .pop()
            .ok_or(StoreError::NotFound)
    }

    /// Events with their questions and readings, in three queries however many there
    /// are (in start order; ids that name no event are left out).
    pub(super) async fn events_by_id(&self, ids: &[i64]) -> StoreResult<Vec<Event>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list = super::placeholders(ids.len());
        let rows = super::bind_ids(
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {EVENT_COLUMNS} FROM {EVENT_FROM} WHERE e.id IN ({list})
             ORDER BY e.starts_at, e.id"
            ))),
            ids,
        )
        .fetch_all(&self.pool)
        .await?;
        let mut events = rows
            .iter()
            .map(event_from)
            .collect::<StoreResult<Vec<_>>>()?;
        let of = |events: &mut Vec<Event>, id: i64| events.iter_mut().position(|e| e.id == id);
        let qs = super::bind_ids(
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT event_id, id, kind, label, required, options FROM event_questions
             WHERE event_id IN ({list}) ORDER BY event_id, sort_order"
            ))),
            ids,
        )
        .fetch_all(&self.pool)
        .await?;
        for q in &qs {
            let Some(i) = of(&mut events, get_i64(q, "event_id")?) else {
                continue;
            };
            events[i].questions.push(Question {
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
        let rs = super::bind_ids(
            sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT event_id, kind, title, authors, isbn, journal, pub_year, doi FROM event_readings
             WHERE event_id IN ({list}) ORDER BY event_id, sort_order"
        ))),
            ids,
        )
        .fetch_all(&self.pool)
        .await?;
        for r in &rs {
            let Some(i) = of(&mut events, get_i64(r, "event_id")?) else {
                continue;
            };
            events[i].readings.push(Reading {
                kind: ReadingKind::parse(&get_string(r, "kind")?).unwrap_or(ReadingKind::Book),
                title: get_string(r, "title")?,
                authors: get_string(r, "authors")?,
                isbn: get_string(r, "isbn")?,
                journal: get_string(r, "journal")?,
                year: get_opt_i64(r, "pub_year")?,
                doi: get_string(r, "doi")?,
            });
        }
        Ok(events)
    }

    /// Events in start order, without their questions and readings.
    pub async fn list_events(&self, f: &EventFilter) -> StoreResult<Vec<Event>> {
        // The audience is filtered in SQL, before the limit: filtering the first 500
        // events afterwards could miss later ones for that audience. The column is a
        // comma-separated list of keys, so a key matches between commas.
        let mut sql = format!(
            "SELECT {EVENT_COLUMNS} FROM {EVENT_FROM} WHERE e.ends_at > $1
                 AND ($2 = 0 OR e.series_id = $2) AND ($3 = 0 OR e.starts_at < $3)
                 AND ($4 = '' OR (',' || e.audience || ',') LIKE $4)"
        );
        if !f.include_cancelled {
            sql.push_str(" AND e.status = 'scheduled'");
        }
        sql.push_str(" ORDER BY e.starts_at, e.id LIMIT 500");
        let audience = f
            .audience
            .map(|a| format!("%,{},%", a.key()))
            .unwrap_or_default();
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(f.from)
            .bind(f.series_id.unwrap_or(0))
            .bind(f.until.unwrap_or(0))
            .bind(audience)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(event_from).collect()
    }

    /// Changes one event. Its sequence rises so calendars replace their copy; everyone
    /// registered gets `notice`; places added to a full event go to those waiting.
    pub async fn update_event(
        &self,
        id: i64,
        d: &EventDraft,
        notice: impl Fn(&Promoted) -> Option<NewMessage> + Sync,
        promoted_notice: impl Fn(&Promoted) -> Option<NewMessage> + Sync,
    ) -> StoreResult<()> {
        self.update_events(&[EventChange {
            id,
            draft: d,
            notice: &notice,
            promoted_notice: &promoted_notice,
        }])
        .await
    }

    /// Several changes in one transaction ("this and every later date"): all are saved,
    /// and their messages queued, or none is.
    pub async fn update_events(&self, changes: &[EventChange<'_>]) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        for c in changes {
            self.update_event_in(&mut tx, c).await?;
        }
        tx.commit().await?;
        self.wake_delivery();
        Ok(())
    }

    async fn update_event_in(
        &self,
        tx: &mut AnyConnection,
        c: &EventChange<'_>,
    ) -> StoreResult<()> {
        let (id, d) = (c.id, c.draft);
        let o = d
            .occurrences
            .first()
            .ok_or(StoreError::Conflict(Conflict::EventNeedsDate))?;
        let locked = self.lock_event(&mut *tx, id).await?;
        if locked.status == EventStatus::Cancelled {
            return Err(StoreError::Conflict(Conflict::EventCancelledUnchangeable));
        }
        if locked.private != d.private
            && sqlx::query("SELECT 1 AS x FROM registrations WHERE event_id = $1 LIMIT 1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?
                .is_some()
        {
            return Err(StoreError::Conflict(Conflict::PrivateFlagFixed));
        }
        let series_id = series_id(&mut *tx, d.series.as_deref()).await?;
        sqlx::query(
            "UPDATE events SET series_id = $2, title = $3, body_md = $4, time_zone = $5,
                 starts_at = $6, ends_at = $7, place = $8, online_url = $9, audience = $10,
                 capacity = $11, opens_at = $12, closes_at = $13, guests_allowed = $14,
                 private_event = $15, for_minors = $16, offer_hours = $17,
                 sequence = sequence + 1, updated_at = $18, guests_confirm = $19
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
        .bind(self.now())
        .bind(i64::from(d.guests_confirm))
        .execute(&mut *tx)
        .await?;
        replace_questions_and_readings(&mut *tx, id, &d.questions, &d.readings).await?;
        for r in self.active_registrations(&mut *tx, id).await? {
            if let Some(m) = (c.notice)(&r) {
                enqueue_in(&mut *tx, &m, self).await?;
            }
        }
        let locked = Locked {
            capacity: d.capacity,
            offer_hours: d.offer_hours,
            ..locked
        };
        self.fill_free_places(&mut *tx, id, &locked, &c.promoted_notice)
            .await?;
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
        .bind(self.now())
        .execute(&mut *tx)
        .await?;
        for r in self.active_registrations(&mut tx, id).await? {
            if let Some(m) = notice(&r) {
                enqueue_in(&mut tx, &m, self).await?;
            }
        }
        tx.commit().await?;
        self.wake_delivery();
        Ok(())
    }

    /// Per-event figures, newest first, optionally for one series.
    pub async fn event_counts(&self, series_id: Option<i64>) -> StoreResult<Vec<EventCounts>> {
        let rows = sqlx::query(
            "SELECT e.id, e.title, e.private_event, e.starts_at, e.ends_at, e.time_zone,
                 s.title AS series_title,
                 e.erased_at, e.kept_registered, e.kept_waitlisted, e.kept_attended,
                 CAST(COALESCE(SUM(CASE WHEN r.status IN ('confirmed', 'offered') THEN r.places ELSE 0 END), 0) AS BIGINT) AS registered,
                 CAST(COALESCE(SUM(CASE WHEN r.status = 'waitlisted' THEN 1 ELSE 0 END), 0) AS BIGINT) AS waitlisted,
                 CAST(COALESCE(SUM(CASE WHEN r.checked_in_at IS NOT NULL AND r.status <> 'cancelled' THEN r.places ELSE 0 END), 0) AS BIGINT) AS attended,
                 CAST(COALESCE(SUM(CASE WHEN r.status = 'cancelled' THEN 1 ELSE 0 END), 0) AS BIGINT) AS cancelled
             FROM events e LEFT JOIN series s ON s.id = e.series_id
                 LEFT JOIN registrations r ON r.event_id = e.id
             WHERE ($1 = 0 OR e.series_id = $1)
             GROUP BY e.id, e.title, e.private_event, e.starts_at, e.ends_at, e.time_zone, s.title,
                 e.erased_at,
                 e.kept_registered, e.kept_waitlisted, e.kept_attended
             ORDER BY e.starts_at DESC LIMIT 1000",
        )
        .bind(series_id.unwrap_or(0))
        .fetch_all(&self.pool)
        .await?;
        let at = self.now();
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
                    time_zone: get_string(r, "time_zone")?,
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

    /// The scheduled occurrences of a repetition after `after`, in date order.
    pub async fn later_occurrences(&self, recurrence_id: i64, after: i64) -> StoreResult<Vec<i64>> {
        sqlx::query(
            "SELECT id FROM events WHERE recurrence_id = $1 AND starts_at > $2
                 AND status = 'scheduled' ORDER BY starts_at",
        )
        .bind(recurrence_id)
        .bind(after)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| get_i64(r, "id"))
        .collect()
    }

    /// Whether any event exists (the demo seeds events only into an empty programme).
    pub async fn has_events(&self) -> StoreResult<bool> {
        Ok(sqlx::query("SELECT 1 AS x FROM events LIMIT 1")
            .fetch_optional(&self.pool)
            .await?
            .is_some())
    }

    /// Registrations that still stand (for notices about the event).
    async fn active_registrations(
        &self,
        conn: &mut AnyConnection,
        event_id: i64,
    ) -> StoreResult<Vec<Promoted>> {
        let rows = sqlx::query(
            "SELECT id, name, email, sealed, status, offer_expires_at FROM registrations
             WHERE event_id = $1 AND status <> 'cancelled' ORDER BY arrival",
        )
        .bind(event_id)
        .fetch_all(conn)
        .await?;
        rows.iter()
            .map(|r| {
                let id = get_i64(r, "id")?;
                let (name, email) = self.person_of(r)?;
                Ok(Promoted {
                    id,
                    secret: self.registration_secret(id)?,
                    name,
                    email,
                    status: RegistrationStatus::parse(&get_string(r, "status")?)
                        .unwrap_or(RegistrationStatus::Cancelled),
                    offer_expires_at: get_opt_i64(r, "offer_expires_at")?,
                })
            })
            .collect()
    }
}

/// A series' id from its slug; an unknown slug is the person's mistake, not a silent
/// "no series".
async fn series_id(conn: &mut AnyConnection, slug: Option<&str>) -> StoreResult<Option<i64>> {
    let Some(slug) = slug else {
        return Ok(None);
    };
    sqlx::query("SELECT id FROM series WHERE slug = $1")
        .bind(slug)
        .fetch_optional(conn)
        .await?
        .map(|r| get_i64(&r, "id"))
        .transpose()?
        .ok_or(StoreError::Conflict(Conflict::NoSuchSeries))
        .map(Some)
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
    at: i64,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO events (id, series_id, recurrence_id, title, body_md, time_zone, starts_at,
             ends_at, place, online_url, audience, capacity, opens_at, closes_at, guests_allowed,
             private_event, for_minors, allocation, lottery_at, offer_hours, status, sequence,
             next_arrival, created_at, updated_at, guests_confirm)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
             $19, $20, 'scheduled', 0, 0, $21, $21, $22)",
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
    .bind(i64::from(d.guests_confirm))
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
pub(super) async fn place_counts(
    conn: &mut AnyConnection,
    event_id: i64,
) -> StoreResult<(i64, i64)> {
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
