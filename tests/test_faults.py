"""Training faults: divergence, interrupts, running out of device memory, overflow.

The documented behaviour is to warn and keep a usable model (divergence, Ctrl-C), or to
raise with a message that names the parameter to change (out of memory, overflow).
"""

import copy
import itertools
import warnings

import numpy as np
import pytest
import torch
from conftest import (
    FAST,
    ESTIMATORS,
    Snapshot,
    diverging,
    initial_weights,
    make_estimator,
)
from numpy.testing import assert_array_equal
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from skorch.callbacks import Callback

import sklearn_ae._data as _data
from sklearn_ae._net import AutoencoderNet

_keys = itertools.count()
FAST_EPOCHS = FAST["max_epochs"]


class WeightRecorder(Callback):
    """Records the module's weights when training begins (index 0) and after every
    completed epoch (index ``e`` for epoch ``e``).

    The estimator deep-copies its ``callbacks``; the snapshots live in a class-level store
    under ``key`` so the test can read what the trained copy saw.
    """

    store = {}

    def __init__(self, key):
        self.key = key

    def _record(self, net):
        self.store[self.key].append(copy.deepcopy(net.module_.state_dict()))

    def on_train_begin(self, net, **kwargs):
        self._record(net)

    def on_epoch_end(self, net, **kwargs):
        self._record(net)


def recorder():
    """A fresh :class:`WeightRecorder` and the list its snapshots go to."""
    key = next(_keys)
    WeightRecorder.store[key] = []
    return WeightRecorder(key), WeightRecorder.store[key]


class BlowUpWeights(Callback):
    """After the first batch of epoch ``epoch``, multiplies every weight by 1e30 so the
    next batch's loss is not finite."""

    def __init__(self, epoch=2):
        self.epoch = epoch

    def on_train_begin(self, net, **kwargs):
        self.done_ = False

    def on_batch_end(self, net, training=False, **kwargs):
        if training and not self.done_ and len(net.history) == self.epoch:
            self.done_ = True
            with torch.no_grad():
                for p in net.module_.parameters():
                    p.mul_(1e30)


class InterruptAt(Callback):
    """Raises ``KeyboardInterrupt`` (as Ctrl-C would) after the first training batch of
    epoch ``epoch``."""

    def __init__(self, epoch=2):
        self.epoch = epoch

    def on_batch_end(self, net, training=False, **kwargs):
        if training and len(net.history) == self.epoch:
            raise KeyboardInterrupt


def assert_weights_equal(actual, expected):
    assert actual.keys() == expected.keys()
    for name in actual:
        assert_array_equal(actual[name].cpu().numpy(), expected[name].cpu().numpy(), err_msg=name)


def assert_weights_finite(est):
    for name, value in est.net_.module_.state_dict().items():
        if value.is_floating_point():
            assert torch.isfinite(value).all(), name


def assert_usable(est, X):
    """A fitted model whose every output on the training data is finite."""
    codes = est.transform(X)
    assert codes.shape == (X.shape[0], est.n_components)
    assert np.all(np.isfinite(codes))
    assert np.all(np.isfinite(est.inverse_transform(codes)))
    assert np.all(np.isfinite(est.score_samples(X)))
    assert np.all(np.isfinite(est.loss_curve_))
    assert len(est.loss_curve_) == est.n_iter_
    if est.validation_loss_curve_ is not None:
        assert np.all(np.isfinite(est.validation_loss_curve_))
        assert len(est.validation_loss_curve_) == est.n_iter_
    assert_weights_finite(est)


# ------------------------------------------------------------------ divergence
@pytest.mark.parametrize("early_stopping", [True, False])
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_too_large_lr_warns_and_keeps_a_finite_model(Estimator, early_stopping, X_small):
    est = make_estimator(Estimator, **diverging(Estimator), max_epochs=5,
                         early_stopping=early_stopping)
    with pytest.warns(ConvergenceWarning, match="diverged"):
        est.fit(X_small)
    assert est.n_iter_ < 5
    assert_usable(est, X_small)


