//! Registration cost: thread CPU time of one `register` + `unregister` pair on `SIGUSR1`
//! with 0, 100, 1,000 or 10,000 actions already present, either on the same signal or
//! spread over eight other signals. Each configuration runs in a fresh pinned child.

use std::io;

use libc::c_int;

use serde_json::{json, Value};

use crate::child::{self, arg, imp_arg};
use crate::imp::Imp;
use crate::registry::{self, Registry};
use crate::report::{self, num, SectionResult, Table};
use crate::stats::{median, ratios, Spread};
use crate::{sys, Opts};

/// Where the already-present actions sit.
const PLACEMENTS: [&str; 2] = ["same", "other"];

/// Signals that carry the "other signals" actions (never raised).
const OTHERS: [c_int; 8] = [
    libc::SIGUSR2,
    libc::SIGWINCH,
    libc::SIGURG,
    libc::SIGHUP,
    libc::SIGPIPE,
    libc::SIGPROF,
    libc::SIGVTALRM,
    libc::SIGIO,
];

const IMPS: [Imp; 2] = [Imp::HookRegistry, Imp::SigmuxRegistry];

/// sigmux's targets (issue 6): per pair at 1,000 on the same signal, and the largest
/// allowed growth from 1,000 to 10,000.
const TARGET_1000_NS: f64 = 1500.0;
const TARGET_GROWTH: f64 = 2.0;

#[derive(Debug, Clone)]
struct Config {
    present: usize,
    placement: &'static str,
    imp: Imp,
}

pub(crate) fn run(opts: &Opts) -> SectionResult {
    let (rounds, budget_ms, sizes): (usize, u64, &[usize]) = if opts.quick {
        (1, 10, &[0, 100, 1000])
    } else {
        (3, 100, &[0, 100, 1000, 10_000])
    };
    let mut configs = Vec::new();
    for &present in sizes {
        for placement in PLACEMENTS {
            if present == 0 && placement == "other" {
                continue;
            }
            for imp in IMPS {
                configs.push(Config {
                    present,
                    placement,
                    imp,
                });
            }
        }
    }
    let runs = child::Runs::interleaved(opts, rounds, configs.len(), |i| {
        let c = &configs[i];
        child::args(&[
            &"register",
            &c.imp.name(),
            &c.present,
            &c.placement,
            &budget_ms,
        ])
    });
    let per_pair: Vec<Vec<f64>> = (0..configs.len()).map(|i| runs.series(i, 0)).collect();
    let errors: Vec<Option<String>> = (0..configs.len()).map(|i| runs.error(i)).collect();
    // The same implementation with nothing present: this section's floor.
    let empty = |imp: Imp| -> Vec<f64> {
        configs
            .iter()
            .position(|c| c.present == 0 && c.imp == imp)
            .map_or_else(|| vec![f64::NAN; rounds], |i| per_pair[i].clone())
    };
    let mut table = Table::new(
        "Registration cost: one register + unregister pair (thread CPU time)",
        vec![
            "actions present",
            "on",
            "implementation",
            "per pair: median (range)",
            "vs 0 present",
            "vs best peer",
        ],
    );
    let mut json = Vec::new();
    for (i, c) in configs.iter().enumerate() {
        let same: Vec<(Imp, &[f64])> = configs
            .iter()
            .zip(&per_pair)
            .filter(|(o, _)| o.present == c.present && o.placement == c.placement)
            .map(|(o, v)| (o.imp, v.as_slice()))
            .collect();
        let peers = report::best_peer_series(c.imp, &same);
        let s = Spread::of(&per_pair[i]);
        let vs_empty = Spread::of(&ratios(&per_pair[i], &empty(c.imp)));
        let vs_peer = Spread::of(&ratios(&per_pair[i], &peers));
        let cost = report::ns_spread(s, errors[i].as_ref());
        table.rows.push(vec![
            report::count(c.present),
            format!("{} signal", c.placement),
            c.imp.name().to_string(),
            cost,
            report::ratio(vs_empty.med),
            report::spread(vs_peer),
        ]);
        json.push(json!({
            "impl": c.imp.name(),
            "present": c.present,
            "placement": c.placement,
            "ns_per_pair": report::spread_json(s),
            "vs_empty": num(vs_empty.med),
            "vs_best_peer": report::spread_json(vs_peer),
            "error": errors[i],
        }));
    }
    table.notes.push(format!(
        "{rounds} round(s) of fresh pinned children, each timing blocks of pairs for about \
         {budget_ms} ms of CPU; the range is over rounds. \"other signal\": the actions sit \
         on eight other signals, none on SIGUSR1."
    ));
    let list = |imp: Imp| {
        let parts: Vec<String> = sizes
            .iter()
            .map(|&n| {
                configs
                    .iter()
                    .position(|c| c.imp == imp && c.present == n && c.placement == "same")
                    .map_or(f64::NAN, |i| median(&per_pair[i]))
            })
            .map(report::ns)
            .collect();
        parts.join(" / ")
    };
    let sizes_text: Vec<String> = sizes.iter().map(|n| report::count(*n)).collect();
    let mut highlights = vec![format!(
        "Register + unregister with {} actions already on the signal: sigmux-registry {}, \
         signal-hook-registry {}.",
        sizes_text.join(" / "),
        list(Imp::SigmuxRegistry),
        list(Imp::HookRegistry),
    )];
    if let Some(line) = target_check(&configs, &per_pair) {
        table.notes.push(line.clone());
        highlights.push(line);
    }
    SectionResult {
        tables: vec![table],
        json: Value::Array(json),
        highlights,
    }
}

