//! Command-line options of the stress program (parsed by `lexopt`: `--flag value`,
//! `--flag=value`, and clear errors for anything else).

use std::fmt::Display;
use std::str::FromStr;
use std::time::Duration;

use lexopt::prelude::*;

/// The parts of a run, as `--only`, `--skip` and `--xfail` name them: the flood, then the
/// attack shapes (`src/shapes`).
pub(crate) const PARTS: [&str; 5] = [
    "flood",
    "nested-restore",
    "fork-iterator-churn",
    "close-after-drop",
    "chained-flags",
];

pub(crate) const USAGE: &str = "\
usage: sigmux-stress [options]

  --duration D        how long to send signals (e.g. 10s, 500ms, 2m; default 10s)
  --threads N         sender threads in this process (default 2)
  --children N        sender child processes (default 2)
  --rt-burst N        real-time signals queued per sender round (default 8)
  --work N            busy-work iterations per wake-up in each receiver (default 200)
  --ack-timeout D     how long a sender waits for the wake-up that must observe its
                      sequence number before counting it as missed (default 5s)
  --no-memory-check   print resident memory but do not check it (sanitizer runs: their
                      quarantine and shadow memory grow it by design)
  --only LIST         run only these parts (comma-separated, repeatable): `flood` (the
                      signal flood with churners) and the attack shapes `nested-restore`,
                      `fork-iterator-churn`, `close-after-drop`, `chained-flags`
  --skip LIST         run everything but these parts
  --xfail LIST        parts with a known, unfixed bug: their violations are reported but do
                      not fail the run; such a part that passes fails the run (XPASS), so
                      the list is shortened when a fix lands
  --self-check        run briefly with deliberately broken receivers, actions and fd
                      handling, and each shape as its negative control (attack left out,
                      a fault planted), and succeed only if every planted fault is reported
  --inject-faults     (what --self-check uses) plant the faults in a normal run
  -h, --help          this text

Exit status: 0 if every check held, 1 if any was violated, 2 for bad usage.";

/// What the program was asked to do.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub(crate) duration: Duration,
    pub(crate) threads: usize,
    pub(crate) children: usize,
    pub(crate) rt_burst: usize,
    pub(crate) work: u32,
    pub(crate) ack_timeout: Duration,
    pub(crate) self_check: bool,
    pub(crate) inject_faults: bool,
    pub(crate) check_memory: bool,
    /// Per entry of [`PARTS`]: whether it runs.
    pub(crate) selected: [bool; PARTS.len()],
    /// Per entry of [`PARTS`]: whether its violations are expected (a known bug).
    pub(crate) xfail: [bool; PARTS.len()],
}

impl Config {
    /// Whether the part `name` runs.
    pub(crate) fn runs(&self, name: &str) -> bool {
        PARTS
            .iter()
            .position(|p| *p == name)
            .is_some_and(|i| self.selected[i])
    }

    /// Whether the part `name` is expected to fail.
    pub(crate) fn expects_failure(&self, name: &str) -> bool {
        PARTS
            .iter()
            .position(|p| *p == name)
            .is_some_and(|i| self.xfail[i])
    }
}

/// Parses a comma-separated list of part names into flags.
fn parts(list: &str) -> Result<[bool; PARTS.len()], String> {
    let mut set = [false; PARTS.len()];
    for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let i = PARTS
            .iter()
            .position(|p| *p == name)
            .ok_or_else(|| format!("unknown part {:?} (known: {})", name, PARTS.join(", ")))?;
        set[i] = true;
    }
    Ok(set)
}

impl Default for Config {
    fn default() -> Self {
        Config {
            duration: Duration::from_secs(10),
            threads: 2,
            children: 2,
            rt_burst: 8,
            work: 200,
            ack_timeout: Duration::from_secs(5),
            self_check: false,
            inject_faults: false,
            check_memory: true,
            selected: [true; PARTS.len()],
            xfail: [false; PARTS.len()],
        }
    }
}

/// Parses `10s`, `250ms`, `2m`, `1h` or a bare number of seconds.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("bad duration {:?}", text))?;
    Ok(match unit {
        "" | "s" => Duration::from_secs(n),
        "ms" => Duration::from_millis(n),
        "m" | "min" => Duration::from_secs(n * 60),
        "h" => Duration::from_secs(n * 3600),
        _ => return Err(format!("bad duration unit in {:?}", text)),
    })
}

/// The value of the option `flag` that `parser` just returned, as text.
fn value(parser: &mut lexopt::Parser, flag: &str) -> Result<String, String> {
    parser
        .value()
        .map_err(|_| format!("{} needs a value", flag))?
        .into_string()
        .map_err(|v| format!("{} needs text, got {:?}", flag, v))
}

/// The value of the option `flag` as a number.
fn number<T>(parser: &mut lexopt::Parser, flag: &str) -> Result<T, String>
where
    T: FromStr,
    T::Err: Display,
{
    let v = value(parser, flag)?;
    v.parse()
        .map_err(|e| format!("{} needs a number, got {:?} ({})", flag, v, e))
}

