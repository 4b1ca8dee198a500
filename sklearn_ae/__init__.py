"""sklearn-ae: scikit-learn compatible autoencoder transformers on PyTorch."""

from ._autoencoder import AutoencoderTransformer

__version__ = "0.1.0"

__all__ = ["AutoencoderTransformer", "__version__"]
