//! Peer support's timed work: service-level reminders and alerts, the retention purge,
//! and unanswered offers passed on.

use super::{JobContext, JobFuture, JobSettings, TimedJob};
use crate::store::Store;

/// Reminds helpers whose first contact is due soon; alerts coordinators when it is late.
pub struct ServiceLevel;
/// Erases who asked, once a request has been closed for the retention period.
pub struct Retention;
/// Offers nobody answered in time pass to the next helper.
pub struct OfferExpiry;

impl TimedJob for ServiceLevel {
    fn name(&self) -> &'static str {
        "support-service-level"
    }

    fn every_secs(&self) -> i64 {
        300
    }

    fn run<'a>(&'a self, cx: &'a JobContext<'a>) -> JobFuture<'a> {
        Box::pin(service_level(cx.store, cx.settings))
    }
}

impl TimedJob for Retention {
    fn name(&self) -> &'static str {
        "support-retention"
    }

    fn every_secs(&self) -> i64 {
        3600
    }

    fn run<'a>(&'a self, cx: &'a JobContext<'a>) -> JobFuture<'a> {
        Box::pin(async move {
            let days = cx.settings.retention_days;
            let before = cx.store.now() - i64::from(days) * 86_400;
            let n = cx.store.purge_identities(before).await?;
            let mut files = 0;
            if let Some(dir) = &cx.settings.mail_folder {
                files = crate::delivery::erase_confidential_files(
                    dir,
                    i64::from(days) * 86_400,
                    cx.store.now(),
                )?;
            }
            use crate::domain::plural;
            Ok(format!(
                "erased the identities of {} closed more than {} ago, and {} from the mail folder",
                plural(n, "request", "requests"),
                plural(days, "day", "days"),
                plural(files, "confidential message", "confidential messages"),
            ))
        })
    }
}

impl TimedJob for OfferExpiry {
    fn name(&self) -> &'static str {
        "support-offer-expiry"
    }

    fn every_secs(&self) -> i64 {
        300
    }

    fn run<'a>(&'a self, cx: &'a JobContext<'a>) -> JobFuture<'a> {
        Box::pin(async move {
            let expired = cx.store.expire_offers().await?;
            let mut passed_on = 0;
            for id in &expired {
                if crate::app::support::offer_next(cx.store, &cx.settings.public_url, *id).await? {
                    passed_on += 1;
                }
            }
            Ok(format!(
                "{} unanswered offers expired; {passed_on} passed to the next helper, the rest wait in the queue",
                expired.len()
            ))
        })
    }
}

/// Reminds helpers whose first contact is due soon, and alerts coordinators when it is
/// overdue. Each message names its cause in its dedupe key, so running again sends
/// nothing twice.
async fn service_level(store: &Store, settings: &JobSettings) -> anyhow::Result<String> {
    use crate::domain::mail::MessageKind;
    use crate::domain::sla::{BusinessHours, SlaState, state};
    let sla = store.service_level_settings().await?;
    let hours = BusinessHours::parse(&sla).map_err(|e| anyhow::anyhow!("{e}"))?;
    let now = store.now();
    let reminder =
        crate::delivery::Writer::load(store, &settings.public_url, MessageKind::HelperReminder)
            .await?;
    let alerts = crate::app::support::CoordinatorAlerts::load(store, &settings.public_url).await?;
    let (mut reminded, mut alerted) = (0, 0);
    let awaiting = store.awaiting_first_contact().await?;
    // The helpers' accounts in one query, not one per request.
    let accounts = if awaiting.iter().any(|(_, h)| h.is_some()) {
        store.list_accounts().await?
    } else {
        Vec::new()
    };
    for (r, helper) in awaiting {
        let promise_hours = sla.promise_hours(r.urgency);
        let due = hours.local_text(hours.add(r.created_at, i64::from(promise_hours) * 3600));
        match state(&hours, promise_hours, r.created_at, None, now) {
            SlaState::DueSoon | SlaState::Overdue if helper.is_some() => {
                let Some(h) = helper else { continue };
                let Some(account) = accounts.iter().find(|a| a.id.0 == h) else {
                    continue;
                };
                let m = reminder.to(
                    account.email.as_str(),
                    &[
                        ("name", &account.display_name),
                        ("link", &reminder.url(&format!("/helper/cases/{}", r.id))),
                        ("due", &due),
                    ],
                    format!("sla-remind:{}:{h}", r.id),
                );
                if store.enqueue(&m).await? {
                    reminded += 1;
                }
            }
            _ => {}
        }
        if state(&hours, promise_hours, r.created_at, None, now) == SlaState::Overdue {
            for m in alerts.messages(
                "a request passed its first-contact time",
                &format!("/support/queue/{}", r.id),
                &format!("sla-alert:{}", r.id),
            ) {
                if store.enqueue(&m).await? {
                    alerted += 1;
                }
            }
        }
    }
    Ok(format!(
        "{reminded} helper reminders and {alerted} coordinator alerts queued"
    ))
}
