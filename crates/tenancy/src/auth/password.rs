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
//!
//! Each hashing thread reuses its working memory from one hash to the next and runs
//! in the idle scheduling class, so that a flood of sign-ins neither churns the
//! kernel's page tables nor holds a core that a request wants ([`Hasher`],
//! [`lower_own_priority`]).

use std::sync::Arc;

use argon2::password_hash::{self, rand_core::OsRng, PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
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

/// What a hashing thread keeps between jobs: the hasher and its working memory.
struct Hasher {
    argon: Arc<Argon2<'static>>,
    /// Argon2's memory blocks (19 MiB at the floor), reused from one hash to the next
    /// while sign-ins keep coming and freed after [`KEEP_MEMORY`] without one. A fresh
    /// buffer per hash was mapped and unmapped each time: the kernel zeroed 19 MiB per
    /// sign-in and every unmap interrupted the request threads to flush their TLBs,
    /// which doubled get-by-id's p99 during a login flood.
    memory: Vec<Block>,
}

/// How long a hashing thread keeps its memory after its last hash: a flood reuses it,
/// an idle server gives it back.
const KEEP_MEMORY: std::time::Duration = std::time::Duration::from_secs(2);

impl Hasher {
    fn blocks(&mut self, count: usize) -> &mut [Block] {
        if self.memory.len() < count {
            self.memory = vec![Block::default(); count];
        }
        &mut self.memory[..count]
    }

    /// Argon2 of `password` with `argon`'s parameters into `out`, in this thread's
    /// memory.
    fn hash_into(
        &mut self,
        argon: &Argon2<'_>,
        count: usize,
        password: &[u8],
        salt: &[u8],
        out: &mut [u8],
    ) -> std::result::Result<(), argon2::Error> {
        argon.hash_password_into_with_memory(password, salt, out, self.blocks(count))
    }

    /// A new PHC string for `password` with the configured parameters.
    fn hash(&mut self, password: &[u8]) -> password_hash::Result<String> {
        let argon = self.argon.clone();
        let salt = SaltString::generate(&mut OsRng);
        let mut salt_bytes = [0u8; 64];
        let salt_bytes = salt.decode_b64(&mut salt_bytes)?;
        let params = argon.params().clone();
        let len = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
        let output = password_hash::Output::init_with(len, |out| {
            Ok(self.hash_into(&argon, params.block_count(), password, salt_bytes, out)?)
        })?;
        Ok(PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: password_hash::ParamsString::try_from(&params)?,
            salt: Some(salt.as_salt()),
            hash: Some(output),
        }
        .to_string())
    }

    /// Whether `password` matches the PHC string `stored`, with the parameters stored
    /// in it (as `PasswordVerifier` does), compared in constant time.
    fn verify(&mut self, stored: &str, password: &[u8]) -> bool {
        let Ok(parsed) = PasswordHash::new(stored) else {
            return false;
        };
        let (Some(expected), Some(salt)) = (parsed.hash, parsed.salt) else {
            return false;
        };
        let (Ok(algorithm), Ok(params)) = (
            Algorithm::try_from(parsed.algorithm),
            Params::try_from(&parsed),
        ) else {
            return false;
        };
        let version = match parsed.version.map(Version::try_from) {
            None => Version::default(),
            Some(Ok(v)) => v,
            Some(Err(_)) => return false,
        };
        let mut salt_bytes = [0u8; 64];
        let Ok(salt_bytes) = salt.decode_b64(&mut salt_bytes) else {
            return false;
        };
        let count = params.block_count();
        let argon = Argon2::new(algorithm, version, params);
        let mut out = vec![0u8; expected.len()];
        if self
            .hash_into(&argon, count, password, salt_bytes, &mut out)
            .is_err()
        {
            return false;
        }
        // `Output`'s equality is constant-time.
        password_hash::Output::new(&out).is_ok_and(|computed| computed == expected)
    }
}

type HashJob = Box<dyn FnOnce(&mut Hasher) + Send>;

