//! Evaluation of the detectors: the paper's table (for each γ, how many in-distribution inputs warn and how
//! many of the misclassified ones are caught), the warning rates on an out-of-distribution set, and AUROC.
//!
//! Every detector gives a score where larger means more unusual ([`Detector`]). AUROC is the probability that a
//! random positive (an out-of-distribution input, or a misclassified one) scores higher than a random negative
//! (an in-distribution input, or a correctly classified one), ties counting one half — the Mann–Whitney U
//! statistic with mid-ranks: `AUROC = (Σ_{positives} rank − P(P+1)/2) / (P·N)`.
//!
//! Thresholds are fixed on in-distribution data only: "95% TPR" is the smallest threshold `t` such that at
//! least 95% of the in-distribution inputs score `≤ t` (are accepted); an input warns when its score `> t`.

use crate::error::{Error, Result};
use serde::Serialize;

/// The detectors compared, each on the monitored layer except the softmax baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Detector {
    /// Hamming distance of the on/off pattern to the nearest recorded pattern of the predicted class
    /// (Cheng et al. 2019); warns when `> γ`.
    Pattern,
    /// Scaled distance outside the nearest k-means box of the predicted class (Henzinger et al. 2020); warns
    /// when `> 0`.
    Box,
    /// Squared Mahalanobis distance to the closest class mean with a shared covariance (Lee et al. 2018).
    Mahalanobis,
    /// `−log max_c softmax_c` of the logits (Hendrycks & Gimpel 2017), a monotone transform of
    /// `1 − max softmax` that keeps its resolution near certainty.
    MaxSoftmax,
}

impl Detector {
    pub const ALL: [Detector; 4] = [
        Detector::Pattern,
        Detector::Box,
        Detector::Mahalanobis,
        Detector::MaxSoftmax,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Detector::Pattern => "pattern",
            Detector::Box => "box",
            Detector::Mahalanobis => "mahalanobis",
            Detector::MaxSoftmax => "max-softmax",
        }
    }
}

/// One input's score under every detector (larger = more unusual).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Scores {
    pub pattern: f64,
    pub r#box: f64,
    pub mahalanobis: f64,
    pub max_softmax: f64,
}

impl Scores {
    pub fn get(&self, detector: Detector) -> f64 {
        match detector {
            Detector::Pattern => self.pattern,
            Detector::Box => self.r#box,
            Detector::Mahalanobis => self.mahalanobis,
            Detector::MaxSoftmax => self.max_softmax,
        }
    }
}

/// A scored in-distribution input: whether the network got it wrong, and its scores.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Labelled {
    pub misclassified: bool,
    pub scores: Scores,
}

/// Share `part / whole`, `None` when `whole` is 0.
fn share(part: usize, whole: usize) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// What a threshold does: warning rates and the paper's two shares.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rates {
    /// In-distribution inputs with score `> threshold`.
    pub warned: usize,
    /// `warned / in-distribution inputs`.
    pub warning_rate: Option<f64>,
    /// Misclassified among the warned (the paper's precision of a warning).
    pub warned_misclassified: Option<f64>,
    /// Warned among the misclassified (the share of misclassifications caught).
    pub misclassified_caught: Option<f64>,
    /// Out-of-distribution inputs with score `> threshold`, as a share.
    pub ood_warning_rate: Option<f64>,
}

impl Rates {
    pub fn at(detector: Detector, threshold: f64, inputs: &[Labelled], ood: &[Scores]) -> Rates {
        let warns = |s: &Scores| s.get(detector) > threshold;
        let warned = inputs.iter().filter(|x| warns(&x.scores)).count();
        let misclassified = inputs.iter().filter(|x| x.misclassified).count();
        let caught = inputs
            .iter()
            .filter(|x| x.misclassified && warns(&x.scores))
            .count();
        Rates {
            warned,
            warning_rate: share(warned, inputs.len()),
            warned_misclassified: share(caught, warned),
            misclassified_caught: share(caught, misclassified),
            ood_warning_rate: share(ood.iter().filter(|s| warns(s)).count(), ood.len()),
        }
    }
}

/// A row of the paper's table: the pattern monitor at one γ.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GammaRow {
    pub gamma: u32,
    #[serde(flatten)]
    pub rates: Rates,
}

/// A threshold and what it does.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct OperatingPoint {
    pub threshold: f64,
    #[serde(flatten)]
    pub rates: Rates,
}

/// One detector's summary.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DetectorRow {
    pub detector: Detector,
    /// In-distribution (negative) against out-of-distribution (positive).
    pub auroc_ood: Option<f64>,
    /// Correctly classified (negative) against misclassified (positive) in-distribution inputs.
    pub auroc_misclassified: Option<f64>,
    /// Threshold fixed at 95% true-positive rate on the in-distribution inputs.
    pub at_95_tpr: OperatingPoint,
    /// The detector's own warning rule, where it has one (pattern: the default γ; box: outside every box).
    pub native: Option<OperatingPoint>,
}

