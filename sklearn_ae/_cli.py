"""The ``sklearn-ae`` command line: ``compare`` answers "autoencoder or PCA on my data?".

``python -m sklearn_ae compare`` (or the ``sklearn-ae`` console script) fits PCA and an
:class:`~sklearn_ae.AutoencoderTransformer` with the same ``n_components`` on a training
split, and reports held-out reconstruction error, kNN accuracy of the codes (where labels
exist) and fit time, followed by a verdict written from those numbers.

Errors in the user's input (a missing file, a 1-d array, a text column) end the command with
a one-line message and exit status 2, as argparse does for bad options; they are raised here
as :class:`CLIError` and turned into ``parser.error`` in :func:`main`.
"""

import argparse
import json
import math
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import sklearn
import skorch
import torch
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split
from sklearn.utils.multiclass import type_of_target
from skorch.callbacks import Callback
from tqdm.auto import tqdm

from ._autoencoder import AutoencoderTransformer
from ._device import resolve_device
from .evaluation import (
    KNN_NEIGHBORS,
    environment,
    knn_accuracy,
    load_mnist_split,
    reconstruction_mse,
)

# rows of a CSV inspected to decide whether its first row is a header
_HEADER_SNIFF_ROWS = 50


class CLIError(Exception):
    """A problem with the user's input, reported as one line with exit status 2."""


# ---------------------------------------------------------------------------- parsing
def _prog():
    # `python -m sklearn_ae` runs __main__.py; show the user the command they typed
    if os.path.basename(sys.argv[0] or "") == "__main__.py":
        return "python -m sklearn_ae"
    return "sklearn-ae"


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _fraction(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1), got {text!r}")
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1), got {text!r}")
    return value


def _version_string():
    from . import __version__

    return (
        f"sklearn-ae {__version__} (torch {torch.__version__}, scikit-learn "
        f"{sklearn.__version__}, skorch {skorch.__version__}, Python "
        f"{platform.python_version()})"
    )


