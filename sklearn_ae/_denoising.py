"""DenoisingAutoencoder: trained to rebuild clean data from corrupted copies."""

from numbers import Real

import torch

from ._base import _BaseAutoencoder
from ._compat import Interval, StrOptions
from ._data import TensorData
from ._net import AutoencoderNet
from ._restore import real
from .noise import NOISE_KINDS, corrupt

# The share of each training minibatch's rows left clean. A denoiser trained on corrupted
# rows only never sees a clean one, and on the MNIST benchmark it reconstructs clean rows
# worse than PCA at every epoch of a 200-epoch fit (30% masking: 1.05x to 1.8x PCA's
# clean validation loss), so early stopping, which keeps no model worse than the PCA start
# on clean rows, could keep nothing but that start. With half the rows clean the network
# learns both tasks (clean test error 0.68x PCA's, denoising 0.54x to 0.58x PCA's).
CLEAN_ROW_FRACTION = 0.5


class DenoisingNet(AutoencoderNet):
    """:class:`~sklearn_ae._net.AutoencoderNet` that corrupts its training inputs.

    Parameters beyond AutoencoderNet's
    ----------------------------------
    noise : {"gaussian", "masking", "salt_and_pepper"}
        Corruption of the inputs in training steps only (targets stay clean; a random
        ``CLEAN_ROW_FRACTION`` of each batch's rows stays uncorrupted), at
        ``noise_level``; ``noise_low`` / ``noise_high`` / ``noise_fill`` (scalars or one value
        per feature) are passed to :func:`~sklearn_ae.noise.corrupt`. Training noise comes
        from the fit's ``device_rng_``. The validation loss is the loss of denoising the
        validation rows, corrupted once and the same at every epoch (a generator seeded
        from ``random_seed``); the loss of reconstructing rows clean is a constraint of
        early stopping (on the validation rows, ``valid_clean_loss`` in the history).
    """

    def __init__(self, module, *args, noise="gaussian", noise_level=0.0, noise_low=None,
                 noise_high=None, noise_fill=0.0, **kwargs):
        super().__init__(module, *args, **kwargs)
        self.noise = noise
        self.noise_level = noise_level
        self.noise_low = noise_low
        self.noise_high = noise_high
        self.noise_fill = noise_fill

    def corrupt(self, X, generator=None):
        """``X`` corrupted by the configured noise."""
        return corrupt(
            self.noise, X, self.noise_level, low=self.noise_low, high=self.noise_high,
            fill=self.noise_fill, generator=generator,
        )

    def train_step_single(self, batch, **fit_params):
        # fresh noise and fresh clean rows for every batch; the targets are left clean
        Xi, yi = batch
        noisy = self.corrupt(Xi, generator=self.device_rng_)
        draw = torch.rand(len(Xi), 1, generator=self.device_rng_, device=Xi.device)
        inputs = torch.where(draw < CLEAN_ROW_FRACTION, Xi, noisy)
        return super().train_step_single((inputs, yi), **fit_params)

    def get_split_datasets(self, X, y=None, **fit_params):
        train, valid = super().get_split_datasets(X, y, **fit_params)
        if valid is not None and len(valid):
            # one fixed corruption of the validation rows: the same at every call (also
            # the one early stopping scores the untrained model on), from its own generator;
            # it needs them in memory (sparse ones too, dense)
            valid = valid if isinstance(valid, TensorData) else valid.load()
            gen = torch.Generator(device=valid.X.device).manual_seed(self.random_seed + 1)
            valid = CorruptedData(self.corrupt(valid.X, generator=gen), valid.y, valid.X)
        return train, valid

    def constraint_scores(self, dataset):
        # the loss of reconstructing the rows clean (the validation rows without their
        # corruption): early stopping keeps the best denoiser among the epochs that
        # rebuild clean data no worse than the start (the PCA start: no worse than PCA)
        dataset = _clean(dataset)
        return {**super().constraint_scores(dataset), "clean_loss": self.evaluate_loss(dataset)}

    def row_losses(self, dataset):
        # the floor protects the reconstruction of clean rows, as the constraint does
        return super().row_losses(_clean(dataset))


def _clean(dataset):
    """``dataset`` with its rows as they were before the validation corruption."""
    if isinstance(dataset, CorruptedData):
        return TensorData(dataset.clean_X, dataset.y)
    return dataset


