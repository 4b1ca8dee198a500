"""A head on an autoencoder's codes: the network a classifier or regressor fine-tunes.

:func:`build_head` builds the head from its sizes alone (so a saved model is rebuilt from
them), :func:`write_linear_start` writes a fitted linear model into a head without hidden
layers, and :class:`SupervisedNetwork` joins an autoencoder network and a head.
"""

import contextlib

import torch
from torch import nn

from .mlp import make_mlp
from .networks import init_weights


class Affine(nn.Module):
    """``x * weight + bias`` with fixed per-unit ``weight`` and ``bias`` (buffers): the
    standardisation of the codes, or the mapping of a regressor's outputs to its targets'
    units."""

    def __init__(self, size):
        super().__init__()
        self.register_buffer("weight", torch.ones(size))
        self.register_buffer("bias", torch.zeros(size))

    @torch.no_grad()
    def set(self, weight, bias):
        self.weight.copy_(torch.as_tensor(weight, dtype=torch.float32))
        self.bias.copy_(torch.as_tensor(bias, dtype=torch.float32))
        return self

    def forward(self, x):
        return x * self.weight + self.bias


def build_head(n_inputs, hidden_layer_sizes, n_outputs, activation="relu", *, generator=None,
               device="cpu"):
    """``Sequential(Affine, mlp)``: codes standardised by fixed buffers (set them with
    ``head[0].set``), then fully connected layers ``n_inputs -> *hidden -> n_outputs``.

    ``generator`` draws the initial weights (a fresh one if None); ``device="meta"`` gives
    the shapes only, as :func:`~sklearn_ae.nn.build_network` does.
    """
    with torch.device("meta"):
        head = nn.Sequential(
            Affine(n_inputs), make_mlp([n_inputs, *hidden_layer_sizes, n_outputs], activation)
        )
    if torch.device(device).type == "meta":
        return head
    head.to_empty(device=device)
    head[0].set(torch.ones(n_inputs), torch.zeros(n_inputs))
    return init_weights(head, torch.Generator() if generator is None else generator)


@torch.no_grad()
def write_linear_start(head, coef, intercept):
    """Set the last layer of ``head`` to a fitted linear model on the standardised codes:
    ``coef`` of shape ``(n_outputs, n_inputs)`` and ``intercept`` of shape ``(n_outputs,)``
    (a logistic regression's or a ridge's ``coef_`` and ``intercept_``)."""
    last = head[-1][-1]
    last.weight.copy_(torch.as_tensor(coef, dtype=torch.float32))
    last.bias.copy_(torch.as_tensor(intercept, dtype=torch.float32))


class SupervisedNetwork(nn.Module):
    """An autoencoder ``network`` (with ``encode`` and ``decode``) and a ``head`` on its
    codes.

    ``forward(x)`` returns ``(head output, reconstruction, codes)``. The reconstruction is
    computed only in training mode and with ``reconstruct`` (it feeds the reconstruction
    term of fine-tuning); otherwise it is None. With ``freeze_encoder`` the codes are
    computed without gradients, so only the head trains and the encoder's backward pass is
    never run.
    """

    def __init__(self, network, head, freeze_encoder=False, reconstruct=False):
        super().__init__()
        self.network = network
        self.head = head
        self.freeze_encoder = bool(freeze_encoder)
        self.reconstruct = bool(reconstruct) and not self.freeze_encoder

    def encode(self, x):
        with torch.no_grad() if self.freeze_encoder else contextlib.nullcontext():
            return self.network.encode(x)

    def predict(self, x):
        """The head's output alone."""
        return self.head(self.encode(x))

    def forward(self, x):
        codes = self.encode(x)
        recon = self.network.decode(codes) if self.reconstruct and self.training else None
        return self.head(codes), recon, codes
