//! Sign-in throttling: how many failures, in what window, lock for how long. The counts
//! live in the database so that they survive restarts and are shared by every instance.

/// What is being throttled: one account (whatever address tries it) or one address
/// (whatever accounts it tries).
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub max_failures: i64,
    pub window_secs: i64,
    pub lock_secs: i64,
}

pub const PER_ACCOUNT: Policy = Policy {
    max_failures: 5,
    window_secs: 15 * 60,
    lock_secs: 15 * 60,
};

pub const PER_ADDRESS: Policy = Policy {
    max_failures: 20,
    window_secs: 15 * 60,
    lock_secs: 15 * 60,
};

/// The key under which an account's failures are counted. The e-mail is hashed so that
/// the table does not become a list of addresses people tried.
pub fn account_key(email: &str) -> String {
    format!(
        "account:{}",
        crate::crypto::secret_digest(&email.trim().to_lowercase())
    )
}

pub fn address_key(addr: &str) -> String {
    format!("address:{addr}")
}

/// Wrong receipt codes are counted per address, apart from sign-in failures.
pub fn receipt_key(addr: &str) -> String {
    format!("receipt:{addr}")
}

impl Policy {
    /// Given the failures now counted in the current window, when (if at all) the key
    /// should be locked until.
    pub fn lock_after(&self, failures_in_window: i64, now: i64) -> Option<i64> {
        (failures_in_window >= self.max_failures).then_some(now + self.lock_secs)
    }

    /// Failures counted before this moment belong to an earlier window.
    pub fn window_start(&self, now: i64) -> i64 {
        now - self.window_secs
    }
}

/// Minutes to wait, rounded up, for the message shown to the person.
pub fn minutes_left(locked_until: i64, now: i64) -> i64 {
    ((locked_until - now).max(0) + 59) / 60
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_at_the_limit() {
        assert_eq!(PER_ACCOUNT.lock_after(4, 100), None);
        assert_eq!(PER_ACCOUNT.lock_after(5, 100), Some(100 + 900));
        assert_eq!(minutes_left(161, 100), 2);
        assert_ne!(account_key("A@x.org"), account_key("b@x.org"));
        assert_eq!(account_key("A@x.org "), account_key("a@x.org"));
    }
}
