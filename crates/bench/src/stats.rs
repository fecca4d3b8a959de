//! What one lane of load measured: a latency histogram and counters, merged across
//! connections, and the summary the report prints.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

/// Latencies are recorded in microseconds, from 1 µs to 60 s, with 3 significant
/// digits: every reported percentile is within 0.1% of the true value.
const HIGHEST_US: u64 = 60_000_000;
/// Error messages kept per lane, so a failing run says why without flooding the output.
const MAX_ERROR_SAMPLES: usize = 5;

/// Raw measurements of one connection or of a merged lane.
#[derive(Debug, Clone)]
pub struct Recorder {
    pub latency_us: Histogram<u64>,
    /// 2xx answers completed inside the measured window.
    pub ok: u64,
    /// Non-2xx answers by status.
    pub statuses: BTreeMap<u16, u64>,
    /// Connect, read, write, parse and timeout failures.
    pub transport_errors: u64,
    pub error_samples: Vec<String>,
}

impl Recorder {
    pub fn new() -> Recorder {
        Recorder {
            // Bounds and precision are constants that hdrhistogram accepts.
            latency_us: Histogram::new_with_bounds(1, HIGHEST_US, 3)
                .expect("constant histogram bounds are valid"),
            ok: 0,
            statuses: BTreeMap::new(),
            transport_errors: 0,
            error_samples: Vec::new(),
        }
    }

    /// A completed request: its latency counts whatever the status, since an error
    /// answer is still work the server did.
    pub fn response(&mut self, status: u16, latency: Duration) {
        self.latency_us
            .saturating_record(latency.as_micros().min(u128::from(HIGHEST_US)) as u64);
        if (200..300).contains(&status) {
            self.ok += 1;
        } else {
            *self.statuses.entry(status).or_default() += 1;
        }
    }

    pub fn transport_error(&mut self, message: impl FnOnce() -> String) {
        self.transport_errors += 1;
        self.sample(message);
    }

    /// Keeps the first few error messages, even those from the warm-up.
    pub fn sample(&mut self, message: impl FnOnce() -> String) {
        if self.error_samples.len() < MAX_ERROR_SAMPLES {
            let m = message();
            if !self.error_samples.contains(&m) {
                self.error_samples.push(m);
            }
        }
    }

    pub fn merge(&mut self, other: &Recorder) {
        // Same bounds on both sides, so adding cannot fail; saturate if it ever did.
        if self.latency_us.add(&other.latency_us).is_err() {
            for v in other.latency_us.iter_recorded() {
                self.latency_us
                    .saturating_record_n(v.value_iterated_to(), v.count_at_value());
            }
        }
        self.ok += other.ok;
        for (status, n) in &other.statuses {
            *self.statuses.entry(*status).or_default() += n;
        }
        self.transport_errors += other.transport_errors;
        for m in &other.error_samples {
            self.sample(|| m.clone());
        }
    }

    pub fn non_2xx(&self) -> u64 {
        self.statuses.values().sum()
    }

    pub fn summary(&self, name: &str, connections: usize, window: Duration) -> LaneSummary {
        let h = &self.latency_us;
        let completed = h.len();
        let pct = |q: f64| (completed > 0).then(|| h.value_at_quantile(q));
        LaneSummary {
            name: name.to_string(),
            connections,
            completed,
            requests_per_sec: if window.is_zero() {
                0.0
            } else {
                completed as f64 / window.as_secs_f64()
            },
            ok: self.ok,
            p50_us: pct(0.50),
            p99_us: pct(0.99),
            p999_us: pct(0.999),
            max_us: (completed > 0).then(|| h.max()),
            mean_us: (completed > 0).then(|| h.mean()),
            non_2xx: self.non_2xx(),
            non_2xx_by_status: self.statuses.clone(),
            transport_errors: self.transport_errors,
            error_samples: self.error_samples.clone(),
        }
    }
}

impl Default for Recorder {
    fn default() -> Self {
        Recorder::new()
    }
}

