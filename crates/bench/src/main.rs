//! Side-by-side benchmarks of sigmux against its peers and against the physical floor.
//!
//! Run `cargo run --release -p sigmux-bench` (about two minutes on two cores) or add
//! `--quick` for a smoke run (CI uses it and never judges the timings). `--help` lists the
//! options.
//!
//! # How it measures
//!
//! The parent process never measures anything itself. For every (section, implementation,
//! round) it re-executes its own binary with a hidden `__child` subcommand, so that each
//! library installs its handlers into a fresh process and no library chains to another's
//! handler or inherits its global state. Children are pinned to one CPU (see `--cpu`):
//! on these small VMs a wake-up that lands on the other vCPU costs tens of microseconds
//! more and would swamp the comparison. Implementations run interleaved, round after
//! round, and the tables report per-round ratios.
//!
//! * [`handler`]: CPU time of one `raise` with the implementation's handler, paired in
//!   the same child against a raw `sigaction` handler on another signal.
//! * [`register`]: CPU time of one register + unregister pair with many actions present.
//! * [`wake`]: one-way and round-trip wake-up latency, signal sent from another thread.
//! * [`flood`]: 200,000 signals of one kind with one of another kind in the middle.
//! * [`footprint`]: allocations, bytes, descriptors and threads of one new iterator.
//! * [`children`]: from a child's exit to the watcher learning it, and the cost per child,
//!   for N children exiting at once (sigmux::child, tokio::process, thread per child, raw).
//! * [`rt_flood`]: `sigqueue` payloads from another process: received, lost, out of order and
//!   CPU per delivery of sigmux's lossless mode, a raw `SA_SIGINFO` ring, signalfd, signal-hook.
//!
//! The last line of the output is one JSON object for tools; `--markdown FILE` also writes
//! the README's Performance section (see `crates/bench/PERFORMANCE.md`) and, beside it, the
//! wake-up latency chart `wake-latency.svg` ([`chart`]; `--svg FILE` writes it elsewhere).
//!
//! Linux only: it relies on `signalfd`, `CLOCK_THREAD_CPUTIME_ID`, `sched_setaffinity` and
//! `/proc/self`.

mod alloc;
mod chart;
mod child;
mod children;
mod flood;
mod footprint;
mod handler;
mod imp;
mod receiver;
mod register;
mod registry;
mod report;
mod rt_flood;
mod stats;
mod sys;
mod wake;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Map, Value};

#[global_allocator]
static ALLOC: alloc::Counting = alloc::Counting;

/// What the command line asked for.
#[derive(Debug, Clone)]
pub(crate) struct Opts {
    /// Smoke run: few rounds, small counts.
    pub(crate) quick: bool,
    /// CPU the children pin themselves to; `None` leaves them unpinned.
    pub(crate) cpu: Option<usize>,
    /// Sections to run, in order.
    pub(crate) sections: Vec<Section>,
    /// Print progress to stderr.
    pub(crate) verbose: bool,
    /// Also write the README's Performance section to this file.
    pub(crate) markdown: Option<PathBuf>,
    /// Write the wake-up latency chart (SVG) to this file.
    pub(crate) svg: Option<PathBuf>,
}

/// Set when an output file could not be written: the run still finishes, then fails.
static FAILED: AtomicBool = AtomicBool::new(false);

/// Reports `msg` now and makes the run exit with failure at the end.
pub(crate) fn fail_later(msg: String) {
    eprintln!("sigmux-bench: {msg}");
    FAILED.store(true, Ordering::Relaxed);
}

/// One part of the benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Section {
    Handler,
    Register,
    Wake,
    Flood,
    Footprint,
    Children,
    /// Real-time `sigqueue` flood from another process (lossless delivery).
    RtFlood,
}

impl Section {
    const ALL: [Section; 7] = [
        Section::Handler,
        Section::Register,
        Section::Wake,
        Section::Flood,
        Section::Footprint,
        Section::Children,
        Section::RtFlood,
    ];

