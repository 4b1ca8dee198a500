"""Sparse input: the peak memory of a fit on a large CSR matrix, and TF-IDF text
classification with the autoencoder where ``TruncatedSVD`` stood (the LSA pattern).

``memory``: in a fresh subprocess, a random ``--rows`` x ``--features`` CSR matrix at
``--density`` (float64 values, seeded; 200,000 x 50,000 at 0.1%: 10 M non-zeros, 120 MB)
is made, then ``AutoencoderTransformer(n_components=100, max_epochs=1)`` (the other
parameters at their defaults unless ``--hidden`` says, early stopping's validation rows
included) is fitted on it.
Reported: the process's peak resident set (``ru_maxrss``: interpreter, torch, the matrix
and the fit), the resident set before the fit, the fit's time, and what the matrix would
take dense (float64). Target: peak under 2 GB.

``text``: the docstrings of numpy, scipy, scikit-learn, pandas and matplotlib
(:func:`sklearn_ae.datasets.load_docstrings`, built offline from the installed packages),
which package wrote each one; a stratified 75/25 split per seed.
``TfidfVectorizer(min_df=3, sublinear_tf=True, max_features=5000)`` -> a reducer with 100
components -> ``LogisticRegression(max_iter=2000)``, for ``TruncatedSVD``, ``PCA`` (sparse,
implicitly centred) and ``AutoencoderTransformer`` (defaults). Reported per reducer: held-out
accuracy and macro F1 (mean over seeds), the pipeline's fit time. Target: the autoencoder's
accuracy above TruncatedSVD's at equal components.

    python -m benchmarks.bench_sparse_input --threads 2                  # both parts; ~40 min
    python -m benchmarks.bench_sparse_input --part text --seeds 0 1 2
    python -m benchmarks.bench_sparse_input --quick                      # seconds
"""

import json
import resource
import subprocess
import sys
import time

import numpy as np

from benchmarks._common import (
    RESULTS_DIR,
    argument_parser,
    fmt,
    markdown_table,
    set_threads,
    write_json,
)
from sklearn_ae.evaluation import environment

N_COMPONENTS = 100
TARGET_PEAK_GB = 2.0
MAX_FEATURES = 5000


def _rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def memory_case(rows, features, density, max_epochs, hidden=None):
    """Run in the subprocess: make the matrix, fit, return one result dict."""
    import scipy.sparse as sp

    from sklearn_ae import AutoencoderTransformer

    # a Generator: a RandomState would draw the positions through a permutation of all
    # rows x features cells (75 GB at the default sizes)
    X = sp.random(rows, features, density=density, format="csr",
                  rng=np.random.default_rng(0), dtype=np.float64)
    before = _rss_mb()
    ae = AutoencoderTransformer(n_components=N_COMPONENTS, max_epochs=max_epochs,
                                hidden_layer_sizes=hidden, random_state=0)
    start = time.perf_counter()
    ae.fit(X)
    return {
        "rows": rows, "features": features, "nnz": int(X.nnz),
        "sparse_mb": (X.data.nbytes + X.indices.nbytes + X.indptr.nbytes) / 2**20,
        "dense_gb": rows * features * 8 / 2**30,
        "rss_before_fit_mb": before, "peak_mb": _rss_mb(),
        "fit_s": time.perf_counter() - start,
        "hidden_layer_sizes": list(ae.hidden_layer_sizes_), "precision": ae.precision_,
        "validation_explained_variance": ae.validation_explained_variance_ratio_,
    }


