//! SVG charts: the prefill suite's bars, and lines against position for the streams.

use std::path::Path;

use anyhow::{anyhow, Result};
use plotters::coord::cartesian::Cartesian2d;
use plotters::coord::ranged1d::{Ranged, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use crate::report::PrefillReport;
use crate::stats::Summary;

pub fn prefill_svg(report: &PrefillReport, path: &Path) -> Result<()> {
    let mut bars: Vec<(String, &Summary)> = vec![
        ("Seahorse pp".into(), &report.seahorse.prefill_tokens_per_s),
        ("Seahorse tg".into(), &report.seahorse.decode_tokens_per_s),
    ];
    if let Some(stock) = &report.stock {
        bars.insert(1, ("stock pp".into(), &stock.prefill_tokens_per_s));
        bars.push(("stock tg".into(), &stock.decode_tokens_per_s));
    }
    let top = bars.iter().map(|(_, s)| s.max).fold(1.0, f64::max) * 1.15;
    let root = SVGBackend::new(path, (720, 420)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| anyhow!("{e}"))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("{} on {} threads: tokens/s (median, min–max)", report.model, report.threads),
            ("sans-serif", 18),
        )
        .margin(16)
        .x_label_area_size(36)
        .y_label_area_size(56)
        .build_cartesian_2d(0f64..bars.len() as f64, 0f64..top)
        .map_err(|e| anyhow!("{e}"))?;
    let labels: Vec<String> = bars.iter().map(|(l, _)| l.clone()).collect();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(bars.len() * 2 + 1)
        .x_label_formatter(&|x| {
            let i = x.floor() as usize;
            if (x - i as f64 - 0.5).abs() < 0.01 {
                labels.get(i).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .y_desc("tokens/s")
        .draw()
        .map_err(|e| anyhow!("{e}"))?;
    for (i, (label, s)) in bars.iter().enumerate() {
        let x0 = i as f64 + 0.15;
        let x1 = i as f64 + 0.85;
        let color = if label.starts_with("Seahorse") { BLUE.mix(0.7) } else { RGBColor(120, 120, 120).mix(0.7) };
        chart
            .draw_series(std::iter::once(Rectangle::new([(x0, 0.0), (x1, s.median)], color.filled())))
            .map_err(|e| anyhow!("{e}"))?;
        let xm = i as f64 + 0.5;
        chart
            .draw_series(std::iter::once(PathElement::new(vec![(xm, s.min), (xm, s.max)], BLACK.stroke_width(2))))
            .map_err(|e| anyhow!("{e}"))?;
        chart
            .draw_series(std::iter::once(Text::new(
                format!("{:.1}", s.median),
                (x0, s.median + top * 0.02),
                ("sans-serif", 14),
            )))
            .map_err(|e| anyhow!("{e}"))?;
    }
    root.present().map_err(|e| anyhow!("{e}"))?;
    Ok(())
}

/// Throughput and memory against position for the stream suite.
pub fn stream_svgs(report: &crate::stream::StreamReport, dir: &Path) -> Result<()> {
    let series = |f: &dyn Fn(&crate::stream::Point) -> f64| -> Vec<(String, Vec<(f64, f64)>)> {
        report
            .modes
            .iter()
            .map(|m| (m.mode.clone(), m.points.iter().map(|p| (p.position as f64, f(p))).collect()))
            .collect()
    };
    line_chart(
        &dir.join("stream-throughput.svg"),
        &format!("{}: throughput while reading (W={}, S={})", report.model, report.window, report.sinks),
        "tokens/s",
        &series(&|p| p.tokens_per_s),
    )?;
    line_chart(
        &dir.join("stream-memory.svg"),
        &format!("{}: resident memory while reading", report.model),
        "RSS (MiB)",
        &series(&|p| p.rss_bytes as f64 / (1u64 << 20) as f64),
    )
}

/// Lines against position. Where the positions span more than 100× (streams from 4K to 1M
/// tokens), the position axis is logarithmic so that the short runs stay readable.
pub(crate) fn line_chart(path: &Path, title: &str, y_desc: &str, series: &[(String, Vec<(f64, f64)>)]) -> Result<()> {
    let xs = || series.iter().flat_map(|(_, s)| s.iter().map(|p| p.0));
    let x_max = xs().fold(1.0, f64::max);
    let x_min = xs().filter(|&x| x > 0.0).fold(x_max, f64::min);
    let y_max = series.iter().flat_map(|(_, s)| s.iter().map(|p| p.1)).fold(1.0, f64::max) * 1.1;
    let root = SVGBackend::new(path, (760, 420)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| anyhow!("{e}"))?;
    let mut builder = ChartBuilder::on(&root);
    builder.caption(title, ("sans-serif", 18)).margin(16).x_label_area_size(40).y_label_area_size(60);
    if x_max / x_min > 100.0 {
        let chart = builder.build_cartesian_2d((x_min..x_max).log_scale(), 0f64..y_max).map_err(|e| anyhow!("{e}"))?;
        draw_lines(chart, "position (tokens, logarithmic)", y_desc, series)?;
    } else {
        let chart = builder.build_cartesian_2d(0f64..x_max, 0f64..y_max).map_err(|e| anyhow!("{e}"))?;
        draw_lines(chart, "position (tokens)", y_desc, series)?;
    }
    root.present().map_err(|e| anyhow!("{e}"))?;
    Ok(())
}

fn draw_lines<'a, X>(
    mut chart: ChartContext<'a, SVGBackend<'a>, Cartesian2d<X, RangedCoordf64>>,
    x_desc: &str,
    y_desc: &str,
    series: &[(String, Vec<(f64, f64)>)],
) -> Result<()>
where
    X: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .x_label_formatter(&|x| tokens_label(*x))
        .y_label_formatter(&|y| format!("{y:.0}"))
        .draw()
        .map_err(|e| anyhow!("{e}"))?;
    let colors = [RED, BLUE, GREEN, MAGENTA];
    for (i, (name, points)) in series.iter().enumerate() {
        let color = colors[i % colors.len()];
        chart
            .draw_series(LineSeries::new(points.iter().copied(), color.stroke_width(2)))
            .map_err(|e| anyhow!("{e}"))?
            .label(name.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| anyhow!("{e}"))?;
    Ok(())
}

/// A token position as a tick label, in thousands and millions (the axes tick at round decimal
/// values): 512, 4K, 1.5M.
fn tokens_label(x: f64) -> String {
    let short = |v: f64, unit: &str| {
        let text = format!("{v:.1}");
        format!("{}{unit}", text.trim_end_matches(".0"))
    };
    if x >= 1e6 {
        short(x / 1e6, "M")
    } else if x >= 1e3 {
        short(x / 1e3, "K")
    } else {
        format!("{x:.0}")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn tick_labels_name_tokens_in_k_and_m() {
        let got: Vec<String> =
            [512.0, 4000.0, 10000.0, 32768.0, 1.5e6, 1e6].into_iter().map(super::tokens_label).collect();
        assert_eq!(got, ["512", "4K", "10K", "32.8K", "1.5M", "1M"]);
    }
}
