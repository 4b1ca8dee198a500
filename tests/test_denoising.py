"""DenoisingAutoencoder (sklearn_ae/_denoising.py): corrupted inputs, clean targets,
deterministic inference, reproducible noise."""

import numpy as np
import pytest
import torch
from conftest import make_arc, make_estimator
from numpy.testing import assert_allclose, assert_array_equal
from skorch.callbacks import Callback
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA

from sklearn_ae import AutoencoderTransformer, DenoisingAutoencoder


class RecordTraining(Callback):
    """Records, per training batch, the module's input and the batch the loop handed over
    (whose target half is what the loss compares with)."""

    def on_train_begin(self, net, **kwargs):
        self.inputs, self.batches, self.losses, self.recons = [], [], [], []
        self._handle = net.module_.register_forward_pre_hook(self._hook)

    def _hook(self, module, args):
        if module.training:
            self.inputs.append(args[0].detach().clone())

    def on_batch_end(self, net, batch=None, training=None, loss=None, y_pred=None, **kw):
        if training:
            self.batches.append((batch[0].clone(), batch[1].clone()))
            self.losses.append(float(loss.detach()))
            self.recons.append(y_pred[0].detach().clone())

    def on_train_end(self, net, **kwargs):
        self._handle.remove()


def _recorder(est):
    (rec,) = [cb for _, cb in est.net_.callbacks_ if isinstance(cb, RecordTraining)]
    return rec


def _digits(n=120):
    return load_digits().data[:n] / 16.0


def test_trains_on_half_corrupted_inputs_against_clean_targets():
    X = _digits()
    est = make_estimator(
        DenoisingAutoencoder, noise="masking", noise_level=0.4, early_stopping=False,
        batch_size=len(X), callbacks=[RecordTraining()],
    ).fit(X)
    rec = _recorder(est)
    assert len(rec.inputs) == len(rec.batches) == 3
    left_clean = []
    for seen, (clean_x, clean_y), loss, recon in zip(
        rec.inputs, rec.batches, rec.losses, rec.recons
    ):
        assert_array_equal(clean_x.numpy(), clean_y.numpy())  # mse: target = clean input
        changed = (seen != clean_x).numpy()
        corrupted = changed.any(axis=1)
        left_clean.append(1 - corrupted.mean())
        # digits are mostly dark: count the pixels that were on, in the corrupted rows
        on = (clean_x.numpy() * est.scale_ + est.mean_) > 1e-6
        assert changed[corrupted][on[corrupted]].mean() == pytest.approx(0.4, abs=0.05)
        # masked entries are pixels switched off: 0 in the original units
        original = seen.numpy() * est.scale_ + est.mean_
        assert_allclose(original[changed], 0.0, atol=1e-5)
        # the loss compares the reconstruction of the (partly) corrupted input with the
        # clean rows
        assert loss == pytest.approx(float(((recon - clean_y) ** 2).mean()), rel=1e-5)
    # about half the rows of every batch are left clean (3 x 120 rows)
    assert np.mean(left_clean) == pytest.approx(0.5, abs=0.1)


def test_corruption_is_fresh_for_every_epoch():
    X = _digits()
    est = make_estimator(
        DenoisingAutoencoder, noise="gaussian", early_stopping=False, batch_size=len(X),
        callbacks=[RecordTraining()],
    ).fit(X)
    clean = set(map(tuple, _recorder(est).batches[0][0].numpy().round(5)))
    rows = [set(map(tuple, t.numpy().round(5))) for t in _recorder(est).inputs[:2]]
    # rows are reshuffled each epoch; as sets of rows the corrupted ones still differ, and
    # so does the choice of the rows left clean
    assert (rows[0] - clean).isdisjoint(rows[1] - clean)
    assert rows[0] & clean and rows[0] & clean != rows[1] & clean


@pytest.mark.parametrize("noise", ["gaussian", "masking", "salt_and_pepper"])
def test_inference_is_deterministic_and_denoise_is_the_reconstruction(noise):
    X = _digits()
    est = make_estimator(DenoisingAutoencoder, noise=noise, n_components=5).fit(X)
    Z = est.transform(X)
    assert_array_equal(est.transform(X), Z)
    D = est.denoise(X)
    assert D.dtype == np.float32 and D.shape == X.shape
    assert_array_equal(est.denoise(X), D)
    # two passes through numpy codes rather than one forward pass: equal up to rounding
    assert_allclose(D, est.inverse_transform(Z), rtol=1e-5, atol=1e-6)
    assert_array_equal(D, est.reconstruct(X))


