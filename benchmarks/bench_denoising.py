"""Denoising on the MNIST subset: DenoisingAutoencoder vs PCA vs doing nothing.

Train rows: the first 8000 (clean); test rows: the last 2000, corrupted two ways:

* gaussian: ``clip(x + 0.5 * N(0, 1), 0, 1)`` (std 0.5 in pixel units);
* masking: 30% of the pixels set to 0.

For each setting the table gives the MSE against the clean test images of

* the noisy input itself;
* PCA denoising: ``PCA(k)`` fitted on the clean training rows, the noisy rows projected
  and reconstructed;
* ``DenoisingAutoencoder(n_components=k, noise=..., random_state=seed)`` fitted on the
  clean training rows (it corrupts them itself, with the matching noise kind: gaussian at
  ``noise_level = 0.5 / scale_`` i.e. std 0.5 in pixels, masking at 0.3), applied with
  ``denoise``;

and the ratio denoiser / PCA. **Target: at most 0.6 in both settings.** PCA at its best k
for the test noise (an oracle choice, over 5..100) is shown too, so the ratio does not rest
on an unlucky k.

    python -m benchmarks.bench_denoising                # the real run (minutes)
    python -m benchmarks.bench_denoising --quick        # 2000 train rows, 3 epochs
"""

import numpy as np
from sklearn.decomposition import PCA

from benchmarks._common import (
    RESULTS_DIR,
    argument_parser,
    fmt,
    markdown_table,
    set_threads,
    timed,
    write_json,
)
from sklearn_ae import DenoisingAutoencoder
from sklearn_ae.evaluation import environment, load_mnist_split, mse

TARGET = 0.6
GAUSSIAN_STD = 0.5
MASK_FRACTION = 0.3
PCA_GRID = (5, 10, 20, 30, 50, 75, 100)


def corrupt_test(X, kind, seed):
    rng = np.random.RandomState(seed)
    if kind == "gaussian":
        return np.clip(X + GAUSSIAN_STD * rng.randn(*X.shape), 0, 1).astype(np.float32)
    return (X * (rng.rand(*X.shape) >= MASK_FRACTION)).astype(np.float32)


def pca_denoise(pca, X):
    return pca.inverse_transform(pca.transform(X))


def main(argv=None):
    parser = argument_parser(__spec__.name, __doc__)
    parser.add_argument("--n-components", type=int, default=30)
    parser.add_argument("--max-epochs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default=str(RESULTS_DIR / "denoising.json"))
    args = parser.parse_args(argv)
    set_threads(args.threads)

    n_train = 2000 if args.quick else None
    max_epochs = 3 if args.quick else args.max_epochs
    X_train, X_test, _, _ = load_mnist_split(n_train=n_train)
    k = args.n_components
    rms = float(np.sqrt(np.mean((X_train - X_train.mean(0)) ** 2)))

    pcas = {m: PCA(n_components=m, random_state=0).fit(X_train) for m in PCA_GRID}
    pca_k = pcas[k] if k in pcas else PCA(n_components=k, random_state=0).fit(X_train)

    rows, results = [], []
    for kind, level in (("gaussian", GAUSSIAN_STD / rms), ("masking", MASK_FRACTION)):
        noisy = corrupt_test(X_test, kind, seed=1234)
        dae = DenoisingAutoencoder(
            n_components=k,
            noise=kind,
            noise_level=level,
            max_epochs=max_epochs,
            random_state=args.seed,
        )
        _, fit_s = timed(lambda: dae.fit(X_train))
        res = {
            "noise": kind,
            "noise_level": level,
            "noisy_mse": mse(noisy, X_test),
            "pca_mse": mse(pca_denoise(pca_k, noisy), X_test),
            "dae_mse": mse(dae.denoise(noisy), X_test),
            "dae_clean_mse": mse(dae.denoise(X_test), X_test),
            "fit_seconds": fit_s,
            "n_iter": dae.n_iter_,
            "best_epoch": dae.best_epoch_,
        }
        best = min(PCA_GRID, key=lambda m: mse(pca_denoise(pcas[m], noisy), X_test))
        res["pca_best_k"] = best
        res["pca_best_mse"] = mse(pca_denoise(pcas[best], noisy), X_test)
        res["ratio"] = res["dae_mse"] / res["pca_mse"]
        res["ratio_vs_best_pca"] = res["dae_mse"] / res["pca_best_mse"]
        res["pass"] = res["ratio"] <= TARGET
        results.append(res)
        rows.append(
            [
                kind,
                fmt(res["noisy_mse"]),
                fmt(res["pca_mse"]),
                f"{fmt(res['pca_best_mse'])} (k={best})",
                fmt(res["dae_mse"]),
                fmt(res["ratio"], ".3f"),
                fmt(res["ratio_vs_best_pca"], ".3f"),
                fmt(fit_s, ".1f"),
                f"{res['n_iter']}/{res['best_epoch']}",
                "PASS" if res["pass"] else "FAIL",
            ]
        )
    headers = [
        "noise", "noisy MSE", f"PCA({k}) MSE", "best PCA MSE", "DAE MSE", "DAE/PCA",
        "DAE/best PCA", "fit s", "epochs/best", f"target <= {TARGET}",
    ]
    print(f"MNIST subset, {X_train.shape[0]} train / {X_test.shape[0]} test rows, k={k}")
    print(markdown_table(headers, rows))
    path = write_json(args.out, {"environment": environment(), "args": vars(args),
                                 "results": results})
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