@pytest.mark.parametrize("early_stopping", [True, False])
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_exploding_sgd_warns_and_keeps_a_finite_model(Estimator, early_stopping, X_small):
    # plain SGD with a huge step: the loss overflows within an epoch or two
    est = make_estimator(
        Estimator, optimizer="sgd", lr=1e6, max_epochs=5, early_stopping=early_stopping
    )
    with pytest.warns(ConvergenceWarning, match="diverged"):
        est.fit(X_small)
    assert_usable(est, X_small)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_divergence_keeps_weights_of_last_finite_epoch(Estimator, X_small):
    rec, snapshots = recorder()
    est = make_estimator(
        Estimator, **diverging(Estimator), max_epochs=5, early_stopping=False,
        callbacks=[rec, Snapshot()],
    )
    with pytest.warns(ConvergenceWarning, match=r"kept the finite weights of epoch \d"):
        est.fit(X_small)
    # snapshots[e]: the weights after epoch e (0: when training began)
    assert len(snapshots) == est.n_iter_ + 1
    assert_weights_equal(snapshots[0], initial_weights(est))
    assert_weights_equal(est.net_.module_.state_dict(), snapshots[est.n_iter_])


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_divergence_mid_training_keeps_epoch_one(Estimator, X_small):
    rec, snapshots = recorder()
    est = make_estimator(
        Estimator, max_epochs=5, early_stopping=False, callbacks=[BlowUpWeights(epoch=2), rec]
    )
    with pytest.warns(ConvergenceWarning, match="in epoch 2.*finite weights of epoch 1"):
        est.fit(X_small)
    assert est.n_iter_ == 1
    assert len(est.loss_curve_) == 1
    assert len(est.history_) == 1
    assert_weights_equal(est.net_.module_.state_dict(), snapshots[1])
    assert_usable(est, X_small)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_divergence_mid_training_with_early_stopping(Estimator, X_small):
    rec, snapshots = recorder()
    est = make_estimator(Estimator, max_epochs=5, callbacks=[BlowUpWeights(epoch=2), rec])
    with pytest.warns(ConvergenceWarning, match="diverged"):
        est.fit(X_small)
    assert est.n_iter_ == 1
    assert est.best_epoch_ in (0, 1)
    # the kept weights are the best of the finite epochs (0: the untrained model)
    assert_weights_equal(est.net_.module_.state_dict(), snapshots[est.best_epoch_])
    assert_usable(est, X_small)


# ------------------------------------------------------------- interruption
@pytest.mark.parametrize("early_stopping", [True, False])
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_keyboard_interrupt_keeps_completed_epochs(Estimator, early_stopping, X_small):
    est = make_estimator(
        Estimator, max_epochs=5, early_stopping=early_stopping, callbacks=[InterruptAt(2)]
    )
    with warnings.catch_warnings():
        # an interrupt is not a divergence: no ConvergenceWarning, no exception
        warnings.simplefilter("error", ConvergenceWarning)
        est.fit(X_small)
    assert est.n_iter_ == 1
    assert len(est.loss_curve_) == 1
    assert len(est.history_) == 1
    assert est.best_epoch_ <= est.n_iter_
    assert_usable(est, X_small)

    est.set_params(warm_start=True, callbacks=None).fit(X_small)
    assert est.n_iter_ > 1
    assert len(est.loss_curve_) == est.n_iter_
    assert_usable(est, X_small)


