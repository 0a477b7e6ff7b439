#!/usr/bin/env bash
# The README's feature-visualization figures: for the shipped MNIST and Fashion-MNIST models, the class
# images, the conv1 atlas (after its ReLU: conv1's own mean is linear in the image, so its optimum is a flat
# field) and the conv2 atlas, each with the catalogue's defaults (256 Adam steps on the Fourier basis from
# seeded noise, seed 1; docs/featureviz.md), written to docs/featureviz-<model>-<atlas>.png.
# Usage: scripts/featureviz-figures.sh   (builds the release CLI first; about 10 s of optimization per model)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
for model in mnist fashion; do
  for atlas in class relu1 conv2; do
    name=$atlas
    [ "$atlas" = relu1 ] && name=conv1
    target/release/convscope visualize --model "www/models/lenet5-$model.json" --atlas "$atlas" \
      --out "docs/featureviz-$model-$name.png"
  done
done
