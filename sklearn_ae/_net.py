"""The training engine: a skorch ``NeuralNet`` fed by tensor slices.

Nothing here is scikit-learn facing; the estimators own a fitted instance as ``net_``.
"""

import copy

import torch
from skorch import NeuralNet
from skorch.callbacks import EarlyStopping

from .losses import reconstruction_loss


class TensorData:
    """Inputs and targets kept as whole tensors (on the training device).

    skorch treats any object with ``__len__`` and ``__getitem__`` as a dataset; our
    iterator slices contiguous blocks instead of gathering sample by sample.
    """

    def __init__(self, X, y):
        self.X = X
        self.y = y

    def __len__(self):
        return len(self.X)

    def __getitem__(self, idx):
        return self.X[idx], self.y[idx]


class TensorBatches:
    """Re-iterable minibatches sliced from a :class:`TensorData`.

    skorch builds the iterator once per ``fit`` and loops over it every epoch, so the
    permutation is drawn in ``__iter__`` (from torch's RNG, which the estimator forks and
    seeds), giving a fresh shuffle per epoch.
    """

    def __init__(self, data, batch_size, shuffle):
        self.data = data
        self.batch_size = batch_size
        self.shuffle = shuffle

    def __len__(self):
        return -(-len(self.data) // self.batch_size)

    def __iter__(self):
        X, y = self.data.X, self.data.y
        n = len(X)
        if self.shuffle:
            perm = torch.randperm(n).to(X.device)
            # autoencoders usually train towards their own input: gather it only once
            X, y = (X[perm], None) if y is X else (X[perm], y[perm])
            y = X if y is None else y
        for start in range(0, n, self.batch_size):
            yield X[start : start + self.batch_size], y[start : start + self.batch_size]


class IndexSplit:
    """A skorch ``train_split`` that holds out fixed row indices."""

    def __init__(self, valid_idx):
        self.valid_idx = valid_idx

    def __call__(self, dataset, y=None):
        n = len(dataset)
        mask = torch.ones(n, dtype=torch.bool)
        mask[torch.as_tensor(self.valid_idx, dtype=torch.long)] = False
        train = mask.nonzero().squeeze(1).to(dataset.X.device)
        valid = (~mask).nonzero().squeeze(1).to(dataset.X.device)
        return (
            TensorData(dataset.X[train], dataset.y[train]),
            TensorData(dataset.X[valid], dataset.y[valid]),
        )


class EarlyStoppingFromStart(EarlyStopping):
    """skorch's ``EarlyStopping`` that also counts the untrained model as a candidate.

    A PCA-initialised autoencoder already sits at the PCA solution before its first step;
    scoring that state on the validation data means ``load_best`` can fall back to it, so
    training never ends worse than where it began (on validation data).
    """

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        super().on_train_begin(net, X=X, y=y, **kwargs)
        if X is None or not net.train_split:
            return
        _, dataset_valid = net.get_split_datasets(X, y)
        if dataset_valid is None or len(dataset_valid) == 0:
            return
        score = net.evaluate_loss(dataset_valid)
        self.dynamic_threshold_ = self._calc_new_threshold(score)
        # the epoch whose weights the module holds now: 0 before any training
        self.best_epoch_ = len(net.history)
        if self.load_best:
            self.best_model_weights_ = copy.deepcopy(net.module_.state_dict())
        net.initial_valid_loss_ = score


class AutoencoderNet(NeuralNet):
    """skorch net whose module returns ``(reconstruction, codes, ...)``.

    Parameters beyond skorch's
    --------------------------
    loss : {"mse", "bce"}
        Reconstruction loss; ``"bce"`` expects the module to output logits.
    """

    def __init__(self, module, *args, loss="mse", **kwargs):
        super().__init__(module, *args, **kwargs)
        self.loss = loss

    def get_dataset(self, X, y=None):
        if isinstance(X, TensorData):
            return X
        return TensorData(X, X if y is None else y)

    def get_iterator(self, dataset, training=False):
        batch_size = self.batch_size if self.batch_size > 0 else len(dataset)
        return TensorBatches(dataset, batch_size, shuffle=training)

    def penalty(self, y_pred, training):
        """Extra terms of the objective (regularisers); none by default."""
        return 0.0

    def get_loss(self, y_pred, y_true, X=None, training=False):
        recon = y_pred[0] if isinstance(y_pred, tuple) else y_pred
        loss = reconstruction_loss(self.loss, recon, y_true, reduction="mean")
        return loss + self.penalty(y_pred, training)

    def evaluate_loss(self, dataset):
        """Mean validation-mode loss over ``dataset`` (weighted by batch size)."""
        total, count = 0.0, 0
        for batch in self.get_iterator(dataset, training=False):
            step = self.validation_step(batch)
            total += step["loss"].item() * len(batch[0])
            count += len(batch[0])
        return total / count
