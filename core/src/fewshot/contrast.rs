//! The trained few-shot scorer for user-defined rules with enough examples: a contrast of the example
//! centroids on the stock sentence vector and on the judge's fine-tuned task vector, mixed and scaled by
//! leave-one-out scores of the rule's own examples.
//!
//! The centroid maths of [`super::user_category_probability`] match topics well (an all-MiniLM sentence vector
//! knows what a post is about) but style poorly: 10 + 10 examples of "offensive" tweets give ROC-AUC ~0.60.
//! The judge's task vector was trained on style (insult, anger, aggression, bait), so a rule whose examples
//! differ in style is better judged there, while a topical rule is better judged on the sentence vector. The
//! rule's own examples decide: each is scored with itself left out, under the task-vector weights
//! [`TASK_WEIGHTS`], and a weight replaces the one before only when it ranks those examples better by more
//! than [`CHOICE_MARGIN`] (ROC-AUC); the sentence vector alone is the default. Measured in
//! `models/cards/judge.md` ("Few-shot user-defined categories").

use super::{centroid, cosine};

/// A rule needs at least this many `should_match` and this many `should_not_match` examples for the trained
/// scorer; with fewer, the centroid maths score it (too few examples to choose or scale anything by).
pub const MIN_CONTRAST_EXAMPLES: usize = 5;
/// The task-vector weights tried, in order; 0 = the sentence vector alone.
pub const TASK_WEIGHTS: [f32; 3] = [0.0, 0.5, 1.0];
/// How much better (leave-one-out ROC-AUC over the rule's examples) a weight must rank them to be chosen.
pub const CHOICE_MARGIN: f32 = 0.05;
/// The logit at the mean leave-one-out score of the positive examples (minus it at the negatives' mean).
const SPREAD_LOGIT: f32 = 2.0;
/// The smallest gap between the two means the scale divides by (examples that do not separate).
const MIN_GAP: f32 = 0.02;

/// One example's vectors as the judge computes them: the stock sentence vector (unit length) and the task
/// vector (raw; the scorer centres it with [`centre_task`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ExampleVectors {
    pub sentence: Vec<f32>,
    pub task: Vec<f32>,
}

/// `normalize(normalize(task) − centre)`: unrelated posts' task vectors share a large common direction, so
/// their cosines sit high; removing the mean over ordinary tweets puts them near 0, as sentence vectors are.
pub fn centre_task(task: &[f32], centre: &[f32]) -> Vec<f32> {
    let norm = task.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
    let v: Vec<f32> = task.iter().zip(centre).map(|(x, c)| x / norm - c).collect();
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
    v.iter().map(|x| x / n).collect()
}

#[derive(Debug, Clone, PartialEq)]
struct Prototypes {
    pos_sentence: Vec<f32>,
    neg_sentence: Vec<f32>,
    pos_task: Vec<f32>,
    neg_task: Vec<f32>,
}

impl Prototypes {
    /// The four centroids; the rule's description (its sentence vector), when given, counts as one more
    /// positive on the sentence side.
    fn of(positive: &[&ExampleVectors], negative: &[&ExampleVectors], description: Option<&Vec<f32>>) -> Option<Self> {
        let c = |set: &[&ExampleVectors], task: bool| {
            let v: Vec<Vec<f32>> = set.iter().map(|e| if task { e.task.clone() } else { e.sentence.clone() }).collect();
            centroid(&v)
        };
        let mut pos_sentence: Vec<Vec<f32>> = positive.iter().map(|e| e.sentence.clone()).collect();
        pos_sentence.extend(description.cloned());
        Some(Prototypes {
            pos_sentence: centroid(&pos_sentence)?,
            neg_sentence: c(negative, false)?,
            pos_task: c(positive, true)?,
            neg_task: c(negative, true)?,
        })
    }

    /// (sentence contrast, task contrast) of one post.
    fn contrasts(&self, sentence: &[f32], task: &[f32]) -> (f32, f32) {
        (
            cosine(sentence, &self.pos_sentence) - cosine(sentence, &self.neg_sentence),
            cosine(task, &self.pos_task) - cosine(task, &self.neg_task),
        )
    }
}

/// A user-defined rule's trained scorer: `p = sigmoid(gain · (s − midpoint))` with
/// `s = (1 − w) · (cos(x, P⁺) − cos(x, P⁻)) + w · (cos(t, T⁺) − cos(t, T⁻))`, where P± are the unit centroids
/// of the positive (with the rule's description) and negative examples' sentence vectors, T± those of the
/// examples' centred task vectors (a description is not a post: its tone is no example's), and the
/// weight w, the midpoint and the gain come from the examples' leave-one-out scores: the midpoint halfway
/// between the positives' mean and the negatives' mean, the gain putting those means at logits ±2 (p 0.88 and
/// 0.12).
#[derive(Debug, Clone, PartialEq)]
pub struct ContrastScorer {
    /// The judge's task-vector centre (the mean unit task vector of ordinary posts).
    centre: Vec<f32>,
    /// The rule's description (sentence vector), a positive on the sentence side; never left out.
    description: Option<Vec<f32>>,
    /// The examples, task vectors centred.
    positive: Vec<ExampleVectors>,
    negative: Vec<ExampleVectors>,
    prototypes: Prototypes,
    /// The chosen task-vector weight (one of [`TASK_WEIGHTS`]).
    pub task_weight: f32,
    /// Leave-one-out ROC-AUC of the chosen weight over the rule's examples.
    pub examples_auc: f32,
    midpoint: f32,
    gain: f32,
}

