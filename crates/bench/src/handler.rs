//! Handler overhead: thread CPU time of one `raise` with the implementation's handler
//! installed, minus the same with the floor handler (a bare `sigaction` handler that
//! increments an atomic).
//!
//! The kernel's delivery work (about 3 µs here) dwarfs the handlers' own cost, so the two
//! are paired inside one child: the implementation listens on `SIGUSR1`, the floor handler
//! on `SIGUSR2`, and blocks of raises alternate between them (ABBA order, to cancel
//! drift). The overhead of a child is the median of its per-block differences.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;

use libc::{SIGUSR1, SIGUSR2};

use serde_json::{json, Value};

use crate::child::{self, arg, imp_arg};
use crate::imp::Imp;
use crate::registry::{self, Registry};
use crate::report::{self, num, SectionResult, Table};
use crate::stats::{median, ratios, Spread};
use crate::{sys, Opts};

/// (implementation, number of actions on the signal), in table order.
const CONFIGS: [(Imp, usize); 9] = [
    (Imp::Raw, 1),
    (Imp::HookRegistry, 1),
    (Imp::SigmuxRegistry, 1),
    (Imp::HookRegistry, 10),
    (Imp::SigmuxRegistry, 10),
    (Imp::HookRegistry, 100),
    (Imp::SigmuxRegistry, 100),
    (Imp::HookFlag, 1),
    (Imp::SigmuxFlag, 1),
];

/// Per-round results of one configuration.
#[derive(Debug, Default)]
struct Rounds {
    floor: Vec<f64>,
    imp: Vec<f64>,
    overhead: Vec<f64>,
    error: Option<String>,
}

pub(crate) fn run(opts: &Opts) -> SectionResult {
    let (rounds, blocks, per_block) = if opts.quick {
        (1, 4, 300)
    } else {
        (8, 16, 2000)
    };
    let configs: Vec<(Imp, usize)> = CONFIGS.to_vec();
    let runs = child::Runs::interleaved(opts, rounds, configs.len(), |i| {
        let (imp, actions) = configs[i];
        child::args(&[&"handler", &imp.name(), &actions, &blocks, &per_block])
    });
    let results: Vec<Rounds> = (0..configs.len())
        .map(|i| Rounds {
            floor: runs.series(i, 0),
            imp: runs.series(i, 1),
            overhead: runs.series(i, 2),
            error: runs.error(i),
        })
        .collect();
    // The normalised cost of each row: its per-raise time over its paired floor's.
    let norm: Vec<f64> = results
        .iter()
        .map(|r| median(&r.imp) / median(&r.floor))
        .collect();
    let mut table = Table::new(
        "Handler overhead per raise (thread CPU time, paired with a raw handler)",
        vec![
            "implementation",
            "actions",
            "floor ns/raise",
            "ns/raise",
            "overhead: median (range)",
            "vs floor",
            "overhead vs best peer",
        ],
    );
    let mut json = Vec::new();
    for (i, ((imp, actions), r)) in configs.iter().zip(&results).enumerate() {
        let same_n: Vec<(Imp, &[f64])> = configs
            .iter()
            .zip(&results)
            .filter(|((_, n), _)| n == actions)
            .map(|((i, _), o)| (*i, o.overhead.as_slice()))
            .collect();
        let peer = report::best_peer_series(*imp, &same_n);
        let vs_peer = Spread::of(&ratios(&r.overhead, &peer));
        let over = Spread::of(&r.overhead);
        let over_text = report::ns_spread(over, r.error.as_ref());
        table.rows.push(vec![
            imp.name().to_string(),
            actions.to_string(),
            report::ns(median(&r.floor)),
            report::ns(median(&r.imp)),
            over_text,
            report::ratio(norm[i]),
            report::spread(vs_peer),
        ]);
        json.push(json!({
            "impl": imp.name(),
            "actions": actions,
            "floor_ns": num(median(&r.floor)),
            "ns": num(median(&r.imp)),
            "overhead_ns": report::spread_json(over),
            "vs_floor": num(norm[i]),
            "overhead_vs_best_peer": report::spread_json(vs_peer),
            "error": r.error,
        }));
    }
    table.notes.push(format!(
        "{rounds} round(s) of fresh pinned children, {blocks} blocks of {per_block} raises per \
         side each. Overhead = implementation minus the raw handler in the same child; \
         `raw-sigaction` against itself shows the noise. \"vs floor\" is the per-raise time \
         over the paired floor's; \"overhead vs best peer\" divides the overheads of the same \
         round at the same number of actions (median, and min–max over rounds)."
    ));
    let over = |imp: Imp, n: usize| {
        configs
            .iter()
            .position(|c| *c == (imp, n))
            .map_or(f64::NAN, |i| median(&results[i].overhead))
    };
    let list = |imp: Imp, ns: &[usize]| {
        let parts: Vec<String> = ns.iter().map(|&n| report::ns(over(imp, n))).collect();
        parts.join(" / ")
    };
    let highlight = format!(
        "Handler overhead over a raw handler (whose raise costs {} of kernel delivery), per \
         raise, with 1 / 10 / 100 actions: sigmux-registry {}, signal-hook-registry {}; flag: \
         sigmux {}, signal-hook {}.",
        report::ns(median(
            &results
                .iter()
                .flat_map(|r| r.floor.clone())
                .collect::<Vec<_>>()
        )),
        list(Imp::SigmuxRegistry, &[1, 10, 100]),
        list(Imp::HookRegistry, &[1, 10, 100]),
        list(Imp::SigmuxFlag, &[1]),
        list(Imp::HookFlag, &[1]),
    );
    SectionResult {
        tables: vec![table],
        json: Value::Array(json),
        highlights: vec![highlight],
    }
}

