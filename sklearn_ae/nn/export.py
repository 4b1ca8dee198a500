"""A fitted network's encoder or decoder as one plain module, the scaling built in, and
that module as an ONNX graph."""

import importlib
import warnings

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


def onnx_model(module, n_inputs, input_name, output_name, opset=None):
    """``module``, mapping float32 rows of ``n_inputs`` values to rows, as an ONNX model
    whose first (batch) dimension is dynamic.

    Exported with torch's ``torch.export``-based exporter (``dynamo=True``, which needs
    ``onnxscript``): the TorchScript exporter is deprecated and due for removal.

    Parameters
    ----------
    module : nn.Module
        On the CPU, in eval mode.
    n_inputs : int
        Width of an input row.
    input_name, output_name : str
        Names of the graph's input and output.
    opset : int or None
        ONNX opset of the default domain; None for the exporter's default.

    Returns
    -------
    model : onnx.ModelProto
    """
    import_optional("onnx")
    import_optional("onnxscript")
    example = torch.zeros(2, n_inputs)  # 0 and 1 would be specialised as constants
    with warnings.catch_warnings():
        # deprecation notices from torch's own internals, nothing the caller can act on
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        program = torch.onnx.export(
            module,
            (example,),
            dynamo=True,
            verbose=False,
            opset_version=opset,
            input_names=[input_name],
            output_names=[output_name],
            dynamic_shapes=({0: torch.export.Dim("batch")},),
        )
    return program.model_proto


def import_optional(name, extra="onnx"):
    """The module ``name``, or an ImportError saying which extra of the package brings it."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise ImportError(
            f"This needs the optional package {name!r}: install sklearn-ae with the "
            f"{extra!r} extra, pip install 'sklearn-ae[{extra}]'."
        ) from exc
