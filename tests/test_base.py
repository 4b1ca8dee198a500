"""The family base estimator (sklearn_ae/_base.py): validation, fit, randomness, training
options. Every test runs for every estimator of the family."""

import re
import time

import numpy as np
import pytest
import torch
from conftest import ESTIMATORS, Snapshot, initial_weights, make_estimator
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from skorch.callbacks import Callback, LRScheduler

import sklearn_ae
import sklearn_ae._device as _device
from sklearn_ae import AutoencoderTransformer, VAETransformer

each_estimator = pytest.mark.parametrize("Estimator", ESTIMATORS)
# the VAE's score is its ELBO (tested in test_vae.py), not a reconstruction error
# members whose score is the negative reconstruction error (the VAE's is the ELBO, the
# neighbour embedding's a trustworthiness)
each_reconstruction_estimator = pytest.mark.parametrize(
    "Estimator",
    [E for E in ESTIMATORS
     if not issubclass(E, VAETransformer) and E.__name__ != "NeighborEmbeddingAutoencoder"],
)


# ------------------------------------------------------------------ parameters
@each_estimator
@pytest.mark.parametrize(
    "params, match",
    [
        ({"n_components": 0}, "'n_components' parameter .* Got 0 instead"),
        ({"n_components": -1}, "'n_components' parameter .* Got -1 instead"),
        ({"n_components": 1.5}, "'n_components' parameter .* Got 1.5 instead"),
        ({"lr": -0.1}, "'lr' parameter .* Got -0.1 instead"),
        ({"lr": 0.0}, "'lr' parameter .* Got 0.0 instead"),
        ({"batch_size": 0}, "'batch_size' parameter .* Got 0 instead"),
        ({"max_epochs": 0}, "'max_epochs' parameter .* Got 0 instead"),
        ({"activation": "sigmoidal"}, "'activation' parameter .* Got 'sigmoidal' instead"),
        ({"loss": "l1"}, "'loss' parameter .* Got 'l1' instead"),
        ({"init": "xavier"}, "'init' parameter .* Got 'xavier' instead"),
        ({"optimizer": "adamax"}, "'optimizer' parameter .* Got 'adamax' instead"),
        ({"validation_fraction": 1.0}, "'validation_fraction' parameter .* Got 1.0 instead"),
        ({"validation_fraction": 0.0}, "'validation_fraction' parameter .* Got 0.0 instead"),
        ({"n_iter_no_change": 0}, "'n_iter_no_change' parameter .* Got 0 instead"),
    ],
)
def test_invalid_parameters_raise(Estimator, params, match, X_small):
    est = make_estimator(Estimator, **params)
    with pytest.raises(ValueError, match=match):
        est.fit(X_small)


@each_estimator
@pytest.mark.parametrize("sizes", [(16, 0), (-3,), [8, -1, 8]])
def test_non_positive_hidden_width_raises(Estimator, sizes, X_small):
    est = make_estimator(Estimator, hidden_layer_sizes=sizes)
    with pytest.raises(ValueError, match="hidden_layer_sizes .*" + re.escape(repr(sizes))):
        est.fit(X_small)


@each_estimator
def test_non_integer_hidden_width_raises(Estimator, X_small):
    est = make_estimator(Estimator, hidden_layer_sizes=(8.5,))
    with pytest.raises(ValueError, match=r"hidden_layer_sizes must be positive integers"):
        est.fit(X_small)


@each_estimator
@pytest.mark.parametrize("device", ["gpu", "cuda:x", "CUDA", "cuda:", "mps:0"])
def test_unknown_device_raises(Estimator, device, X_small):
    est = make_estimator(Estimator, device=device)
    with pytest.raises(ValueError, match=re.escape(f"got {device!r}")):
        est.fit(X_small)


@each_estimator
@pytest.mark.parametrize("device", ["cuda", "cuda:0", "cuda:1"])
def test_cuda_requested_without_cuda_raises(Estimator, device, X_small, monkeypatch):
    monkeypatch.setattr(_device, "cuda_available", lambda: False)
    est = make_estimator(Estimator, device=device)
    with pytest.raises(ValueError, match=f"device='{device}'.*CUDA is not available"):
        est.fit(X_small)


