//! The load engine: lanes of keep-alive connections, each sending one request after
//! another (closed loop) for a warm-up and then a measured window.
//!
//! Client threads each run a single-threaded tokio runtime with their share of the
//! connections, like wrk's threads: no work stealing, no cross-thread wake-ups, so the
//! client spends as little CPU as possible on the cores it shares with the server.
//!
//! Closed loop means a slow answer delays that connection's next request, so the tail
//! percentiles describe the server at this concurrency, not an open arrival rate
//! (coordinated omission): compare scenarios at equal connection counts.

use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::http::Conn;
use crate::stats::Recorder;

/// Builds the request a connection sends next.
pub trait RequestGen: Send + Sync {
    /// Appends to `out` (cleared by the caller) the `seq`-th request of connection `conn`
    /// (numbered inside its lane).
    fn write(&self, conn: usize, seq: u64, out: &mut Vec<u8>);
}

/// The same bytes every time.
pub struct Fixed(pub Vec<u8>);

impl RequestGen for Fixed {
    fn write(&self, _conn: usize, _seq: u64, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0);
    }
}

/// Connection `i` always sends `requests[i % len]` (e.g. one account or one row each).
pub struct PerConnection(pub Vec<Vec<u8>>);

impl RequestGen for PerConnection {
    fn write(&self, conn: usize, _seq: u64, out: &mut Vec<u8>) {
        if !self.0.is_empty() {
            out.extend_from_slice(&self.0[conn % self.0.len()]);
        }
    }
}

impl<F: Fn(usize, u64, &mut Vec<u8>) + Send + Sync> RequestGen for F {
    fn write(&self, conn: usize, seq: u64, out: &mut Vec<u8>) {
        self(conn, seq, out)
    }
}

/// A group of connections sending one kind of request.
#[derive(Clone)]
pub struct Lane {
    pub name: String,
    pub connections: usize,
    pub requests: Arc<dyn RequestGen>,
}

#[derive(Debug, Clone)]
pub struct LoadConfig {
    pub addr: SocketAddr,
    pub warmup: Duration,
    pub duration: Duration,
    pub client_threads: usize,
    pub request_timeout: Duration,
}

/// Time allowed for every connection to open before the clock starts.
const CONNECT_LEAD: Duration = Duration::from_millis(300);
/// Wait after a transport error before reconnecting, so a dead server is not hammered.
const RECONNECT_PAUSE: Duration = Duration::from_millis(20);

/// When a run starts loading, starts measuring, and ends.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    pub start: Instant,
    pub measure_from: Instant,
    pub end: Instant,
}

impl Clock {
    /// A run starting shortly from now (connections open in between).
    pub fn new(cfg: &LoadConfig) -> Clock {
        let start = Instant::now() + CONNECT_LEAD;
        Clock {
            start,
            measure_from: start + cfg.warmup,
            end: start + cfg.warmup + cfg.duration,
        }
    }
}

/// Runs the lanes at once on `clock` and returns one merged recorder per lane, in order.
/// Stops by itself at `clock.end`; requests still in flight then are dropped.
pub fn run(cfg: &LoadConfig, lanes: &[Lane], clock: Clock) -> Result<Vec<Recorder>, String> {
    let threads = cfg.client_threads.max(1);
    // Deal connections out round-robin so every thread gets a share of every lane.
    let mut assignments: Vec<Vec<(usize, usize)>> = vec![Vec::new(); threads];
    let mut next = 0;
    for (lane, l) in lanes.iter().enumerate() {
        for conn in 0..l.connections {
            assignments[next % threads].push((lane, conn));
            next += 1;
        }
    }
    let mut handles = Vec::new();
    for (i, work) in assignments.into_iter().enumerate() {
        if work.is_empty() {
            continue;
        }
        let lanes: Vec<Lane> = lanes.to_vec();
        let cfg = cfg.clone();
        let handle = std::thread::Builder::new()
            .name(format!("bench-client-{i}"))
            .spawn(move || client_thread(&cfg, clock, &lanes, work))
            .map_err(|e| format!("cannot start a client thread: {e}"))?;
        handles.push(handle);
    }
    let mut merged: Vec<Recorder> = lanes.iter().map(|_| Recorder::new()).collect();
    for h in handles {
        let per_lane = h
            .join()
            .map_err(|_| "a client thread panicked".to_string())??;
        for (m, r) in merged.iter_mut().zip(&per_lane) {
            m.merge(r);
        }
    }
    Ok(merged)
}

