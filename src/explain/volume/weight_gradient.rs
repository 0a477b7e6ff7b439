//! The gradient of a class output with respect to a conv layer's weights (CNN-VIS's weight-gradient
//! volumes): `∂ logits[target] / ∂ W`, shape `[O, I, kh, kw]` (OIHW), from one forward pass and the
//! training code's backward pass with parameter gradients ([`Trace::backward`] into [`Gradients`]), stopped
//! below the layer.
//!
//! The comparison ([`compare`]) averages it over the first images of three classes of a labelled set — a
//! reference class, the class most confused with it and a dissimilar one (by default picked from the
//! confusion matrix) — all for the same output (the reference class's unless `target` is given), so the
//! three volumes say how each class's images would move the weights for that one output. It keeps each
//! image's gradient too (the page animates over them) and the cosine between each mean and the reference's.

use crate::catalogue::options::{Item, Kind, OptionSpec};
use crate::catalogue::{Family, OutputKind, Technique};
use crate::error::{Error, Result};
use crate::layers::relu::ReluRule;
use crate::layers::Layer;
use crate::model::network::{Gradients, Network};
use crate::tensor::Tensor;
use crate::train::Dataset;

pub const LAYER: OptionSpec = OptionSpec {
    key: "layer",
    flag: "layer",
    label: "Conv layer",
    help: "the conv layer whose weights the gradient is taken with respect to",
    kind: Kind::Layer { types: &["conv2d"] },
    common: false,
    required: true,
};

pub const TARGET: OptionSpec = OptionSpec {
    key: "target",
    flag: "target",
    label: "Class output",
    help: "the class whose logit is differentiated (default: the predicted class; for a comparison, the \
           reference class)",
    kind: Kind::Class,
    common: false,
    required: false,
};

pub const COMPARE: OptionSpec = OptionSpec {
    key: "compare",
    flag: "compare",
    label: "Classes",
    help: "REF or REF,SIMILAR,DISSIMILAR: the reference class, and the others (default: the class most \
           confused with REF and the least confused one)",
    kind: Kind::List {
        item: Item::Number {
            min: 0.0,
            max: 999.0,
            whole: true,
        },
        len: None,
    },
    common: false,
    required: true,
};

pub const PER_CLASS: OptionSpec = OptionSpec::int(
    "perClass",
    "per-class",
    "Images per class",
    "the first N images of each class (in data-set order) averaged and animated",
    [1, 1000, 16],
);

pub const TECHNIQUE: Technique = Technique {
    id: "weight-gradient",
    label: "Weight gradient",
    family: Family::Volumes,
    command: "weight-gradient",
    output: OutputKind::Volume,
    long_running: false,
    stateful: None,
    summary: "How each weight of a conv layer would change the class score: a volume of O × I kernels.",
    explanation: "The gradient of one class's logit with respect to every weight of a conv layer, from one \
                  forward and one backward pass: for each output channel o and input channel i a kh × kw \
                  kernel of sensitivities.",
    paper: None,
    options: &[LAYER, TARGET],
};

pub const COMPARISON: Technique = Technique {
    id: "weight-gradient-compare",
    label: "Weight gradients of three classes",
    family: Family::Volumes,
    command: "weight-gradient",
    output: OutputKind::Volume,
    long_running: false,
    stateful: Some("data set"),
    summary: "The weight gradient of one class output, averaged over images of that class, of the class most \
              confused with it and of a dissimilar class.",
    explanation: "For the first images of each of three classes, the gradient of the reference class's logit \
                  with respect to the conv layer's weights; the mean per class and each image's gradient (an \
                  animation), with the cosine between each class's mean and the reference class's.",
    paper: None,
    options: &[LAYER, COMPARE, TARGET, PER_CLASS],
};

/// The index of conv layer `name` and its weight shape `[O, I, kh, kw]`.
pub fn conv_layer(net: &Network, name: &str) -> Result<(usize, [usize; 4])> {
    let index = net.layer_index(name)?;
    match &net.layers()[index].layer {
        Layer::Conv2d { params, .. } => Ok((index, params.weight_shape())),
        other => Err(Error::option(
            "layer",
            format!(
                "{name} is a {} layer: name a conv2d layer",
                other.type_name()
            ),
        )),
    }
}