@each_estimator
def test_validation_fraction_leaving_no_training_data_raises(Estimator, X_small):
    est = make_estimator(Estimator, validation_fraction=0.99, early_stopping=True)
    with pytest.raises(ValueError, match=r"validation_fraction=0.99 leaves no training.*=60"):
        est.fit(X_small)
    # without early stopping nothing is held out, so the same fraction is harmless
    make_estimator(Estimator, validation_fraction=0.99, early_stopping=False).fit(X_small)


@each_estimator
def test_single_sample_raises(Estimator, X_small):
    with pytest.raises(ValueError, match=r"1 sample\(s\)"):
        make_estimator(Estimator).fit(X_small[:1])


# ---------------------------------------------------------------- data checks
@each_estimator
@pytest.mark.parametrize("method", ["transform", "inverse_transform", "score_samples", "score"])
def test_not_fitted_raises(Estimator, method, X_small):
    est = make_estimator(Estimator)
    with pytest.raises(NotFittedError, match=f"This {Estimator.__name__} instance is not"):
        getattr(est, method)(X_small)


@each_estimator
def test_wrong_number_of_features_raises(Estimator, X_small):
    est = make_estimator(Estimator, n_components=2).fit(X_small)
    for method in (est.transform, est.score_samples, est.score):
        with pytest.raises(ValueError, match="X has 4 features.*expecting 5 features"):
            method(X_small[:, :4])


@each_estimator
@pytest.mark.parametrize("n_columns", [1, 3, 5])
def test_inverse_transform_wrong_code_width_raises(Estimator, n_columns, X_small):
    est = make_estimator(Estimator, n_components=2).fit(X_small)
    with pytest.raises(ValueError, match=f"X has {n_columns} features.*n_components_=2"):
        est.inverse_transform(np.zeros((4, n_columns)))


@each_estimator
@pytest.mark.parametrize("bad, match", [(np.nan, "NaN"), (np.inf, "infinity")])
def test_non_finite_input_raises(Estimator, bad, match, X_small):
    X_bad = X_small.copy()
    X_bad[3, 2] = bad
    with pytest.raises(ValueError, match=match):
        make_estimator(Estimator).fit(X_bad)
    est = make_estimator(Estimator).fit(X_small)
    for method in (est.transform, est.score_samples):
        with pytest.raises(ValueError, match=match):
            method(X_bad)
    with pytest.raises(ValueError, match=match):
        est.inverse_transform(np.array([[0.0, bad]]))


@each_estimator
def test_bce_outside_unit_interval_raises(Estimator, X_small):
    X = np.clip(X_small, 0, 1)
    X[0, 0], X[1, 1] = -0.5, 1.25
    with pytest.raises(ValueError, match=r"loss='bce' needs data in \[0, 1\].*\[-0.5, 1.25\]"):
        make_estimator(Estimator, loss="bce").fit(X)
    # a fitted model refuses such data too
    est = make_estimator(Estimator, loss="bce").fit(np.clip(X_small, 0, 1))
    with pytest.raises(ValueError, match=r"\[-0.5, 1.25\]"):
        est.transform(X)


# ----------------------------------------------------------------- dtypes etc.
@each_estimator
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64])
def test_output_is_float32(Estimator, dtype, X_small):
    X = (X_small * 10).astype(dtype)
    est = make_estimator(Estimator, n_components=3)
    Z = est.fit_transform(X)
    assert Z.dtype == np.float32 and Z.shape == (60, 3)
    R = est.inverse_transform(Z)
    assert R.dtype == np.float32 and R.shape == (60, 5)
    # float64 codes are accepted back as well
    assert_allclose(est.inverse_transform(Z.astype(np.float64)), R, rtol=1e-6)
    assert est.score_samples(X).shape == (60,)
    assert isinstance(est.score(X), float)


@each_estimator
def test_transform_of_no_rows_raises(Estimator, X_small):
    est = make_estimator(Estimator, n_components=3).fit(X_small)
    with pytest.raises(ValueError, match="0 sample"):
        est.transform(X_small[:0])


@each_reconstruction_estimator
def test_score_is_mean_of_negative_squared_error(Estimator, X_small):
    est = make_estimator(Estimator, n_components=2).fit(X_small)
    recon = est.inverse_transform(est.transform(X_small))
    expected = -np.mean((X_small - recon) ** 2, axis=1)
    assert_allclose(est.score_samples(X_small), expected, rtol=1e-5, atol=1e-7)
    assert est.score(X_small) == pytest.approx(np.mean(expected), rel=1e-5)