class _VersionAction(argparse.Action):
    """``--version``, printed on one line (argparse's own action wraps it to the terminal)."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        print(_version_string())
        parser.exit()


def build_parser():
    """The argument parser of the ``sklearn-ae`` command."""
    parser = argparse.ArgumentParser(
        prog=_prog(),
        description=(
            "scikit-learn compatible autoencoder transformers on PyTorch. "
            "Run `%(prog)s compare --help` to see whether an autoencoder beats PCA on "
            "your data."
        ),
    )
    parser.add_argument(
        "--version", action=_VersionAction, help="show the versions and exit"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_compare(commands)
    return parser


def _add_compare(commands):
    """The ``compare`` subcommand: what it does, its data and its run options."""
    sub = commands.add_parser(
        "compare",
        help="fit PCA and an autoencoder at the same n_components and compare them",
        description=(
            "Should I use an autoencoder instead of PCA on my data? Fits "
            "sklearn.decomposition.PCA and sklearn_ae.AutoencoderTransformer with the same "
            "n_components on a training split and prints, for each, the held-out "
            "reconstruction MSE (in the data's units), its ratio to PCA's, the kNN-5 "
            "accuracy of the codes (where labels exist) and the fit time, then a verdict "
            "written from those numbers."
        ),
        epilog=(
            "Data: 'mnist' is the bundled subset of 10,000 MNIST digits (pixels / 255) "
            "with its fixed split, first 8000 rows train and last 2000 test; 'digits' is "
            "scikit-learn's 8x8 digits (raw 0..16 pixels). A .npy file holds a 2-d array "
            "(n_samples, n_features); a .csv file holds numeric columns, its first row is "
            "taken as a header when it has a non-numeric entry above a numeric column. "
            "Other data are split with train_test_split(test_size, random_state). "
            "Exit status: 0 on success, 2 on a usage or data error."
        ),
    )
    _add_data_arguments(sub)
    _add_run_arguments(sub)
    sub.set_defaults(handler=run_compare, parser=sub)


def _add_data_arguments(sub):
    """What ``compare`` runs on: the data, its labels, the codes' size, the split and the
    seed."""
    sub.add_argument(
        "--data",
        default="mnist",
        metavar="{mnist,digits,PATH.npy,PATH.csv}",
        help="data set to compare on (default: mnist)",
    )
    _add_label_arguments(sub)
    sub.add_argument(
        "--n-components",
        type=_positive_int,
        default=30,
        metavar="K",
        help="size of the codes of both methods (default: 30)",
    )
    sub.add_argument(
        "--test-size",
        type=_fraction,
        default=None,
        metavar="FRACTION",
        help="held-out fraction for data other than mnist (default: 0.2); mnist keeps its "
        "fixed 8000/2000 split",
    )
    sub.add_argument(
        "--random-state",
        type=int,
        default=0,
        metavar="SEED",
        help="seed of the split, PCA and the autoencoder (default: 0)",
    )


def _add_label_arguments(sub):
    """Where ``compare`` finds class labels for a file of data (either, not both)."""
    labels = sub.add_mutually_exclusive_group()
    labels.add_argument(
        "--labels",
        metavar="PATH",
        help="class labels for a .npy/.csv --data: a .npy (1-d) or one-column .csv file "
        "with one label per row; enables the kNN accuracy column",
    )
    labels.add_argument(
        "--label-column",
        metavar="NAME",
        help="for a .csv --data: the column holding class labels (a header name, or a "
        "0-based position for files without a header); it is removed from the features",
    )


def _add_run_arguments(sub):
    """How ``compare`` runs: training length, device, threads, output and logging."""
    _add_training_arguments(sub)
    _add_output_arguments(sub)


def _add_training_arguments(sub):
    sub.add_argument(
        "--max-epochs",
        type=_positive_int,
        default=None,
        metavar="N",
        help="cap on the autoencoder's training epochs (default: the estimator's, 60; "
        "early stopping usually ends training sooner)",
    )
    sub.add_argument(
        "--device",
        default="auto",
        help="torch device for the autoencoder: auto, cpu, cuda or cuda:N (default: auto)",
    )
    sub.add_argument(
        "--threads",
        type=_positive_int,
        default=None,
        metavar="N",
        help="torch CPU threads (default: torch's choice, one per core); on a machine "
        "busy with other work, 1 can be several times faster",
    )


def _add_output_arguments(sub):
    sub.add_argument(
        "--output",
        metavar="PATH.json",
        help="also write the results (and the environment) to this JSON file; an "
        "existing file is kept unless --force is given, and the --data or --labels file "
        "is never overwritten",
    )
    sub.add_argument(
        "--force",
        action="store_true",
        help="overwrite an existing --output file",
    )
    sub.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="show the autoencoder's per-epoch log and skorch's batch progress bar",
    )
    sub.add_argument(
        "--no-progress",
        action="store_true",
        help="hide the progress bar over the steps",
    )


# ------------------------------------------------------------------------------- data
class Dataset:
    """A train/test split, with labels or without (``y_train is None``)."""

    def __init__(self, name, X_train, X_test, y_train=None, y_test=None, split=""):
        self.name = name
        self.X_train = X_train
        self.X_test = X_test
        self.y_train = y_train
        self.y_test = y_test
        self.split = split

    @property
    def has_labels(self):
        return self.y_train is not None

    def describe(self):
        n_train, n_features = self.X_train.shape
        n_test = self.X_test.shape[0]
        return {
            "name": self.name,
            "n_samples": n_train + n_test,
            "n_features": n_features,
            "n_train": n_train,
            "n_test": n_test,
            "has_labels": self.has_labels,
            "split": self.split,
        }


def _is_number(text):
    try:
        float(text)
    except (TypeError, ValueError):
        return False
    return True


def _read_csv(path):
    """A DataFrame from ``path``, with a header only where the first row looks like one."""
    try:
        import pandas as pd
    except ImportError:
        # pandas is an optional dependency (the [test] and [bench] extras)
        raise CLIError(f"reading {path} needs pandas: python -m pip install pandas")

    try:
        head = pd.read_csv(
            path, header=None, nrows=_HEADER_SNIFF_ROWS + 1, dtype=str, skipinitialspace=True
        )
        first, rest = head.iloc[0], head.iloc[1:]
        # a name above a column of numbers is a header; a text column all the way down
        # (labels, say) is data
        has_header = any(
            not pd.isna(first[c])
            and not _is_number(first[c])
            and (rest.empty or rest[c].dropna().map(_is_number).all())
            for c in head.columns
        )
        df = pd.read_csv(path, header=0 if has_header else None, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise CLIError(f"{path} is empty")
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CLIError(f"cannot read {path} as CSV: {reason}")
    if df.empty:
        raise CLIError(f"{path} has no data rows")
    df.columns = [str(c).strip() for c in df.columns]
    return df


def _numeric_matrix(df, path):
    """The columns of ``df`` as a float array; text columns and gaps are errors."""
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    bad = [c for c in df.columns if not (is_numeric_dtype(df[c]) or is_bool_dtype(df[c]))]
    if bad:
        names = ", ".join(repr(c) for c in bad[:5]) + (" ..." if len(bad) > 5 else "")
        raise CLIError(
            f"{path}: column(s) {names} are not numeric; remove them, or name the label "
            "column with --label-column"
        )
    X = df.to_numpy(dtype=np.float64)
    _check_finite(X, path)
    return X


def _check_finite(X, path):
    n_bad = int(np.size(X) - np.count_nonzero(np.isfinite(X)))
    if n_bad:
        raise CLIError(f"{path} has {n_bad} missing or infinite value(s); clean them first")


def _pick_column(df, name, path):
    if name in df.columns:
        return name
    try:
        position = int(name)
    except ValueError:
        position = None
    if position is not None and -len(df.columns) <= position < len(df.columns):
        return df.columns[position]
    shown = ", ".join(repr(c) for c in list(df.columns)[:10])
    raise CLIError(f"{path} has no column {name!r}; its columns are {shown}")


def _load_npy(path, what):
    try:
        A = np.load(path, allow_pickle=False)
    except ValueError as exc:
        # allow_pickle=False refuses object arrays with a ValueError
        raise CLIError(f"cannot read {path} as a numeric .npy array: {exc}")
    except OSError as exc:
        raise CLIError(f"cannot read {path}: {exc}")
    if not isinstance(A, np.ndarray):
        raise CLIError(f"{path} is not a .npy array (an .npz archive?)")
    if what == "data" and A.dtype.kind not in "biuf":
        raise CLIError(f"{path} holds {A.dtype} values; expected numbers")
    return A


def _load_labels(path, n_samples):
    path = _existing_file(path, "--labels")
    suffix = path.suffix.lower()
    if suffix == ".npy":
        y = _load_npy(path, "labels")
    elif suffix in (".csv", ".txt"):
        df = _read_csv(path)
        if df.shape[1] != 1:
            raise CLIError(f"{path} has {df.shape[1]} columns; a labels file has one")
        y = df.iloc[:, 0].to_numpy()
    else:
        raise CLIError(f"--labels {path}: expected a .npy or .csv file")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.ravel()
    if y.ndim != 1:
        raise CLIError(f"{path} has shape {y.shape}; expected one label per row (1-d)")
    if len(y) != n_samples:
        raise CLIError(f"{path} has {len(y)} labels but the data has {n_samples} rows")
    return y


def _check_class_labels(y, source):
    if np.asarray(y).dtype.kind == "f" and not np.all(np.isfinite(y)):
        raise CLIError(f"labels from {source} have missing values")
    try:
        kind = type_of_target(y)
    except ValueError as exc:
        raise CLIError(f"labels from {source} are not usable: {exc}")
    if kind not in ("binary", "multiclass"):
        raise CLIError(
            f"labels from {source} look {kind}; the kNN accuracy needs class labels"
        )


def _existing_file(path, option):
    path = Path(path)
    if not path.exists():
        raise CLIError(f"{option} {path}: no such file")
    if not path.is_file():
        raise CLIError(f"{option} {path}: not a file")
    return path


def _reject_labels_for_builtin(args):
    """``--labels`` / ``--label-column`` make no sense for mnist and digits."""
    if args.data.lower() in ("mnist", "digits") and (args.labels or args.label_column):
        option = "--labels" if args.labels else "--label-column"
        raise CLIError(
            f"{option} applies to a .npy/.csv --data; {args.data} has its own labels"
        )


def _load_mnist():
    X_train, X_test, y_train, y_test = load_mnist_split()
    split = f"fixed: first {len(X_train)} rows train, last {len(X_test)} test"
    return Dataset("mnist", X_train, X_test, y_train, y_test, split=split)


def _load_npy_features(path):
    """The 2-d, finite, float array of a .npy ``--data`` file."""
    X = _load_npy(path, "data")
    if X.ndim != 2:
        hint = (
            "; for one feature, save X.reshape(-1, 1)"
            if X.ndim == 1
            else "; flatten it, e.g. X.reshape(len(X), -1)"
        )
        raise CLIError(
            f"{path} holds a {X.ndim}-d array of shape {X.shape}; expected a 2-d "
            f"array (n_samples, n_features){hint}"
        )
    X = X.astype(np.float32 if X.dtype == np.float32 else np.float64)
    _check_finite(X, path)
    return X


def _load_csv_features(path, label_column):
    """``(X, y, source)`` of a .csv ``--data`` file; ``y`` is None without a label column."""
    df = _read_csv(path)
    y = source = None
    if label_column is not None:
        column = _pick_column(df, label_column, path)
        y = df[column].to_numpy()
        df = df.drop(columns=[column])
        if df.shape[1] == 0:
            raise CLIError(f"{path} has no feature columns besides {column!r}")
        source = f"column {column!r}"
    return _numeric_matrix(df, path), y, source


def _load_file(args):
    """``(X, y, name)`` of a .npy/.csv ``--data``, with its labels where given."""
    path = Path(args.data)
    suffix = path.suffix.lower()
    if suffix not in (".npy", ".csv"):
        raise CLIError(
            f"--data {args.data}: expected mnist, digits, or a path to a .npy or .csv file"
        )
    path = _existing_file(path, "--data")
    if suffix == ".npy":
        if args.label_column:
            raise CLIError("--label-column applies to a .csv --data; use --labels")
        X, y, source = _load_npy_features(path), None, None
    else:
        X, y, source = _load_csv_features(path, args.label_column)
    if args.labels:
        y = _load_labels(args.labels, X.shape[0])
        source = args.labels
    if y is not None:
        _check_class_labels(y, source)
    return X, y, str(path)


def _split(name, X, y, test_size, random_state):
    """A :class:`Dataset` from ``train_test_split`` of ``X`` (and ``y``)."""
    if X.shape[0] < 3:
        raise CLIError(f"{name} has {X.shape[0]} rows; need at least 3 to train and test")
    arrays = (X,) if y is None else (X, y)
    try:
        parts = train_test_split(*arrays, test_size=test_size, random_state=random_state)
    except ValueError as exc:
        raise CLIError(f"cannot split {name} with --test-size {test_size}: {exc}")
    split = f"train_test_split(test_size={test_size}, random_state={random_state})"
    if y is None:
        return Dataset(name, parts[0], parts[1], split=split)
    return Dataset(name, parts[0], parts[1], parts[2], parts[3], split=split)


def load_data(args):
    """The :class:`Dataset` named by ``--data`` (and ``--labels`` / ``--label-column``)."""
    _reject_labels_for_builtin(args)
    test_size = 0.2 if args.test_size is None else args.test_size
    if args.data.lower() == "mnist":
        return _load_mnist()
    if args.data.lower() == "digits":
        X, y = load_digits(return_X_y=True)
        name = "digits"
    else:
        X, y, name = _load_file(args)
    return _split(name, X, y, test_size, args.random_state)


# ---------------------------------------------------------------------------- compare
class _EpochProgress(Callback):
    """Advances the command's progress bar by one step per training epoch.

    Holds a plain function rather than the bar: the estimator deep-copies its callbacks at
    ``fit``, and functions are copied by reference, so the copy still drives this bar.
    """

    def __init__(self, on_epoch):
        self.on_epoch = on_epoch

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        self.on_epoch(row["epoch"], row.get("valid_loss"))


def _make_models(n_components, max_epochs, device, random_state, verbose):
    """Unfitted ``(pca, autoencoder)`` at the same ``n_components``."""
    params = {
        "n_components": n_components,
        "device": device,
        "random_state": random_state,
        "verbose": 2 if verbose else 0,
    }
    if max_epochs is not None:
        params["max_epochs"] = max_epochs
    ae = AutoencoderTransformer(**params)
    pca = PCA(n_components=n_components, random_state=random_state)
    return pca, ae


def _report_epochs_to(bar, ae):
    """Make each training epoch of ``ae`` advance ``bar`` by one step."""

    def on_epoch(epoch, valid_loss):
        bar.update(1)
        if valid_loss is not None:
            bar.set_postfix_str(f"epoch {epoch}, valid loss {valid_loss:.4g}")

    ae.set_params(callbacks=[_EpochProgress(on_epoch)])


def _timed_fit(model, X):
    """Fit ``model`` on ``X``; returns the seconds it took."""
    start = time.perf_counter()
    model.fit(X)
    return time.perf_counter() - start


def _measure(model, data, fit_time):
    """Held-out MSE, kNN accuracy (None without labels) and fit time of a fitted model."""
    knn = None
    if data.has_labels:
        Z_train = model.transform(data.X_train)
        Z_test = model.transform(data.X_test)
        knn = knn_accuracy(Z_train, data.y_train, Z_test, data.y_test)
    return {
        "test_mse": reconstruction_mse(model, data.X_test),
        "knn_accuracy": knn,
        "fit_time_s": fit_time,
    }


def _fit_and_measure(pca, ae, data, bar):
    """Fit both models on the training split and measure them, walking ``bar``."""
    fit_times = {"pca": _timed_fit(pca, data.X_train)}
    bar.update(1)
    bar.set_description("autoencoder")
    fit_times["autoencoder"] = _timed_fit(ae, data.X_train)
    # early stopping ends the epoch before this bar hears of the last one
    bar.update(ae.max_epochs + 1 - bar.n)
    bar.set_postfix_str(f"{ae.n_iter_} epochs, kept epoch {ae.best_epoch_}")
    bar.set_description("evaluating")
    results = {
        key: _measure(model, data, fit_times[key])
        for key, model in (("pca", pca), ("autoencoder", ae))
    }
    bar.update(1)
    bar.set_description("done")
    return results


def compare(
    data,
    *,
    n_components,
    max_epochs=None,
    device="auto",
    random_state=0,
    verbose=False,
    progress=True,
):
    """Fit PCA and the autoencoder on ``data`` and measure them.

    Returns a dict with one entry per method (``"pca"``, ``"autoencoder"``), each holding
    ``test_mse``, ``ratio_to_pca``, ``knn_accuracy`` (None without labels) and
    ``fit_time_s``; the autoencoder's also holds ``n_iter``, ``best_epoch``,
    ``max_epochs`` and ``device``.
    """
    pca, ae = _make_models(n_components, max_epochs, device, random_state, verbose)
    max_epochs = ae.max_epochs
    # one step for PCA, one per epoch of the autoencoder (at most max_epochs: early
    # stopping skips the rest), one for the evaluation
    bar = tqdm(
        total=max_epochs + 2, desc="PCA", unit="step", disable=not progress, file=sys.stderr
    )
    if progress:
        _report_epochs_to(bar, ae)
    try:
        results = _fit_and_measure(pca, ae, data, bar)
    finally:
        bar.close()
    pca_mse = results["pca"]["test_mse"]
    for row in results.values():
        row["ratio_to_pca"] = row["test_mse"] / pca_mse if pca_mse > 0 else None
    results["autoencoder"].update(
        n_iter=int(ae.n_iter_),
        best_epoch=int(ae.best_epoch_),
        max_epochs=int(max_epochs),
        device=ae.device_,
    )
    return results


# ----------------------------------------------------------------------------- report
METHOD_NAMES = {"pca": "PCA", "autoencoder": "autoencoder"}


def _fmt(value, spec):
    return "n/a" if value is None else format(value, spec)


def format_table(results):
    """The results as a Markdown table (readable as plain text too)."""
    knn = f"kNN-{KNN_NEIGHBORS} accuracy"
    header = ["method", "test MSE", "ratio to PCA", knn, "fit time (s)"]
    rows = [
        [
            METHOD_NAMES[key],
            _fmt(r["test_mse"], ".4g"),
            _fmt(r["ratio_to_pca"], ".3f"),
            _fmt(r["knn_accuracy"], ".3f"),
            _seconds(r["fit_time_s"]),
        ]
        for key, r in results.items()
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells):
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


def _seconds(t):
    # PCA fits in milliseconds and the autoencoder in minutes: keep both readable
    return f"{t:.3f}" if t < 1 else f"{t:.1f}"


def _times(ratio):
    if ratio >= 10:
        return f"{ratio:.0f}x"
    return f"{ratio:.2g}x" if ratio < 1 else f"{ratio:.1f}x"


def _error_clause(pca, ae, n_components):
    """How the autoencoder's held-out error compares with PCA's (no full stop)."""
    ratio = ae["ratio_to_pca"]
    k = f"{n_components} component{'s' if n_components != 1 else ''}"
    mse = f"(test MSE {ae['test_mse']:.4g} vs {pca['test_mse']:.4g})"
    if ratio is None:
        return f"PCA reconstructs the held-out data perfectly at {k}, so there is nothing to gain"
    if abs(ratio - 1) < 0.005:
        return f"The autoencoder reconstructs held-out data as well as PCA at {k} {mse}"
    return (
        f"The autoencoder reconstructs held-out data with {ratio:.2f}x PCA's error at "
        f"{k} {mse}"
    )


def _cost_clause(pca, ae):
    """The autoencoder's fit time, relative to PCA's where that is measurable."""
    if pca["fit_time_s"] > 0:
        time_ratio = ae["fit_time_s"] / pca["fit_time_s"]
        return (
            f", at {_times(time_ratio)} the fit time ({_seconds(ae['fit_time_s'])} s vs "
            f"{_seconds(pca['fit_time_s'])} s)."
        )
    return f", in {_seconds(ae['fit_time_s'])} s of fitting."


def _knn_sentence(pca, ae):
    """The kNN accuracies compared; None without labels."""
    if ae["knn_accuracy"] is None:
        return None
    a, p = ae["knn_accuracy"], pca["knn_accuracy"]
    if a > p:
        rel = "higher than"
    elif a < p:
        rel = "lower than"
    else:
        rel = "the same as"
    return f"The kNN-{KNN_NEIGHBORS} accuracy of its codes is {a:.3f}, {rel} PCA's {p:.3f}."


def _training_sentence(ae):
    """What early stopping did, where it says something; else None."""
    if ae["best_epoch"] == 0:
        return (
            "Early stopping kept the untrained model, which is PCA itself: training did "
            "not lower the validation error by more than its noise."
        )
    if ae["n_iter"] >= ae["max_epochs"] and ae["best_epoch"] == ae["n_iter"]:
        return (
            f"Training was still improving when it reached max_epochs={ae['max_epochs']}; "
            "more epochs may lower the error further."
        )
    return None


def _advice_sentence(ratio):
    """Which method to use, from the ratio of the errors; None when PCA is exact."""
    if ratio is None:
        return None
    if ratio < 0.995:
        return (
            f"Use the autoencoder if cutting the reconstruction error by "
            f"{100 * (1 - ratio):.0f}% is worth that training time; otherwise PCA is the "
            "simpler choice."
        )
    return "On this data PCA is the better choice: as good or better, and faster."


def verdict(results, n_components):
    """One paragraph stating what the numbers say; nothing in it is decided in advance."""
    pca, ae = results["pca"], results["autoencoder"]
    sentences = [
        _error_clause(pca, ae, n_components) + _cost_clause(pca, ae),
        _knn_sentence(pca, ae),
        _training_sentence(ae),
        _advice_sentence(ae["ratio_to_pca"]),
    ]
    return " ".join(s for s in sentences if s is not None)


def _json_safe(value):
    # json would write NaN/inf as bare tokens that strict readers reject
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


def _resolve_device(name):
    try:
        return resolve_device(name)
    except ValueError as exc:
        raise CLIError(f"--device: {exc}")


def _check_output(args):
    """Refuse, before anything runs, an --output that cannot or must not be written."""
    output = Path(args.output)
    parent = output.resolve().parent
    # check now rather than lose a long run to a typo in the path
    if not parent.is_dir():
        raise CLIError(f"--output {output}: directory {parent} does not exist")
    for option, source in (("--data", args.data), ("--labels", args.labels)):
        if source and Path(source).exists() and output.exists() and _same_file(output, source):
            raise CLIError(f"--output {output} is the {option} file: writing the results "
                           "there would destroy the data")
    if output.is_dir():
        raise CLIError(f"--output {output} is a directory; name a file")
    if output.exists() and not args.force:
        raise CLIError(f"--output {output} exists; pass --force to overwrite it")


def _same_file(a, b):
    try:
        return os.path.samefile(a, b)
    except OSError:
        return Path(a).resolve() == Path(b).resolve()


def _check_n_components(n_components, data, info):
    n_max = min(info["n_train"], info["n_features"])
    if n_components > n_max:
        raise CLIError(
            f"--n-components {n_components} is more than PCA can fit on {data.name}: "
            f"at most min(n_train={info['n_train']}, n_features={info['n_features']}) = {n_max}"
        )


def _print_data_line(data, info, n_components, device):
    labels = "with labels" if data.has_labels else "no labels"
    print(
        f"Data: {data.name}, {info['n_samples']} samples x {info['n_features']} features "
        f"({info['n_train']} train / {info['n_test']} test, {labels}); "
        f"n_components={n_components}, device={device}",
        flush=True,
    )


def _print_report(results, text):
    """The table, the autoencoder's training summary and the verdict, on stdout."""
    ae = results["autoencoder"]
    print()
    print(format_table(results))
    print()
    print(
        f"autoencoder: {ae['n_iter']} epochs run (max_epochs={ae['max_epochs']}), weights "
        f"of epoch {ae['best_epoch']} kept (0 = the PCA-initialised start)"
    )
    print()
    print(text)


