//! Secrets at rest: AES-256-GCM with a random 96-bit nonce per encryption. The
//! ciphertext is bound to the row it belongs to (associated data), so a value copied
//! into another row or tenant does not decrypt. Stored form: `v1.<base64(nonce||ct)>`;
//! the version prefix leaves room for key rotation.

use std::fmt;
use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

const PREFIX: &str = "v1.";

#[derive(Clone)]
pub struct SecretBox {
    cipher: Aes256Gcm,
}

impl fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretBox(<redacted>)")
    }
}

impl SecretBox {
    pub fn from_key(key: &[u8]) -> anyhow::Result<Self> {
        if key.len() != 32 {
            anyhow::bail!(
                "secrets.encryption_key must be 32 bytes (base64 of 32 random bytes), got {}",
                key.len()
            );
        }
        Ok(Self {
            cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key)),
        })
    }

    /// The configured key, or for a single-node install a key file generated under the
    /// data directory on first start (readable by its owner only).
    pub fn load(configured: &str, data_dir: &Path) -> anyhow::Result<Self> {
        if !configured.is_empty() {
            let key = B64
                .decode(configured.trim())
                .map_err(|e| anyhow::anyhow!("secrets.encryption_key is not base64: {e}"))?;
            return Self::from_key(&key);
        }
        let path = data_dir.join("secret.key");
        if let Ok(text) = std::fs::read_to_string(&path) {
            let key = B64
                .decode(text.trim())
                .map_err(|e| anyhow::anyhow!("{} is not base64: {e}", path.display()))?;
            return Self::from_key(&key);
        }
        std::fs::create_dir_all(data_dir)?;
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        write_private_file(&path, B64.encode(key).as_bytes())?;
        tracing::warn!(path = %path.display(), "generated a new secrets key; set secrets.encryption_key in production");
        Self::from_key(&key)
    }

    pub fn seal(&self, plaintext: &[u8], associated: &str) -> anyhow::Result<String> {
        let mut nonce = [0u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let ct = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: associated.as_bytes(),
                },
            )
            .map_err(|_| anyhow::anyhow!("encryption failed"))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        Ok(format!("{PREFIX}{}", B64.encode(out)))
    }

    pub fn open(&self, sealed: &str, associated: &str) -> anyhow::Result<Vec<u8>> {
        let body = sealed
            .strip_prefix(PREFIX)
            .ok_or_else(|| anyhow::anyhow!("unknown secret format"))?;
        let raw = B64.decode(body)?;
        if raw.len() < 12 {
            anyhow::bail!("secret too short");
        }
        let (nonce, ct) = raw.split_at(12);
        self.cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ct,
                    aad: associated.as_bytes(),
                },
            )
            .map_err(|_| anyhow::anyhow!("secret does not decrypt with the configured key"))
    }
}

pub fn write_private_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(bytes)
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn sealed_secret_opens_only_with_its_row_binding() {
        let sb = SecretBox::from_key(&[7u8; 32]).unwrap();
        let sealed = sb.seal(b"hunter2", "acct/conn-1").unwrap();
        assert!(!sealed.contains("hunter2"));
        assert_eq!(sb.open(&sealed, "acct/conn-1").unwrap(), b"hunter2");
        assert!(sb.open(&sealed, "acct/conn-2").is_err());
        let other = SecretBox::from_key(&[8u8; 32]).unwrap();
        assert!(other.open(&sealed, "acct/conn-1").is_err());
    }

    #[test]
    fn two_seals_of_one_value_differ() {
        let sb = SecretBox::from_key(&[1u8; 32]).unwrap();
        assert_ne!(sb.seal(b"x", "a").unwrap(), sb.seal(b"x", "a").unwrap());
    }
}
