"""The skorch training engine (sklearn_ae/_net.py) and the early stopping callback."""

import copy
import pickle

import numpy as np
import pytest
import torch

from sklearn_ae._callbacks import EarlyStoppingFromStart
from sklearn_ae._data import TailSplit, TensorData
from sklearn_ae._net import AutoencoderNet
from sklearn_ae.nn import build_network


@pytest.fixture
def seeded():
    with torch.random.fork_rng():
        torch.manual_seed(0)
        yield

# -------------------------------------------------------------- AutoencoderNet
def _net(module=None, **params):
    if module is None:
        with torch.random.fork_rng():
            torch.manual_seed(0)
            module = build_network(3, 2, [8], "tanh")
    defaults = dict(
        criterion=torch.nn.MSELoss,
        optimizer=torch.optim.SGD,
        lr=1e-2,
        max_epochs=3,
        batch_size=8,
        train_split=None,
        verbose=0,
    )
    return AutoencoderNet(module, **{**defaults, **params})


def _train_data(n=40, seed=0):
    rng = np.random.RandomState(seed)
    X = torch.as_tensor(rng.randn(n, 3), dtype=torch.float32)
    return TensorData(X, X)


def test_net_trains_on_tensor_data(seeded):
    net = _net(max_epochs=4).fit(_train_data())
    assert len(net.history) == 4
    losses = net.history[:, "train_loss"]
    assert losses[-1] < losses[0]


def test_get_dataset_uses_inputs_as_targets():
    net = _net()
    X = torch.ones(4, 3)
    data = net.get_dataset(X)
    assert data.X is X and data.y is X
    given = _train_data()
    assert net.get_dataset(given) is given


@pytest.mark.parametrize("loss", ["mse", "bce"])
def test_get_loss_is_mean_reconstruction_loss(loss):
    net = _net(loss=loss)
    recon = torch.tensor([[0.5, -1.0, 2.0], [0.0, 0.0, 1.0]])
    target = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])
    codes = torch.zeros(2, 2)
    if loss == "mse":
        expected = torch.nn.functional.mse_loss(recon, target)
    else:
        expected = torch.nn.functional.binary_cross_entropy_with_logits(recon, target)
    assert torch.allclose(net.get_loss((recon, codes), target), expected)
    assert torch.allclose(net.get_loss(recon, target), expected)  # bare tensors too


def test_evaluate_loss_weights_uneven_batches():
    net = _net(batch_size=7).initialize()
    data = _train_data(n=10)  # batches of 7 and 3
    with torch.no_grad():
        recon, _ = net.module_(data.X)
    expected = torch.nn.functional.mse_loss(recon, data.X).item()
    assert net.evaluate_loss(data) == pytest.approx(expected, rel=1e-5)


# ----------------------------------------------------- EarlyStoppingFromStart
def _early_stopping_net(lr, max_epochs=10, patience=3):
    valid_idx = np.arange(30, 40)
    return _net(
        lr=lr,
        max_epochs=max_epochs,
        train_split=TailSplit(valid_idx),
        callbacks=[
            (
                "early_stopping",
                EarlyStoppingFromStart(monitor="valid_loss", patience=patience, load_best=True),
            )
        ],
    )


def test_early_stopping_restores_initial_weights_when_nothing_improves(seeded):
    net = _early_stopping_net(lr=1e3).initialize()  # every SGD step overshoots
    initial = copy.deepcopy(net.module_.state_dict())
    data = _train_data()
    with torch.no_grad():
        initial_valid_loss = net.evaluate_loss(TailSplit(np.arange(30, 40))(data)[1])
    net.partial_fit(data)

    stopper = dict(net.callbacks_)["early_stopping"]
    assert stopper.best_epoch_ == 0
    assert len(net.history) == 3  # stopped after `patience` epochs without improvement
    assert min(net.history[:, "valid_loss"]) > initial_valid_loss
    for name, value in net.module_.state_dict().items():
        assert torch.equal(value, initial[name]), name


def test_early_stopping_keeps_trained_weights_when_training_helps(seeded):
    net = _early_stopping_net(lr=0.1, max_epochs=5, patience=5).initialize()
    initial = copy.deepcopy(net.module_.state_dict())
    net.partial_fit(_train_data())
    stopper = dict(net.callbacks_)["early_stopping"]
    valid = net.history[:, "valid_loss"]
    assert stopper.best_epoch_ == int(np.argmin(valid)) + 1
    assert stopper.best_epoch_ > 0
    assert any(not torch.equal(v, initial[k]) for k, v in net.module_.state_dict().items())


