"""Data that ships with the package (no download at run time)."""

import ast
import importlib.util
from importlib import resources
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch


def load_mnist_10k(*, return_X_y=False, as_float=True):
    """Load the bundled subset of 10,000 real MNIST digits.

    A subset of the MNIST database (LeCun, Cortes, Burges; CC BY-SA 3.0); provenance in
    ``sklearn_ae/data/README.md``. Rows are shuffled with a fixed seed; by the project's
    convention the first 8000 rows are the training split and the last 2000 the test split.

    Parameters
    ----------
    return_X_y : bool, default=False
        Return ``(X, y)`` instead of a Bunch.
    as_float : bool, default=True
        Scale pixels to [0, 1] as float32 (``X / 255``); else keep uint8 grey levels 0..255.

    Returns
    -------
    data : Bunch with ``data`` (10000, 784), ``target`` (10000,), ``images`` (10000, 28, 28),
        ``train_idx`` and ``test_idx`` (the conventional split); or ``(X, y)``.

    Examples
    --------
    >>> from sklearn_ae.datasets import load_mnist_10k
    >>> X, y = load_mnist_10k(return_X_y=True)
    >>> X.shape, X.dtype, y.shape
    ((10000, 784), dtype('float32'), (10000,))
    """
    with resources.files("sklearn_ae").joinpath("data/mnist_10k.npz").open("rb") as f:
        arrays = np.load(f)
        X, y = arrays["X"], arrays["y"].astype(np.int64)
    if as_float:
        X = X.astype(np.float32) / np.float32(255.0)
    if return_X_y:
        return X, y
    return Bunch(
        data=X,
        target=y,
        images=X.reshape(-1, 28, 28),
        train_idx=np.arange(8000),
        test_idx=np.arange(8000, 10000),
        DESCR="10,000 MNIST digits (28x28); first 8000 train, last 2000 test.",
    )


DOCSTRING_PACKAGES = ("numpy", "scipy", "sklearn", "pandas", "matplotlib")


def load_docstrings(packages=DOCSTRING_PACKAGES, *, min_words=20, return_X_y=False):
    """Build a real text corpus offline: the docstrings of installed Python packages,
    labelled by package.

    Every module, class and function docstring of at least ``min_words`` words in the
    packages' source files (test folders left out), read with :mod:`ast` (no package is
    imported), duplicates within a package dropped, sorted. Which package wrote a
    docstring is a text classification task (scientific English, shared vocabulary across
    classes: "array", "axis", "return"); what the corpus holds depends on the installed
    versions, so record them beside results. The default packages come with scikit-learn
    and the ``bench`` extra; a package that is not installed is refused.

    Parameters
    ----------
    packages : sequence of str, default=("numpy", "scipy", "sklearn", "pandas", \
"matplotlib")
        Importable top-level package names; the classes, in this order.
    min_words : int, default=20
        Shortest docstring kept, in whitespace-separated words.
    return_X_y : bool, default=False
        Return ``(texts, y)`` instead of a Bunch.

    Returns
    -------
    data : Bunch with ``data`` (list of str), ``target`` (ndarray of int), ``target_names``
        (the packages) and ``versions`` (each package's installed version, None for the
        standard library's); or ``(texts, y)``.

    Examples
    --------
    >>> from sklearn_ae.datasets import load_docstrings
    >>> texts, y = load_docstrings(["json"], min_words=5, return_X_y=True)
    >>> len(texts) > 10, set(y.tolist())
    (True, {0})
    """
    texts, target = [], []
    for label, package in enumerate(packages):
        found = sorted(set(_package_docstrings(package, min_words)))
        texts += found
        target += [label] * len(found)
    if return_X_y:
        return texts, np.asarray(target, dtype=np.int64)
    return Bunch(data=texts, target=np.asarray(target, dtype=np.int64),
                 target_names=list(packages), versions=_versions(packages))


def _package_docstrings(package, min_words):
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ValueError(f"package {package!r} is not installed (or is a single module).")
    root = Path(next(iter(spec.submodule_search_locations)))
    for path in sorted(root.rglob("*.py")):
        if "tests" in path.relative_to(root).parts:
            continue
        try:
            tree = ast.parse(path.read_bytes())
        except (SyntaxError, ValueError):  # sources for other Python versions, templates
            continue
        for node in ast.walk(tree):
            if isinstance(node, _DOCUMENTED):
                text = ast.get_docstring(node)
                if text and len(text.split()) >= min_words:
                    yield text


_DOCUMENTED = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)


def _versions(packages):
    from importlib import metadata

    found = {}
    for package in packages:
        try:
            found[package] = metadata.version(_DISTRIBUTIONS.get(package, package))
        except metadata.PackageNotFoundError:  # the standard library's, say
            found[package] = None
    return found


_DISTRIBUTIONS = {"sklearn": "scikit-learn"}