def _write_json(args, argv, info, results, text, device):
    report = {
        "command": ["sklearn-ae", *argv],
        "data": info,
        "n_components": args.n_components,
        "random_state": args.random_state,
        "results": results,
        "verdict": text,
        "environment": environment(device),
    }
    with open(args.output, "w") as f:
        json.dump(_json_safe(report), f, indent=2)
        f.write("\n")
    print(f"\nResults written to {args.output}")


def run_compare(args, argv):
    """The ``compare`` command; returns the exit status."""
    device = _resolve_device(args.device)
    if args.output:
        _check_output(args)
    if args.threads:
        torch.set_num_threads(args.threads)
    data = load_data(args)
    info = data.describe()
    _check_n_components(args.n_components, data, info)
    if args.data.lower() == "mnist" and args.test_size is not None:
        print("note: --test-size is ignored for mnist, which has a fixed split", file=sys.stderr)

    _print_data_line(data, info, args.n_components, device)
    results = compare(
        data,
        n_components=args.n_components,
        max_epochs=args.max_epochs,
        device=args.device,
        random_state=args.random_state,
        verbose=args.verbose,
        progress=not args.no_progress,
    )
    text = verdict(results, args.n_components)
    _print_report(results, text)
    if args.output:
        _write_json(args, argv, info, results, text, device)
    return 0


def main(argv=None):
    """Entry point of ``sklearn-ae`` and ``python -m sklearn_ae``; returns the exit status.

    Parameters
    ----------
    argv : list of str, default=None
        Arguments without the program name; ``None`` reads ``sys.argv[1:]``.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args, argv)
    except CLIError as exc:
        # argparse style: usage, "prog compare: error: ...", exit status 2
        args.parser.error(str(exc))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
