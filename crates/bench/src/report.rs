//! Results: the human table and the JSON document.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::cpu::CpuUse;
use crate::stats::{format_us, LaneSummary};

/// The login-flood target of issue 6: get-by-id p99 under a login flood stays under
/// twice its value without one.
pub const FLOOD_P99_LIMIT: f64 = 2.0;

#[derive(Debug, Serialize)]
pub struct Report {
    pub tool: String,
    pub unix_time: u64,
    pub machine: Machine,
    pub config: RunConfig,
    pub server: ServerInfo,
    /// The tenant the scenarios ran as (set up by this run).
    pub tenant: Tenant,
    /// The contacts seeded before the load, and how fast.
    pub seeding: Option<Seeding>,
    /// The kept folder this run ran on again (`--reuse`); `seeding` is then the run's
    /// that kept it.
    pub reused: Option<String>,
    /// Requests/s of `health` in this run: the denominator of every ratio.
    pub ceiling_rps: Option<f64>,
    pub scenarios: Vec<ScenarioResult>,
    pub login_flood: Option<FloodCheck>,
    /// Where this run stands against each target of issue 6 ([`crate::targets`]).
    pub targets: Vec<crate::targets::TargetCheck>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Seeding {
    /// Contacts in the project the contact scenarios run on.
    pub measured_project_contacts: u64,
    /// How deep list-deep-page's cursor is.
    pub deep_page_rows: u64,
    /// Everything seeded, over all projects.
    pub totals: crate::bulk::SeedReport,
}

#[derive(Debug, Serialize)]
pub struct Machine {
    pub cpus: usize,
    pub cpu_model: Option<String>,
}

impl Machine {
    pub fn read() -> Machine {
        let cpu_model = std::fs::read_to_string("/proc/cpuinfo").ok().and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        });
        Machine {
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            cpu_model,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct RunConfig {
    pub connections: usize,
    pub duration_secs: f64,
    pub warmup_secs: f64,
    pub client_threads: usize,
    pub flood_connections: usize,
    pub request_timeout_secs: f64,
    /// Whether this tool was built with optimizations (figures from a debug build of the
    /// client are not comparable).
    pub release_build: bool,
}

#[derive(Debug, Serialize)]
pub struct ServerInfo {
    /// `started` (by this tool) or `running` (--url).
    pub mode: String,
    pub url: String,
    /// sqlite or postgres, and where; unknown for a running server.
    pub database: Option<String>,
    pub pid: Option<u32>,
    /// Resident memory right after start, before any load (started servers only).
    pub idle_rss_kib: Option<u64>,
    /// Resident memory once the server has rested after the last scenario (started
    /// servers only): what a burst of load leaves behind.
    pub rested_rss_kib: Option<u64>,
}

#[derive(Debug, Serialize)]
pub struct Tenant {
    pub customer_id: String,
    pub project_id: String,
}

#[derive(Debug, Serialize)]
pub struct ScenarioResult {
    pub scenario: String,
    /// First lane's requests/s divided by the ceiling's.
    pub ratio_to_ceiling: Option<f64>,
    /// The server's peak resident memory during this scenario; None when unknown.
    pub peak_rss_kib: Option<u64>,
    /// CPU use during the measured window, in cores.
    pub cpu: Option<CpuUse>,
    /// The server's and its database's CPU per answered request, in µs
    /// ([`cost_per_request_us`]).
    pub cpu_us_per_request: Option<f64>,
    /// The first lane is the measured one; others are load beside it (login-flood).
    pub lanes: Vec<LaneSummary>,
}

#[derive(Debug, Serialize)]
pub struct FloodCheck {
    pub baseline_p99_us: u64,
    pub flood_p99_us: u64,
    pub ratio: f64,
    pub limit: f64,
    pub met: bool,
}

/// Compares get-contact's p99 under the flood with its p99 alone.
pub fn flood_check(scenarios: &[ScenarioResult]) -> Option<FloodCheck> {
    let p99 = |name: &str| {
        scenarios
            .iter()
            .find(|s| s.scenario == name)
            .and_then(|s| s.lanes.first())
            .and_then(|l| l.p99_us)
    };
    let baseline = p99("get-contact")?;
    let flood = p99("login-flood")?;
    let ratio = flood as f64 / baseline.max(1) as f64;
    Some(FloodCheck {
        baseline_p99_us: baseline,
        flood_p99_us: flood,
        ratio,
        limit: FLOOD_P99_LIMIT,
        met: ratio < FLOOD_P99_LIMIT,
    })
}

/// The CPU of the server and of its database (PostgreSQL's processes; SQLite's work is
/// the server's own), in µs, per request answered on any of the scenario's lanes: what
/// one request costs the system under test on these cores, the client's share left
/// out. At saturation the rate is about the cores left by the client over this, and
/// with a fixed number of connections the latency follows the rate. `None` when the
/// server's CPU is unknown (a server reached by URL) or nothing was answered.
pub fn cost_per_request_us(cpu: Option<&CpuUse>, lanes: &[LaneSummary]) -> Option<f64> {
    let c = cpu?;
    let busy = c.server_cores? + c.database_cores.unwrap_or(0.0);
    let rps: f64 = lanes.iter().map(|l| l.requests_per_sec).sum();
    (rps > 0.0).then(|| busy * 1e6 / rps)
}

/// `45.5` below 100 µs, `835` above: enough digits to compare two runs.
fn format_cost(us: Option<f64>) -> String {
    match us {
        Some(v) if v < 100.0 => format!("{v:.1}"),
        Some(v) => format!("{v:.0}"),
        None => "-".into(),
    }
}

/// `1.21/0.70/0.05`: server, client and other processes, in cores; with the database's
/// share between client and others when it is known (`1.21/0.70/0.40/0.05`).
fn format_cpu(cpu: Option<&CpuUse>) -> String {
    let Some(c) = cpu else {
        return "-".into();
    };
    let f = |x: Option<f64>| x.map_or_else(|| "?".to_string(), |v| format!("{v:.2}"));
    let mut parts = vec![f(c.server_cores), f(c.client_cores)];
    if c.database_cores.is_some() {
        parts.push(f(c.database_cores));
    }
    parts.push(f(c.other_cores));
    parts.join("/")
}

/// Three decimals, or two significant digits for small ratios (login is ~0.0004).
fn format_ratio(x: f64) -> String {
    if x < 0.01 {
        format!("{x:.1e}")
    } else {
        format!("{x:.3}")
    }
}

pub fn format_mib(kib: Option<u64>) -> String {
    kib.map_or_else(
        || "unknown".into(),
        |k| format!("{:.1} MiB", k as f64 / 1024.0),
    )
}

pub fn format_rps(rps: f64) -> String {
    if rps >= 100.0 {
        // Thousands separated: these numbers are read across rows.
        let n = rps.round() as u64;
        let digits = n.to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(c);
        }
        out
    } else {
        format!("{rps:.1}")
    }
}

/// The table printed at the end of a run.
pub fn table(r: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<24} {:>5} {:>10} {:>8} {:>8} {:>8} {:>8} {:>7} {:>9} {:>10} {:>7} {:>21}",
        "scenario",
        "conns",
        "req/s",
        "/ceiling",
        "p50",
        "p99",
        "p99.9",
        "non-2xx",
        "transport",
        "peak RSS",
        "µs/req",
        "CPU srv/cli/[db/]oth"
    );
    for s in &r.scenarios {
        for (i, l) in s.lanes.iter().enumerate() {
            let (label, ratio, mem, cost, cpu) = if i == 0 {
                (
                    s.scenario.clone(),
                    s.ratio_to_ceiling.map_or("-".into(), format_ratio),
                    format_mib(s.peak_rss_kib),
                    format_cost(s.cpu_us_per_request),
                    format_cpu(s.cpu.as_ref()),
                )
            } else {
                let label = format!("  + {} beside it", l.name);
                let blank = String::new;
                (label, blank(), blank(), blank(), blank())
            };
            let _ = writeln!(
                out,
                "{:<24} {:>5} {:>10} {:>8} {:>8} {:>8} {:>8} {:>7} {:>9} {:>10} {:>7} {:>21}",
                label,
                l.connections,
                format_rps(l.requests_per_sec),
                ratio,
                format_us(l.p50_us),
                format_us(l.p99_us),
                format_us(l.p999_us),
                l.non_2xx,
                l.transport_errors,
                mem,
                cost,
                cpu
            );
        }
    }
    let _ = writeln!(
        out,
        "\nµs/req: the server's and the local PostgreSQL's CPU per request answered (all \
         of a scenario's lanes).\nCPU srv/cli/[db/]oth: cores busy during the measured \
         window for the server, this client, the local PostgreSQL (when used) and every \
         other process."
    );
    if let Some(f) = &r.login_flood {
        let _ = writeln!(
            out,
            "\nlogin flood: get-contact p99 {} under the flood vs {} alone = {:.2}x ({} the < {:.0}x target)",
            format_us(Some(f.flood_p99_us)),
            format_us(Some(f.baseline_p99_us)),
            f.ratio,
            if f.met { "meets" } else { "MISSES" },
            f.limit
        );
    }
    if !r.targets.is_empty() {
        let _ = writeln!(out, "\ntargets of issue 6 (BENCHMARKS.md):");
        for t in &r.targets {
            let status = match t.status {
                crate::targets::Status::Met => "met",
                crate::targets::Status::Missed => "MISSED",
                crate::targets::Status::NotChecked => "not checked",
            };
            let _ = writeln!(out, "  {status:<11} {}: {}", t.target, t.detail);
        }
    }
    for s in &r.scenarios {
        for l in &s.lanes {
            if l.non_2xx > 0 || l.transport_errors > 0 || !l.error_samples.is_empty() {
                let _ = writeln!(
                    out,
                    "\n{} / {}: non-2xx by status {:?}, transport errors {}",
                    s.scenario, l.name, l.non_2xx_by_status, l.transport_errors
                );
                for m in &l.error_samples {
                    let _ = writeln!(out, "  e.g. {m}");
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Recorder;
    use std::time::Duration;

    fn cpu(server: Option<f64>, database: Option<f64>) -> CpuUse {
        CpuUse {
            server_cores: server,
            client_cores: Some(0.5),
            database_cores: database,
            machine_cores: 1.9,
            other_cores: Some(0.2),
        }
    }

    fn lane(name: &str, p99_ms: u64, rps_n: u64) -> LaneSummary {
        let mut r = Recorder::new();
        for _ in 0..rps_n {
            r.response(200, Duration::from_millis(p99_ms));
        }
        r.summary(name, 32, Duration::from_secs(1))
    }

    fn result(name: &str, p99_ms: u64, rps_n: u64) -> ScenarioResult {
        let cpu = cpu(Some(1.2), None);
        let lanes = vec![lane(name, p99_ms, rps_n)];
        ScenarioResult {
            scenario: name.into(),
            ratio_to_ceiling: Some(0.5),
            peak_rss_kib: Some(20 * 1024),
            cpu_us_per_request: cost_per_request_us(Some(&cpu), &lanes),
            cpu: Some(cpu),
            lanes,
        }
    }

    #[test]
    fn a_requests_cost_is_the_server_and_database_cpu_over_every_lane() {
        // 1.2 cores of server and 0.6 of PostgreSQL over 30 + 10 requests a second.
        let lanes = [lane("get-contact", 2, 30), lane("login", 40, 10)];
        let cost = cost_per_request_us(Some(&cpu(Some(1.2), Some(0.6))), &lanes).unwrap();
        assert!((cost - 45_000.0).abs() < 1.0, "{cost}");
        // On SQLite the database's work is the server's.
        let cost = cost_per_request_us(Some(&cpu(Some(1.2), None)), &lanes[..1]).unwrap();
        assert!((cost - 40_000.0).abs() < 1.0, "{cost}");
        // Unknown without the server's CPU or without an answer.
        assert_eq!(
            cost_per_request_us(Some(&cpu(None, Some(0.6))), &lanes),
            None
        );
        assert_eq!(cost_per_request_us(None, &lanes), None);
        assert_eq!(cost_per_request_us(Some(&cpu(Some(1.2), None)), &[]), None);
        assert_eq!(format_cost(Some(45.54)), "45.5");
        assert_eq!(format_cost(Some(834.6)), "835");
        assert_eq!(format_cost(None), "-");
    }

    #[test]
    fn flood_verdict() {
        let check =
            flood_check(&[result("get-contact", 2, 10), result("login-flood", 3, 10)]).unwrap();
        assert!(check.met);
        assert!((check.ratio - 1.5).abs() < 0.01, "{}", check.ratio);
        let check =
            flood_check(&[result("get-contact", 2, 10), result("login-flood", 5, 10)]).unwrap();
        assert!(!check.met);
        // Without the baseline there is no verdict.
        assert!(flood_check(&[result("login-flood", 5, 10)]).is_none());
    }

    #[test]
    fn numbers_are_readable() {
        assert_eq!(format_rps(131_234.4), "131,234");
        assert_eq!(format_rps(1_000.0), "1,000");
        assert_eq!(format_rps(999.0), "999");
        assert_eq!(format_rps(23.44), "23.4");
        assert_eq!(format_mib(Some(15_206)), "14.8 MiB");
        assert_eq!(format_mib(None), "unknown");
        assert_eq!(format_ratio(0.0812), "0.081");
        assert_eq!(format_ratio(0.000447), "4.5e-4");
    }

    #[test]
    fn table_shows_every_lane_and_the_verdict() {
        let mut flood = result("login-flood", 3, 10);
        let mut login = Recorder::new();
        login.response(200, Duration::from_millis(40));
        login.response(503, Duration::from_millis(40));
        flood
            .lanes
            .push(login.summary("login", 4, Duration::from_secs(1)));
        let scenarios = vec![result("get-contact", 2, 10), flood];
        let report = Report {
            tool: "t".into(),
            unix_time: 0,
            machine: Machine {
                cpus: 2,
                cpu_model: None,
            },
            config: RunConfig {
                connections: 32,
                duration_secs: 1.0,
                warmup_secs: 0.0,
                client_threads: 1,
                flood_connections: 4,
                request_timeout_secs: 10.0,
                release_build: true,
            },
            server: ServerInfo {
                mode: "started".into(),
                url: "http://127.0.0.1:1".into(),
                database: None,
                pid: None,
                idle_rss_kib: None,
                rested_rss_kib: None,
            },
            tenant: Tenant {
                customer_id: "c".into(),
                project_id: "p".into(),
            },
            seeding: None,
            reused: None,
            ceiling_rps: None,
            login_flood: flood_check(&scenarios),
            targets: vec![crate::targets::TargetCheck {
                target: "idle server: under 30 MB resident".into(),
                status: crate::targets::Status::Missed,
                detail: "31.0 MB".into(),
            }],
            scenarios,
        };
        let t = table(&report);
        assert!(
            t.contains("  MISSED      idle server: under 30 MB resident: 31.0 MB"),
            "{t}"
        );
        assert!(t.contains("get-contact"), "{t}");
        assert!(t.contains("  + login beside it"), "{t}");
        assert!(t.contains("1.50x (meets the < 2x target)"), "{t}");
        assert!(t.contains("non-2xx by status {503: 1}"), "{t}");
        assert!(t.contains("20.0 MiB"), "{t}");
        assert!(t.contains("1.20/0.50/0.20"), "{t}");
        // 1.2 cores over 10 requests a second.
        assert!(t.contains(" 120000 "), "{t}");
    }
}
