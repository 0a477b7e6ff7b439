//! CNN-VIS's views of a layer as a volume (after the Caffe-based CNN-VIS and its 3-D viewer):
//!
//! - [`order`]: a conv layer's output stack `[C, H, W]` reordered so that alike maps sit together, by k-means
//!   clusters or by the projection on the first principal component, computed on whole maps or on one
//!   horizontal slice through all of them;
//! - [`weight_gradient`]: the gradient of a class output with respect to a conv layer's weights, `[O, I, kh,
//!   kw]`, and its mean over the images of a reference class, a similar and a dissimilar one.
//!
//! The maths (k-means, PCA) is in [`crate::analysis`]; the backward pass with parameter gradients is the
//! training code's ([`crate::model::network::Trace::backward`]).

pub mod order;
pub mod weight_gradient;

pub use order::{order, By, Ordering, Over};
pub use weight_gradient::{compare, weight_gradient, Comparison};
