"""VAETransformer on the MNIST subset: held-out ELBO, 2-d embeddings, anomaly detection,
pictures.

    python -m benchmarks.bench_vae --threads 1
    python -m benchmarks.bench_vae --quick          # checks the script works (seconds)

Writes ``benchmarks/results/vae.json`` and three PNGs (``vae_samples.png``,
``vae_latent_map.png``, ``vae_interpolation.png``) to ``benchmarks/results/``; see
benchmarks/README.md for the protocol.
"""

import time
from pathlib import Path

import numpy as np
from sklearn.decomposition import PCA
from sklearn.manifold import trustworthiness
from sklearn.metrics import roc_auc_score

from benchmarks._common import (
    RESULTS_DIR,
    argument_parser,
    fmt,
    markdown_table,
    set_threads,
    write_json,
)
from sklearn_ae import AutoencoderTransformer, VAETransformer
from sklearn_ae.evaluation import environment, knn_accuracy, load_mnist_split

# Burda, Grosse & Salakhutdinov (2016), "Importance Weighted Autoencoders", table 1: VAE
# with one stochastic layer (50 units, two deterministic layers of 200), k=1, on
# dynamically binarised MNIST (60000 train / 10000 test), test log-likelihood estimated
# with 5000 importance samples: -86.76 nats
PUBLISHED_NLL = -86.76


def ood_sets(X_test, rng):
    """Out-of-distribution images in [0, 1], as many as ``X_test`` has rows."""
    shuffled = np.array([row[rng.permutation(row.size)] for row in X_test])
    return {
        "uniform noise": rng.rand(*X_test.shape).astype(np.float32),
        # noise with the digits' own pixel histogram: shuffling the pixels of each digit
        "shuffled pixels": shuffled.astype(np.float32),
        "inverted digits": (1.0 - X_test).astype(np.float32),
    }


def save_pictures(vae_2d, vae_img, Z_test_2d, y_test, X_test, out_dir):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = {}
    # samples from the prior, decoded (Bernoulli means)
    S = vae_img.sample(64, random_state=0).reshape(8, 8, 28, 28)
    grid = S.transpose(0, 2, 1, 3).reshape(8 * 28, 8 * 28)
    fig, ax = plt.subplots(figsize=(6, 6))
    ax.imshow(grid, cmap="gray_r", vmin=0, vmax=1)
    ax.set_axis_off()
    ax.set_title(f"VAETransformer(n_components={vae_img.n_components}): 64 samples")
    paths["samples"] = out_dir / "vae_samples.png"
    fig.savefig(paths["samples"], dpi=100, bbox_inches="tight")
    plt.close(fig)

    # 2-d latent map: held-out codes by digit, and the decoder over the same plane
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 6))
    sc = ax1.scatter(Z_test_2d[:, 0], Z_test_2d[:, 1], c=y_test, cmap="tab10", s=4)
    ax1.legend(*sc.legend_elements(), title="digit", loc="best", fontsize=7)
    ax1.set_title(f"posterior means of the {len(y_test)} held-out digits")
    ax1.set_xlabel("z0")
    ax1.set_ylabel("z1")
    n = 15
    # quantiles of the prior, so the grid covers the latent space evenly in probability
    from scipy.stats import norm

    ticks = norm.ppf(np.linspace(0.05, 0.95, n))
    zz = np.array([[a, b] for b in ticks[::-1] for a in ticks], dtype=np.float32)
    decoded = vae_2d.inverse_transform(zz).reshape(n, n, 28, 28)
    ax2.imshow(decoded.transpose(0, 2, 1, 3).reshape(n * 28, n * 28), cmap="gray_r")
    ax2.set_axis_off()
    ax2.set_title("decoder over the prior's 5%..95% quantiles")
    paths["latent_map"] = out_dir / "vae_latent_map.png"
    fig.savefig(paths["latent_map"], dpi=100, bbox_inches="tight")
    plt.close(fig)

    # interpolation between two held-out digits, through the posterior means
    a, b = X_test[np.flatnonzero(y_test == 3)[0]], X_test[np.flatnonzero(y_test == 8)[1]]
    Z = vae_img.transform(np.stack([a, b]))
    steps = np.linspace(0, 1, 10)[:, None]
    decoded = vae_img.inverse_transform((1 - steps) * Z[0] + steps * Z[1])
    row = np.concatenate([a[None], decoded, b[None]]).reshape(-1, 28, 28)
    fig, axes = plt.subplots(1, len(row), figsize=(1.2 * len(row), 1.6))
    for i, (ax, img) in enumerate(zip(axes, row)):
        ax.imshow(img, cmap="gray_r", vmin=0, vmax=1)
        ax.set_axis_off()
        ax.set_title("input" if i in (0, len(row) - 1) else f"{steps[i - 1, 0]:.2f}", fontsize=8)
    paths["interpolation"] = out_dir / "vae_interpolation.png"
    fig.savefig(paths["interpolation"], dpi=100, bbox_inches="tight")
    plt.close(fig)
    return paths