/// `∂ logits[target] / ∂ W` of conv layer `layer` (index) for `image` (raw pixels `[C, H, W]`); `target`
/// `None` = the predicted class. Returns the gradient `[O, I, kh, kw]` and the class used.
pub fn weight_gradient(
    net: &Network,
    image: &Tensor,
    layer: usize,
    target: Option<usize>,
) -> Result<(Tensor, usize)> {
    let shape = match &net.layers().get(layer).map(|l| &l.layer) {
        Some(Layer::Conv2d { params, .. }) => params.weight_shape(),
        _ => {
            return Err(Error::option(
                "layer",
                "the weight gradient needs a conv2d layer",
            ))
        }
    };
    let trace = net.forward(image)?;
    let target = target.unwrap_or_else(|| trace.prediction().label);
    let (from, seed) = net.target_seed(target, false)?;
    if layer > from {
        return Err(Error::option(
            "layer",
            "the layer lies above the class output",
        ));
    }
    let mut grads: Gradients = net.zero_gradients();
    trace.backward(
        from,
        seed,
        ReluRule::Gradient,
        layer.checked_sub(1),
        Some(&mut grads),
    )?;
    let weights = grads
        .layers
        .get_mut(layer)
        .and_then(Option::take)
        .map(|(w, _)| w)
        .ok_or_else(|| Error::internal("a conv layer without its gradient"))?;
    Ok((Tensor::from_vec(&shape, weights)?, target))
}

/// The classes most and least confused with `reference` (`confusion[true][predicted]`, both directions
/// summed; ties to the lower class).
pub fn confused_classes(confusion: &[Vec<usize>], reference: usize) -> Result<(usize, usize)> {
    let n = confusion.len();
    if reference >= n || n < 3 {
        return Err(Error::out_of_range(
            "the reference class",
            reference,
            format!("0 to {}", n.saturating_sub(1)),
        ));
    }
    let score = |j: usize| confusion[reference][j] + confusion[j][reference];
    let others: Vec<usize> = (0..n).filter(|&j| j != reference).collect();
    let similar = others
        .iter()
        .copied()
        .max_by(|&a, &b| score(a).cmp(&score(b)).then(b.cmp(&a)));
    let similar = similar.ok_or_else(|| Error::internal("no other class"))?;
    let dissimilar = others
        .iter()
        .copied()
        .filter(|&j| j != similar)
        .min_by(|&a, &b| score(a).cmp(&score(b)).then(a.cmp(&b)))
        .ok_or_else(|| Error::internal("no third class"))?;
    Ok((similar, dissimilar))
}

/// The three classes of a comparison from the `compare` option: `[ref, similar, dissimilar]` as given, or
/// `[ref]` and the classes most and least confused with it in `net`'s confusion matrix over `data`.
pub fn pick_classes(net: &Network, data: &Dataset, given: &[f32]) -> Result<[usize; 3]> {
    let n = net.labels().len();
    let list: Vec<usize> = given.iter().map(|&c| c as usize).collect();
    if let Some(&bad) = list.iter().find(|&&c| c >= n) {
        return Err(Error::out_of_range(
            "a compared class (compare)",
            bad,
            format!("0 to {}", n.saturating_sub(1)),
        ));
    }
    match *list.as_slice() {
        [a, b, c] => Ok([a, b, c]),
        [a] => {
            let evaluation = crate::train::evaluate(net, data)?;
            let (similar, dissimilar) = confused_classes(&evaluation.confusion, a)?;
            Ok([a, similar, dissimilar])
        }
        _ => Err(Error::option(
            "compare",
            "give REF or REF,SIMILAR,DISSIMILAR",
        )),
    }
}

/// The weight gradients of three classes (see the module header).
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// Reference, similar, dissimilar.
    pub classes: [usize; 3],
    /// The class output differentiated.
    pub target: usize,
    /// Per class the data-set indices of its images used.
    pub indices: [Vec<usize>; 3],
    /// Per class each image's gradient `[O, I, kh, kw]`.
    pub frames: [Vec<Tensor>; 3],
    /// Per class the mean gradient.
    pub means: [Tensor; 3],
    /// Per class the cosine between its mean and the reference class's.
    pub cosine: [f64; 3],
}

