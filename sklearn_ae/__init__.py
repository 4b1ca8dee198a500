"""sklearn-ae: scikit-learn compatible autoencoder transformers on PyTorch."""

from ._autoencoder import AutoencoderTransformer
from ._contractive import ContractiveAutoencoder
from ._denoising import DenoisingAutoencoder
from ._persistence import load, save
from ._vae import VAETransformer

__version__ = "0.1.0"

__all__ = [
    "AutoencoderTransformer",
    "ContractiveAutoencoder",
    "DenoisingAutoencoder",
    "VAETransformer",
    "load",
    "save",
    "__version__",
]
