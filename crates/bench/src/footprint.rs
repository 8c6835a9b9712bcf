//! Footprint of creating one listener for `SIGUSR1` in a fresh process: heap allocations
//! and bytes (counting global allocator), descriptors and threads it adds. A runtime the
//! listener needs (tokio's, async-io's reactor) is started before and not counted.

use std::io;

use libc::SIGUSR1;

use serde_json::{Map, Value};

use crate::alloc::Meter;
use crate::child::{self, imp_arg};
use crate::imp::Imp;
use crate::receiver;
use crate::report::{self, num, SectionResult, Table};
use crate::Opts;

const COLUMNS: [&str; 4] = ["allocations", "bytes", "descriptors", "threads"];

pub(crate) fn run(opts: &Opts) -> SectionResult {
    let mut table = Table::new(
        "Footprint of creating one iterator / stream for SIGUSR1",
        vec![
            "implementation",
            COLUMNS[0],
            COLUMNS[1],
            COLUMNS[2],
            COLUMNS[3],
            "allocations vs best peer",
        ],
    );
    let imps: Vec<Imp> = Imp::listeners().filter(|i| *i != Imp::Futex).collect();
    let results: Vec<Result<Vec<f64>, String>> = imps
        .iter()
        .map(|imp| child::run(opts, &child::args(&[&"footprint", &imp.name()])))
        .collect();
    let allocs: Vec<(Imp, f64)> = imps
        .iter()
        .zip(&results)
        .map(|(i, r)| {
            (
                *i,
                r.as_ref()
                    .ok()
                    .and_then(|v| v.first().copied())
                    .unwrap_or(f64::NAN),
            )
        })
        .collect();
    let mut json = Vec::new();
    for (imp, result) in imps.iter().zip(&results) {
        let mut row = vec![imp.name().to_string()];
        let mut pairs = Map::new();
        pairs.insert("impl".to_string(), imp.name().into());
        match result {
            Ok(v) if v.len() == COLUMNS.len() => {
                row.extend(v.iter().map(|x| format!("{x}")));
                pairs.extend(COLUMNS.iter().zip(v).map(|(c, x)| (c.to_string(), num(*x))));
                let peer = report::best_peer(*imp, &allocs).map_or(f64::NAN, |p| v[0] / p);
                row.push(report::ratio(peer));
            }
            other => {
                row.push(format!("failed: {other:?}"));
                pairs.insert("error".to_string(), format!("{other:?}").into());
            }
        }
        table.rows.push(row);
        json.push(Value::Object(pairs));
    }
    table.notes.push(
        "Bytes are the sum of requested sizes (reallocations count their new size). Threads \
         and descriptors are counted in /proc/self 20 ms after creation. The runtime is made \
         first and not counted: tokio's runtime already holds its process-wide signal pipe, \
         so tokio::signal shows no descriptor of its own."
            .to_string(),
    );
    let describe = |imp: Imp| {
        imps.iter()
            .position(|i| *i == imp)
            .and_then(|k| results[k].as_ref().ok())
            .filter(|v| v.len() == COLUMNS.len())
            .map_or("–".to_string(), |v| {
                format!(
                    "{} allocations / {} bytes / {} descriptors",
                    v[0], v[1], v[2]
                )
            })
    };
    let highlight = format!(
        "Creating one iterator: sigmux::iterator {}, signal-hook::iterator {}.",
        describe(Imp::SigmuxIter),
        describe(Imp::HookIter),
    );
    SectionResult {
        tables: vec![table],
        json: Value::Array(json),
        highlights: vec![highlight],
    }
}

/// Child: `IMPL` → `[allocations, bytes, descriptors, threads]`.
pub(crate) fn child(args: &[String]) -> io::Result<Vec<f64>> {
    let imp = imp_arg(args, 0)?;
    let mut meter = Meter::new();
    let listener = receiver::open(imp, &[SIGUSR1], &mut meter)?;
    let result = meter
        .result()
        .ok_or_else(|| io::Error::other("nothing measured"))?;
    drop(listener);
    Ok(result.to_vec())
}
