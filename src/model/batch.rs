//! Several images or signals through one network together: results equal the single passes, and the linear
//! layers run as one product for the batch (their weights are the one operand too large for the L1 cache).
//! The deconvnet sends all the channels of a layer down one trace this way, integrated gradients and
//! SmoothGrad their path points and noisy samples.

use crate::error::{Error, Result};
use crate::layers::relu::ReluRule;
use crate::model::network::Network;
use crate::model::trace::{apply_mask, check_backward, Trace};
use crate::tensor::{Lanes, Tensor};

/// The signals of a batched backward pass, one tensor each or interleaved.
enum Signals {
    Apart(Vec<Tensor>),
    Lanes(Lanes),
}

impl Signals {
    fn apart(self) -> Result<Vec<Tensor>> {
        match self {
            Signals::Apart(gs) => Ok(gs),
            Signals::Lanes(lanes) => lanes.split(),
        }
    }

    fn lanes(self) -> Result<Lanes> {
        match self {
            Signals::Apart(gs) => Lanes::interleave(&gs),
            Signals::Lanes(lanes) => Ok(lanes),
        }
    }

    /// Multiplies the signals by the dropout masks of layer `i` of their traces.
    fn mask(&mut self, traces: &[&Trace], i: usize) {
        match self {
            Signals::Apart(gs) => {
                for (g, t) in gs.iter_mut().zip(traces) {
                    if let Some(mask) = t.mask(i) {
                        apply_mask(g.data_mut(), mask);
                    }
                }
            }
            Signals::Lanes(lanes) => {
                let Some(mask) = traces.first().and_then(|t| t.mask(i)) else {
                    return;
                };
                let rows = lanes.values.chunks_exact_mut(lanes.lanes.max(1));
                for (row, &p) in rows.zip(&lanes.positions) {
                    let m = mask.get(p).copied().unwrap_or(0.0);
                    row.iter_mut().for_each(|v| *v *= m);
                }
            }
        }
    }
}