fn client_thread(
    cfg: &LoadConfig,
    clock: Clock,
    lanes: &[Lane],
    work: Vec<(usize, usize)>,
) -> Result<Vec<Recorder>, String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .map_err(|e| format!("cannot start the client runtime: {e}"))?;
    // One recorder per lane for the whole thread, shared by its connections: a histogram
    // is ~140 KB, too much to keep one per connection at high connection counts.
    let recorders: Rc<Vec<RefCell<Recorder>>> = Rc::new(
        lanes
            .iter()
            .map(|_| RefCell::new(Recorder::new()))
            .collect(),
    );
    let local = tokio::task::LocalSet::new();
    for (lane, conn) in work {
        local.spawn_local(connection(
            cfg.clone(),
            clock,
            lanes[lane].requests.clone(),
            conn,
            recorders.clone(),
            lane,
        ));
    }
    // Every task ends by itself at the end of the window.
    rt.block_on(local);
    let recorders =
        Rc::try_unwrap(recorders).map_err(|_| "a connection task outlived the run".to_string())?;
    Ok(recorders.into_iter().map(RefCell::into_inner).collect())
}

/// One connection's loop. Borrows of the shared recorders never span an await.
async fn connection(
    cfg: LoadConfig,
    clock: Clock,
    gen: Arc<dyn RequestGen>,
    index: usize,
    recorders: Rc<Vec<RefCell<Recorder>>>,
    lane: usize,
) {
    let rec = &recorders[lane];
    let mut req = Vec::with_capacity(1024);
    let mut conn: Option<Conn> = None;
    let mut seq = 0u64;
    let measuring = |at: Instant| at >= clock.measure_from && at <= clock.end;
    // Failures count as errors inside the window; outside it they are only sampled, so
    // the report can still say what went wrong.
    let error = |message: String| {
        let mut r = rec.borrow_mut();
        if measuring(Instant::now()) {
            r.transport_error(|| message);
        } else {
            r.sample(|| message);
        }
    };
    // Open the connection before the clock starts, so connects do not count as load.
    match tokio::time::timeout_at(clock.start.into(), Conn::connect(cfg.addr)).await {
        Ok(Ok(c)) => conn = Some(c),
        Ok(Err(e)) => error(format!("connect: {e}")),
        Err(_) => error("connect: not connected before the start".to_string()),
    }
    tokio::time::sleep_until(clock.start.into()).await;
    while Instant::now() < clock.end {
        let c = match conn.as_mut() {
            Some(c) => c,
            None => {
                match tokio::time::timeout_at(clock.end.into(), Conn::connect(cfg.addr)).await {
                    Ok(Ok(c)) => conn.insert(c),
                    Ok(Err(e)) => {
                        error(format!("connect: {e}"));
                        pause(clock.end).await;
                        continue;
                    }
                    Err(_) => break,
                }
            }
        };
        req.clear();
        gen.write(index, seq, &mut req);
        seq += 1;
        let sent = Instant::now();
        let deadline = (sent + cfg.request_timeout).min(clock.end);
        match tokio::time::timeout_at(deadline.into(), c.round_trip(&req)).await {
            Ok(Ok(outcome)) => {
                let done = Instant::now();
                if measuring(done) {
                    rec.borrow_mut().response(outcome.status, done - sent);
                }
                if outcome.close {
                    conn = None;
                }
            }
            Ok(Err(e)) => {
                error(e.to_string());
                conn = None;
                pause(clock.end).await;
            }
            // In flight when the window closed: neither a result nor an error.
            Err(_) if deadline >= clock.end => break,
            Err(_) => {
                error(format!("no response within {:?}", cfg.request_timeout));
                conn = None;
            }
        }
    }
}

