//! Activation maximization and class images (Erhan et al. 2009; Simonyan et al. 2013; Yosinski et al.
//! 2015): one image per channel of a conv layer, per unit of an fc layer or per class, each optimized from
//! its own seeded noise with the same options. An atlas is a list of cells; a worker renders them one by one
//! (each a step-wise [`Render`]) and fills the grid as they finish.

use super::objective::Objective;
use super::regularize::Regularizers;
use super::render::{Parameterization, Render, RenderOptions, Rendered, Start};
use super::transform::Transforms;
use crate::error::Result;
use crate::model::network::Network;
use crate::render::canvas::RgbImage;
use crate::render::colormap::{Colormap, Scale};
use crate::render::grid::{map_grid, GridOptions, Panel};
use crate::tensor::Tensor;

/// The default options of a class image: 256 Adam steps at 0.05 on the Fourier basis from faint seeded
/// noise, ±2 px jitter, ±10 % scale and ±10° rotation each step, L2 decay 100 and total variation 20 (class
/// scores are large: strong priors keep the background dark and the strokes smooth), a 0.5 px blur every 4
/// steps, clipping to `[0, 1]`. Tuned on the shipped MNIST model (docs/featureviz.md).
pub fn class_options(seed: u64) -> RenderOptions {
    RenderOptions {
        steps: 256,
        lr: 0.05,
        seed,
        batch: 1,
        param: Parameterization::Fourier { decay: 1.0 },
        transforms: Transforms {
            jitter: 2,
            scale: 0.1,
            rotate: 10.0,
        },
        regularizers: Regularizers {
            norm: 100.0,
            alpha: 2.0,
            tv: 20.0,
            beta: 2.0,
            blur_every: 4,
            blur_sigma: 0.5,
            clip: true,
        },
        start: Start::Noise {
            mean: 0.1,
            spread: 0.1,
        },
    }
}

/// The default options of a channel or neuron image: those of [`class_options`] with the weaker priors
/// that a unit's smaller values call for (L2 decay 1, total variation 0.5).
pub fn unit_options(seed: u64) -> RenderOptions {
    let mut options = class_options(seed);
    options.regularizers.norm = 1.0;
    options.regularizers.tv = 0.5;
    options
}

/// The defaults for the cells of `layer` ([`cells`]): class options for `"class"`, unit options otherwise.
pub fn options_for(layer: &str, seed: u64) -> RenderOptions {
    match layer {
        "class" => class_options(seed),
        _ => unit_options(seed),
    }
}

/// One cell of an atlas: its title and objective.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    pub title: String,
    pub objective: Objective,
}

/// The cells of `layer`'s atlas: `"class"` gives one class-logit cell per class, a conv layer one channel
/// cell per channel, an fc layer one neuron cell per unit.
pub fn cells(net: &Network, layer: &str) -> Result<Vec<Cell>> {
    if layer == "class" {
        return Ok(net
            .labels()
            .iter()
            .enumerate()
            .map(|(k, label)| Cell {
                title: label.clone(),
                objective: Objective::class_logit(k),
            })
            .collect());
    }
    let shape = &net.layers()[super::objective::layer_index(net, layer)?].output_shape;
    let conv = shape.len() == 3;
    Ok((0..shape[0])
        .map(|k| Cell {
            title: format!("{layer}:{k}"),
            objective: if conv {
                Objective::channel(layer, k)
            } else {
                Objective::neuron(layer, k)
            },
        })
        .collect())
}

/// Renders every cell with `options` (cell `i` with seed `options.seed + i`), one after the other.
pub fn render_cells(
    net: &Network,
    cells: &[Cell],
    options: &RenderOptions,
) -> Result<Vec<Rendered>> {
    cells
        .iter()
        .enumerate()
        .map(|(i, cell)| {
            let options = RenderOptions {
                seed: options.seed.wrapping_add(i as u64),
                ..options.clone()
            };
            Render::new(net, &cell.objective, options)?.run(net)
        })
        .collect()
}

/// A titled grid of `[1, H, W]` images in gray, black 0 to white 1 (the raw pixel range), `columns` per
/// row (0: about √n).
pub fn grid(images: &[(String, &Tensor)], title: &str, columns: usize) -> Result<RgbImage> {
    let panels = images
        .iter()
        .map(|(name, image)| {
            let (_, height, width) = image.chw()?;
            Ok(Panel {
                title: name.clone(),
                height,
                width,
                values: &image.data()[..height * width],
                colormap: Colormap::Gray,
                scale: Scale::range(0.0, 1.0),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(map_grid(
        &panels,
        &GridOptions {
            title: title.to_string(),
            columns,
            zoom: 3,
            legend: None,
        },
    ))
}
