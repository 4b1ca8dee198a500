"""Benchmark suite: the autoencoder family against PCA & co. on six datasets.

For every dataset (see ``benchmarks.datasets``), every ``n_components`` k in ``--ks`` below the
number of features, and every method, it fits on the training split and measures on the
held-out test split: reconstruction MSE (where an inverse exists), trustworthiness (k=5),
kNN-5 / 1-NN accuracy and a logistic-regression probe on the codes (where labels exist), fit
time, transform time per 10k rows and peak memory of the fit (see ``benchmarks.metrics``
and ``sklearn_ae.evaluation``). Raw results go to ``--out-dir`` (``suite.csv``,
``suite.json``, ``suite_arrays.npz``) and the report (``--report``, default
``docs/benchmarks.md``) with its figures is regenerated from them by ``benchmarks.report``.

    python -m benchmarks.suite --quick                 # under 5 minutes on 2 CPU cores
    python -m benchmarks.suite                         # the full run, about 4 min on 2 CPU cores
    python -m benchmarks.suite --datasets digits --methods pca ae --ks 2 10
    python -m benchmarks.suite --device cuda           # on a GPU machine

UMAP joins when umap-learn can be imported; otherwise its rows are recorded as skipped with
the reason.
"""

import shlex
import sys
import warnings
from pathlib import Path

import numpy as np
from sklearn.decomposition import PCA, KernelPCA, TruncatedSVD
from sklearn.manifold import Isomap
from tqdm.auto import tqdm

from benchmarks import datasets as bench_datasets
from benchmarks import metrics, report
from benchmarks._common import (
    RESULTS_DIR,
    argument_parser,
    set_threads,
    timed,
    write_csv,
    write_json,
)
from sklearn_ae import AutoencoderTransformer, DenoisingAutoencoder, VAETransformer
from sklearn_ae._device import resolve_device
from sklearn_ae.evaluation import KNN_NEIGHBORS, environment, knn_accuracy, mse

try:
    import umap  # optional extra, never a dependency
except ImportError:
    umap = None

METHODS = ("pca", "kernel_pca", "isomap", "truncated_svd", "ae", "dae", "vae", "umap")
METHOD_LABELS = {
    "pca": "PCA",
    "kernel_pca": "KernelPCA (rbf)",
    "isomap": "Isomap",
    "truncated_svd": "TruncatedSVD",
    "ae": "AutoencoderTransformer",
    "dae": "DenoisingAutoencoder",
    "vae": "VAETransformer",
    "umap": "UMAP",
}
AUTOENCODERS = ("ae", "dae", "vae")
# TruncatedSVD skips the centring; that is meaningful for non-negative pixel data only
SVD_DATASETS = ("digits", "mnist")
# KernelPCA / Isomap need all pairwise kernels / geodesics: fit them on a subset of MNIST
MANIFOLD_MAX_FIT_ROWS = 4000
ISOMAP_NEIGHBORS = 10
# ridge of KernelPCA's learned pre-image map; sklearn's default (1.0) maps every code to
# about the mean. 1e-3 was the best of 1, 0.1, 0.01, 1e-3, 1e-4 on a validation split cut
# from the training splits of digits, wine and MNIST (k=10), never on the test splits.
KPCA_ALPHA = 1e-3
TRUST_NEIGHBORS = 5
TRUST_MAX_ROWS = 2000
N_RECON_IMAGES = 10

QUICK = {"max_epochs": 5, "mnist_rows": 2000}

COLUMNS = (
    "dataset", "method", "k", "status", "note", "n_fit", "n_train", "n_test",
    "fit_s", "transform_s", "transform_s_per_10k", "peak_mem_mib", "mem_method",
    "mse", "trustworthiness", "knn5_acc", "knn1_acc", "logreg_acc",
    "n_iter", "best_epoch", "device",
)


class Skip(Exception):
    """A method that cannot run here (an optional extra that is not installed)."""

