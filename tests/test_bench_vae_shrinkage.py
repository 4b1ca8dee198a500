"""benchmarks/bench_vae_shrinkage.py: the closed-form frontier against the estimator it
describes."""

import numpy as np
import pytest
from conftest import make_estimator
from sklearn.datasets import load_wine
from sklearn.decomposition import PCA

from benchmarks import bench_vae_shrinkage
from sklearn_ae import VAETransformer
from sklearn_ae.evaluation import reconstruction_mse


@pytest.fixture(scope="module")
def wine():
    X = load_wine().data
    X = (X - X.mean(0)) / X.std(0)
    return X[:140], X[140:]


def test_frontier_runs_from_ppca_to_pca(wine):
    X_train, X_test = wine
    pca, rows = bench_vae_shrinkage.frontier(X_train, X_test, 8)
    t, ratios, elbos = map(np.array, zip(*rows))
    assert elbos[0] == pytest.approx(pca.score(X_test))  # the exact posterior: the ELBO is log p
    assert ratios[-1] == pytest.approx(1.0)  # unshrunk means: PCA's reconstruction
    assert ratios[0] > 1.1 and np.all(np.diff(ratios) < 0) and np.all(np.diff(elbos) < 0)


def test_frontier_start_is_the_untrained_vae(wine):
    # t = 0 is the VAE's probabilistic-PCA start, whose reconstruction is shrunk alike
    X_train, X_test = wine
    _, rows = bench_vae_shrinkage.frontier(X_train, X_test, 8, fractions=(0.0,))
    vae = make_estimator(
        VAETransformer, n_components=8, lr=1e-12, max_epochs=1, early_stopping=False
    ).fit(X_train)
    pca = PCA(n_components=8).fit(X_train)
    ratio = reconstruction_mse(vae, X_test) / reconstruction_mse(pca, X_test)
    assert ratio == pytest.approx(rows[0][1], rel=1e-3)


def test_main_prints_a_table_per_case(capsys):
    bench_vae_shrinkage.main(["--cases", "wine:2"])
    out = capsys.readouterr().out
    assert "## wine, k=2: PPCA shrinks the scores to" in out
    assert out.count("\n|") == 2 + len(bench_vae_shrinkage.FRACTIONS)
