"""Time to quality: how long the default fit takes to beat PCA, in plain-loop epochs.

Times ``--budget-epochs`` epochs (default 60) of the plain PyTorch loop of
``bench_throughput`` (the same 784-512-256-30 network, Adam, batch 256, tensors sliced from
memory) on the 8000 MNIST training rows, then, in the same process right after, fits
``AutoencoderTransformer(n_components=30)`` with the defaults (or with ``--param`` overrides)
and reports its held-out reconstruction error as a ratio to PCA's and its fit time in
plain-loop epochs, so machine speed cancels out. Target: ratio <= 0.45 within 60 plain-loop
epochs.

    python -m benchmarks.bench_time_to_quality
    python -m benchmarks.bench_time_to_quality --param lr=3e-3 --param max_epochs=60
    python -m benchmarks.bench_time_to_quality --quick     # seconds-long check
"""

import ast
import time

import torch
from sklearn.decomposition import PCA

from benchmarks._common import (
    RESULTS_DIR,
    argument_parser,
    markdown_table,
    set_threads,
    write_json,
)
from benchmarks.bench_throughput import preprocess, train_plain
from sklearn_ae import AutoencoderTransformer
from sklearn_ae.evaluation import environment, load_mnist_split, reconstruction_mse

N_COMPONENTS = 30
TARGET_RATIO = 0.45
TARGET_EPOCHS = 60


def parse_param(text):
    """``name=value`` with a Python literal value (``lr=3e-3``, ``precision='auto'``)."""
    name, _, value = text.partition("=")
    try:
        return name, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return name, value  # a bare word: a string


def plain_epoch_seconds(X, epochs, batch_size=256, seed=0):
    """Seconds per epoch of the plain loop, timed over ``epochs`` after a warm-up epoch."""
    X_plain = torch.as_tensor(preprocess(X))
    train_plain(X_plain, 1, batch_size, seed, "cpu")
    start = time.perf_counter()
    train_plain(X_plain, epochs, batch_size, seed, "cpu")
    return (time.perf_counter() - start) / epochs


def run(args):
    X_train, X_test, _, _ = load_mnist_split(n_train=args.n_train)
    pca_mse = reconstruction_mse(PCA(N_COMPONENTS, random_state=0).fit(X_train), X_test)
    epoch_s = plain_epoch_seconds(X_train, args.budget_epochs)
    params = {"n_components": N_COMPONENTS, "random_state": args.seed, **dict(args.param)}
    est = AutoencoderTransformer(**params)
    start = time.perf_counter()
    est.fit(X_train)
    fit_s = time.perf_counter() - start
    ratio = reconstruction_mse(est, X_test) / pca_mse
    return {
        "params": params,
        "plain_epoch_s": epoch_s,
        "fit_s": fit_s,
        "fit_in_plain_epochs": fit_s / epoch_s,
        "ratio_to_pca": ratio,
        "n_iter": est.n_iter_,
        "best_epoch": est.best_epoch_,
        "precision": est.precision_,
        "environment": environment(),
    }


def report(result):
    met = result["ratio_to_pca"] <= TARGET_RATIO and result["fit_in_plain_epochs"] <= TARGET_EPOCHS
    row = [
        ", ".join(f"{k}={v!r}" for k, v in result["params"].items() if k != "n_components"),
        f"{result['ratio_to_pca']:.3f}",
        f"{result['fit_s']:.1f}",
        f"{result['fit_in_plain_epochs']:.0f}",
        f"{result['plain_epoch_s']:.3f}",
        f"{result['n_iter']} / {result['best_epoch']}",
        "PASS" if met else "FAIL",
    ]
    headers = ["params", "AE/PCA", "fit s", "plain-loop epochs", "plain s/epoch",
               "n_iter_ / best_epoch_", f"<= {TARGET_RATIO} in <= {TARGET_EPOCHS}"]
    return markdown_table(headers, [row])


def main(argv=None):
    parser = argument_parser(__spec__.name, __doc__)
    parser.add_argument("--param", action="append", type=parse_param, default=[],
                        help="an estimator parameter, name=value (repeatable)")
    parser.add_argument("--budget-epochs", type=int, default=TARGET_EPOCHS)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--quick", action="store_true",
                        help="2000 training rows, 3 timed plain epochs, max_epochs=3")
    args = parser.parse_args(argv)
    set_threads(args.threads)
    args.n_train = None
    if args.quick:
        args.n_train, args.budget_epochs = 2000, 3
        args.param = [("max_epochs", 3), *args.param]
    result = run(args)
    print(report(result))
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    write_json(RESULTS_DIR / "time_to_quality.json", result)


if __name__ == "__main__":
    main()
