"""Reconstruction losses as pure tensor functions.

Each returns one value per sample (mean over features) so the same function serves the
training objective (its mean) and ``score_samples``.
"""

import torch.nn.functional as F


def mse_per_sample(output, target):
    """Mean squared error of each row; ``output`` is the decoder's linear output."""
    return (output - target).pow(2).flatten(1).mean(1)


def bce_per_sample(logits, target):
    """Binary cross-entropy of each row; the decoder outputs logits, targets lie in [0, 1]."""
    return F.binary_cross_entropy_with_logits(logits, target, reduction="none").flatten(1).mean(1)


RECONSTRUCTION_LOSSES = {"mse": mse_per_sample, "bce": bce_per_sample}


def reconstruction_loss(kind, output, target):
    """Per-sample reconstruction loss of kind ``"mse"`` or ``"bce"``."""
    return RECONSTRUCTION_LOSSES[kind](output, target)
