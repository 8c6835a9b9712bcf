//! The wake-up latency chart: the cumulative distribution of every implementation's
//! wake-up latencies (all rounds pooled) up to p99, one-way above and round trip below,
//! latency on a log scale. Drawn by plotters' SVG backend, which writes text as SVG `<text>` and leaves
//! the fonts to the viewer: drawing it needs no font file and no fontconfig.

use std::path::Path;

use hdrhistogram::Histogram;
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::imp::Imp;

/// The chart's file name when `--markdown` chooses it.
pub(crate) const WAKE_FILE: &str = "wake-latency.svg";

/// One implementation's pooled wake-up latencies, in nanoseconds.
#[derive(Debug)]
pub(crate) struct Latencies {
    pub(crate) imp: Imp,
    pub(crate) one_way: Histogram<u64>,
    pub(crate) round_trip: Histogram<u64>,
}

/// How one implementation's curve is drawn: a hue per kind of receiver, sigmux solid and
/// thick, peers dashed, the floor black and the hand-written references grey.
struct Look {
    color: RGBColor,
    dashed: bool,
    width: u32,
}

fn look(imp: Imp) -> Look {
    let (color, dashed, width) = match imp {
        Imp::Futex => (RGBColor(0, 0, 0), false, 2),
        Imp::Signalfd => (RGBColor(150, 150, 150), false, 1),
        Imp::RawPipe => (RGBColor(90, 90, 90), true, 1),
        Imp::RawFutex => (RGBColor(150, 150, 150), true, 1),
        Imp::SigmuxIter => (RGBColor(20, 60, 200), false, 3),
        Imp::HookIter => (RGBColor(100, 160, 240), true, 2),
        Imp::SigmuxTokio => (RGBColor(200, 20, 20), false, 3),
        Imp::TokioSignal => (RGBColor(240, 150, 30), true, 2),
        Imp::HookTokio => (RGBColor(240, 110, 150), true, 2),
        Imp::SigmuxAsyncStd => (RGBColor(0, 130, 40), false, 3),
        Imp::AsyncSignal => (RGBColor(150, 190, 40), true, 2),
        Imp::HookAsyncStd => (RGBColor(60, 200, 170), true, 2),
        _ => (RGBColor(200, 0, 200), false, 1),
    };
    Look {
        color,
        dashed,
        width,
    }
}

/// The quantiles each curve passes through: every half percent up to p99, where the
/// tables stop too (the slowest 1% are left out: a few preempted wake-ups of
/// milliseconds would squeeze every curve into the left edge).
fn quantiles() -> Vec<f64> {
    (0..=198).map(|i| f64::from(i) / 200.0).collect()
}

/// A latency in µs for an axis label: `0.5`, `2`, `10`.
fn micros(v: f64) -> String {
    format!("{}", (v * 1000.0).round() / 1000.0)
}

/// Writes the chart of `rows` to `path`.
pub(crate) fn write_wake(path: &Path, rows: &[Latencies], quick: bool) -> Result<(), String> {
    let root = SVGBackend::new(path, (900, 1180)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let title = if quick {
        "sigmux-bench: wake-up latency (--quick run: timings not meaningful)"
    } else {
        "sigmux-bench: wake-up latency"
    };
    let root = root
        .titled(title, ("sans-serif", 24))
        .map_err(|e| e.to_string())?;
    let (top, bottom) = root.split_vertically(560);
    panel(
        &top,
        rows,
        |l| &l.one_way,
        "one-way: from kill() until the waiting code sees the signal",
    )?;
    panel(
        &bottom,
        rows,
        |l| &l.round_trip,
        "round trip: from kill() until the receiver's futex acknowledgement arrives",
    )?;
    root.present().map_err(|e| e.to_string())
}

/// One cumulative-distribution chart of the histograms `pick` chooses, with a legend.
fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    rows: &[Latencies],
    pick: impl Fn(&Latencies) -> &Histogram<u64>,
    caption: &str,
) -> Result<(), String> {
    let qs = quantiles();
    let curves: Vec<(Imp, Vec<(f64, f64)>)> = rows
        .iter()
        .filter(|l| !pick(l).is_empty())
        .map(|l| {
            let h = pick(l);
            let points = qs
                .iter()
                .map(|&q| (h.value_at_quantile(q) as f64 / 1000.0, q * 100.0))
                .collect();
            (l.imp, points)
        })
        .collect();
    let xs = || curves.iter().flat_map(|(_, p)| p.iter().map(|(x, _)| *x));
    let lo = xs().fold(f64::INFINITY, f64::min).max(0.01) * 0.9;
    let hi = xs().fold(0.0, f64::max).max(lo * 2.0) * 1.1;
    // Ticks at 1, 2, 3, 5, 7 of every decade (plotters' log axis labels only decades
    // when they span less than two).
    let ticks: Vec<f64> = [0.01, 0.1, 1.0, 10.0, 100.0, 1000.0, 10_000.0]
        .iter()
        .flat_map(|d| [1.0, 2.0, 3.0, 5.0, 7.0].map(|m| m * d))
        .filter(|t| (lo..=hi).contains(t))
        .collect();
    let mut chart = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d((lo..hi).log_scale().with_key_points(ticks), 0.0..100.0)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc("latency (µs, log scale)")
        .y_desc("wake-ups at most this slow (%)")
        .x_label_formatter(&|v| micros(*v))
        .y_label_formatter(&|v| format!("{v:.0}"))
        .label_style(("sans-serif", 14))
        .light_line_style(RGBColor(238, 238, 238))
        .draw()
        .map_err(|e| e.to_string())?;
    for (imp, points) in curves {
        let look = look(imp);
        let style = look.color.stroke_width(look.width);
        let drawn = if look.dashed {
            chart.draw_series(DashedLineSeries::new(points, 7, 4, style))
        } else {
            chart.draw_series(LineSeries::new(points, style))
        };
        let anno = drawn.map_err(|e| e.to_string())?.label(imp.name());
        if look.dashed {
            anno.legend(move |(x, y)| {
                EmptyElement::at((x, y))
                    + PathElement::new(vec![(0, 0), (8, 0)], style)
                    + PathElement::new(vec![(12, 0), (20, 0)], style)
            });
        } else {
            anno.legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
        }
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .label_font(("sans-serif", 14))
        .background_style(WHITE.mix(0.9))
        .border_style(RGBColor(180, 180, 180))
        .draw()
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_an_svg_with_every_implementation_named() {
        let rows: Vec<Latencies> = [Imp::Futex, Imp::HookIter, Imp::SigmuxIter]
            .into_iter()
            .enumerate()
            .map(|(k, imp)| {
                let mut one_way = Histogram::new(3).unwrap();
                let mut round_trip = Histogram::new(3).unwrap();
                for v in 1..=1000u64 {
                    one_way.record(1000 * (k as u64 + 1) + v).unwrap();
                    round_trip.record(2000 * (k as u64 + 1) + v).unwrap();
                }
                Latencies {
                    imp,
                    one_way,
                    round_trip,
                }
            })
            .collect();
        let path = std::env::temp_dir().join(format!("sigmux-bench-{}.svg", std::process::id()));
        write_wake(&path, &rows, true).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert!(svg.starts_with("<svg"));
        for name in ["futex-unpark", "signal-hook::iterator", "sigmux::iterator"] {
            assert_eq!(svg.matches(name).count(), 2, "{name} in both legends");
        }
    }

    #[test]
    fn axis_labels_are_short() {
        assert_eq!(micros(2.0), "2");
        assert_eq!(micros(1.999_999_9), "2");
        assert_eq!(micros(0.5), "0.5");
    }
}
