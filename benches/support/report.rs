//! Machine-readable figures for `scripts/bench` (issue 9).
//!
//! When `MCPCA_BENCH_JSON` names a file, a bench writes the figures it printed there as a JSON
//! array of [`Figure`] records; `scripts/bench` merges them into `target/bench/summary.json`.
//! Without the variable nothing is written and the bench behaves as before.

use std::error::Error;

use serde::Serialize;

/// Which direction of a figure is the good one.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Better {
    Higher,
    Lower,
}

/// One figure, beside its same-run baseline when it has one.
#[derive(Debug, Clone, Serialize)]
pub struct Figure {
    /// Stable identifier: `--compare` matches figures of two runs by it.
    pub id: String,
    /// Table section.
    pub section: &'static str,
    pub label: String,
    pub value: f64,
    /// `ops/s`, `us`, `ms`, `s`, `req/s`.
    pub unit: &'static str,
    pub better: Better,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline_label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline_value: Option<f64>,
    /// Measured in the same run; its good direction is `better`'s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ratio: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ratio_label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub met: Option<bool>,
}

impl Figure {
    pub fn new(
        id: impl Into<String>,
        section: &'static str,
        label: impl Into<String>,
        value: f64,
        unit: &'static str,
        better: Better,
    ) -> Self {
        Figure {
            id: id.into(),
            section,
            label: label.into(),
            value,
            unit,
            better,
            baseline_label: None,
            baseline_value: None,
            ratio: None,
            ratio_label: None,
            target: None,
            met: None,
        }
    }

    /// The same-run baseline and the ratio of the figure to it (`what` says how it is formed).
    pub fn baseline(mut self, label: impl Into<String>, value: f64, ratio: f64, what: impl Into<String>) -> Self {
        self.baseline_label = Some(label.into());
        self.baseline_value = Some(value);
        self.ratio = Some(ratio);
        self.ratio_label = Some(what.into());
        self
    }

    pub fn target(mut self, target: impl Into<String>, met: bool) -> Self {
        self.target = Some(target.into());
        self.met = Some(met);
        self
    }
}

/// Write `figures` to the file `MCPCA_BENCH_JSON` names, if any.
pub fn write(figures: &[Figure]) -> Result<(), Box<dyn Error>> {
    match std::env::var_os("MCPCA_BENCH_JSON") {
        Some(path) if !path.is_empty() => {
            std::fs::write(&path, serde_json::to_vec_pretty(figures)?)
                .map_err(|e| format!("MCPCA_BENCH_JSON: cannot write {}: {e}", path.to_string_lossy()))?;
            Ok(())
        }
        _ => Ok(()),
    }
}
