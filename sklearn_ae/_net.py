"""The training engine: a skorch ``NeuralNet`` fed by tensor slices.

Nothing here is scikit-learn facing; the estimators own a fitted instance as ``net_``.
"""

import contextlib

import torch
from skorch import NeuralNet

from . import _parallel
from ._callbacks import PrintLog
from ._data import ArrayData, TensorBatches, TensorData
from .losses import (
    kl_sparsity,
    l1_activity,
    reconstruction_loss,
    reconstruction_loss_per_sample,
    ssim_loss,
    ssim_loss_per_sample,
)


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
    precision : {"float32", "bfloat16", "float16"}
        Training precision. ``"bfloat16"`` and ``"float16"`` run the forward pass under
        ``torch.autocast`` (weights and optimizer state stay float32, losses are computed
        in float32); ``"float16"`` also scales the loss (``torch.amp.GradScaler``) so small
        gradients do not underflow.
    random_seed : int
        Seed of the fit's own random streams (``rng_`` on the CPU for shuffling,
        ``device_rng_`` on the training device for the members' draws), which exist only
        while training.
    train_compiled : bool
        Run the training forward passes through ``torch.compile(module_)`` (built at the
        start of each training loop; evaluation and inference use the plain module).
    data_parallel : bool
        Train as one process of a ``torch.distributed`` group (see
        :mod:`sklearn_ae._parallel`): the training forward passes run through
        DistributedDataParallel, which averages the gradients over the processes; each
        trains on its part of every batch of the shared shuffle; the losses recorded (and
        judged by early stopping and the non-finite guard) are means over the processes,
        so all take the same decisions.
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
        precision="float32",
        train_compiled=False,
        random_seed=0,
        data_parallel=False,
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
        self.precision = precision
        self.train_compiled = train_compiled
        self.random_seed = random_seed
        self.data_parallel = data_parallel

    def _autocast(self):
        if self.precision == "float32":
            return contextlib.nullcontext()
        device_type = torch.device(self.device).type
        return torch.autocast(device_type, dtype=getattr(torch, self.precision))

    def infer(self, x, **fit_params):
        # only training batches run in the reduced precision: validation, and with it
        # early stopping's comparison with the PCA start, is float32, as inference is
        # (features a thousand times apart lose their small ones in one bfloat16 GEMM)
        training = self.module_.training
        forward = getattr(self, "_training_forward", None)
        with self._autocast() if training else contextlib.nullcontext():
            if forward is not None and training:
                out = forward[0](x, **fit_params)
            else:
                out = super().infer(x, **fit_params)
        if self.precision == "float32" or not training:
            return out
        # losses (and anything reading the outputs) work in float32
        if isinstance(out, tuple):
            return tuple(_to_float32(t) for t in out)
        return _to_float32(out)

    def partial_fit(self, X, y=None, classes=None, **fit_params):
        # the fit's own random streams (shuffling here; noise and latent draws in the
        # members' nets), seeded from random_seed: torch's global RNG is never drawn from,
        # so fits in parallel threads neither share nor disturb any stream. They live only
        # while training, like the gradient scaler.
        # In data-parallel training every process shuffles alike (rng_) but draws its
        # own noise for its own rows (device_rng_, seeded by rank).
        self.rng_ = torch.Generator().manual_seed(self.random_seed)
        self.device_rng_ = self.rng_
        if torch.device(self.device).type != "cpu" or self.data_parallel:
            draw_seed = self.random_seed + 7919 * _parallel.rank()
            self.device_rng_ = torch.Generator(device=self.device).manual_seed(draw_seed)
        try:
            return super().partial_fit(X, y, classes, **fit_params)
        finally:
            del self.rng_, self.device_rng_

    @contextlib.contextmanager
    def rng_unchanged(self):
        """Draws made inside leave the fit's random streams where they were."""
        generators = {id(g): g for g in (self.rng_, self.device_rng_)}.values()
        states = [(g, g.get_state()) for g in generators]
        try:
            yield
        finally:
            for g, state in states:
                g.set_state(state)

    def fit_loop(self, X, y=None, epochs=None, **fit_params):
        # the gradient scaler lives only while training (it holds device state that a
        # pickle must not carry)
        self.grad_scaler_ = None
        if self.precision == "float16":
            self.grad_scaler_ = torch.amp.GradScaler(torch.device(self.device).type)
        # likewise the training forward pass through DDP and / or compiled: it shares the
        # module's parameters, so the state dict, checkpoints and pickles stay those of
        # the plain module (kept in a tuple: skorch guards attributes that hold modules)
        forward = self.module_
        if self.data_parallel:
            forward = _parallel.ddp(forward, self.device)
        if self.train_compiled:
            forward = torch.compile(forward)
        self._training_forward = None if forward is self.module_ else (forward,)
        try:
            return super().fit_loop(X, y, epochs=epochs, **fit_params)
        finally:
            del self.grad_scaler_, self._training_forward

    def train_step_single(self, batch, **fit_params):
        Xi, yi = batch
        self._set_training(True)
        y_pred = self.infer(Xi, **fit_params)
        loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        step = {"loss": loss, "y_pred": y_pred}
        if self.data_parallel:
            # the mean over the processes, exchanged while the backward pass runs (a
            # blocking exchange here would add a wait for the slowest process to every step)
            step["mean_loss"] = _parallel.start_mean(loss)
        scaler = getattr(self, "grad_scaler_", None)
        (loss if scaler is None else scaler.scale(loss)).backward()
        return step

    def train_step(self, batch, **fit_params):
        step = self._train_step(batch, **fit_params)
        if self.data_parallel:
            step["loss"] = step.pop("mean_loss")()
        return step

    def validation_step(self, batch, **fit_params):
        step = super().validation_step(batch, **fit_params)
        if self.data_parallel:
            step["loss"] = _parallel.start_mean(step["loss"])()
        return step

    def _train_step(self, batch, **fit_params):
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

    def get_default_callbacks(self):
        return [
            (name, PrintLog() if name == "print_log" else callback)
            for name, callback in super().get_default_callbacks()
        ]

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
        generator = self.rng_ if training else None
        shard = _parallel.shard() if training and self.data_parallel else None
        return TensorBatches(dataset, batch_size, training, generator, shard)

    def row_penalty(self, y_pred, X):
        """Extra terms of the objective (regularisers) for inputs ``X``: one value per row,
        or one for the batch where a term is a statistic of the batch (the KL sparsity
        penalty). The code sparsity penalty, if any; members add theirs by extending this
        hook. Applied in validation too, so early stopping judges the objective being
        trained, and in the floor's per-row losses."""
        if self.sparsity is None or not self.sparsity_weight or not isinstance(y_pred, tuple):
            return 0.0
        codes = y_pred[1] / self.code_unit
        if self.sparsity == "l1":
            return self.sparsity_weight * l1_activity(codes)
        return self.sparsity_weight * kl_sparsity(codes, self.sparsity_target)

    def penalty(self, y_pred, X, training):
        """The mean of :meth:`row_penalty` over the batch."""
        extra = self.row_penalty(y_pred, X)
        return extra.mean() if isinstance(extra, torch.Tensor) else extra

    def get_loss(self, y_pred, y_true, X=None, training=False):
        recon = y_pred[0] if isinstance(y_pred, tuple) else y_pred
        if self.loss == "ssim":
            loss = ssim_loss(recon, y_true, self.image_shape, self.ssim_range, self.ssim_offset)
        else:
            loss = reconstruction_loss(self.loss, recon, y_true)
        return loss + self.penalty(y_pred, X, training)

    def constraint_scores(self, dataset):
        """Scores of the module on ``dataset``, by name, that early stopping must keep at
        or below the untrained start's: on the validation rows at every epoch, on the
        training rows for the kept epoch (see
        :class:`~sklearn_ae._callbacks.EarlyStoppingFromStart`). Recorded in the history
        after every validation pass as ``valid_<name>``. None here; members add theirs by
        extending this hook."""
        return {}

    def row_losses(self, dataset):
        """Each row's objective on ``dataset`` (reconstruction loss plus
        :meth:`row_penalty`; a float64 numpy array), in float32 evaluation mode: what the
        floor compares with the untrained start's, row by row (see
        :class:`~sklearn_ae._callbacks.EarlyStoppingFromStart`). Members whose floor is
        another quantity override :meth:`_batch_row_losses`."""
        self.module_.eval()
        losses = []
        with torch.no_grad():
            for x, target in self.get_iterator(dataset, training=False):
                losses.append(self._batch_row_losses(x, target).double().cpu())
        return torch.cat(losses).numpy()

    def _batch_row_losses(self, x, target):
        y_pred = self.module_(x)
        recon = y_pred[0].float()
        if self.loss == "ssim":
            rows = ssim_loss_per_sample(recon, target, self.image_shape, self.ssim_range,
                                        self.ssim_offset)
        else:
            rows = reconstruction_loss_per_sample(self.loss, recon, target)
        return rows + self.row_penalty(y_pred, x)

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        super().run_single_epoch(iterator, training, prefix, step_fn, **fit_params)
        if iterator is not None and not training:
            for name, value in self.constraint_scores(iterator.data).items():
                self.history.record(f"{prefix}_{name}", value)

    def evaluate_loss(self, dataset):
        """Mean validation-mode loss over ``dataset`` (weighted by batch size)."""
        total, count = 0.0, 0
        for batch in self.get_iterator(dataset, training=False):
            step = self.validation_step(batch)
            total += step["loss"].item() * len(batch[0])
            count += len(batch[0])
        return total / count


def _to_float32(t):
    return t.float() if isinstance(t, torch.Tensor) and t.is_floating_point() else t
