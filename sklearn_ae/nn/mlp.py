"""Fully connected encoders and decoders.

The layers: :func:`make_mlp` stacks, the :class:`Residual` pairing of a linear and a
non-linear path, and the :class:`Autoencoder` container. Whole networks are assembled by
:func:`~sklearn_ae.nn.build_network`.
"""

import torch
from torch import nn

ACTIVATIONS = {
    "identity": nn.Identity,
    "logistic": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
}


def make_mlp(sizes, activation="relu", zero_last=False):
    """A stack of ``Linear`` layers with ``activation`` between them (none after the last).

    Parameters
    ----------
    sizes : sequence of int
        Layer widths, input first, output last.
    activation : str
        A key of :data:`ACTIVATIONS`.
    zero_last : bool
        Start the last layer at zero, so the stack's output is exactly 0 before training
        while gradients still reach it (its inputs are not zero).
    """
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(ACTIVATIONS[activation]())
    if zero_last:
        zero_layer(layers[-1])
    return nn.Sequential(*layers)


def zero_layer(layer):
    """Set ``layer``'s weight and bias to zero and mark it ``zero_init``, so that
    re-initialising the network (:func:`~sklearn_ae.nn.init_weights`) keeps it at zero."""
    nn.init.zeros_(layer.weight)
    nn.init.zeros_(layer.bias)
    layer.zero_init = True
    return layer


class Residual(nn.Module):
    """``(linear(x / in_scale) + nonlinear(x / in_scale)) * out_scale``.

    The scales are fixed buffers of ``in_size`` / ``out_size`` values (one per input or
    output unit), so the learnable part works on unit-variance quantities whatever the units
    of the codes are. A side without a size is the identity and costs nothing in the
    forward pass; it keeps a buffer of one 1, the layout of saved models.
    """

    def __init__(self, linear, nonlinear, in_size=None, out_size=None):
        super().__init__()
        self.linear = linear
        self.nonlinear = nonlinear
        self.scales_in, self.scales_out = in_size is not None, out_size is not None
        self.register_buffer("in_scale", torch.ones(in_size or 1))
        self.register_buffer("out_scale", torch.ones(out_size or 1))

    def forward(self, x):
        u = x / self.in_scale if self.scales_in else x
        y = self.linear(u) + self.nonlinear(u)
        return y * self.out_scale if self.scales_out else y


class CodeScale(nn.Module):
    """Divides its input by ``scale``, a buffer that follows the root mean square of the
    training batches it sees (an exponential moving average with ``momentum``, updated in
    training mode only): a decoder behind it reads codes of about unit size however far
    training spreads them. In evaluation mode a fixed division, so decoding stays a pure
    per-row function. Starts at 1 (the identity); a start written behind it should set
    ``scale`` to its codes' root mean square and divide its own input by it, so that it
    holds while the scale follows the codes."""

    def __init__(self, momentum=0.05):
        super().__init__()
        self.momentum = momentum
        self.register_buffer("scale", torch.ones(()))

    def forward(self, x):
        if self.training:
            with torch.no_grad():
                rms = x.detach().float().pow(2).mean().sqrt()
                usable = torch.isfinite(rms) & (rms > 0)  # no host sync
                self.scale.lerp_(torch.where(usable, rms, self.scale), self.momentum)
        return x / self.scale.to(x.dtype)


class Axes(nn.Module):
    """A fixed affine map onto ``n_axes`` orthonormal axes of ``n_features``-d rows
    (``(x - mean) @ axes.T / unit``), or back from them (``inverse``: ``y * unit @ axes +
    mean``). Buffers, written from the data's PCA (:func:`write_axes`), never trained."""

    def __init__(self, n_features, n_axes, inverse=False):
        super().__init__()
        self.inverse = inverse
        self.register_buffer("axes", torch.zeros(n_axes, n_features))
        self.register_buffer("mean", torch.zeros(n_features))
        self.register_buffer("unit", torch.ones(()))

    def forward(self, x):
        axes = self.axes.to(x.dtype)
        if self.inverse:
            return (x * self.unit.to(x.dtype)) @ axes + self.mean.to(x.dtype)
        return (x - self.mean.to(x.dtype)) @ axes.T / self.unit.to(x.dtype)


class Autoencoder(nn.Module):
    """An encoder and a decoder; ``forward`` returns ``(reconstruction, codes)``."""

    def __init__(self, encoder, decoder):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder

    def encode(self, x):
        return self.encoder(x)

    def decode(self, z):
        return self.decoder(z)

    def forward(self, x):
        z = self.encoder(x)
        return self.decoder(z), z