def make_method(name, k, data, args):
    """A fresh, unfitted estimator for ``name`` at ``n_components=k``."""
    seed = args.seed
    if name == "pca":
        return PCA(n_components=k, random_state=seed)
    if name == "truncated_svd":
        return TruncatedSVD(n_components=k, random_state=seed)
    if name == "kernel_pca":
        # gamma as SVC's "scale": 1 / (n_features * Var(X)), so the kernel neither
        # collapses to 0 nor to 1 whatever the data's units
        X = data.X_train
        gamma = 1.0 / (X.shape[1] * float(X.var()))
        return KernelPCA(
            n_components=k, kernel="rbf", gamma=gamma, fit_inverse_transform=True,
            alpha=KPCA_ALPHA, random_state=seed,
        )
    if name == "isomap":
        return Isomap(n_neighbors=ISOMAP_NEIGHBORS, n_components=k)
    if name == "umap":
        if umap is None:
            raise Skip("umap-learn is not installed (optional extra)")
        return umap.UMAP(n_components=k, random_state=seed)
    classes = {
        "ae": AutoencoderTransformer,
        "dae": DenoisingAutoencoder,
        "vae": VAETransformer,
    }
    if name in classes:
        params = {"n_components": k, "random_state": seed, "device": args.device_}
        if args.max_epochs is not None:
            params["max_epochs"] = args.max_epochs
        return classes[name](**params)
    raise ValueError(f"unknown method {name!r}; choose from {METHODS}")


def applicable(method, dataset):
    return method != "truncated_svd" or dataset in SVD_DATASETS


def fit_rows(method, data):
    """How many training rows ``method`` is fitted on (the first ones)."""
    n = len(data.X_train)
    if method in ("kernel_pca", "isomap") and data.name == "mnist":
        return min(n, MANIFOLD_MAX_FIT_ROWS)
    return n


def run_cell(data, method, k, args):
    """Fit ``method`` at ``k`` on ``data`` and measure it; a row dict and its arrays."""
    row = dict.fromkeys(COLUMNS)
    row.update(
        dataset=data.name, method=method, k=k, n_train=len(data.X_train),
        n_test=len(data.X_test), device=args.device_ if method in AUTOENCODERS else "cpu",
        status="ok", note="",
    )
    arrays = {}
    try:
        est = make_method(method, k, data, args)
    except Skip as exc:
        row.update(status="skipped", note=str(exc))
        return row, arrays
    n_fit = fit_rows(method, data)
    X_fit = data.X_train[:n_fit]
    row["n_fit"] = n_fit
    device = row["device"]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with metrics.PeakMemory() as mem:
                _, fit_s = timed(lambda: est.fit(X_fit), device)
            Z_test, tr_s = timed(lambda: est.transform(data.X_test), device)
            Z_test = np.asarray(Z_test, dtype=np.float64)
            row.update(
                fit_s=fit_s, transform_s=tr_s,
                transform_s_per_10k=metrics.per_10k_rows(tr_s, len(data.X_test)),
                peak_mem_mib=mem.peak_mib, mem_method=mem.method,
            )
            if hasattr(est, "inverse_transform") and method not in ("isomap", "umap"):
                X_hat = np.asarray(est.inverse_transform(Z_test))
                row["mse"] = mse(data.X_test, X_hat)
                if data.image_shape is not None:
                    arrays["recon"] = X_hat[:N_RECON_IMAGES].astype(np.float32)
            row["trustworthiness"] = metrics.trustworthiness(
                data.X_test, Z_test, n_neighbors=TRUST_NEIGHBORS,
                max_rows=TRUST_MAX_ROWS, seed=args.seed,
            )
            if data.y_train is not None:
                Z_train = np.asarray(est.transform(data.X_train), dtype=np.float64)
                y_tr, y_te = data.y_train, data.y_test
                row["knn5_acc"] = knn_accuracy(Z_train, y_tr, Z_test, y_te, KNN_NEIGHBORS)
                row["knn1_acc"] = knn_accuracy(Z_train, y_tr, Z_test, y_te, 1)
                row["logreg_acc"] = metrics.logistic_probe_accuracy(
                    Z_train, y_tr, Z_test, y_te)
        row["n_iter"] = getattr(est, "n_iter_", None)
        row["best_epoch"] = getattr(est, "best_epoch_", None)
        if n_fit < len(data.X_train):
            row["note"] = f"fitted on the first {n_fit} training rows"
        if k == 2:
            arrays["codes"] = Z_test.astype(np.float32)
    except Exception as exc:  # one failing cell must not lose the whole run
        row.update(status="error", note=f"{type(exc).__name__}: {exc}"[:300])
    return row, arrays


def _warm_up(args):
    """One tiny untimed fit, so torch's and skorch's one-off set-up (lazy imports, thread
    pools, allocator pools) is not charged to the first cell's time and memory."""
    X = np.random.RandomState(0).rand(64, 8).astype(np.float32)
    AutoencoderTransformer(n_components=2, max_epochs=1, device=args.device_,
                           random_state=0).fit(X).transform(X)