@pytest.mark.parametrize("noise", ["gaussian", "masking", "salt_and_pepper"])
def test_noise_is_reproducible_under_random_state(noise):
    X = _digits()
    a = make_estimator(DenoisingAutoencoder, noise=noise, random_state=3).fit(X)
    b = make_estimator(DenoisingAutoencoder, noise=noise, random_state=3).fit(X)
    c = make_estimator(DenoisingAutoencoder, noise=noise, random_state=4).fit(X)
    assert_array_equal(a.transform(X), b.transform(X))
    assert_array_equal(a.loss_curve_, b.loss_curve_)
    assert not np.array_equal(a.loss_curve_, c.loss_curve_)


def test_denoiser_removes_masking_noise_better_than_the_plain_autoencoder():
    X = load_digits().data / 16.0
    X_train, X_test = X[:1200], X[1200:]
    rng = np.random.RandomState(0)
    noisy = X_test * (rng.rand(*X_test.shape) >= 0.3)
    # what the two objectives teach, without model selection: at this short, slow fit
    # early stopping would keep the denoiser's PCA start (see the test below)
    params = dict(n_components=16, hidden_layer_sizes=(64,), max_epochs=30, batch_size=64,
                  early_stopping=False)
    dae = make_estimator(DenoisingAutoencoder, noise="masking", noise_level=0.3, **params)
    ae = make_estimator(AutoencoderTransformer, **params)
    dae_err = np.mean((dae.fit(X_train).denoise(noisy) - X_test) ** 2)
    ae_err = np.mean((ae.fit(X_train).reconstruct(noisy) - X_test) ** 2)
    noisy_err = np.mean((noisy - X_test) ** 2)
    assert dae_err < 0.5 * noisy_err
    assert dae_err < 0.8 * ae_err


def test_noise_level_resolves_per_kind_and_is_not_written_into_params():
    X = _digits(60)
    for noise, level in [("gaussian", 0.5), ("masking", 0.3), ("salt_and_pepper", 0.2)]:
        est = make_estimator(DenoisingAutoencoder, noise=noise).fit(X)
        assert est.noise_level_ == level and est.noise_level is None


def test_gaussian_level_in_data_units_is_the_rms_level_times_scale():
    # sigma in the data's units trains exactly the denoiser sigma / scale_ RMS units does
    X = _digits(60)
    scale = make_estimator(DenoisingAutoencoder, max_epochs=1).fit(X).scale_
    data = make_estimator(DenoisingAutoencoder, noise_level=2.0, noise_units="data").fit(X)
    rms = make_estimator(DenoisingAutoencoder, noise_level=2.0 / scale).fit(X)
    assert data.noise_level_ == 2.0
    assert data.net_.noise_level == pytest.approx(2.0 / scale, rel=1e-12)
    assert_allclose(data.transform(X), rms.transform(X), rtol=1e-5, atol=1e-5)


def test_default_level_in_data_units_is_half_the_rms():
    X = _digits(60)
    est = make_estimator(DenoisingAutoencoder, noise_units="data", max_epochs=1).fit(X)
    assert est.noise_level_ == pytest.approx(0.5 * est.scale_)
    assert est.net_.noise_level == pytest.approx(0.5)


def test_fractions_ignore_noise_units():
    X = _digits(60)
    est = make_estimator(
        DenoisingAutoencoder, noise="masking", noise_level=0.3, noise_units="data", max_epochs=1
    ).fit(X)
    assert est.noise_level_ == 0.3 and est.net_.noise_level == 0.3


@pytest.mark.parametrize("noise", ["masking", "salt_and_pepper"])
def test_fraction_above_one_is_rejected(noise):
    with pytest.raises(ValueError, match=r"noise_level=1\.5"):
        make_estimator(DenoisingAutoencoder, noise=noise, noise_level=1.5).fit(_digits(30))


