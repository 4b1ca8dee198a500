"""The PCA floor on small tabular data: every member with its defaults against PCA, for
every ``n_components`` from 2 to ``n_features - 1`` and several seeds (issue 24 items 3, 4).

Each set is split 75% / 25% (``train_test_split(..., test_size=0.25, random_state=0)``),
standardised on the training rows (``wine_raw`` is not), and every member is fitted with its
defaults and ``random_state=seed``. The autoencoders' promise is a held-out reconstruction
MSE no worse than PCA's at the same ``n_components`` (ratio <= 1.0001, float32 rounding);
the VAE's is a held-out ELBO (``score_samples``) no lower than probabilistic PCA's held-out
log-likelihood (``PCA.score_samples``), in nats per sample (up to ``ELBO_TOLERANCE``, the
float32 rounding of the PPCA start). The contractive member trades reconstruction for
contraction by design; its floor is its own objective, and its ratio is only reported.
With 13 to 43 validation rows,
early stopping's choice of a trained epoch over the PCA start is a statistical decision
(a paired one-sided t-test over the validation rows' losses, ``FLOOR_ALPHA``); the table
counts the fits that kept a trained epoch and those that broke the promise.

    python -m benchmarks.bench_floor                         # all sets and members
    python -m benchmarks.bench_floor --quick                 # wine, two k, two seeds
    python -m benchmarks.bench_floor --members AutoencoderTransformer --sets wine
"""

import time

import numpy as np
from joblib import Parallel, delayed
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris, load_wine
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

import sklearn_ae
from benchmarks._common import RESULTS_DIR, argument_parser, fmt, markdown_table, write_json
from sklearn_ae._callbacks import FLOOR_ALPHA
from sklearn_ae.evaluation import environment

SETS = {
    "wine": (load_wine, True),
    "wine_raw": (load_wine, False),
    "breast_cancer": (load_breast_cancer, True),
    "iris": (load_iris, True),
    "diabetes": (load_diabetes, True),
}
MEMBERS = ("AutoencoderTransformer", "DenoisingAutoencoder", "ContractiveAutoencoder",
           "VAETransformer")
RATIO_LIMIT = 1.0001
# the VAE at its PPCA start, in float32: within about 1e-3 nats of PCA.score_samples
ELBO_TOLERANCE = 2e-3
# trades reconstruction for contraction by design: its floor is its own objective, so its
# reconstruction ratio is reported, not judged
NOT_JUDGED = ("ContractiveAutoencoder",)


def is_broken(row):
    if row["member"] in NOT_JUDGED:
        return False
    if row["member"] == "VAETransformer":
        return row["elbo_minus_ppca"] < -ELBO_TOLERANCE
    return row["ratio"] > RATIO_LIMIT


def split(name):
    loader, standardise = SETS[name]
    X = loader().data.astype(np.float64)
    X_train, X_test = train_test_split(X, test_size=0.25, random_state=0)
    if standardise:
        scaler = StandardScaler().fit(X_train)
        X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    return X_train, X_test


def one_fit(member, name, k, seed, threads):
    """One fit's row: the held-out comparison with PCA and what early stopping kept."""
    import torch

    torch.set_num_threads(threads)
    X_train, X_test = split(name)
    pca = PCA(n_components=k).fit(X_train)
    start = time.perf_counter()
    est = getattr(sklearn_ae, member)(n_components=k, random_state=seed).fit(X_train)
    seconds = time.perf_counter() - start
    stopper = dict(est.net_.callbacks_)["early_stopping"]
    row = {"member": member, "set": name, "k": k, "seed": seed, "seconds": seconds,
           "precision": est.precision_, "best_epoch": est.best_epoch_,
           "p_value": stopper.floor_p_value_}
    if member == "VAETransformer":
        # nats per sample: positive means the VAE is the better density model
        row["elbo_minus_ppca"] = float(np.mean(est.score_samples(X_test))
                                       - np.mean(pca.score_samples(X_test)))
    else:
        pca_mse = np.mean(np.square(X_test - pca.inverse_transform(pca.transform(X_test))))
        row["ratio"] = float(np.mean(np.square(X_test - est.reconstruct(X_test))) / pca_mse)
    return row


def summary(rows):
    """One line per member and set: fits, trained epochs kept, the worst case, failures."""
    table = []
    for member in dict.fromkeys(r["member"] for r in rows):
        for name in dict.fromkeys(r["set"] for r in rows if r["member"] == member):
            part = [r for r in rows if r["member"] == member and r["set"] == name]
            vae = member == "VAETransformer"
            values = [r["elbo_minus_ppca" if vae else "ratio"] for r in part]
            fails = "-" if member in NOT_JUDGED else str(sum(map(is_broken, part)))
            worst = min(values) if vae else max(values)
            best = max(values) if vae else min(values)
            trained = sum(r["best_epoch"] > 0 for r in part)
            table.append([member, name, str(len(part)), str(trained), fmt(best, ".4f"),
                          fmt(worst, ".4f"), fails])
    headers = ["member", "set", "fits", "trained kept", "best", "worst", "broken"]
    return markdown_table(headers, table)


def main(argv=None):
    parser = argument_parser(__spec__.name, __doc__)
    parser.add_argument("--members", nargs="+", default=list(MEMBERS), choices=MEMBERS)
    parser.add_argument("--sets", nargs="+", default=list(SETS), choices=list(SETS))
    parser.add_argument("--seeds", type=int, default=5, help="seeds 0 .. seeds-1")
    parser.add_argument("--n-jobs", type=int, default=2, help="fits in parallel")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per fit")
    parser.add_argument("--quick", action="store_true", help="wine, k in (2, 12), 2 seeds")
    parser.add_argument("--out", default=str(RESULTS_DIR / "floor.json"))
    args = parser.parse_args(argv)
    sets = ["wine"] if args.quick else args.sets
    jobs = []
    for name in sets:
        n_features = split(name)[0].shape[1]
        ks = [2, n_features - 1] if args.quick else range(2, n_features)
        for k in ks:
            for seed in range(2 if args.quick else args.seeds):
                jobs += [(member, name, k, seed) for member in args.members]
    start = time.perf_counter()
    rows = Parallel(n_jobs=args.n_jobs)(
        delayed(one_fit)(*job, args.threads) for job in jobs
    )
    print(f"{len(rows)} fits in {time.perf_counter() - start:.0f} s; floor: paired "
          f"one-sided t-test at {FLOOR_ALPHA}; autoencoders broken above ratio "
          f"{RATIO_LIMIT}, the VAE below -{ELBO_TOLERANCE} nats; "
          f"{', '.join(NOT_JUDGED)}: floor on its own objective, ratio not judged\n")
    print(summary(rows))
    for r in filter(is_broken, rows):
        print(f"  broken: {r}")
    write_json(args.out, {"environment": environment(), "alpha": FLOOR_ALPHA, "rows": rows})


if __name__ == "__main__":
    main()
