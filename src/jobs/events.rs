//! Events' timed work: lotteries drawn at their time, lapsed offers of a freed place,
//! reminders the day before, and erasure after private and students' events.

use super::{JobContext, JobFuture, TimedJob};
use crate::app::events as work;

/// Draws every lottery whose time has come.
pub struct Lotteries;
/// Offers of a freed place nobody took in time pass to the next person waiting.
pub struct PlaceOffers;
/// Reminds everyone with a place 24 hours before.
pub struct Reminders;
/// Erases the registrations of private and students' events after them, counts kept.
pub struct Erasure;

impl TimedJob for Lotteries {
    fn name(&self) -> &'static str {
        "event-lotteries"
    }

    fn every_secs(&self) -> i64 {
        60
    }

    fn run<'a>(&'a self, cx: &'a JobContext<'a>) -> JobFuture<'a> {
        Box::pin(async move {
            let n = work::draw_due_lotteries(cx.store, &cx.settings.public_url).await?;
            Ok(format!("drew {n} lotteries"))
        })
    }
}

impl TimedJob for PlaceOffers {
    fn name(&self) -> &'static str {
        "event-place-offers"
    }

    fn every_secs(&self) -> i64 {
        300
    }

    fn run<'a>(&'a self, cx: &'a JobContext<'a>) -> JobFuture<'a> {
        Box::pin(async move {
            let n = work::lapse_offers(cx.store, &cx.settings.public_url).await?;
            Ok(format!("{n} offers of a freed place lapsed and passed on"))
        })
    }
}

impl TimedJob for Reminders {
    fn name(&self) -> &'static str {
        "event-reminders"
    }

    fn every_secs(&self) -> i64 {
        900
    }

    fn run<'a>(&'a self, cx: &'a JobContext<'a>) -> JobFuture<'a> {
        Box::pin(async move {
            let n = work::send_reminders(cx.store, &cx.settings.public_url).await?;
            Ok(format!("sent {n} event reminders"))
        })
    }
}

impl TimedJob for Erasure {
    fn name(&self) -> &'static str {
        "event-erasure"
    }

    fn every_secs(&self) -> i64 {
        3600
    }

    fn run<'a>(&'a self, cx: &'a JobContext<'a>) -> JobFuture<'a> {
        Box::pin(async move {
            let n = work::erase_due(cx.store, cx.settings.minors_retention_days).await?;
            Ok(format!(
                "erased the registrations of {n} private or students' events, counts kept"
            ))
        })
    }
}
