"""Quality of the defaults: held-out reconstruction MSE of AutoencoderTransformer vs PCA.

AutoencoderTransformer(n_components=k, random_state=seed) with every other parameter at its
default, against PCA(n_components=k), on

* the bundled MNIST subset (first 8000 rows train, last 2000 test, pixels / 255), k = 2, 10,
  30; target at k=30: AE/PCA test MSE <= 0.6 with a fit of at most 180 s;
* scikit-learn's digits (raw 0..16 pixels, train_test_split(test_size=0.2,
  random_state=0)), k = 2, 10, 30; target: AE/PCA test MSE <= 1.0.

MSE is the mean over all test pixels, in the data's own units.

    python benchmarks/bench_defaults.py              # the real benchmark
    python benchmarks/bench_defaults.py --quick      # max_epochs=3, fewer MNIST rows
"""

import argparse

import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split

from _common import (
    RESULTS_DIR,
    environment,
    fmt,
    load_mnist_split,
    markdown_table,
    set_threads,
    timed,
    write_csv,
    write_json,
)

from sklearn_ae import AutoencoderTransformer

N_COMPONENTS = (2, 10, 30)
# (dataset, k) -> (max AE/PCA MSE ratio, max fit seconds or None); absent: informative row
TARGETS = {
    ("mnist", 30): (0.6, 180.0),
    ("digits", 2): (1.0, None),
    ("digits", 10): (1.0, None),
    ("digits", 30): (1.0, None),
}
QUICK_MAX_EPOCHS = 3
QUICK_MNIST_ROWS = (2000, 500)


def load(name, quick):
    if name == "mnist":
        return load_mnist_split(*(QUICK_MNIST_ROWS if quick else (None, None)))
    X, _ = load_digits(return_X_y=True)
    X_train, X_test = train_test_split(X, test_size=0.2, random_state=0)
    return X_train, X_test


def reconstruction_mse(model, X):
    """Mean squared error over all entries of ``X``, through transform and back."""
    X_hat = model.inverse_transform(model.transform(X))
    return float(np.mean((np.asarray(X, dtype=np.float64) - X_hat) ** 2))


def verdict(dataset, k, ratio, fit_s):
    if (dataset, k) not in TARGETS:
        return "-", "-"
    max_ratio, max_s = TARGETS[(dataset, k)]
    target = f"ratio <= {max_ratio:g}" + (f", fit <= {max_s:g} s" if max_s else "")
    ok = ratio <= max_ratio and (max_s is None or fit_s <= max_s)
    return target, "PASS" if ok else "FAIL"


def run_case(dataset, X_train, X_test, k, seed, quick):
    pca, pca_s = timed(lambda: PCA(n_components=k).fit(X_train))
    ae = AutoencoderTransformer(n_components=k, random_state=seed)
    if quick:
        ae.set_params(max_epochs=QUICK_MAX_EPOCHS)
    ae, ae_s = timed(lambda: ae.fit(X_train))
    pca_mse = reconstruction_mse(pca, X_test)
    ae_mse = reconstruction_mse(ae, X_test)
    ratio = ae_mse / pca_mse
    target, status = verdict(dataset, k, ratio, ae_s)
    return {
        "dataset": dataset,
        "n_train": X_train.shape[0],
        "n_test": X_test.shape[0],
        "n_features": X_train.shape[1],
        "n_components": k,
        "pca_mse": pca_mse,
        "ae_mse": ae_mse,
        "ratio": ratio,
        "pca_fit_s": pca_s,
        "ae_fit_s": ae_s,
        "n_iter": ae.n_iter_,
        "best_epoch": ae.best_epoch_,
        "hidden_layer_sizes": "-".join(map(str, ae.hidden_layer_sizes_)),
        "device": ae.device_,
        "target": target,
        "status": status,
    }


def report(rows, quick):
    headers = ["dataset", "k", "PCA test MSE", "AE test MSE", "AE/PCA", "AE fit s",
               "n_iter_", "best_epoch_", "target", "result"]
    table = [
        [r["dataset"], r["n_components"], fmt(r["pca_mse"]), fmt(r["ae_mse"]),
         fmt(r["ratio"], ".3f"), fmt(r["ae_fit_s"], ".1f"), r["n_iter"], r["best_epoch"],
         r["target"], r["status"]]
        for r in rows
    ]
    print(markdown_table(headers, table))
    judged = [r for r in rows if r["status"] != "-"]
    failed = [r for r in judged if r["status"] == "FAIL"]
    line = f"defaults: {len(judged) - len(failed)}/{len(judged)} targets met"
    if failed:
        line += "; FAILED: " + ", ".join(
            f"{r['dataset']} k={r['n_components']} (ratio {r['ratio']:.3f}, "
            f"fit {r['ae_fit_s']:.0f} s)"
            for r in failed
        )
    if quick:
        line += f" (quick run, max_epochs={QUICK_MAX_EPOCHS}: not the real benchmark)"
    print("\n" + line)
    return line


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", choices=["mnist", "digits"],
                        default=["mnist", "digits"])
    parser.add_argument("--seed", type=int, default=0, help="the estimators' random_state")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch intra-op threads (default: torch's own choice)")
    parser.add_argument("--quick", action="store_true",
                        help=f"max_epochs={QUICK_MAX_EPOCHS}, MNIST cut to "
                             f"{QUICK_MNIST_ROWS[0]}/{QUICK_MNIST_ROWS[1]} rows")
    parser.add_argument("--out-dir", default=str(RESULTS_DIR))
    args = parser.parse_args(argv)
    set_threads(args.threads)

    rows = []
    for dataset in args.datasets:
        X_train, X_test = load(dataset, args.quick)
        for k in N_COMPONENTS:
            rows.append(run_case(dataset, X_train, X_test, k, args.seed, args.quick))
            r = rows[-1]
            print(f"{dataset} k={k}: AE/PCA {r['ratio']:.3f}, fit {r['ae_fit_s']:.1f} s, "
                  f"{r['n_iter']} epochs", flush=True)
    print()
    summary = report(rows, args.quick)

    result = {
        "environment": environment(rows[0]["device"]),
        "config": {"seed": args.seed, "quick": args.quick, "datasets": args.datasets},
        "rows": rows,
        "summary": summary,
    }
    print(f"wrote {write_csv(f'{args.out_dir}/defaults.csv', rows)} and "
          f"{write_json(f'{args.out_dir}/defaults.json', result)}")


if __name__ == "__main__":
    main()