/// Compares the weight gradients of conv layer `layer` (index) over the first `per_class` images of each of
/// `classes` in `data` (each class needs at least one image).
pub fn compare(
    net: &Network,
    data: &Dataset,
    layer: usize,
    classes: [usize; 3],
    target: Option<usize>,
    per_class: usize,
) -> Result<Comparison> {
    let target = target.unwrap_or(classes[0]);
    let mut indices: [Vec<usize>; 3] = Default::default();
    for i in 0..data.len() {
        let label = usize::from(data.labels[i]);
        for (c, list) in classes.iter().zip(indices.iter_mut()) {
            if label == *c && list.len() < per_class {
                list.push(i);
            }
        }
    }
    let mut frames: [Vec<Tensor>; 3] = Default::default();
    for (list, out) in indices.iter().zip(frames.iter_mut()) {
        for &i in list {
            out.push(weight_gradient(net, &data.images.image(i)?, layer, Some(target))?.0);
        }
    }
    let means = frames.clone().map(|f| mean(&f));
    let [a, b, c] = means;
    let (a, b, c) = (a?, b?, c?);
    let cosine = [cosine(&a, &a), cosine(&a, &b), cosine(&a, &c)];
    for (class, list) in classes.iter().zip(&indices) {
        if list.is_empty() {
            return Err(Error::option(
                "compare",
                format!("the data set has no image of class {class}"),
            ));
        }
    }
    Ok(Comparison {
        classes,
        target,
        indices,
        frames,
        means: [a, b, c],
        cosine,
    })
}

/// The element-wise mean of `tensors` (same shape; an empty list gives an error).
fn mean(tensors: &[Tensor]) -> Result<Tensor> {
    let first = tensors
        .first()
        .ok_or_else(|| Error::option("compare", "a class without images"))?;
    let mut sum = vec![0f64; first.len()];
    for t in tensors {
        for (s, &v) in sum.iter_mut().zip(t.data()) {
            *s += f64::from(v);
        }
    }
    let n = tensors.len() as f64;
    Tensor::from_vec(first.shape(), sum.iter().map(|s| (s / n) as f32).collect())
}

/// `a·b / (‖a‖ ‖b‖)` (0 when either is zero).
fn cosine(a: &Tensor, b: &Tensor) -> f64 {
    let dot: f64 = a
        .data()
        .iter()
        .zip(b.data())
        .map(|(&x, &y)| f64::from(x) * f64::from(y))
        .sum();
    let norm = |t: &Tensor| {
        t.data()
            .iter()
            .map(|&x| f64::from(x).powi(2))
            .sum::<f64>()
            .sqrt()
    };
    let d = norm(a) * norm(b);
    if d > 0.0 {
        dot / d
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Finite differences: nudging one weight by ±h moves the logit by the gradient times h.
    #[test]
    fn the_weight_gradient_matches_finite_differences() {
        let (net, image) = crate::testing::shipped(3);
        for (layer, o, i, y, x) in [("conv1", 2, 0, 1, 3), ("conv2", 7, 4, 2, 2)] {
            let (index, [_, ci, kh, kw]) = conv_layer(&net, layer).unwrap();
            let (g, target) = weight_gradient(&net, &image, index, None).unwrap();
            let flat = ((o * ci + i) * kh + y) * kw + x;
            let logit = |delta: f32| {
                let mut n = net.clone();
                let (_, w, _) = n.parameters_mut().find(|(l, _, _)| *l == index).unwrap();
                w[flat] += delta;
                f64::from(n.forward(&image).unwrap().logits().data()[target])
            };
            let h = 1e-3;
            let numeric = (logit(h) - logit(-h)) / (2.0 * f64::from(h));
            let analytic = f64::from(g.data()[flat]);
            assert!(
                (numeric - analytic).abs() < 1e-2 * analytic.abs().max(1.0),
                "{layer}: {numeric} vs {analytic}"
            );
        }
        assert!(conv_layer(&net, "relu1").is_err());
        assert!(weight_gradient(&net, &image, 1, None).is_err());
    }

    #[test]
    fn confused_classes_come_from_both_directions_of_the_matrix() {
        let mut m = vec![vec![0usize; 4]; 4];
        m[0][2] = 3;
        m[1][0] = 5;
        m[3][0] = 1;
        // 0 ↔ 1: 5, 0 ↔ 2: 3, 0 ↔ 3: 1: similar 1, dissimilar 3.
        assert_eq!(confused_classes(&m, 0).unwrap(), (1, 3));
        assert_eq!(confused_classes(&m, 2).unwrap(), (0, 1));
        assert!(confused_classes(&m, 4).is_err());
    }
}
