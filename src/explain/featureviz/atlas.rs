//! Activation maximization and class images (Erhan et al. 2009; Simonyan et al. 2013; Yosinski et al.
//! 2015): one image per channel of a conv layer, per unit of an fc layer or per class, each optimized from
//! its own seeded noise with the same options. An atlas is a list of cells; an [`Atlas`] renders them one
//! by one (each a step-wise [`Render`]), so a worker fills the grid as they finish.

use super::objective::Objective;
use super::regularize::Regularizers;
use super::render::{Parameterization, Render, RenderOptions, Rendered, Start};
use super::transform::Transforms;
use super::visualize::{self, BLUR_EVERY, JITTER, LR, ROTATE, SCALE, STEPS};
use crate::catalogue::options::{Kind, OptionSpec, Values};
use crate::catalogue::{Family, OutputKind, Paper, Technique};
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
        steps: STEPS.usize_default(),
        lr: LR.float_default() as f32,
        seed,
        batch: 1,
        param: Parameterization::Fourier { decay: 1.0 },
        transforms: Transforms {
            jitter: JITTER.usize_default(),
            scale: SCALE.float_default() as f32,
            rotate: ROTATE.float_default() as f32,
        },
        regularizers: Regularizers {
            norm: 100.0,
            alpha: 2.0,
            tv: 20.0,
            beta: 2.0,
            blur_every: BLUR_EVERY.usize_default(),
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

/// What `layer`'s atlas shows, as a heading: "Class images" for `class`, "Atlas of conv2" for a layer.
pub fn heading(layer: &str) -> String {
    match layer {
        "class" => "Class images".to_string(),
        _ => format!("Atlas of {layer}"),
    }
}

/// Renders every cell with `options` (cell `i` with seed `options.seed + i`), one after the other: an
/// [`Atlas`] run to its end.
pub fn render_cells(
    net: &Network,
    cells: &[Cell],
    options: &RenderOptions,
) -> Result<Vec<Rendered>> {
    Atlas::new(net, cells.to_vec(), options.clone())?.run(net)
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

/// The layer of the atlas: `class` (the default) or a layer name.
pub const LAYER: OptionSpec = OptionSpec {
    key: "layer",
    flag: "atlas",
    label: "Atlas of",
    help: "a layer (one cell per conv channel or fc unit: conv1, relu2, fc1, ...), or class (the default) for \
           one class image per class",
    kind: Kind::Layer { types: &[] },
    common: false,
    required: false,
};

pub const OLAH: Paper = Paper {
    title: "Feature Visualization",
    authors: "Olah, Mordvintsev & Schubert",
    year: 2017,
    url: "https://distill.pub/2017/feature-visualization/",
};

pub const TECHNIQUE: Technique = Technique {
    id: "atlas",
    label: "Atlas",
    family: Family::FeatureVisualization,
    command: "visualize --atlas",
    output: OutputKind::Images,
    long_running: true,
    stateful: None,
    summary: "What every channel of a layer, every fc unit or every class likes best, one cell each.",
    explanation: "Activation maximization run once per cell, each from its own seeded noise with the same \
                  options: the class images (one class logit per cell, the class models of Simonyan et al. \
                  2013), or one cell per channel of a conv layer (its mean over positions) or per unit of an \
                  fc layer. After conv1's ReLU the cells show the strokes each filter detects; after conv2, \
                  the digit parts. conv1's own mean is linear in the image, so its optimum is a flat field: \
                  look at relu1 instead.",
    paper: Some(OLAH),
    options: &[
        LAYER,
        visualize::PARAM,
        visualize::STEPS,
        visualize::LR,
        visualize::JITTER,
        visualize::SCALE,
        visualize::ROTATE,
        visualize::TV,
        visualize::L2,
        visualize::BLUR_EVERY,
        visualize::SEED,
    ],
};

/// The cells and options of an `atlas` call from its checked options.
pub fn from_values(net: &Network, values: &Values) -> Result<(Vec<Cell>, RenderOptions)> {
    let layer = values.text(&LAYER).unwrap_or("class");
    let seed = values
        .int(&visualize::SEED)
        .unwrap_or(visualize::SEED.int_default());
    let options = visualize::render_options(options_for(layer, seed), values);
    Ok((cells(net, layer)?, options))
}

/// The options of cell `i`: seed `options.seed + i`.
fn cell_options(options: &RenderOptions, i: usize) -> RenderOptions {
    RenderOptions {
        seed: options.seed.wrapping_add(i as u64),
        ..options.clone()
    }
}

/// An atlas being rendered cell by cell, each cell a step-wise [`Render`] (see the module documentation).
#[derive(Debug, Clone)]
pub struct Atlas {
    cells: Vec<Cell>,
    options: RenderOptions,
    finished: Vec<Rendered>,
    /// The cell being rendered (`finished.len()`), `None` once every cell is done.
    current: Option<Render>,
}

impl Atlas {
    /// Checks the options (by starting the first cell's render).
    pub fn new(net: &Network, cells: Vec<Cell>, options: RenderOptions) -> Result<Atlas> {
        let current = match cells.first() {
            Some(cell) => Some(Render::new(
                net,
                &cell.objective,
                cell_options(&options, 0),
            )?),
            None => None,
        };
        Ok(Atlas {
            cells,
            options,
            finished: Vec::new(),
            current,
        })
    }

    pub fn cells(&self) -> &[Cell] {
        &self.cells
    }

    /// The cells rendered so far, in order.
    pub fn finished(&self) -> &[Rendered] {
        &self.finished
    }

    /// The render of the cell in progress (cell `finished().len()`), if any.
    pub fn current(&self) -> Option<&Render> {
        self.current.as_ref()
    }

    /// Steps done over all cells, of all.
    pub fn progress(&self) -> (usize, usize) {
        let current = self.current.as_ref().map_or(0, |r| r.progress().0);
        let per_cell = self.options.steps;
        (
            self.finished.len() * per_cell + current,
            self.cells.len() * per_cell,
        )
    }

    /// Runs up to `k` more steps of the cell in progress, never past its end (the next cell starts when
    /// this one is done, and runs at the next call).
    pub fn step(&mut self, net: &Network, k: usize) -> Result<()> {
        let Some(render) = &mut self.current else {
            return Ok(());
        };
        if render.step(net, k)?.done() {
            self.finished.push(render.finish(net)?);
            let next = self.finished.len();
            self.current = match self.cells.get(next) {
                Some(cell) => Some(Render::new(
                    net,
                    &cell.objective,
                    cell_options(&self.options, next),
                )?),
                None => None,
            };
        }
        Ok(())
    }

    /// Renders every remaining cell.
    pub fn run(mut self, net: &Network) -> Result<Vec<Rendered>> {
        while self.current.is_some() {
            self.step(net, usize::MAX)?;
        }
        Ok(self.finished)
    }
}

#[cfg(test)]
mod tests {
    use super::heading;

    #[test]
    fn the_heading_names_what_the_atlas_shows() {
        assert_eq!(heading("class"), "Class images");
        assert_eq!(heading("conv2"), "Atlas of conv2");
    }
}