async fn pause(end: Instant) {
    tokio::time::sleep_until((Instant::now() + RECONNECT_PAUSE).min(end).into()).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::build_request;
    use std::io::{Read, Write};

    /// A tiny keep-alive server: answers every request with `status` after `delay`.
    fn serve(status: u16, delay: Duration) -> SocketAddr {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut s) = stream else { return };
                std::thread::spawn(move || {
                    let mut buf = [0u8; 4096];
                    let mut pending = Vec::new();
                    loop {
                        let Ok(n) = s.read(&mut buf) else { return };
                        if n == 0 {
                            return;
                        }
                        pending.extend_from_slice(&buf[..n]);
                        while let Some(i) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
                            pending.drain(..i + 4);
                            std::thread::sleep(delay);
                            let answer =
                                format!("HTTP/1.1 {status} X\r\nContent-Length: 2\r\n\r\nok");
                            if s.write_all(answer.as_bytes()).is_err() {
                                return;
                            }
                        }
                    }
                });
            }
        });
        addr
    }

    fn run_now(cfg: &LoadConfig, lanes: &[Lane]) -> Result<Vec<Recorder>, String> {
        run(cfg, lanes, Clock::new(cfg))
    }

    fn config(addr: SocketAddr, threads: usize) -> LoadConfig {
        LoadConfig {
            addr,
            warmup: Duration::from_millis(100),
            duration: Duration::from_millis(400),
            client_threads: threads,
            request_timeout: Duration::from_secs(5),
        }
    }

    fn lane(name: &str, connections: usize) -> Lane {
        Lane {
            name: name.into(),
            connections,
            requests: Arc::new(Fixed(build_request("GET", "/", "h", &[], None))),
        }
    }

    #[test]
    fn measures_latency_and_stops_by_itself() {
        let addr = serve(200, Duration::from_millis(2));
        let started = Instant::now();
        let recs = run_now(&config(addr, 2), &[lane("a", 3), lane("b", 1)]).unwrap();
        // Warm-up + window + the connect lead, and a little slack.
        assert!(started.elapsed() < Duration::from_secs(2));
        assert_eq!(recs.len(), 2);
        let a = recs[0].summary("a", 3, Duration::from_millis(400));
        let b = recs[1].summary("b", 1, Duration::from_millis(400));
        assert!(a.completed > 50, "{a:?}");
        assert!(b.completed > 20, "{b:?}");
        // Three connections do about three times the work of one.
        assert!(a.completed > 2 * b.completed, "{a:?} {b:?}");
        assert_eq!((a.non_2xx, a.transport_errors), (0, 0));
        assert!(a.p50_us.unwrap() >= 2000, "{a:?}");
    }

    #[test]
    fn error_statuses_and_dead_servers_are_counted() {
        let addr = serve(503, Duration::ZERO);
        let recs = run_now(&config(addr, 1), &[lane("a", 2)]).unwrap();
        let s = recs[0].summary("a", 2, Duration::from_millis(400));
        assert!(s.non_2xx > 0);
        assert_eq!(s.ok, 0);
        assert_eq!(
            s.non_2xx_by_status.keys().copied().collect::<Vec<_>>(),
            vec![503]
        );

        // Nothing listens here: every connect fails, the run still ends on time.
        let closed = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let recs = run_now(&config(closed, 1), &[lane("a", 2)]).unwrap();
        let s = recs[0].summary("a", 2, Duration::from_millis(400));
        assert_eq!(s.completed, 0);
        assert!(s.transport_errors > 0);
        assert!(
            s.error_samples[0].starts_with("connect:"),
            "{:?}",
            s.error_samples
        );
    }

    #[test]
    fn slow_answers_time_out() {
        let addr = serve(200, Duration::from_millis(300));
        let mut cfg = config(addr, 1);
        cfg.warmup = Duration::ZERO;
        cfg.request_timeout = Duration::from_millis(50);
        let recs = run_now(&cfg, &[lane("a", 1)]).unwrap();
        let s = recs[0].summary("a", 1, cfg.duration);
        assert_eq!(s.completed, 0);
        assert!(s.transport_errors >= 2, "{s:?}");
        assert!(s.error_samples[0].contains("no response within"), "{s:?}");
    }
}
