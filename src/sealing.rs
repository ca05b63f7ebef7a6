//! Encryption of identities at rest. Names, contact details and free text of support
//! requests are sealed with XChaCha20-Poly1305 under a data key that lives outside the
//! database (a key file or an environment variable), so a copy of the database or of a
//! backup shows no identities. Each sealed value is bound to where it is stored (the
//! associated data), so a value copied into another row or column does not open.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// The key's length in bytes; written as 64 hexadecimal characters.
pub const KEY_BYTES: usize = 32;
const PREFIX: &str = "v1";

#[derive(Clone)]
pub struct DataKey {
    cipher: XChaCha20Poly1305,
    index_key: [u8; 32],
    id: String,
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DataKey({})", self.id)
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    #[error("a data key is 64 hexadecimal characters (32 bytes); this one is not")]
    Malformed,
    #[error("the value was sealed with another data key ({0})")]
    OtherKey(String),
    #[error("the value is damaged or does not belong here")]
    Damaged,
}

impl DataKey {
    /// A new random key, as the 64 hex characters a key file holds.
    pub fn generate_hex() -> String {
        crate::crypto::random_hex(KEY_BYTES)
    }

    pub fn from_hex(text: &str) -> Result<Self, KeyError> {
        let bytes = hex::decode(text.trim()).map_err(|_| KeyError::Malformed)?;
        let key: [u8; KEY_BYTES] = bytes.try_into().map_err(|_| KeyError::Malformed)?;
        // The key's id names it in sealed values without revealing it.
        let id = hex::encode(&Sha256::digest([b"wecare key id:".as_slice(), &key].concat())[..4]);
        let index_key: [u8; 32] =
            Sha256::digest([b"wecare blind index:".as_slice(), &key].concat()).into();
        Ok(Self {
            cipher: XChaCha20Poly1305::new(&key.into()),
            index_key,
            id,
        })
    }

    /// A short public name for the key (8 hex characters), to tell keys apart.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Seals `plaintext` for the place `context` names (such as "support_request:42").
    pub fn seal(&self, context: &str, plaintext: &str) -> String {
        let mut nonce = [0u8; 24];
        getrandom::fill(&mut nonce).expect("the operating system's random generator failed");
        let aad = self.aad(context);
        // Encryption with a valid key and a fresh nonce cannot fail.
        let ct = self
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: &aad,
                },
            )
            .expect("XChaCha20-Poly1305 encryption of a bounded message");
        format!(
            "{PREFIX}.{}.{}{}",
            self.id,
            hex::encode(nonce),
            hex::encode(ct)
        )
    }

    pub fn open(&self, context: &str, sealed: &str) -> Result<String, KeyError> {
        let mut parts = sealed.splitn(3, '.');
        let (Some(PREFIX), Some(id), Some(body)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(KeyError::Damaged);
        };
        if id != self.id {
            return Err(KeyError::OtherKey(id.to_string()));
        }
        let bytes = hex::decode(body).map_err(|_| KeyError::Damaged)?;
        if bytes.len() < 24 + 16 {
            return Err(KeyError::Damaged);
        }
        let (nonce, ct) = bytes.split_at(24);
        let aad = self.aad(context);
        let plain = self
            .cipher
            .decrypt(XNonce::from_slice(nonce), Payload { msg: ct, aad: &aad })
            .map_err(|_| KeyError::Damaged)?;
        String::from_utf8(plain).map_err(|_| KeyError::Damaged)
    }

    fn aad(&self, context: &str) -> Vec<u8> {
        format!("wecare:{context}").into_bytes()
    }

    /// A keyed digest of `value` for finding rows by it (a member's own requests, a
    /// receipt code) without storing it: without the key, the digest cannot be linked to
    /// the value by trying candidates.
    pub fn blind_index(&self, context: &str, value: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.index_key)
            .expect("HMAC takes a key of any length");
        mac.update(context.as_bytes());
        mac.update(b"\0");
        mac.update(value.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> DataKey {
        DataKey::from_hex(&DataKey::generate_hex()).expect("key")
    }

    #[test]
    fn seals_and_opens_in_its_place_only() {
        let k = key();
        let s = k.seal("request:1", "Dr. Jane Roe <jane@example.edu>");
        assert!(!s.contains("Jane"));
        assert_eq!(
            k.open("request:1", &s).expect("opens"),
            "Dr. Jane Roe <jane@example.edu>"
        );
        assert_eq!(k.open("request:2", &s), Err(KeyError::Damaged));
        let other = key();
        assert!(matches!(
            other.open("request:1", &s),
            Err(KeyError::OtherKey(_))
        ));
        // Two seals of the same text differ (fresh nonces).
        assert_ne!(s, k.seal("request:1", "Dr. Jane Roe <jane@example.edu>"));
        let mut tampered = s.clone();
        tampered.pop();
        tampered.push(if s.ends_with('0') { '1' } else { '0' });
        assert_eq!(k.open("request:1", &tampered), Err(KeyError::Damaged));
    }

    #[test]
    fn malformed_keys_are_refused() {
        assert_eq!(DataKey::from_hex("abc").err(), Some(KeyError::Malformed));
        assert_eq!(
            DataKey::from_hex(&"zz".repeat(32)).err(),
            Some(KeyError::Malformed)
        );
        assert!(DataKey::from_hex(&format!(" {}\n", "ab".repeat(32))).is_ok());
    }

    #[test]
    fn blind_index_depends_on_key_and_context() {
        let k = key();
        assert_eq!(k.blind_index("owner", "42"), k.blind_index("owner", "42"));
        assert_ne!(k.blind_index("owner", "42"), k.blind_index("receipt", "42"));
        assert_ne!(
            k.blind_index("owner", "42"),
            key().blind_index("owner", "42")
        );
    }
}