def test_unknown_noise_is_rejected():
    with pytest.raises(ValueError, match="'speckle'"):
        make_estimator(DenoisingAutoencoder, noise="speckle").fit(_digits(30))


def _start_clean_loss(est, rows="valid"):
    """The untrained start's clean loss on the validation (or training) rows, as early
    stopping took it."""
    stopper = dict(est.net_.callbacks_)["early_stopping"]
    start = stopper.start_constraints_ if rows == "valid" else stopper.start_train_constraints_
    return start["clean_loss"]


def _history(est, key):
    return np.array(est.history_[:, key])


class SplitRows(Callback):
    """Keeps the training and validation datasets of the fit, as the net scores them."""

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        self.train, self.valid = net.get_split_datasets(X, y)


def _split_rows(est):
    (rec,) = [cb for _, cb in est.net_.callbacks_ if isinstance(cb, SplitRows)]
    return rec.train, rec.valid


def _valid_rows(est):
    return _split_rows(est)[1]


def test_validation_loss_is_denoising_and_the_clean_loss_is_recorded_beside_it():
    X = np.random.RandomState(0).rand(100, 6)
    est = make_estimator(DenoisingAutoencoder, noise="masking", max_epochs=2,
                         callbacks=[SplitRows()]).fit(X)
    valid = _valid_rows(est)
    noisy, clean = valid.X, valid.clean_X
    assert len(noisy) == 10 and torch.equal(clean, valid.y)  # mse: the target is the input
    assert (noisy == clean).float().mean() < 1  # some entries switched off
    net = est.net_
    net.module_.eval()
    with torch.no_grad():
        denoising = torch.mean((net.module_(noisy)[0] - clean) ** 2).item()
        reconstruction = torch.mean((net.module_(clean)[0] - clean) ** 2).item()
    assert net.evaluate_loss(valid) == pytest.approx(denoising, rel=1e-5)
    assert net.constraint_scores(valid) == {"clean_loss": pytest.approx(reconstruction, rel=1e-5)}
    assert_array_equal(est.validation_loss_curve_, est.history_[:, "valid_loss"])
    assert np.all(np.isfinite(_history(est, "valid_clean_loss")))


def test_early_stopping_keeps_the_best_denoiser_that_reconstructs_clean_rows_no_worse():
    # on the arc a 1-unit code beats PCA's line once trained; the first epochs (masking
    # half the coordinates) rebuild the clean rows worse than the PCA start
    X = make_arc()
    est = make_estimator(DenoisingAutoencoder, noise="masking", noise_level=0.1,
                         n_components=1, lr=1e-2, max_epochs=10,
                         callbacks=[SplitRows()]).fit(X)
    clean, valid = _history(est, "valid_clean_loss"), _history(est, "valid_loss")
    feasible = clean <= _start_clean_loss(est)
    assert not feasible.all() and feasible.any()
    assert feasible[est.best_epoch_ - 1]
    assert valid[est.best_epoch_ - 1] == valid[feasible].min()
    # the module holds the kept epoch, no worse than the start on the training rows too
    train, valid = _split_rows(est)
    assert est.net_.constraint_scores(valid)["clean_loss"] == pytest.approx(
        clean[est.best_epoch_ - 1], rel=1e-5
    )
    assert est.net_.constraint_scores(train)["clean_loss"] <= _start_clean_loss(est, "train")


def test_denoiser_keeps_its_pca_start_when_training_only_costs_clean_reconstruction():
    # a few epochs of masking noise on digits: the denoising loss falls, the clean one
    # rises above the PCA start's at every epoch, so the PCA start is what is kept
    X = _digits(200)
    est = make_estimator(DenoisingAutoencoder, noise="masking", n_components=16,
                         max_epochs=4, callbacks=[SplitRows()]).fit(X)
    assert est.best_epoch_ == 0
    assert np.all(_history(est, "valid_clean_loss") > _start_clean_loss(est))
    # (the module holds the start again)
    assert _history(est, "valid_loss").min() < est.net_.evaluate_loss(_valid_rows(est))
    pca = PCA(n_components=16).fit(X)
    assert_allclose(est.reconstruct(X), pca.inverse_transform(pca.transform(X)), atol=1e-4)
