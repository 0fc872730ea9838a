//! The report's three SVG charts, drawn with plotters' SVG backend.
//!
//! - rates: recovery rate per fault model, one bar per configuration, with
//!   a whisker for the Wilson 95 % interval;
//! - outcomes: one horizontal bar per (model, configuration), split by
//!   outcome as a share of its trials;
//! - latency: a histogram of recovery latencies (recovered and
//!   recovered-leaky trials), one colour per configuration, on linear bins.
//!
//! Categorical labels (model names, row names) are placed by hand at the
//! bars' pixel positions: plotters' numeric axes would put them at "nice"
//! numbers, not at the bars.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use fault_inject::Config;

use crate::outcome::Outcome;
use crate::summary::Summary;

/// Why a chart could not be drawn (plotters' error, as text: its type is
/// generic over the backend).
#[derive(Debug, thiserror::Error)]
#[error("cannot draw the {chart} chart: {message}")]
pub struct ChartError {
    chart: &'static str,
    message: String,
}

/// The three charts, as standalone SVG documents.
pub(crate) struct Charts {
    pub rates: String,
    pub outcomes: String,
    pub latency: String,
}

/// Chart width in pixels: fits a report page and a paper's column scaled.
const WIDTH_PX: u32 = 900;

/// Height of the rates and latency charts, in pixels.
const PLOT_HEIGHT_PX: u32 = 420;

/// Height of one bar row of the outcome chart, and its fixed overhead
/// (caption, axis, legend), in pixels.
const ROW_HEIGHT_PX: u32 = 22;
const OUTCOME_CHART_OVERHEAD_PX: u32 = 150;

/// Space around the plot, in pixels.
const MARGIN_PX: u32 = 12;

/// Extra room right of the plot, so the last axis label is not cut, in pixels.
const RIGHT_MARGIN_PX: u32 = 30;

/// Room for the axis labels, in pixels.
const X_LABEL_AREA_PX: u32 = 50;
const Y_LABEL_AREA_PX: u32 = 60;

/// Room for the row names left of the outcome bars, in pixels.
const ROW_LABEL_AREA_PX: u32 = 190;

/// Font sizes, in pixels.
const CAPTION_FONT_PX: u32 = 18;
const LABEL_FONT_PX: u32 = 13;

/// Height of the legend row under the caption, in pixels.
const LEGEND_ROW_PX: u32 = 28;

/// Legend swatch size, and the gaps after a swatch and after an item, in pixels.
const SWATCH_PX: i32 = 10;
const SWATCH_GAP_PX: i32 = 5;
const LEGEND_ITEM_GAP_PX: i32 = 18;

/// Gap between category groups, as a share of one category's width.
const GROUP_GAP: f64 = 0.15;

/// Whisker cap width, in pixels.
const WHISKER_CAP_PX: u32 = 8;

/// Histogram bins of the latency chart.
const LATENCY_BINS: usize = 20;

/// Nanoseconds per microsecond: latencies are plotted in µs.
const NS_PER_US: f64 = 1_000.0;

/// Percent per unit.
const PERCENT: f64 = 100.0;

/// The font family; the SVG viewer picks the actual font.
const FONT: &str = "sans-serif";

/// Colours of the configurations (Tableau 10: blue, orange, grey), chosen
/// to stay apart for the common forms of colour blindness.
fn config_colour(config: Config) -> RGBColor {
    match config {
        Config::Unwind => RGBColor(31, 119, 180),
        Config::Restart => RGBColor(255, 127, 14),
        Config::NoRecovery => RGBColor(127, 127, 127),
    }
}

/// Colours of the outcomes: greens for recovery, warm colours for
/// failures, grey for no effect.
fn outcome_colour(outcome: Outcome) -> RGBColor {
    match outcome {
        Outcome::NotActivated => RGBColor(199, 199, 199),
        Outcome::Recovered => RGBColor(44, 160, 44),
        Outcome::RecoveredLeaky => RGBColor(188, 189, 34),
        Outcome::ClientError => RGBColor(255, 127, 14),
        Outcome::Sdc => RGBColor(214, 39, 40),
        Outcome::Hang => RGBColor(148, 103, 189),
        Outcome::KernelCrash => RGBColor(60, 60, 60),
    }
}

fn failed<E: std::fmt::Debug>(chart: &'static str) -> impl Fn(E) -> ChartError {
    move |error| ChartError { chart, message: format!("{error:?}") }
}

/// Draws the three charts of `summary`.
pub(crate) fn draw_charts(summary: &Summary) -> Result<Charts, ChartError> {
    Ok(Charts {
        rates: render(WIDTH_PX, PLOT_HEIGHT_PX, |root| draw_rates(root, summary)).map_err(failed("rates"))?,
        outcomes: {
            let rows = (summary.configs().len() * summary.models().len()).max(1);
            let height = OUTCOME_CHART_OVERHEAD_PX + ROW_HEIGHT_PX * u32::try_from(rows).unwrap_or(u32::MAX / 2);
            render(WIDTH_PX, height, |root| draw_outcomes(root, summary)).map_err(failed("outcomes"))?
        },
        latency: render(WIDTH_PX, PLOT_HEIGHT_PX, |root| draw_latency(root, summary)).map_err(failed("latency"))?,
    })
}