def run_memory(args):
    """The memory case in a fresh process, so its peak is the fit's alone."""
    code = (
        "import json, torch; from benchmarks.bench_sparse_input import memory_case; "
        f"torch.set_num_threads({args.threads or torch_threads()}); "
        f"print(json.dumps(memory_case({args.rows}, {args.features}, {args.density}, "
        f"{args.max_epochs}, {args.hidden})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(f"the memory case failed:\n{out.stderr}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["meets_target"] = result["peak_mb"] / 1024 < TARGET_PEAK_GB
    return result


def torch_threads():
    import torch

    return torch.get_num_threads()


def _reducers(n_components, seed, max_epochs):
    from sklearn.decomposition import PCA, TruncatedSVD

    from sklearn_ae import AutoencoderTransformer

    ae_params = {} if max_epochs is None else {"max_epochs": max_epochs}
    return {
        "TruncatedSVD": TruncatedSVD(n_components, random_state=seed),
        "PCA": PCA(n_components, random_state=seed),
        "AutoencoderTransformer": AutoencoderTransformer(
            n_components, random_state=seed, **ae_params),
    }


def run_text(args):
    """Accuracy and macro F1 of the three LSA pipelines over the seeds' splits."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline

    from sklearn_ae.datasets import load_docstrings

    corpus = load_docstrings(args.packages)
    rows = []
    for seed in args.seeds:
        split = train_test_split(corpus.data, corpus.target, test_size=0.25,
                                 random_state=seed, stratify=corpus.target)
        texts_train, texts_test, y_train, y_test = split
        for name, reducer in _reducers(args.n_components, seed, args.max_epochs_text).items():
            pipe = make_pipeline(
                TfidfVectorizer(min_df=3, sublinear_tf=True, max_features=MAX_FEATURES),
                reducer, LogisticRegression(max_iter=2000))
            start = time.perf_counter()
            pipe.fit(texts_train, y_train)
            predicted = pipe.predict(texts_test)
            rows.append({"seed": seed, "reducer": name,
                         "accuracy": float(np.mean(predicted == y_test)),
                         "macro_f1": float(f1_score(y_test, predicted, average="macro")),
                         "fit_s": time.perf_counter() - start})
            print(json.dumps(rows[-1]), flush=True)
    return {"n_documents": len(corpus.data), "classes": corpus.target_names,
            "versions": corpus.versions, "runs": rows}


def text_table(text):
    names = list(dict.fromkeys(r["reducer"] for r in text["runs"]))
    lines = []
    for name in names:
        runs = [r for r in text["runs"] if r["reducer"] == name]
        lines.append([name, fmt(np.mean([r["accuracy"] for r in runs]), ".4f"),
                      fmt(np.mean([r["macro_f1"] for r in runs]), ".4f"),
                      fmt(np.mean([r["fit_s"] for r in runs]), ".1f"), str(len(runs))])
    return markdown_table(["reducer", "accuracy", "macro F1", "fit s",
                           "seeds"], lines)


def memory_table(memory):
    return markdown_table(
        ["rows x features", "non-zeros", "hidden", "CSR MB", "dense GB", "RSS before fit MB",
         "peak MB", "fit s", "< 2 GB"],
        [[f"{memory['rows']:,} x {memory['features']:,}", f"{memory['nnz']:,}",
          str(tuple(memory["hidden_layer_sizes"])),
          fmt(memory["sparse_mb"], ".0f"), fmt(memory["dense_gb"], ".1f"),
          fmt(memory["rss_before_fit_mb"], ".0f"), fmt(memory["peak_mb"], ".0f"),
          fmt(memory["fit_s"], ".0f"), str(memory["meets_target"])]])


def parse_args(argv=None):
    parser = argument_parser(__spec__.name, __doc__)
    parser.add_argument("--part", choices=["memory", "text", "both"], default="both")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--features", type=int, default=50_000)
    parser.add_argument("--density", type=float, default=0.001)
    parser.add_argument("--max-epochs", type=int, default=1, help="of the memory case")
    parser.add_argument("--hidden", type=int, nargs="+", default=None,
                        help="the memory case's hidden_layer_sizes (default: the default)")
    parser.add_argument("--max-epochs-text", type=int, default=None,
                        help="of the text case's autoencoder (default: its default)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--n-components", type=int, default=N_COMPONENTS,
                        help="of the text case's reducers")
    parser.add_argument("--packages", nargs="+", default=None)
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes: checks that the script runs")
    parser.add_argument("--output", default=str(RESULTS_DIR / "sparse_input.json"))
    args = parser.parse_args(argv)
    if args.packages is None:
        from sklearn_ae.datasets import DOCSTRING_PACKAGES

        args.packages = list(DOCSTRING_PACKAGES)
    if args.quick:
        args.rows, args.features, args.density = 2000, 3000, 0.01
        args.max_epochs_text, args.packages, args.n_components = 2, ["json", "email"], 5
    return args


def main(argv=None):
    args = parse_args(argv)
    set_threads(args.threads)
    result = {"environment": environment(), "args": vars(args)}
    if args.part in ("memory", "both"):
        result["memory"] = run_memory(args)
        print(memory_table(result["memory"]))
    if args.part in ("text", "both"):
        result["text"] = run_text(args)
        print(text_table(result["text"]))
    write_json(args.output, result)
    return result


if __name__ == "__main__":
    main()
