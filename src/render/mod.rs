//! Rendering maps to pixels: colormaps, grids, PNG output.
