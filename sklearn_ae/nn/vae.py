"""Variational autoencoder modules.

:class:`VariationalAutoencoder` wraps an encoder that emits a posterior mean and
log-variance per latent unit (``2 * n_components`` outputs) and a decoder that maps latent
points to the likelihood's parameters (the Gaussian mean, or Bernoulli logits).

``ppca_variational_autoencoder`` builds an MLP VAE that starts *exactly* at probabilistic
PCA (Tipping & Bishop, 1999): PPCA is a linear-Gaussian latent variable model whose exact
posterior is Gaussian, so with a linear encoder/decoder pair set to the PPCA maximum
likelihood solution the ELBO equals the PPCA log-likelihood. Non-linear paths whose last
layers start at zero are added to both sides, so training can only add what PPCA misses.
"""

import math

import torch
from torch import nn

from .conv import DEFAULT_CHANNELS, ConvDecoder, ConvEncoder
from .mlp import _Residual, make_mlp


class VariationalAutoencoder(nn.Module):
    """Gaussian-posterior encoder plus decoder.

    ``forward(x)`` returns ``(decoder_output, mu, logvar)``. The latent point fed to the
    decoder is ``mu + eps * exp(logvar / 2)`` (reparameterisation) when ``sample`` is true,
    and ``mu`` otherwise; ``sample`` defaults to ``self.training``, so a module in eval mode
    is deterministic.

    Parameters
    ----------
    encoder : nn.Module
        Maps ``(N, n_features)`` to ``(N, 2 * n_components)``: means, then log-variances.
    decoder : nn.Module
        Maps ``(N, n_components)`` to ``(N, n_features)``.
    n_components : int
        Latent size.
    log_noise_var : float or None
        Initial log-variance of a Gaussian observation model, learned as one scalar shared
        by all features (``None`` for likelihoods without it, e.g. Bernoulli).
    """

    def __init__(self, encoder, decoder, n_components, log_noise_var=None):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder
        self.n_components = int(n_components)
        if log_noise_var is None:
            self.register_parameter("log_noise_var", None)
        else:
            self.log_noise_var = nn.Parameter(torch.tensor(float(log_noise_var)))

    def posterior(self, x):
        """Mean and log-variance of ``q(z | x)``, each ``(N, n_components)``."""
        h = self.encoder(x)
        return h[:, : self.n_components], h[:, self.n_components :]

    def encode(self, x):
        return self.posterior(x)[0]

    def decode(self, z):
        return self.decoder(z)

    def forward(self, x, sample=None, generator=None):
        mu, logvar = self.posterior(x)
        if sample is None:
            sample = self.training
        if sample:
            eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
            z = mu + eps * torch.exp(0.5 * logvar)
        else:
            z = mu
        return self.decoder(z), mu, logvar


def plain_variational_autoencoder(
    n_features, n_components, hidden_layer_sizes, activation="relu", log_noise_var=None
):
    """The textbook MLP VAE (Kingma & Welling, 2014) with PyTorch's default initialisation;
    the decoder mirrors the encoder."""
    hidden = list(hidden_layer_sizes)
    encoder = make_mlp([n_features, *hidden, 2 * n_components], activation)
    decoder = make_mlp([n_components, *reversed(hidden), n_features], activation)
    return VariationalAutoencoder(encoder, decoder, n_components, log_noise_var)


def conv_variational_autoencoder(
    image_shape, n_components, channels=DEFAULT_CHANNELS, activation="relu", log_noise_var=None
):
    """A convolutional VAE with PyTorch's default initialisation; ``image_shape`` is
    ``(C, H, W)`` and the rows are flattened images, as for :class:`~.conv.ConvEncoder`."""
    return VariationalAutoencoder(
        ConvEncoder(image_shape, 2 * n_components, channels, activation),
        ConvDecoder(n_components, image_shape, channels, activation),
        n_components,
        log_noise_var,
    )


def ppca_variational_autoencoder(
    components,
    explained_variance,
    noise_variance,
    n_components,
    hidden_layer_sizes,
    activation="relu",
    output_bias=None,
    gaussian=True,
    image_shape=None,
):
    """An MLP VAE that starts at the probabilistic PCA solution.

    With eigenvalues ``lam`` (floored at ``sigma2``) and axes ``U`` of the centred data, PPCA's
    maximum likelihood decoder is ``W = U diag(sqrt(lam - sigma2))``, its exact posterior
    has mean ``diag(sqrt(lam - sigma2) / lam) U^T x`` and variance ``sigma2 / lam``. The
    linear paths hold these; the non-linear paths start at zero.

    Parameters
    ----------
    components : Tensor of shape (n_pca, n_features)
        Orthonormal principal axes; ``n_pca`` may be smaller than ``n_components``: the
        missing latent units start unused (zero weights, posterior equal to the prior).
    explained_variance : Tensor of shape (n_pca,)
        PCA's eigenvalues.
    noise_variance : float
        PPCA's observation variance (mean of the discarded eigenvalues), positive.
    n_components : int
        Latent size.
    hidden_layer_sizes : sequence of int
        Hidden widths of the non-linear encoder path; the decoder mirrors them. With
        ``image_shape``, the channels of the convolutional paths.
    activation : str
        Activation of the non-linear paths.
    output_bias : Tensor of shape (n_features,) or None
        Initial bias of the decoder's linear path (e.g. the logits of the mean for a
        Bernoulli likelihood); zero when None.
    gaussian : bool
        Whether to add the learned observation log-variance, initialised at
        ``log(noise_variance)``.
    image_shape : tuple (C, H, W) or None
        Use a :class:`~.conv.ConvEncoder` and a :class:`~.conv.ConvDecoder` (last layers at
        zero) as the non-linear paths instead of MLPs.
    """
    n_pca, n_features = components.shape
    hidden = list(hidden_layer_sizes)
    sigma2 = float(noise_variance)
    lam = explained_variance.clamp_min(sigma2)
    loading = (lam - sigma2).sqrt()

    enc_linear = nn.Linear(n_features, 2 * n_components)
    dec_linear = nn.Linear(n_components, n_features)
    with torch.no_grad():
        for layer in (enc_linear, dec_linear):
            layer.weight.zero_()
            layer.bias.zero_()
        enc_linear.weight[:n_pca] = components * (loading / lam)[:, None]
        # log-variance rows: no weights, a constant posterior variance sigma2 / lam (1, the
        # prior, for latent units PCA has no axis for)
        enc_linear.bias[n_components : n_components + n_pca] = torch.log(sigma2 / lam)
        dec_linear.weight[:, :n_pca] = components.T * loading[None, :]
        if output_bias is not None:
            dec_linear.bias.copy_(output_bias)

    if image_shape is None:
        enc_nonlinear = make_mlp([n_features, *hidden, 2 * n_components], activation, True)
        dec_nonlinear = make_mlp([n_components, *reversed(hidden), n_features], activation, True)
    else:
        enc_nonlinear = ConvEncoder(image_shape, 2 * n_components, hidden, activation, True)
        dec_nonlinear = ConvDecoder(n_components, image_shape, hidden, activation, True)
    one = torch.ones(1, dtype=components.dtype)
    encoder = _Residual(enc_linear, enc_nonlinear, in_scale=one, out_scale=one.clone())
    decoder = _Residual(dec_linear, dec_nonlinear, in_scale=one.clone(), out_scale=one.clone())
    return VariationalAutoencoder(
        encoder, decoder, n_components, math.log(sigma2) if gaussian else None
    )
