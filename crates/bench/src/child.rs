//! Fresh child processes: the parent re-executes this binary with a hidden subcommand,
//! the child pins itself, measures one implementation and prints one line of numbers.

use std::io;
use std::process::{Command, ExitCode};

use crate::{sys, Opts};

/// The hidden first argument that turns the binary into a measuring child.
pub(crate) const SUBCOMMAND: &str = "__child";

/// Seconds after which a child is killed by its own `alarm` (a hang is a result too).
const WATCHDOG_SECS: u32 = 60;

/// Runs one measurement in a fresh process: `args` are the section name and its own
/// arguments. Returns the numbers the child printed, or why it failed.
pub(crate) fn run(opts: &Opts, args: &[String]) -> Result<Vec<f64>, String> {
    let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    let cpu = opts.cpu.map_or("-".to_string(), |c| c.to_string());
    if opts.verbose {
        eprintln!("  child: {} {}", cpu, args.join(" "));
    }
    let out = Command::new(exe)
        .arg(SUBCOMMAND)
        .arg(cpu)
        .args(args)
        .output()
        .map_err(|e| format!("spawn: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        let why = stderr.lines().last().unwrap_or("").to_string();
        return Err(format!("{} {why}", out.status).trim().to_string());
    }
    let line = stdout
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("ok "))
        .ok_or_else(|| "child printed no result".to_string())?;
    line.split_whitespace()
        .map(|v| v.parse().map_err(|_| format!("bad number {v:?}")))
        .collect()
}

/// Results of interleaved rounds: `[configuration][round]`, each a child's numbers or
/// why it failed.
#[derive(Debug)]
pub(crate) struct Runs(Vec<Vec<Result<Vec<f64>, String>>>);

impl Runs {
    /// Runs `rounds` rounds of one child per configuration; each round starts one
    /// configuration later than the previous, so none always runs first.
    pub(crate) fn interleaved(
        opts: &Opts,
        rounds: usize,
        configs: usize,
        args_of: impl Fn(usize) -> Vec<String>,
    ) -> Runs {
        let mut runs: Vec<Vec<_>> = (0..configs).map(|_| Vec::with_capacity(rounds)).collect();
        for round in 0..rounds {
            for k in 0..configs {
                let idx = (k + round) % configs;
                runs[idx].push(run(opts, &args_of(idx)));
            }
        }
        Runs(runs)
    }

    /// Value `v` of configuration `c` per round; NaN where the child failed.
    pub(crate) fn series(&self, c: usize, v: usize) -> Vec<f64> {
        self.0[c]
            .iter()
            .map(|r| {
                r.as_ref()
                    .ok()
                    .and_then(|x| x.get(v).copied())
                    .unwrap_or(f64::NAN)
            })
            .collect()
    }

    /// The numbers of every child of configuration `c` that succeeded.
    pub(crate) fn successes(&self, c: usize) -> impl Iterator<Item = &[f64]> {
        self.0[c].iter().filter_map(|r| r.as_deref().ok())
    }

    /// The last failure of configuration `c`, if any.
    pub(crate) fn error(&self, c: usize) -> Option<String> {
        self.0[c]
            .iter()
            .rev()
            .find_map(|r| r.as_ref().err().cloned())
    }
}

/// Formats the arguments of a child call.
pub(crate) fn args(parts: &[&dyn std::fmt::Display]) -> Vec<String> {
    parts.iter().map(|p| p.to_string()).collect()
}

/// Entry point of a child: `args` is `CPU SECTION ...` (CPU `-` for unpinned).
pub(crate) fn main(args: &[String]) -> ExitCode {
    match dispatch(args) {
        Ok(values) => {
            let line: Vec<String> = values.iter().map(|v| format!("{v}")).collect();
            println!("ok {}", line.join(" "));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn bad(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg.into())
}

/// Parses argument `i` of a child's command line.
pub(crate) fn arg<T: std::str::FromStr>(args: &[String], i: usize) -> io::Result<T> {
    let s = args
        .get(i)
        .ok_or_else(|| bad(format!("missing argument {i}")))?;
    s.parse().map_err(|_| bad(format!("bad argument {s:?}")))
}

/// Parses argument `i` as an implementation name.
pub(crate) fn imp_arg(args: &[String], i: usize) -> io::Result<crate::imp::Imp> {
    let s: String = arg(args, i)?;
    crate::imp::Imp::parse(&s).ok_or_else(|| bad(format!("unknown implementation {s:?}")))
}

fn dispatch(args: &[String]) -> io::Result<Vec<f64>> {
    sys::watchdog(WATCHDOG_SECS);
    let cpu: String = arg(args, 0)?;
    if cpu != "-" {
        sys::pin_to_cpu(arg(args, 0)?)?;
    }
    let section: String = arg(args, 1)?;
    let rest = &args[2..];
    match section.as_str() {
        "handler" => crate::handler::child(rest),
        "register" => crate::register::child(rest),
        "wake" => crate::wake::child(rest),
        "flood" => crate::flood::child(rest),
        "footprint" => crate::footprint::child(rest),
        "children" => crate::children::child(rest),
        "children-exit" => crate::children::exit_child(rest),
        "rt_flood" => crate::rt_flood::child(rest),
        other => Err(bad(format!("unknown section {other:?}"))),
    }
}
