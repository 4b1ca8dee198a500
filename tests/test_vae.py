"""VAETransformer (sklearn_ae/_vae.py), its module (nn/vae.py), net (VAENet) and the
variational terms of losses.py. The family-wide contract runs in test_base / test_common."""

import numpy as np
import pytest
import torch
from conftest import make_arc, make_estimator
from numpy.testing import assert_allclose, assert_array_equal
from scipy.stats import multivariate_normal
from sklearn.datasets import load_breast_cancer, load_digits, load_wine
from sklearn.decomposition import PCA
from sklearn.exceptions import NotFittedError
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.preprocessing import StandardScaler
from skorch.callbacks import Callback

from sklearn_ae import VAETransformer
from sklearn_ae._vae import latent_draws
from sklearn_ae.losses import (
    bernoulli_log_likelihood,
    gaussian_log_likelihood,
    kl_standard_normal,
)


@pytest.fixture(scope="module")
def digits():
    X, _ = load_digits(return_X_y=True)
    return X[:300]


def _untrained(X, **params):
    """A VAE whose weights are (to float precision) still at their initial values."""
    return make_estimator(VAETransformer, lr=1e-12, max_epochs=1, **params).fit(X)


# ---------------------------------------------------------------------- losses
def test_variational_terms_match_closed_forms():
    rng = np.random.RandomState(0)
    mean, target = rng.randn(4, 3), rng.randn(4, 3)
    log_var = 0.3
    expected = [
        multivariate_normal(mean[i], np.exp(log_var) * np.eye(3)).logpdf(target[i])
        for i in range(4)
    ]
    t = torch.as_tensor
    got = gaussian_log_likelihood(t(mean), t(target), t(log_var, dtype=torch.float64))
    assert_allclose(got.numpy(), expected, rtol=1e-10)

    logits, bits = rng.randn(4, 3), (rng.rand(4, 3) > 0.5).astype(float)
    p = 1 / (1 + np.exp(-logits))
    expected = np.sum(bits * np.log(p) + (1 - bits) * np.log(1 - p), axis=1)
    assert_allclose(bernoulli_log_likelihood(t(logits), t(bits)).numpy(), expected, rtol=1e-10)

    mu, logvar = rng.randn(4, 2), rng.randn(4, 2)
    var = np.exp(logvar)
    expected = 0.5 * np.sum(mu**2 + var - 1 - logvar, axis=1)
    assert_allclose(kl_standard_normal(t(mu), t(logvar)).numpy(), expected, rtol=1e-10)
    assert kl_standard_normal(torch.zeros(1, 2), torch.zeros(1, 2)).item() == 0.0


# ------------------------------------------------------------------ the model
def test_transform_is_the_deterministic_posterior_mean(X_small):
    est = make_estimator(VAETransformer, n_components=2).fit(X_small)
    Z = est.transform(X_small)
    assert_array_equal(Z, est.transform(X_small))
    module = est.net_.module_
    x = torch.as_tensor(((X_small - est.mean_) / est.scale_).astype(np.float32))
    mu, logvar = module.posterior(x)
    assert_allclose(Z, mu.detach().numpy(), rtol=1e-5, atol=1e-6)
    # the module samples in training mode only (reparameterisation) ...
    module.train()
    recon_a, mu_a, _ = module(x)
    recon_b, mu_b, _ = module(x)
    assert not torch.equal(recon_a, recon_b)
    assert torch.equal(mu_a, mu_b)
    # ... and decodes the posterior mean in eval mode
    module.eval()
    recon, _, _ = module(x)
    assert torch.equal(recon, module.decode(mu))


def test_pca_init_starts_at_probabilistic_pca(X_small):
    # PPCA's exact posterior is Gaussian, so at the PPCA start the ELBO is PPCA's
    # log-likelihood (PCA.score_samples), in X's own units
    X = X_small * 30.0 + 7.0
    est = _untrained(X, n_components=2)
    pca = PCA(n_components=2).fit(X)
    assert_allclose(est.score(X), pca.score(X), rtol=5e-3)
    assert est.noise_variance_ == pytest.approx(pca.noise_variance_, rel=1e-4)
    # its codes are PPCA's posterior means: PCA scores scaled per unit
    ratio = est.transform(X) / pca.transform(X)
    assert_allclose(ratio, np.broadcast_to(ratio[0], ratio.shape), rtol=1e-3)


