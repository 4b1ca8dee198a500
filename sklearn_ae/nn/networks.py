"""Every network of the family, built from its sizes alone, and the starts written into it.

:func:`build_network` is the one entry point: plain or variational, fully connected or
convolutional, textbook or residual. A residual network has a linear path beside each
non-linear one (whose last layer starts at zero); :func:`write_pca_start` and
:func:`write_ppca_start` then write a data-derived start into its linear paths, so that
before training the network *is* PCA (or probabilistic PCA). Because shapes alone define a
network, a saved model is rebuilt from its sizes and filled with its weights.
"""

import math

import torch
from torch import nn

from .conv import DEFAULT_CHANNELS, ConvDecoder, ConvEncoder, max_conv_layers
from .mlp import Autoencoder, Axes, CodeScale, Residual, make_mlp
from .vae import VariationalAutoencoder


def default_hidden_layer_sizes(n_features, n_components, image_shape=None, n_values=None):
    """Hidden widths chosen from the data's shape when ``hidden_layer_sizes=None``.

    Two hidden layers, the first about twice as wide as the input (at least 64, at most
    512, and never narrower than the code), the second half of it: 784 pixels give
    (512, 256); 64 pixels give (128, 64); a 3-d manifold gets (64, 32). With
    ``n_values``, the number of values the data hold (``n_samples * n_features``; a sparse
    matrix's zeros count, they are values to rebuild too), the first is narrowed (down to
    1) until the non-linear paths have no more weights than that: more cannot be trained
    sensibly, and on wide data (10 rows of 100,000 features) they would take gigabytes. For
    convolutional paths (``image_shape``, ``(C, H, W)``), the channels
    (32, 64), fewer for images too small to halve twice.
    """
    if image_shape is not None:
        return DEFAULT_CHANNELS[: max_conv_layers(*image_shape[1:])]
    width = int(min(512, max(64, 2 * n_features, 2 * n_components)))
    if n_values is not None:
        budget = n_values
        while width > 1 and _paths_weights(n_features, n_components, width) > budget:
            width -= 1
    return (width, max(width // 2, n_components))


def _paths_weights(n_features, n_components, width):
    """Weights and biases of the non-linear encoder and decoder paths with the default
    hidden widths ``(width, max(width // 2, n_components))``."""
    sizes = [n_features, width, max(width // 2, n_components), n_components]
    return 2 * sum(a * b + b for a, b in zip(sizes, sizes[1:]))


def _paths(n_features, n_outputs, n_components, hidden, activation, image_shape, zero_last):
    """Non-linear encoder (to ``n_outputs``) and decoder (from ``n_components``) paths."""
    hidden = list(hidden)
    if image_shape is not None:
        return (
            ConvEncoder(image_shape, n_outputs, hidden, activation, zero_last),
            ConvDecoder(n_components, image_shape, hidden, activation, zero_last),
        )
    return (
        make_mlp([n_features, *hidden, n_outputs], activation, zero_last),
        make_mlp([n_components, *reversed(hidden), n_features], activation, zero_last),
    )


def build_network(
    n_features,
    n_components,
    hidden_layer_sizes,
    activation="relu",
    *,
    image_shape=None,
    residual=False,
    variational=False,
    gaussian=False,
    input_axes=None,
    code_scale=False,
    generator=None,
    device="cpu",
):
    """An untrained autoencoder defined by its sizes.

    Parameters
    ----------
    n_features : int
        Width of the input and of the reconstruction.
    n_components : int
        Code (latent) size.
    hidden_layer_sizes : sequence of int
        Hidden widths of the encoder (the decoder mirrors them); with ``image_shape``, the
        channels of the stride-2 convolutions.
    activation : str
        A key of :data:`~sklearn_ae.nn.ACTIVATIONS`.
    image_shape : tuple (C, H, W) or None
        Convolutional paths for rows that are flattened images; fully connected if None.
    residual : bool
        A linear path beside each non-linear path, whose last layer starts at zero: the
        layout that :func:`write_pca_start` / :func:`write_ppca_start` fill.
    variational : bool
        A :class:`~sklearn_ae.nn.VariationalAutoencoder` (the encoder emits means and
        log-variances) instead of an :class:`~sklearn_ae.nn.Autoencoder`.
    gaussian : bool
        With ``variational``: learn one Gaussian observation log-variance (starting at 0,
        the mean variance of scaled data).
    input_axes : int or None
        The encoder reads its rows on that many fixed axes (an :class:`~sklearn_ae.nn.Axes`
        in front, written by :func:`write_axes`) and the decoder writes them back through
        the same axes: the paths (and a residual start) are built for ``input_axes``
        features.
    code_scale : bool
        The decoder reads the codes through a :class:`~sklearn_ae.nn.CodeScale` (first,
        before the paths): for codes whose scale training sets (neighbour embeddings grow
        to tens of units).
    generator : torch.Generator or None
        Draws the initial weights (PyTorch's default initialisation, layer by layer in
        :meth:`~torch.nn.Module.modules` order); a fresh unseeded generator if None.
        torch's global RNG is never used, so networks built in parallel threads do not
        disturb each other or anyone else.
    device : str or torch.device
        Where the weights live; ``"meta"`` gives shapes without memory or initialisation.
    """
    # built without memory or random draws, then filled from the generator alone
    with torch.device("meta"):
        module = _layout(input_axes or n_features, n_components, hidden_layer_sizes,
                         activation, image_shape, residual, variational, gaussian)
        if code_scale:  # inside the axes: decoder[0] stays the whole path from the codes
            module.decoder = nn.Sequential(CodeScale(), module.decoder)
        if input_axes:
            module.encoder = nn.Sequential(Axes(n_features, input_axes), module.encoder)
            module.decoder = nn.Sequential(module.decoder,
                                           Axes(n_features, input_axes, inverse=True))
    if torch.device(device).type == "meta":
        return module
    module.to_empty(device=device)
    return init_weights(module, torch.Generator() if generator is None else generator)


def _layout(n_features, n_components, hidden_layer_sizes, activation, image_shape, residual,
            variational, gaussian):
    n_outputs = 2 * n_components if variational else n_components
    if residual:
        enc_linear = nn.Linear(n_features, n_outputs)
        dec_linear = nn.Linear(n_components, n_features)
    encoder, decoder = _paths(
        n_features, n_outputs, n_components, hidden_layer_sizes, activation, image_shape,
        zero_last=residual,
    )
    if residual:
        # a variational code is in the prior's units: no scales; a plain code gets one per
        # unit (the PCA scores' standard deviations)
        code_size = None if variational else n_components
        encoder = Residual(enc_linear, encoder, out_size=code_size)
        decoder = Residual(dec_linear, decoder, in_size=code_size)
    if variational:
        return VariationalAutoencoder(encoder, decoder, n_components, 0.0 if gaussian else None)
    return Autoencoder(encoder, decoder)


_LAYERS = (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)


@torch.no_grad()
def init_weights(module, generator):
    """PyTorch's default initialisation of every layer of ``module``, drawn from
    ``generator``; layers marked ``zero_init`` (the last layers of residual paths) start at
    zero, the residual scales at one and the observation log-variance at zero."""
    for layer in module.modules():
        if isinstance(layer, _LAYERS):
            if getattr(layer, "zero_init", False):
                layer.weight.zero_()
                layer.bias.zero_()
                continue
            nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=generator)
            fan_in, _ = nn.init._calculate_fan_in_and_fan_out(layer.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            nn.init.uniform_(layer.bias, -bound, bound, generator=generator)
        elif isinstance(layer, Residual):
            layer.in_scale.fill_(1.0)
            layer.out_scale.fill_(1.0)
        elif isinstance(layer, CodeScale):
            layer.scale.fill_(1.0)
        elif isinstance(layer, Axes):  # written from the data by write_axes
            layer.axes.zero_()
            layer.mean.zero_()
            layer.unit.fill_(1.0)
    if getattr(module, "log_noise_var", None) is not None:
        module.log_noise_var.zero_()
    return module


def _zero_linear_paths(module):
    for layer in (module.encoder.linear, module.decoder.linear):
        layer.weight.zero_()
        layer.bias.zero_()


def input_axes(module):
    """The fixed :class:`~sklearn_ae.nn.Axes` a network built with ``input_axes`` reads its
    rows on, or None."""
    first = module.encoder[0] if isinstance(module.encoder, nn.Sequential) else None
    return first if isinstance(first, Axes) else None


@torch.no_grad()
def write_axes(module, axes, mean, unit):
    """Write the fixed axes of a network built with ``input_axes``: its encoder reads
    ``(x - mean) @ axes.T / unit``, its decoder writes ``y * unit @ axes + mean``."""
    for layer in (module.encoder[0], module.decoder[-1]):
        layer.axes.copy_(axes)
        layer.mean.copy_(mean)
        layer.unit.fill_(unit)
    return module


@torch.no_grad()
def write_pca_start(module, components, code_std, code_unit=1.0):
    """Set a residual :class:`~sklearn_ae.nn.Autoencoder` to the PCA solution.

    Afterwards its codes are PCA's scores (times ``code_unit``) and its reconstructions
    PCA's, until training moves the weights.

    Parameters
    ----------
    module : Autoencoder
        Built by :func:`build_network` with ``residual=True``.
    components : Tensor of shape (n_pca, n_features)
        Orthonormal principal axes of the (centred, scaled) training data; ``n_pca`` may be
        smaller than the code size (over-complete codes, or fewer samples than
        components): the other code units start with a zero linear path.
    code_std : Tensor of shape (n_pca,)
        Standard deviation of each PCA score; the non-linear paths see codes divided by it.
    code_unit : float
        Codes are multiplied by this on the way out (and divided on the way in), so a
        caller that scaled its inputs by ``1 / code_unit`` gets PCA scores in the original
        units.
    """
    n_pca = components.shape[0]
    std = torch.ones_like(module.encoder.out_scale)
    std[:n_pca] = code_std.clamp_min(torch.finfo(components.dtype).tiny)
    _zero_linear_paths(module)
    # unit-variance internal codes: u = (V x) / std, z = u * std * unit, x_hat = V^T (z / unit)
    module.encoder.linear.weight[:n_pca] = components / std[:n_pca, None]
    module.decoder.linear.weight[:, :n_pca] = components.T * std[None, :n_pca]
    module.encoder.out_scale.copy_(std * code_unit)
    module.decoder.in_scale.copy_(std * code_unit)
    return module


@torch.no_grad()
def write_ppca_start(module, components, explained_variance, noise_variance, output_bias=None):
    """Set a residual :class:`~sklearn_ae.nn.VariationalAutoencoder` to probabilistic PCA.

    With eigenvalues ``lam`` (floored at ``sigma2``) and axes ``U`` of the centred data,
    PPCA's maximum likelihood decoder is ``W = U diag(sqrt(lam - sigma2))``, its exact
    posterior has mean ``diag(sqrt(lam - sigma2) / lam) U^T x`` and variance
    ``sigma2 / lam`` (Tipping & Bishop, 1999). A linear VAE represents this exactly, so the
    untrained model's ELBO is PPCA's log-likelihood (Gaussian likelihood).

    Parameters
    ----------
    module : VariationalAutoencoder
        Built by :func:`build_network` with ``residual=True, variational=True``.
    components : Tensor of shape (n_pca, n_features)
        Orthonormal principal axes; latent units without an axis start unused (zero
        weights, posterior equal to the prior).
    explained_variance : Tensor of shape (n_pca,)
        PCA's eigenvalues.
    noise_variance : float
        PPCA's observation variance (mean of the discarded eigenvalues), positive; the
        start of the learned observation variance, where the module has one.
    output_bias : Tensor of shape (n_features,) or None
        Initial bias of the decoder's linear path (e.g. the logits of the mean for a
        Bernoulli likelihood); zero when None.
    """
    n_pca, k = components.shape[0], module.n_components
    sigma2 = float(noise_variance)
    lam = explained_variance.clamp_min(sigma2)
    loading = (lam - sigma2).sqrt()
    _zero_linear_paths(module)
    module.encoder.linear.weight[:n_pca] = components * (loading / lam)[:, None]
    # log-variance rows: no weights, a constant posterior variance sigma2 / lam
    module.encoder.linear.bias[k : k + n_pca] = torch.log(sigma2 / lam)
    module.decoder.linear.weight[:, :n_pca] = components.T * loading[None, :]
    if output_bias is not None:
        module.decoder.linear.bias.copy_(output_bias)
    if module.log_noise_var is not None:
        module.log_noise_var.fill_(math.log(sigma2))
    return module
