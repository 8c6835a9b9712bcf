//! Wake-up latency: the main thread of a fresh, pinned child sends `SIGUSR1` to its own
//! process (so the handler runs on the sending thread) while a second thread waits on the
//! implementation; the floor is a futex unpark with no signal at all.
//!
//! * one-way: from just before `kill` to the moment the waiting code sees the signal;
//! * round trip: from just before `kill` until the sender sees the receiver's
//!   acknowledgement, sent back by unparking the sender (a futex wake).
//!
//! The sender waits for each acknowledgement before the next signal, so nothing
//! coalesces. Every round runs each implementation once, in rotated order; the tables show
//! the median over rounds of each child's p50/p99 and the per-round ratio ranges.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use libc::SIGUSR1;

use crate::alloc::Meter;
use crate::child::{self, arg, imp_arg};
use crate::imp::{Imp, Role};
use serde_json::{Map, Value};

use crate::receiver::{self, FUTEX_GO};
use crate::report::{self, SectionResult, Table};
use crate::stats::{median, quantile, ratios, Spread};
use crate::{sys, Opts};

/// What each child reports, in order.
const METRICS: [&str; 4] = [
    "one_way_p50",
    "one_way_p99",
    "round_trip_p50",
    "round_trip_p99",
];

pub(crate) fn run(opts: &Opts) -> SectionResult {
    let (rounds, iters, warm) = if opts.quick {
        (2, 200, 50)
    } else {
        (30, 3000, 300)
    };
    let imps: Vec<Imp> = Imp::listeners().collect();
    let runs = child::Runs::interleaved(opts, rounds, imps.len(), |i| {
        child::args(&[&"wake", &imps[i].name(), &iters, &warm])
    });
    // values[imp][metric][round]; NaN for a failed child.
    let values: Vec<Vec<Vec<f64>>> = (0..imps.len())
        .map(|i| (0..METRICS.len()).map(|m| runs.series(i, m)).collect())
        .collect();
    let errors: Vec<Option<String>> = (0..imps.len()).map(|i| runs.error(i)).collect();
    let note = format!(
        "{rounds} rounds × {iters} wake-ups (after {warm} warm-up) per implementation, each \
         in a fresh child pinned to one CPU. Ratios are per round (median, and min–max over \
         rounds) to the futex floor and to the best peer of the same kind in the same round."
    );
    let tables = vec![
        table(&imps, &values, &errors, "one-way", 0, note.clone()),
        table(
            &imps,
            &values,
            &errors,
            "round trip (signal out, futex acknowledgement back)",
            2,
            note,
        ),
    ];
    let json = imps
        .iter()
        .zip(&values)
        .zip(&errors)
        .map(|((imp, v), err)| {
            let mut pairs = Map::new();
            pairs.insert("impl".to_string(), imp.name().into());
            for (m, name) in METRICS.iter().enumerate() {
                pairs.insert(format!("{name}_ns"), report::num(median(&v[m])));
                let floor = &values[0][m];
                pairs.insert(
                    format!("{name}_vs_floor"),
                    report::spread_json(Spread::of(&ratios(&v[m], floor))),
                );
                let peer = best_peer_per_round(*imp, &imps, &values, m);
                pairs.insert(
                    format!("{name}_vs_best_peer"),
                    report::spread_json(Spread::of(&ratios(&v[m], &peer))),
                );
            }
            pairs.insert("error".to_string(), err.clone().into());
            Value::Object(pairs)
        })
        .collect();
    let raw_median = |raw: Imp, m: usize| {
        imps.iter()
            .position(|i| *i == raw)
            .map_or("–".to_string(), |k| report::ns(median(&values[k][m])))
    };
    let highlights = [(0, "One-way"), (2, "Round-trip")]
        .iter()
        .map(|&(m, what)| {
            let parts: Vec<String> = imps
                .iter()
                .enumerate()
                .filter(|(_, i)| i.role() == Role::Sigmux)
                .map(|(k, imp)| {
                    let peer = best_peer_per_round(*imp, &imps, &values, m);
                    // The blocking iterator's own baselines are the hand-written patterns it
                    // replaces: give its paired per-round ratios to them too.
                    let vs_raw: String = [Imp::RawPipe, Imp::RawFutex]
                        .iter()
                        .filter(|_| *imp == Imp::SigmuxIter)
                        .filter_map(|raw| {
                            let p = imps.iter().position(|i| i == raw)?;
                            Some(format!(
                                ", {} the {}",
                                report::spread(Spread::of(&ratios(&values[k][m], &values[p][m]))),
                                raw.name(),
                            ))
                        })
                        .collect();
                    format!(
                        "{} {} ({} the floor, {} the best peer{})",
                        imp.name(),
                        report::ns(median(&values[k][m])),
                        report::ratio(Spread::of(&ratios(&values[k][m], &values[0][m])).med),
                        report::ratio(Spread::of(&ratios(&values[k][m], &peer)).med),
                        vs_raw,
                    )
                })
                .collect();
            format!(
                "{what} wake-up p50: {}; floor (futex) {}, raw self-pipe {}, raw futex handler {}.",
                parts.join("; "),
                report::ns(median(&values[0][m])),
                raw_median(Imp::RawPipe, m),
                raw_median(Imp::RawFutex, m),
            )
        })
        .collect();
    SectionResult {
        tables,
        json: Value::Array(json),
        highlights,
    }
}

