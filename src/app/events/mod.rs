//! Actions on events that the pages, the API and the timed jobs all take: registering
//! and cancelling with the right message in the same transaction, telling registrants of
//! a change, drawing lotteries, passing on lapsed offers, reminders, erasure, and the
//! calendar text and check-in codes that go with a registration.

mod consent;
pub mod manage;
pub mod registration;

use crate::delivery::Writer;
use crate::domain::calendar::{self, Entry};
use crate::domain::conflict::Conflict;
use crate::domain::events::{Event, EventDraft, RegistrationStatus, instant_text};
use crate::domain::mail::MessageKind;
use crate::store::{
    Arrival, Attachment, EventChange, GuestLimit, NewMessage, NewRegistration, Promoted,
    Registered, Store, StoreResult,
};

/// Reminders go out this long before an event starts.
pub const REMINDER_HOURS: i64 = 24;

pub fn event_path(id: i64) -> String {
    format!("/events/{id}")
}

pub fn manage_path(secret: &str) -> String {
    format!("/registration/{secret}")
}

/// The values every registrant message shares. The online link is given only to people
/// with a place.
fn values<'a>(
    e: &'a Event,
    w: &Writer,
    name: &'a str,
    secret: &str,
    has_place: bool,
) -> Vec<(&'static str, String)> {
    let where_text = if has_place {
        e.where_text()
    } else if e.place.is_empty() {
        "Online (the link comes with your place)".to_string()
    } else {
        e.place.clone()
    };
    vec![
        ("name", name.to_string()),
        ("event", e.public_title().to_string()),
        ("when", e.when()),
        ("where", where_text),
        ("link", w.url(&event_path(e.id))),
        ("cancel_link", w.url(&manage_path(secret))),
    ]
}

