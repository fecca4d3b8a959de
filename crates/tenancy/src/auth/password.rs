//! Argon2id password hashing, off the async executor and bounded in concurrency.
//!
//! Each hash holds `memory_kib` of memory and a core for tens of milliseconds, so a
//! login flood must neither exhaust memory nor starve other requests: at most
//! `max_concurrent` hashes run at once and the rest wait (asynchronously) for a permit.
//! Unknown accounts are checked against a dummy hash with the same parameters, so they
//! take the same time as a wrong password.
//!
//! Hashes run on `max_concurrent` dedicated threads, not on the shared blocking pool:
//! the allocator keeps a freed 19 MiB buffer in the arena of the thread that used it,
//! so hashing on a hundred different pool threads would leave hundreds of MiB resident
//! after a login flood. Dedicated threads bound that to `max_concurrent` buffers.

use std::sync::Arc;

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Params, PasswordVerifier, Version};
use clientele_domain::{Error, FieldError, Result};
use tokio::sync::Semaphore;

/// The floor the issue sets (OWASP's first recommendation for Argon2id).
pub const MIN_MEMORY_KIB: u32 = 19 * 1024;
pub const MIN_ITERATIONS: u32 = 2;
pub const MIN_LEN: usize = 8;
pub const MAX_LEN: usize = 128;

#[derive(Debug, Clone)]
pub struct PasswordConfig {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
    pub max_concurrent: usize,
}

impl Default for PasswordConfig {
    fn default() -> Self {
        Self {
            memory_kib: MIN_MEMORY_KIB,
            iterations: MIN_ITERATIONS,
            parallelism: 1,
            max_concurrent: 1,
        }
    }
}

type HashJob = Box<dyn FnOnce(&Argon2<'static>) + Send>;

#[derive(Clone)]
pub struct Passwords {
    jobs: std::sync::mpsc::Sender<HashJob>,
    permits: Arc<Semaphore>,
    dummy: Arc<String>,
}

/// Checks a new password against the policy.
pub fn check_policy(password: &str, field: &str) -> std::result::Result<(), FieldError> {
    let len = password.chars().count();
    if len < MIN_LEN {
        return Err(FieldError::new(
            field,
            format!("must be at least {MIN_LEN} characters"),
        ));
    }
    if len > MAX_LEN {
        return Err(FieldError::new(
            field,
            format!("must be at most {MAX_LEN} characters"),
        ));
    }
    Ok(())
}

impl Passwords {
    pub fn new(config: &PasswordConfig) -> Result<Passwords> {
        if config.memory_kib < MIN_MEMORY_KIB || config.iterations < MIN_ITERATIONS {
            return Err(Error::Internal(format!(
                "argon2 parameters below the floor ({MIN_MEMORY_KIB} KiB, t={MIN_ITERATIONS})"
            )));
        }
        let params = Params::new(
            config.memory_kib,
            config.iterations,
            config.parallelism.max(1),
            None,
        )
        .map_err(|e| Error::Internal(format!("bad argon2 parameters: {e}")))?;
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let salt = SaltString::generate(&mut OsRng);
        let dummy = argon
            .hash_password(b"not a real password", &salt)
            .map_err(|e| Error::Internal(format!("argon2: {e}")))?
            .to_string();
        let threads = config.max_concurrent.max(1);
        let (jobs, rx) = std::sync::mpsc::channel::<HashJob>();
        let rx = Arc::new(std::sync::Mutex::new(rx));
        let argon = Arc::new(argon);
        for i in 0..threads {
            let (rx, argon) = (rx.clone(), argon.clone());
            std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || loop {
                    // Ends when every `Passwords` (and so the sender) is dropped.
                    let job = match rx.lock() {
                        Ok(guard) => guard.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(&argon),
                        Err(_) => return,
                    }
                })
                .map_err(|e| Error::Internal(format!("cannot start a hashing thread: {e}")))?;
        }
        Ok(Passwords {
            jobs,
            permits: Arc::new(Semaphore::new(threads)),
            dummy: Arc::new(dummy),
        })
    }

    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Argon2<'static>) -> T + Send + 'static,
    ) -> Result<T> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| Error::Internal("password hasher closed".into()))?;
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Box::new(move |argon: &Argon2<'static>| {
                let _ = reply.send(f(argon));
            }))
            .map_err(|_| Error::Internal("the hashing threads have stopped".into()))?;
        answer
            .await
            .map_err(|_| Error::Internal("a hashing job failed".into()))
    }

    /// Hashes a password into a PHC string (salt and parameters included).
    pub async fn hash(&self, password: String) -> Result<String> {
        self.run(move |argon| {
            let salt = SaltString::generate(&mut OsRng);
            argon
                .hash_password(password.as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| Error::Internal(format!("argon2: {e}")))
        })
        .await?
    }

    /// Verifies a password; `None` (unknown account) verifies against the dummy hash and
    /// always answers false.
    pub async fn verify(&self, stored: Option<String>, password: String) -> Result<bool> {
        let known = stored.is_some();
        let hash = stored.unwrap_or_else(|| self.dummy.as_ref().clone());
        let ok = self
            .run(move |argon| {
                PasswordHash::new(&hash)
                    .map(|parsed| argon.verify_password(password.as_bytes(), &parsed).is_ok())
                    .unwrap_or(false)
            })
            .await?;
        Ok(known && ok)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_unknown_accounts_fail() {
        let p = Passwords::new(&PasswordConfig::default()).unwrap();
        let hash = p.hash("correct horse".into()).await.unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(p
            .verify(Some(hash.clone()), "correct horse".into())
            .await
            .unwrap());
        assert!(!p.verify(Some(hash), "wrong horse".into()).await.unwrap());
        assert!(!p.verify(None, "not a real password".into()).await.unwrap());
        assert!(!p.verify(Some("garbage".into()), "x".into()).await.unwrap());
    }

    #[test]
    fn refuses_weak_parameters_and_passwords() {
        let weak = PasswordConfig {
            memory_kib: 1024,
            ..Default::default()
        };
        assert!(Passwords::new(&weak).is_err());
        assert!(check_policy("short", "password").is_err());
        assert!(check_policy(&"x".repeat(129), "password").is_err());
        assert!(check_policy("long enough", "password").is_ok());
    }
}