def main(argv=None):
    parser = argument_parser(__spec__.name, __doc__)
    parser.add_argument("--epochs", type=int, default=60, help="max_epochs of every model")
    parser.add_argument("--elbo-components", type=int, default=50)
    parser.add_argument("--image-components", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--quick", action="store_true", help="2000/500 rows, 3 epochs")
    parser.add_argument("--out-dir", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    set_threads(args.threads)
    epochs = 3 if args.quick else args.epochs
    out_dir = args.out_dir
    out_dir.mkdir(parents=True, exist_ok=True)

    n_train, n_test = (2000, 500) if args.quick else (None, None)
    X_train, X_test, y_train, y_test = load_mnist_split(n_train=n_train, n_test=n_test)
    rng = np.random.RandomState(args.seed)
    # one fixed stochastic binarisation (pixel on with probability = grey value)
    B_train = (rng.rand(*X_train.shape) < X_train).astype(np.float32)
    B_test = (rng.rand(*X_test.shape) < X_test).astype(np.float32)
    common = dict(max_epochs=epochs, random_state=args.seed)
    results = {"environment": environment(), "args": vars(args), "epochs": epochs}

    # 1. held-out ELBO on binarised digits
    t0 = time.perf_counter()
    vae_bin = VAETransformer(n_components=args.elbo_components, loss="bce", **common)
    vae_bin.fit(B_train)
    fit_s = time.perf_counter() - t0
    ll, kl = vae_bin.elbo_terms(B_test, n_draws=64)
    elbo = {
        "model": f"VAETransformer(n_components={args.elbo_components}, loss='bce')",
        "test_elbo_nats": float(np.mean(ll - kl)),
        "test_log_likelihood_term": float(np.mean(ll)),
        "test_kl_term": float(np.mean(kl)),
        "train_elbo_nats": float(vae_bin.score(B_train)),
        "published_vae_nll_nats": PUBLISHED_NLL,
        "fit_seconds": fit_s,
        "n_iter": vae_bin.n_iter_,
        "best_epoch": vae_bin.best_epoch_,
    }
    results["elbo"] = elbo
    print("## Held-out ELBO, binarised MNIST subset (nats per image)\n")
    print(markdown_table(
        ["model", "test ELBO", "recon. term", "KL", "train ELBO", "published", "fit s",
         "n_iter", "best_epoch"],
        [[elbo["model"], fmt(elbo["test_elbo_nats"], ".2f"),
          fmt(elbo["test_log_likelihood_term"], ".2f"), fmt(elbo["test_kl_term"], ".2f"),
          fmt(elbo["train_elbo_nats"], ".2f"), fmt(PUBLISHED_NLL, ".2f"),
          fmt(fit_s, ".1f"), elbo["n_iter"], elbo["best_epoch"]]],
    ))  # fmt: skip

    # 2. 2-d embeddings of the grey-valued digits
    rows = []
    embeddings = {}
    models = {
        "PCA": PCA(n_components=2, random_state=args.seed),
        "AutoencoderTransformer": AutoencoderTransformer(n_components=2, **common),
        "VAETransformer(loss='bce')": VAETransformer(n_components=2, loss="bce", **common),
        "VAETransformer(loss='mse')": VAETransformer(n_components=2, loss="mse", **common),
    }
    for name, model in models.items():
        t0 = time.perf_counter()
        Z_train = model.fit_transform(X_train)
        fit_s = time.perf_counter() - t0
        Z_test = model.transform(X_test)
        embeddings[name] = (model, Z_test)
        row = {
            "model": name,
            "knn5_accuracy": knn_accuracy(Z_train, y_train, Z_test, y_test),
            "trustworthiness_k5": float(trustworthiness(X_test, Z_test, n_neighbors=5)),
            "fit_seconds": fit_s,
        }
        rows.append(row)
    results["embeddings_2d"] = rows
    print("\n## 2-d embeddings of the held-out digits\n")
    print(markdown_table(
        ["model", "kNN-5 accuracy", "trustworthiness (k=5)", "fit s"],
        [[r["model"], fmt(r["knn5_accuracy"], ".3f"), fmt(r["trustworthiness_k5"], ".3f"),
          fmt(r["fit_seconds"], ".1f")] for r in rows],
    ))  # fmt: skip

    # 3. anomaly detection with a VAE of the grey-valued digits
    t0 = time.perf_counter()
    vae_img = VAETransformer(n_components=args.image_components, loss="bce", **common)
    vae_img.fit(X_train)
    fit_s = time.perf_counter() - t0
    clean = -vae_img.score_samples(X_test)
    anomaly_rows = []
    for name, X_ood in ood_sets(X_test, np.random.RandomState(args.seed + 1)).items():
        outlier = -vae_img.score_samples(X_ood)
        labels = np.r_[np.zeros(len(clean)), np.ones(len(outlier))]
        auroc = float(roc_auc_score(labels, np.r_[clean, outlier]))
        anomaly_rows.append({"outliers": name, "auroc": auroc, "pass": auroc >= 0.95})
    results["anomaly"] = {
        "model": f"VAETransformer(n_components={args.image_components}, loss='bce')",
        "fit_seconds": fit_s,
        "test_elbo_nats": float(-clean.mean()),
        "rows": anomaly_rows,
    }
    print(f"\n## Anomaly detection: AUROC of -score_samples, {len(clean)} held-out digits "
          "against as many outliers (target >= 0.95)\n")
    print(markdown_table(
        ["outliers", "AUROC", "target"],
        [[r["outliers"], fmt(r["auroc"], ".4f"), "PASS" if r["pass"] else "FAIL"]
         for r in anomaly_rows],
    ))  # fmt: skip

    vae_2d, Z_test_2d = embeddings["VAETransformer(loss='bce')"]
    paths = save_pictures(vae_2d, vae_img, Z_test_2d, y_test, X_test, out_dir)
    results["pictures"] = {k: str(v) for k, v in paths.items()}
    path = write_json(out_dir / "vae.json", results)
    print(f"\nwrote {path} and " + ", ".join(str(p) for p in paths.values()))


if __name__ == "__main__":
    main()