@each_estimator
def test_fitted_attributes(Estimator, X_small):
    est = make_estimator(Estimator, n_components=2, max_epochs=4, n_iter_no_change=10)
    est.fit(X_small)
    assert est.n_features_in_ == 5
    assert not hasattr(est, "feature_names_in_")
    assert_allclose(est.mean_, X_small.mean(axis=0))
    assert est.scale_ == pytest.approx(np.sqrt(np.mean((X_small - X_small.mean(0)) ** 2)))
    assert est.hidden_layer_sizes_ == (16,)
    assert est.n_iter_ == 4
    assert est.loss_curve_.shape == (4,) and est.validation_loss_curve_.shape == (4,)
    assert np.all(np.isfinite(est.loss_curve_)) and np.all(est.loss_curve_ > 0)
    assert_array_equal(est.loss_curve_, est.history_[:, "train_loss"])
    assert_array_equal(est.validation_loss_curve_, est.history_[:, "valid_loss"])
    assert 0 <= est.best_epoch_ <= est.n_iter_
    # module interface promised to users
    x = torch.as_tensor(((X_small[:3] - est.mean_) / est.scale_).astype(np.float32))
    # the VAE's module returns the posterior log-variance as well
    recon, codes, *_ = est.net_.module_(x)
    assert codes.shape == (3, 2) and recon.shape == (3, 5)
    assert_allclose(est.net_.module_.encode(x).detach(), codes.detach())


@each_estimator
def test_without_early_stopping_there_is_no_validation_curve(Estimator, X_small):
    est = make_estimator(Estimator, early_stopping=False, max_epochs=3).fit(X_small)
    assert est.n_iter_ == 3 and est.loss_curve_.shape == (3,)
    assert est.validation_loss_curve_ is None
    assert est.best_epoch_ == 3


@each_estimator
def test_early_stopping_stops_after_patience(Estimator, X_small):
    # lr=1 makes the loss worse in the first epochs (lr=10 diverges to inf)
    est = make_estimator(Estimator, lr=1.0, n_iter_no_change=2, max_epochs=50)
    est.fit(X_small)
    assert est.n_iter_ < 50
    assert est.n_iter_ == est.best_epoch_ + 2
    assert est.validation_loss_curve_.shape == (est.n_iter_,)


@each_estimator
@pytest.mark.parametrize("init", ["pca", "random"])
def test_early_stopping_restores_initial_weights_when_training_only_hurts(
    Estimator, init, X_small
):
    # every step with lr=1 (0.5 for the VAE) lands above the starting loss (lr=1e3
    # diverges to inf); the untrained model is the best one seen and must be the one kept
    if Estimator.__name__ == "NeighborEmbeddingAutoencoder":
        pytest.skip("the neighbour objective improves even at lr=1: no such case for it")
    lr = 0.5 if Estimator is VAETransformer else 1.0
    est = make_estimator(
        Estimator, init=init, lr=lr, n_iter_no_change=2, max_epochs=10, callbacks=[Snapshot()]
    ).fit(X_small)
    initial = initial_weights(est)
    assert est.best_epoch_ == 0
    assert est.n_iter_ == 2
    final = est.net_.module_.state_dict()
    assert initial.keys() == final.keys()
    for name, value in final.items():
        assert torch.equal(value, initial[name]), name


@each_estimator
@pytest.mark.parametrize(
    "sizes, expected", [((7,), (7,)), ([9, 4], (9, 4)), (np.array([5]), (5,))]
)
def test_hidden_layer_sizes_resolved(Estimator, sizes, expected, X_small):
    est = make_estimator(Estimator, hidden_layer_sizes=sizes, init="random").fit(X_small)
    assert est.hidden_layer_sizes_ == expected
    linear = [m for m in est.net_.module_.encoder if isinstance(m, torch.nn.Linear)]
    # the VAE's encoder emits a mean and a log-variance per latent unit
    n_out = 4 if issubclass(Estimator, VAETransformer) else 2
    assert [m.out_features for m in linear] == [*expected, n_out]


# ------------------------------------------------------------------ randomness
@each_estimator
@pytest.mark.parametrize("init", ["pca", "random"])
def test_same_random_state_gives_identical_fits(Estimator, init, X_small):
    a = make_estimator(Estimator, init=init, random_state=7).fit(X_small)
    b = make_estimator(Estimator, init=init, random_state=7).fit(X_small)
    assert_array_equal(a.transform(X_small), b.transform(X_small))
    assert_array_equal(a.loss_curve_, b.loss_curve_)
    c = make_estimator(Estimator, init=init, random_state=8).fit(X_small)
    assert not np.array_equal(a.loss_curve_, c.loss_curve_)


