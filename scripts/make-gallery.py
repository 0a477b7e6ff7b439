#!/usr/bin/env python3
"""Write the page's digit gallery: a class-balanced subset of an IDX test set, as two gzipped IDX files.

The page (www/js/data.js) and the CLI (`convscope ... --idx`) read the result like any IDX file.
Selection: the first PER_CLASS images of each label in file order, kept in file order, so the subset is
reproducible and free of cherry-picking. Gzip is written with mtime 0 so reruns give identical bytes.

Usage (the committed files were made with):
  python3 scripts/make-gallery.py /work/shared/data/mnist/t10k-images-idx3-ubyte.gz \
      /work/shared/data/mnist/t10k-labels-idx1-ubyte.gz www/data/mnist-gallery --per-class 30
  python3 scripts/make-gallery.py tests/data/fashion-mnist/t10k-images-idx3-ubyte.gz \
      tests/data/fashion-mnist/t10k-labels-idx1-ubyte.gz www/data/fashion-gallery --per-class 30
Each writes PREFIX-images.idx3.gz and PREFIX-labels.idx1.gz.
"""
import argparse
import gzip
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


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("images")
    parser.add_argument("labels")
    parser.add_argument("out_prefix")
    parser.add_argument("--per-class", type=int, default=30)
    args = parser.parse_args()

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

    write_idx(
        args.out_prefix + "-images.idx3.gz",
        (len(chosen), image_dims[1], image_dims[2]),
        b"".join(pixels[i * size : (i + 1) * size] for i in chosen),
    )
    write_idx(args.out_prefix + "-labels.idx1.gz", (len(chosen),), bytes(labels[i] for i in chosen))
    print(f"wrote {len(chosen)} images ({', '.join(f'{k}:{v}' for k, v in sorted(taken.items()))})")


if __name__ == "__main__":
    main()
