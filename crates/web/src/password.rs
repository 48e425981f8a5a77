//! Passwords, hashed with argon2id (its default cost: 19 MiB, two passes) into PHC strings.
//!
//! A hash needs 19 MiB of working memory. Left to the allocator, each hash takes its own, and
//! glibc keeps what was freed (a block this size raises its threshold for handing memory back),
//! so a burst of sign-ups left a node holding a gigabyte it never returned. Here the memory is
//! allocated once per hashing slot and reused, and the slots are as many as the machine's
//! cores: beyond that, hashes (a burst of sign-ins, or an attack on the form) wait their turn
//! instead of taking memory.

use std::sync::{LazyLock, Mutex};

use anyhow::{Context as _, bail};
use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::Semaphore;

/// Hashes computed at once.
static SLOTS: LazyLock<Semaphore> = LazyLock::new(|| {
    Semaphore::new(std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get))
});

/// The working memory of the slots not in use, each for the default parameters.
static MEMORY: Mutex<Vec<Vec<Block>>> = Mutex::new(Vec::new());

/// Bytes of random salt, and of hash output (the PHC defaults).
const SALT_LEN: usize = 16;
const OUTPUT_LEN: usize = 32;

/// The PHC string of an argon2id hash of `password`, with a new random salt.
pub async fn hash(password: String) -> anyhow::Result<String> {
    in_a_slot(move |memory| {
        let params = Params::default();
        let mut salt = [0u8; SALT_LEN];
        getrandom::fill(&mut salt).map_err(|e| anyhow::anyhow!("no randomness for a salt: {e}"))?;
        let mut out = [0u8; OUTPUT_LEN];
        argon2id(&params)
            .hash_password_into_with_memory(password.as_bytes(), &salt, &mut out, memory)
            .map_err(|e| anyhow::anyhow!("hashing a password failed: {e}"))?;
        let phc = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&params)
                .map_err(|e| anyhow::anyhow!("the hash's parameters: {e}"))?,
            salt: Some(Salt::new(&salt).map_err(|e| anyhow::anyhow!("the salt: {e}"))?),
            hash: Some(Output::new(&out).map_err(|e| anyhow::anyhow!("the output: {e}"))?),
        };
        Ok(phc.to_string())
    })
    .await
}

/// Whether `password` is the one `stored` (a PHC string made by [`hash`]) was made from. The
/// hashes are compared in constant time.
pub async fn verify(password: String, stored: String) -> anyhow::Result<bool> {
    in_a_slot(move |memory| {
        let phc = PasswordHash::new(&stored)
            .map_err(|e| anyhow::anyhow!("stored hash unreadable: {e}"))?;
        if phc.algorithm != Algorithm::Argon2id.ident() {
            bail!("stored hash is not argon2id: {}", phc.algorithm);
        }
        let params =
            Params::try_from(&phc).map_err(|e| anyhow::anyhow!("stored hash's parameters: {e}"))?;
        let (Some(salt), Some(expected)) = (phc.salt, phc.hash) else {
            bail!("stored hash has no salt or no output");
        };
        let mut out = vec![0u8; expected.len()];
        let argon = argon2id(&params);
        let result = if params.block_count() == memory.len() {
            argon.hash_password_into_with_memory(password.as_bytes(), &salt, &mut out, memory)
        } else {
            // Parameters other than today's: memory of their own, this once.
            argon.hash_password_into(password.as_bytes(), &salt, &mut out)
        };
        result.map_err(|e| anyhow::anyhow!("hashing a password failed: {e}"))?;
        let computed = Output::new(&out).map_err(|e| anyhow::anyhow!("the output: {e}"))?;
        // `Output`'s equality is constant-time.
        Ok(computed == expected)
    })
    .await
}

fn argon2id(params: &Params) -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
}

/// Runs `work` on the blocking pool once a slot is free, with that slot's working memory.
async fn in_a_slot<T: Send + 'static>(
    work: impl FnOnce(&mut [Block]) -> anyhow::Result<T> + Send + 'static,
) -> anyhow::Result<T> {
    let _slot = SLOTS
        .acquire()
        .await
        .context("the hashing slots are closed")?;
    tokio::task::spawn_blocking(move || {
        let taken = MEMORY.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let mut memory =
            taken.unwrap_or_else(|| vec![Block::new(); Params::default().block_count()]);
        let out = work(&mut memory);
        MEMORY
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(memory);
        out
    })
    .await
    .context("the hashing task stopped")?
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::PasswordVerifier as _;

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let stored = hash("correct horse battery".into()).await.unwrap();
        assert!(
            stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{stored}"
        );
        assert!(
            verify("correct horse battery".into(), stored.clone())
                .await
                .unwrap()
        );
        assert!(
            !verify("correct horse battery!".into(), stored.clone())
                .await
                .unwrap()
        );
        // A standard PHC string: the argon2 crate's own verifier agrees.
        let phc = PasswordHash::new(&stored).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"correct horse battery", &phc)
                .is_ok()
        );
    }

    #[tokio::test]
    async fn hashes_made_by_the_argon2_crate_still_verify() {
        use argon2::PasswordHasher as _;
        let stored = Argon2::default()
            .hash_password(b"an older password")
            .unwrap()
            .to_string();
        assert!(
            verify("an older password".into(), stored.clone())
                .await
                .unwrap()
        );
        assert!(!verify("another".into(), stored).await.unwrap());
        // Other parameters than today's are read from the hash.
        let light = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8 * 1024, 1, 1, None).unwrap(),
        )
        .hash_password(b"light")
        .unwrap()
        .to_string();
        assert!(verify("light".into(), light).await.unwrap());
    }

    #[tokio::test]
    async fn an_unreadable_hash_is_an_error_not_a_match() {
        assert!(verify("x".into(), "not a hash".into()).await.is_err());
    }
}