@pytest.mark.parametrize("n_draws, n_components", [(16, 3), (16, 12), (5, 2), (200, 4)])
def test_latent_draws_are_antithetic_with_identity_covariance(n_draws, n_components):
    eps = latent_draws(n_draws, n_components).double()
    assert len(eps) == max(n_draws + n_draws % 2, 2 * n_components)
    assert_allclose(eps.mean(0), 0.0, atol=1e-6)
    assert_allclose(eps.T @ eps / len(eps), np.eye(n_components), atol=1e-5)
    assert_array_equal(latent_draws(n_draws, n_components), latent_draws(n_draws, n_components))


@pytest.mark.parametrize("standardise", [True, False])
@pytest.mark.parametrize("k", [4, 12])
def test_elbo_at_the_ppca_start_is_ppca_log_likelihood_row_by_row(k, standardise):
    # with 16 plain draws shared by all rows the ELBO was off by a constant of up to about
    # a nat per sample: the draws' own covariance is not the identity. On raw wine (features
    # a thousand times apart) the floor on the start's noise variance moved it off PPCA
    X = load_wine().data
    X = StandardScaler().fit_transform(X) if standardise else X
    est = _untrained(X, n_components=k)
    assert_allclose(est.score_samples(X), PCA(n_components=k).fit(X).score_samples(X),
                    rtol=1e-4, atol=1e-3)


def test_held_out_elbo_is_never_below_ppca_log_likelihood():
    # the VAE's floor in its own currency: standardised breast cancer at k=29 was 0.21
    # nats per sample below PPCA (a trained epoch kept on a noisy one-draw validation
    # loss); the floor now compares each validation row's exact ELBO with the start's
    X_train, X_test = train_test_split(load_breast_cancer().data, test_size=0.25,
                                       random_state=0)
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    est = VAETransformer(n_components=29, random_state=0, precision="float32").fit(X_train)
    ppca = PCA(n_components=29).fit(X_train)
    # float32 rounding of the PPCA start costs about 1e-3 nats here
    assert est.score(X_test) >= ppca.score(X_test) - 2e-3


def test_score_samples_is_a_density_in_original_units(X_small):
    # the scaled data (what the network sees) are the same, so the two fits are identical;
    # a density of X / 10 is 10**n_features times larger than that of X
    a = make_estimator(VAETransformer, random_state=0).fit(X_small)
    b = make_estimator(VAETransformer, random_state=0).fit(X_small / 10)
    shift = X_small.shape[1] * np.log(10)
    assert_allclose(b.score_samples(X_small / 10), a.score_samples(X_small) + shift, rtol=1e-5)
    assert_allclose(b.sample(5, random_state=0), a.sample(5, random_state=0) / 10, rtol=1e-5)
    assert b.noise_variance_ == pytest.approx(a.noise_variance_ / 100, rel=1e-5)


def test_elbo_terms_add_up_and_are_deterministic(X_small):
    est = make_estimator(VAETransformer).fit(X_small)
    ll, kl = est.elbo_terms(X_small)
    assert ll.shape == kl.shape == (60,)
    assert np.all(kl >= 0)
    assert_allclose(est.score_samples(X_small), ll - kl)
    assert est.score(X_small) == pytest.approx(np.mean(ll - kl))
    assert_array_equal(est.score_samples(X_small), est.score_samples(X_small))
    # each row's score is its own: it does not depend on which other rows come along
    assert_allclose(est.score_samples(X_small[::-1]), est.score_samples(X_small)[::-1], rtol=1e-6)
    # more draws estimate the same expectation
    ll_many, kl_many = est.elbo_terms(X_small, n_draws=200)
    assert_array_equal(kl_many, kl)
    assert_allclose(ll_many.mean(), ll.mean(), rtol=0.05)


@pytest.mark.parametrize("n_draws", [0, -1, 1.5, "2", True])
def test_elbo_terms_bad_n_draws_raises(n_draws, X_small):
    est = make_estimator(VAETransformer).fit(X_small)
    match = f"n_draws must be a positive integer; got {n_draws!r}"
    with pytest.raises(ValueError, match=match):
        est.elbo_terms(X_small, n_draws=n_draws)


