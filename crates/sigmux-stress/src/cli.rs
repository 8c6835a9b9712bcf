//! Command-line options of the stress program.

use std::time::Duration;

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
  --self-check        run briefly with deliberately broken receivers, actions and fd
                      handling, and succeed only if every planted fault is reported
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

/// Parses the arguments (without the program name). `Ok(None)` means help was asked for.
pub(crate) fn parse(args: impl IntoIterator<Item = String>) -> Result<Option<Config>, String> {
    let mut cfg = Config::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (key, inline) = match arg.split_once('=') {
            Some((k, v)) => (k.to_string(), Some(v.to_string())),
            None => (arg.clone(), None),
        };
        let mut value = || -> Result<String, String> {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{} needs a value", key))
        };
        let number = |v: String| -> Result<usize, String> {
            v.parse()
                .map_err(|_| format!("{} needs a number, got {:?}", key, v))
        };
        match key.as_str() {
            "--duration" => cfg.duration = parse_duration(&value()?)?,
            "--threads" => cfg.threads = number(value()?)?,
            "--children" => cfg.children = number(value()?)?,
            "--rt-burst" => cfg.rt_burst = number(value()?)?,
            "--work" => {
                cfg.work = u32::try_from(number(value()?)?).map_err(|_| "--work too large")?
            }
            "--ack-timeout" => cfg.ack_timeout = parse_duration(&value()?)?,
            "--self-check" => cfg.self_check = true,
            "--no-memory-check" => cfg.check_memory = false,
            "--inject-faults" => cfg.inject_faults = true,
            "-h" | "--help" => return Ok(None),
            other => return Err(format!("unknown option {:?}", other)),
        }
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
        assert!(parse(["--bogus".to_string()]).is_err());
        assert!(parse(["--help".to_string()]).unwrap().is_none());
    }
}
