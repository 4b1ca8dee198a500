"""Pure PyTorch building blocks (no scikit-learn imports).

:func:`build_network` builds every network of the family from its sizes;
:func:`write_pca_start` and :func:`write_ppca_start` write a data-derived start into it.
"""

from .conv import ConvDecoder, ConvEncoder, max_conv_layers, torch_image_shape
from .export import ScaledPart, onnx_model
from .mlp import ACTIVATIONS, Autoencoder, Axes, CodeScale, Residual, make_mlp
from .networks import (
    build_network,
    default_hidden_layer_sizes,
    init_weights,
    input_axes,
    write_axes,
    write_pca_start,
    write_ppca_start,
)
from .supervised import SupervisedNetwork, build_head, write_linear_start
from .vae import VariationalAutoencoder

__all__ = [
    "ACTIVATIONS",
    "Autoencoder",
    "Axes",
    "CodeScale",
    "ConvDecoder",
    "ConvEncoder",
    "Residual",
    "ScaledPart",
    "SupervisedNetwork",
    "VariationalAutoencoder",
    "build_head",
    "build_network",
    "default_hidden_layer_sizes",
    "init_weights",
    "input_axes",
    "make_mlp",
    "max_conv_layers",
    "onnx_model",
    "torch_image_shape",
    "write_linear_start",
    "write_axes",
    "write_pca_start",
    "write_ppca_start",
]
