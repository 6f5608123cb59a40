//! Classification metrics over `(score, is_positive)` pairs: the confusion matrix at a threshold,
//! ROC-AUC (Mann–Whitney, ties counted half), the ROC curve, average precision and the Brier score.

/// Counts at one threshold (`score >= threshold` is flagged).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Confusion {
    pub tp: usize,
    pub fp: usize,
    #[serde(rename = "fn")]
    pub fn_: usize,
    pub tn: usize,
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

impl Confusion {
    pub fn at(scored: &[(f64, bool)], threshold: f64) -> Self {
        let mut c = Confusion::default();
        for &(s, y) in scored {
            match (s >= threshold, y) {
                (true, true) => c.tp += 1,
                (true, false) => c.fp += 1,
                (false, true) => c.fn_ += 1,
                (false, false) => c.tn += 1,
            }
        }
        c
    }
    pub fn precision(&self) -> f64 {
        ratio(self.tp, self.tp + self.fp)
    }
    pub fn recall(&self) -> f64 {
        ratio(self.tp, self.tp + self.fn_)
    }
    pub fn f1(&self) -> f64 {
        ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn_)
    }
    pub fn accuracy(&self) -> f64 {
        ratio(self.tp + self.tn, self.tp + self.tn + self.fp + self.fn_)
    }
}

/// Scores sorted descending, equal scores grouped: (score, positives, negatives) per distinct score.
fn groups(scored: &[(f64, bool)]) -> Vec<(f64, usize, usize)> {
    let mut v: Vec<(f64, bool)> = scored.to_vec();
    v.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut out: Vec<(f64, usize, usize)> = Vec::new();
    for (s, y) in v {
        match out.last_mut() {
            Some(g) if g.0 == s => {
                if y {
                    g.1 += 1
                } else {
                    g.2 += 1
                }
            }
            _ => out.push((s, usize::from(y), usize::from(!y))),
        }
    }
    out
}

/// Area under the ROC curve; `None` when only one class is present.
pub fn roc_auc(scored: &[(f64, bool)]) -> Option<f64> {
    let pos = scored.iter().filter(|s| s.1).count();
    let neg = scored.len() - pos;
    if pos == 0 || neg == 0 {
        return None;
    }
    // For each positive, the negatives scored below it (ties half).
    let (mut below_neg, mut total) = (neg as f64, 0.0);
    for (_, p, n) in groups(scored) {
        below_neg -= n as f64;
        total += p as f64 * (below_neg + n as f64 / 2.0);
    }
    Some(total / (pos as f64 * neg as f64))
}

/// ROC curve points (false positive rate, true positive rate), from (0,0) to (1,1).
pub fn roc_curve(scored: &[(f64, bool)]) -> Vec<(f64, f64)> {
    let pos = scored.iter().filter(|s| s.1).count().max(1) as f64;
    let neg = (scored.len() - scored.iter().filter(|s| s.1).count()).max(1) as f64;
    let (mut tp, mut fp) = (0.0, 0.0);
    let mut out = vec![(0.0, 0.0)];
    for (_, p, n) in groups(scored) {
        tp += p as f64;
        fp += n as f64;
        out.push((fp / neg, tp / pos));
    }
    out
}

/// Average precision (area under the precision–recall curve, step-wise).
pub fn average_precision(scored: &[(f64, bool)]) -> Option<f64> {
    let pos = scored.iter().filter(|s| s.1).count();
    if pos == 0 {
        return None;
    }
    let (mut tp, mut seen, mut ap) = (0usize, 0usize, 0.0);
    for (_, p, n) in groups(scored) {
        tp += p;
        seen += p + n;
        ap += p as f64 / pos as f64 * (tp as f64 / seen as f64);
    }
    Some(ap)
}

/// Mean squared error of the scores as probabilities.
pub fn brier(scored: &[(f64, bool)]) -> f64 {
    if scored.is_empty() {
        return 0.0;
    }
    scored.iter().map(|&(s, y)| (s - f64::from(u8::from(y))).powi(2)).sum::<f64>() / scored.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confusion_and_rates() {
        let d = [(0.9, true), (0.8, false), (0.3, true), (0.1, false)];
        let c = Confusion::at(&d, 0.5);
        assert_eq!(c, Confusion { tp: 1, fp: 1, fn_: 1, tn: 1 });
        assert_eq!((c.precision(), c.recall(), c.f1(), c.accuracy()), (0.5, 0.5, 0.5, 0.5));
    }

    #[test]
    fn auc_matches_a_brute_force_pair_count() {
        let d = [(0.9, true), (0.8, false), (0.8, true), (0.3, true), (0.3, false), (0.1, false), (0.05, true)];
        let mut num = 0.0;
        let mut den = 0.0;
        for a in d.iter().filter(|x| x.1) {
            for b in d.iter().filter(|x| !x.1) {
                den += 1.0;
                num += if a.0 > b.0 {
                    1.0
                } else if a.0 == b.0 {
                    0.5
                } else {
                    0.0
                };
            }
        }
        assert!((roc_auc(&d).unwrap() - num / den).abs() < 1e-12);
        assert_eq!(roc_auc(&[(0.1, true)]), None);
        assert_eq!(roc_auc(&[(0.9, true), (0.1, false)]), Some(1.0));
        let curve = roc_curve(&d);
        assert_eq!(curve.first(), Some(&(0.0, 0.0)));
        assert_eq!(curve.last(), Some(&(1.0, 1.0)));
    }

    #[test]
    fn perfect_ranking_has_ap_one_and_brier_is_mse() {
        assert_eq!(average_precision(&[(0.9, true), (0.8, true), (0.1, false)]), Some(1.0));
        assert!((brier(&[(1.0, true), (0.5, false)]) - 0.125).abs() < 1e-12);
    }
}
