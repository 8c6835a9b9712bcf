//! Markdown tables, number formatting and the run's header (date, machine, versions).

use std::fmt;

use crate::imp::{Imp, Role};
use serde_json::{json, Value};

use crate::stats::Spread;
use crate::{Opts, Section};

/// What a section hands back: tables for people, one JSON value for tools.
#[derive(Debug)]
pub(crate) struct SectionResult {
    pub(crate) tables: Vec<Table>,
    pub(crate) json: Value,
    /// One-sentence findings for the summary at the top of the Markdown report.
    pub(crate) highlights: Vec<String>,
}

/// A Markdown table with a title and notes under it.
#[derive(Debug)]
pub(crate) struct Table {
    pub(crate) title: String,
    pub(crate) columns: Vec<&'static str>,
    pub(crate) rows: Vec<Vec<String>>,
    pub(crate) notes: Vec<String>,
}

impl Table {
    pub(crate) fn new(title: impl Into<String>, columns: Vec<&'static str>) -> Table {
        Table {
            title: title.into(),
            columns,
            rows: Vec::new(),
            notes: Vec::new(),
        }
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut widths: Vec<usize> = self.columns.iter().map(|c| c.chars().count()).collect();
        for row in &self.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |f: &mut fmt::Formatter<'_>, cells: &mut dyn Iterator<Item = &str>| {
            f.write_str("|")?;
            for (cell, w) in cells.zip(&widths) {
                write!(f, " {cell:<w$} |")?;
            }
            writeln!(f)
        };
        writeln!(f, "### {}\n", self.title)?;
        line(f, &mut self.columns.iter().copied())?;
        let dashes: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        line(f, &mut dashes.iter().map(String::as_str))?;
        for row in &self.rows {
            line(f, &mut row.iter().map(String::as_str))?;
        }
        for note in &self.notes {
            writeln!(f, "\n{note}")?;
        }
        Ok(())
    }
}

/// Nanoseconds as `850 ns` or `3.31 µs`.
pub(crate) fn ns(v: f64) -> String {
    if !v.is_finite() {
        "–".to_string()
    } else if v.abs() >= 10_000.0 {
        format!("{:.1} µs", v / 1000.0)
    } else if v.abs() >= 1000.0 {
        format!("{:.2} µs", v / 1000.0)
    } else if v.abs() < 0.5 {
        "0 ns".to_string()
    } else {
        format!("{v:.0} ns")
    }
}

