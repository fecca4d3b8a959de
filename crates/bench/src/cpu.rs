//! CPU time during the measured window, from /proc: the server's, this tool's, and the
//! whole machine's. On a 2-core machine shared by server and client, these say what
//! limits a figure (cores all busy: CPU; cores idle: fsync, locks or a queue) and how
//! much other processes took (noise that absolute figures cannot hide).

use serde::Serialize;

/// Cumulative CPU ticks (USER_HZ) at one moment.
#[derive(Debug, Clone, Copy)]
pub struct Snapshot {
    server: Option<u64>,
    client: Option<u64>,
    database: Option<u64>,
    machine_busy: u64,
    machine_total: u64,
}

/// CPU use over a window, in cores (1.0 = one core busy the whole time).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CpuUse {
    pub server_cores: Option<f64>,
    pub client_cores: Option<f64>,
    /// Local PostgreSQL processes (when the server runs on PostgreSQL): the database's
    /// own share of the work.
    pub database_cores: Option<f64>,
    pub machine_cores: f64,
    /// Busy time of every other process (machine - server - client - database): another
    /// build or test on the same machine shows up here.
    pub other_cores: Option<f64>,
}

/// Reads the counters now; `None` when /proc/stat is unreadable (not Linux). With
/// `postgres`, the processes named `postgres` are summed as the database.
pub fn snapshot(server_pid: Option<u32>, postgres: bool) -> Option<Snapshot> {
    let (machine_busy, machine_total) =
        machine_ticks(&std::fs::read_to_string("/proc/stat").ok()?)?;
    let ticks = |pid: &str| {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|s| process_ticks(&s))
    };
    Some(Snapshot {
        server: server_pid.and_then(|p| ticks(&p.to_string())),
        client: ticks("self"),
        database: postgres.then(|| processes_named("postgres")),
        machine_busy,
        machine_total,
    })
}

/// CPU use between two snapshots. Process ticks and machine ticks share the USER_HZ
/// unit, so the machine's total ticks over all CPUs turn them into cores without
/// knowing the tick rate.
pub fn between(a: &Snapshot, b: &Snapshot, cpus: usize) -> Option<CpuUse> {
    let total = b.machine_total.checked_sub(a.machine_total)?;
    if total == 0 {
        return None;
    }
    let per_core_ticks = total as f64 / cpus.max(1) as f64;
    let cores = |x: u64, y: u64| y.checked_sub(x).map(|d| d as f64 / per_core_ticks);
    let machine_cores = cores(a.machine_busy, b.machine_busy)?;
    let server_cores = a.server.zip(b.server).and_then(|(x, y)| cores(x, y));
    let client_cores = a.client.zip(b.client).and_then(|(x, y)| cores(x, y));
    // Database processes that exited in between take their ticks with them: saturate.
    let database_cores = a
        .database
        .zip(b.database)
        .map(|(x, y)| y.saturating_sub(x) as f64 / per_core_ticks);
    let other_cores = server_cores
        .zip(client_cores)
        .map(|(s, c)| (machine_cores - s - c - database_cores.unwrap_or(0.0)).max(0.0));
    Some(CpuUse {
        server_cores,
        client_cores,
        database_cores,
        machine_cores,
        other_cores,
    })
}

/// Summed CPU ticks of every process whose command name is `name`.
fn processes_named(name: &str) -> u64 {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0;
    };
    dir.filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter(|e| {
            std::fs::read_to_string(e.path().join("comm")).is_ok_and(|c| c.trim_end() == name)
        })
        .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
        .filter_map(|s| process_ticks(&s))
        .sum()
}

/// `/proc/stat` first line: `cpu user nice system idle iowait irq softirq steal ...`.
/// Busy is everything but idle and iowait (guest time is already inside user).
fn machine_ticks(stat: &str) -> Option<(u64, u64)> {
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .take(8)
        .map(|x| x.parse().ok())
        .collect::<Option<_>>()?;
    if v.len() < 5 {
        return None;
    }
    let total: u64 = v.iter().sum();
    let idle = v[3] + v[4];
    Some((total - idle, total))
}

/// utime + stime of `/proc/PID/stat` (fields 14 and 15). The command name (field 2) may
/// hold spaces and parentheses, so fields are counted after its last `)`.
fn process_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After `)`: state is field 3, so utime (14) and stime (15) are at 11 and 12.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machine_counters() {
        let stat = "cpu  100 5 50 800 45 0 0 0 0 0\ncpu0 50 2 25 400 20 0 0 0 0 0\nintr 1\n";
        assert_eq!(machine_ticks(stat), Some((155, 1000)));
        assert_eq!(machine_ticks("intr 1\n"), None);
        assert_eq!(machine_ticks("cpu  1 2 x 4 5\n"), None);
    }

    #[test]
    fn process_counters_survive_odd_names() {
        let stat = "4242 (my (odd) name) S 1 4242 4242 0 -1 4194560 500 0 0 0 170 30 0 0 20 0 9 0 100 1000 200 18446744073709551615";
        assert_eq!(process_ticks(stat), Some(200));
        assert_eq!(process_ticks("4242 (short) S 1"), None);
        assert_eq!(process_ticks("no parenthesis"), None);
    }

    #[test]
    fn use_in_cores() {
        let a = Snapshot {
            server: Some(1000),
            client: Some(500),
            database: None,
            machine_busy: 10_000,
            machine_total: 20_000,
        };
        // 2 CPUs, 1 s at 100 Hz: 200 machine ticks; server 120, client 50, all busy.
        let b = Snapshot {
            server: Some(1120),
            client: Some(550),
            database: None,
            machine_busy: 10_200,
            machine_total: 20_200,
        };
        let u = between(&a, &b, 2).unwrap();
        assert_eq!(u.server_cores, Some(1.2));
        assert_eq!(u.client_cores, Some(0.5));
        assert_eq!(u.machine_cores, 2.0);
        let other = u.other_cores.unwrap();
        assert!((other - 0.3).abs() < 1e-9, "{other}");
        // Unknown server: no server or other figure, the machine's still.
        let u = between(&Snapshot { server: None, ..a }, &b, 2).unwrap();
        assert_eq!((u.server_cores, u.other_cores), (None, None));
        // The database's share comes out of "other".
        let with_db = |s: &Snapshot, ticks| Snapshot {
            database: Some(ticks),
            ..*s
        };
        let u = between(&with_db(&a, 0), &with_db(&b, 20), 2).unwrap();
        assert_eq!(u.database_cores, Some(0.2));
        assert!(u.other_cores.unwrap() < 0.1 + 1e-9);
        // No time passed: nothing to say.
        assert!(between(&a, &a, 2).is_none());
    }

    #[test]
    fn reads_this_machine() {
        let a = snapshot(Some(std::process::id()), true).unwrap();
        let mut x = 0u64;
        for i in 0..20_000_000u64 {
            x = x.wrapping_add(i * i);
        }
        std::hint::black_box(x);
        std::thread::sleep(std::time::Duration::from_millis(30));
        let b = snapshot(Some(std::process::id()), true).unwrap();
        let u = between(&a, &b, 2).unwrap();
        assert!(u.client_cores.unwrap() >= 0.0 && u.machine_cores >= 0.0);
    }
}
