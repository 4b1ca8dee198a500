"""Pure PyTorch building blocks (no scikit-learn imports)."""

from .mlp import ACTIVATIONS, Autoencoder, make_mlp, pca_residual_autoencoder, plain_autoencoder
from .conv import (
    ConvDecoder,
    ConvEncoder,
    conv_autoencoder,
    pca_residual_conv_autoencoder,
    torch_image_shape,
)
from .vae import (
    VariationalAutoencoder,
    conv_variational_autoencoder,
    plain_variational_autoencoder,
    ppca_variational_autoencoder,
)

__all__ = [
    "ACTIVATIONS",
    "Autoencoder",
    "make_mlp",
    "pca_residual_autoencoder",
    "plain_autoencoder",
    "ConvDecoder",
    "ConvEncoder",
    "conv_autoencoder",
    "pca_residual_conv_autoencoder",
    "torch_image_shape",
    "VariationalAutoencoder",
    "conv_variational_autoencoder",
    "plain_variational_autoencoder",
    "ppca_variational_autoencoder",
]
