"""Pure PyTorch building blocks (no scikit-learn imports)."""

from .mlp import ACTIVATIONS, Autoencoder, make_mlp, pca_residual_autoencoder, plain_autoencoder

__all__ = [
    "ACTIVATIONS",
    "Autoencoder",
    "make_mlp",
    "pca_residual_autoencoder",
    "plain_autoencoder",
]
