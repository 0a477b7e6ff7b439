//! What the unit tests share: the shipped MNIST model and the page's gallery digits.

use crate::io::idx;
use crate::model::network::Network;
use crate::tensor::Tensor;

/// The shipped MNIST model (`www/models/lenet5-mnist`) and gallery digit `i` (raw pixels `[1, 28, 28]`).
pub fn shipped(i: usize) -> (Network, Tensor) {
    let net = Network::from_bytes(
        include_str!("../www/models/lenet5-mnist.json"),
        include_bytes!("../www/models/lenet5-mnist.safetensors"),
    )
    .unwrap();
    let images =
        idx::parse_images(include_bytes!("../www/data/mnist-gallery-images.idx3.gz")).unwrap();
    (net, images.image(i).unwrap())
}