type Root<'a> = DrawingArea<SVGBackend<'a>, Shift>;
type DrawError = DrawingAreaErrorKind<<SVGBackend<'static> as DrawingBackend>::ErrorType>;
type DrawResult = Result<(), DrawError>;

fn render(width: u32, height: u32, draw: impl FnOnce(&Root<'_>) -> DrawResult) -> Result<String, String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| format!("{e:?}"))?;
        draw(&root).map_err(|e| format!("{e:?}"))?;
        root.present().map_err(|e| format!("{e:?}"))?;
    }
    Ok(svg)
}

fn label_style(anchor: Pos) -> TextStyle<'static> {
    TextStyle::from((FONT, LABEL_FONT_PX).into_font()).pos(anchor)
}

/// Draws the caption and a one-row legend above the chart, outside the
/// plot so it never hides data; returns the area left for the chart.
fn frame<'a>(root: &Root<'a>, caption: &str, legend: &[(&str, RGBColor)]) -> Result<Root<'a>, DrawError> {
    let titled = root.margin(MARGIN_PX, 0, 0, 0).titled(caption, (FONT, CAPTION_FONT_PX))?;
    let (legend_area, plot_area) = titled.split_vertically(LEGEND_ROW_PX);
    let style = label_style(Pos::new(HPos::Left, VPos::Center));
    let widths: Vec<i32> = legend
        .iter()
        .map(|(name, _)| {
            let (text, _) = legend_area.estimate_text_size(name, &style).unwrap_or((0, 0));
            SWATCH_PX + SWATCH_GAP_PX + i32::try_from(text).unwrap_or(0)
        })
        .collect();
    let total: i32 = widths.iter().sum::<i32>() + LEGEND_ITEM_GAP_PX * (widths.len().saturating_sub(1) as i32);
    let (width, height) = legend_area.dim_in_pixel();
    let mut x = (i32::try_from(width).unwrap_or(0) - total) / 2;
    let y = i32::try_from(height).unwrap_or(0) / 2;
    for ((name, colour), item_width) in legend.iter().zip(widths) {
        legend_area.draw(&Rectangle::new(
            [(x, y - SWATCH_PX / 2), (x + SWATCH_PX, y + SWATCH_PX / 2)],
            colour.filled(),
        ))?;
        legend_area.draw(&Text::new(*name, (x + SWATCH_PX + SWATCH_GAP_PX, y), style.clone()))?;
        x += item_width + LEGEND_ITEM_GAP_PX;
    }
    Ok(plot_area)
}

/// Axis tick labels as whole numbers.
fn whole(value: &f64) -> String {
    format!("{value:.0}")
}

fn draw_rates(root: &Root<'_>, summary: &Summary) -> DrawResult {
    let models = summary.models();
    let configs = summary.configs();
    let groups = models.len().max(1) as f64;
    let legend: Vec<(&str, RGBColor)> = configs.iter().map(|&c| (c.name(), config_colour(c))).collect();
    let area = frame(root, "Recovery rate by fault model (Wilson 95% interval)", &legend)?;
    let mut chart = ChartBuilder::on(&area)
        .margin(MARGIN_PX)
        .margin_right(RIGHT_MARGIN_PX)
        .x_label_area_size(X_LABEL_AREA_PX)
        .y_label_area_size(Y_LABEL_AREA_PX)
        .build_cartesian_2d(0.0..groups, 0.0..PERCENT)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_label_formatter(&whole)
        .y_desc("recovered / activated (%)")
        .label_style((FONT, LABEL_FONT_PX))
        .draw()?;
    let bar_width = (1.0 - 2.0 * GROUP_GAP) / configs.len().max(1) as f64;
    for (c, &config) in configs.iter().enumerate() {
        let colour = config_colour(config);
        let mut bars = Vec::new();
        let mut whiskers = Vec::new();
        for (m, &model) in models.iter().enumerate() {
            let rate = summary.cell(config, model).recovery_rate();
            let Some(estimate) = rate.estimate() else { continue };
            let left = m as f64 + GROUP_GAP + c as f64 * bar_width;
            bars.push(Rectangle::new([(left, 0.0), (left + bar_width, estimate * PERCENT)], colour.filled()));
            whiskers.push(ErrorBar::new_vertical(
                left + bar_width / 2.0,
                rate.low() * PERCENT,
                estimate * PERCENT,
                rate.high() * PERCENT,
                BLACK.stroke_width(1),
                WHISKER_CAP_PX,
            ));
        }
        chart.draw_series(bars)?;
        chart.draw_series(whiskers)?;
    }
    for (m, model) in models.iter().enumerate() {
        let (x, y) = chart.backend_coord(&(m as f64 + 0.5, 0.0));
        root.draw(&Text::new(model.name(), (x, y + 8), label_style(Pos::new(HPos::Center, VPos::Top))))?;
    }
    Ok(())
}