/// One registrant's message. Messages about a private event are sealed in the outbox
/// like peer-support ones: who goes to a support group is nobody else's business.
fn write(
    e: &Event,
    w: &Writer,
    to: &str,
    values: &[(&'static str, String)],
    key: String,
    attachment: Option<Attachment>,
) -> NewMessage {
    // The shared values include some a kind does not use (a waiting-list message has no
    // place to give); only the kind's own placeholders are passed on.
    let refs: Vec<(&str, &str)> = values
        .iter()
        .filter(|(k, _)| w.kind().placeholders().any(|p| p.name == *k))
        .map(|(k, v)| (*k, v.as_str()))
        .collect();
    let mut m = w.to(to, &refs, key);
    m.attachment = attachment;
    m.sealed = e.private;
    m
}

/// The event as one calendar entry.
/// `now` stamps the entry (when this copy of it was made).
pub fn entry(e: &Event, public_url: &url::Url, with_online_link: bool, now: i64) -> Entry {
    let base = public_url.as_str().trim_end_matches('/');
    let url = format!("{base}{}", event_path(e.id));
    let mut description = if e.private {
        String::new()
    } else {
        e.body_md.clone()
    };
    if !e.readings.is_empty() && !e.private {
        description.push_str("\n\nReadings:\n");
        description.push_str(&e.readings_text());
    }
    if with_online_link && !e.online_url.is_empty() {
        description.push_str(&format!("\n\nJoin online: {}", e.online_url));
    }
    description.push_str(&format!("\n\n{url}"));
    Entry {
        uid: format!(
            "event-{}@{}",
            e.id,
            public_url.host_str().unwrap_or("wecare")
        ),
        sequence: e.sequence,
        summary: e.public_title().to_string(),
        description: description.trim().to_string(),
        // An online-only event is "located" at its link, for those allowed to see it.
        location: if e.place.is_empty() && with_online_link {
            e.online_url.clone()
        } else {
            e.place.clone()
        },
        url,
        starts_at: e.starts_at,
        ends_at: e.ends_at,
        cancelled: e.status == crate::domain::events::EventStatus::Cancelled,
        updated_at: now,
    }
}

/// An `.ics` attachment holding one event, for messages about it.
pub fn ics_attachment(e: &Event, public_url: &url::Url, now: i64) -> Attachment {
    Attachment {
        name: "event.ics".to_string(),
        content_type: "text/calendar; charset=utf-8; method=PUBLISH".to_string(),
        body: calendar::calendar(e.public_title(), &[entry(e, public_url, true, now)]),
    }
}

/// Why a registration was not made.
#[derive(Debug)]
pub enum RegisterError {
    /// The address had too many guest registrations in the last hour.
    TooMany,
    /// The client's network address made too many guest registrations in the last hour.
    TooManyFromAddress {
        per_hour: u32,
    },
    Store(crate::store::StoreError),
}

/// Where a registration comes from, for the limits on guests.
#[derive(Debug, Clone, Copy)]
pub struct Caller<'a> {
    /// The client's network address (behind a trusted proxy, the one it appended).
    pub address: &'a str,
    /// How many guest registrations one address may make in an hour.
    pub guest_registrations_per_hour: u32,
}

/// What registering did.
#[derive(Debug, Clone)]
pub enum Outcome {
    Registered(Registered),
    /// A guest of an event that asks guests to confirm their address: a message went to
    /// the address (the confirmation link, or for an address already registered its
    /// registration again, so that the answer does not tell anyone which it was), and no
    /// place is held until the link is followed.
    CheckYourMail {
        expires_at: i64,
    },
}

impl From<crate::store::StoreError> for RegisterError {
    fn from(e: crate::store::StoreError) -> Self {
        Self::Store(e)
    }
}

/// Registers someone and writes their confirmation, entry or waiting-list message in
/// the same transaction. Guests (no account) are limited per client address and per
/// e-mail address each hour; someone already registered gets their registration back
/// whatever the limits. A guest of an event that asks for it first confirms their
/// address: only then is a place held.
#[tracing::instrument(skip_all)]
pub async fn register(
    store: &Store,
    public_url: &url::Url,
    e: &Event,
    r: &NewRegistration,
    caller: Caller<'_>,
) -> Result<Outcome, RegisterError> {
    let key = guest_key(caller.address);
    let limit = r.account_id.is_none().then(|| GuestLimit {
        key: &key,
        per_hour: i64::from(caller.guest_registrations_per_hour),
    });
    let arrival = || limit.map_or(Arrival::Direct, Arrival::Guest);
    let too_many = |e: crate::store::StoreError| match e {
        crate::store::StoreError::Conflict(Conflict::GuestLimitReached) => {
            RegisterError::TooManyFromAddress {
                per_hour: caller.guest_registrations_per_hour,
            }
        }
        e => RegisterError::Store(e),
    };
    if r.account_id.is_none() {
        let t = store.now();
        if store.guest_registrations_since(&r.email, t - 3600).await?
            >= crate::domain::events::GUEST_REGISTRATIONS_PER_HOUR
            && !store.is_registered(e.id, &r.email).await?
        {
            return Err(RegisterError::TooMany);
        }
        if e.guests_confirm {
            let expires_at = if store.is_registered(e.id, &r.email).await? {
                // Sends its confirmation again (at most once an hour).
                register_now(store, public_url, e, r, arrival())
                    .await
                    .map_err(too_many)?;
                t + crate::store::GUEST_CONFIRM_SECS
            } else {
                hold_for_confirmation(store, public_url, e, r, limit)
                    .await
                    .map_err(too_many)?
                    .expires_at
            };
            return Ok(Outcome::CheckYourMail { expires_at });
        }
    }
    Ok(Outcome::Registered(
        register_now(store, public_url, e, r, arrival())
            .await
            .map_err(too_many)?,
    ))
}

/// The throttle key a client address's guest registrations are counted under. An IPv6
/// client usually holds a whole /64, so it is counted as one.
fn guest_key(address: &str) -> String {
    match address.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!(
                "guest-registration:{:x}:{:x}:{:x}:{:x}::/64",
                s[0], s[1], s[2], s[3]
            )
        }
        _ => format!("guest-registration:{address}"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_ipv6_network_counts_as_one_client() {
        assert_eq!(
            super::guest_key("2001:db8:1:2::5"),
            super::guest_key("2001:db8:1:2:ffff::9")
        );
        assert_ne!(
            super::guest_key("2001:db8:1:2::5"),
            super::guest_key("2001:db8:1:3::5")
        );
        assert_eq!(
            super::guest_key("192.0.2.7"),
            "guest-registration:192.0.2.7"
        );
    }
}

async fn hold_for_confirmation(
    store: &Store,
    public_url: &url::Url,
    e: &Event,
    r: &NewRegistration,
    limit: Option<GuestLimit<'_>>,
) -> StoreResult<crate::store::PendingGuest> {
    let w = Writer::load(store, public_url, MessageKind::EventConfirmAddress).await?;
    store
        .hold_guest_registration(r, limit, |p| {
            let values = vec![
                ("name", r.name.clone()),
                ("event", e.public_title().to_string()),
                ("when", e.when()),
                (
                    "confirm_link",
                    w.url(&format!("/registration/confirm/{}", p.secret)),
                ),
                ("expires", instant_text(p.expires_at, &e.tz())),
            ];
            // Asking again sends the link again, at most once an hour.
            let key = if p.created {
                format!("event_confirm_address:{}", p.id)
            } else {
                format!("event_confirm_address:{}:{}", p.id, store.now() / 3600)
            };
            write(e, &w, &r.email, &values, key, None)
        })
        .await
}

/// A guest follows the link that confirms their address: the registration they asked
/// for is made now (a place, the waiting list or the draw, as for anyone arriving now).
/// The link works once.
#[tracing::instrument(skip_all)]
pub async fn confirm_guest(
    store: &Store,
    public_url: &url::Url,
    secret: &str,
) -> StoreResult<Registered> {
    let pending = store.pending_guest(secret).await?;
    let e = store.event(pending.event_id).await?;
    if matches!(
        e.window(store.now()),
        crate::domain::events::Window::Closed | crate::domain::events::Window::Cancelled
    ) {
        return Err(crate::store::StoreError::Conflict(
            Conflict::RegistrationClosed,
        ));
    }
    // Counted when the guest asked; confirming is not a second registration.
    register_now(
        store,
        public_url,
        &e,
        &pending,
        Arrival::Confirming { secret },
    )
    .await
}

/// A coordinator registers someone (who asked by phone, say): no guest limit and no
/// registration window, the same confirmation to the person.
#[tracing::instrument(skip_all)]
pub async fn register_on_behalf(
    store: &Store,
    public_url: &url::Url,
    e: &Event,
    r: &NewRegistration,
) -> StoreResult<Registered> {
    register_now(store, public_url, e, r, Arrival::Direct).await
}

async fn register_now(
    store: &Store,
    public_url: &url::Url,
    e: &Event,
    r: &NewRegistration,
    arrival: Arrival<'_>,
) -> StoreResult<Registered> {
    let [confirm, entered, waiting] = Writer::load_all(
        store,
        public_url,
        [
            MessageKind::EventConfirmation,
            MessageKind::EventEntered,
            MessageKind::EventWaitlisted,
        ],
    )
    .await?;
    let attachment = ics_attachment(e, public_url, store.now());
    let compose = |out: &Registered, name: &str, key: String| -> Option<NewMessage> {
        let mut v = values(
            e,
            &confirm,
            name,
            &out.secret,
            out.status == RegistrationStatus::Confirmed,
        );
        match out.status {
            RegistrationStatus::Confirmed => Some(write(
                e,
                &confirm,
                &r.email,
                &v,
                key,
                Some(attachment.clone()),
            )),
            RegistrationStatus::Entered => {
                v.push((
                    "draw",
                    e.lottery_at
                        .map(|t| instant_text(t, &e.tz()))
                        .unwrap_or_default(),
                ));
                Some(write(e, &entered, &r.email, &v, key, None))
            }
            RegistrationStatus::Waitlisted => {
                v.push(("position", out.position.unwrap_or(0).to_string()));
                Some(write(e, &waiting, &r.email, &v, key, None))
            }
            RegistrationStatus::Offered | RegistrationStatus::Cancelled => None,
        }
    };
    let out = store
        .register(r, arrival, |out, _| {
            compose(out, &r.name, format!("event_registration:{}", out.id))
        })
        .await?;
    // A guest who registers again is not shown the registration (anyone can type an
    // address): its confirmation goes again to that address, at most once an hour.
    if !out.created && r.account_id.is_none() {
        let existing = store.registration(out.id).await?;
        let again = format!("event_registration_again:{}:{}", out.id, store.now() / 3600);
        if let Some(m) = compose(&out, &existing.name, again) {
            store.enqueue(&m).await?;
        }
    }
    Ok(out)
}

/// The message for someone who was given a place, or offered one.
struct PromotionMail {
    promoted: Writer,
    offered: Writer,
    /// When the mail was written: part of its key, so each promotion is its own message.
    now: i64,
}

impl PromotionMail {
    async fn load(store: &Store, public_url: &url::Url) -> StoreResult<Self> {
        let [promoted, offered] = Writer::load_all(
            store,
            public_url,
            [MessageKind::EventPromoted, MessageKind::EventPlaceOffered],
        )
        .await?;
        Ok(Self {
            promoted,
            offered,
            now: store.now(),
        })
    }

    fn write(&self, e: &Event, public_url: &url::Url, p: &Promoted) -> NewMessage {
        let key = format!("event_promoted:{}:{}", p.id, self.now);
        if p.status == RegistrationStatus::Offered {
            let mut v = values(e, &self.offered, &p.name, &p.secret, false);
            v.retain(|(k, _)| *k != "link");
            v.push(("link", self.offered.url(&manage_path(&p.secret))));
            v.push((
                "respond_by",
                p.offer_expires_at
                    .map(|t| instant_text(t, &e.tz()))
                    .unwrap_or_default(),
            ));
            write(e, &self.offered, &p.email, &v, key, None)
        } else {
            let v = values(e, &self.promoted, &p.name, &p.secret, true);
            write(
                e,
                &self.promoted,
                &p.email,
                &v,
                key,
                Some(ics_attachment(e, public_url, self.now)),
            )
        }
    }
}

/// Cancels a registration; freed places go to those waiting, who are told.
#[tracing::instrument(skip_all)]
pub async fn cancel(
    store: &Store,
    public_url: &url::Url,
    e: &Event,
    registration: i64,
) -> StoreResult<Vec<Promoted>> {
    let mail = PromotionMail::load(store, public_url).await?;
    store
        .cancel_registration(registration, |p| Some(mail.write(e, public_url, p)))
        .await
}

/// A coordinator gives someone waiting a place now (an extra chair); they are told as
/// anyone promoted is.
#[tracing::instrument(skip_all)]
pub async fn give_place(
    store: &Store,
    public_url: &url::Url,
    e: &Event,
    registration: i64,
) -> StoreResult<Promoted> {
    let mail = PromotionMail::load(store, public_url).await?;
    store
        .give_place(registration, |p| Some(mail.write(e, public_url, p)))
        .await
}

/// Saves a change to an event and tells everyone registered, with the new calendar entry.
#[tracing::instrument(skip_all, fields(event = id))]
pub async fn change_event(
    store: &Store,
    public_url: &url::Url,
    id: i64,
    draft: &EventDraft,
) -> StoreResult<()> {
    change_events(store, public_url, &[(id, draft)]).await
}

/// The event as a change will leave it, for the messages that describe it.
fn after_change(before: &Event, draft: &EventDraft) -> Event {
    let mut after = before.clone();
    if let Some(o) = draft.occurrences.first() {
        after.title = draft.title.clone();
        after.body_md = draft.body_md.clone();
        after.time_zone = draft.time_zone.clone();
        after.starts_at = o.starts_at;
        after.ends_at = o.ends_at;
        after.place = draft.place.clone();
        after.online_url = draft.online_url.clone();
        after.private = draft.private;
        after.readings = draft.readings.clone();
        after.sequence = before.sequence + 1;
    }
    after
}

/// Saves several changes in one transaction ("this and every later date"), each event's
/// registrants told of theirs: all are saved and their messages queued, or none is.
#[tracing::instrument(skip_all)]
pub async fn change_events(
    store: &Store,
    public_url: &url::Url,
    changes: &[(i64, &EventDraft)],
) -> StoreResult<()> {
    let changed = Writer::load(store, public_url, MessageKind::EventChanged).await?;
    let mail = PromotionMail::load(store, public_url).await?;
    let mut afters = Vec::with_capacity(changes.len());
    for (id, draft) in changes {
        afters.push(after_change(&store.event(*id).await?, draft));
    }
    let stamp = store.now();
    type Notice<'a> = Box<dyn Fn(&Promoted) -> Option<NewMessage> + Send + Sync + 'a>;
    let notices: Vec<(Notice<'_>, Notice<'_>)> = afters
        .iter()
        .map(|after| {
            let (changed, mail) = (&changed, &mail);
            let told: Notice<'_> = Box::new(move |r: &Promoted| {
                let v = values(after, changed, &r.name, &r.secret, r.status.holds_place());
                Some(write(
                    after,
                    changed,
                    &r.email,
                    &v,
                    format!("event_changed:{}:{stamp}", r.id),
                    Some(ics_attachment(after, public_url, store.now())),
                ))
            });
            let promoted: Notice<'_> =
                Box::new(move |p: &Promoted| Some(mail.write(after, public_url, p)));
            (told, promoted)
        })
        .collect();
    let list: Vec<EventChange<'_>> = changes
        .iter()
        .zip(&notices)
        .map(|((id, draft), (told, promoted))| EventChange {
            id: *id,
            draft,
            notice: told.as_ref(),
            promoted_notice: promoted.as_ref(),
        })
        .collect();
    store.update_events(&list).await
}

