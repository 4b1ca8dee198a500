"""Fully connected encoders and decoders.

Two layouts share one :class:`Autoencoder` container:

* ``plain_autoencoder``: the textbook stacked MLP, ``x -> h1 -> ... -> z -> ... -> x``.
* ``pca_residual_autoencoder``: a linear path initialised with PCA's components plus a
  non-linear path whose last layer starts at zero.  Before any training step it *is*
  PCA (codes equal PCA scores, reconstructions equal PCA reconstructions); training can
  only add what the linear model misses.
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
        nn.init.zeros_(layers[-1].weight)
        nn.init.zeros_(layers[-1].bias)
    return nn.Sequential(*layers)


class _Residual(nn.Module):
    """``linear(x) + nonlinear(x)``, with fixed input and output scales.

    The scales are buffers so the learnable part works on unit-variance quantities whatever
    the units of the codes are.
    """

    def __init__(self, linear, nonlinear, in_scale, out_scale):
        super().__init__()
        self.linear = linear
        self.nonlinear = nonlinear
        self.register_buffer("in_scale", in_scale)
        self.register_buffer("out_scale", out_scale)

    def forward(self, x):
        u = x / self.in_scale
        return (self.linear(u) + self.nonlinear(u)) * self.out_scale


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


def plain_autoencoder(n_features, n_components, hidden_layer_sizes, activation="relu"):
    """The textbook stacked autoencoder; the decoder mirrors the encoder."""
    hidden = list(hidden_layer_sizes)
    encoder = make_mlp([n_features, *hidden, n_components], activation)
    decoder = make_mlp([n_components, *reversed(hidden), n_features], activation)
    return Autoencoder(encoder, decoder)


def pca_residual_autoencoder(
    components, code_std, n_components, hidden_layer_sizes, activation="relu", code_unit=1.0
):
    """An autoencoder that starts exactly at the PCA solution.

    Parameters
    ----------
    components : Tensor of shape (n_pca, n_features)
        Orthonormal principal axes of the (centred, scaled) training data; ``n_pca`` may be
        smaller than ``n_components`` (over-complete codes, or fewer samples than
        components); the missing code units start with a zero linear path.
    code_std : Tensor of shape (n_pca,)
        Standard deviation of each PCA score; codes are emitted in PCA's units, the
        non-linear paths see them divided by this.
    n_components : int
        Code size.
    hidden_layer_sizes : sequence of int
        Hidden widths of the non-linear encoder path; the decoder mirrors them.
    activation : str
        Activation of the non-linear paths.
    code_unit : float
        Codes are multiplied by this on the way out (and divided on the way in), so a
        caller that scaled its inputs by ``1 / code_unit`` gets PCA scores in the original
        units.
    """
    n_pca, n_features = components.shape
    std = torch.ones(n_components, dtype=components.dtype)
    std[:n_pca] = code_std.clamp_min(torch.finfo(components.dtype).tiny)
    hidden = list(hidden_layer_sizes)

    enc_linear = nn.Linear(n_features, n_components)
    dec_linear = nn.Linear(n_components, n_features)
    with torch.no_grad():
        enc_linear.weight.zero_()
        enc_linear.bias.zero_()
        dec_linear.weight.zero_()
        dec_linear.bias.zero_()
        # unit-variance internal codes: u = (V x) / std, z = u * std * unit,
        # x_hat = V^T (z / unit)
        enc_linear.weight[:n_pca] = components / std[:n_pca, None]
        dec_linear.weight[:, :n_pca] = components.T * std[None, :n_pca]

    encoder = _Residual(
        enc_linear,
        make_mlp([n_features, *hidden, n_components], activation, zero_last=True),
        in_scale=torch.ones(1, dtype=components.dtype),
        out_scale=std * code_unit,
    )
    decoder = _Residual(
        dec_linear,
        make_mlp([n_components, *reversed(hidden), n_features], activation, zero_last=True),
        in_scale=std * code_unit,
        out_scale=torch.ones(1, dtype=components.dtype),
    )
    return Autoencoder(encoder, decoder)
