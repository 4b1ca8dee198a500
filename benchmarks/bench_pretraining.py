"""Semi-supervised learning by autoencoder pretraining (issue 16): test accuracy with few
labels.

On the MNIST subset (8000 training rows, 2000 test rows) with L labeled training rows, L in
{100, 1000, 8000} (the other training rows unlabeled, -1), and on scikit-learn's digits (80/20
split) with 50 labels: stratified label draws, ``--draws`` (3) per L, mean and standard
deviation of the test accuracy and of the fit time of each method:

* ``LogisticRegression`` on the pixels of the labeled rows;
* ``PCA(30)`` fitted on all training rows + ``LogisticRegression`` on the labeled rows;
* ``MLPClassifier`` (scikit-learn's defaults) on the labeled rows;
* ``LabelSpreading(kernel="knn")`` on all training rows (scikit-learn's semi-supervised
  method);
* a frozen ``AutoencoderTransformer(n_components=32)`` fitted on all training rows +
  ``LogisticRegression`` on the labeled rows' codes (what users could do by hand before);
* ``AutoencoderClassifier()`` at its defaults, fine-tuned;
* ``AutoencoderClassifier(freeze_encoder=True)``;
* ``AutoencoderClassifier`` without pretraining: the default autoencoder with
  ``init="random"`` and no training epoch (the ablation: does pretraining help?).

The pretraining is the same unsupervised fit for every L and for the three methods that
use it (the frozen autoencoder + LogisticRegression, the fine-tuned and the frozen
classifier): it is fitted once per dataset and draw (``AutoencoderTransformer(n_components=32,
random_state=draw)``, the classifiers' default autoencoder), handed to the classifiers as
``FrozenEstimator(pretrained)``, and its fit time is added to each of these methods' fit
times, which so include everything the method does. Each cell's result is appended to
``benchmarks/results/pretraining_cells.jsonl`` as it ends; ``--resume`` skips the cells
found there and ``--report-only`` renders the table and figure from it (``--quick`` keeps
its own ``pretraining_cells_quick.jsonl``). Cells run in parallel processes with
``--n-jobs`` (each with ``--threads`` torch threads), in the order MNIST L=100, digits,
MNIST L=1000, MNIST L=8000, so a partial run has the cells that matter most.

    python -m benchmarks.bench_pretraining --threads 2        # the full run
    python -m benchmarks.bench_pretraining --resume --threads 2   # after an interruption
    python -m benchmarks.bench_pretraining --quick            # a short check of the script
"""

import copy
import json
import time
from pathlib import Path

import numpy as np
import torch
from joblib import Parallel, delayed
from skorch.callbacks import Callback
from sklearn.decomposition import PCA
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.semi_supervised import LabelSpreading

from benchmarks import datasets
from benchmarks._common import (
    RESULTS_DIR,
    REPO_ROOT,
    argument_parser,
    markdown_table,
    set_threads,
    write_json,
)
from sklearn_ae import AutoencoderClassifier, AutoencoderTransformer
from sklearn_ae.evaluation import environment

N_COMPONENTS = 32
FIGURE = REPO_ROOT / "benchmarks" / "figures" / "bench_pretraining.png"


class NoTraining(Callback):
    """Ends training before its first epoch: the network keeps its initial weights."""

    def on_epoch_begin(self, net, **kwargs):
        raise KeyboardInterrupt  # skorch's way to stop; the estimator keeps 0 epochs


def _autoencoder(seed, epochs, **params):
    epochs = {} if epochs is None else {"max_epochs": epochs}
    return AutoencoderTransformer(
        n_components=N_COMPONENTS, random_state=seed, **epochs, **params
    )


# (dataset, draw, epochs) -> (the fitted pretraining, its fit seconds): one per process
_PRETRAINED = {}


def pretrained(X, key, seed, epochs):
    """The pretraining of this dataset and draw, fitted on the first call: a copy of the
    fitted autoencoder and the seconds its fit took."""
    if key not in _PRETRAINED:
        start = time.perf_counter()
        ae = _autoencoder(seed, epochs).fit(X)
        _PRETRAINED[key] = ae, time.perf_counter() - start
    ae, seconds = _PRETRAINED[key]
    return copy.deepcopy(ae), seconds


def _classifier(seed, epochs, autoencoder, **params):
    epochs = {} if epochs is None else {"max_epochs": epochs}
    return AutoencoderClassifier(autoencoder, random_state=seed, **epochs, **params)