/// Cancels an event and tells everyone registered; the attachment removes it from their
/// calendars.
#[tracing::instrument(skip_all, fields(event = id))]
pub async fn cancel_event(store: &Store, public_url: &url::Url, id: i64) -> StoreResult<()> {
    let w = Writer::load(store, public_url, MessageKind::EventCancelled).await?;
    let mut e = store.event(id).await?;
    e.status = crate::domain::events::EventStatus::Cancelled;
    e.sequence += 1;
    store
        .cancel_event(id, |r| {
            let mut v = values(&e, &w, &r.name, &r.secret, false);
            v.retain(|(k, _)| *k != "link");
            v.push(("link", w.url("/events")));
            Some(write(
                &e,
                &w,
                &r.email,
                &v,
                format!("event_cancelled:{}", r.id),
                Some(ics_attachment(&e, public_url, store.now())),
            ))
        })
        .await
}

/// Draws every lottery that is due. The seed is random, kept with the event and written
/// to the audit log, so the order can be recomputed by anyone who checks.
#[tracing::instrument(skip_all)]
pub async fn draw_due_lotteries(store: &Store, public_url: &url::Url) -> StoreResult<usize> {
    let mut drawn = 0;
    for id in store.lotteries_due(store.now()).await? {
        drawn += usize::from(
            draw_lottery(store, public_url, id, &crate::crypto::random_hex(16))
                .await?
                .is_some(),
        );
    }
    Ok(drawn)
}

