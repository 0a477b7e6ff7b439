#!/usr/bin/env bash
# Regenerates every PyTorch reference file under tests/data/ (see tests/reference/README.md):
#   1. the safetensors fixtures and the random-init PyTorch LeNet (+ its logits),
#   2. tests/data/reference-random/      references for that random-init LeNet,
#   3. tests/data/reference-lenet5-mnist/    references for www/models/lenet5-mnist.json    (if it exists),
#      tests/data/reference-lenet5-fashion/  references for www/models/lenet5-fashion.json  (if it exists),
#      each followed by check_loads_in_pytorch.py (strict load + t10k accuracy + CLI comparison).
# Usage: tests/reference/generate.sh     (needs /usr/bin/python3 with torch, numpy, safetensors)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"
py=/usr/bin/python3
ref=tests/reference

"$py" -c 'import torch, numpy, safetensors; print("torch", torch.__version__, "numpy", numpy.__version__, "safetensors", safetensors.__version__)'

"$py" "$ref/make_safetensors_fixture.py" --out tests/data

rm -rf tests/data/reference-random
"$py" "$ref/make_references.py" --manifest tests/data/torch-lenet-random.json --out tests/data/reference-random

for model in lenet5-mnist lenet5-fashion; do
  manifest="www/models/$model.json"
  if [[ ! -f "$manifest" ]]; then
    echo "$manifest not found: skipping its references"
    continue
  fi
  case "$model" in
    *fashion*) dataset=tests/data/fashion-mnist ;;
    *) dataset=tests/data/mnist ;;
  esac
  images="$dataset/t10k-images-idx3-ubyte.gz"
  labels="$dataset/t10k-labels-idx1-ubyte.gz"
  rm -rf "tests/data/reference-$model"
  "$py" "$ref/make_references.py" --manifest "$manifest" --images "$images" --labels "$labels" \
    --out "tests/data/reference-$model"
  "$py" "$ref/check_loads_in_pytorch.py" --manifest "$manifest" --images "$images" --labels "$labels"
done
du -sh tests/data/reference-*
