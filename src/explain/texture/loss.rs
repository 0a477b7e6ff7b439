//! The losses of texture synthesis and style transfer (Gatys, Ecker & Bethge 2015, 2016), relative so that
//! figures compare across layers and images:
//!
//! ```text
//! style    L_s = Σ_l w_l ‖G_l − Ĝ_l‖²_F / ‖Ĝ_l‖²_F      ∂L_s/∂G_l = 2 w_l (G_l − Ĝ_l) / ‖Ĝ_l‖²_F
//! content  L_c = ‖F − F̂‖²_F / ‖F̂‖²_F                  ∂L_c/∂F   = 2 (F − F̂) / ‖F̂‖²_F
//! ```
//!
//! `G_l` is the Gram matrix (`crate::explain::gram`) of the image's features at layer `l`, `Ĝ_l` the style
//! image's, `F̂` the content image's features at the content layer; `√L_c` is the content layer's relative
//! error. Shapes: features `[C_l, H_l, W_l]` (the sizes may differ between the two images: a Gram matrix is
//! `[C_l, C_l]` whatever the size), Gram matrices `[C_l, C_l]`.

use crate::error::{Error, Result};
use crate::explain::gram::{gram, gram_backward};
use crate::tensor::Tensor;

/// `Σ (a − b)²` and `Σ b²`, in `f64`.
fn squared_distance(a: &[f32], b: &[f32]) -> (f64, f64) {
    a.iter().zip(b).fold((0.0, 0.0), |(d, n), (&x, &y)| {
        let e = x as f64 - y as f64;
        (d + e * e, n + y as f64 * y as f64)
    })
}

/// The style image's Gram matrices at the style layers, with the layers' weights.
#[derive(Debug, Clone, PartialEq)]
pub struct StyleTarget {
    grams: Vec<Tensor>,
    /// `‖Ĝ_l‖²_F`.
    norms: Vec<f64>,
    weights: Vec<f32>,
}

impl StyleTarget {
    /// The target of the style image's features `maps` (one per style layer; `names` for the errors) with
    /// per-layer weights (finite, ≥ 0). A layer where the style image has no features (a zero Gram matrix)
    /// is an error: its relative loss is undefined.
    pub fn new(maps: &[Tensor], weights: &[f32], names: &[String]) -> Result<StyleTarget> {
        if weights.len() != maps.len() {
            return Err(Error::option(
                "layer-weights",
                format!("{} weights for {} style layers", weights.len(), maps.len()),
            ));
        }
        if let Some(w) = weights.iter().find(|w| !(w.is_finite() && **w >= 0.0)) {
            return Err(Error::out_of_range(
                "layer weight",
                w,
                "a finite weight ≥ 0",
            ));
        }
        let grams = maps.iter().map(gram).collect::<Result<Vec<_>>>()?;
        let norms: Vec<f64> = grams
            .iter()
            .map(|g| squared_distance(g.data(), g.data()).1)
            .collect();
        if let Some(l) = norms.iter().position(|&n| n == 0.0) {
            return Err(Error::option(
                "style",
                format!(
                    "the style image has no features at layer {} (all zero): pick another layer or image",
                    names.get(l).map_or("?", String::as_str)
                ),
            ));
        }
        Ok(StyleTarget {
            grams,
            norms,
            weights: weights.to_vec(),
        })
    }

    /// How many style layers.
    pub fn layers(&self) -> usize {
        self.grams.len()
    }

    /// The target Gram matrices.
    pub fn grams(&self) -> &[Tensor] {
        &self.grams
    }

    /// The unweighted relative distance `‖G_l − Ĝ_l‖² / ‖Ĝ_l‖²` of every layer.
    pub fn distances(&self, maps: &[Tensor]) -> Result<Vec<f64>> {
        self.check(maps)?;
        maps.iter()
            .zip(self.grams.iter().zip(&self.norms))
            .map(|(m, (target, norm))| {
                let g = gram(m)?;
                check_gram(&g, target)?;
                Ok(squared_distance(g.data(), target.data()).0 / norm)
            })
            .collect()
    }