def parse_args(argv=None):
    p = argument_parser(__spec__.name, __doc__)
    p.add_argument("--quick", action="store_true",
                   help=f"max_epochs={QUICK['max_epochs']}, MNIST cut to "
                        f"{QUICK['mnist_rows']} training rows")
    p.add_argument("--datasets", nargs="+", choices=bench_datasets.DATASETS,
                   default=list(bench_datasets.DATASETS))
    p.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    p.add_argument("--ks", nargs="+", type=int, default=[2, 10, 30])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto",
                   help="device of the autoencoders: auto, cpu, cuda, cuda:N")
    p.add_argument("--max-epochs", type=int, default=None,
                   help="max_epochs of the autoencoders (default: the estimators' own)")
    p.add_argument("--n-train", type=int, default=None,
                   help="keep only the first N training rows of every dataset")
    p.add_argument("--threads", type=int, default=None, help="torch intra-op threads")
    p.add_argument("--out-dir", type=Path, default=RESULTS_DIR)
    p.add_argument("--report", type=Path, default=report.DEFAULT_REPORT)
    p.add_argument("--no-report", action="store_true", help="write the raw results only")
    p.add_argument("--no-progress", action="store_true")
    args = p.parse_args(argv)
    if args.quick and args.max_epochs is None:
        args.max_epochs = QUICK["max_epochs"]
    return args


def main(argv=None):
    args = parse_args(argv)
    command = "python -m benchmarks.suite " + shlex.join(
        sys.argv[1:] if argv is None else list(argv))
    set_threads(args.threads)
    try:
        args.device_ = resolve_device(args.device)
    except ValueError as exc:  # e.g. --device cuda on a machine without one
        raise SystemExit(str(exc)) from None

    loaded = []
    for name in args.datasets:
        n_samples = args.n_train
        if args.quick and name == "mnist":
            n_samples = min(n_samples or QUICK["mnist_rows"], QUICK["mnist_rows"])
        data = bench_datasets.load(name, seed=args.seed, n_samples=n_samples)
        loaded.append((data, bench_datasets.components_for(data, tuple(args.ks))))
    grid = [
        (data, k, m) for data, ks in loaded for k in ks
        for m in args.methods if applicable(m, data.name)
    ]

    rows, arrays = [], {}
    for data, _ in loaded:
        if data.c_test is not None:
            arrays[f"{data.name}/c_test"] = np.asarray(data.c_test)
        if data.image_shape is not None:
            arrays[f"{data.name}/images"] = data.X_test[:N_RECON_IMAGES]
    if any(m in AUTOENCODERS for _, _, m in grid):
        _warm_up(args)
    bar = tqdm(grid, desc="suite", unit="fit", disable=args.no_progress, file=sys.stderr)
    for data, k, method in bar:
        bar.set_postfix_str(f"{data.name} k={k} {method}")
        row, cell_arrays = run_cell(data, method, k, args)
        rows.append(row)
        for key, value in cell_arrays.items():
            arrays[f"{data.name}/{method}/k{k}/{key}"] = value

    env = environment(args.device_)
    meta = {
        "command": command,
        "environment": env,
        "settings": {
            "quick": args.quick, "seed": args.seed, "ks": args.ks,
            "device": args.device, "device_resolved": args.device_,
            "max_epochs": args.max_epochs, "n_train": args.n_train,
            "mnist_rows": QUICK["mnist_rows"] if args.quick else None,
            "manifold_max_fit_rows": MANIFOLD_MAX_FIT_ROWS,
            "isomap_neighbors": ISOMAP_NEIGHBORS, "kpca_alpha": KPCA_ALPHA,
            "trust_neighbors": TRUST_NEIGHBORS, "trust_max_rows": TRUST_MAX_ROWS,
            "knn_neighbors": KNN_NEIGHBORS,
        },
        "datasets": {d.name: {"description": d.description, "n_train": len(d.X_train),
                              "n_test": len(d.X_test), "n_features": d.X_train.shape[1],
                              "ks": ks}
                     for d, ks in loaded},
        "method_labels": METHOD_LABELS,
        "results": rows,
    }
    out_dir = Path(args.out_dir)
    json_path = write_json(out_dir / "suite.json", meta)
    csv_path = write_csv(out_dir / "suite.csv", rows)
    np.savez_compressed(out_dir / "suite_arrays.npz", **arrays)
    print(f"raw results: {csv_path}, {json_path}, {out_dir / 'suite_arrays.npz'}")
    if not args.no_report:
        report_path = report.write_report(out_dir, args.report)
        print(f"report: {report_path}")
    return rows


if __name__ == "__main__":
    main()
