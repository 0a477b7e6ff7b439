#!/usr/bin/env python3
"""Write the page's digit gallery: a class-balanced subset of an IDX test set, as two gzipped IDX files,
followed by the model's real mistakes and its most ambiguous right answers.

The page (www/js/data.js) and the CLI (`convscope ... --idx`) read the result like any IDX file.
Selection, reproducible and free of cherry-picking:
  1. the first PER_CLASS images of each label, in file order;
  2. with --predictions (the JSON lines of `convscope predict --idx IMAGES --count N --json` over the whole
     set), the first MISTAKES images in file order whose predicted label is not their label, then the
     AMBIGUOUS right answers whose two largest probabilities are closest, in file order. Appended after
     step 1, so a link to a gallery index of step 1 shows the same image as before.
Gzip is written with mtime 0 so reruns give identical bytes.

Usage (the committed files were made with):
  convscope predict --model www/models/lenet5-mnist.json --idx tests/data/mnist/t10k-images-idx3-ubyte.gz \
      --count 10000 --json > mnist-predictions.jsonl
  python3 scripts/make-gallery.py tests/data/mnist/t10k-images-idx3-ubyte.gz \
      tests/data/mnist/t10k-labels-idx1-ubyte.gz www/data/mnist-gallery --per-class 30 \
      --predictions mnist-predictions.jsonl --mistakes 30 --ambiguous 10
and the same for Fashion-MNIST (www/models/lenet5-fashion.json, tests/data/fashion-mnist/, fashion-gallery).
Each writes PREFIX-images.idx3.gz and PREFIX-labels.idx1.gz.
"""
import argparse
import gzip
import json
import struct


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08:
        raise SystemExit(f"{path}: not an unsigned-byte IDX file")
    dims = struct.unpack(">" + "I" * ndim, data[4 : 4 + 4 * ndim])
    return dims, data[4 + 4 * ndim :]


def write_idx(path, dims, payload):
    header = struct.pack(">HBB", 0, 0x08, len(dims)) + struct.pack(">" + "I" * len(dims), *dims)
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as f:
        f.write(header + payload)


def read_predictions(path, count):
    """Predicted label and probabilities of every image, from `convscope predict --json` lines."""
    found = {}
    with open(path) as f:
        for line in f:
            record = json.loads(line)
            found[record["index"]] = (record["label"], record["probs"])
    if sorted(found) != list(range(count)):
        raise SystemExit(f"{path}: needs one prediction for each of the {count} images")
    return [found[i] for i in range(count)]


def hard_cases(labels, predictions, chosen, mistakes, ambiguous):
    """Indices of the first `mistakes` misclassified images and the `ambiguous` right answers with the
    smallest margin between their two largest probabilities, none of them in `chosen`, each in file order."""
    taken = set(chosen)
    wrong = [i for i, (label, _) in enumerate(predictions) if label != labels[i] and i not in taken]
    margins = []
    for i, (label, probs) in enumerate(predictions):
        if label == labels[i] and i not in taken:
            first, second = sorted(probs, reverse=True)[:2]
            margins.append((first - second, i))
    closest = sorted(i for _, i in sorted(margins)[:ambiguous])
    return wrong[:mistakes], closest


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("images")
    parser.add_argument("labels")
    parser.add_argument("out_prefix")
    parser.add_argument("--per-class", type=int, default=30)
    parser.add_argument("--predictions", help="JSON lines of `convscope predict --json` over every image")
    parser.add_argument("--mistakes", type=int, default=0, help="misclassified images to append")
    parser.add_argument("--ambiguous", type=int, default=0, help="closest right answers to append")
    args = parser.parse_args()
    if (args.mistakes or args.ambiguous) and not args.predictions:
        raise SystemExit("--mistakes and --ambiguous need --predictions")

    image_dims, pixels = read_idx(args.images)
    (count,), labels = read_idx(args.labels)
    if image_dims[0] != count:
        raise SystemExit(f"{image_dims[0]} images but {count} labels")
    size = image_dims[1] * image_dims[2]

    taken = {}
    chosen = []
    for index, label in enumerate(labels):
        if taken.get(label, 0) < args.per_class:
            taken[label] = taken.get(label, 0) + 1
            chosen.append(index)
    balanced = len(chosen)
    wrong, close = [], []
    if args.predictions:
        predictions = read_predictions(args.predictions, count)
        wrong, close = hard_cases(labels, predictions, chosen, args.mistakes, args.ambiguous)
        chosen += wrong + close

    write_idx(
        args.out_prefix + "-images.idx3.gz",
        (len(chosen), image_dims[1], image_dims[2]),
        b"".join(pixels[i * size : (i + 1) * size] for i in chosen),
    )
    write_idx(args.out_prefix + "-labels.idx1.gz", (len(chosen),), bytes(labels[i] for i in chosen))
    print(f"wrote {len(chosen)} images: {balanced} balanced ({', '.join(f'{k}:{v}' for k, v in sorted(taken.items()))})"
          f", {len(wrong)} misclassified {wrong}, {len(close)} ambiguous {close}")


if __name__ == "__main__":
    main()
