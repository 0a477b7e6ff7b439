//! Rendering maps to pixels for the CLI's PNG output (the web page draws with its own JS): colormaps and value
//! scales ([`colormap`]), an RGB canvas with a built-in bitmap font ([`canvas`], [`font`]), grids of titled maps
//! with a legend ([`grid`]), the patch and map figures of the dataset views ([`patches`], [`scatter`]) and PNG
//! encoding ([`png`]).

pub mod canvas;
pub mod colormap;
pub mod deconv_figure;
pub mod font;
pub mod grid;
pub mod overlay;
pub mod patches;
pub mod picture;
pub mod png;
pub mod scatter;
pub mod stages;
pub mod volumes;

pub use canvas::RgbImage;
pub use colormap::{Colormap, Scale};
pub use grid::{feature_grid, map_grid, GridOptions, Legend, Panel};
pub use picture::picture;
pub use png::{encode_png, write_png};
pub use stages::stages_strip;