/// Per round, the best peer value of `imp`'s group for metric `m` (NaN if none).
fn best_peer_per_round(imp: Imp, imps: &[Imp], values: &[Vec<Vec<f64>>], m: usize) -> Vec<f64> {
    let rows: Vec<(Imp, &[f64])> = imps
        .iter()
        .zip(values)
        .map(|(i, v)| (*i, v[m].as_slice()))
        .collect();
    report::best_peer_series(imp, &rows)
}

fn table(
    imps: &[Imp],
    values: &[Vec<Vec<f64>>],
    errors: &[Option<String>],
    what: &str,
    m: usize,
    note: String,
) -> Table {
    let mut t = Table::new(
        format!("Wake-up latency, {what}"),
        vec![
            "implementation",
            "p50",
            "p99",
            "p50 vs floor",
            "p50 vs best peer",
            "p99 vs floor",
        ],
    );
    let floor = &values[0];
    for (i, imp) in imps.iter().enumerate() {
        let v = &values[i];
        let peer = best_peer_per_round(*imp, imps, values, m);
        let mut row = vec![
            imp.name().to_string(),
            report::ns(median(&v[m])),
            report::ns(median(&v[m + 1])),
            report::spread(Spread::of(&ratios(&v[m], &floor[m]))),
            report::spread(Spread::of(&ratios(&v[m], &peer))),
            report::spread(Spread::of(&ratios(&v[m + 1], &floor[m + 1]))),
        ];
        if let Some(e) = &errors[i] {
            row[0] = format!("{} (failed: {e})", imp.name());
        }
        t.rows.push(row);
    }
    t.notes.push(note);
    t
}

/// Child: `IMPL ITERS WARM` → `[one-way p50, p99, round-trip p50, p99]` in ns.
pub(crate) fn child(args: &[String]) -> io::Result<Vec<f64>> {
    let imp = imp_arg(args, 0)?;
    let iters: usize = arg(args, 1)?;
    let warm: usize = arg(args, 2)?;
    let total = iters + warm;
    receiver::prepare_process(imp, &[SIGUSR1])?;

    let seen_at = Arc::new(AtomicU64::new(0));
    let ack = Arc::new(AtomicBool::new(false));
    let opened = Arc::new(AtomicBool::new(false));
    let ready = Arc::new(Barrier::new(2));
    let sender = thread::current();
    let receiver = {
        let (seen_at, ack, opened, ready) =
            (seen_at.clone(), ack.clone(), opened.clone(), ready.clone());
        thread::Builder::new()
            .name("receiver".into())
            .spawn(move || -> io::Result<()> {
                let made = receiver::open(imp, &[SIGUSR1], &mut Meter::off());
                opened.store(made.is_ok(), Ordering::Release);
                ready.wait();
                made?.serve(total, &mut |_| {
                    seen_at.store(sys::mono_ns(), Ordering::Release);
                    ack.store(true, Ordering::Release);
                    sender.unpark();
                })
            })?
    };
    ready.wait();
    if !opened.load(Ordering::Acquire) {
        return receiver
            .join()
            .map_err(|_| io::Error::other("receiver panicked"))?
            .map(|()| Vec::new());
    }
    let receiving = receiver.thread().clone();
    let (mut one_way, mut round_trip) = (Vec::with_capacity(iters), Vec::with_capacity(iters));
    'rounds: for i in 0..total {
        let start = sys::mono_ns();
        if imp == Imp::Futex {
            FUTEX_GO.store(true, Ordering::Release);
            receiving.unpark();
        } else {
            sys::kill_self(SIGUSR1);
        }
        while !ack.swap(false, Ordering::Acquire) {
            if receiver.is_finished() {
                // It returned early: an error, reported by the join below.
                break 'rounds;
            }
            // A timeout only matters when the receiver died; an unpark ends it at once.
            thread::park_timeout(Duration::from_millis(100));
        }
        let end = sys::mono_ns();
        if i >= warm {
            one_way.push(seen_at.load(Ordering::Acquire).saturating_sub(start) as f64);
            round_trip.push((end - start) as f64);
        }
    }
    receiver
        .join()
        .map_err(|_| io::Error::other("receiver panicked"))??;
    Ok(vec![
        quantile(&one_way, 0.5),
        quantile(&one_way, 0.99),
        quantile(&round_trip, 0.5),
        quantile(&round_trip, 0.99),
    ])
}