fn draw_outcomes(root: &Root<'_>, summary: &Summary) -> DrawResult {
    let mut rows = Vec::new();
    for model in summary.models() {
        for config in summary.configs() {
            rows.push((format!("{model} · {config}"), summary.cell(config, model)));
        }
    }
    let n = rows.len().max(1) as f64;
    let legend: Vec<(&str, RGBColor)> = Outcome::ALL.iter().map(|&o| (o.name(), outcome_colour(o))).collect();
    let area = frame(root, "Outcomes by fault model and configuration (share of trials)", &legend)?;
    let mut chart = ChartBuilder::on(&area)
        .margin(MARGIN_PX)
        .margin_right(RIGHT_MARGIN_PX)
        .x_label_area_size(X_LABEL_AREA_PX)
        .y_label_area_size(ROW_LABEL_AREA_PX)
        .build_cartesian_2d(0.0..PERCENT, 0.0..n)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(0)
        .x_label_formatter(&whole)
        .x_desc("share of trials (%)")
        .label_style((FONT, LABEL_FONT_PX))
        .draw()?;
    let gap = GROUP_GAP;
    for outcome in Outcome::ALL {
        let colour = outcome_colour(outcome);
        let mut bars = Vec::new();
        for (r, (_, counts)) in rows.iter().enumerate() {
            if counts.trials() == 0 {
                continue;
            }
            let total = counts.trials() as f64;
            let before: u64 = Outcome::ALL[..outcome.index()].iter().map(|&o| counts.get(o)).sum();
            let start = before as f64 / total * PERCENT;
            let end = start + counts.get(outcome) as f64 / total * PERCENT;
            let top = n - r as f64 - gap;
            bars.push(Rectangle::new([(start, top), (end, top - 1.0 + 2.0 * gap)], colour.filled()));
        }
        chart.draw_series(bars)?;
    }
    for (r, (name, _)) in rows.iter().enumerate() {
        let (x, y) = chart.backend_coord(&(0.0, n - r as f64 - 0.5));
        root.draw(&Text::new(name.as_str(), (x - 8, y), label_style(Pos::new(HPos::Right, VPos::Center))))?;
    }
    Ok(())
}

fn draw_latency(root: &Root<'_>, summary: &Summary) -> DrawResult {
    let configs: Vec<Config> =
        summary.configs().into_iter().filter(|&c| !summary.latencies(c).is_empty()).collect();
    let max_us = configs
        .iter()
        .flat_map(|&c| summary.latencies(c).iter())
        .map(|&ns| ns as f64 / NS_PER_US)
        .fold(0.0, f64::max);
    // One bin at least 1 µs wide, so a single latency still gets a bar.
    let bin_us = (max_us / LATENCY_BINS as f64).max(1.0);
    let mut counts = vec![vec![0u32; LATENCY_BINS]; configs.len()];
    for (c, &config) in configs.iter().enumerate() {
        for &ns in summary.latencies(config) {
            let bin = ((ns as f64 / NS_PER_US / bin_us) as usize).min(LATENCY_BINS - 1);
            counts[c][bin] += 1;
        }
    }
    let highest = counts.iter().flatten().copied().max().unwrap_or(0).max(1);
    let legend: Vec<(&str, RGBColor)> = configs.iter().map(|&c| (c.name(), config_colour(c))).collect();
    let area = frame(root, "Recovery latency (recovered and recovered-leaky trials)", &legend)?;
    let mut chart = ChartBuilder::on(&area)
        .margin(MARGIN_PX)
        .margin_right(RIGHT_MARGIN_PX)
        .x_label_area_size(X_LABEL_AREA_PX)
        .y_label_area_size(Y_LABEL_AREA_PX)
        .build_cartesian_2d(0.0..bin_us * LATENCY_BINS as f64, 0.0..f64::from(highest) * 1.1)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_label_formatter(&whole)
        .y_label_formatter(&whole)
        .x_desc("latency from detection to first answer (µs)")
        .y_desc("trials")
        .label_style((FONT, LABEL_FONT_PX))
        .draw()?;
    if configs.is_empty() {
        let (x, y) = chart.backend_coord(&(bin_us * LATENCY_BINS as f64 / 2.0, f64::from(highest) / 2.0));
        root.draw(&Text::new("no recovered trials", (x, y), label_style(Pos::new(HPos::Center, VPos::Center))))?;
        return Ok(());
    }
    let bar_width = bin_us * (1.0 - 2.0 * GROUP_GAP) / configs.len() as f64;
    for (c, &config) in configs.iter().enumerate() {
        let colour = config_colour(config);
        let bars = counts[c].iter().enumerate().filter(|(_, &n)| n > 0).map(|(bin, &n)| {
            let left = bin as f64 * bin_us + bin_us * GROUP_GAP + c as f64 * bar_width;
            Rectangle::new([(left, 0.0), (left + bar_width, f64::from(n))], colour.filled())
        });
        chart.draw_series(bars)?;
    }
    Ok(())
}