def test_early_stopping_without_validation_data_behaves_like_skorch(seeded):
    # no train_split: nothing to score, so the callback must not fail before training
    net = _net(callbacks=[("es", EarlyStoppingFromStart(monitor="train_loss", patience=2))])
    net.fit(_train_data())
    assert len(net.history) == 3


class ConstrainedNet(AutoencoderNet):
    """An AutoencoderNet with one constraint score, ``broken``. On the validation rows: 1 in
    the epochs listed in ``broken_epochs``, 0 in the others and at the start. On the
    training rows (told apart by their number): 1 once the weights have left their initial
    values if ``broken_on_train``, else 0."""

    def __init__(self, *args, broken_epochs=(), broken_on_train=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.broken_epochs = broken_epochs
        self.broken_on_train = broken_on_train

    def initialize_module(self):
        super().initialize_module()
        self.initial_state_ = copy.deepcopy(self.module_.state_dict())
        return self

    def moved(self):
        state = self.module_.state_dict()
        return any(not torch.equal(v, self.initial_state_[k]) for k, v in state.items())

    def constraint_scores(self, dataset):
        if len(dataset) == 10:  # the validation rows
            return {"broken": float(len(self.history) in self.broken_epochs)}
        return {"broken": float(self.broken_on_train and self.moved())}


def _constrained_net(patience=5, lr=0.1, **params):
    return ConstrainedNet(
        _net().module,
        criterion=torch.nn.MSELoss,
        optimizer=torch.optim.SGD,
        lr=lr,
        max_epochs=5,
        batch_size=8,
        verbose=0,
        train_split=TailSplit(np.arange(30, 40)),
        callbacks=[
            (
                "early_stopping",
                EarlyStoppingFromStart(monitor="valid_loss", patience=patience, load_best=True),
            )
        ],
        **params,
    ).initialize()


def test_early_stopping_keeps_the_best_epoch_that_meets_the_constraints(seeded):
    # the loss falls at every epoch (see the test above); the last epoch breaks the
    # constraint on the validation rows, so the one before is kept
    net = _constrained_net(broken_epochs=(3, 5))
    net.partial_fit(_train_data())
    stopper = dict(net.callbacks_)["early_stopping"]
    assert stopper.start_constraints_ == {"broken": 0.0}
    assert list(net.history[:, "valid_broken"]) == [0, 0, 1, 0, 1]
    assert int(np.argmin(net.history[:, "valid_loss"])) + 1 == 5
    assert stopper.best_epoch_ == 4


@pytest.mark.parametrize("lr", [0.1, 1e3])
def test_early_stopping_patience_follows_the_loss_not_the_constraints(seeded, lr):
    # every trained epoch breaks the constraint: the start is kept. With lr=0.1 the loss
    # falls at every epoch, so training runs to max_epochs (5); with lr=1e3 every step
    # overshoots, and patience (3) ends the fit
    net = _constrained_net(lr=lr, patience=3, broken_epochs=(1, 2, 3, 4, 5))
    net.partial_fit(_train_data())
    stopper = dict(net.callbacks_)["early_stopping"]
    # (the module holds the start again)
    start_loss = net.evaluate_loss(TailSplit(np.arange(30, 40))(_train_data())[1])
    assert (min(net.history[:, "valid_loss"]) < start_loss) == (lr == 0.1)
    assert len(net.history) == (5 if lr == 0.1 else 3)
    assert stopper.best_epoch_ == 0 and not net.moved()


@pytest.mark.parametrize("broken_on_train", [True, False])
def test_early_stopping_checks_the_kept_epoch_on_the_training_rows(seeded, broken_on_train):
    # met on the validation rows at every epoch: the best epoch is chosen by the loss; it
    # is kept only if it meets the constraint on the training rows as well
    net = _constrained_net(broken_on_train=broken_on_train)
    net.partial_fit(_train_data())
    stopper = dict(net.callbacks_)["early_stopping"]
    if broken_on_train:
        assert stopper.best_epoch_ == 0 and not net.moved()
    else:
        assert stopper.best_epoch_ == int(np.argmin(net.history[:, "valid_loss"])) + 1 > 0
        assert net.moved()
    assert pickle.loads(pickle.dumps(stopper)).start_model_weights_ is None
