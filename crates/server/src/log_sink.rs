//! Log output gathered in memory and written to standard output in batches.
//!
//! Every request writes an access log line. Written one by one, each line was a
//! `write` system call on the request's thread: 4.5% of a get-by-id's server CPU at 32
//! connections (perf, BENCHMARKS-HISTORY.md). Here a line is appended to a shared
//! buffer, and a thread writes the buffer out at most [`FLUSH_AFTER`] after its first
//! line, so a burst of requests costs one system call per batch. Nothing wakes that
//! thread per line: only a line landing in an empty buffer does.
//!
//! The price: a line reaches the output up to [`FLUSH_AFTER`] late, and lines still
//! buffered when the process is killed are lost. [`flush`] writes them out; the binary
//! calls it before it exits.

use std::io::Write;
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

/// How long a line may wait in the buffer.
pub const FLUSH_AFTER: Duration = Duration::from_millis(50);

/// A buffer this large is written out by the thread that filled it, so memory stays
/// bounded whatever the rate of logging.
const MAX_BUFFERED: usize = 256 * 1024;

type Output = fn(&[u8]);

struct Shared {
    lines: Mutex<Vec<u8>>,
    /// Signalled when a line lands in an empty buffer.
    not_empty: Condvar,
    /// Held while a batch is taken and written, so batches leave in the order taken.
    output: Mutex<Output>,
}

impl Shared {
    fn new(output: Output) -> Shared {
        Shared {
            lines: Mutex::new(Vec::with_capacity(16 * 1024)),
            not_empty: Condvar::new(),
            output: Mutex::new(output),
        }
    }

    /// Appends one event's bytes, writing the buffer out if it is full.
    fn write(&self, line: &[u8]) {
        let (was_empty, len) = {
            let mut lines = lock(&self.lines);
            let was_empty = lines.is_empty();
            lines.extend_from_slice(line);
            (was_empty, lines.len())
        };
        if len >= MAX_BUFFERED {
            self.flush();
        } else if was_empty {
            self.not_empty.notify_one();
        }
    }

    fn flush(&self) {
        let output = lock(&self.output);
        let batch = std::mem::take(&mut *lock(&self.lines));
        if !batch.is_empty() {
            (*output)(&batch);
        }
    }

    fn wait_for_lines(&self) {
        let mut lines = lock(&self.lines);
        while lines.is_empty() {
            lines = self
                .not_empty
                .wait(lines)
                .unwrap_or_else(|p| p.into_inner());
        }
    }
}

fn to_stdout(batch: &[u8]) {
    let mut out = std::io::stdout().lock();
    // Nowhere to report a failed log write; the lines are dropped, as a full disk would.
    let _ = out.write_all(batch);
    let _ = out.flush();
}

fn shared() -> &'static Shared {
    static SHARED: OnceLock<Shared> = OnceLock::new();
    SHARED.get_or_init(|| {
        let started = std::thread::Builder::new()
            .name("log-writer".into())
            .spawn(|| loop {
                let s = shared();
                s.wait_for_lines();
                // Let the batch grow: under load many lines arrive in this time.
                std::thread::sleep(FLUSH_AFTER);
                s.flush();
            });
        if let Err(e) = started {
            // Lines are still written, by the threads that log, once the buffer fills.
            eprintln!("clientele: cannot start the log writer thread: {e}");
        }
        Shared::new(to_stdout)
    })
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves bytes, not broken invariants.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Writes every buffered line to standard output now.
pub fn flush() {
    shared().flush();
}

/// The `MakeWriter` for tracing's formatter: one write per event, into the buffer.
#[derive(Debug, Clone, Copy, Default)]
pub struct BufferedStdout;

impl std::io::Write for BufferedStdout {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        shared().write(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for BufferedStdout {
    type Writer = BufferedStdout;

    fn make_writer(&'a self) -> Self::Writer {
        *self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static WRITTEN: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());

    fn capture(batch: &[u8]) {
        lock(&WRITTEN).push(batch.to_vec());
    }

    #[test]
    fn lines_wait_for_a_flush_and_leave_in_order() {
        let s = Shared::new(capture);
        s.write(b"one\n");
        s.write(b"two\n");
        assert!(lock(&WRITTEN).is_empty(), "written before a flush");
        s.flush();
        s.flush();
        s.write(b"three\n");
        s.flush();
        let written = std::mem::take(&mut *lock(&WRITTEN));
        assert_eq!(written, vec![b"one\ntwo\n".to_vec(), b"three\n".to_vec()]);

        // A full buffer is written by the thread that filled it, in one batch.
        let line = [b'x'; 1024];
        for _ in 0..MAX_BUFFERED / line.len() {
            s.write(&line);
        }
        let written = std::mem::take(&mut *lock(&WRITTEN));
        assert_eq!(written.len(), 1);
        assert_eq!(written[0].len(), MAX_BUFFERED);
        assert!(lock(&s.lines).is_empty());
    }
}
