//! Threshold sweep: precision, recall and F1 at evenly spaced thresholds, and the best F1.

use super::metrics::Confusion;

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Point {
    pub threshold: f64,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Examples at or above the threshold.
    pub flagged: usize,
}

/// Thresholds `step, 2·step, … < 1`.
pub fn sweep(scored: &[(f64, bool)], step: f64) -> Vec<Point> {
    let steps = (1.0 / step).round() as usize;
    (1..steps)
        .map(|i| {
            let threshold = i as f64 / steps as f64;
            let c = Confusion::at(scored, threshold);
            Point { threshold, precision: c.precision(), recall: c.recall(), f1: c.f1(), flagged: c.tp + c.fp }
        })
        .collect()
}

/// The point with the highest F1 (the lowest threshold among ties).
pub fn best(points: &[Point]) -> Option<Point> {
    points.iter().copied().fold(None, |acc: Option<Point>, p| match acc {
        Some(a) if a.f1 >= p.f1 => Some(a),
        _ => Some(p),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sweep_finds_the_separating_threshold() {
        let d = [(0.9, true), (0.7, true), (0.4, false), (0.2, false)];
        let pts = sweep(&d, 0.05);
        assert_eq!(pts.len(), 19);
        let b = best(&pts).unwrap();
        assert_eq!(b.f1, 1.0);
        assert!((b.threshold - 0.45).abs() < 1e-9, "{}", b.threshold);
    }
}