/// Everything `convscope monitor eval` prints.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    pub inputs: usize,
    pub misclassified: usize,
    pub ood_inputs: usize,
    pub default_gamma: u32,
    pub gamma: Vec<GammaRow>,
    pub detectors: Vec<DetectorRow>,
}

impl Evaluation {
    /// Tabulates scored in-distribution inputs and out-of-distribution scores for γ in `gammas`.
    pub fn new(
        inputs: &[Labelled],
        ood: &[Scores],
        gammas: impl IntoIterator<Item = u32>,
        default_gamma: u32,
    ) -> Result<Evaluation> {
        if inputs.is_empty() {
            return Err(Error::shape("in-distribution inputs", &[1], &[0]));
        }
        let gamma = gammas
            .into_iter()
            .map(|g| GammaRow {
                gamma: g,
                rates: Rates::at(Detector::Pattern, f64::from(g), inputs, ood),
            })
            .collect();
        let mut detectors = Vec::new();
        for detector in Detector::ALL {
            let scores: Vec<f64> = inputs.iter().map(|x| x.scores.get(detector)).collect();
            let ood_scores: Vec<f64> = ood.iter().map(|s| s.get(detector)).collect();
            let (wrong, right): (Vec<&Labelled>, Vec<&Labelled>) =
                inputs.iter().partition(|x| x.misclassified);
            let score_of = |v: Vec<&Labelled>| -> Vec<f64> {
                v.iter().map(|x| x.scores.get(detector)).collect()
            };
            let auroc_ood = optional_auroc(&scores, &ood_scores)?;
            let auroc_misclassified = optional_auroc(&score_of(right), &score_of(wrong))?;
            let threshold = threshold_at_tpr(&scores, 0.95)?;
            let point = |threshold: f64| OperatingPoint {
                threshold,
                rates: Rates::at(detector, threshold, inputs, ood),
            };
            let native = match detector {
                Detector::Pattern => Some(point(f64::from(default_gamma))),
                Detector::Box => Some(point(0.0)),
                Detector::Mahalanobis | Detector::MaxSoftmax => None,
            };
            detectors.push(DetectorRow {
                detector,
                auroc_ood,
                auroc_misclassified,
                at_95_tpr: point(threshold),
                native,
            });
        }
        Ok(Evaluation {
            inputs: inputs.len(),
            misclassified: inputs.iter().filter(|x| x.misclassified).count(),
            ood_inputs: ood.len(),
            default_gamma,
            gamma,
            detectors,
        })
    }
}

fn optional_auroc(negatives: &[f64], positives: &[f64]) -> Result<Option<f64>> {
    if negatives.is_empty() || positives.is_empty() {
        return Ok(None);
    }
    auroc(negatives, positives).map(Some)
}

fn check_scores(scores: &[f64]) -> Result<()> {
    if scores.iter().any(|s| s.is_nan()) {
        return Err(Error::non_finite("detector scores (NaN)"));
    }
    Ok(())
}

/// Area under the ROC curve of `positives` against `negatives` (larger score = positive), ties counting one
/// half. Infinite scores are allowed; NaN and empty sets are errors.
pub fn auroc(negatives: &[f64], positives: &[f64]) -> Result<f64> {
    if negatives.is_empty() || positives.is_empty() {
        return Err(Error::option(
            "scores",
            "AUROC needs at least one positive and one negative score",
        ));
    }
    check_scores(negatives)?;
    check_scores(positives)?;
    let mut all: Vec<(f64, bool)> = negatives
        .iter()
        .map(|&s| (s, false))
        .chain(positives.iter().map(|&s| (s, true)))
        .collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    // Sum of the (1-based) mid-ranks of the positives.
    let mut positive_rank_sum = 0f64;
    let mut start = 0;
    while start < all.len() {
        let value = all[start].0;
        let end = start + all[start..].iter().take_while(|x| x.0 == value).count();
        let mid_rank = (start + 1 + end) as f64 / 2.0;
        let tied_positives = all[start..end].iter().filter(|x| x.1).count();
        positive_rank_sum += mid_rank * tied_positives as f64;
        start = end;
    }
    let (p, n) = (positives.len() as f64, negatives.len() as f64);
    Ok((positive_rank_sum - p * (p + 1.0) / 2.0) / (p * n))
}

