//! `feedwarden eval`'s engine: how well a category's scores agree with a researcher's labels — precision,
//! recall, F1 at a threshold, ROC-AUC, a calibration table and a threshold sweep, as text and SVG.

pub mod calibration;
pub mod data;
pub mod metrics;
pub mod plot;
pub mod sweep;

use std::fmt::Write;

/// Everything `eval` reports for one category.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    pub category: String,
    pub threshold: f64,
    pub n: usize,
    pub positives: usize,
    pub at_threshold: metrics::Confusion,
    pub roc_auc: Option<f64>,
    pub average_precision: Option<f64>,
    pub brier: f64,
    pub calibration: Vec<calibration::Bin>,
    pub ece: f64,
    pub sweep: Vec<sweep::Point>,
    pub roc: Vec<(f64, f64)>,
}

impl Report {
    /// Compute every figure from `(score, is_positive)` pairs.
    pub fn new(category: &str, threshold: f64, scored: &[(f64, bool)], bins: usize) -> Self {
        let calibration = calibration::bins(scored, bins);
        Report {
            category: category.to_string(),
            threshold,
            n: scored.len(),
            positives: scored.iter().filter(|s| s.1).count(),
            at_threshold: metrics::Confusion::at(scored, threshold),
            roc_auc: metrics::roc_auc(scored),
            average_precision: metrics::average_precision(scored),
            brier: metrics::brier(scored),
            ece: calibration::ece(&calibration, scored.len()),
            calibration,
            sweep: sweep::sweep(scored, 0.05),
            roc: metrics::roc_curve(scored),
        }
    }

    /// The report as a plain-text table.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let c = &self.at_threshold;
        let opt = |x: Option<f64>| x.map(|v| format!("{v:.3}")).unwrap_or_else(|| "n/a (one class only)".into());
        let _ = writeln!(
            s,
            "category {}: {} examples, {} positive ({:.1}%)",
            self.category,
            self.n,
            self.positives,
            100.0 * self.positives as f64 / self.n.max(1) as f64
        );
        let _ = writeln!(
            s,
            "\nat threshold {:.2}:  precision {:.3}  recall {:.3}  F1 {:.3}  accuracy {:.3}",
            self.threshold,
            c.precision(),
            c.recall(),
            c.f1(),
            c.accuracy()
        );
        let _ = writeln!(s, "  TP {}  FP {}  FN {}  TN {}", c.tp, c.fp, c.fn_, c.tn);
        let _ = writeln!(
            s,
            "ROC-AUC {}  average precision {}  Brier {:.4}  ECE {:.4}",
            opt(self.roc_auc),
            opt(self.average_precision),
            self.brier,
            self.ece
        );
        let _ = writeln!(s, "\ncalibration (score bin → observed positive rate):");
        let _ = writeln!(s, "  {:<11} {:>6} {:>10} {:>10}", "bin", "n", "mean score", "positive");
        for b in &self.calibration {
            let rate = b.positive_rate().map(|r| format!("{r:.3}")).unwrap_or_else(|| "-".into());
            let mean = b.mean_score().map(|r| format!("{r:.3}")).unwrap_or_else(|| "-".into());
            let _ = writeln!(
                s,
                "  [{:.2},{:.2}{} {:>6} {:>10} {:>10}",
                b.lo,
                b.hi,
                if b.hi >= 1.0 { "]" } else { ")" },
                b.n,
                mean,
                rate
            );
        }
        let _ = writeln!(s, "\nthreshold sweep:");
        let _ = writeln!(s, "  {:>9} {:>9} {:>9} {:>9} {:>9}", "threshold", "precision", "recall", "F1", "flagged");
        for p in &self.sweep {
            let _ = writeln!(
                s,
                "  {:>9.2} {:>9.3} {:>9.3} {:>9.3} {:>9}",
                p.threshold, p.precision, p.recall, p.f1, p.flagged
            );
        }
        if let Some(best) = sweep::best(&self.sweep) {
            let _ = writeln!(s, "best F1 {:.3} at threshold {:.2}", best.f1, best.threshold);
        }
        s
    }
}
