"""VAETransformer: the variational autoencoder (beta-VAE) of the family."""

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ._base import _BaseAutoencoder
from ._compat import Interval, StrOptions, check_positive_int
from ._net import AutoencoderNet
from .losses import kl_standard_normal, log_likelihood
from .nn import write_ppca_start

# floor of the PPCA observation variance at init, in the scaled units (where the average
# variance per feature is 1): keeps log(sigma2) finite when the code keeps every direction.
# Far below any variance float32 data resolve: at 1e-4 it changed the start on data of
# unequal scales (raw wine at k >= 4, where PPCA's noise variance is 4e-5 to 1e-6 of the
# average), and the start was up to 5 nats per sample below PPCA's log-likelihood
_MIN_NOISE_VARIANCE = 1e-10

# score_samples draws its latent noise from a generator of its own with this seed: the
# ELBO it returns is deterministic and the caller's global RNG is left alone. Every row
# shares the same draws (common random numbers), so a row's score does not depend on the
# other rows or their order, and comparisons between rows are not blurred by independent
# noise; several draws keep the estimate of each row's ELBO close to its expectation.
_SCORE_SEED = 0
_SCORE_DRAWS = 16


def latent_draws(n_draws, n_components, device="cpu"):
    """Reparameterisation noise for the ELBO's expectation: ``max(n_draws, 2 *
    n_components)`` draws (rounded up to even) in antithetic pairs ``+e, -e``, the ``e``
    whitened so that the draws' mean is exactly 0 and their covariance exactly the
    identity. The expectation is then exact for a linear decoder: at the PPCA start the
    ELBO is PPCA's log-likelihood (16 plain draws shared by every row were off by up to
    about 1 nat per sample at 30 components). From a generator with a fixed seed."""
    half = max(-(-n_draws // 2), n_components)
    generator = torch.Generator().manual_seed(_SCORE_SEED)
    draws = torch.randn((half, n_components), generator=generator, dtype=torch.float64)
    cholesky = torch.linalg.cholesky(draws.T @ draws / half)
    white = torch.linalg.solve_triangular(cholesky, draws.T, upper=False).T
    return torch.cat([white, -white]).float().to(device)


def elbo_rows(module, x, target, loss, noise):
    """``(E_q[log p(target | z)], KL(q(z | x) || N(0, I)))`` of each row, float64, the
    expectation over the ``noise`` draws (see :func:`latent_draws`), in the units of the
    network's targets."""
    mu, logvar = module.posterior(x)
    ll = 0.0
    for eps in noise:
        out = module.decode(mu + eps * torch.exp(0.5 * logvar))
        ll = ll + log_likelihood(loss, out, target, module.log_noise_var).double()
    return ll / len(noise), kl_standard_normal(mu, logvar).double()


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
        # the fit's own stream while training; torch's global RNG when evaluated outside
        generator = getattr(self, "device_rng_", None)
        return super().infer(x, sample=True, generator=generator, **fit_params)

    def kl_weight(self, training):
        if not training or not self.kl_warmup_epochs:
            return self.beta
        epoch = max(len(self.history), 1)
        return self.beta * min(1.0, (epoch - 1) / self.kl_warmup_epochs)

    def _batch_row_losses(self, x, target):
        # the floor protects the ELBO (beta = 1, the score): the negative ELBO of each row
        noise = latent_draws(_SCORE_DRAWS, self.module_.n_components, x.device)
        ll, kl = elbo_rows(self.module_, x, target, self.loss, noise)
        return kl - ll

    def get_loss(self, y_pred, y_true, X=None, training=False):
        output, mu, logvar = y_pred[:3]
        ll = log_likelihood(self.loss, output, y_true, self.module_.log_noise_var)
        kl = kl_standard_normal(mu, logvar)
        n_features = output[0].numel()
        loss = (self.kl_weight(training) * kl - ll).mean() / n_features
        return loss + self.penalty(y_pred, X, training)


class VAETransformer(_BaseAutoencoder):
    """Variational autoencoder (beta-VAE) as a scikit-learn transformer.

    The encoder maps each sample to a Gaussian posterior ``q(z | x) = N(mu, diag(var))``
    over ``n_components`` latent units, the decoder maps a latent point to the parameters
    of the likelihood ``p(x | z)``, and the prior is ``N(0, I)``. Training maximises the
    evidence lower bound (ELBO) ``E_q[log p(x | z)] - beta * KL(q(z | x) || N(0, I))``
    with the reparameterisation trick (one draw per sample and step). :meth:`transform`
    returns the posterior mean (deterministic); :meth:`sample` draws new data from the
    prior; :meth:`score_samples` returns each sample's ELBO in nats, so ``score`` can drive
    :class:`~sklearn.model_selection.GridSearchCV` without ``y`` and ``-score_samples``
    ranks anomalies.

    Parameters
    ----------
    n_components : int or float, default=2
        Number of latent units, the size of the code. May exceed ``n_features``
        (over-complete codes): the prior regularises the code.
        A float between 0 and 1, as in :class:`~sklearn.decomposition.PCA`: the fewest
        codes whose PCA start explains at least that fraction of the training data's
        variance (the number chosen is ``n_components_``).
    hidden_layer_sizes : int or array-like of int, default=None
        Widths of the encoder's hidden layers (an int means one layer); the decoder
        mirrors them. ``None`` picks two layers from the data's shape (see
        ``hidden_layer_sizes_``): (512, 256) for 784 pixels, (128, 64) for 64, narrower
        where they would have more weights than ``fit``'s data have numbers.
    activation : {"relu", "tanh", "logistic", "identity", "leaky_relu", "elu", "gelu", \
"silu"}, default="relu"
        Activation of the hidden layers.
    init : {"pca", "random"}, default="pca"
        ``"pca"``: the network starts at probabilistic PCA (PPCA), whose exact posterior a
        linear VAE can represent: a linear encoder path gives PPCA's posterior mean, the
        log-variances start at PPCA's posterior variances ``sigma2 / lambda`` (constant
        per unit), a linear decoder path holds PPCA's maximum likelihood loadings, and
        non-linear paths on both sides start at zero. For ``loss="mse"`` the untrained
        model's ELBO is then PPCA's log-likelihood; for ``loss="bce"`` the decoder's linear
        path starts at the logits of the mean image with PPCA's loadings, an approximate
        start. ``"random"``: the textbook MLP VAE with PyTorch's default initialisation.
    loss : {"mse", "bce"}, default="mse"
        The likelihood. ``"mse"``: Gaussian with one learned observation variance shared
        by all features (initialised at PPCA's noise variance, or at the data's mean
        variance for ``init="random"``; see ``noise_variance_``). ``"bce"``: Bernoulli on
        data in [0, 1] (for grey values, the usual continuous relaxation).
    beta : float, default=1.0
        Weight of the KL term. 1 gives the ELBO; larger values trade reconstruction for
        a latent space closer to the prior (beta-VAE), smaller ones the opposite.
    kl_warmup_epochs : int, default=0
        Raise the KL weight linearly from 0 (first epoch) to ``beta`` over this many
        epochs, which helps avoid posterior collapse. Early stopping always judges the
        validation loss with the full ``beta``; with long warm-ups raise
        ``n_iter_no_change`` as well. A warm start (``warm_start=True``) does not repeat
        the warm-up.
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
        Passed to the optimizer as ``weight_decay`` for the non-linear paths only: never
        applied to the Gaussian observation log-variance, which it would drag towards the
        data's variance, nor, with ``init="pca"``, to the linear paths that hold the
        probabilistic-PCA start, which it would shrink away from the ELBO's optimum.
        ``None`` means 2.0 for the default ``"adamw"`` (decoupled decay: each step shrinks
        the weights by ``lr * weight_decay``; the main guard against overfitting small
        data) and 0 for any other optimizer, where weight decay is an L2 penalty and much
        smaller values (e.g. 1e-4) are usual. The value used is ``weight_decay_``.
    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the data, stop when its loss (the negative
        ELBO per feature, one draw per sample, with the full ``beta``) has not improved
        for ``n_iter_no_change`` epochs, and keep the best weights seen (the untrained
        state, e.g. the PPCA start, included).
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
        split and the training draws of ``z``. ``None``: a fresh seed from the operating
        system. The fit draws from generators of its own, never from torch's or numpy's
        global random state (both are left as they were), so fits run in parallel threads
        give the results they give run one after the other.
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
        Penalty on the posterior means (in the prior's units, whatever the ``init``),
        added to the loss in training and validation: ``"l1"``,
        ``sparsity_weight * mean |mu|``; ``"kl"``, ``sparsity_weight * mean_j
        KL(sparsity_target || mean of sigmoid(mu_j))``; see :meth:`code_sparsity`. Rarely
        wanted with a VAE, whose prior already regularises the codes.
    sparsity_weight : float, default=0.1
        Weight of the sparsity penalty, added to the loss (the negative ELBO per
        feature).
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
        The fitted skorch net; ``net_.module_`` is a
        :class:`~sklearn_ae.nn.VariationalAutoencoder` whose ``forward`` returns
        ``(decoder_output, mu, logvar)``.
    noise_variance_ : float or None
        The Gaussian likelihood's learned observation variance, in the original units
        (squared), like :attr:`sklearn.decomposition.PCA.noise_variance_`; None for
        ``loss="bce"``.
    n_iter_ : int
        Number of epochs run.
    best_epoch_ : int
        Epoch whose weights were kept (0 means the untrained model, e.g. the PCA start).
    loss_curve_ : ndarray of shape (n_iter_,)
        Training loss per epoch: the negative ELBO per feature, on the scaled data for
        ``loss="mse"``, with the (warm-up) KL weight of that epoch.
    validation_loss_curve_ : ndarray of shape (n_iter_,) or None
        Validation loss per epoch (full ``beta``); None without early stopping.
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
    AutoencoderTransformer : The deterministic autoencoder.
    sklearn.decomposition.PCA : Its ``score_samples`` is the PPCA log-likelihood, the
        starting point of ``init="pca"``.

    Notes
    -----
    Log-densities are in nats and in the original units of ``X``: for ``loss="mse"`` the
    network models the scaled data ``(X - mean_) / scale_``, whose log-density exceeds that
    of ``X`` by ``n_features_in_ * log(scale_)``; :meth:`score_samples` subtracts it.

    ``inverse_transform(transform(X))`` decodes the posterior mean: the model's estimate of
    the noise-free point, not a projection of ``X``, so it can reconstruct noisy data worse
    than PCA does. Among linear models the ELBO's optimum is probabilistic PCA (the
    ``init="pca"`` start), whose posterior mean shrinks the ``i``-th principal score by
    ``(lambda_i - sigma2) / lambda_i`` (``lambda_i`` its variance, ``sigma2`` the noise
    variance); undoing the shrinkage costs ``sigma2 / (2 (lambda_i - sigma2))`` nats of ELBO
    per sample and direction. Training removes it where a non-linear decoder explains more
    of the data (a smaller ``sigma2``); where it does not, the ELBO keeps it. In the
    project's benchmarks (``benchmarks/README.md``) this leaves wine at 10 of 13 features at
    1.6x PCA's held-out error (1.1x would cost 1.0 nats per sample of ELBO), and the swiss
    roll and S-curve at 2 of 3 features (eigenvalues close to ``sigma2``, so PPCA's
    posterior is close to the prior) at 2.7x and 1.4x: there the default training does not
    leave the start, which a longer fit without weight decay does, to a better ELBO and
    error.

    References
    ----------
    Kingma & Welling, "Auto-Encoding Variational Bayes", ICLR 2014.
    Higgins et al., "beta-VAE: Learning Basic Visual Concepts with a Constrained
    Variational Framework", ICLR 2017.
    Tipping & Bishop, "Probabilistic Principal Component Analysis", JRSS B, 1999.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_ae import VAETransformer
    >>> X = load_digits().data[:300]
    >>> vae = VAETransformer(n_components=4, max_epochs=3, random_state=0).fit(X)
    >>> vae.transform(X[:3]).shape
    (3, 4)
    >>> vae.sample(5, random_state=0).shape
    (5, 64)
    >>> vae.score_samples(X[:3]).shape
    (3,)
    """

    # the objective regularises the codes: over-complete codes are meaningful
    _overcomplete_needs_penalty = False

    _parameter_constraints = {
        **_BaseAutoencoder._parameter_constraints,
        # a likelihood is needed: SSIM is not one
        "loss": [StrOptions({"mse", "bce"})],
        "beta": [Interval(Real, 0, None, closed="left")],
        "kl_warmup_epochs": [Interval(Integral, 0, None, closed="left")],
    }

    def __init__(
        self,
        n_components=2,
        *,
        hidden_layer_sizes=None,
        activation="relu",
        init="pca",
        loss="mse",
        beta=1.0,
        kl_warmup_epochs=0,
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
        self.beta = beta
        self.kl_warmup_epochs = kl_warmup_epochs

    # ------------------------------------------------------------------ hooks
    _net_class = VAENet

    def _net_params(self):
        return {
            **super()._net_params(),
            "beta": float(self.beta),
            "kl_warmup_epochs": int(self.kl_warmup_epochs),
        }

    def _optimizer_params(self):
        params = super()._optimizer_params()
        if self.weight_decay_:
            # Decay regularises the non-linear paths only. It would pull the linear paths,
            # which hold the PPCA start (the ELBO's optimum among linear models), towards
            # zero: smaller loadings and posterior means, so a lower ELBO and reconstructions
            # shrunk further (digits at 30 components: 1.11x PCA's error with the decay,
            # 0.74x without). log(sigma2) would be pulled towards 0, i.e. sigma2 towards the
            # data's variance; it is one scalar and needs no regulariser.
            params["optimizer__param_groups"] = [
                ("log_noise_var", {"weight_decay": 0.0}),
                ("*.linear.*", {"weight_decay": 0.0}),
            ]
        return params

    def _code_unit(self):
        # the VAE's codes live in the prior's units whatever the init
        return 1.0

    def _network_options(self):
        return {"variational": True, "gaussian": self.loss == "mse"}

    def _write_start(self, module, pca):
        # PPCA's sigma2 is noise_variance_ with every solver (from the total variance when
        # truncated); constant data divide 0 by 0, harmlessly
        noise = float(np.nan_to_num(pca.noise_variance_))
        output_bias = None
        if self.loss != "mse":
            mean = np.clip(self.mean_, 1e-3, 1 - 1e-3)
            output_bias = torch.as_tensor(np.log(mean / (1 - mean)), dtype=torch.float32)
        write_ppca_start(
            module,
            torch.as_tensor(pca.components_, dtype=torch.float32),
            torch.as_tensor(np.maximum(pca.explained_variance_, 0), dtype=torch.float32),
            max(noise, _MIN_NOISE_VARIANCE),
            output_bias=output_bias,
        )

    # ------------------------------------------------------------ inference
    @property
    def noise_variance_(self):
        """Observation variance of the Gaussian likelihood in original units; None for
        ``loss="bce"``."""
        log_var = self.net_.module_.log_noise_var  # AttributeError before fit, as wanted
        if log_var is None:
            return None
        return float(torch.exp(log_var.detach()).cpu()) * self.scale_**2


    def elbo_terms(self, X, n_draws=_SCORE_DRAWS):
        """Expected log-likelihood and KL term of the ELBO of each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data in the units seen in :meth:`fit`.
        n_draws : int, default=16
            Draws of the reparameterisation noise for the expectation of the
            log-likelihood (the KL term is analytic); at least ``2 * n_components_`` are
            used. The draws come in antithetic pairs whose mean is exactly 0 and whose
            covariance is exactly the identity, so the expectation is exact for a linear
            decoder (at the PPCA start the ELBO is PPCA's log-likelihood). They come from
            a generator with a fixed seed and are shared by all rows, so the result is
            deterministic and each row's value does not depend on the other rows.

        Returns
        -------
        log_likelihood : ndarray of shape (n_samples,)
            ``E_q[log p(x | z)]`` in nats, for the density of ``x`` in its original units.
        kl : ndarray of shape (n_samples,)
            ``KL(q(z | x) || N(0, I))`` in nats; the ELBO is ``log_likelihood - kl``
            (``beta`` weighs the KL term in training only).
        """
        n_draws = check_positive_int(n_draws, "n_draws")
        X = self._validate_post_fit_data(X)
        noise = latent_draws(n_draws, self.n_components_, self.device_)

        def terms(module, x, rows):
            if self.loss == "mse":
                t = x
            else:
                t = torch.as_tensor(rows, dtype=torch.float32, device=self.device_)
            return torch.stack(elbo_rows(module, x, t, self.loss, noise), dim=1)

        per_row = self._map_batches(X, terms, (2,), dtype=np.float64)
        ll, kl = per_row[:, 0], per_row[:, 1]
        if self.loss == "mse":
            # change of variables from the scaled data back to X
            ll = ll - X.shape[1] * np.log(self.scale_)
        return ll, kl

    def score_samples(self, X):
        """Evidence lower bound (ELBO) of each sample, in nats.

        ``E_q[log p(x | z)] - KL(q(z | x) || N(0, I))``, the expectation over
        ``max(16, 2 * n_components_)`` antithetic, moment-matched draws of the
        reparameterisation noise from a generator with a fixed seed (deterministic, each
        row's value independent of the other rows, exact for a linear decoder; see
        :meth:`elbo_terms`), as a log-density of ``x`` in its original units. It lower-bounds
        ``log p(x)``: higher means more likely under the model, so ``-score_samples``
        ranks anomalies.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        elbo : ndarray of shape (n_samples,)
        """
        ll, kl = self.elbo_terms(X)
        return ll - kl

    def score(self, X, y=None):
        """Mean ELBO per sample, in nats (see :meth:`score_samples`).

        Lets :class:`~sklearn.model_selection.GridSearchCV` tune ``beta``,
        ``n_components`` and the rest without ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : Ignored

        Returns
        -------
        score : float
        """
        return super().score(X, y)

    def sample(self, n_samples=1, random_state=None):
        """Draw new data from the model: ``z ~ N(0, I)`` decoded by the decoder.

        Parameters
        ----------
        n_samples : int, default=1
            Number of samples.
        random_state : int, RandomState instance or None, default=None
            Draws the latent points (with numpy, never torch's global RNG).

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_features_in_), dtype float32
            The decoder's mean in the original units: the Gaussian mean for
            ``loss="mse"`` (observation noise, ``noise_variance_``, is not added) and the
            Bernoulli probabilities for ``loss="bce"``.
        """
        check_is_fitted(self)
        n_samples = check_positive_int(n_samples, "n_samples")
        rng = check_random_state(random_state)
        Z = rng.standard_normal((int(n_samples), self.n_components_)).astype(np.float32)
        return self.inverse_transform(Z)