/// The reported figures of one lane (one kind of request inside a scenario).
#[derive(Debug, Clone, Serialize)]
pub struct LaneSummary {
    pub name: String,
    pub connections: usize,
    /// Responses completed inside the measured window, any status.
    pub completed: u64,
    pub requests_per_sec: f64,
    /// Of which 2xx.
    pub ok: u64,
    pub p50_us: Option<u64>,
    pub p99_us: Option<u64>,
    pub p999_us: Option<u64>,
    pub max_us: Option<u64>,
    pub mean_us: Option<f64>,
    pub non_2xx: u64,
    pub non_2xx_by_status: BTreeMap<u16, u64>,
    pub transport_errors: u64,
    pub error_samples: Vec<String>,
}

/// `850µs`, `1.25ms`, `2.50s`: three significant figures at most, matching the histogram.
pub fn format_us(us: Option<u64>) -> String {
    let Some(us) = us else {
        return "-".into();
    };
    if us < 1000 {
        format!("{us}µs")
    } else if us < 10_000 {
        format!("{:.2}ms", us as f64 / 1000.0)
    } else if us < 100_000 {
        format!("{:.1}ms", us as f64 / 1000.0)
    } else if us < 1_000_000 {
        format!("{:.0}ms", us as f64 / 1000.0)
    } else {
        format!("{:.2}s", us as f64 / 1_000_000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn percentiles_of_a_known_distribution() {
        let mut r = Recorder::new();
        // 1..=1000 ms, once each: p50 = 500 ms, p99 = 990 ms, p99.9 = 999 ms.
        for i in 1..=1000 {
            r.response(200, ms(i));
        }
        let s = r.summary("x", 1, Duration::from_secs(10));
        assert_eq!(s.completed, 1000);
        assert_eq!(s.requests_per_sec, 100.0);
        let close = |got: Option<u64>, want_ms: u64| {
            let got = got.unwrap() as f64;
            let want = (want_ms * 1000) as f64;
            assert!((got - want).abs() / want < 0.001, "got {got} want {want}");
        };
        close(s.p50_us, 500);
        close(s.p99_us, 990);
        close(s.p999_us, 999);
        close(s.max_us, 1000);
    }

    #[test]
    fn a_slow_tail_shows_in_p99_not_p50() {
        let mut r = Recorder::new();
        for _ in 0..980 {
            r.response(200, Duration::from_micros(200));
        }
        for _ in 0..20 {
            r.response(200, ms(50));
        }
        let s = r.summary("x", 1, Duration::from_secs(1));
        assert!(s.p50_us.unwrap() <= 201);
        assert!(s.p99_us.unwrap() >= 49_900);
    }

    #[test]
    fn errors_are_counted_apart_and_merged() {
        let mut a = Recorder::new();
        a.response(200, ms(1));
        a.response(503, ms(1));
        a.response(503, ms(1));
        a.transport_error(|| "i/o error: reset".into());
        let mut b = Recorder::new();
        b.response(429, ms(2));
        b.response(201, ms(2));
        b.transport_error(|| "i/o error: reset".into());
        b.transport_error(|| "timed out".into());
        a.merge(&b);
        let s = a.summary("x", 2, Duration::from_secs(1));
        assert_eq!(s.completed, 5);
        assert_eq!(s.ok, 2);
        assert_eq!(s.non_2xx, 3);
        assert_eq!(s.non_2xx_by_status, BTreeMap::from([(429, 1), (503, 2)]));
        assert_eq!(s.transport_errors, 3);
        // Duplicate messages are kept once.
        assert_eq!(s.error_samples, vec!["i/o error: reset", "timed out"]);
    }

    #[test]
    fn empty_lane_reports_no_percentiles() {
        let s = Recorder::new().summary("x", 1, Duration::from_secs(1));
        assert_eq!((s.completed, s.p50_us, s.max_us), (0, None, None));
        assert_eq!(s.requests_per_sec, 0.0);
        assert_eq!(format_us(s.p99_us), "-");
    }

    #[test]
    fn latency_formatting() {
        assert_eq!(format_us(Some(850)), "850µs");
        assert_eq!(format_us(Some(1250)), "1.25ms");
        assert_eq!(format_us(Some(12_340)), "12.3ms");
        assert_eq!(format_us(Some(250_400)), "250ms");
        assert_eq!(format_us(Some(2_500_000)), "2.50s");
    }

    #[test]
    fn latencies_beyond_the_range_saturate() {
        let mut r = Recorder::new();
        r.response(200, Duration::from_secs(3600));
        assert!(r.summary("x", 1, Duration::from_secs(1)).max_us.unwrap() >= HIGHEST_US);
    }
}
