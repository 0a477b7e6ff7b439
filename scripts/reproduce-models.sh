#!/usr/bin/env bash
# Retrains the shipped models from what their manifests record and compares the result with the shipped files.
#
#   scripts/reproduce-models.sh [MODEL...]
#       Byte for byte. For each model, checks out the commit its manifest records (`metrics.commit`) in a
#       scratch worktree, builds that commit's `convscope`, runs the recorded command (`metrics.command`) there
#       as it is (it overwrites the scratch worktree's copy), and compares the weights it writes with the shipped
#       `.safetensors` of this checkout (cmp).
#       Takes a build and a training run per model (minutes each on 2 cores).
#   scripts/reproduce-models.sh --head [MODEL...]
#       Retrains with this checkout's `convscope` (HEAD) and checks that the t10k accuracy is within 0.1 point of
#       the shipped one. Kernels that change the order of floating-point operations change the bytes of a
#       retrained model but not its quality; this is what `scripts/test.sh` runs for the MNIST model.
#
# MODEL is a manifest name under www/models/ without `.json`: lenet5-mnist, lenet5-fashion (default: both).
# The training data comes from scripts/fetch-data.sh (run first, installs what is missing) into .data/.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
export PATH="$HOME/.cargo/bin:$PATH"

mode=bytes
if [[ "${1:-}" == "--head" ]]; then
  mode=head
  shift
fi
models=("$@")
[[ ${#models[@]} -gt 0 ]] || models=(lenet5-mnist lenet5-fashion)

say() { printf '\033[1mreproduce:\033[0m %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

# field MANIFEST KEY: a string or number of the manifest's "metrics" object.
field() {
  python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["metrics"][sys.argv[2]])' "$1" "$2"
}

# run_training BINARY WORKDIR MANIFEST [OUT]: runs the recorded command with BINARY in WORKDIR (quietly), with
# its --out value replaced by OUT when given.
run_training() {
  local binary="$1" workdir="$2" manifest="$3" out="${4:-}" command
  command="$(field "$manifest" command)"
  [[ "$command" == "convscope train "* ]] || die "$manifest: metrics.command is not a \`convscope train\` command"
  # The recorded command's words. Its paths are relative to the repository.
  local -a words
  read -r -a words <<<"${command#convscope }"
  local i quiet=--quiet
  for i in "${!words[@]}"; do
    if [[ -n "$out" && "${words[$i]}" == "--out" ]]; then words[$((i + 1))]="$out"; fi
    if [[ "${words[$i]}" == "--quiet" ]]; then quiet=""; fi
  done
  (cd "$workdir" && "$binary" "${words[@]}" $quiet)
}

scripts/fetch-data.sh >/dev/null
scratch="$(mktemp -d)"
cleanup() {
  git -C "$repo" worktree remove --force "$scratch/src" 2>/dev/null || true
  rm -rf "$scratch"
}
trap cleanup EXIT
status=0

if [[ "$mode" == head ]]; then
  say "building convscope at HEAD"
  cargo build --release --quiet --bin convscope
  for model in "${models[@]}"; do
    manifest="www/models/$model.json"
    shipped="$(field "$manifest" test_accuracy)"
    say "$model: retraining at HEAD (shipped accuracy $shipped)"
    start=$SECONDS
    run_training "$repo/target/release/convscope" "$repo" "$manifest" "$scratch/$model"
    got="$(field "$scratch/$model.json" test_accuracy)"
    if python3 -c 'import sys; sys.exit(abs(float(sys.argv[1]) - float(sys.argv[2])) > 0.001 + 1e-9)' "$got" "$shipped"; then
      say "$model: OK, t10k accuracy $got at HEAD vs $shipped shipped ($((SECONDS - start)) s)"
    else
      say "$model: FAILED, t10k accuracy $got at HEAD vs $shipped shipped (more than 0.1 point apart)"
      status=1
    fi
  done
  exit $status
fi

for model in "${models[@]}"; do
  manifest="www/models/$model.json"
  commit="$(field "$manifest" commit)"
  say "$model: building convscope at $commit (the commit that trained it)"
  git worktree remove --force "$scratch/src" 2>/dev/null || true
  git worktree add --detach --quiet "$scratch/src" "$commit"
  ln -s "$repo/.data" "$scratch/src/.data"
  (cd "$scratch/src" && CARGO_TARGET_DIR="$scratch/target" cargo build --release --quiet --bin convscope)
  say "$model: retraining with the recorded command"
  start=$SECONDS
  run_training "$scratch/target/release/convscope" "$scratch/src" "$manifest"
  if cmp "$scratch/src/www/models/$model.safetensors" "www/models/$model.safetensors"; then
    say "$model: OK, the weights are byte for byte the shipped ones ($((SECONDS - start)) s of training)"
  else
    say "$model: FAILED, the retrained weights differ from www/models/$model.safetensors"
    status=1
  fi
done
exit $status