    /// `L_s` of the image's features `maps` and its gradient at each of them.
    pub fn loss(&self, maps: &[Tensor]) -> Result<(f64, Vec<Tensor>)> {
        self.check(maps)?;
        let mut total = 0.0;
        let mut grads = Vec::with_capacity(maps.len());
        for (l, m) in maps.iter().enumerate() {
            let (target, norm, w) = (&self.grams[l], self.norms[l], self.weights[l] as f64);
            let g = gram(m)?;
            check_gram(&g, target)?;
            total += w * squared_distance(g.data(), target.data()).0 / norm;
            let scale = 2.0 * w / norm;
            let signal = g
                .data()
                .iter()
                .zip(target.data())
                .map(|(&a, &b)| (scale * (a as f64 - b as f64)) as f32)
                .collect();
            grads.push(gram_backward(m, &Tensor::from_vec(g.shape(), signal)?)?);
        }
        Ok((total, grads))
    }

    fn check(&self, maps: &[Tensor]) -> Result<()> {
        if maps.len() != self.grams.len() {
            return Err(Error::internal(format!(
                "{} feature maps for {} style layers",
                maps.len(),
                self.grams.len()
            )));
        }
        Ok(())
    }
}

fn check_gram(g: &Tensor, target: &Tensor) -> Result<()> {
    if g.shape() != target.shape() {
        return Err(Error::shape("Gram matrix", target.shape(), g.shape()));
    }
    Ok(())
}

/// The content image's features at the content layer.
#[derive(Debug, Clone, PartialEq)]
pub struct ContentTarget {
    features: Tensor,
    /// `‖F̂‖²_F`.
    norm: f64,
}

impl ContentTarget {
    /// An error when the content image has no features at that layer (all zero).
    pub fn new(features: Tensor, layer: &str) -> Result<ContentTarget> {
        let norm = squared_distance(features.data(), features.data()).1;
        if norm == 0.0 {
            return Err(Error::option(
                "content",
                format!("the content image has no features at layer {layer} (all zero)"),
            ));
        }
        Ok(ContentTarget { features, norm })
    }

    /// `L_c` of the image's features at the content layer and its gradient there.
    pub fn loss(&self, features: &Tensor) -> Result<(f64, Tensor)> {
        if features.shape() != self.features.shape() {
            return Err(Error::shape(
                "content features",
                self.features.shape(),
                features.shape(),
            ));
        }
        let value = squared_distance(features.data(), self.features.data()).0 / self.norm;
        let scale = 2.0 / self.norm;
        let grad = features
            .data()
            .iter()
            .zip(self.features.data())
            .map(|(&a, &b)| (scale * (a as f64 - b as f64)) as f32)
            .collect();
        Ok((value, Tensor::from_vec(features.shape(), grad)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_losses() {
        // F = [[1, 2], [3, -1]] on 1×2: G = [[2.5, 0.5], [0.5, 5]]; Ĝ of F̂ = [[1, 1], [1, 1]] (1×2) is
        // [[1, 1], [1, 1]], ‖Ĝ‖² = 4, ‖G − Ĝ‖² = 1.5² + 0.5² + 0.5² + 4² = 18.75: L_s = 2 · 18.75 / 4.
        let f = Tensor::from_vec(&[2, 1, 2], vec![1.0, 2.0, 3.0, -1.0]).expect("f");
        let target = Tensor::from_vec(&[2, 1, 2], vec![1.0; 4]).expect("target");
        let style =
            StyleTarget::new(std::slice::from_ref(&target), &[2.0], &["l".into()]).expect("style");
        let (value, _) = style.loss(std::slice::from_ref(&f)).expect("loss");
        assert!((value - 9.375).abs() < 1e-9, "{value}");
        assert_eq!(
            style.distances(std::slice::from_ref(&f)).expect("d"),
            [18.75 / 4.0]
        );
        // L_c = ((1−1)² + (2−1)² + (3−1)² + (−1−1)²) / 4 = 9/4.
        let content = ContentTarget::new(target, "l").expect("content");
        assert!((content.loss(&f).expect("loss").0 - 2.25).abs() < 1e-12);
        assert!(ContentTarget::new(Tensor::zeros(&[1, 2, 2]), "l").is_err());
        assert!(StyleTarget::new(&[Tensor::zeros(&[1, 2, 2])], &[1.0], &["l".into()]).is_err());
        assert!(StyleTarget::new(&[f], &[f32::NAN], &["l".into()]).is_err());
    }
}