# ------------------------------------------------------------ out of memory
def _oom(*args, **kwargs):
    raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_out_of_memory_in_training_names_batch_size(Estimator, X_small, monkeypatch):
    monkeypatch.setattr(AutoencoderNet, "train_step", _oom)
    est = make_estimator(Estimator)
    with pytest.raises(torch.cuda.OutOfMemoryError, match="batch_size=32") as info:
        est.fit(X_small)
    assert "Tried to allocate 2.00 GiB" in str(info.value)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_out_of_memory_in_training_leaves_estimator_not_fitted(Estimator, X_small, monkeypatch):
    # like any other fit that fails half-way (see test_failed_fit_leaves_estimator_not_fitted)
    monkeypatch.setattr(AutoencoderNet, "train_step", _oom)
    est = make_estimator(Estimator)
    with pytest.raises(torch.cuda.OutOfMemoryError):
        est.fit(X_small)
    with pytest.raises(NotFittedError):
        est.transform(X_small)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_out_of_memory_in_partial_fit_names_batch_size(Estimator, X_small, monkeypatch):
    est = make_estimator(Estimator).fit(X_small)
    monkeypatch.setattr(AutoencoderNet, "train_step", _oom)
    with pytest.raises(torch.cuda.OutOfMemoryError, match="batch_size=32"):
        est.partial_fit(X_small)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_out_of_memory_at_inference_names_inference_batch_size(Estimator, X_small, monkeypatch):
    est = make_estimator(Estimator, inference_batch_size=25).fit(X_small)
    monkeypatch.setattr(est.net_.module_, "encode", _oom)
    with pytest.raises(torch.cuda.OutOfMemoryError, match="inference_batch_size=25") as info:
        est.transform(X_small)
    assert "Tried to allocate 2.00 GiB" in str(info.value)
    # the model itself is untouched
    monkeypatch.undo()
    assert np.all(np.isfinite(est.transform(X_small)))


class _TorchWithoutRoom:
    """``torch`` whose ``as_tensor`` runs out of device memory."""

    def __getattr__(self, name):
        return getattr(torch, name)

    as_tensor = staticmethod(_oom)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_out_of_memory_moving_data_suggests_memmap(Estimator, X_small, monkeypatch):
    monkeypatch.setattr(_data, "torch", _TorchWithoutRoom())
    est = make_estimator(Estimator)
    with pytest.raises(torch.cuda.OutOfMemoryError, match=r"60 x 5 float32.*memmap") as info:
        est.fit(X_small)
    assert "batch_size=32" in str(info.value)


# --------------------------------------------------------------- overflow
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_huge_inputs_raise_or_stay_finite(Estimator, X_small):
    est = make_estimator(Estimator).fit(X_small)
    X_huge = (X_small * 1e30).astype(np.float32)
    for method in (est.transform, est.reconstruct, est.score_samples):
        try:
            out = method(X_huge)
        except ValueError as exc:
            assert "non-finite" in str(exc)
        else:
            assert np.all(np.isfinite(out))
    codes = est.transform(X_small) * np.float32(1e30)
    try:
        out = est.inverse_transform(codes)
    except ValueError as exc:
        assert "non-finite" in str(exc)
    else:
        assert np.all(np.isfinite(out))


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_interrupt_without_early_stopping_keeps_last_complete_epoch(Estimator, X_small):
    # the weights must match the history: those of epoch 1, not the mid-epoch-2 ones
    rec, snapshots = recorder()
    est = make_estimator(
        Estimator, max_epochs=5, early_stopping=False, callbacks=[rec, InterruptAt(2)]
    ).fit(X_small)
    assert est.n_iter_ == 1
    assert_weights_equal(est.net_.module_.state_dict(), snapshots[1])


class FailOnceAt(Callback):
    """Raises ``RuntimeError`` after the first training batch of epoch ``epoch``, once
    per process (a transient fault: the next fit runs normally)."""

    failed = {}

    def __init__(self, key, epoch=2):
        self.key, self.epoch = key, epoch

    def on_batch_end(self, net, training=False, **kwargs):
        if training and len(net.history) == self.epoch and not self.failed.get(self.key):
            self.failed[self.key] = True
            raise RuntimeError("transient fault")


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_a_failed_warm_start_leaves_a_model_that_trains_on(Estimator, X_small):
    est = make_estimator(Estimator, max_epochs=2, early_stopping=False).fit(X_small)
    before = copy.deepcopy(est.net_.module_.state_dict())
    est.set_params(warm_start=True, callbacks=[FailOnceAt(next(_keys), epoch=3)])
    with pytest.raises(RuntimeError, match="transient fault"):
        est.fit(X_small)
    # the unfinished epoch 3 is gone from the history, and its partial step with it
    assert len(est.net_.history) == 2
    assert_weights_equal(est.net_.module_.state_dict(), before)
    est.fit(X_small)  # the fault was transient: training goes on
    assert est.n_iter_ == 4 and np.all(np.isfinite(est.loss_curve_))
    est.partial_fit(X_small)
    assert est.n_iter_ == 5
    assert_usable(est, X_small)