def test_score_samples_ranks_clean_data_above_noise():
    X_train, X_test = make_arc(300, seed=0), make_arc(100, seed=1)
    est = make_estimator(VAETransformer, n_components=1, max_epochs=30).fit(X_train)
    rng = np.random.RandomState(2)
    # off-manifold points with the data's mean and spread
    noise = X_train.mean(0) + rng.randn(100, X_train.shape[1]) * X_train.std(0)
    scores = np.r_[est.score_samples(X_test), est.score_samples(noise)]
    assert roc_auc_score(np.r_[np.ones(100), np.zeros(100)], scores) > 0.95
    assert np.median(scores[:100]) > np.percentile(scores[100:], 90)


def test_higher_beta_gives_lower_kl(digits):
    kls = []
    for beta in (0.2, 1.0, 5.0):
        est = make_estimator(
            VAETransformer, n_components=4, beta=beta, max_epochs=6, early_stopping=False
        ).fit(digits)
        kls.append(est.elbo_terms(digits)[1].mean())
    assert kls[0] > kls[1] > kls[2]


def test_grid_search_tunes_beta_without_y(digits):
    # the score is the ELBO, which beta=1 maximises in training; beta=20 trades it away
    search = GridSearchCV(
        make_estimator(VAETransformer, n_components=4, max_epochs=5),
        {"beta": [1.0, 20.0]},
        cv=2,
    ).fit(digits)
    assert search.best_params_ == {"beta": 1.0}


# --------------------------------------------------------------------- sample
@pytest.mark.parametrize("loss", ["mse", "bce"])
def test_sample_shape_units_and_reproducibility(loss, digits):
    X = digits / 16.0 if loss == "bce" else digits * 100.0 + 50.0
    est = make_estimator(VAETransformer, n_components=3, loss=loss).fit(X)
    torch.manual_seed(0)
    np.random.seed(0)
    torch_state, np_state = torch.random.get_rng_state(), np.random.get_state()[1].copy()
    S = est.sample(500, random_state=0)
    assert S.shape == (500, 64) and S.dtype == np.float32
    assert_array_equal(S, est.sample(500, random_state=0))
    assert not np.array_equal(S, est.sample(500, random_state=1))
    # sample draws z ~ N(0, I) and decodes it, locally
    Z = np.random.RandomState(0).standard_normal((500, 3))
    assert_allclose(S, est.inverse_transform(Z), rtol=1e-6)
    assert torch.equal(torch.random.get_rng_state(), torch_state)
    assert_array_equal(np.random.get_state()[1], np_state)
    if loss == "bce":
        assert S.min() >= 0 and S.max() <= 1  # Bernoulli means
    else:
        # in the data's units: the samples' overall mean sits near the data's, far from 0
        spread = X.std()
        assert abs(S.mean() - X.mean()) < 0.5 * spread
    assert est.sample(random_state=0).shape == (1, 64)


@pytest.mark.parametrize("n_samples", [0, -2, 2.5, None, True])
def test_sample_bad_n_samples_raises(n_samples, X_small):
    est = make_estimator(VAETransformer).fit(X_small)
    match = f"n_samples must be a positive integer; got {n_samples!r}"
    with pytest.raises(ValueError, match=match):
        est.sample(n_samples)


def test_unfitted_sample_raises():
    with pytest.raises(NotFittedError, match="This VAETransformer instance is not fitted"):
        VAETransformer().sample(3)


# ------------------------------------------------------------------- likelihoods
def test_bernoulli_elbo_of_binary_data_is_negative(digits):
    X = (digits > 8).astype(float)
    est = make_estimator(VAETransformer, loss="bce").fit(X)
    assert est.noise_variance_ is None and est.net_.module_.log_noise_var is None
    assert np.all(est.score_samples(X) < 0)


def _decays(est, params):
    decay = {id(p): g["weight_decay"] for g in est.net_.optimizer_.param_groups
             for p in g["params"]}
    return [decay[id(p)] for p in params]


def _spared_and_decayed(module):
    spared = [module.log_noise_var, *module.encoder.linear.parameters(),
              *module.decoder.linear.parameters()]
    return spared, list(module.encoder.nonlinear.parameters())