    fn name(self) -> &'static str {
        match self {
            Section::Handler => "handler",
            Section::Register => "register",
            Section::Wake => "wake",
            Section::Flood => "flood",
            Section::Footprint => "footprint",
            Section::Children => "children",
            Section::RtFlood => "rt_flood",
        }
    }

    fn parse(name: &str) -> Option<Section> {
        Section::ALL.into_iter().find(|s| s.name() == name)
    }
}

const USAGE: &str = "\
usage: sigmux-bench [--quick] [--only SECTION[,SECTION...]] [--cpu N | --no-pin] [--verbose]
                    [--markdown FILE] [--svg FILE]

Measures sigmux against signal-hook, tokio::signal and async-signal, and against the floor
(raw sigaction handler, futex wake-up). Sections: handler, register, wake, flood, footprint,
children, rt_flood.

  --quick      smoke run for CI (a few seconds per section; timings not meaningful)
  --only LIST  run only these sections
  --cpu N      pin every measuring child to CPU N (default 0)
  --no-pin     do not pin the children
  --verbose    print each child's command line and progress to stderr
  --markdown FILE  also write the README's Performance section (summary, tables) to FILE,
               and the wake-up latency chart to wake-latency.svg in FILE's directory
  --svg FILE   write the wake-up latency chart (SVG) to FILE
";

/// The value of the option `flag` that `parser` just returned, as text.
fn value(parser: &mut lexopt::Parser, flag: &str) -> Result<String, String> {
    parser
        .value()
        .map_err(|_| format!("{flag} needs a value"))?
        .into_string()
        .map_err(|v| format!("{flag} needs text, got {v:?}"))
}

/// The file name given to the option `flag` that `parser` just returned.
fn file(parser: &mut lexopt::Parser, flag: &str) -> Result<PathBuf, String> {
    Ok(parser
        .value()
        .map_err(|_| format!("{flag} needs a file name"))?
        .into())
}

