#!/usr/bin/env bash
# The README's neural-response-map and volume figures, for the shipped MNIST model on the MNIST t10k digits:
# a response map (every conv2d and linear layer, one neuron per conv channel, Pearson, t-SNE seed 0, over the
# first 1,000 digits) drawn for t10k[0], for the class averages of the first 1,000 digits and with the circle
# projection; the relu2 maps of t10k[0] ordered by k-means (k = 4); and the conv2 weight gradient of the
# class-3 logit averaged over 16 threes, the class most confused with 3 and the least confused one.
# Writes docs/nrm-map.json (the map file) and docs/nrm-*.png, docs/order-*.png, docs/weight-gradient-*.png.
# Usage: scripts/nrm-figures.sh   (builds the release CLI first; a few seconds of work)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin convscope
cli=target/release/convscope
model=www/models/lenet5-mnist.json
images=tests/data/mnist/t10k-images-idx3-ubyte.gz
labels=tests/data/mnist/t10k-labels-idx1-ubyte.gz
map=target/nrm-map.json
$cli nrm train --model $model --images $images --count 1000 --seed 0 --out $map
$cli nrm generate --model $model --map $map --idx $images --index 0 --method linear --out docs/nrm-single.png
$cli nrm generate --model $model --map $map --idx $images --count 1000 --labels $labels --method linear \
  --size 96,96 --out docs/nrm-classes.png
$cli nrm generate --model $model --map $map --idx $images --index 0 --method linear --circle \
  --out docs/nrm-circle.png
$cli order --model $model --idx $images --index 0 --layer relu2 --by kmeans --k 4 --out docs/order-relu2-kmeans.png
$cli weight-gradient --model $model --layer conv2 --compare 3 --images $images --labels $labels --count 2000 \
  --per-class 16 --out docs/weight-gradient-conv2.png