@each_estimator
def test_refit_forgets_previous_fit(Estimator, X_small):
    fresh = make_estimator(Estimator, random_state=3).fit(X_small)
    est = make_estimator(Estimator, random_state=3).fit(X_small[:, :4] * 7)
    assert est.n_features_in_ == 4
    est.fit(X_small)
    assert est.n_features_in_ == 5
    assert_array_equal(est.transform(X_small), fresh.transform(X_small))
    assert_array_equal(est.loss_curve_, fresh.loss_curve_)


@each_estimator
def test_fit_transform_equals_fit_then_transform(Estimator, X_small):
    Z1 = make_estimator(Estimator, random_state=1).fit(X_small).transform(X_small)
    Z2 = make_estimator(Estimator, random_state=1).fit_transform(X_small)
    assert_array_equal(Z1, Z2)


@each_estimator
@pytest.mark.parametrize("random_state", [0, None, np.random.RandomState(1)])
def test_fit_leaves_torch_global_rng_untouched(Estimator, random_state, X_small):
    torch.manual_seed(1234)
    state = torch.random.get_rng_state()
    est = make_estimator(Estimator, init="random", random_state=random_state).fit(X_small)
    est.transform(X_small)
    assert torch.equal(torch.random.get_rng_state(), state)


@each_estimator
@pytest.mark.parametrize("random_state", [0, None])
def test_fit_leaves_numpy_global_rng_untouched(Estimator, random_state, X_small):
    np.random.seed(1234)
    state = np.random.get_state()
    make_estimator(Estimator, random_state=random_state).fit(X_small)
    after = np.random.get_state()
    assert state[0] == after[0] and np.array_equal(state[1], after[1]) and state[2:] == after[2:]


def _fits(Estimator, X, seeds, n_jobs):
    """Codes of one fit per seed (early stopping, shuffling, the members' draws), run in
    ``n_jobs`` threads at once."""
    from concurrent.futures import ThreadPoolExecutor

    def fit(seed):
        est = make_estimator(Estimator, random_state=seed, max_epochs=4, batch_size=8)
        return est.fit(X).transform(X)

    with ThreadPoolExecutor(n_jobs) as pool:
        return list(pool.map(fit, seeds))


@each_estimator
@pytest.mark.parametrize("init", ["pca", "random"])
def test_fits_in_parallel_threads_equal_fits_run_alone(Estimator, init, X_small):
    seeds = [0, 1, 2, 3]
    alone = _fits(lambda **p: Estimator(init=init, **p), X_small, seeds, n_jobs=1)
    together = _fits(lambda **p: Estimator(init=init, **p), X_small, seeds, n_jobs=4)
    for a, b in zip(alone, together):
        assert_array_equal(a, b)


def test_a_fit_in_a_thread_leaves_other_threads_draws_alone(X_small):
    import threading

    def draws():
        torch.manual_seed(5)
        return [torch.rand(1).item() for _ in range(300)]

    expected = draws()
    done = threading.Event()

    def fit_repeatedly():
        while not done.is_set():
            make_estimator(AutoencoderTransformer, init="random").fit(X_small)

    thread = threading.Thread(target=fit_repeatedly)
    thread.start()
    try:
        seen = []
        torch.manual_seed(5)
        for _ in range(300):
            seen.append(torch.rand(1).item())
            time.sleep(0.0005)  # let the fits run between the draws
    finally:
        done.set()
        thread.join()
    assert seen == expected


@each_estimator
def test_transform_is_deterministic(Estimator, X_small):
    est = make_estimator(Estimator).fit(X_small)
    assert_array_equal(est.transform(X_small), est.transform(X_small))
    # rows are encoded independently of their batch
    assert_allclose(est.transform(X_small[:7]), est.transform(X_small)[:7], rtol=1e-6)