#[tracing::instrument(skip_all, fields(event = id))]
pub async fn draw_lottery(
    store: &Store,
    public_url: &url::Url,
    id: i64,
    seed: &str,
) -> StoreResult<Option<usize>> {
    let e = store.event(id).await?;
    let [confirm, waiting] = Writer::load_all(
        store,
        public_url,
        [MessageKind::EventConfirmation, MessageKind::EventWaitlisted],
    )
    .await?;
    let attachment = ics_attachment(&e, public_url, store.now());
    let n = store
        .draw_lottery(id, seed, |p, position| {
            let key = format!("event_drawn:{}", p.id);
            Some(match position {
                None => {
                    let v = values(&e, &confirm, &p.name, &p.secret, true);
                    write(&e, &confirm, &p.email, &v, key, Some(attachment.clone()))
                }
                Some(pos) => {
                    let mut v = values(&e, &waiting, &p.name, &p.secret, false);
                    v.push(("position", pos.to_string()));
                    write(&e, &waiting, &p.email, &v, key, None)
                }
            })
        })
        .await?;
    if let Some(n) = n {
        store
            .audit(
                None,
                "event.lottery_drawn",
                &format!("event {id}: {n} entries, seed {seed}"),
            )
            .await?;
        tracing::info!(event = id, entries = n, "lottery drawn");
    }
    Ok(n)
}

