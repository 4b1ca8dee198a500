"""The training engine: a skorch ``NeuralNet`` fed by tensor slices.

Nothing here is scikit-learn facing; the estimators own a fitted instance as ``net_``.
"""

import contextlib
import copy
import math

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback, EarlyStopping

from ._device import fork_rng_devices
from .losses import (
    kl_sparsity,
    kl_standard_normal,
    l1_activity,
    log_likelihood,
    reconstruction_loss,
    ssim_loss,
)
from .noise import corrupt


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


class ArrayData:
    """Rows of a numpy array (a memmap, typically) read, scaled and moved to the device one
    batch at a time, so the array is never copied whole.

    Parameters
    ----------
    array : ndarray of shape (n_samples, n_features)
    scale : callable
        Maps raw rows to the network's float32 inputs.
    indices : ndarray of int or None
        The rows this dataset covers (None: all).
    device : str
    raw_targets : bool
        Targets are the raw rows as float32 (``loss="bce"``) instead of the inputs.
    """

    def __init__(self, array, scale, indices=None, device="cpu", raw_targets=False):
        self.array = array
        self.scale = scale
        self.indices = np.arange(len(array)) if indices is None else np.asarray(indices)
        self.device = device
        self.raw_targets = raw_targets

    def __len__(self):
        return len(self.indices)

    def subset(self, positions):
        return ArrayData(
            self.array, self.scale, self.indices[positions], self.device, self.raw_targets
        )

    def rows(self, positions):
        """Inputs and targets of the rows at ``positions`` (into this dataset) as tensors."""
        # sorted reads are sequential in the file; the order within a batch does not
        # matter to a mean loss
        raw = np.asarray(self.array[np.sort(self.indices[positions])])
        inputs = torch.as_tensor(self.scale(raw), device=self.device)
        if self.raw_targets:
            return inputs, torch.as_tensor(raw, dtype=torch.float32, device=self.device)
        return inputs, inputs

    def load(self):
        """All rows as an in-memory :class:`TensorData`."""
        return TensorData(*self.rows(np.arange(len(self))))


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
        if isinstance(self.data, ArrayData):
            yield from self._array_batches()
            return
        X, y = self.data.X, self.data.y
        n = len(X)
        if self.shuffle:
            perm = torch.randperm(n).to(X.device)
            # autoencoders usually train towards their own input: gather it only once
            X, y = (X[perm], None) if y is X else (X[perm], y[perm])
            y = X if y is None else y
        for start in range(0, n, self.batch_size):
            yield X[start : start + self.batch_size], y[start : start + self.batch_size]


    def _array_batches(self):
        n = len(self.data)
        order = torch.randperm(n).numpy() if self.shuffle else np.arange(n)
        for start in range(0, n, self.batch_size):
            yield self.data.rows(order[start : start + self.batch_size])


class IndexSplit:
    """A skorch ``train_split`` that holds out fixed row indices."""

    def __init__(self, valid_idx):
        self.valid_idx = valid_idx

    def __call__(self, dataset, y=None):
        n = len(dataset)
        if isinstance(dataset, ArrayData):
            # streamed data: the training rows stay on disk, the validation rows are read
            # once (they are scored every epoch)
            mask = np.ones(n, dtype=bool)
            mask[self.valid_idx] = False
            return dataset.subset(np.flatnonzero(mask)), dataset.subset(self.valid_idx).load()
        mask = torch.ones(n, dtype=torch.bool)
        mask[torch.as_tensor(self.valid_idx, dtype=torch.long)] = False
        train = mask.nonzero().squeeze(1).to(dataset.X.device)
        valid = (~mask).nonzero().squeeze(1).to(dataset.X.device)
        return (
            TensorData(dataset.X[train], dataset.y[train]),
            TensorData(dataset.X[valid], dataset.y[valid]),
        )