impl Network {
    /// Forward passes of a batch of images, equal to [`Network::forward`] image by image (to the bit): the
    /// conv, ReLU and pooling layers run image by image, the linear layers as one product for the whole batch
    /// ([`crate::layers::linear::forward_batch`]), which reads each weight once per four images instead of
    /// once per image.
    pub fn forward_batch(&self, images: &[Tensor]) -> Result<Vec<Trace<'_>>> {
        let mut traces = images
            .iter()
            .map(|image| self.start_trace(image))
            .collect::<Result<Vec<Trace>>>()?;
        self.continue_batch(&mut traces)?;
        Ok(traces)
    }

    /// Runs the layers the traces lack, all traces together.
    pub(crate) fn continue_batch(&self, traces: &mut [Trace]) -> Result<()> {
        let done = traces.iter().map(|t| t.len()).min().unwrap_or(0);
        for (i, l) in self.layers().iter().enumerate().skip(done) {
            let xs: Vec<&Tensor> = traces.iter().map(|t| t.layer_input(i)).collect();
            let ys = l.layer.forward_batch(&xs)?;
            for (t, (y, switches)) in traces.iter_mut().zip(ys) {
                t.push(y, switches);
            }
        }
        Ok(())
    }

    /// [`Trace::backward`] for several signals at once, without parameter gradients: signal `b` goes down
    /// through `traces[b]`, which must all be passes of this network. Linear layers run as one product for
    /// the batch ([`crate::layers::linear::backward_input_batch`]). When one trace serves every signal (the
    /// deconvnet sends all the channels of a layer down one forward pass) the signals cross the conv, ReLU and
    /// max-pool layers interleaved as [`Lanes`], which skip the rows that are zero in every signal and scatter
    /// each tap once for all of them; otherwise those layers run signal by signal. Each result equals what
    /// [`Trace::backward`] returns for its signal, up to the order of additions in the lanes.
    pub fn backward_batch(
        &self,
        traces: &[&Trace],
        from: usize,
        grads: Vec<Tensor>,
        rule: ReluRule,
        until: Option<usize>,
    ) -> Result<Vec<Tensor>> {
        if traces.len() != grads.len() {
            return Err(Error::option(
                "traces",
                format!(
                    "a batched backward pass needs one trace per signal, got {} traces for {} signals",
                    traces.len(),
                    grads.len()
                ),
            ));
        }
        // The one check that ties the traces to this network; every layer index below is then theirs too.
        if traces.iter().any(|t| !std::ptr::eq(t.network(), self)) {
            return Err(Error::internal(
                "backward_batch got a trace of another network",
            ));
        }
        let stop = check_backward(self, from, &grads, until)?;
        let shared = traces
            .first()
            .is_some_and(|first| traces.iter().all(|t| std::ptr::eq(*t, *first)));
        let mut signals = Signals::Apart(grads);
        for i in (stop..=from).rev() {
            signals.mask(traces, i);
            let layer = &self.layers()[i].layer;
            let inputs: Vec<_> = traces
                .iter()
                .map(|t| (t.layer_input(i), t.switches()[i].as_ref()))
                .collect();
            signals = match signals {
                signals if shared && layer.takes_lanes() => {
                    let (x, switches) = inputs[0];
                    Signals::Lanes(layer.backward_lanes(x, switches, signals.lanes()?, rule)?)
                }
                Signals::Apart(gs) => Signals::Apart(layer.backward_batch(&inputs, gs, rule)?),
                // Out of the lanes one signal at a time, as the single passes go.
                Signals::Lanes(lanes) => Signals::Apart(
                    lanes
                        .split()?
                        .into_iter()
                        .zip(&inputs)
                        .map(|(g, &(x, switches))| layer.backward(x, switches, g, rule))
                        .collect::<Result<Vec<Tensor>>>()?,
                ),
            };
        }
        let mut gs = signals.apart()?;
        if until.is_none() {
            gs.iter_mut().for_each(|g| self.denormalize(g));
        }
        Ok(gs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::network::testing::{images, small_lenet};
    use crate::rng::Rng;

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn batched_passes_equal_single_passes() {
        let net = small_lenet(1);
        let mut rng = Rng::new(2);
        let images = images(&net, &mut rng, 6);
        let traces = net.forward_batch(&images).unwrap();
        let logits = net.logits_index();
        let mut seeds = Vec::new();
        for (image, trace) in images.iter().zip(&traces) {
            let single = net.forward(image).unwrap();
            assert_eq!(trace.outputs(), single.outputs());
            assert_eq!(trace.switches(), single.switches());
            assert_eq!(
                (trace.input(), trace.normalized()),
                (single.input(), single.normalized())
            );
            let mut seed = Tensor::zeros(&net.layers()[logits].output_shape);
            seed.data_mut().iter_mut().for_each(|v| *v = rng.normal());
            seeds.push(seed);
        }
        let refs: Vec<&Trace> = traces.iter().collect();
        for rule in [ReluRule::Gradient, ReluRule::Guided, ReluRule::Deconvnet] {
            for until in [None, Some(0), Some(3), Some(logits)] {
                let batch = net
                    .backward_batch(&refs, logits, seeds.clone(), rule, until)
                    .unwrap();
                for ((trace, seed), got) in traces.iter().zip(&seeds).zip(&batch) {
                    let want = trace
                        .backward(logits, seed.clone(), rule, until, None)
                        .unwrap();
                    assert_eq!(got, &want, "{rule:?} until {until:?}");
                }
            }
        }
        // One trace shared by every signal: interleaved lanes, the same up to the order of additions.
        let shared = vec![&traces[0]; 3];
        for rule in [ReluRule::Gradient, ReluRule::Deconvnet] {
            for (from, until) in [(logits, None), (5, None), (5, Some(1))] {
                let seeds: Vec<Tensor> = (0..3)
                    .map(|b| {
                        let shape = &net.layers()[from].output_shape;
                        let n = shape.iter().product();
                        let values =
                            (0..n).map(|i| if (i + b) % 3 == 0 { rng.normal() } else { 0.0 });
                        Tensor::from_vec(shape, values.collect()).unwrap()
                    })
                    .collect();
                let batch = net
                    .backward_batch(&shared, from, seeds.clone(), rule, until)
                    .unwrap();
                for (seed, got) in seeds.iter().zip(&batch) {
                    let want = traces[0]
                        .backward(from, seed.clone(), rule, until, None)
                        .unwrap();
                    assert_eq!(got.shape(), want.shape());
                    let scale = want.data().iter().fold(1f32, |m, v| m.max(v.abs()));
                    for (a, b) in got.data().iter().zip(want.data()) {
                        assert!(
                            (a - b).abs() <= 1e-5 * scale,
                            "{a} vs {b}, {rule:?} from {from}"
                        );
                    }
                }
            }
        }
        assert!(net
            .backward_batch(&refs[..2], logits, seeds.clone(), ReluRule::Gradient, None)
            .is_err());
        assert!(net
            .backward_batch(
                &refs,
                logits,
                seeds.clone(),
                ReluRule::Gradient,
                Some(logits + 1)
            )
            .is_err());
    }
}