/// States whether sigmux meets its registration targets in this run.
fn target_check(configs: &[Config], per_pair: &[Vec<f64>]) -> Option<String> {
    let at = |present: usize| {
        configs
            .iter()
            .position(|c| {
                c.imp == Imp::SigmuxRegistry && c.present == present && c.placement == "same"
            })
            .map(|i| median(&per_pair[i]))
    };
    let k1 = at(1000)?;
    let mut line = format!(
        "Targets for sigmux-registry (same signal): ≤ {} per pair at 1,000 — {} ({})",
        report::ns(TARGET_1000_NS),
        if k1 <= TARGET_1000_NS {
            "met"
        } else {
            "NOT met"
        },
        report::ns(k1)
    );
    if let Some(k10) = at(10_000) {
        line += &format!(
            "; 10,000 within {TARGET_GROWTH}× of 1,000 — {} ({})",
            if k10 <= TARGET_GROWTH * k1 {
                "met"
            } else {
                "NOT met"
            },
            report::ratio(k10 / k1)
        );
    }
    Some(line + ".")
}

/// The registered action: does nothing (async-signal-safe).
fn noop() {}

/// CPU time of `pairs` register + unregister pairs on `SIGUSR1`.
fn time_pairs<R: Registry>(pairs: usize) -> io::Result<u64> {
    let start = sys::thread_cpu_ns();
    for _ in 0..pairs {
        // SAFETY: `noop` does nothing: async-signal-safe.
        let id = unsafe { R::register(libc::SIGUSR1, noop) }?;
        if !R::unregister(id) {
            return Err(io::Error::other("unregister returned false"));
        }
    }
    Ok(sys::thread_cpu_ns() - start)
}

fn measure<R: Registry>(present: usize, same: bool, budget_ns: u64) -> io::Result<Vec<f64>> {
    let setup = sys::mono_ns();
    for i in 0..present {
        let signal = if same {
            libc::SIGUSR1
        } else {
            OTHERS[i % OTHERS.len()]
        };
        // SAFETY: `noop` does nothing: async-signal-safe.
        unsafe { R::register(signal, noop) }?;
    }
    let setup_ms = (sys::mono_ns() - setup) as f64 / 1e6;
    // Warm up and find a block size of about a millisecond.
    let mut pairs = 1;
    while time_pairs::<R>(pairs)? < 1_000_000 && pairs < 1 << 16 {
        pairs *= 2;
    }
    let mut per_pair = Vec::new();
    let mut spent = 0;
    while (spent < budget_ns || per_pair.len() < 5) && per_pair.len() < 1000 {
        let t = time_pairs::<R>(pairs)?;
        spent += t;
        per_pair.push(t as f64 / pairs as f64);
    }
    Ok(vec![median(&per_pair), setup_ms])
}

/// Child: `IMPL PRESENT same|other BUDGET_MS` → `[ns per pair, setup ms]`.
pub(crate) fn child(args: &[String]) -> io::Result<Vec<f64>> {
    let imp = imp_arg(args, 0)?;
    let present: usize = arg(args, 1)?;
    let placement: String = arg(args, 2)?;
    let budget_ns = arg::<u64>(args, 3)? * 1_000_000;
    let same = placement == "same";
    match imp {
        Imp::HookRegistry => measure::<registry::Hook>(present, same, budget_ns),
        Imp::SigmuxRegistry => measure::<registry::Sigmux>(present, same, budget_ns),
        _ => Err(io::Error::other(format!(
            "{} is not a registry",
            imp.name()
        ))),
    }
}