/// Offers of a freed place that lapsed pass to the next waiting.
#[tracing::instrument(skip_all)]
pub async fn lapse_offers(store: &Store, public_url: &url::Url) -> StoreResult<u64> {
    let at = store.now();
    let events = store.events_with_lapsed_offers(at).await?;
    if events.is_empty() {
        return Ok(0);
    }
    let mail = PromotionMail::load(store, public_url).await?;
    let mut lapsed = 0;
    for id in events {
        let e = store.event(id).await?;
        lapsed += store
            .lapse_place_offers(id, at, |p| Some(mail.write(&e, public_url, p)))
            .await?;
    }
    Ok(lapsed)
}

/// Reminders for confirmed registrants of events starting within `REMINDER_HOURS`.
#[tracing::instrument(skip_all)]
pub async fn send_reminders(store: &Store, public_url: &url::Url) -> StoreResult<usize> {
    let at = store.now();
    let due = store.reminders_due(at, at + REMINDER_HOURS * 3600).await?;
    if due.is_empty() {
        return Ok(0);
    }
    let w = Writer::load(store, public_url, MessageKind::EventReminder).await?;
    let mut events: std::collections::HashMap<i64, Event> = Default::default();
    for (event_id, r) in &due {
        if !events.contains_key(event_id) {
            events.insert(*event_id, store.event(*event_id).await?);
        }
        let Some(e) = events.get(event_id) else {
            continue;
        };
        let secret = store.registration_secret(r.id)?;
        let mut v = values(e, &w, &r.name, &secret, true);
        v.push((
            "readings",
            if e.readings.is_empty() {
                String::new()
            } else {
                format!("Before you come, please read:\n\n{}", e.readings_text())
            },
        ));
        let m = write(
            e,
            &w,
            &r.email,
            &v,
            format!("event_reminder:{}", r.id),
            None,
        );
        store.mark_reminded(r.id, Some(&m)).await?;
    }
    Ok(due.len())
}

