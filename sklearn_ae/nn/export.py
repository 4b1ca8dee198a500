"""A fitted network's encoder or decoder as one plain module, the scaling built in, and
that module as an ONNX graph."""

import contextlib
import importlib
import logging
import warnings

import torch
from torch import nn


class ScaledPart(nn.Module):
    """The encoder or the decoder of ``network`` working in the data's own units.

    ``part="encoder"``: ``network.encode((x - mean) / scale)``, the codes of rows ``x``
    (minus ``code_shift``, divided by ``code_scale``).
    ``part="decoder"``: ``network.decode(z * code_scale + code_shift)`` mapped back to the
    data's units: through the sigmoid when ``sigmoid_output`` (Bernoulli / BCE decoders
    output logits), otherwise ``* scale + mean``.

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
    code_map : pair of array-like of shape (n_components,) or None
        ``(code_shift, code_scale)``, the codes' whitening; None for none.
    """

    def __init__(self, network, part, mean, scale, sigmoid_output=False, code_map=None):
        super().__init__()
        if part not in ("encoder", "decoder"):
            raise ValueError(f"part must be 'encoder' or 'decoder'; got {part!r}.")
        self.network = network
        self.part = part
        self.sigmoid_output = bool(sigmoid_output)
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32).clone())
        self.register_buffer("scale", torch.tensor(float(scale), dtype=torch.float32))
        shift, code_scale = (0.0, 1.0) if code_map is None else code_map
        for name, value in (("code_shift", shift), ("code_scale", code_scale)):
            self.register_buffer(name, torch.as_tensor(value, dtype=torch.float32).clone())

    def forward(self, x):
        if self.part == "encoder":
            codes = self.network.encode((x - self.mean) / self.scale)
            return (codes - self.code_shift) / self.code_scale
        out = self.network.decode(x * self.code_scale + self.code_shift)
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
    import_onnx_extra("onnx")
    import_onnx_extra("onnxscript")
    example = torch.zeros(2, n_inputs)  # 0 and 1 would be specialised as constants
    with _quiet_exporter():
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


@contextlib.contextmanager
def _quiet_exporter():
    """Silence what torch's exporter says about itself and that no caller can act on:
    deprecation notices from its internals, and a logged warning per export for every
    torchvision operator it cannot register without torchvision (never used here)."""
    registration = logging.getLogger("torch.onnx._internal.exporter._registration")
    level = registration.level
    registration.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            yield
    finally:
        registration.setLevel(level)


def import_onnx_extra(name):
    """The module ``name`` of the ``onnx`` extra, or an ImportError that names the extra."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise ImportError(
            f"ONNX export needs the optional package {name!r}: install sklearn-ae with "
            "its 'onnx' extra, pip install 'sklearn-ae[onnx]'."
        ) from exc