def _frozen_ae_logistic(X, y, labeled, seed, epochs, ae):
    logistic = LogisticRegression(max_iter=1000).fit(ae.transform(X[labeled]), y[labeled])
    return make_pipeline(ae, logistic)


def _logistic(X, y, labeled, seed, epochs):
    return LogisticRegression(max_iter=1000).fit(X[labeled], y[labeled])


def _pca_logistic(X, y, labeled, seed, epochs):
    pca = PCA(30, random_state=seed).fit(X)
    return make_pipeline(pca, LogisticRegression(max_iter=1000)).fit(X[labeled], y[labeled])


def _mlp(X, y, labeled, seed, epochs):
    return MLPClassifier(random_state=seed).fit(X[labeled], y[labeled])


def _label_spreading(X, y, labeled, seed, epochs):
    return LabelSpreading(kernel="knn").fit(X, y)


def _fine_tuned(X, y, labeled, seed, epochs, ae):
    return _classifier(seed, epochs, FrozenEstimator(ae)).fit(X, y)


def _frozen_encoder(X, y, labeled, seed, epochs, ae):
    return _classifier(seed, epochs, FrozenEstimator(ae), freeze_encoder=True).fit(X, y)


def _no_pretraining(X, y, labeled, seed, epochs):
    untrained = _autoencoder(seed, epochs, init="random", callbacks=[NoTraining()])
    return _classifier(seed, epochs, untrained).fit(X, y)


# name -> fit(X, y_semi, labeled, seed, epochs[, pretrained autoencoder]): a fitted model
# with predict; epochs (--quick) caps the autoencoders' and classifiers' max_epochs
METHODS = {
    "LogisticRegression (labeled rows)": _logistic,
    "PCA(30) + LogisticRegression": _pca_logistic,
    "MLPClassifier (labeled rows)": _mlp,
    'LabelSpreading(kernel="knn")': _label_spreading,
    "frozen AutoencoderTransformer + LogisticRegression": _frozen_ae_logistic,
    "AutoencoderClassifier (fine-tuned)": _fine_tuned,
    "AutoencoderClassifier (freeze_encoder=True)": _frozen_encoder,
    "AutoencoderClassifier (no pretraining)": _no_pretraining,
}
USES_PRETRAINING = {_frozen_ae_logistic, _fine_tuned, _frozen_encoder}


def cells_file(quick):
    """Where the cells' rows are appended; a quick run keeps its own file."""
    return RESULTS_DIR / f"pretraining_cells{'_quick' if quick else ''}.jsonl"


def draw_labels(y, n_labeled, seed):
    """Sorted indices of ``n_labeled`` rows drawn stratified by class."""
    if n_labeled >= len(y):
        return np.arange(len(y))
    _, labeled = train_test_split(
        np.arange(len(y)), test_size=n_labeled, stratify=y, random_state=seed
    )
    return np.sort(labeled)


def run_cell(dataset, n_labeled, method, draw, quick, threads):
    """Fit one method on one label draw; its test accuracy and fit seconds."""
    set_threads(threads)
    data = datasets.load(dataset, n_samples=2000 if quick else None)
    epochs = 3 if quick else None
    X, y = data.X_train, data.y_train
    labeled = draw_labels(y, n_labeled, seed=draw)
    y_semi = np.full(len(y), -1)
    y_semi[labeled] = y[labeled]
    fit, extra = METHODS[method], ()
    pretrain_s = 0.0
    if fit in USES_PRETRAINING:
        ae, pretrain_s = pretrained(X, (dataset, draw, epochs), draw, epochs)
        extra = (ae,)
    start = time.perf_counter()
    model = fit(X, y_semi, labeled, draw, epochs, *extra)
    fit_s = time.perf_counter() - start + pretrain_s
    accuracy = float(np.mean(model.predict(data.X_test) == data.y_test))
    row = {"dataset": dataset, "n_labeled": n_labeled, "method": method, "draw": draw,
           "accuracy": accuracy, "fit_s": fit_s, "pretrain_s": pretrain_s, "quick": quick}
    with open(cells_file(quick), "a") as f:  # appended whole, line by line: partial runs count
        f.write(json.dumps(row) + "\n")
    return row


def summarise(rows):
    """Mean and standard deviation over draws, per dataset, L and method."""
    cells = {}
    for row in rows:
        cells.setdefault((row["dataset"], row["n_labeled"], row["method"]), []).append(row)
    return [
        {"dataset": dataset, "n_labeled": n, "method": method, "draws": len(group),
         "accuracy_mean": float(np.mean([r["accuracy"] for r in group])),
         "accuracy_std": float(np.std([r["accuracy"] for r in group])),
         "fit_s_mean": float(np.mean([r["fit_s"] for r in group])),
         "fit_s_std": float(np.std([r["fit_s"] for r in group]))}
        for (dataset, n, method), group in cells.items()
    ]


