"""Variational autoencoder modules.

:class:`VariationalAutoencoder` wraps an encoder that emits a posterior mean and
log-variance per latent unit (``2 * n_components`` outputs) and a decoder that maps latent
points to the likelihood's parameters (the Gaussian mean, or Bernoulli logits).

:func:`~sklearn_ae.nn.build_network` assembles one, and
:func:`~sklearn_ae.nn.write_ppca_start` sets it *exactly* to probabilistic PCA.
"""

import torch
from torch import nn


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
