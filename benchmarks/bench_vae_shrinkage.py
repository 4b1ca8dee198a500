"""What it costs a linear VAE to reconstruct as well as PCA (issue 15 item 4), in closed form.

Among linear models the ELBO's optimum is probabilistic PCA (PPCA, the ``init="pca"``
start of :class:`~sklearn_ae.VAETransformer`). Its exact posterior mean shrinks the
``i``-th PCA score ``y_i`` to ``w_i y_i / lam_i`` (``lam_i`` the eigenvalue, ``sigma2`` the
noise variance, ``w_i = sqrt(lam_i - sigma2)`` the loading), so its posterior-mean
reconstruction ``(lam_i - sigma2) / lam_i * y_i`` is worse than PCA's ``y_i`` against noisy
data. Keeping PPCA's decoder and noise (so the same density and the same samples) and
moving the encoder's mean a fraction ``t`` of the way to the unshrunk ``y_i / w_i`` makes
the reconstruction PCA's at ``t = 1``; the ELBO then falls short of PPCA's log-likelihood
by ``KL(q || p(z | x)) = sum_i (m_i - m*_i)^2 lam_i / (2 sigma2)`` per sample. Everything
here is exact (no training, no Monte Carlo); ELBOs are held-out nats per sample.

    python -m benchmarks.bench_vae_shrinkage
    python -m benchmarks.bench_vae_shrinkage --cases wine:10 swiss_roll:2
"""

import numpy as np
from sklearn.decomposition import PCA

from benchmarks._common import argument_parser, fmt, markdown_table
from benchmarks.datasets import DATASETS, load

CASES = ("swiss_roll:2", "s_curve:2", "wine:10", "wine:2", "digits:30")
FRACTIONS = (0.0, 0.25, 0.5, 0.6, 0.75, 1.0)


def frontier(X_train, X_test, k, fractions=FRACTIONS):
    """Rows of (t, test MSE / PCA's, test ELBO) for the encoder means ``t`` of the way
    from PPCA's posterior mean to the PCA projection, with PPCA's decoder and noise."""
    pca = PCA(n_components=k).fit(X_train)
    lam, sigma2 = pca.explained_variance_, pca.noise_variance_
    loading = np.sqrt(lam - sigma2)
    scores = pca.transform(X_test)  # (X - mean) projected on the axes
    pca_mse = np.mean(np.square(pca.inverse_transform(scores) - X_test))
    log_likelihood = pca.score_samples(X_test)
    exact = loading / lam  # PPCA's posterior mean per unit score
    rows = []
    for t in fractions:
        gain = (1 - t) * exact + t / loading
        recon = (scores * loading * gain) @ pca.components_ + pca.mean_
        gap = np.sum(np.square(scores * (gain - exact)) * lam / (2 * sigma2), axis=1)
        rows.append((t, np.mean(np.square(recon - X_test)) / pca_mse,
                     np.mean(log_likelihood - gap)))
    return pca, rows


def main(argv=None):
    parser = argument_parser(__spec__.name, __doc__)
    parser.add_argument("--cases", nargs="+", default=list(CASES),
                        help=f"dataset:k pairs; datasets: {', '.join(DATASETS)}")
    parser.add_argument("--seed", type=int, default=0, help="the datasets' split")
    args = parser.parse_args(argv)
    for case in args.cases:
        name, k = case.split(":")
        data = load(name, seed=args.seed)
        pca, rows = frontier(data.X_train, data.X_test, int(k))
        shrink = 1 - pca.noise_variance_ / pca.explained_variance_
        print(f"\n## {name}, k={k}: PPCA shrinks the scores to "
              f"{', '.join(f'{s:.2f}' for s in shrink)}\n")
        print(markdown_table(
            ["t", "test MSE / PCA", "test ELBO", "ELBO - PPCA's"],
            [[f"{t:g}", fmt(r, ".3f"), fmt(e, ".3f"), fmt(e - rows[0][2], ".3f")]
             for t, r, e in rows],
        ))  # fmt: skip


if __name__ == "__main__":
    main()
