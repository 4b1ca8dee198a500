"""Convolutional vs MLP autoencoder at the same n_components: held-out MSE and fit time.

``AutoencoderTransformer(n_components=k, architecture=a, random_state=seed,
max_epochs=E)`` for ``a`` in mlp / conv (conv with ``image_shape`` and its default
channels (32, 64)), every other parameter at its default, against ``PCA(k)``:

* MNIST subset (pixels in [0, 1]): first 8000 rows train, last 2000 test, 28x28;
* scikit-learn digits (0..16): ``train_test_split(test_size=0.2, random_state=0)``, 8x8.

MSE is the mean over all test entries through ``reconstruct`` (= inverse_transform of
transform). ``--max-epochs`` (30 by default) caps both architectures alike (early stopping
still applies): a convolutional epoch costs several MLP epochs on a CPU.

    python -m benchmarks.bench_conv
    python -m benchmarks.bench_conv --quick          # 1000 MNIST rows, 2 epochs
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
from sklearn_ae.evaluation import environment, load_mnist_split, mse, reconstruction_mse


def main(argv=None):
    parser = argument_parser(__spec__.name, __doc__)
    parser.add_argument("--n-components", type=int, nargs="+", default=[30])
    parser.add_argument("--max-epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--datasets", nargs="+", default=["digits", "mnist"])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default=str(RESULTS_DIR / "conv.json"))
    args = parser.parse_args(argv)
    set_threads(args.threads)
    max_epochs = 2 if args.quick else args.max_epochs

    data = {}
    if "digits" in args.datasets:
        X = load_digits().data.astype(np.float32)
        data["digits"] = (*train_test_split(X, test_size=0.2, random_state=0), (8, 8))
    if "mnist" in args.datasets:
        n = 1000 if args.quick else None
        data["mnist"] = (*load_mnist_split(n_train=n, n_test=n)[:2], (28, 28))

    rows, results = [], []
    for name, (X_train, X_test, shape) in data.items():
        for k in args.n_components:
            pca = PCA(n_components=k, random_state=0).fit(X_train)
            pca_mse = reconstruction_mse(pca, X_test)
            for arch in ("mlp", "conv"):
                est = AutoencoderTransformer(
                    n_components=k, architecture=arch, image_shape=shape,
                    max_epochs=max_epochs, random_state=args.seed,
                )
                _, fit_s = timed(lambda: est.fit(X_train))
                res = {
                    "dataset": name, "k": k, "architecture": arch,
                    "hidden_layer_sizes_": est.hidden_layer_sizes_,
                    "pca_mse": pca_mse, "mse": mse(est.reconstruct(X_test), X_test),
                    "fit_seconds": fit_s, "n_iter": est.n_iter_, "best_epoch": est.best_epoch_,
                    "seconds_per_epoch": fit_s / est.n_iter_,
                }
                res["ratio_vs_pca"] = res["mse"] / pca_mse
                results.append(res)
                rows.append([name, k, arch, str(est.hidden_layer_sizes_), fmt(pca_mse),
                             fmt(res["mse"]), fmt(res["ratio_vs_pca"], ".3f"),
                             fmt(fit_s, ".1f"), fmt(res["seconds_per_epoch"], ".2f"),
                             f"{est.n_iter_}/{est.best_epoch_}"])
                print(rows[-1], flush=True)
    headers = ["dataset", "k", "architecture", "layers/channels", "PCA MSE", "AE MSE",
               "AE/PCA", "fit s", "s/epoch", "epochs/best"]
    print(markdown_table(headers, rows))
    path = write_json(args.out, {"environment": environment(), "args": vars(args),
                                 "results": results})
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
