"""Quality of the defaults: held-out reconstruction MSE of the family vs PCA.

Each estimator at its defaults (``Estimator(n_components=k, random_state=seed)``) against
``PCA(n_components=k)`` on every dataset of ``benchmarks/datasets.py`` (digits, the MNIST
subset, swiss roll, S-curve, breast cancer, wine) at k = 2, 10, 30 (below n_features).
MSE is the mean over all test entries, in the data's own units, through
``inverse_transform(transform(X_test))``.

Targets for AutoencoderTransformer (issues 2 and 7):

* every dataset and k: AE/PCA <= 1.0 ("never worse than PCA");
* MNIST k=30: AE/PCA <= 0.5 (issue 7; issue 2 asks <= 0.6) with a fit of at most 180 s.

DenoisingAutoencoder (scored on clean test data) is reported beside it, with the same
<= 1.0 target. VAETransformer (posterior-mean reconstruction) has <= 1.10 (issue 15 item 4:
it maximises the ELBO, whose optimal posterior mean shrinks the codes of weak directions;
see benchmarks/README.md and ``bench_vae_shrinkage``); its rows add the held-out ELBO (nats
per sample, ``elbo_terms`` with ``ELBO_DRAWS`` draws) and the quality of its samples
(:func:`benchmarks.metrics.mmd2` between the test rows and as many draws from the model:
decoder means plus the observation noise).

    python -m benchmarks.bench_defaults                     # the real benchmark
    python -m benchmarks.bench_defaults --quick             # max_epochs=3, fewer MNIST rows
    python -m benchmarks.bench_defaults --datasets digits mnist --estimators autoencoder
"""

import numpy as np
from sklearn.decomposition import PCA

import sklearn_ae
from benchmarks._common import (
    RESULTS_DIR,
    argument_parser,
    fmt,
    markdown_table,
    set_threads,
    timed,
    write_csv,
    write_json,
)
from benchmarks.datasets import DATASETS, components_for, load
from benchmarks.metrics import mmd2
from sklearn_ae.evaluation import environment, reconstruction_mse

N_COMPONENTS = (2, 10, 30)
ESTIMATORS = {
    "autoencoder": "AutoencoderTransformer",
    "denoising": "DenoisingAutoencoder",
    "vae": "VAETransformer",
}
# (dataset, k) -> (max ratio, max fit seconds or None) beyond the estimator's default
SPECIAL_TARGETS = {("mnist", 30): (0.5, 180.0)}
# estimator -> max ratio where no special target applies; 1.0 for the others
ESTIMATOR_TARGETS = {"vae": 1.10}
FLOAT32_SLACK = 1e-4
QUICK_MAX_EPOCHS = 3
QUICK_MNIST_TRAIN = 2000


def verdict(dataset, estimator, k, ratio, fit_s, quick):
    default = (ESTIMATOR_TARGETS.get(estimator, 1.0), None)
    max_ratio, max_s = SPECIAL_TARGETS.get((dataset, k), default)
    if quick and max_s:
        max_s = None  # a quick run's fit time says nothing
    target = f"ratio <= {max_ratio:g}" + (f", fit <= {max_s:g} s" if max_s else "")
    # the estimators compute in float32: a model that kept its PCA start differs from
    # float64 PCA by rounding alone, so "not worse" allows that much
    ok = ratio <= max_ratio + FLOAT32_SLACK and (max_s is None or fit_s <= max_s)
    return target, "PASS" if ok else "FAIL"


# draws of the ELBO's Monte Carlo expectation: score()'s 16 shared draws are off by up to
# 0.3 nats per sample for the models here (wine, 10 components: -15.39 against PPCA's exact
# -15.66); 256 bring that under 0.02
ELBO_DRAWS = 256


def vae_scores(vae, X_test, seed):
    """Held-out ELBO and the MMD² of the model's samples against the test rows."""
    log_likelihood, kl = vae.elbo_terms(X_test, n_draws=ELBO_DRAWS)
    rng = np.random.RandomState(seed)
    samples = vae.sample(len(X_test), random_state=rng)
    # the model's distribution: decoder means plus the Gaussian observation noise
    samples = samples + np.sqrt(vae.noise_variance_) * rng.standard_normal(samples.shape)
    return {"test_elbo": float(np.mean(log_likelihood - kl)),
            "sample_mmd2": mmd2(samples, X_test)}