/// Parses the command line (without the program name); `Err("")` asks for the usage text.
fn parse_args(args: &[String]) -> Result<Opts, String> {
    use lexopt::prelude::*;
    let mut opts = Opts {
        quick: false,
        cpu: Some(0),
        sections: Section::ALL.to_vec(),
        verbose: false,
        markdown: None,
        svg: None,
    };
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next().map_err(|e| e.to_string())? {
        match arg {
            Long("quick") => opts.quick = true,
            Long("verbose") | Short('v') => opts.verbose = true,
            Long("no-pin") => opts.cpu = None,
            Long("cpu") => {
                let n = value(&mut parser, "--cpu")?;
                opts.cpu = Some(n.parse().map_err(|_| format!("bad CPU number {n:?}"))?);
            }
            Long("only") => {
                opts.sections = value(&mut parser, "--only")?
                    .split(',')
                    .map(|s| Section::parse(s).ok_or(format!("unknown section {s:?}")))
                    .collect::<Result<_, _>>()?;
            }
            Long("markdown") => opts.markdown = Some(file(&mut parser, "--markdown")?),
            Long("svg") => opts.svg = Some(file(&mut parser, "--svg")?),
            Long("help") | Short('h') => return Err(String::new()),
            other => return Err(other.unexpected().to_string()),
        }
    }
    if let (None, Some(md)) = (&opts.svg, &opts.markdown) {
        let dir = md.parent().unwrap_or(Path::new(""));
        opts.svg = Some(dir.join(chart::WAKE_FILE));
    }
    Ok(opts)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some(child::SUBCOMMAND) {
        return child::main(&args[1..]);
    }
    let mut opts = match parse_args(&args) {
        Ok(opts) => opts,
        Err(msg) => {
            if !msg.is_empty() {
                eprintln!("sigmux-bench: {msg}");
            }
            eprint!("{USAGE}");
            return ExitCode::from(if msg.is_empty() { 0 } else { 2 });
        }
    };
    if let Some(cpu) = opts.cpu.filter(|&c| !sys::cpu_allowed(c)) {
        opts.cpu = sys::first_allowed_cpu();
        eprintln!(
            "sigmux-bench: CPU {cpu} is not available here; pinning to {:?}",
            opts.cpu
        );
    }
    let started = std::time::Instant::now();
    println!("{}", report::header(&opts));
    let mut json = Map::new();
    json.insert("meta".to_string(), report::meta_json(&opts));
    let (mut tables, mut highlights) = (String::new(), Vec::new());
    for section in &opts.sections {
        let begun = std::time::Instant::now();
        let result = match section {
            Section::Handler => handler::run(&opts),
            Section::Register => register::run(&opts),
            Section::Wake => wake::run(&opts),
            Section::Flood => flood::run(&opts),
            Section::Footprint => footprint::run(&opts),
            Section::Children => children::run(&opts),
            Section::RtFlood => rt_flood::run(&opts),
        };
        for table in &result.tables {
            println!("{table}");
            tables += &format!("{table}\n");
        }
        highlights.extend(result.highlights);
        println!(
            "({} took {:.1} s)\n",
            section.name(),
            begun.elapsed().as_secs_f64()
        );
        json.insert(section.name().to_string(), result.json);
    }
    json.insert(
        "elapsed_s".to_string(),
        report::num(started.elapsed().as_secs_f64()),
    );
    println!("### Summary\n");
    for line in &highlights {
        println!("- {line}");
    }
    println!("\ntotal {:.1} s", started.elapsed().as_secs_f64());
    if let Some(path) = &opts.markdown {
        let text = report::markdown(&opts, &highlights, &tables, started.elapsed());
        if let Err(e) = std::fs::write(path, text) {
            eprintln!("sigmux-bench: cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    }
    println!("{}", Value::Object(json));
    if FAILED.load(Ordering::Relaxed) {
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Opts, String> {
        parse_args(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn options_and_their_values() {
        let o = parse(&["--quick", "--only", "wake,flood", "--cpu=1", "-v"]).unwrap();
        assert!(o.quick && o.verbose);
        assert_eq!(o.sections, [Section::Wake, Section::Flood]);
        assert_eq!(o.cpu, Some(1));
        assert_eq!(parse(&["--no-pin"]).unwrap().cpu, None);
        let o = parse(&["--svg", "a.svg"]).unwrap();
        assert_eq!((o.svg, o.markdown), (Some("a.svg".into()), None));
    }

    #[test]
    fn markdown_puts_the_chart_beside_it_unless_svg_says_where() {
        let o = parse(&["--markdown", "crates/bench/PERFORMANCE.md"]).unwrap();
        assert_eq!(o.svg, Some("crates/bench/wake-latency.svg".into()));
        let o = parse(&["--markdown", "P.md", "--svg", "x.svg"]).unwrap();
        assert_eq!(o.svg, Some("x.svg".into()));
        let o = parse(&["--markdown", "P.md"]).unwrap();
        assert_eq!(o.svg, Some("wake-latency.svg".into()));
    }

    #[test]
    fn bad_arguments_are_named_in_the_error() {
        assert_eq!(parse(&["--help"]).unwrap_err(), "");
        assert_eq!(parse(&["--bogus"]).unwrap_err(), "invalid option '--bogus'");
        assert_eq!(parse(&["--cpu"]).unwrap_err(), "--cpu needs a value");
        assert_eq!(parse(&["--cpu", "x"]).unwrap_err(), "bad CPU number \"x\"");
        assert_eq!(parse(&["--svg"]).unwrap_err(), "--svg needs a file name");
        assert_eq!(
            parse(&["--only", "wake,nope"]).unwrap_err(),
            "unknown section \"nope\""
        );
    }
}
