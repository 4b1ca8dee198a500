"""Sparse autoencoders: code sparsity and reconstruction with and without the penalty.

scikit-learn digits scaled to [0, 1] (``train_test_split(test_size=0.2, random_state=0)``),
``AutoencoderTransformer(n_components=k, sparsity=s, sparsity_weight=w, random_state=seed)``
for k = 16 (under-complete) and 128 (over-complete: twice the 64 pixels), s in
None / "l1" / "kl", both inits. Reported on the test split:

* reconstruction MSE (and PCA's at min(k, 64) components);
* ``code_sparsity`` (mean Hoyer sparsity of the code activations: 0 = all units equally
  active, 1 = one unit per sample);
* mean code activation (``code_activations``: |codes| in scaled units, or the sigmoid
  for "kl");
* the fraction of code entries whose |code| (scaled units) is below 0.05.

    python -m benchmarks.bench_sparse
    python -m benchmarks.bench_sparse --quick
"""

import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split

from benchmarks._common import (
    RESULTS_DIR,
    argument_parser,
    fmt,
    markdown_table,
    set_threads,
    timed,
    write_json,
)
from sklearn_ae import AutoencoderTransformer
from sklearn_ae.evaluation import environment, mse, reconstruction_mse

SETTINGS = [(None, 0.0), ("l1", 0.1), ("l1", 1.0), ("kl", 1.0)]


def main(argv=None):
    parser = argument_parser(__spec__.name, __doc__)
    parser.add_argument("--n-components", type=int, nargs="+", default=[16, 128])
    parser.add_argument("--inits", nargs="+", default=["pca", "random"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default=str(RESULTS_DIR / "sparse.json"))
    args = parser.parse_args(argv)
    set_threads(args.threads)

    X = (load_digits().data / 16.0).astype(np.float32)
    X_train, X_test = train_test_split(X, test_size=0.2, random_state=0)
    rows, results = [], []
    for k in args.n_components:
        pca = PCA(n_components=min(k, X.shape[1]), random_state=0).fit(X_train)
        pca_mse = reconstruction_mse(pca, X_test)
        for init in args.inits:
            for sparsity, weight in SETTINGS:
                est = AutoencoderTransformer(
                    n_components=k, init=init, sparsity=sparsity, sparsity_weight=weight,
                    random_state=args.seed, max_epochs=3 if args.quick else 200,
                )
                _, fit_s = timed(lambda: est.fit(X_train))
                scaled = np.abs(est.transform(X_test) / est._code_unit())
                res = {
                    "k": k, "init": init, "sparsity": sparsity, "weight": weight,
                    "pca_mse": pca_mse, "mse": mse(est.reconstruct(X_test), X_test),
                    "hoyer": est.code_sparsity(X_test),
                    "mean_activation": float(est.code_activations(X_test).mean()),
                    "near_zero": float(np.mean(scaled < 0.05)),
                    "fit_seconds": fit_s, "n_iter": est.n_iter_,
                }
                results.append(res)
                rows.append([k, init, str(sparsity), weight, fmt(pca_mse), fmt(res["mse"]),
                             fmt(res["hoyer"], ".3f"), fmt(res["mean_activation"], ".3f"),
                             fmt(res["near_zero"], ".3f"), fmt(fit_s, ".1f"), est.n_iter_])
                print(rows[-1], flush=True)
    headers = ["k", "init", "sparsity", "weight", "PCA MSE", "AE MSE", "Hoyer sparsity",
               "mean activation", "|z|<0.05", "fit s", "epochs"]
    print(markdown_table(headers, rows))
    path = write_json(args.out, {"environment": environment(), "args": vars(args),
                                 "results": results})
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
