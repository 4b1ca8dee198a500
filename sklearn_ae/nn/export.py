"""A fitted network's encoder or decoder as one plain module, the scaling built in."""

import torch
from torch import nn


class ScaledPart(nn.Module):
    """The encoder or the decoder of ``network`` working in the data's own units.

    ``part="encoder"``: ``network.encode((x - mean) / scale)``, the codes of rows ``x``.
    ``part="decoder"``: ``network.decode(z)`` mapped back to the data's units: through the
    sigmoid when ``sigmoid_output`` (Bernoulli / BCE decoders output logits), otherwise
    ``* scale + mean``.

    Parameters
    ----------
    network : nn.Module
        An autoencoder with ``encode`` and ``decode`` methods.
    part : {"encoder", "decoder"}
        Which half to run.
    mean : array-like of shape (n_features,)
        Per-feature centre of the training data.
    scale : float
        The one global scale the data were divided by.
    sigmoid_output : bool
        Whether the decoder outputs logits of values in [0, 1].
    """

    def __init__(self, network, part, mean, scale, sigmoid_output=False):
        super().__init__()
        if part not in ("encoder", "decoder"):
            raise ValueError(f"part must be 'encoder' or 'decoder'; got {part!r}.")
        self.network = network
        self.part = part
        self.sigmoid_output = bool(sigmoid_output)
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32).clone())
        self.register_buffer("scale", torch.tensor(float(scale), dtype=torch.float32))

    def forward(self, x):
        if self.part == "encoder":
            return self.network.encode((x - self.mean) / self.scale)
        out = self.network.decode(x)
        if self.sigmoid_output:
            return torch.sigmoid(out)
        return out * self.scale + self.mean