# ------------------------------------------------------------- training options
@each_estimator
@pytest.mark.parametrize("init", ["pca", "random"])
def test_warm_start_continues_training(Estimator, init, X_small):
    est = make_estimator(Estimator, init=init, warm_start=True, early_stopping=False, max_epochs=2)
    est.fit(X_small)
    weights = {k: v.clone() for k, v in est.net_.module_.state_dict().items()}
    first_curve = est.loss_curve_.copy()
    net = est.net_

    est.fit(X_small)
    assert est.net_ is net  # the same network, trained further
    assert est.n_iter_ == 4 and est.loss_curve_.shape == (4,)
    assert_array_equal(est.loss_curve_[:2], first_curve)
    assert any(not torch.equal(weights[k], v) for k, v in est.net_.module_.state_dict().items())

    # warm_start=False starts over
    est.set_params(warm_start=False).fit(X_small)
    assert est.n_iter_ == 2 and est.net_ is not net


def _batch_lrs(est, epochs):
    """The learning rate of every training batch of the last ``epochs`` epochs."""
    return [b["event_lr"] for row in est.net_.history[-epochs:] for b in row["batches"]
            if "event_lr" in b]


@each_estimator
@pytest.mark.parametrize("after", ["fit", "load", "partial_fit"])
def test_warm_start_runs_a_new_cycle_of_the_default_schedule(Estimator, after, X_small, tmp_path):
    # the default one-cycle schedule, not FAST's constant rate: a warm start after fit
    # stepped past the end of the old cycle, after load or partial_fit it had no schedule
    # state to resume
    est = make_estimator(Estimator, lr_schedule="onecycle", lr=0.01, max_epochs=2,
                         early_stopping=False).fit(X_small)
    if after == "load":
        sklearn_ae.save(est, tmp_path / "m.safetensors")
        est = sklearn_ae.load(tmp_path / "m.safetensors")
    elif after == "partial_fit":
        est.partial_fit(X_small)
    n_before = est.n_iter_
    est.set_params(warm_start=True, max_epochs=3).fit(X_small)
    assert est.n_iter_ == n_before + 3
    lrs = _batch_lrs(est, 3)
    assert len(lrs) == 3 * _steps_per_epoch(est, len(X_small), 32)  # the new cycle's steps
    # a whole new cycle: warm-up from lr / 25 to lr, annealed far below it
    assert lrs[0] == pytest.approx(0.01 / 25)
    assert max(lrs) == pytest.approx(0.01, rel=0.05)
    assert lrs[-1] < 0.01 / 100


def _steps_per_epoch(est, n_rows, batch_size):
    """Batches of an epoch: of the rows, or of the neighbour member's graph's edges."""
    return -(-getattr(est, "n_edges_", n_rows) // batch_size)


@each_estimator
def test_default_widths_follow_the_rows_of_fit_but_not_of_a_partial_fit_chunk(Estimator):
    X = np.random.RandomState(0).randn(40, 3000).astype(np.float32)
    est = Estimator(n_components=2, max_epochs=1, random_state=0, precision="float32")
    wide = est.fit(X).hidden_layer_sizes_
    assert wide[0] < 64  # 40 rows cannot train 2 x 3000 x 512 weights
    # a first chunk is not the data: the widths stay those of the features alone
    # (the neighbour embedding's default is five layers of at most 128)
    own = Estimator.__name__ == "NeighborEmbeddingAutoencoder"
    expected = (128,) * 5 if own else (512, 256)
    assert clone(est).partial_fit(X).hidden_layer_sizes_ == expected


def test_running_out_of_memory_in_set_up_says_what_training_needs():
    X = np.random.RandomState(0).randn(20, 100_000).astype(np.float32)
    est = AutoencoderTransformer(hidden_layer_sizes=(1_000_000,), max_epochs=1)
    # 2 x 1e11 weights: the CPU allocator refuses them at once
    with pytest.raises(MemoryError,
                       match=r"setting up the network \(hidden_layer_sizes=\(1000000,\): "
                       r"200,00.*weights; .* about 9 float32 copies of them, about .* GiB\)"):
        est.fit(X)
    assert not hasattr(est, "net_") and not hasattr(est, "n_features_in_")


@each_estimator
def test_warm_start_with_other_feature_count_raises(Estimator, X_small):
    est = make_estimator(Estimator, warm_start=True).fit(X_small)
    with pytest.raises(ValueError, match="X has 4 features.*expecting 5 features"):
        est.fit(X_small[:, :4])


@each_estimator
def test_verbose_prints_epoch_table(Estimator, X_small, capsys):
    make_estimator(Estimator, verbose=1, max_epochs=3).fit(X_small)
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if "epoch" in line)
    assert "train_loss" in header and "valid_loss" in header and "dur" in header
    rows = [line.split()[0] for line in out.splitlines() if line.strip()[:1].isdigit()]
    assert rows == ["1", "2", "3"]


