//! The programme's clock: seconds since the Unix epoch, as the store keeps time on both
//! databases. Every "now" in the store, the application layer, the jobs and the pages reads
//! this one clock (clippy refuses `jiff::Timestamp::now` elsewhere), so a test can move an
//! instance a week ahead instead of rewriting the times in its rows.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// The system clock, plus an offset that only tests move. Clones share the offset.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    offset_secs: Arc<AtomicI64>,
}

impl Clock {
    pub fn now(&self) -> i64 {
        #[allow(clippy::disallowed_methods)]
        let system = jiff::Timestamp::now().as_second();
        system + self.offset_secs.load(Ordering::Relaxed)
    }

    /// The current instant, for what needs more than seconds (a time zone's date).
    pub fn timestamp(&self) -> jiff::Timestamp {
        jiff::Timestamp::from_second(self.now()).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
    }

    /// Today's date where the server runs.
    pub fn today(&self) -> jiff::civil::Date {
        self.timestamp()
            .to_zoned(jiff::tz::TimeZone::system())
            .date()
    }

    /// Moves this clock (and every clone of it) `secs` ahead: "a week later", for a test.
    pub fn advance(&self, secs: i64) {
        self.offset_secs.fetch_add(secs, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clone_moves_with_the_clock_it_came_from() {
        let clock = Clock::default();
        let copy = clock.clone();
        let before = copy.now();
        clock.advance(7 * 86_400);
        let after = copy.now();
        assert!((7 * 86_400..7 * 86_400 + 5).contains(&(after - before)));
        assert_eq!(copy.timestamp().as_second(), copy.now());
    }
}
