"""ContractiveAutoencoder: codes that resist small changes of the input (Rifai et al.)."""

from numbers import Real

from ._base import _BaseAutoencoder
from ._compat import Interval
from ._net import AutoencoderNet
from .losses import jacobian_frobenius_sq


class ContractiveNet(AutoencoderNet):
    """:class:`~sklearn_ae._net.AutoencoderNet` whose objective adds ``contraction_weight``
    times the squared Frobenius norm of the encoder's Jacobian at each input (in
    validation too, so early stopping judges the objective being trained)."""

    def __init__(self, module, *args, contraction_weight=0.01, **kwargs):
        super().__init__(module, *args, **kwargs)
        self.contraction_weight = contraction_weight

    def row_penalty(self, y_pred, X):
        penalty = super().row_penalty(y_pred, X)
        if not self.contraction_weight:
            return penalty

        def codes(x):  # in scaled units, like the inputs
            return self.module_.encode(x) / self.code_unit

        return penalty + self.contraction_weight * jacobian_frobenius_sq(codes, X)


class ContractiveAutoencoder(_BaseAutoencoder):
    """Contractive autoencoder: codes that change little when the input changes a little.

    The objective is the reconstruction error plus ``contraction_weight`` times the squared
    Frobenius norm of the encoder's Jacobian at each training input (Rifai et al., 2011),
    computed exactly (one vector-Jacobian product per code unit: a training step costs
    several times an autoencoder's, about 6x at 16 code units and 12x at 48 on digits). The
    codes then follow the directions
    along which the data vary and ignore the others: features robust to small
    perturbations, for a classifier or a nearest-neighbour search downstream. Everything
    else (architecture, PCA start, losses, early stopping) is
    :class:`AutoencoderTransformer`'s.

    Parameters
    ----------
    n_components : int or float, default=2
        Size of the code. May exceed ``n_features`` (over-complete codes, as in Rifai et
        al.): the contraction penalty keeps such codes from copying the input.
        A float between 0 and 1, as in :class:`~sklearn.decomposition.PCA`: the fewest
        codes whose PCA start explains at least that fraction of the training data's
        variance (the number chosen is ``n_components_``).
    contraction_weight : float, default=0.01
        Weight of the contraction penalty: the mean over training inputs of the squared
        Frobenius norm of the encoder's Jacobian ``d code / d x``, codes and inputs in
        scaled units (with ``init="pca"`` the untrained encoder's penalty is
        ``min(n_components, n_features)``, PCA's orthonormal axes). The larger, the less
        the codes move when the input moves, at the price of reconstruction error;
        0 gives :class:`AutoencoderTransformer`.
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
        state, e.g. the PCA start, included).
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
        Seeds every random draw of a fit: the initial weights, the shuffling and the
        validation split. ``None``: a fresh seed from the operating system. The fit draws
        from generators of its own, never from torch's or numpy's global random state (both
        are left as they were), so fits run in parallel threads give the results they give
        run one after the other.
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
    AutoencoderTransformer : The same model without the contraction penalty.
    DenoisingAutoencoder : Robustness learned from corrupted inputs instead.

    References
    ----------
    Rifai, Vincent, Muller, Glorot & Bengio, "Contractive Auto-Encoders: Explicit
    Invariance During Feature Extraction", ICML 2011.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_ae import ContractiveAutoencoder
    >>> X = load_digits().data[:300]
    >>> cae = ContractiveAutoencoder(n_components=10, max_epochs=3, random_state=0)
    >>> cae.fit_transform(X).shape
    (300, 10)
    """

    # the contraction penalty regularises the codes: over-complete codes are meaningful
    _overcomplete_needs_penalty = False

    _parameter_constraints = {
        **_BaseAutoencoder._parameter_constraints,
        "contraction_weight": [Interval(Real, 0, None, closed="left")],
    }

    _net_class = ContractiveNet

    def __init__(
        self,
        n_components=2,
        *,
        contraction_weight=0.01,
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
        self.contraction_weight = contraction_weight

    def _net_params(self):
        return {
            **super()._net_params(),
            "contraction_weight": float(self.contraction_weight),
            "code_unit": self._code_unit(),
        }