# ------------------------------------------------------------ atomic fits
def _state(est):
    """Everything a failed fit must leave as it was: attributes, weights, history."""
    attributes = {k: v for k, v in vars(est).items() if k != "net_"}
    if not hasattr(est, "net_"):
        return attributes, None, None
    weights = copy.deepcopy(est.net_.module_.state_dict())
    return attributes, weights, copy.deepcopy(list(est.net_.history))


def assert_state_equal(est, state, X):
    attributes, weights, history = state
    now = {k: v for k, v in vars(est).items() if k != "net_"}
    assert now.keys() == attributes.keys()
    for name, value in attributes.items():
        assert now[name] is value, name  # the very objects the estimator held before
    if weights is None:
        with pytest.raises(NotFittedError):
            est.transform(X)
        return
    assert_weights_equal(est.net_.module_.state_dict(), weights)
    assert list(est.net_.history) == history
    assert est.n_iter_ == len(est.net_.history) == len(est.loss_curve_)


class InterruptOnTrainBegin(Callback):
    """A Ctrl-C while the net is being set up (before the first epoch)."""

    def initialize(self):
        raise KeyboardInterrupt


def _failing_setups():
    """(parameters, exception) that make a refit fail while its net is set up."""
    return [
        (dict(optimizer=torch.optim.LBFGS, weight_decay=0.1), TypeError),
        (dict(callbacks=[42]), TypeError),
        (dict(callbacks=[InterruptOnTrainBegin()]), KeyboardInterrupt),
    ]


@pytest.mark.parametrize("params, error", _failing_setups())
@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("fitted", [False, True])
def test_a_fit_failing_in_setup_leaves_the_estimator_as_it_was(
    Estimator, fitted, params, error, X_small
):
    est = make_estimator(Estimator)
    if fitted:
        est.fit(X_small)
    est.set_params(**params)
    state = _state(est)
    with pytest.raises(error):
        est.fit(X_small * 3 + 7)  # other data: other scaling, had it been kept
    assert_state_equal(est, state, X_small)


# (a warm start keeps the fitted optimizer, so a new one cannot make it fail)
@pytest.mark.parametrize("params, error", _failing_setups()[1:])
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_a_warm_start_failing_in_setup_leaves_the_estimator_as_it_was(
    Estimator, params, error, X_small
):
    est = make_estimator(Estimator, warm_start=True).fit(X_small)
    est.set_params(**params)
    state = _state(est)
    with pytest.raises(error):
        est.fit(X_small)
    assert_state_equal(est, state, X_small)
    est.set_params(optimizer="adamw", callbacks=None, weight_decay=None)
    est.fit(X_small)  # and it trains on
    assert est.n_iter_ == 2 * FAST_EPOCHS


@pytest.mark.parametrize("method, failing_epoch", [("fit", 3), ("partial_fit", 1)])
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_a_warm_start_failing_in_training_keeps_history_and_weights_in_step(
    Estimator, method, failing_epoch, X_small
):
    est = make_estimator(Estimator, early_stopping=False, warm_start=True).fit(X_small)
    fault = FailOnceAt(next(_keys), epoch=FAST_EPOCHS + failing_epoch)
    est.set_params(callbacks=[fault])
    state = _state(est)
    with pytest.raises(RuntimeError, match="transient fault"):
        getattr(est, method)(X_small)
    assert_state_equal(est, state, X_small)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_out_of_memory_while_setting_up_the_network_gives_advice(
    Estimator, X_small, monkeypatch
):
    monkeypatch.setattr(AutoencoderNet, "initialize_module", _oom)
    est = make_estimator(Estimator)
    with pytest.raises(torch.cuda.OutOfMemoryError, match="setting up the network"):
        est.fit(X_small)
    assert not hasattr(est, "net_") and not hasattr(est, "mean_")