/// The scheduling class of the hashing threads: `SCHED_IDLE`, so that they run on CPU
/// time no request wants, and a request thread that wakes up takes the core from them
/// at once. At an ordinary priority a flood of sign-ins took one of the two cores from
/// the requests waiting on it (get-by-id's p99 2.5x its value without the flood), and
/// nice values of 10 and 19 helped less than the idle class (BENCHMARKS-HISTORY.md).
/// The price is paid by sign-ins on a server whose cores are saturated: they wait for
/// spare CPU (see BENCHMARKS-HISTORY.md for the figures).
fn lower_own_priority() {
    #[cfg(target_os = "linux")]
    {
        let param = libc::sched_param { sched_priority: 0 };
        // SAFETY: pid 0 is the calling thread; `param` outlives the call.
        if unsafe { libc::sched_setscheduler(0, libc::SCHED_IDLE, &param) } != 0 {
            // Best effort: without it, requests only lose some latency to hashing.
            tracing::warn!(
                error = %std::io::Error::last_os_error(),
                "cannot lower the priority of a password hashing thread"
            );
        }
    }
}

/// The scheduling policy of the calling thread (tests).
#[cfg(all(test, target_os = "linux"))]
fn own_policy() -> i32 {
    // SAFETY: pid 0 is the calling thread.
    unsafe { libc::sched_getscheduler(0) }
}

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

/// A hashing thread: takes jobs until every `Passwords` (and so the sender) is dropped.
fn hashing_thread(
    jobs: &std::sync::Mutex<std::sync::mpsc::Receiver<HashJob>>,
    argon: Arc<Argon2<'static>>,
) {
    use std::sync::mpsc::RecvTimeoutError;
    lower_own_priority();
    let mut hasher = Hasher {
        argon,
        memory: Vec::new(),
    };
    loop {
        let job = match jobs.lock() {
            Ok(guard) => guard.recv_timeout(KEEP_MEMORY),
            Err(_) => return,
        };
        match job {
            Ok(job) => job(&mut hasher),
            Err(RecvTimeoutError::Timeout) => hasher.memory = Vec::new(),
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
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
                .spawn(move || hashing_thread(&rx, argon))
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
        f: impl FnOnce(&mut Hasher) -> T + Send + 'static,
    ) -> Result<T> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| Error::Internal("password hasher closed".into()))?;
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Box::new(move |hasher: &mut Hasher| {
                let _ = reply.send(f(hasher));
            }))
            .map_err(|_| Error::Internal("the hashing threads have stopped".into()))?;
        answer
            .await
            .map_err(|_| Error::Internal("a hashing job failed".into()))
    }

    /// Hashes a password into a PHC string (salt and parameters included).
    pub async fn hash(&self, password: String) -> Result<String> {
        self.run(move |hasher| {
            hasher
                .hash(password.as_bytes())
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
            .run(move |hasher| hasher.verify(&hash, password.as_bytes()))
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

    /// Hashing runs in the idle class, and only there: the caller's class is untouched.
    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn hashing_threads_run_in_the_idle_class() {
        let p = Passwords::new(&PasswordConfig::default()).unwrap();
        let caller = own_policy();
        assert_eq!(p.run(|_| own_policy()).await.unwrap(), libc::SCHED_IDLE);
        assert_eq!(own_policy(), caller);
        assert_ne!(caller, libc::SCHED_IDLE);
    }

    /// Hashes made in reused memory are ordinary Argon2id PHC strings: the crate's own
    /// verifier accepts them, and ours accepts the crate's, also with other parameters
    /// than the configured ones (a hash stored before a parameter change).
    #[test]
    fn hashes_in_reused_memory_match_the_crates_own() {
        use argon2::PasswordVerifier;
        let params = Params::new(MIN_MEMORY_KIB, MIN_ITERATIONS, 1, None).unwrap();
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let mut hasher = Hasher {
            argon: Arc::new(argon.clone()),
            memory: Vec::new(),
        };
        let ours = hasher.hash(b"correct horse").unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(argon.verify_password(b"correct horse", &parsed).is_ok());
        assert!(argon.verify_password(b"wrong horse", &parsed).is_err());

        let bigger = Params::new(MIN_MEMORY_KIB * 2, 3, 1, None).unwrap();
        let salt = SaltString::generate(&mut OsRng);
        let theirs = Argon2::new(Algorithm::Argon2id, Version::V0x13, bigger)
            .hash_password(b"battery staple", &salt)
            .unwrap()
            .to_string();
        assert!(hasher.verify(&theirs, b"battery staple"));
        assert!(!hasher.verify(&theirs, b"battery stapler"));
        // The memory grew for the bigger hash and is reused, not reallocated, after.
        let grown = hasher.memory.as_ptr();
        assert!(hasher.verify(&ours, b"correct horse"));
        assert_eq!(hasher.memory.as_ptr(), grown);
        assert!(!hasher.verify("$argon2id$v=19$m=19456,t=2,p=1$bad", b"x"));
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
