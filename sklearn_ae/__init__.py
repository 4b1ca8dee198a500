"""sklearn-ae: scikit-learn compatible autoencoder transformers on PyTorch.

Layout, for contributors (lower layers never import upper ones): ``nn/`` is pure torch and
builds every network from its sizes (``build_network``), with the PCA / PPCA starts written
in afterwards; ``losses.py`` and ``noise.py`` are pure tensor functions; ``_data.py`` holds
the data plumbing (column statistics, chunked scaling, tensors, memmap or Dask-block
streaming, minibatches and their shares among processes, validation splits); ``_dask.py``
recognises and checks Dask arrays (without importing Dask) and maps inference over their
blocks; ``_parallel.py`` the torch.distributed side of data-parallel training (process
group, checks that the ranks agree, loss averages, the DDP wrapper); ``_callbacks.py`` the
training concerns as skorch callbacks (non-finite guard with complete-epoch recovery, early
stopping that scores the start);
``_device.py`` devices, CPU copies of state and out-of-memory advice; ``_net.py`` the skorch
net (loss, precision, compile, the fit's own random streams, the ``penalty`` hook);
``_base.py`` the private abstract ``_BaseAutoencoder`` (validation, one ``_fit`` path, one
parameter->net mapping, inference, rebuilding from a saved state); ``_restore.py`` what
putting state back checks (a saved file's declared attributes and shapes, the snapshot a
failed fit rolls back to); ``_persistence.py`` the safe file format only (pickle, joblib
and skops store the plain state of ``_BaseAutoencoder.__getstate__``); ``_onnx.py`` the
skl2onnx converter (the export itself is ``nn/export.py``); ``_warn.py`` the one
way to warn (at the user's line); ``evaluation.py``
the metrics shared by the CLI (``_cli.py``) and ``benchmarks/``. A new member is one file
(see ``_contractive.py``): a subclass of ``_BaseAutoencoder`` with its ``__init__``,
parameter constraints and docstring, plus, where its objective differs, a small net subclass
and at most one loss function in ``losses.py``; it registers itself for save/load and
skl2onnx, and the family-wide tests pick it up from ``__all__`` once it is exported here.
``_supervised.py`` builds the classifier and the regressor on any member: the member's
fitted network plus a head (``nn/supervised.py``), fine-tuned through the same
``_NetTrainer`` mapping and net.
"""

from ._autoencoder import AutoencoderTransformer
from ._contractive import ContractiveAutoencoder
from ._denoising import DenoisingAutoencoder
from ._neighbors import NeighborEmbeddingAutoencoder
from ._onnx import register_skl2onnx
from ._persistence import load, save
from ._supervised import AutoencoderClassifier, AutoencoderRegressor
from ._vae import VAETransformer

__version__ = "0.1.0"

__all__ = [
    "AutoencoderClassifier",
    "AutoencoderRegressor",
    "AutoencoderTransformer",
    "ContractiveAutoencoder",
    "DenoisingAutoencoder",
    "NeighborEmbeddingAutoencoder",
    "VAETransformer",
    "load",
    "register_skl2onnx",
    "save",
    "__version__",
]