def run_case(dataset, estimator, cls, X_train, X_test, k, seed, quick):
    pca, pca_s = timed(lambda: PCA(n_components=k).fit(X_train))
    ae = cls(n_components=k, random_state=seed)
    if quick:
        ae.set_params(max_epochs=QUICK_MAX_EPOCHS)
    ae, ae_s = timed(lambda: ae.fit(X_train))
    pca_mse = reconstruction_mse(pca, X_test)
    ae_mse = reconstruction_mse(ae, X_test)
    ratio = ae_mse / pca_mse
    target, status = verdict(dataset, estimator, k, ratio, ae_s, quick)
    # the VAE's objective and samples; the other members' score is not a log-density
    vae = vae_scores(ae, X_test, seed) if estimator == "vae" else {}
    return {
        "dataset": dataset,
        "estimator": estimator,
        "n_train": X_train.shape[0],
        "n_test": X_test.shape[0],
        "n_features": X_train.shape[1],
        "n_components": k,
        "pca_mse": pca_mse,
        "ae_mse": ae_mse,
        "ratio": ratio,
        "test_elbo": vae.get("test_elbo"),
        "sample_mmd2": vae.get("sample_mmd2"),
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
    headers = ["dataset", "estimator", "k", "PCA test MSE", "AE test MSE", "AE/PCA",
               "test ELBO", "sample MMD²", "AE fit s", "n_iter_", "best_epoch_", "target",
               "result"]
    table = [
        [r["dataset"], r["estimator"], r["n_components"], fmt(r["pca_mse"]), fmt(r["ae_mse"]),
         fmt(r["ratio"], ".3f"), fmt(r["test_elbo"], ".2f"), fmt(r["sample_mmd2"], ".4f"),
         fmt(r["ae_fit_s"], ".1f"),
         r["n_iter"], r["best_epoch"], r["target"], r["status"]]
        for r in rows
    ]
    print(markdown_table(headers, table))
    judged = [r for r in rows if r["status"] != "-"]
    failed = [r for r in judged if r["status"] == "FAIL"]
    line = f"defaults: {len(judged) - len(failed)}/{len(judged)} targets met"
    if failed:
        line += "; FAILED: " + ", ".join(
            f"{r['dataset']} {r['estimator']} k={r['n_components']} (ratio {r['ratio']:.3f}, "
            f"fit {r['ae_fit_s']:.0f} s)"
            for r in failed
        )
    if quick:
        line += f" (quick run, max_epochs={QUICK_MAX_EPOCHS}: not the real benchmark)"
    print("\n" + line)
    return line


def main(argv=None):
    parser = argument_parser(__spec__.name, __doc__)
    parser.add_argument("--datasets", nargs="+", choices=DATASETS, default=list(DATASETS))
    parser.add_argument("--estimators", nargs="+", choices=list(ESTIMATORS),
                        default=list(ESTIMATORS))
    parser.add_argument("--seed", type=int, default=0, help="the estimators' random_state")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch intra-op threads (default: torch's own choice)")
    parser.add_argument("--quick", action="store_true",
                        help=f"max_epochs={QUICK_MAX_EPOCHS}, MNIST training split cut to "
                             f"{QUICK_MNIST_TRAIN} rows")
    parser.add_argument("--out-dir", default=str(RESULTS_DIR))
    args = parser.parse_args(argv)
    set_threads(args.threads)

    estimators = {name: getattr(sklearn_ae, ESTIMATORS[name]) for name in args.estimators}
    rows = []
    for dataset in args.datasets:
        quick_rows = QUICK_MNIST_TRAIN if args.quick and dataset == "mnist" else None
        data = load(dataset, seed=args.seed, n_samples=quick_rows)
        for k in components_for(data, N_COMPONENTS):
            for name, cls in estimators.items():
                r = run_case(dataset, name, cls, data.X_train, data.X_test, k, args.seed,
                             args.quick)
                rows.append(r)
                print(f"{dataset} {name} k={k}: AE/PCA {r['ratio']:.3f}, "
                      f"fit {r['ae_fit_s']:.1f} s, {r['n_iter']} epochs", flush=True)
    print()
    summary = report(rows, args.quick)

    result = {
        "environment": environment(rows[0]["device"]),
        "config": {"seed": args.seed, "quick": args.quick, "datasets": args.datasets,
                   "estimators": list(estimators)},
        "rows": rows,
        "summary": summary,
    }
    print(f"wrote {write_csv(f'{args.out_dir}/defaults.csv', rows)} and "
          f"{write_json(f'{args.out_dir}/defaults.json', result)}")


if __name__ == "__main__":
    main()