/// The smallest threshold `t` (one of the scores) such that a share of at least `tpr` of `scores` is `≤ t`.
pub fn threshold_at_tpr(scores: &[f64], tpr: f64) -> Result<f64> {
    check_scores(scores)?;
    if scores.is_empty() || !(tpr > 0.0 && tpr <= 1.0) {
        return Err(Error::option(
            "tpr",
            format!(
                "a threshold needs scores and a true-positive rate in (0, 1], got {} scores and {tpr}",
                scores.len()
            ),
        ));
    }
    let mut sorted = scores.to_vec();
    sorted.sort_by(f64::total_cmp);
    let accepted = ((tpr * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Ok(sorted[accepted - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auroc_of_hand_made_scores_with_ties() {
        // Perfect separation, perfect inversion, and all tied.
        assert_eq!(auroc(&[1.0, 2.0], &[3.0, 4.0]).unwrap(), 1.0);
        assert_eq!(auroc(&[3.0, 4.0], &[1.0, 2.0]).unwrap(), 0.0);
        assert_eq!(auroc(&[5.0, 5.0], &[5.0]).unwrap(), 0.5);
        // Negatives {1, 2, 3}, positives {2, 4}: pairs (pos > neg) = 1 (2>1) + 3 (4>all) = 4, ties = 1
        // (2 = 2) → (4 + 0.5) / 6.
        assert!((auroc(&[1.0, 2.0, 3.0], &[2.0, 4.0]).unwrap() - 4.5 / 6.0).abs() < 1e-12);
        // Infinite scores rank above everything finite and tie with each other.
        assert_eq!(
            auroc(&[f64::INFINITY, 0.0], &[f64::INFINITY]).unwrap(),
            0.75
        );
        assert!(auroc(&[], &[1.0]).is_err());
        assert!(auroc(&[f64::NAN], &[1.0]).is_err());
    }

    #[test]
    fn threshold_accepts_the_requested_share() {
        let scores: Vec<f64> = (1..=20).map(f64::from).collect();
        // 95% of 20 = 19 accepted: t = 19, only 20 warns.
        assert_eq!(threshold_at_tpr(&scores, 0.95).unwrap(), 19.0);
        assert_eq!(threshold_at_tpr(&scores, 1.0).unwrap(), 20.0);
        // Ties: with 10 zeros and 10 ones a threshold of 1 accepts everything (0 would accept only half).
        let tied: Vec<f64> = (0..20).map(|i| f64::from(i % 2)).collect();
        assert_eq!(threshold_at_tpr(&tied, 0.95).unwrap(), 1.0);
        assert_eq!(threshold_at_tpr(&tied, 0.5).unwrap(), 0.0);
        assert!(threshold_at_tpr(&[], 0.95).is_err());
        assert!(threshold_at_tpr(&[1.0], 0.0).is_err());
    }

    fn scores(pattern: f64) -> Scores {
        Scores {
            pattern,
            r#box: pattern,
            mahalanobis: pattern,
            max_softmax: -pattern,
        }
    }

    #[test]
    fn the_gamma_table_counts_warnings_and_caught_misclassifications() {
        // Distances 0, 1, 2, 3 with the last two misclassified; OOD distances 1 and 5.
        let inputs: Vec<Labelled> = [0.0, 1.0, 2.0, 3.0]
            .iter()
            .enumerate()
            .map(|(i, &d)| Labelled {
                misclassified: i >= 2,
                scores: scores(d),
            })
            .collect();
        let ood = [scores(1.0), scores(5.0)];
        let e = Evaluation::new(&inputs, &ood, 0..=3, 1).unwrap();
        assert_eq!((e.inputs, e.misclassified, e.ood_inputs), (4, 2, 2));
        let row = |g: usize| e.gamma[g].rates;
        // γ = 0: distances 1, 2, 3 warn; 2 of those 3 are misclassified; both misclassified are caught.
        assert_eq!(row(0).warned, 3);
        assert_eq!(row(0).warning_rate, Some(0.75));
        assert_eq!(row(0).warned_misclassified, Some(2.0 / 3.0));
        assert_eq!(row(0).misclassified_caught, Some(1.0));
        assert_eq!(row(0).ood_warning_rate, Some(1.0));
        // γ = 2: only distance 3 warns.
        assert_eq!(row(2).warned, 1);
        assert_eq!(row(2).misclassified_caught, Some(0.5));
        assert_eq!(row(2).ood_warning_rate, Some(0.5));
        // γ = 3: nothing warns in distribution, so the share of warned that are misclassified is undefined.
        assert_eq!(row(3).warned_misclassified, None);
        let pattern = &e.detectors[0];
        assert_eq!(pattern.detector, Detector::Pattern);
        // OOD {1, 5} vs in {0, 1, 2, 3}: 5 beats all 4; 1 beats 0 and ties 1 → (4 + 1 + 0.5) / 8.
        assert_eq!(pattern.auroc_ood, Some(5.5 / 8.0));
        assert_eq!(pattern.auroc_misclassified, Some(1.0));
        assert_eq!(pattern.native.map(|p| p.rates.warned), Some(2));
        // The softmax column has the order reversed.
        assert_eq!(e.detectors[3].auroc_misclassified, Some(0.0));
    }
}
