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
//!
//! Each child records its latencies in an HDR histogram (3 significant digits, so a
//! percentile is within 0.1% of the exact order statistic) and also hands its raw samples
//! to the parent, which pools them per implementation for the chart ([`crate::chart`]) and,
//! with `--verbose`, prints how far the histogram's p50/p99 are from the exact ones.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use hdrhistogram::Histogram;
use libc::SIGUSR1;

use crate::alloc::Meter;
use crate::child::{self, arg, imp_arg};
use crate::imp::{Imp, Role};
use serde_json::{Map, Value};

use crate::receiver::{self, FUTEX_GO};
use crate::report::{self, SectionResult, Table};
use crate::stats::{median, quantile, ratios, Spread};
use crate::{chart, sys, Opts};

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
    let pooled: Vec<chart::Latencies> = imps
        .iter()
        .enumerate()
        .map(|(i, imp)| pool(*imp, runs.successes(i)))
        .collect();
    if opts.verbose {
        hdr_vs_exact(&runs, imps.len());
    }
    if let Some(path) = &opts.svg {
        if let Err(e) = chart::write_wake(path, &pooled, opts.quick) {
            crate::fail_later(format!("cannot write {}: {e}", path.display()));
        }
    }
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

/// The samples a child reported after its four percentiles: one-way, then round trip.
fn samples(values: &[f64]) -> (&[f64], &[f64]) {
    let raw = values.get(METRICS.len()..).unwrap_or(&[]);
    raw.split_at(raw.len() / 2)
}

/// An empty histogram of nanoseconds with 3 significant digits that grows as needed.
fn histogram() -> Histogram<u64> {
    // 3 significant digits is a valid precision (0..=5): this cannot fail.
    Histogram::new(3).unwrap_or_else(|e| unreachable!("{e}"))
}

/// Records `ns` (saturated to u64) into `h`.
fn record(h: &mut Histogram<u64>, ns: f64) {
    // An auto-resizing histogram accepts every value.
    let _ = h.record(ns as u64);
}

/// `imp`'s samples from every successful child, pooled.
fn pool<'a>(imp: Imp, results: impl Iterator<Item = &'a [f64]>) -> chart::Latencies {
    let (mut one_way, mut round_trip) = (histogram(), histogram());
    for values in results {
        let (ow, rt) = samples(values);
        ow.iter().for_each(|&v| record(&mut one_way, v));
        rt.iter().for_each(|&v| record(&mut round_trip, v));
    }
    chart::Latencies {
        imp,
        one_way,
        round_trip,
    }
}

/// The exact `q` percentile of `samples` by nearest rank: the `ceil(q·n)`-th smallest,
/// the rank an HDR histogram reports (its value then rounded up within its bucket).
fn nearest_rank(samples: &[f64], q: f64) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((q * sorted.len() as f64).ceil() as usize).max(1);
    sorted.get(rank - 1).copied().unwrap_or(f64::NAN)
}

/// Prints, to stderr, the largest relative difference between each child's histogram
/// p50/p99 and the exact percentile of the same samples: at the same rank (the
/// histogram's own rounding) and by [`quantile`]'s convention (which the
/// benchmark used before; at a few hundred samples its rank can be one off).
fn hdr_vs_exact(runs: &child::Runs, configs: usize) {
    let (mut same_rank, mut old_rank, mut children) = ([0.0f64; 4], [0.0f64; 4], 0);
    for values in (0..configs).flat_map(|c| runs.successes(c)) {
        let (ow, rt) = samples(values);
        for (m, (set, q)) in [(ow, 0.5), (ow, 0.99), (rt, 0.5), (rt, 0.99)]
            .into_iter()
            .enumerate()
        {
            let hdr = values[m];
            let exact = nearest_rank(set, q);
            same_rank[m] = same_rank[m].max(((hdr - exact) / exact).abs());
            let old = quantile(set, q);
            old_rank[m] = old_rank[m].max(((hdr - old) / old).abs());
        }
        children += 1;
    }
    let show = |worst: [f64; 4]| -> String {
        let parts: Vec<String> = METRICS
            .iter()
            .zip(worst)
            .map(|(name, w)| format!("{name} {:.3}%", w * 100.0))
            .collect();
        parts.join(", ")
    };
    eprintln!(
        "  wake: histogram percentiles over {children} children, largest difference to the \
         exact nearest rank: {}; to the rank convention of stats::quantile: {}",
        show(same_rank),
        show(old_rank),
    );
}

/// Child: `IMPL ITERS WARM` → `[one-way p50, p99, round-trip p50, p99]` in ns (from a
/// histogram), then the `ITERS` one-way and the `ITERS` round-trip samples.
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
    let (mut one_way_hist, mut round_trip_hist) = (histogram(), histogram());
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
            round_trip.push(end.saturating_sub(start) as f64);
        }
    }
    receiver
        .join()
        .map_err(|_| io::Error::other("receiver panicked"))??;
    one_way.iter().for_each(|&v| record(&mut one_way_hist, v));
    round_trip
        .iter()
        .for_each(|&v| record(&mut round_trip_hist, v));
    let mut out = vec![
        one_way_hist.value_at_quantile(0.5) as f64,
        one_way_hist.value_at_quantile(0.99) as f64,
        round_trip_hist.value_at_quantile(0.5) as f64,
        round_trip_hist.value_at_quantile(0.99) as f64,
    ];
    out.extend(one_way);
    out.extend(round_trip);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The promise in the module docs: a histogram percentile is within 0.1% of the exact
    /// order statistic at the same rank, here on a wide spread of latencies.
    #[test]
    fn histogram_percentiles_are_within_a_tenth_of_a_percent() {
        // A deterministic, heavy-tailed spread from 1 µs to about 1 ms.
        let samples: Vec<f64> = (0..5000u64)
            .map(|i| 1000.0 * (1.0 + ((i * 7919) % 5000) as f64 / 5000.0).powi(10))
            .collect();
        let mut h = histogram();
        samples.iter().for_each(|&v| record(&mut h, v));
        for q in [0.0, 0.01, 0.5, 0.9, 0.99, 0.999, 1.0] {
            let exact = nearest_rank(&samples, q);
            let hdr = h.value_at_quantile(q) as f64;
            assert!(
                ((hdr - exact) / exact).abs() <= 0.001,
                "q {q}: histogram {hdr}, exact {exact}"
            );
        }
    }

    #[test]
    fn a_childs_numbers_split_into_its_two_sample_sets() {
        let values = [1.0, 2.0, 3.0, 4.0, 10.0, 11.0, 20.0, 21.0];
        assert_eq!(samples(&values), (&[10.0, 11.0][..], &[20.0, 21.0][..]));
        assert_eq!(samples(&[]), (&[][..], &[][..]));
    }
}