/// A count with thousands separators: `10,000`.
pub(crate) fn count(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A ratio's number: two decimals, or two significant digits below 0.1 (`0.0031`).
fn ratio_number(v: f64) -> String {
    let decimals = if v.abs() >= 0.1 || v == 0.0 {
        2
    } else {
        (1.0 - v.abs().log10().floor()).clamp(2.0, 9.0) as usize
    };
    format!("{v:.decimals$}")
}

/// A ratio as `1.04×`.
pub(crate) fn ratio(v: f64) -> String {
    if v.is_finite() {
        format!("{}×", ratio_number(v))
    } else {
        "–".to_string()
    }
}

/// A per-round time spread as `71 ns (70 ns – 73 ns)`, or why the rows failed.
pub(crate) fn ns_spread(s: Spread, error: Option<&String>) -> String {
    match error {
        Some(e) => format!("failed: {e}"),
        None => format!("{} ({} – {})", ns(s.med), ns(s.min), ns(s.max)),
    }
}

/// A per-round ratio spread as `1.04× (0.98–1.10)`.
pub(crate) fn spread(s: Spread) -> String {
    if s.med.is_finite() {
        format!(
            "{}× ({}–{})",
            ratio_number(s.med),
            ratio_number(s.min),
            ratio_number(s.max)
        )
    } else {
        "–".to_string()
    }
}

/// A measured number for the JSON line: rounded to three decimals (plenty for
/// nanoseconds and ratios), written as an integer when it is one, `null` when not finite
/// (a failed measurement).
pub(crate) fn num(v: f64) -> Value {
    let rounded = (v * 1000.0).round() / 1000.0;
    if !rounded.is_finite() {
        Value::Null
    } else if rounded.fract() == 0.0 && rounded.abs() < 9.0e15 {
        Value::from(rounded as i64)
    } else {
        Value::from(rounded)
    }
}

/// A spread as JSON `{min, med, max}`.
pub(crate) fn spread_json(s: Spread) -> Value {
    json!({ "min": num(s.min), "med": num(s.med), "max": num(s.max) })
}

/// The value of the best (smallest) peer among `rows` in `imp`'s group, for a sigmux
/// row; `None` for other rows or when the group has no peer value.
pub(crate) fn best_peer(imp: Imp, rows: &[(Imp, f64)]) -> Option<f64> {
    if imp.role() != Role::Sigmux {
        return None;
    }
    rows.iter()
        .filter(|(i, v)| i.role() == Role::Peer && i.group() == imp.group() && v.is_finite())
        .map(|(_, v)| *v)
        .min_by(f64::total_cmp)
}

/// Per round, [`best_peer`] among `rows` (each an implementation and its per-round
/// series); NaN where there is none.
pub(crate) fn best_peer_series(imp: Imp, rows: &[(Imp, &[f64])]) -> Vec<f64> {
    let rounds = rows.iter().map(|(_, s)| s.len()).max().unwrap_or(0);
    (0..rounds)
        .map(|r| {
            let row: Vec<(Imp, f64)> = rows
                .iter()
                .map(|(i, s)| (*i, s.get(r).copied().unwrap_or(f64::NAN)))
                .collect();
            best_peer(imp, &row).unwrap_or(f64::NAN)
        })
        .collect()
}

/// Today's date (UTC) as `YYYY-MM-DD`.
fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    // Civil-from-days (proleptic Gregorian), after Howard Hinnant's public algorithm.
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|l| l.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_else(|| "unknown CPU".to_string())
}

fn kernel() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map_or_else(|_| "unknown".to_string(), |s| s.trim().to_string())
}

fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// `name version` of every measured crate, as resolved in Cargo.lock at build time.
fn versions() -> &'static str {
    env!("SIGMUX_BENCH_VERSIONS")
}

/// The lines printed before the first table.
pub(crate) fn header(opts: &Opts) -> String {
    format!(
        "# sigmux-bench {mode} — {date}\n\nmachine: {cpu}, {n} CPUs, Linux {kernel}; \
         children pinned to {pin}\ncompiler: {rustc}\ncrates: {versions}\n",
        mode = if opts.quick { "--quick" } else { "full run" },
        date = today(),
        cpu = cpu_model(),
        n = cpus(),
        kernel = kernel(),
        pin = opts
            .cpu
            .map_or("no CPU".to_string(), |c| format!("CPU {c}")),
        rustc = env!("SIGMUX_BENCH_RUSTC"),
        versions = versions(),
    )
}

/// The same facts for the JSON line.
pub(crate) fn meta_json(opts: &Opts) -> Value {
    json!({
        "date": today(),
        "quick": opts.quick,
        "cpu_model": cpu_model(),
        "cpus": cpus(),
        "kernel": kernel(),
        "pinned_cpu": opts.cpu,
        "rustc": env!("SIGMUX_BENCH_RUSTC"),
        "crates": versions(),
    })
}

