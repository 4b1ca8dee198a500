"""Input corruption as pure tensor functions (the denoising autoencoder's noise kinds).

Every function returns a new tensor and leaves its input alone, so a training target that
shares storage with the input stays clean. Randomness comes from ``generator`` when given,
else from torch's global RNG (which the estimators fork and seed from their
``random_state`` during ``fit``, so the noise is reproducible without touching the caller's
RNG).

``low``, ``high`` and ``fill`` may be scalars or tensors broadcasting against a row (one value
per feature): the estimators work on centred, scaled data, where "pixel off" is
``-mean / scale``, a different number for every feature.
"""

import torch

NOISE_KINDS = ("gaussian", "masking", "salt_and_pepper")


def gaussian(x, std, generator=None, low=None, high=None):
    """Additive Gaussian noise ``x + std * N(0, 1)``, optionally clipped to ``[low, high]``.

    Parameters
    ----------
    x : Tensor
    std : float
        Standard deviation, in the units of ``x``.
    generator : torch.Generator, default=None
    low, high : float or Tensor, default=None
        Clip the corrupted values to this range (e.g. the range of valid pixels).
    """
    noisy = x + std * torch.randn(x.shape, generator=generator, dtype=x.dtype, device=x.device)
    if low is not None or high is not None:
        noisy = _clip(noisy, low, high)
    return noisy


def masking(x, fraction, fill=0.0, generator=None):
    """Set a random ``fraction`` of the entries to ``fill`` (dropout / impulse noise).

    Each entry is masked independently with probability ``fraction``. Unlike
    :class:`torch.nn.Dropout` the kept entries are not rescaled: the input should look like
    data with missing pixels, not like a dropout layer's activations.
    """
    drop = _uniform(x, generator) < fraction
    return torch.where(drop, _as(fill, x), x)


def salt_and_pepper(x, fraction, low, high, generator=None):
    """Set a random ``fraction`` of the entries to ``low`` or ``high``, each with equal chance."""
    u = _uniform(x, generator)
    # one draw decides both whether an entry is hit (u < fraction) and which way (u < fraction/2)
    hit_low = u < fraction / 2
    hit_high = (u >= fraction / 2) & (u < fraction)
    out = torch.where(hit_low, _as(low, x), x)
    return torch.where(hit_high, _as(high, x), out)


def corrupt(kind, x, level, *, low=None, high=None, fill=0.0, generator=None):
    """Dispatch to a noise kind of :data:`NOISE_KINDS` at ``level``.

    ``level`` is the standard deviation for ``"gaussian"`` (clipped to ``[low, high]``
    when given) and the fraction of corrupted entries otherwise.
    ``"salt_and_pepper"`` needs ``low`` and ``high``; ``"masking"`` uses ``fill``.
    """
    if kind == "gaussian":
        return gaussian(x, level, generator=generator, low=low, high=high)
    if kind == "masking":
        return masking(x, level, fill=fill, generator=generator)
    if kind == "salt_and_pepper":
        if low is None or high is None:
            raise ValueError("salt_and_pepper noise needs low and high values.")
        return salt_and_pepper(x, level, low, high, generator=generator)
    raise ValueError(f"Unknown noise kind {kind!r}; expected one of {NOISE_KINDS}.")


def _uniform(x, generator):
    return torch.rand(x.shape, generator=generator, dtype=x.dtype, device=x.device)


def _as(value, x):
    return torch.as_tensor(value, dtype=x.dtype, device=x.device)


def _clip(x, low, high):
    if low is not None:
        x = torch.maximum(x, _as(low, x))
    if high is not None:
        x = torch.minimum(x, _as(high, x))
    return x
