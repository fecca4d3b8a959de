//! `clientele-bench`: drives HTTP load at a clientele server and reports throughput,
//! latency, errors and memory per scenario, each also as a ratio to the same server's
//! /health (the ceiling). See `--help` and BENCHMARKS.md.

mod bulk;
mod cli;
mod cpu;
mod http;
mod kept;
mod load;
mod report;
mod scenario;
mod seed;
mod server;
mod stats;
mod targets;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::Parser;

use crate::cli::{Args, BaseUrl, DatabaseKind};
use crate::kept::Kept;
use crate::load::{Clock, LoadConfig};
use crate::report::{Machine, Report, RunConfig, ScenarioResult, ServerInfo, Tenant};
use crate::scenario::{PlanInput, ScenarioId};
use crate::seed::Setup;
use crate::server::{ManagedServer, MemProbe, Reused, ServerOptions};

fn main() -> ExitCode {
    let args = Args::parse();
    if let Err(e) = args.validate() {
        eprintln!("clientele-bench: {e}");
        return ExitCode::from(2);
    }
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("clientele-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The server under test and what is known about it.
struct Target {
    base: BaseUrl,
    mem: Option<MemProbe>,
    /// Kept alive for the whole run; dropping it stops the server and cleans up.
    managed: Option<ManagedServer>,
}

/// How long the server rests after the load before its memory is read again.
const REST: Duration = Duration::from_secs(6);

fn run(args: &Args) -> Result<(), String> {
    if cfg!(debug_assertions) {
        eprintln!(
            "warning: clientele-bench was built without optimizations; its figures are not \
             comparable (use cargo run --release -p clientele-bench)"
        );
    }
    // Set-up runs on this thread's own small runtime; the load has its own threads.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let mut kept = args.reuse.as_deref().map(Kept::load).transpose()?;
    // A reused database brings its own kind.
    let database = kept.as_ref().map_or(args.database, |k| k.database);
    // The flag against --database is checked with the arguments; here a kept one's.
    if args.sqlite_exclusive && database != DatabaseKind::Sqlite {
        return Err("--sqlite-exclusive is a setting of SQLite databases".into());
    }
    let mut target = start_target(args, &rt, database, kept.as_ref())?;
    let mut idle_rss_kib = match (&target.managed, target.mem) {
        // A moment after /health first answered: start-up allocations have settled.
        (Some(_), Some(mem)) => {
            std::thread::sleep(Duration::from_millis(500));
            mem.rss_kib()
        }
        _ => None,
    };

    let connections = usize::from(args.connections);
    let mut setup = Setup::new(target.base.addr, target.base.host.clone());
    let (mut fixture, seeding) = match (kept.as_mut(), &target.managed) {
        (Some(k), Some(server)) => {
            let mut fixture = k.next_run(connections, seed::run_tag())?;
            // Counted before the load: an interrupted run's contacts are not reused.
            k.save(&server.dir)?;
            eprintln!(
                "reusing {} (run {} on it): its tenant signs in again...",
                server.dir.display(),
                k.reuses
            );
            rt.block_on(fixture.renew_token(&mut setup))?;
            (fixture, k.seeding.clone())
        }
        _ => {
            eprintln!("setting up a tenant over HTTP...");
            let mut fixture = rt
                .block_on(seed::tenant(&mut setup, connections))
                .map_err(|e| format!("set-up failed: {e}"))?;
            let seeding = match seed_database_url(args, &target) {
                Some(url) if args.seeds_contacts() > 0 => {
                    Some(seed_contacts(args, &rt, &mut setup, &mut fixture, &url)?)
                }
                _ => None,
            };
            if let (true, Some(server)) = (args.sqlite_exclusive, target.managed.as_mut()) {
                // The seeder was another process: only now can the server hold the file.
                eprintln!("starting the server again, holding its database alone...");
                server.restart(&[exclusive_env()])?;
                rt.block_on(server.wait_ready())?;
                // The set-up's connection went with the old process.
                setup = Setup::new(target.base.addr, target.base.host.clone());
                let mem = MemProbe { pid: server.pid() };
                target.mem = Some(mem);
                std::thread::sleep(Duration::from_millis(500));
                idle_rss_kib = mem.rss_kib();
            }
            if let (true, Some(server)) = (args.keep_database, &target.managed) {
                let k = Kept::new(
                    database,
                    server.postgres_database.clone(),
                    &fixture,
                    seeding.as_ref(),
                );
                k.save(&server.dir)?;
            }
            (fixture, seeding)
        }
    };

    let cfg = LoadConfig {
        addr: target.base.addr,
        warmup: args.warmup,
        duration: args.duration,
        client_threads: usize::from(args.client_threads),
        request_timeout: args.request_timeout,
    };
    let mut results: Vec<ScenarioResult> = Vec::new();
    let mut ceiling: Option<f64> = None;
    for id in ScenarioId::resolve(&args.scenarios) {
        rt.block_on(fixture.renew_token(&mut setup))?;
        let lanes = id.plan(&PlanInput {
            fixture: &fixture,
            host: target.base.host.clone(),
            connections,
            flood_connections: usize::from(args.flood_connections),
        })?;
        eprintln!(
            "{}: {} connections, {:?} warm-up + {:?}...",
            id.name(),
            lanes.iter().map(|l| l.connections).sum::<usize>(),
            args.warmup,
            args.duration
        );
        let reset = target.mem.map(|m| m.reset_peak());
        let sampler = target.mem.map(MemProbe::sample);
        let clock = Clock::new(&cfg);
        let on_postgres = target.managed.is_some() && database == DatabaseKind::Postgres;
        let cpu_probe = spawn_cpu_probe(clock, target.mem.map(|m| m.pid), on_postgres);
        let recorders = load::run(&cfg, &lanes, clock)?;
        let sampled = sampler.map(|s| s.finish());
        let cpu = cpu_probe.join().ok().flatten();
        let peak_rss_kib = match (target.mem, reset, sampled) {
            // VmHWM since the reset catches spikes between samples; the sampled maximum
            // covers kernels that refuse the reset.
            (Some(mem), Some(true), Some(s)) => mem.peak_kib().map(|p| p.max(s)).or(Some(s)),
            (_, _, Some(s)) if s > 0 => Some(s),
            _ => None,
        };
        let lanes: Vec<_> = lanes
            .iter()
            .zip(&recorders)
            .map(|(l, r)| r.summary(&l.name, l.connections, args.duration))
            .collect();
        let rps = lanes.first().map_or(0.0, |l| l.requests_per_sec);
        if id == ScenarioId::Health {
            ceiling = Some(rps).filter(|r| *r > 0.0);
        }
        results.push(ScenarioResult {
            scenario: id.name().to_string(),
            ratio_to_ceiling: ceiling.map(|c| rps / c),
            peak_rss_kib,
            cpu_us_per_request: report::cost_per_request_us(cpu.as_ref(), &lanes),
            cpu,
            lanes,
        });
    }

    let rested_rss_kib = match (&target.managed, target.mem) {
        // Long enough for the server to see an idle tick and give memory back.
        (Some(_), Some(mem)) => {
            std::thread::sleep(REST);
            mem.rss_kib()
        }
        _ => None,
    };

    let login_flood = report::flood_check(&results);
    let targets = targets::check(&targets::RunFacts {
        database: known_database(args, &target, database),
        seeding: seeding.as_ref(),
        idle_rss_kib,
        scenarios: &results,
        flood: login_flood.as_ref(),
    });
    let report = Report {
        tool: format!("clientele-bench {}", env!("CARGO_PKG_VERSION")),
        unix_time: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        machine: Machine::read(),
        config: RunConfig {
            connections,
            duration_secs: args.duration.as_secs_f64(),
            warmup_secs: args.warmup.as_secs_f64(),
            client_threads: usize::from(args.client_threads),
            flood_connections: usize::from(args.flood_connections),
            request_timeout_secs: args.request_timeout.as_secs_f64(),
            release_build: !cfg!(debug_assertions),
        },
        server: ServerInfo {
            mode: if target.managed.is_some() {
                "started"
            } else {
                "running"
            }
            .into(),
            url: format!("http://{}", target.base.host),
            database: target.managed.as_ref().map(|m| {
                if args.sqlite_exclusive {
                    format!("{} (held alone: database.exclusive)", m.database)
                } else {
                    m.database.clone()
                }
            }),
            pid: target
                .managed
                .as_ref()
                .map(ManagedServer::pid)
                .or(args.server_pid),
            idle_rss_kib,
            rested_rss_kib,
        },
        tenant: Tenant {
            customer_id: fixture.customer_id.clone(),
            project_id: fixture.project_id.clone(),
        },
        seeding,
        reused: args.reuse.as_ref().map(|d| d.display().to_string()),
        ceiling_rps: ceiling,
        login_flood,
        targets,
        scenarios: results,
    };
    print_header(&report, &target);
    print!("{}", report::table(&report));
    if let Some(path) = &args.json {
        write_json(path, &report)?;
        eprintln!("results written to {}", path.display());
    }
    // Stop the server (and drop its database) before saying we are done.
    target.managed.take();
    Ok(())
}

/// The database behind the server, when known: the one this tool started it on, or
/// the one `--database-url` names for a server reached by `--url`.
fn known_database(args: &Args, target: &Target, started_on: DatabaseKind) -> Option<DatabaseKind> {
    if target.managed.is_some() {
        return Some(started_on);
    }
    args.database_url.as_deref().and_then(DatabaseKind::of_url)
}

/// Where contacts are seeded: the started server's database, or --database-url.
fn seed_database_url(args: &Args, target: &Target) -> Option<String> {
    match &target.managed {
        Some(m) => Some(m.database_url.clone()),
        None => args.database_url.clone(),
    }
}

/// Stage 2 and 3 of the set-up: contacts in bulk into the fixture's project (and a tenth
/// as many into each of three other projects), then what the scenarios read.
fn seed_contacts(
    args: &Args,
    rt: &tokio::runtime::Runtime,
    setup: &mut Setup,
    fixture: &mut seed::Fixture,
    database_url: &str,
) -> Result<report::Seeding, String> {
    let count = args.seeds_contacts();
    let others = rt.block_on(seed::other_projects(setup, fixture))?;
    let id = |s: &str| {
        uuid::Uuid::parse_str(s).map_err(|_| format!("the server returned a bad id `{s}`"))
    };
    let mut targets = vec![bulk::Target {
        customer_id: id(&fixture.customer_id)?,
        project_id: id(&fixture.project_id)?,
        count,
        label: format!("p0-{}", fixture.run_tag),
    }];
    for (k, (customer, project)) in others.iter().enumerate() {
        targets.push(bulk::Target {
            customer_id: id(customer)?,
            project_id: id(project)?,
            count: count / 10,
            label: format!("p{}-{}", k + 1, fixture.run_tag),
        });
    }
    let total: u64 = targets.iter().map(|t| t.count).sum();
    eprintln!(
        "seeding {total} contacts ({count} in the measured project, the rest in {} others) \
         through the persistence layer...",
        others.len()
    );
    let (report, seeded) = bulk::seed(database_url, &targets, clientele_domain::time::now())?;
    eprintln!(
        "seeded {} contacts, {} tags, {} addresses, {} orders in {:.1}s: {:.0} contacts/s, \
         {:.0} rows/s",
        report.contacts,
        report.tags,
        report.addresses,
        report.orders,
        report.seconds,
        report.contacts_per_sec,
        report.rows_per_sec
    );
    rt.block_on(fixture.renew_token(setup))?;
    let set = rt.block_on(seed::contact_set(
        setup,
        fixture,
        &seeded,
        usize::from(args.connections),
    ))?;
    let deep_rows = set.deep_rows;
    fixture.contacts = Some(set);
    Ok(report::Seeding {
        measured_project_contacts: count,
        deep_page_rows: deep_rows,
        totals: report,
    })
}

fn start_target(
    args: &Args,
    rt: &tokio::runtime::Runtime,
    database: DatabaseKind,
    kept: Option<&Kept>,
) -> Result<Target, String> {
    if let Some(url) = &args.url {
        let base = cli::parse_base_url(url)?;
        let mut setup = Setup::new(base.addr, base.host.clone());
        rt.block_on(setup.json("GET", "/health", None, None, 200))
            .map_err(|e| format!("the server at {url} does not answer: {e}"))?;
        let mem = args.server_pid.map(|pid| MemProbe { pid });
        if let Some(m) = mem {
            m.rss_kib()
                .ok_or_else(|| format!("cannot read /proc/{}/status (--server-pid)", m.pid))?;
        }
        return Ok(Target {
            base,
            mem,
            managed: None,
        });
    }
    let binary = match &args.server_bin {
        Some(p) => p.clone(),
        None => sibling_server_binary()?,
    };
    if database == DatabaseKind::Postgres {
        cli::check_postgres_url(&args.postgres_url)?;
    }
    let opts = ServerOptions {
        binary,
        database,
        postgres_url: args.postgres_url.clone(),
        data_dir: args.data_dir.clone().unwrap_or_else(std::env::temp_dir),
        keep: args.keep_database,
        extra_env: {
            let mut env = args.server_env.clone();
            // A kept database is not seeded again: the server can hold it from the start.
            if args.sqlite_exclusive && args.reuse.is_some() {
                env.push(exclusive_env());
            }
            env
        },
        reuse: args.reuse.clone().zip(kept).map(|(dir, k)| Reused {
            dir,
            postgres_database: k.postgres_database.clone(),
        }),
    };
    eprintln!(
        "starting {} on {}...",
        opts.binary.display(),
        database.name()
    );
    let mut server = ManagedServer::start(&opts)?;
    rt.block_on(server.wait_ready())?;
    let base = BaseUrl {
        addr: server.addr,
        host: server.addr.to_string(),
    };
    Ok(Target {
        base,
        mem: Some(MemProbe { pid: server.pid() }),
        managed: Some(server),
    })
}

/// Reads CPU counters at the start and at the end of the measured window, on a thread of
/// its own so that the load threads are not disturbed.
fn spawn_cpu_probe(
    clock: Clock,
    server_pid: Option<u32>,
    postgres: bool,
) -> std::thread::JoinHandle<Option<cpu::CpuUse>> {
    let cpus = Machine::read().cpus;
    std::thread::spawn(move || {
        let sleep_until = |t: std::time::Instant| {
            std::thread::sleep(t.saturating_duration_since(std::time::Instant::now()));
        };
        sleep_until(clock.measure_from);
        let a = cpu::snapshot(server_pid, postgres)?;
        sleep_until(clock.end);
        let b = cpu::snapshot(server_pid, postgres)?;
        cpu::between(&a, &b, cpus)
    })
}

/// What `--sqlite-exclusive` gives the server: `database.exclusive = true`.
fn exclusive_env() -> (String, String) {
    ("CLIENTELE__DATABASE__EXCLUSIVE".into(), "true".into())
}

/// `clientele` next to this executable: both are built into the same target folder.
fn sibling_server_binary() -> Result<PathBuf, String> {
    let me = std::env::current_exe().map_err(|e| format!("cannot locate this executable: {e}"))?;
    let dir = me
        .parent()
        .ok_or("cannot locate the folder of this executable")?;
    Ok(dir.join(format!("clientele{}", std::env::consts::EXE_SUFFIX)))
}

fn print_header(r: &Report, target: &Target) {
    println!();
    println!(
        "machine: {} CPUs, {}",
        r.machine.cpus,
        r.machine.cpu_model.as_deref().unwrap_or("unknown CPU")
    );
    println!(
        "server:  {} ({}), pid {}, database {}",
        r.server.url,
        r.server.mode,
        r.server
            .pid
            .map_or_else(|| "unknown".to_string(), |p| p.to_string()),
        r.server.database.as_deref().unwrap_or("unknown")
    );
    if let Some(m) = &target.managed {
        println!("         log {}", m.log_path.display());
    }
    println!(
        "tenant:  customer {}, project {}",
        r.tenant.customer_id, r.tenant.project_id
    );
    println!(
        "load:    {} connections, {}s measured after {}s warm-up per scenario, {} client thread(s)",
        r.config.connections, r.config.duration_secs, r.config.warmup_secs, r.config.client_threads
    );
    if target.managed.is_some() {
        println!(
            "memory:  idle {} at start, {} {}s after the last scenario",
            report::format_mib(r.server.idle_rss_kib),
            report::format_mib(r.server.rested_rss_kib),
            REST.as_secs()
        );
    } else if target.mem.is_none() {
        println!("memory:  unknown (give --server-pid to read it)");
    }
    if let Some(c) = r.ceiling_rps {
        println!("ceiling: {c:.0} req/s on /health");
    }
    println!();
}

fn write_json(path: &PathBuf, report: &Report) -> Result<(), String> {
    let text = serde_json::to_string_pretty(report)
        .map_err(|e| format!("cannot serialize the results: {e}"))?;
    std::fs::write(path, text + "\n").map_err(|e| format!("cannot write {}: {e}", path.display()))
}