/// Runs of every registered action.
static ACTION_HITS: AtomicUsize = AtomicUsize::new(0);

/// The registered action: one atomic add (async-signal-safe).
fn bump() {
    ACTION_HITS.fetch_add(1, Relaxed);
}

fn add_actions<R: Registry>(count: usize) -> io::Result<()> {
    for _ in 0..count {
        // SAFETY: `bump` only increments an atomic: async-signal-safe.
        unsafe { R::register(SIGUSR1, bump) }?;
    }
    Ok(())
}

/// Per-raise thread CPU time of `count` raises of `signal`.
fn per_raise(signal: libc::c_int, count: usize) -> f64 {
    let start = sys::thread_cpu_ns();
    for _ in 0..count {
        sys::raise(signal);
    }
    (sys::thread_cpu_ns() - start) as f64 / count as f64
}

/// Child: `IMPL ACTIONS BLOCKS PER_BLOCK` → `[floor ns, impl ns, overhead ns]`.
pub(crate) fn child(args: &[String]) -> io::Result<Vec<f64>> {
    let imp = imp_arg(args, 0)?;
    let actions: usize = arg(args, 1)?;
    let blocks: usize = arg(args, 2)?;
    let per_block: usize = arg(args, 3)?;
    sys::install_raw(SIGUSR2)?;
    let flag = Arc::new(AtomicBool::new(false));
    match imp {
        Imp::Raw => sys::install_raw(SIGUSR1)?,
        Imp::HookRegistry => add_actions::<registry::Hook>(actions)?,
        Imp::SigmuxRegistry => add_actions::<registry::Sigmux>(actions)?,
        Imp::HookFlag | Imp::SigmuxFlag => registry::register_flag(imp, SIGUSR1, &flag)?,
        _ => return Err(io::Error::other(format!("{} has no handler", imp.name()))),
    }
    let warm = per_block / 2;
    per_raise(SIGUSR1, warm);
    per_raise(SIGUSR2, warm);
    let (mut floor, mut mine, mut diff) = (Vec::new(), Vec::new(), Vec::new());
    for b in 0..blocks {
        let (f, m) = if b % 2 == 0 {
            let f = per_raise(SIGUSR2, per_block);
            (f, per_raise(SIGUSR1, per_block))
        } else {
            let m = per_raise(SIGUSR1, per_block);
            (per_raise(SIGUSR2, per_block), m)
        };
        floor.push(f);
        mine.push(m);
        diff.push(m - f);
    }
    let raises = warm + blocks * per_block;
    let seen = match imp {
        Imp::Raw => sys::RAW_HITS[SIGUSR1 as usize].load(Relaxed),
        Imp::HookFlag | Imp::SigmuxFlag => usize::from(flag.load(Relaxed)) * raises,
        _ => ACTION_HITS.load(Relaxed) / actions.max(1),
    };
    if seen != raises {
        return Err(io::Error::other(format!(
            "{}: handler ran {seen} times for {raises} raises",
            imp.name()
        )));
    }
    Ok(vec![median(&floor), median(&mine), median(&diff)])
}