/// The README's Performance section: facts of the run, summary, how to reproduce, tables.
pub(crate) fn markdown(
    opts: &Opts,
    highlights: &[String],
    tables: &str,
    took: std::time::Duration,
) -> String {
    let mut out = format!(
        "## Performance\n\n\
         Measured {date} by `sigmux-bench` ({mode}, {secs:.0} s): {cpu}, {n} vCPUs, Linux \
         {kernel}, {rustc}, measuring children pinned to {pin}.\n\
         Crates: {versions}.\n\n\
         Summary:\n\n",
        date = today(),
        mode = if opts.quick {
            "`--quick`, timings not meaningful"
        } else {
            "full run"
        },
        secs = took.as_secs_f64(),
        cpu = cpu_model(),
        n = cpus(),
        kernel = kernel(),
        rustc = env!("SIGMUX_BENCH_RUSTC"),
        pin = opts
            .cpu
            .map_or("no CPU".to_string(), |c| format!("CPU {c}")),
        versions = versions(),
    );
    for line in highlights {
        out += &format!("- {line}\n");
    }
    if let (Some(svg), true) = (&opts.svg, opts.sections.contains(&Section::Wake)) {
        out += &format!(
            "\n![Wake-up latency of sigmux and its peers, one-way and round trip]({})\n\n\
             How to read the chart: each curve gives, for one implementation (all rounds \
             pooled), the share of wake-ups (y) that took at most the latency on the x axis \
             (log scale), so a curve further left is faster and its top end is the p99; one hue per kind of receiver, sigmux solid, peers dashed, the \
             futex floor black and the hand-written references grey.\n",
            svg.display()
        );
    }
    out += "\n\
        To reproduce (Linux; the numbers are ratios to a floor measured in the same run, \
        so compare ratios, not times, across machines):\n\n\
        ```sh\n\
        cargo run --release -p sigmux-bench            # full run, about a minute on 2 cores\n\
        cargo run --release -p sigmux-bench -- --quick # smoke run, as CI does\n\
        cargo run --release -p sigmux-bench -- --markdown crates/bench/PERFORMANCE.md # and wake-latency.svg\n\
        ```\n\n\
        How it measures: every implementation runs in its own freshly executed child \
        process (libraries install process-wide handlers and chain to earlier ones), pinned \
        to one CPU, and implementations are interleaved round by round. Handler overhead and \
        registration cost are thread CPU time (`CLOCK_THREAD_CPUTIME_ID`); handler overhead \
        is paired with a raw `sigaction` handler on another signal in the same child. \
        Wake-up latency is monotonic wall time between two threads of the child, the signal \
        sent by `kill` from the non-waiting thread. The last line of the program's output \
        is one JSON object with every figure.\n\n";
    out += tables;
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_times_and_ratios() {
        assert_eq!(ns(850.4), "850 ns");
        assert_eq!(ns(-0.4), "0 ns");
        assert_eq!(ns(3312.0), "3.31 µs");
        assert_eq!(ns(20_456.0), "20.5 µs");
        assert_eq!(ns(f64::NAN), "–");
        assert_eq!(ratio(1.0449), "1.04×");
        assert_eq!(ratio(0.0031), "0.0031×");
        assert_eq!(ratio(0.036), "0.036×");
        assert_eq!(count(0), "0");
        assert_eq!(count(1000), "1,000");
        assert_eq!(count(200_000), "200,000");
    }

    #[test]
    fn json_numbers_are_rounded_integers_when_whole_and_null_when_failed() {
        let v = json!({
            "s": "a\"b\\c\n",
            "n": num(1.23456),
            "whole": num(2.0),
            "nan": num(f64::NAN),
            "a": [true, null],
        });
        assert_eq!(
            v.to_string(),
            r#"{"s":"a\"b\\c\n","n":1.235,"whole":2,"nan":null,"a":[true,null]}"#
        );
    }

    #[test]
    fn date_is_iso() {
        let d = today();
        let parts: Vec<&str> = d.split('-').collect();
        assert_eq!(parts.iter().map(|p| p.len()).collect::<Vec<_>>(), [4, 2, 2]);
        assert!(parts[0] >= "2024");
    }

    #[test]
    fn best_peer_only_for_sigmux_rows() {
        let rows = [
            (Imp::TokioSignal, 9.0),
            (Imp::HookTokio, 8.0),
            (Imp::SigmuxTokio, 7.0),
            (Imp::HookIter, 1.0),
        ];
        assert_eq!(best_peer(Imp::SigmuxTokio, &rows), Some(8.0));
        assert_eq!(best_peer(Imp::HookTokio, &rows), None);
    }

    #[test]
    fn table_is_markdown() {
        let mut t = Table::new("T", vec!["a", "bb"]);
        t.rows.push(vec!["xyz".to_string(), "1".to_string()]);
        assert_eq!(
            t.to_string(),
            "### T\n\n| a   | bb |\n| --- | -- |\n| xyz | 1  |\n"
        );
    }
}
