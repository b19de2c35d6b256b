"""Do functa modulations carry the content? A classifier on Fashion-MNIST modulations next to
the same classifier on the pixels.

The functa run must be meta-trained on Fashion-MNIST's official training images only
(``sirenkit train functa --dataset fashion-mnist --limit 60000``): the classifiers are trained
on the first ``--train-images`` of those and tested on the first ``--test-images`` of the
official test set, which neither the meta-learner nor the classifier has seen. Both feature
sets are standardised and given the same two scikit-learn classifiers (multinomial logistic
regression, and an MLP with one hidden layer of 256 ReLUs).

    python -m benchmarks.functa --model RUN [--train-images 3000] [--test-images 1000]
"""

from __future__ import annotations

import argparse
import gzip
import time
from pathlib import Path

import numpy as np
import torch

from benchmarks.common import load, machine, table, write_doc_block, write_json
from sirenkit.functa.cli import load_functa
from sirenkit.functa.task import encode
from sirenkit.signals.datasets import fashion_mnist_dir, load_dataset
from sirenkit.signals.grid import grid

DOC = Path(__file__).resolve().parents[1] / "docs" / "functa.md"
OFFICIAL_TRAIN = 60000


def fashion_labels() -> np.ndarray:
    """The 70,000 labels, official training set first (the order of ``load_dataset``)."""
    folder = fashion_mnist_dir()
    if folder is None:
        raise SystemExit("Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)")
    parts = []
    for name in ("train-labels-idx1-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        with gzip.open(folder / name, "rb") as f:
            parts.append(np.frombuffer(f.read(), np.uint8, offset=8))
    return np.concatenate(parts)


def classify(train_x, train_y, test_x, test_y, seed: int) -> dict[str, float]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    out = {}
    for name, clf in (
        ("logistic", LogisticRegression(max_iter=2000)),
        ("mlp", MLPClassifier((256,), max_iter=300, early_stopping=True, random_state=seed)),
    ):
        t0 = time.process_time()
        model = make_pipeline(StandardScaler(), clf).fit(train_x, train_y)
        out[name] = float((model.predict(test_x) == test_y).mean())
        out[f"{name}_s"] = time.process_time() - t0
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", type=Path, required=True, help="a `train functa` run folder")
    ap.add_argument("--train-images", type=int, default=3000)
    ap.add_argument("--test-images", type=int, default=1000)
    ap.add_argument("--steps", type=int, default=None, help="inner steps (default: the model's)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--write-docs", action="store_true", help=f"write the table into {DOC}")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model, ckpt, _ = load_functa(args.model)
    meta = ckpt["task_meta"]
    if meta.get("train_images", 0) + meta.get("test_images", 0) > OFFICIAL_TRAIN:
        raise SystemExit("the run saw Fashion-MNIST's test images; meta-train with --limit 60000")
    h, w = meta["shape"]
    data = load_dataset("fashion-mnist", h)
    labels = fashion_labels()
    train_idx = torch.arange(args.train_images)
    test_idx = torch.arange(OFFICIAL_TRAIN, OFFICIAL_TRAIN + args.test_images)
    coords = grid((h, w))
    loads = [load()]
    features, quality = {}, {}
    t0 = time.process_time()
    for part, idx in (("train", train_idx), ("test", test_idx)):
        images = data.values(idx).reshape(len(idx), -1, data.channels)
        z, q = encode(model, coords, images, args.steps)
        features[part] = z.numpy()
        quality[part] = float(q.mean())
    encode_s = time.process_time() - t0
    y_train, y_test = labels[train_idx.numpy()], labels[test_idx.numpy()]
    pixels = {
        p: data.values(i).reshape(len(i), -1).numpy()
        for p, i in (("train", train_idx), ("test", test_idx))
    }
    rows = []
    for name, feats in (("functa modulations", features), ("pixels", pixels)):
        acc = classify(feats["train"], y_train, feats["test"], y_test, args.seed)
        rows.append({"features": name, "size": feats["train"].shape[1], **acc})
        print(rows[-1], flush=True)
    loads.append(load())
    steps = model.inner_steps if args.steps is None else args.steps
    cols = ["features", "size", "logistic", "mlp", "logistic_s", "mlp_s"]
    body = (
        f"Classifiers trained on {args.train_images} Fashion-MNIST training images, tested on "
        f"{args.test_images} official test images; modulations from {steps} inner steps of run "
        f"`{args.model.name}` ({model.latent} values, reconstruction PSNR {quality['test']:.2f} dB "
        f"on the test images; encoding {len(train_idx) + len(test_idx)} images took "
        f"{encode_s:.0f} CPU s). Accuracies are fractions of the test images; seconds are CPU "
        f"seconds of fitting. Load at start and end: {loads[0]}; {loads[1]}.\n\n"
        + table(rows, cols)
    )
    print(body)
    write_json(
        args.json,
        {"machine": machine(), "rows": rows, "psnr": quality, "encode_s": encode_s, "loads": loads},
    )
    if args.write_docs:
        command = f"python -m benchmarks.functa --model {args.model} --write-docs"
        write_doc_block(DOC, "functa-classify", body, command)


if __name__ == "__main__":
    main()