@each_estimator
def test_silent_by_default(Estimator, X_small, capsys):
    make_estimator(Estimator, lr=1e3, n_iter_no_change=1, max_epochs=5).fit(X_small)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_verbose_log_is_plain_text_when_not_a_terminal(X_small, capsys):
    # pytest captures stdout: not a terminal, so no ANSI colour codes in the log
    make_estimator(AutoencoderTransformer, verbose=1).fit(X_small)
    out = capsys.readouterr().out
    assert "train_loss" in out and "valid_loss" in out
    assert "\x1b[" not in out


class _Recorder(Callback):
    """Counts the epochs it saw."""

    def __init__(self):
        self.epochs = 0

    def on_epoch_end(self, net, **kwargs):
        self.epochs += 1


@each_estimator
def test_user_callbacks_are_used(Estimator, X_small):
    recorder = _Recorder()
    scheduler = LRScheduler(policy="StepLR", step_size=1, gamma=0.5, event_name="event_lr")
    est = make_estimator(
        Estimator, lr=0.01, max_epochs=3, early_stopping=False, callbacks=[recorder, scheduler]
    )
    est.fit(X_small)
    # the schedule ran: the logged learning rate halves every epoch
    assert_allclose(est.history_[:, "event_lr"], [0.01, 0.005, 0.0025])
    assert est.net_.optimizer_.param_groups[0]["lr"] == pytest.approx(0.01 * 0.5**3)
    # the callbacks are copied at each fit; the user's objects stay untouched
    assert recorder.epochs == 0
    net_recorders = [cb for _, cb in est.net_.callbacks_ if isinstance(cb, _Recorder)]
    assert len(net_recorders) == 1 and net_recorders[0].epochs == 3
    assert est.get_params()["callbacks"][0] is recorder


@each_estimator
def test_named_user_callbacks_are_used(Estimator, X_small):
    recorder = _Recorder()
    est = make_estimator(Estimator, max_epochs=2, callbacks=[("recorder", recorder)])
    est.fit(X_small)
    assert dict(est.net_.callbacks_)["recorder"].epochs == 2


@each_estimator
@pytest.mark.parametrize(
    "optimizer, expected",
    [
        ("adam", torch.optim.Adam),
        ("adamw", torch.optim.AdamW),
        ("sgd", torch.optim.SGD),
        ("rmsprop", torch.optim.RMSprop),
        (torch.optim.Adagrad, torch.optim.Adagrad),
        (torch.optim.SGD, torch.optim.SGD),
    ],
)
def test_optimizer_as_string_or_class(Estimator, optimizer, expected, X_small):
    est = make_estimator(Estimator, optimizer=optimizer, lr=0.01, early_stopping=False)
    est.fit(X_small)
    assert type(est.net_.optimizer_) is expected
    assert est.net_.optimizer_.param_groups[0]["lr"] == 0.01
    assert est.get_params()["optimizer"] is optimizer
    assert np.all(np.isfinite(est.transform(X_small)))


@each_estimator
def test_constant_data_trains_to_the_mean(Estimator):
    X = np.full((30, 4), 3.5)
    est = make_estimator(Estimator, n_components=2).fit(X)
    assert est.scale_ == 1.0
    assert np.all(np.isfinite(est.transform(X)))
    assert_allclose(est.inverse_transform(est.transform(X)), X, atol=1e-3)


def test_failed_fit_leaves_estimator_not_fitted(X_small):
    from sklearn.exceptions import NotFittedError
    from sklearn_ae import DenoisingAutoencoder

    est = make_estimator(DenoisingAutoencoder, noise="masking", noise_level=2.0)
    with pytest.raises(ValueError, match="2.0"):
        est.fit(X_small)
    with pytest.raises(NotFittedError):
        est.transform(X_small)


def test_failed_refit_keeps_the_old_model(X_small):
    from sklearn_ae import DenoisingAutoencoder

    est = make_estimator(DenoisingAutoencoder, noise="masking", noise_level=0.3).fit(X_small)
    codes, n_iter, mean = est.transform(X_small), est.n_iter_, est.mean_
    est.set_params(noise_level=2.0)
    with pytest.raises(ValueError, match="2.0"):
        est.fit(X_small * 10)
    # exactly as before the call: the old network with its own scaling and history
    assert_array_equal(est.transform(X_small), codes)
    assert est.n_iter_ == n_iter and est.mean_ is mean


