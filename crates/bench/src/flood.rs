//! Floods: a burst of `SIGUSR1` raised on the consumer's own thread with one `SIGUSR2` in
//! the middle, all before the consumer looks. Then everything reported is drained. Does
//! the odd signal survive, and how many `SIGUSR1` reports come out? A lossless-by-kind
//! implementation reports SIGUSR2 once and SIGUSR1 at least once.

use std::io;
use std::time::Duration;

use libc::{SIGUSR1, SIGUSR2};

use serde_json::{json, Value};

use crate::alloc::Meter;
use crate::child::{self, arg, imp_arg};
use crate::imp::Imp;
use crate::receiver;
use crate::report::{self, num, SectionResult, Table};
use crate::{sys, Opts};

/// How long a drain waits for one more report before it concludes there is none.
const IDLE_MS: u64 = 200;

pub(crate) fn run(opts: &Opts) -> SectionResult {
    let count: usize = if opts.quick { 20_000 } else { 200_000 };
    let mut table = Table::new(
        format!(
            "Flood: {} × SIGUSR1 with one SIGUSR2 in the middle, before the consumer looks",
            report::count(count)
        ),
        vec![
            "implementation",
            "SIGUSR2 reported",
            "SIGUSR1 reports",
            "raise cost per signal",
            "drain time",
        ],
    );
    let mut json = Vec::new();
    let (mut kept, mut lost) = (Vec::new(), Vec::new());
    for imp in Imp::listeners().filter(|i| !matches!(i, Imp::Futex | Imp::RawPipe | Imp::RawFutex))
    {
        let args = child::args(&[&"flood", &imp.name(), &count]);
        let (row, value) = match child::run(opts, &args) {
            Ok(v) if v.len() == 4 => {
                if v[0] > 0.0 {
                    kept.push(imp.name());
                } else {
                    lost.push(format!("{} ({} SIGUSR1 reports)", imp.name(), v[1]));
                }
                (
                    vec![
                        imp.name().to_string(),
                        if v[0] > 0.0 {
                            format!("yes ({})", v[0])
                        } else {
                            "NO".to_string()
                        },
                        format!("{}", v[1]),
                        report::ns(v[2]),
                        format!("{:.1} ms", v[3]),
                    ],
                    json!({
                        "impl": imp.name(),
                        "usr2_reports": num(v[0]),
                        "usr1_reports": num(v[1]),
                        "raise_ns": num(v[2]),
                        "drain_ms": num(v[3]),
                    }),
                )
            }
            other => {
                let why = format!("{other:?}");
                (
                    vec![
                        imp.name().to_string(),
                        format!("failed: {why}"),
                        String::new(),
                        String::new(),
                        String::new(),
                    ],
                    json!({ "impl": imp.name(), "error": why }),
                )
            }
        };
        table.rows.push(row);
        json.push(value);
    }
    table.notes.push(format!(
        "One fresh pinned child per implementation. The raises run on the consumer's thread \
         while it is not polling; the drain then collects reports until none comes for \
         {IDLE_MS} ms (async) or nothing is pending (blocking). signalfd is the kernel's own \
         coalescing, for reference."
    ));
    let highlight = format!(
        "Flood of {} SIGUSR1 with one SIGUSR2 in the middle: SIGUSR2 reported by {}; \
         lost by {}.",
        report::count(count),
        kept.join(", "),
        if lost.is_empty() {
            "none".to_string()
        } else {
            lost.join(", ")
        },
    );
    SectionResult {
        tables: vec![table],
        json: Value::Array(json),
        highlights: vec![highlight],
    }
}

/// Child: `IMPL COUNT` → `[SIGUSR2 reports, SIGUSR1 reports, ns per raise, drain ms]`.
pub(crate) fn child(args: &[String]) -> io::Result<Vec<f64>> {
    let imp = imp_arg(args, 0)?;
    let count: usize = arg(args, 1)?;
    let signals = [SIGUSR1, SIGUSR2];
    receiver::prepare_process(imp, &signals)?;
    let mut rx = receiver::open(imp, &signals, &mut Meter::off())?;
    let start = sys::mono_ns();
    for i in 0..count {
        if i == count / 2 {
            sys::raise(SIGUSR2);
        }
        sys::raise(SIGUSR1);
    }
    let raised = sys::mono_ns();
    let got = rx.drain(Duration::from_millis(IDLE_MS))?;
    let drained = sys::mono_ns();
    let of = |s| got.iter().filter(|&&g| g == s).count() as f64;
    Ok(vec![
        of(SIGUSR2),
        of(SIGUSR1),
        (raised - start) as f64 / count as f64,
        (drained - raised) as f64 / 1e6,
    ])
}