/// Parses the arguments (without the program name). `Ok(None)` means help was asked for.
pub(crate) fn parse(args: impl IntoIterator<Item = String>) -> Result<Option<Config>, String> {
    let mut cfg = Config::default();
    let mut parser = lexopt::Parser::from_args(args);
    let (mut only, mut skip) = (None::<[bool; PARTS.len()]>, [false; PARTS.len()]);
    let merge = |a: &mut [bool; PARTS.len()], b: [bool; PARTS.len()]| {
        for (x, y) in a.iter_mut().zip(b) {
            *x |= y;
        }
    };
    while let Some(arg) = parser.next().map_err(|e| e.to_string())? {
        match arg {
            Long("duration") => cfg.duration = parse_duration(&value(&mut parser, "--duration")?)?,
            Long("threads") => cfg.threads = number(&mut parser, "--threads")?,
            Long("children") => cfg.children = number(&mut parser, "--children")?,
            Long("rt-burst") => cfg.rt_burst = number(&mut parser, "--rt-burst")?,
            Long("work") => cfg.work = number(&mut parser, "--work")?,
            Long("ack-timeout") => {
                cfg.ack_timeout = parse_duration(&value(&mut parser, "--ack-timeout")?)?
            }
            Long("only") => merge(
                only.get_or_insert([false; PARTS.len()]),
                parts(&value(&mut parser, "--only")?)?,
            ),
            Long("skip") => merge(&mut skip, parts(&value(&mut parser, "--skip")?)?),
            Long("xfail") => merge(&mut cfg.xfail, parts(&value(&mut parser, "--xfail")?)?),
            Long("self-check") => cfg.self_check = true,
            Long("no-memory-check") => cfg.check_memory = false,
            Long("inject-faults") => cfg.inject_faults = true,
            Short('h') | Long("help") => return Ok(None),
            other => return Err(other.unexpected().to_string()),
        }
    }
    let only = only.unwrap_or([true; PARTS.len()]);
    for (i, run) in cfg.selected.iter_mut().enumerate() {
        *run = only[i] && !skip[i];
    }
    if !cfg.selected.iter().any(|&r| r) {
        return Err("--only/--skip leave nothing to run".into());
    }
    if cfg.threads + cfg.children == 0 {
        return Err("need at least one sender (--threads or --children)".into());
    }
    Ok(Some(cfg))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10s").unwrap(), Duration::from_secs(10));
        assert_eq!(parse_duration("7").unwrap(), Duration::from_secs(7));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert!(parse_duration("x").is_err());
        assert!(parse_duration("5y").is_err());
    }

    #[test]
    fn options() {
        let cfg = parse(
            ["--duration=3s", "--threads", "1", "--children", "0"]
                .iter()
                .map(|s| s.to_string()),
        )
        .unwrap()
        .unwrap();
        assert_eq!(cfg.duration, Duration::from_secs(3));
        assert_eq!((cfg.threads, cfg.children), (1, 0));
        assert!(parse(["--help".to_string()]).unwrap().is_none());
        assert!(parse(["-h".to_string()]).unwrap().is_none());
    }

    #[test]
    fn bad_arguments_are_named_in_the_error() {
        let err = |a: &[&str]| parse(a.iter().map(|s| s.to_string())).unwrap_err();
        assert_eq!(err(&["--bogus"]), "invalid option '--bogus'");
        assert_eq!(err(&["stray"]), "unexpected argument \"stray\"");
        assert_eq!(err(&["--threads"]), "--threads needs a value");
        assert_eq!(
            err(&["--threads", "two"]),
            "--threads needs a number, got \"two\" (invalid digit found in string)"
        );
        assert!(err(&["--work=99999999999"]).starts_with("--work needs a number"));
        assert_eq!(err(&["--duration", "5y"]), "bad duration unit in \"5y\"");
        assert_eq!(
            err(&["--self-check=yes"]),
            "unexpected argument for option '--self-check': \"yes\""
        );
        assert!(err(&["--only", "bogus"]).starts_with("unknown part \"bogus\""));
    }

    #[test]
    fn part_selection() {
        let args = |a: &[&str]| parse(a.iter().map(|s| s.to_string()));
        let all = args(&[]).unwrap().unwrap();
        assert!(PARTS.iter().all(|p| all.runs(p) && !all.expects_failure(p)));
        let only = args(&["--only", "nested-restore,chained-flags"])
            .unwrap()
            .unwrap();
        assert!(only.runs("nested-restore") && only.runs("chained-flags"));
        assert!(!only.runs("flood") && !only.runs("close-after-drop"));
        let skip = args(&["--skip=flood", "--skip", "close-after-drop"])
            .unwrap()
            .unwrap();
        assert!(!skip.runs("flood") && !skip.runs("close-after-drop"));
        assert!(skip.runs("fork-iterator-churn"));
        let xfail = args(&["--xfail", "fork-iterator-churn"]).unwrap().unwrap();
        assert!(xfail.runs("fork-iterator-churn") && xfail.expects_failure("fork-iterator-churn"));
        assert!(args(&["--only", "bogus"]).is_err());
        assert!(args(&["--only", "flood", "--skip", "flood"]).is_err());
    }
}