/// ROC-AUC of scores against labels (ties count half); 0.5 when one class is empty.
fn roc_auc(pos: &[f32], neg: &[f32]) -> f32 {
    if pos.is_empty() || neg.is_empty() {
        return 0.5;
    }
    let mut wins = 0.0f32;
    for p in pos {
        for n in neg {
            wins += if p > n {
                1.0
            } else if p == n {
                0.5
            } else {
                0.0
            };
        }
    }
    wins / (pos.len() * neg.len()) as f32
}

impl ContrastScorer {
    /// Fit the scorer to a rule's examples (raw task vectors; `centre` is the judge's task-vector centre) and
    /// its description's sentence vector; `None` when either side has fewer than [`MIN_CONTRAST_EXAMPLES`]
    /// (the caller keeps the centroid maths) or a side's vectors cancel out.
    pub fn fit(
        description: Option<Vec<f32>>,
        positive: Vec<ExampleVectors>,
        negative: Vec<ExampleVectors>,
        centre: &[f32],
    ) -> Option<Self> {
        if positive.len() < MIN_CONTRAST_EXAMPLES || negative.len() < MIN_CONTRAST_EXAMPLES {
            return None;
        }
        let centred = |v: Vec<ExampleVectors>| -> Vec<ExampleVectors> {
            v.into_iter().map(|e| ExampleVectors { task: centre_task(&e.task, centre), sentence: e.sentence }).collect()
        };
        Self::fit_any(description, centred(positive), centred(negative), centre.to_vec())
    }