def report(summary):
    """One markdown table: a row per method, a column per dataset and L."""
    columns = sorted({(s["dataset"], s["n_labeled"]) for s in summary},
                     key=lambda c: (c[0] != "mnist", c[1]))
    by_cell = {(s["dataset"], s["n_labeled"], s["method"]): s for s in summary}
    rows = []
    for method in METHODS:
        row = [method]
        for dataset, n in columns:
            s = by_cell.get((dataset, n, method))
            row.append("-" if s is None else
                       f"{s['accuracy_mean']:.3f} ± {s['accuracy_std']:.3f} "
                       f"({s['fit_s_mean']:.0f} s)")
        rows.append(row)
    headers = ["method"] + [f"{d} L={n}" for d, n in columns]
    return markdown_table(headers, rows)


def plot(summary, path):
    """Test accuracy against L on MNIST, one line per method (error bars: std over
    draws)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    for method in METHODS:
        points = sorted((s["n_labeled"], s["accuracy_mean"], s["accuracy_std"])
                        for s in summary if s["dataset"] == "mnist" and s["method"] == method)
        if points:
            n, mean, std = zip(*points)
            ax.errorbar(n, mean, yerr=std, marker="o", capsize=3, label=method)
    ax.set_xscale("log")
    ax.set_xlabel("labeled training rows L (of 8000)")
    ax.set_ylabel("test accuracy (2000 rows)")
    ax.set_title("MNIST subset: accuracy against the number of labels")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def cells(args):
    """Every (dataset, L, method, draw) asked for, MNIST L=100 first, then digits, then
    the larger L; the methods of one draw together (they share its pretraining)."""
    mnist = sorted(args.mnist_labels)
    grid = ([("mnist", n) for n in mnist[:1]] + [("digits", n) for n in args.digits_labels]
            + [("mnist", n) for n in mnist[1:]])
    return [(d, n, m, draw) for d, n in grid for draw in range(args.draws) for m in args.methods]


def done_cells(quick):
    """The rows already in the cells file (of a quick run, or of a full one)."""
    path = cells_file(quick)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def main(argv=None):
    parser = argument_parser(__spec__.name, __doc__)
    parser.add_argument("--mnist-labels", type=int, nargs="*", default=[100, 1000, 8000])
    parser.add_argument("--digits-labels", type=int, nargs="*", default=[50])
    parser.add_argument("--draws", type=int, default=3)
    parser.add_argument("--methods", nargs="*", default=list(METHODS), choices=list(METHODS),
                        metavar="METHOD", help="a subset of the methods, by name")
    parser.add_argument("--n-jobs", type=int, default=1, help="cells run in parallel")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per cell")
    parser.add_argument("--plot", default=str(FIGURE), help="where the figure goes")
    parser.add_argument("--resume", action="store_true",
                        help="keep the cells already in the cells file and run the others")
    parser.add_argument("--report-only", action="store_true",
                        help="render the table and figure from the cells file alone")
    parser.add_argument("--quick", action="store_true",
                        help="MNIST cut to 2000 training rows, L=100 only, one draw, "
                        "3 epochs of each network")
    args = parser.parse_args(argv)
    if args.quick:
        args.mnist_labels, args.draws = [n for n in args.mnist_labels if n <= 100] or [100], 1
    start = time.perf_counter()
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    rows = done_cells(args.quick) if args.resume or args.report_only else []
    if not args.resume and not args.report_only:
        cells_file(args.quick).unlink(missing_ok=True)
    done = {(r["dataset"], r["n_labeled"], r["method"], r["draw"]) for r in rows}
    todo = [cell for cell in cells(args) if cell not in done] if not args.report_only else []
    rows += Parallel(n_jobs=args.n_jobs, verbose=5)(
        delayed(run_cell)(*cell, args.quick, args.threads) for cell in todo
    )
    summary = summarise(rows)
    print(report(summary))
    result = {"settings": vars(args), "wall_s": time.perf_counter() - start, "rows": rows,
              "summary": summary, "environment": environment(),
              "torch_threads_per_cell": args.threads, "torch_version": torch.__version__}
    write_json(RESULTS_DIR / "pretraining.json", result)
    if not args.quick:
        print(f"figure: {plot(summary, Path(args.plot))}")


if __name__ == "__main__":
    main()