def test_weight_decay_spares_observation_variance_and_ppca_paths(digits):
    # without early stopping, which may keep the untrained start and with it the start value
    est = make_estimator(
        VAETransformer, n_components=4, max_epochs=10, weight_decay=1.0, early_stopping=False
    )
    est.fit(digits)
    spared, non_linear = _spared_and_decayed(est.net_.module_)
    assert _decays(est, spared) == [0.0] * len(spared)
    assert non_linear and _decays(est, non_linear) == [1.0] * len(non_linear)
    start = PCA(n_components=4).fit(digits).noise_variance_
    assert est.noise_variance_ != pytest.approx(start, rel=1e-3)


def test_warm_start_with_a_new_weight_decay_still_spares_them(digits):
    est = make_estimator(VAETransformer, n_components=4, weight_decay=1.0,
                         early_stopping=False).fit(digits)
    est.set_params(warm_start=True, weight_decay=0.5, max_epochs=1).fit(digits)
    spared, non_linear = _spared_and_decayed(est.net_.module_)
    assert _decays(est, spared) == [0.0] * len(spared)
    assert _decays(est, non_linear) == [0.5] * len(non_linear)


def test_heavy_weight_decay_leaves_the_ppca_start_in_place(digits):
    # decay regularises the non-linear paths; applied to the linear ones it dragged PPCA's
    # loadings to zero (explained variance 0.54 -> 0.01, ELBO -167 -> -194 nats here)
    start = _untrained(digits, n_components=4)
    est = make_estimator(
        VAETransformer, n_components=4, weight_decay=100.0, early_stopping=False
    ).fit(digits)
    kept = est.train_explained_variance_ratio_ / start.train_explained_variance_ratio_
    assert kept == pytest.approx(1.0, abs=0.05)
    assert est.score(digits) == pytest.approx(start.score(digits), abs=1.0)


# ---------------------------------------------------------------- parameters
@pytest.mark.parametrize(
    "params, match",
    [
        ({"beta": -1.0}, "'beta' parameter .* Got -1.0 instead"),
        ({"kl_warmup_epochs": -1}, "'kl_warmup_epochs' parameter .* Got -1 instead"),
        ({"kl_warmup_epochs": 1.5}, "'kl_warmup_epochs' parameter .* Got 1.5 instead"),
        ({"loss": "ssim", "image_shape": (1, 5)}, "'loss' parameter .* Got 'ssim' instead"),
    ],
)
def test_invalid_vae_parameters_raise(params, match, X_small):
    with pytest.raises(ValueError, match=match):
        make_estimator(VAETransformer, **params).fit(X_small)


class _KLWeights(Callback):
    def __init__(self):
        self.weights = []

    def on_epoch_begin(self, net, **kwargs):
        self.weights.append(net.kl_weight(training=True))


def test_kl_warmup_is_linear_from_zero_and_not_repeated_on_warm_start(X_small):
    est = make_estimator(
        VAETransformer, beta=2.0, kl_warmup_epochs=4, max_epochs=6, early_stopping=False,
        warm_start=True, callbacks=[("kl", _KLWeights())],
    )  # fmt: skip
    est.fit(X_small)
    assert_allclose(dict(est.net_.callbacks_)["kl"].weights, [0, 0.5, 1, 1.5, 2, 2])
    # validation always weighs the KL term fully
    assert est.net_.kl_weight(training=False) == 2.0
    est.set_params(max_epochs=2).fit(X_small)
    assert_allclose(dict(est.net_.callbacks_)["kl"].weights[-2:], [2, 2])


# ------------------------------------------------------------ architectures
@pytest.mark.parametrize("init", ["pca", "random"])
def test_conv_architecture(init, digits):
    est = make_estimator(
        VAETransformer, architecture="conv", image_shape=(8, 8), init=init,
        hidden_layer_sizes=(4, 8), n_components=3,
    ).fit(digits)  # fmt: skip
    assert est.transform(digits).shape == (300, 3)
    assert est.sample(4, random_state=0).shape == (4, 64)
    assert np.all(np.isfinite(est.score_samples(digits)))
    if init == "pca":
        # the convolutional paths start at zero: the same PPCA start as the MLP's
        mlp = _untrained(digits, n_components=3)
        conv = _untrained(
            digits, n_components=3, architecture="conv", image_shape=(8, 8),
            hidden_layer_sizes=(4, 8),
        )  # fmt: skip
        assert_allclose(conv.score_samples(digits), mlp.score_samples(digits), rtol=1e-4)
