//! How the server uses glibc's allocator: arenas, large buffers, and giving memory
//! back while idle.

use std::time::Duration;

/// glibc raises its mmap threshold after the first large free, after which every 19 MiB
/// Argon2 buffer comes from (and stays in) the heap: a login flood would leave that
/// memory resident. A fixed threshold keeps large buffers mmapped, so they are returned
/// to the system when freed.
///
/// Two arenas per core. With a single arena every allocation of every thread took the
/// same lock: at 32 connections the request threads and the database threads queued on
/// it (a quarter of a search's CPU was spent in futex calls), and two arenas took
/// get-by-id from 22,800 to 35,200 requests/s and list pages from 3,900 to 6,500/s.
/// With one per core the HTTP workers and the blocking threads reading lists and
/// searches still met on them; two per core took list-first-page at 1,000,000
/// contacts from 6,638 to 8,006 pages/s and search from 3,550 to 4,037/s, for about
/// half a MiB at idle (BENCHMARKS-HISTORY.md). glibc's default (eight per core) kept
/// several MiB touched per arena at idle; the memory an arena keeps after a burst is
/// given back by [`return_memory_when_idle`].
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let arenas = std::thread::available_parallelism().map_or(4, |n| 2 * n.get().clamp(1, 8));
        // SAFETY: mallopt only adjusts allocator parameters; called before any thread
        // starts.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
            libc::mallopt(libc::M_ARENA_MAX, arenas as libc::c_int);
        }
    }
}

/// How often the idle check looks at the process's CPU time.
const TICK: Duration = Duration::from_secs(2);

/// Below this much CPU in one tick (1%), the server counts as idle.
const IDLE_CPU: Duration = Duration::from_millis(20);

/// Decides when to trim: once after start-up, then once after each busy spell, at the
/// first idle tick. A trim walks every arena under its lock, so it never runs while
/// requests are being served, and not again while the server stays idle.
#[derive(Debug, Default)]
struct IdleTrim {
    busy_since_trim: bool,
}

impl IdleTrim {
    /// `used` is the CPU time the process used during the last tick.
    fn tick(&mut self, used: Duration) -> bool {
        if used >= IDLE_CPU {
            self.busy_since_trim = true;
            return false;
        }
        std::mem::take(&mut self.busy_since_trim)
    }
}

/// Starts a thread that hands freed heap memory back to the system (`malloc_trim`)
/// after start-up and whenever the server turns idle after work: without it the
/// arenas keep what a burst of requests freed (an idle server stayed 7 MiB larger).
pub fn return_memory_when_idle() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let spawned = std::thread::Builder::new()
            .name("malloc-trim".into())
            .spawn(|| {
                // Start-up's allocations (migrations, pools, workers) have been freed.
                std::thread::sleep(Duration::from_millis(200));
                trim();
                let mut state = IdleTrim::default();
                let mut last = process_cpu();
                loop {
                    std::thread::sleep(TICK);
                    let now = process_cpu();
                    if state.tick(now.saturating_sub(last)) {
                        trim();
                    }
                    last = process_cpu();
                }
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "cannot start the memory trimming thread");
        }
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn trim() {
    // SAFETY: malloc_trim only releases free memory of the allocator.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// CPU time (user and system) of the whole process so far.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn process_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid out-pointer for the duration of the call.
    if unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) } != 0 {
        return Duration::ZERO;
    }
    Duration::new(
        ts.tv_sec.max(0) as u64,
        ts.tv_nsec.clamp(0, 999_999_999) as u32,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_once_after_each_busy_spell() {
        let mut t = IdleTrim::default();
        let (idle, busy) = (Duration::from_millis(1), Duration::from_millis(500));
        // Idle from the start (the start-up trim has run): nothing more to give back.
        assert!(!t.tick(idle));
        assert!(!t.tick(busy));
        assert!(!t.tick(busy));
        assert!(t.tick(idle));
        assert!(!t.tick(idle));
        assert!(!t.tick(IDLE_CPU));
        assert!(t.tick(IDLE_CPU - Duration::from_millis(1)));
    }

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn process_cpu_time_moves_with_work() {
        let before = process_cpu();
        let mut x = 0u64;
        for i in 0..20_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        assert!(process_cpu() > before);
    }
}