class TailSplit:
    """A skorch ``train_split`` that holds out the last ``len(valid_idx)`` rows, as views.

    The estimator puts the validation rows (``valid_idx``, row numbers in the caller's
    ``X``) last when it builds the training tensor, so neither part is copied.
    """

    def __init__(self, valid_idx):
        self.valid_idx = valid_idx

    def __call__(self, dataset, y=None):
        n_train = len(dataset) - len(self.valid_idx)
        return (
            TensorData(dataset.X[:n_train], dataset.y[:n_train]),
            TensorData(dataset.X[n_train:], dataset.y[n_train:]),
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


class StopOnNonFiniteLoss(Callback):
    """Stops training at the first non-finite loss and restores the last finite state.

    The module's and optimizer's state are copied when training begins and after every
    epoch whose weights are known to give finite losses: the epoch's validation loss, or,
    without validation, the loss of the epoch's last training batch recomputed with the
    epoch's final weights (a step can blow the weights up after the last loss was taken).
    A NaN or infinite loss puts the last copy back and ends training
    (``KeyboardInterrupt``, skorch's way to stop); ``stopped_`` then holds
    ``(epoch, "training" or "validation", value)`` and the diverged epoch's history row
    is to be dropped by the caller.
    """

    def on_train_begin(self, net, **kwargs):
        self.stopped_ = None
        self._last_batch = None
        self._save(net)

    def _save(self, net):
        # kept on the CPU: on a GPU, copies of Adam's state would triple the model's memory
        self.module_state_ = _cpu_copy(net.module_.state_dict())
        self.optimizer_state_ = _cpu_copy(net.optimizer_.state_dict())

    def restore(self, net):
        """Put the last saved module and optimizer state back."""
        net.module_.load_state_dict(self.module_state_)
        net.optimizer_.load_state_dict(self.optimizer_state_)

    def _stop(self, net, kind, value):
        self.restore(net)
        self.stopped_ = (len(net.history), kind, value)
        self._last_batch = None
        raise KeyboardInterrupt

    def on_batch_end(self, net, batch=None, training=False, **kwargs):
        key = "train_loss" if training else "valid_loss"
        value = net.history[-1, "batches", -1, key]
        if not math.isfinite(value):
            self._stop(net, "training" if training else "validation", value)
        if training:
            self._last_batch = batch

    def on_epoch_end(self, net, **kwargs):
        if "valid_loss" not in net.history[-1] and self._last_batch is not None:
            # forked RNG: the VAE draws z in this forward pass, and the check must not
            # shift the training draws
            with torch.random.fork_rng(devices=fork_rng_devices(str(net.device))):
                value = net.validation_step(self._last_batch)["loss"].item()
            if not math.isfinite(value):
                self._stop(net, "training", value)
        self._last_batch = None
        self._save(net)


class AutoencoderNet(NeuralNet):
    """skorch net whose module returns ``(reconstruction, codes, ...)``.

    Parameters beyond skorch's
    --------------------------
    loss : {"mse", "bce", "ssim"}
        Reconstruction loss; ``"bce"`` expects the module to output logits; ``"ssim"``
        needs ``image_shape`` and ``ssim_range`` (and ``ssim_offset``).
    image_shape : tuple (C, H, W) or None
        Shape of one image, for ``loss="ssim"``.
    ssim_range, ssim_offset : float, float or Tensor
        Data range and per-feature offset of the (scaled) data, see
        :func:`~sklearn_ae.losses.ssim_per_sample`.
    sparsity : {"l1", "kl"} or None
        Penalty on the codes (``y_pred[1]``), weighted by ``sparsity_weight``; ``"kl"``
        pulls each unit's mean ``sigmoid`` activation towards ``sparsity_target``.
    code_unit : float
        Codes are divided by this before the penalty (the PCA start emits codes in the
        data's original units).
    noise : {"gaussian", "masking", "salt_and_pepper"} or None
        Corruption of the inputs in training steps only (targets stay clean), at
        ``noise_level``; ``noise_low`` / ``noise_high`` / ``noise_fill`` (scalars or one value
        per feature) are passed to :func:`~sklearn_ae.noise.corrupt`.
    noise_seed : int or None
        Seed of the one fixed corruption of the validation rows, so that validation loss
        measures denoising with the same noise every epoch.
    precision : {"float32", "bfloat16", "float16"}
        Training precision. ``"bfloat16"`` and ``"float16"`` run the forward pass under
        ``torch.autocast`` (weights and optimizer state stay float32, losses are computed
        in float32); ``"float16"`` also scales the loss (``torch.amp.GradScaler``) so small
        gradients do not underflow.
    compile_module : bool
        Run the training forward passes through ``torch.compile(module_)`` (built at the
        start of each training loop; evaluation and inference use the plain module).
    """

    def __init__(
        self,
        module,
        *args,
        loss="mse",
        image_shape=None,
        ssim_range=1.0,
        ssim_offset=0.0,
        sparsity=None,
        sparsity_weight=0.0,
        sparsity_target=0.05,
        code_unit=1.0,
        noise=None,
        noise_level=0.0,
        noise_low=None,
        noise_high=None,
        noise_fill=0.0,
        noise_seed=None,
        precision="float32",
        compile_module=False,
        **kwargs,
    ):
        super().__init__(module, *args, **kwargs)
        self.loss = loss
        self.image_shape = image_shape
        self.ssim_range = ssim_range
        self.ssim_offset = ssim_offset
        self.sparsity = sparsity
        self.sparsity_weight = sparsity_weight
        self.sparsity_target = sparsity_target
        self.code_unit = code_unit
        self.noise = noise
        self.noise_level = noise_level
        self.noise_low = noise_low
        self.noise_high = noise_high
        self.noise_fill = noise_fill
        self.noise_seed = noise_seed
        self.precision = precision
        self.compile_module = compile_module

    def corrupt(self, X, generator=None):
        """``X`` corrupted by the configured noise (``X`` itself when there is none)."""
        if self.noise is None:
            return X
        return corrupt(
            self.noise, X, self.noise_level, low=self.noise_low, high=self.noise_high,
            fill=self.noise_fill, generator=generator,
        )

    def _autocast(self):
        if self.precision == "float32":
            return contextlib.nullcontext()
        device_type = torch.device(self.device).type
        return torch.autocast(device_type, dtype=getattr(torch, self.precision))

    def infer(self, x, **fit_params):
        compiled = getattr(self, "_compiled_forward", None)
        with self._autocast():
            if compiled is not None and self.module_.training:
                out = compiled[0](x, **fit_params)
            else:
                out = super().infer(x, **fit_params)
        if self.precision == "float32":
            return out
        # losses (and anything reading the outputs) work in float32
        if isinstance(out, tuple):
            return tuple(_to_float32(t) for t in out)
        return _to_float32(out)

    def fit_loop(self, X, y=None, epochs=None, **fit_params):
        # the gradient scaler lives only while training (it holds device state that a
        # pickle must not carry)
        self.grad_scaler_ = None
        if self.precision == "float16":
            self.grad_scaler_ = torch.amp.GradScaler(torch.device(self.device).type)
        # likewise the compiled forward pass: it shares the module's parameters, so the
        # state dict, checkpoints and pickles stay those of the plain module
        # (kept in a tuple: skorch guards attributes that hold modules)
        self._compiled_forward = (torch.compile(self.module_),) if self.compile_module else None
        try:
            return super().fit_loop(X, y, epochs=epochs, **fit_params)
        finally:
            del self.grad_scaler_, self._compiled_forward

    def train_step_single(self, batch, **fit_params):
        # fresh noise for every batch, drawn from torch's (forked, seeded) RNG; the target
        # half of the batch is left clean
        Xi, yi = batch
        Xi = self.corrupt(Xi)
        if getattr(self, "grad_scaler_", None) is None:
            return super().train_step_single((Xi, yi), **fit_params)
        self._set_training(True)
        y_pred = self.infer(Xi, **fit_params)
        loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        self.grad_scaler_.scale(loss).backward()
        return {"loss": loss, "y_pred": y_pred}

    def train_step(self, batch, **fit_params):
        scaler = getattr(self, "grad_scaler_", None)
        if scaler is None:
            return super().train_step(batch, **fit_params)
        # float16: GradScaler's step takes no closure; unscale before callbacks (gradient
        # clipping) see the gradients
        self._zero_grad_optimizer()
        step = self.train_step_single(batch, **fit_params)
        scaler.unscale_(self.optimizer_)
        self.notify(
            "on_grad_computed",
            named_parameters=list(self.get_all_learnable_params()),
            batch=batch,
            training=True,
        )
        scaler.step(self.optimizer_)
        scaler.update()
        return step

    def get_split_datasets(self, X, y=None, **fit_params):
        train, valid = super().get_split_datasets(X, y, **fit_params)
        if self.noise is not None and valid is not None and len(valid):
            # one fixed corruption of the validation rows (the same at every call, also the
            # one early stopping scores the untrained model on), from its own generator
            gen = torch.Generator(device=valid.X.device)
            gen.manual_seed(0 if self.noise_seed is None else int(self.noise_seed))
            valid = TensorData(self.corrupt(valid.X, generator=gen), valid.y)
        return train, valid

    def get_dataset(self, X, y=None):
        if isinstance(X, (TensorData, ArrayData)):
            return X
        return TensorData(X, X if y is None else y)

    def _set_training(self, training=True):
        # skorch switches every module's mode before every batch, walking the whole module
        # tree each time (~1% of an epoch on small networks); skip the walk when the
        # top-level modules already are in that mode (module.train/eval set it recursively)
        for name in self._modules + self._criteria:
            module = getattr(self, name + "_")
            if isinstance(module, torch.nn.Module) and module.training != training:
                super()._set_training(training)
                return

    def get_iterator(self, dataset, training=False):
        batch_size = self.batch_size if self.batch_size > 0 else len(dataset)
        return TensorBatches(dataset, batch_size, shuffle=training)

    def penalty(self, y_pred, training):
        """Extra terms of the objective (regularisers): the code sparsity penalty, if any.

        Applied in validation too, so early stopping judges the objective being trained.
        """
        if self.sparsity is None or not self.sparsity_weight or not isinstance(y_pred, tuple):
            return 0.0
        codes = y_pred[1] / self.code_unit
        if self.sparsity == "l1":
            return self.sparsity_weight * l1_activity(codes)
        return self.sparsity_weight * kl_sparsity(codes, self.sparsity_target)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        recon = y_pred[0] if isinstance(y_pred, tuple) else y_pred
        if self.loss == "ssim":
            loss = ssim_loss(recon, y_true, self.image_shape, self.ssim_range, self.ssim_offset)
        else:
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


def _cpu_copy(obj):
    """A copy of a (nested) state dict with every tensor on the CPU."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().to("cpu", copy=True)
    if isinstance(obj, dict):
        return {key: _cpu_copy(value) for key, value in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_cpu_copy(value) for value in obj)
    return copy.deepcopy(obj)


def _to_float32(t):
    return t.float() if isinstance(t, torch.Tensor) and t.is_floating_point() else t


class VAENet(AutoencoderNet):
    """skorch net for a variational autoencoder; the module returns
    ``(decoder_output, mu, logvar)``.

    The loss is the negative ELBO, ``-log p(x | z) + w * KL(q(z | x) || N(0, I))``, with one
    reparameterised draw of ``z``, divided by the number of features (so its size matches
    the other members' per-feature losses). Every forward pass of the net draws ``z``,
    validation included, so ``valid_loss`` is an unbiased estimate of the objective; the
    draws come from torch's RNG, which the estimator forks and seeds.

    Parameters beyond :class:`AutoencoderNet`'s
    --------------------------------------------
    beta : float
        Weight of the KL term (beta-VAE; 1 gives the ELBO).
    kl_warmup_epochs : int
        In training, the KL weight of epoch ``e`` (1-based, counted over the whole history,
        so a warm start does not warm up again) is ``beta * min(1, (e - 1) / kl_warmup_epochs)``.
        Validation always uses ``beta``: early stopping judges the real objective.
    """

    def __init__(self, module, *args, beta=1.0, kl_warmup_epochs=0, **kwargs):
        super().__init__(module, *args, **kwargs)
        self.beta = beta
        self.kl_warmup_epochs = kl_warmup_epochs

    def infer(self, x, **fit_params):
        return super().infer(x, sample=True, **fit_params)

    def kl_weight(self, training):
        if not training or not self.kl_warmup_epochs:
            return self.beta
        epoch = max(len(self.history), 1)
        return self.beta * min(1.0, (epoch - 1) / self.kl_warmup_epochs)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        output, mu, logvar = y_pred[:3]
        ll = log_likelihood(self.loss, output, y_true, self.module_.log_noise_var)
        kl = kl_standard_normal(mu, logvar)
        n_features = output[0].numel()
        loss = (self.kl_weight(training) * kl - ll).mean() / n_features
        return loss + self.penalty(y_pred, training)