/// Erases private events' registrations and minors' details when their time comes.
#[tracing::instrument(skip_all)]
pub async fn erase_due(store: &Store, minors_days: u32) -> StoreResult<u64> {
    store
        .erase_event_registrations(store.now(), i64::from(minors_days))
        .await
}

/// The check-in QR code for a registration, as an SVG image.
pub fn qr_svg(url: &str) -> String {
    match qrcode::QrCode::new(url.as_bytes()) {
        Ok(code) => code
            .render::<qrcode::render::svg::Color>()
            .min_dimensions(220, 220)
            .quiet_zone(true)
            .build(),
        Err(_) => String::new(),
    }
}

/// Totals for one series (or for stand-alone events), summed from per-event counts.
#[derive(Debug, Clone, Default, serde::Serialize, utoipa::ToSchema)]
pub struct SeriesTotals {
    /// Empty for events outside any series.
    pub series_title: String,
    pub events: i64,
    pub registered: i64,
    pub waitlisted: i64,
    pub attended: i64,
    /// Over the events that are over and had registrants.
    pub no_show_rate: Option<f64>,
}

pub fn series_totals(counts: &[crate::store::EventCounts]) -> Vec<SeriesTotals> {
    let mut out: Vec<SeriesTotals> = Vec::new();
    // (registered, attended) over finished events, for the no-show rate.
    let mut finished: Vec<(i64, i64)> = Vec::new();
    for c in counts {
        let title = c.series_title.clone().unwrap_or_default();
        let i = match out.iter().position(|t| t.series_title == title) {
            Some(i) => i,
            None => {
                out.push(SeriesTotals {
                    series_title: title,
                    ..Default::default()
                });
                finished.push((0, 0));
                out.len() - 1
            }
        };
        let t = &mut out[i];
        t.events += 1;
        t.registered += c.registered;
        t.waitlisted += c.waitlisted;
        t.attended += c.attended;
        if c.no_show_rate.is_some() {
            finished[i].0 += c.registered;
            finished[i].1 += c.attended;
        }
    }
    for (t, (reg, att)) in out.iter_mut().zip(finished) {
        t.no_show_rate = (reg > 0).then(|| (reg - att).max(0) as f64 / reg as f64);
    }
    out.sort_by(|a, b| a.series_title.cmp(&b.series_title));
    out
}
