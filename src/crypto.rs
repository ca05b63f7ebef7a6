//! Small cryptographic helpers: random secrets, hashes of secrets for storage, and
//! password hashing with argon2id.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use sha2::{Digest, Sha256};

/// `n` bytes from the operating system's generator, as lowercase hex.
pub fn random_hex(n: usize) -> String {
    let mut buf = vec![0u8; n];
    // The OS generator failing leaves no safe way to continue.
    getrandom::fill(&mut buf).expect("the operating system's random generator failed");
    hex::encode(buf)
}

/// A random positive id below 2^53. Ids are made by the application so that one schema
/// works on SQLite and PostgreSQL alike; 53 bits keep them exact in JavaScript clients.
pub fn random_id() -> i64 {
    let mut buf = [0u8; 8];
    getrandom::fill(&mut buf).expect("the operating system's random generator failed");
    (u64::from_le_bytes(buf) >> 11) as i64
}

/// SHA-256 of a high-entropy secret (session id, API token, setup link), as hex. Such
/// secrets are stored only in this form, so a copy of the database cannot be replayed.
pub fn secret_digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Compares two secrets in time that does not depend on where they differ.
pub fn secrets_equal(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

fn argon2() -> Argon2<'static> {
    // OWASP's recommended argon2id settings (19 MiB, 2 passes, 1 lane).
    let params = Params::new(19 * 1024, 2, 1, None).expect("constant argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness for a salt: {e}"))?;
    let salt = SaltString::encode_b64(&bytes)
        .map_err(|e| anyhow::anyhow!("encoding a password salt failed: {e}"))?;
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing a password failed: {e}"))
}

/// Checks a password against a stored hash. With no stored hash (unknown account, or one
/// that never set a password) a dummy hash is checked anyway, so the time taken does not
/// tell whether the account exists.
pub fn verify_password(password: &str, stored: Option<&str>) -> bool {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash_password("not-a-real-password").unwrap_or_default());
    let (hash, real) = match stored {
        Some(h) => (h, true),
        None => (dummy.as_str(), false),
    };
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    argon2()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
        && real
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_round_trip() {
        let h = hash_password("correct horse battery").expect("hash");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", Some(&h)));
        assert!(!verify_password("wrong", Some(&h)));
        assert!(!verify_password("correct horse battery", None));
    }

    #[test]
    fn ids_are_positive_and_differ() {
        let a = random_id();
        let b = random_id();
        assert!(a >= 0 && b >= 0 && a != b);
        assert_eq!(random_hex(16).len(), 32);
    }
}