    /// The fit on centred examples, without the minimum (also for leaving one example out: `policy test`).
    fn fit_any(
        description: Option<Vec<f32>>,
        positive: Vec<ExampleVectors>,
        negative: Vec<ExampleVectors>,
        centre: Vec<f32>,
    ) -> Option<Self> {
        let all_pos: Vec<&ExampleVectors> = positive.iter().collect();
        let all_neg: Vec<&ExampleVectors> = negative.iter().collect();
        let prototypes = Prototypes::of(&all_pos, &all_neg, description.as_ref())?;
        // Leave-one-out contrasts of every example (a side of one example cannot leave one out).
        let loo = |side_pos: bool, i: usize| -> Option<(f32, f32)> {
            let (p, n): (Vec<&ExampleVectors>, Vec<&ExampleVectors>) = if side_pos {
                (all_pos.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, e)| *e).collect(), all_neg.clone())
            } else {
                (all_pos.clone(), all_neg.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, e)| *e).collect())
            };
            let e = if side_pos { all_pos[i] } else { all_neg[i] };
            Some(Prototypes::of(&p, &n, description.as_ref())?.contrasts(&e.sentence, &e.task))
        };
        let pos_loo: Vec<(f32, f32)> = (0..positive.len()).filter_map(|i| loo(true, i)).collect();
        let neg_loo: Vec<(f32, f32)> = (0..negative.len()).filter_map(|i| loo(false, i)).collect();
        let mix = |w: f32, c: &(f32, f32)| (1.0 - w) * c.0 + w * c.1;
        let scores = |w: f32| -> (Vec<f32>, Vec<f32>) {
            (pos_loo.iter().map(|c| mix(w, c)).collect(), neg_loo.iter().map(|c| mix(w, c)).collect())
        };
        let (mut task_weight, mut examples_auc) = (TASK_WEIGHTS[0], {
            let (p, n) = scores(TASK_WEIGHTS[0]);
            roc_auc(&p, &n)
        });
        for &w in &TASK_WEIGHTS[1..] {
            let (p, n) = scores(w);
            let auc = roc_auc(&p, &n);
            if auc > examples_auc + CHOICE_MARGIN {
                (task_weight, examples_auc) = (w, auc);
            }
        }
        let (p, n) = scores(task_weight);
        let mean = |v: &[f32]| if v.is_empty() { 0.0 } else { v.iter().sum::<f32>() / v.len() as f32 };
        let (mp, mn) = (mean(&p), mean(&n));
        let midpoint = (mp + mn) / 2.0;
        let gain = 2.0 * SPREAD_LOGIT / (mp - mn).max(MIN_GAP);
        Some(ContrastScorer {
            centre,
            description,
            positive,
            negative,
            prototypes,
            task_weight,
            examples_auc,
            midpoint,
            gain,
        })
    }

    /// Probability that a post (its unit sentence vector and raw task vector) belongs to the rule.
    pub fn probability(&self, sentence: &[f32], task: &[f32]) -> f32 {
        let (s, t) = self.prototypes.contrasts(sentence, &centre_task(task, &self.centre));
        let w = self.task_weight;
        crate::heads::sigmoid(self.gain * ((1.0 - w) * s + w * t - self.midpoint))
    }

    /// The scorer refitted without one example (`positive` side or not, index among that side's examples), for
    /// testing a rule's examples each with itself left out. `None` when a side would be left empty.
    pub fn without(&self, positive: bool, index: usize) -> Option<Self> {
        let (mut p, mut n) = (self.positive.clone(), self.negative.clone());
        let side = if positive { &mut p } else { &mut n };
        if index < side.len() {
            side.remove(index);
        }
        Self::fit_any(self.description.clone(), p, n, self.centre.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(v: &[f32]) -> Vec<f32> {
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter().map(|x| x / n).collect()
    }

    /// Examples whose sentence vectors are all alike (same topic) but whose task vectors split by class
    /// (style): the scorer must choose the task vector and rank new posts by it.
    fn styled(class: bool, k: usize) -> ExampleVectors {
        let jitter = k as f32 * 0.05;
        ExampleVectors {
            sentence: unit(&[1.0, jitter, if class { 0.02 } else { -0.02 }, 0.1 * ((k % 3) as f32)]),
            task: unit(&[if class { 1.0 } else { -1.0 }, jitter, 0.3, 0.0]),
        }
    }

    #[test]
    fn too_few_examples_keep_the_centroid_maths() {
        let pos: Vec<_> = (0..4).map(|k| styled(true, k)).collect();
        let neg: Vec<_> = (0..5).map(|k| styled(false, k)).collect();
        assert!(ContrastScorer::fit(None, pos, neg, &[0.0; 4]).is_none());
    }

    #[test]
    fn style_separated_examples_choose_the_task_vector() {
        let pos: Vec<_> = (0..6).map(|k| styled(true, k)).collect();
        let neg: Vec<_> = (0..6).map(|k| styled(false, k)).collect();
        let s = ContrastScorer::fit(None, pos, neg, &[0.0; 4]).unwrap();
        assert!(s.task_weight > 0.0, "{s:?}");
        let yes = styled(true, 9);
        let no = styled(false, 9);
        let (py, pn) = (s.probability(&yes.sentence, &yes.task), s.probability(&no.sentence, &no.task));
        assert!(py > 0.8 && pn < 0.2, "{py} {pn}");
    }

    /// Topic-separated examples (sentence vectors differ, task vectors alike) keep the sentence vector: the
    /// task vector does not rank them better by the margin.
    #[test]
    fn topic_separated_examples_keep_the_sentence_vector() {
        let ex = |class: bool, k: usize| ExampleVectors {
            sentence: unit(&[if class { 1.0 } else { -1.0 }, k as f32 * 0.05, 0.3]),
            task: unit(&[1.0, k as f32 * 0.05, if class { 0.01 } else { -0.01 }]),
        };
        let pos = (0..5).map(|k| ex(true, k)).collect();
        let description = Some(unit(&[1.0, 0.0, 0.0]));
        let s = ContrastScorer::fit(description, pos, (0..5).map(|k| ex(false, k)).collect(), &[0.0; 3]).unwrap();
        assert_eq!(s.task_weight, 0.0);
        assert!((s.examples_auc - 1.0).abs() < 1e-6);
        let yes = ex(true, 7);
        assert!(s.probability(&yes.sentence, &yes.task) > 0.8);
        // leaving one out refits on the rest and still ranks it
        let loo = s.without(true, 0).unwrap();
        let first = ex(true, 0);
        assert!(loo.probability(&first.sentence, &first.task) > 0.5);
        assert!(s.without(false, 0).is_some());
    }

    #[test]
    fn centring_removes_the_common_direction() {
        let centre = vec![0.6, 0.0];
        let a = centre_task(&[1.0, 0.2], &centre);
        let b = centre_task(&[1.0, -0.2], &centre);
        assert!((a.iter().map(|x| x * x).sum::<f32>() - 1.0).abs() < 1e-5);
        assert!(cosine(&a, &b) < cosine(&unit(&[1.0, 0.2]), &unit(&[1.0, -0.2])));
    }

    #[test]
    fn roc_auc_counts_ties_half() {
        assert_eq!(roc_auc(&[1.0, 2.0], &[0.0]), 1.0);
        assert_eq!(roc_auc(&[1.0], &[1.0]), 0.5);
        assert_eq!(roc_auc(&[], &[1.0]), 0.5);
    }
}
