"""DenoisingAutoencoder: trained to rebuild clean data from corrupted copies."""

from numbers import Real

import numpy as np
import torch

from ._base import _BaseAutoencoder
from ._compat import Interval, StrOptions
from ._data import TensorData
from ._net import AutoencoderNet
from .noise import NOISE_KINDS, corrupt

class DenoisingNet(AutoencoderNet):
    """:class:`~sklearn_ae._net.AutoencoderNet` that corrupts its training inputs.

    Parameters beyond AutoencoderNet's
    ----------------------------------
    noise : {"gaussian", "masking", "salt_and_pepper"}
        Corruption of the inputs in training steps only (targets stay clean), at
        ``noise_level``; ``noise_low`` / ``noise_high`` / ``noise_fill`` (scalars or one value
        per feature) are passed to :func:`~sklearn_ae.noise.corrupt`.
    noise_seed : int or None
        Seed of the one fixed corruption of the validation rows, so that validation loss
        measures denoising with the same noise every epoch.
    """

    def __init__(self, module, *args, noise="gaussian", noise_level=0.0, noise_low=None,
                 noise_high=None, noise_fill=0.0, noise_seed=None, **kwargs):
        super().__init__(module, *args, **kwargs)
        self.noise = noise
        self.noise_level = noise_level
        self.noise_low = noise_low
        self.noise_high = noise_high
        self.noise_fill = noise_fill
        self.noise_seed = noise_seed

    def corrupt(self, X, generator=None):
        """``X`` corrupted by the configured noise."""
        return corrupt(
            self.noise, X, self.noise_level, low=self.noise_low, high=self.noise_high,
            fill=self.noise_fill, generator=generator,
        )

    def train_step_single(self, batch, **fit_params):
        # fresh noise for every batch, drawn from torch's (forked, seeded) RNG; the target
        # half of the batch is left clean
        Xi, yi = batch
        return super().train_step_single((self.corrupt(Xi), yi), **fit_params)

    def get_split_datasets(self, X, y=None, **fit_params):
        train, valid = super().get_split_datasets(X, y, **fit_params)
        if valid is not None and len(valid):
            # one fixed corruption of the validation rows (the same at every call, also the
            # one early stopping scores the untrained model on), from its own generator
            gen = torch.Generator(device=valid.X.device)
            gen.manual_seed(0 if self.noise_seed is None else int(self.noise_seed))
            valid = TensorData(self.corrupt(valid.X, generator=gen), valid.y)
        return train, valid


# noise_level=None resolves to these (see noise_level_): a gaussian std relative to the
# data's RMS, and fractions of corrupted entries for the other kinds
DEFAULT_NOISE_LEVELS = {"gaussian": 0.5, "masking": 0.3, "salt_and_pepper": 0.2}


class DenoisingAutoencoder(_BaseAutoencoder):
    """Denoising autoencoder: learns to reconstruct clean data from corrupted inputs.

    During training every minibatch is corrupted afresh (the targets stay clean), so the
    network cannot learn the identity and must learn the structure of the data. Corruption
    happens only in training: :meth:`transform`, :meth:`inverse_transform` and
    :meth:`denoise` are deterministic. To denoise data, pass the noisy rows to
    :meth:`denoise`; it returns the clean reconstruction in the original units.

    Everything else (architecture, PCA start, sparsity, losses, early stopping) is shared
    with :class:`~sklearn_ae.AutoencoderTransformer`; see its parameters.

    Parameters
    ----------
    n_components : int, default=2
        Size of the code.
    noise : {"gaussian", "masking", "salt_and_pepper"}, default="gaussian"
        Kind of corruption applied to the training inputs:

        - ``"gaussian"``: add ``N(0, (noise_level * scale_)^2)``, i.e. a standard
          deviation relative to the data's root mean square, then clip to the range of
          the training data (``[data_min_, data_max_]``, so pixels stay valid pixels);
        - ``"masking"``: set a fraction ``noise_level`` of the entries to 0 *in the
          original units* (pixels switched off; dropout / impulse noise), not to the mean;
        - ``"salt_and_pepper"``: set a fraction ``noise_level`` of the entries to
          ``data_min_`` or ``data_max_``, each with equal chance.
    noise_level : float, default=None
        Standard deviation (``"gaussian"``) or fraction of corrupted entries (the other
        kinds). ``None`` means 0.5 for gaussian, 0.3 for masking, 0.2 for
        salt-and-pepper; the value used is ``noise_level_``.
    hidden_layer_sizes, activation, init, loss, max_epochs, batch_size, lr, optimizer, \
weight_decay, early_stopping, validation_fraction, n_iter_no_change, tol, callbacks, \
device, random_state, verbose, warm_start, architecture, image_shape, sparsity, \
sparsity_weight, sparsity_target, inference_batch_size, precision, compile
        As in :class:`~sklearn_ae.AutoencoderTransformer`. ``random_state`` also draws the
        noise: two fits with one seed see the same corruptions. The validation rows used
        for early stopping are corrupted once, with the same noise at every epoch, so early
        stopping judges denoising.

    Attributes
    ----------
    noise_level_ : float
        The noise level used.
    n_features_in_, feature_names_in_, mean_, scale_, data_min_, data_max_, \
image_shape_, hidden_layer_sizes_, weight_decay_, device_, precision_, net_, n_iter_, \
best_epoch_, \
loss_curve_, validation_loss_curve_, train_explained_variance_ratio_, \
validation_explained_variance_ratio_
        As in :class:`~sklearn_ae.AutoencoderTransformer`. The loss curves are losses of
        reconstructing clean data from corrupted inputs.

    See Also
    --------
    AutoencoderTransformer : The same model trained on clean inputs.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_ae import DenoisingAutoencoder
    >>> X = load_digits().data / 16
    >>> dae = DenoisingAutoencoder(n_components=10, noise="masking", max_epochs=5,
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
    }

    def __init__(
        self,
        n_components=2,
        *,
        noise="gaussian",
        noise_level=None,
        hidden_layer_sizes=None,
        activation="relu",
        init="pca",
        loss="mse",
        max_epochs=200,
        batch_size=256,
        lr=1e-3,
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
        precision="float32",
        compile=False,
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
        )
        self.noise = noise
        self.noise_level = noise_level

    _net_class = DenoisingNet

    def _resolve_training_params(self):
        super()._resolve_training_params()
        level = DEFAULT_NOISE_LEVELS[self.noise] if self.noise_level is None else self.noise_level
        if self.noise != "gaussian" and level > 1:
            raise ValueError(
                f"noise_level is the fraction of corrupted entries for noise={self.noise!r} "
                f"and must be at most 1; got noise_level={level!r}."
            )
        self.noise_level_ = float(level)

    def _net_params(self):
        # the net sees centred, scaled data: express the clean values there, per feature
        def scaled(value):
            return torch.as_tensor((value - self.mean_) / self.scale_, dtype=torch.float32)

        return {
            **super()._net_params(),
            "noise": self.noise,
            "noise_level": self.noise_level_,
            "noise_low": scaled(self.data_min_),
            "noise_high": scaled(self.data_max_),
            "noise_fill": scaled(0.0),
            # fit runs on a forked, seeded torch RNG: this draw follows random_state
            "noise_seed": int(torch.randint(np.iinfo(np.int32).max, ()).item()),
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