@each_estimator
def test_warm_start_trains_with_the_parameters_set_after_fit(Estimator, X_small):
    est = make_estimator(Estimator, max_epochs=3, early_stopping=False).fit(X_small)
    est.set_params(warm_start=True, max_epochs=2, lr=0.005, batch_size=7).fit(X_small)
    assert est.n_iter_ == 5
    assert est.net_.optimizer_.param_groups[0]["lr"] == 0.005
    assert est.net_.history[-1, "train_batch_count"] == _steps_per_epoch(est, 60, 7)


# ---------------------------------------------------------- learning-rate schedule
class _LearningRates(Callback):
    """Records the optimizer's learning rate at every training batch."""

    def __init__(self):
        self.rates = []

    def on_batch_begin(self, net, training=False, **kwargs):
        if training:
            self.rates.append(net.optimizer_.param_groups[0]["lr"])


def _rates(est):
    (recorder,) = [cb for _, cb in est.net_.callbacks_ if isinstance(cb, _LearningRates)]
    return np.array(recorder.rates)


@each_estimator
def test_one_cycle_schedule_warms_up_to_lr_then_anneals(Estimator, X_small):
    est = make_estimator(
        Estimator, lr=0.01, lr_schedule="onecycle", max_epochs=10, early_stopping=False,
        callbacks=[_LearningRates()],
    ).fit(X_small)
    rates = _rates(est)
    assert len(rates) == 10 * _steps_per_epoch(est, 60, 32)  # every step of the cycle
    peak = int(np.argmax(rates))
    assert rates[0] == pytest.approx(0.01 / 25) and rates.max() == pytest.approx(0.01)
    assert 0.2 * len(rates) < peak < 0.4 * len(rates)  # the warm-up is 30% of the steps
    assert np.all(np.diff(rates[: peak + 1]) > 0) and np.all(np.diff(rates[peak:]) < 0)
    assert rates[-1] < 0.01 / 1000


def test_partial_fit_and_constant_schedule_train_at_lr(X_small):
    for est in (
        make_estimator(AutoencoderTransformer, lr=0.01, lr_schedule="onecycle",
                       callbacks=[_LearningRates()]).partial_fit(X_small),
        make_estimator(AutoencoderTransformer, lr=0.01, lr_schedule="constant",
                       callbacks=[_LearningRates()]).fit(X_small),
    ):
        assert np.all(_rates(est) == 0.01)


def test_a_user_lr_scheduler_replaces_the_one_cycle_schedule(X_small):
    from torch.optim.lr_scheduler import StepLR

    est = make_estimator(
        AutoencoderTransformer, lr=0.01, lr_schedule="onecycle", early_stopping=False,
        callbacks=[LRScheduler(policy=StepLR, step_size=1, gamma=0.5), _LearningRates()],
    ).fit(X_small)
    assert "lr_schedule" not in dict(est.net_.callbacks_)
    per_epoch = _rates(est).reshape(3, -1)[:, 0]
    assert per_epoch == pytest.approx([0.01, 0.005, 0.0025])


@each_estimator
def test_defaults_are_the_fast_training_regime(Estimator):
    params = Estimator().get_params()
    # the neighbour embedding's schedule was chosen on its own objective, whose epochs
    # draw the graph's edges (tests/test_neighbors.py)
    own = Estimator.__name__ == "NeighborEmbeddingAutoencoder"
    lr, epochs = (2e-2, 12) if own else (5e-3, 60)
    assert (params["lr"], params["lr_schedule"], params["max_epochs"]) == (lr, "onecycle", epochs)
    assert params["precision"] == "auto"


@pytest.mark.parametrize("Estimator", ESTIMATORS, ids=lambda E: E.__name__)
def test_weight_decay_reaches_the_optimizer_even_when_zero(Estimator):
    # AdamW decays by 0.01 unless told otherwise: a weight_decay_ of 0 must be passed on
    X = np.random.RandomState(0).rand(40, 6)
    for weight_decay in (None, 0.0, 0.25):
        est = make_estimator(Estimator, optimizer="adamw", weight_decay=weight_decay).fit(X)
        if weight_decay is not None:
            assert est.weight_decay_ == weight_decay
        # the largest decay of any parameter group (some members spare some parameters)
        groups = est.net_.optimizer_.param_groups
        assert max(group["weight_decay"] for group in groups) == est.weight_decay_
