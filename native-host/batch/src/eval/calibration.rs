//! Calibration: equal-width score bins with their mean score and observed positive rate (a reliability
//! table), and the expected calibration error.

/// One score bin `[lo, hi)` (the last one includes 1.0).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Bin {
    pub lo: f64,
    pub hi: f64,
    pub n: usize,
    pub positives: usize,
    pub score_sum: f64,
}

impl Bin {
    pub fn mean_score(&self) -> Option<f64> {
        (self.n > 0).then(|| self.score_sum / self.n as f64)
    }
    pub fn positive_rate(&self) -> Option<f64> {
        (self.n > 0).then(|| self.positives as f64 / self.n as f64)
    }
}

pub fn bins(scored: &[(f64, bool)], count: usize) -> Vec<Bin> {
    let count = count.max(1);
    let mut out: Vec<Bin> = (0..count)
        .map(|i| Bin {
            lo: i as f64 / count as f64,
            hi: (i + 1) as f64 / count as f64,
            n: 0,
            positives: 0,
            score_sum: 0.0,
        })
        .collect();
    for &(s, y) in scored {
        let i = ((s.clamp(0.0, 1.0) * count as f64) as usize).min(count - 1);
        out[i].n += 1;
        out[i].positives += usize::from(y);
        out[i].score_sum += s;
    }
    out
}

/// Expected calibration error: the bins' |mean score − positive rate|, weighted by their size.
pub fn ece(bins: &[Bin], n: usize) -> f64 {
    if n == 0 {
        return 0.0;
    }
    bins.iter().filter_map(|b| Some(b.n as f64 / n as f64 * (b.mean_score()? - b.positive_rate()?).abs())).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_and_ece() {
        let d = [(0.05, false), (0.15, true), (0.95, true), (1.0, true)];
        let b = bins(&d, 10);
        assert_eq!(b[0].n, 1);
        assert_eq!(b[1].positives, 1);
        assert_eq!(b[9].n, 2, "1.0 falls in the last bin");
        let e = ece(&b, d.len());
        let want = 0.25 * 0.05 + 0.25 * 0.85 + 0.5 * (1.0 - 0.975);
        assert!((e - want).abs() < 1e-12, "{e} vs {want}");
    }
}