class CorruptedData(TensorData):
    """A :class:`~sklearn_ae._data.TensorData` of corrupted inputs ``X`` and clean targets
    ``y`` that also keeps the clean inputs ``clean_X`` the corruption was applied to."""

    def __init__(self, X, y, clean_X):
        super().__init__(X, y)
        self.clean_X = clean_X


# noise_level=None resolves to these (see noise_level_): a gaussian std relative to the
# data's RMS, and fractions of corrupted entries for the other kinds
DEFAULT_NOISE_LEVELS = {"gaussian": 0.5, "masking": 0.3, "salt_and_pepper": 0.2}


class DenoisingAutoencoder(_BaseAutoencoder):
    """Denoising autoencoder: learns to reconstruct clean data from corrupted inputs.

    During training about half the rows of every minibatch (a fresh random choice) are
    corrupted with fresh noise, the targets staying clean, so the network cannot learn the
    identity and must learn the structure of the data; the other rows stay clean, so it
    also learns to reconstruct clean data. Corruption happens only in training:
    :meth:`transform`, :meth:`inverse_transform` and :meth:`denoise` are deterministic. To
    denoise data, pass the noisy rows to :meth:`denoise`; it returns the clean
    reconstruction in the original units.

    Everything else (architecture, PCA start, sparsity, losses, early stopping) is shared
    with :class:`~sklearn_ae.AutoencoderTransformer`. The validation loss
    (``validation_loss_curve_``) is that of reconstructing clean data from corrupted
    inputs; the training loss (``loss_curve_``) that of the half-corrupted minibatches.

    Parameters
    ----------
    n_components : int or float, default=2
        Size of the code. May exceed ``n_features`` (over-complete codes): the corruption
        keeps such codes from copying the input.
        A float between 0 and 1, as in :class:`~sklearn.decomposition.PCA`: the fewest
        codes whose PCA start explains at least that fraction of the training data's
        variance (the number chosen is ``n_components_``).
    noise : {"gaussian", "masking", "salt_and_pepper"}, default="gaussian"
        Kind of corruption applied to the training inputs:

        - ``"gaussian"``: add ``N(0, (noise_level * scale_)^2)``, i.e. a standard
          deviation relative to the data's root mean square (``N(0, noise_level^2)``
          with ``noise_units="data"``), then clip to the range of the training data
          (``[data_min_, data_max_]``, so pixels stay valid pixels);
        - ``"masking"``: set a fraction ``noise_level`` of the entries to 0 *in the
          original units* (pixels switched off; dropout / impulse noise), not to the mean;
        - ``"salt_and_pepper"``: set a fraction ``noise_level`` of the entries to
          ``data_min_`` or ``data_max_``, each with equal chance.
    noise_level : float, default=None
        Standard deviation (``"gaussian"``, in the units ``noise_units`` says) or fraction
        of corrupted entries (the other kinds). ``None`` means 0.5 RMS units for gaussian,
        0.3 for masking, 0.2 for salt-and-pepper; the value used is ``noise_level_``.
    noise_units : {"rms", "data"}, default="rms"
        Units of a gaussian ``noise_level``: ``"rms"``, multiples of the training data's
        root mean square ``scale_`` (so one setting suits data of any scale); ``"data"``,
        the data's own units, for a known noise (``noise_level=0.25`` adds noise of
        standard deviation 0.25 to pixels in [0, 1], whatever their RMS). Fractions of
        corrupted entries have no units: the other kinds ignore it.
    hidden_layer_sizes : int or array-like of int, default=None
        Widths of the encoder's hidden layers (an int means one layer); the decoder
        mirrors them. ``None`` picks two layers from the data's shape (see
        ``hidden_layer_sizes_``): (512, 256) for 784 pixels, (128, 64) for 64, narrower
        where they would have more weights than ``fit``'s data have numbers.
    activation : {"relu", "tanh", "logistic", "identity", "leaky_relu", "elu", "gelu", \
"silu"}, default="relu"
        Activation of the hidden layers.
    init : {"pca", "random"}, default="pca"
        ``"pca"``: a PCA-initialised linear path plus a non-linear residual path that starts
        at zero; before training, ``transform`` equals ``PCA.transform`` and the
        reconstruction equals PCA's (exactly so for ``loss="mse"``). ``"random"``: the
        textbook stacked autoencoder with PyTorch's default initialisation.
    loss : {"mse", "bce", "ssim"}, default="mse"
        Reconstruction loss. ``"bce"`` (binary cross-entropy) needs data in [0, 1] and
        gives a sigmoid output. ``"ssim"`` (images; needs ``image_shape``) minimises
        ``1 - SSIM + 0.1 * MSE`` (structural similarity from ``pytorch_msssim``, Gaussian
        window of 11 pixels or the largest odd size that fits, 7 for 8x8; the small MSE
        term pins down the intensities SSIM is blind to in flat regions), computed in the
        original units with the training data's range as SSIM's data range.
    max_epochs : int, default=60
        Maximum number of passes over the training data; with ``lr_schedule="onecycle"``
        also the length of the learning-rate schedule.
    batch_size : int, default=256
        Minibatch size for training.
    lr : float, default=5e-3
        Learning rate: the peak of the one-cycle schedule, or the constant rate with
        ``lr_schedule="constant"`` and in :meth:`partial_fit`.
    lr_schedule : {"onecycle", "constant"}, default="onecycle"
        ``"onecycle"``: in each :meth:`fit` the rate rises from ``lr / 25`` to ``lr`` over
        the first 30% of the ``max_epochs`` epochs' steps, then anneals (cosine) to
        ``lr / 250000`` (torch's ``OneCycleLR``; early stopping may end training sooner).
        On the MNIST subset at 30 components it reaches a lower held-out error in 60
        epochs than a constant rate in 200 (``docs/precision.md``). ``"constant"``: ``lr``
        throughout (0.1.0's training, with ``lr=1e-3, max_epochs=200``). :meth:`partial_fit`
        always trains at the constant ``lr``: a schedule needs the training's length. A
        skorch ``LRScheduler`` in ``callbacks`` replaces the one-cycle schedule.
    optimizer : {"adamw", "adam", "sgd", "rmsprop"} or torch optimizer class, \
default="adamw"
        The optimizer. ``"adamw"``, ``"adam"`` and ``"sgd"`` get torch's fused
        implementation (one kernel per step; the same update up to float rounding); a
        class, e.g. ``torch.optim.Adam``, is used as given.
    weight_decay : float, default=None
        Passed to the optimizer as ``weight_decay``. ``None`` means 2.0 for the default
        ``"adamw"`` (decoupled decay: each step shrinks the weights by
        ``lr * weight_decay``; the main guard against overfitting small data) and 0 for any
        other optimizer, where weight decay is an L2 penalty and much smaller values (e.g.
        1e-4) are usual. The value used is ``weight_decay_``.
    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the data, stop when its loss has not improved
        for ``n_iter_no_change`` epochs, and keep the best weights seen (the untrained
        state, e.g. the PCA start, included). The validation loss is the loss of
        denoising the validation rows, corrupted once with the same noise at every epoch.
        Clean reconstruction is a constraint: an epoch whose loss of reconstructing the
        clean validation rows (``valid_clean_loss`` in ``history_``) is above the
        untrained state's is never kept, and if the kept epoch reconstructs the clean
        training rows worse than the untrained state, the untrained state is kept
        instead. Training stops once neither the denoising loss nor the kept epoch's has
        improved for ``n_iter_no_change`` epochs. With ``init="pca"`` the denoiser is thus
        never worse than PCA at reconstructing the clean rows it was fitted on; where
        training cannot beat PCA there, it keeps the PCA start.
    validation_fraction : float, default=0.1
        Fraction of the training data held out for early stopping.
    n_iter_no_change : int, default=30
        Patience of early stopping, in epochs. Generous because the non-linear path
        starts at zero and small data sets take few steps per epoch: in the project's
        benchmarks, with 10 an ``AutoencoderTransformer`` on swiss roll and S-curve stops
        before leaving the PCA start (AE/PCA 1.0); with 30 it reaches 0.25 and 0.19.
    tol : float, default=1e-4
        Minimum relative improvement of the validation loss that counts.
    callbacks : list of skorch callbacks, default=None
        Extra skorch callbacks (e.g. ``LRScheduler``, ``Checkpoint``), copied at each fit;
        a ``(name, callback)`` tuple keeps its name.
    device : str, default="auto"
        ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
    random_state : int, RandomState instance or None, default=None
        Seeds every random draw of a fit: the initial weights, the shuffling, the validation
        split and the noise (two fits with one seed see the same corruptions). ``None``: a
        fresh seed from the operating system. The fit draws from generators of its own,
        never from torch's or numpy's global random state (both are left as they were), so
        fits run in parallel threads give the results they give run one after the other.
    verbose : int, default=0
        1 prints a table per epoch, 2 adds a progress bar.
    warm_start : bool, default=False
        Continue training the fitted network on the next call to :meth:`fit`.
    architecture : {"mlp", "conv"}, default="mlp"
        ``"mlp"``: fully connected encoder and decoder. ``"conv"``: for images (needs
        ``image_shape``): stride-2 3x3 convolutions (each halving the image) and a linear
        layer to the code; the decoder mirrors them with stride-2 transposed convolutions.
        ``hidden_layer_sizes`` then gives the channels of the stride-2 layers (``None``:
        (32, 64), fewer for images too small to halve twice). With ``init="pca"`` the
        convolutional paths are the non-linear residual of the linear path that ``init``
        sets up.
    image_shape : tuple of int, default=None
        Shape of one image, ``(height, width)`` or ``(height, width, channels)``, for
        ``architecture="conv"`` (and ``loss="ssim"`` where ``loss`` offers it). Rows of
        ``X`` are images flattened in C order (``images.reshape(n_samples, -1)``); one
        entry may be -1 (inferred, as in :func:`numpy.reshape`). Checked against
        ``n_features`` before training.
    sparsity : {"l1", "kl"}, default=None
        Penalty on the codes (in scaled units), added to the loss in training and
        validation: ``"l1"``, ``sparsity_weight * mean |code|`` (an L1 activity penalty);
        ``"kl"``, ``sparsity_weight * mean_j KL(sparsity_target || mean activation of unit
        j)`` with activations ``sigmoid(code)`` (KL needs values in (0, 1)). Makes
        over-complete codes (``n_components > n_features``) useful rather than a copy of
        the input; see :meth:`code_sparsity`.
    sparsity_weight : float, default=0.1
        Weight of the sparsity penalty (the reconstruction loss is about 1 at the start).
    sparsity_target : float, default=0.05
        Target mean activation of each code unit for ``sparsity="kl"``.
    inference_batch_size : int, default=4096
        Rows per forward pass in :meth:`transform`, :meth:`inverse_transform`,
        :meth:`score_samples` and the other inference methods, independent of the training
        ``batch_size``. Outputs are written into one preallocated array, so peak memory is
        about input + output + one batch's intermediates.
    precision : {"float32", "bfloat16", "float16", "auto"}, default="auto"
        Training precision. ``"bfloat16"``: mixed precision (``torch.autocast``; weights
        and optimizer state stay float32, losses are computed in float32).
        ``"float16"``: autocast with gradient scaling, CUDA only.
        ``"auto"``: decided by measuring, once per process and network shape: bfloat16
        where the hardware has it natively (a CUDA device with bfloat16, or a CPU with
        AVX512-BF16 or AMX) and a forward and backward pass of the network about to be
        trained runs at least 1.05x faster in it than in float32; float32 elsewhere
        (some CPUs with AVX512-BF16 run it slower). Validation, and with it early
        stopping's comparison with the PCA start, and inference run in float32 whatever
        the training precision, and outputs stay float32. See ``docs/precision.md`` for
        speed and accuracy measured against float32. The value used is ``precision_``
        (``verbose=1`` prints the measurement); with the default ``"auto"``, seeded fits
        give slightly different numbers where the choice differs, so pass a precision
        for results that repeat across machines.
    compile : bool, default=False
        Train through ``torch.compile`` (the forward pass of training batches; the first
        epoch pays the compilation, tens of seconds). Pays off on GPUs and for long fits;
        see ``docs/precision.md``. Needs a C++ compiler on the CPU.
    data_parallel : bool, default=False
        Train data-parallel, as one process of a ``torch.distributed`` group (PyTorch's
        DistributedDataParallel): launch the script once per process (``torchrun
        --nproc-per-node N script.py``: one process per GPU over NCCL, or several CPU
        processes over gloo) and fit every process on the same ``X``. All draw the same
        shuffle, each trains on its share of every batch of ``batch_size`` rows (the
        global batch) and the gradients are averaged, so every process ends with the
        model one process would train (up to float rounding; the denoising and
        variational members' draws differ). The group is set up from the launcher's
        environment if the script has not done so; ``device="auto"`` or ``"cuda"`` then
        means GPU ``LOCAL_RANK``. Every rank must get data of the same shape (a
        ``ValueError`` otherwise); only rank 0 prints, and only rank 0 should save the
        model.
    whiten : bool, default=False
        As in :class:`~sklearn.decomposition.PCA`: :meth:`transform` returns each code unit
        centred and divided by its standard deviation on the training rows
        (``code_mean_``, ``code_std_``), so that distance-based steps after the reducer
        (k-nearest neighbours, SVMs, k-means) see axes of comparable spread;
        :meth:`inverse_transform` undoes it. Unlike PCA's, the codes of a trained network
        may stay correlated: whitening rescales them, it does not rotate them.

    Attributes
    ----------
    noise_level_ : float
        The noise level used, in the units of ``noise_units`` for gaussian noise (with
        ``noise_level=None`` and ``noise_units="data"``: ``0.5 * scale_``).
    n_components_ : int
        Number of code units (``n_components`` as fitted), as in
        :class:`~sklearn.decomposition.PCA`.
    code_mean_ : ndarray of shape (n_components_,)
        Mean of each code unit over the training rows (before whitening); after
        :meth:`partial_fit`, over its last chunk.
    code_std_ : ndarray of shape (n_components_,)
        Standard deviation of each code unit over the same rows (1 for a constant
        unit); ``whiten=True`` divides the codes by it.
    n_samples_ : int
        Number of rows of the training data (validation rows included); after
        :meth:`partial_fit`, all rows seen so far. Absent on models loaded from files
        written by sklearn-ae 0.1.0.
    n_features_in_ : int
        Number of features seen during :meth:`fit`.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during :meth:`fit`; only defined when `X` has string
        feature names.
    mean_ : ndarray of shape (n_features_in_,)
        Per-feature mean of the training data, removed before encoding.
    scale_ : float
        Root mean square of the centred training data; inputs are divided by it.
    data_min_ : float
        Smallest value of the training data (the lower end of SSIM's data range and of
        the denoiser's noise).
    data_max_ : float
        Largest value of the training data (the upper end of SSIM's data range and of
        the denoiser's noise).
    image_shape_ : tuple of int or None
        ``image_shape`` in torch order ``(channels, height, width)``, -1 resolved; None
        without ``image_shape``.
    hidden_layer_sizes_ : tuple of int
        Hidden widths (or, with ``architecture="conv"``, convolution channels) actually
        used.
    weight_decay_ : float
        Weight decay actually used.
    device_ : str
        Device the model lives on.
    precision_ : str
        Training precision used (``precision`` with ``"auto"`` resolved).
    net_ : skorch.NeuralNet
        The fitted skorch net; ``net_.module_`` is the torch module.
    n_iter_ : int
        Number of epochs run.
    best_epoch_ : int
        Epoch whose weights were kept (0 means the untrained model, e.g. the PCA start).
    loss_curve_ : ndarray of shape (n_iter_,)
        Training loss per epoch (on the scaled data).
    validation_loss_curve_ : ndarray of shape (n_iter_,) or None
        Validation loss per epoch; None without early stopping.
    train_explained_variance_ratio_ : float
        Fraction of the training data's variance (around ``mean_``) that the
        reconstruction keeps, ``1 - residual / total`` sum of squares, on the rows used for
        training; set it beside ``PCA(...).fit(X).explained_variance_ratio_.sum()``.
    validation_explained_variance_ratio_ : float or None
        The same on the held-out validation rows; None without early stopping.
    history_ : skorch.history.History
        skorch's per-epoch training history (train/valid loss, durations, and whatever
        callbacks record); the same object as ``net_.history``.

    See Also
    --------
    AutoencoderTransformer : The same model trained on clean inputs.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_ae import DenoisingAutoencoder
    >>> X = load_digits().data[:300] / 16
    >>> dae = DenoisingAutoencoder(n_components=10, noise="masking", max_epochs=3,
    ...                            random_state=0).fit(X)
    >>> noisy = X[:3] * (np.random.RandomState(0).rand(3, 64) > 0.3)
    >>> dae.denoise(noisy).shape
    (3, 64)
    """

    # the objective regularises the codes: over-complete codes are meaningful
    _overcomplete_needs_penalty = False

    _parameter_constraints = {
        **_BaseAutoencoder._parameter_constraints,
        "noise": [StrOptions(set(NOISE_KINDS))],
        "noise_level": [Interval(Real, 0, None, closed="left"), None],
        "noise_units": [StrOptions({"rms", "data"})],
    }

    def __init__(
        self,
        n_components=2,
        *,
        noise="gaussian",
        noise_level=None,
        noise_units="rms",
        hidden_layer_sizes=None,
        activation="relu",
        init="pca",
        loss="mse",
        max_epochs=60,
        batch_size=256,
        lr=5e-3,
        lr_schedule="onecycle",
        optimizer="adamw",
        weight_decay=None,
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=30,
        tol=1e-4,
        callbacks=None,
        device="auto",
        random_state=None,
        verbose=0,
        warm_start=False,
        architecture="mlp",
        image_shape=None,
        sparsity=None,
        sparsity_weight=0.1,
        sparsity_target=0.05,
        inference_batch_size=4096,
        precision="auto",
        compile=False,
        data_parallel=False,
        whiten=False,
    ):
        super().__init__(
            n_components,
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            init=init,
            loss=loss,
            max_epochs=max_epochs,
            batch_size=batch_size,
            lr=lr,
            lr_schedule=lr_schedule,
            optimizer=optimizer,
            weight_decay=weight_decay,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            tol=tol,
            callbacks=callbacks,
            device=device,
            random_state=random_state,
            verbose=verbose,
            warm_start=warm_start,
            architecture=architecture,
            image_shape=image_shape,
            sparsity=sparsity,
            sparsity_weight=sparsity_weight,
            sparsity_target=sparsity_target,
            inference_batch_size=inference_batch_size,
            precision=precision,
            compile=compile,
            data_parallel=data_parallel,
            whiten=whiten,
        )
        self.noise = noise
        self.noise_level = noise_level
        self.noise_units = noise_units

    _net_class = DenoisingNet
    _fitted_attributes = {**_BaseAutoencoder._fitted_attributes, "noise_level_": real(0)}

    def _resolve_training_params(self):
        super()._resolve_training_params()
        if self.noise != "gaussian" and self.noise_level is not None and self.noise_level > 1:
            raise ValueError(
                f"noise_level is the fraction of corrupted entries for noise={self.noise!r} "
                f"and must be at most 1; got noise_level={self.noise_level!r}."
            )

    def _resolve_scaled_params(self):
        level = self.noise_level
        if level is None:
            level = DEFAULT_NOISE_LEVELS[self.noise]
            if self._in_data_units():
                level *= float(self.scale_)  # the default 0.5 RMS units, in data units
        self.noise_level_ = float(level)

    def _in_data_units(self):
        return self.noise == "gaussian" and self.noise_units == "data"

    def _net_noise_level(self):
        """``noise_level_`` for the net, which sees the data divided by ``scale_``."""
        if self._in_data_units():
            return self.noise_level_ / float(self.scale_)
        return self.noise_level_

    def _net_params(self):
        # the net sees centred, scaled data: express the clean values there, per feature
        def scaled(value):
            return torch.as_tensor((value - self.mean_) / self.scale_, dtype=torch.float32)

        return {
            **super()._net_params(),
            "noise": self.noise,
            "noise_level": self._net_noise_level(),
            "noise_low": scaled(self.data_min_),
            "noise_high": scaled(self.data_max_),
            "noise_fill": scaled(0.0),
        }

    def denoise(self, X):
        """Clean reconstruction of (noisy) ``X``, in the original units.

        Deterministic; the same as :meth:`reconstruct` and
        ``inverse_transform(transform(X))``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Corrupted data, in the units seen in :meth:`fit`.

        Returns
        -------
        X_denoised : ndarray of shape (n_samples, n_features), dtype float32
        """
        return self.reconstruct(X)
