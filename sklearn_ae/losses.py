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

# fused one-kernel means for training; equal to the mean of the per-sample losses because
# every sample has the same number of features
_MEAN_LOSSES = {"mse": F.mse_loss, "bce": F.binary_cross_entropy_with_logits}


def reconstruction_loss(kind, output, target, reduction="none"):
    """Reconstruction loss of kind ``"mse"`` or ``"bce"``.

    ``reduction="none"`` gives one value per sample, ``"mean"`` their mean (computed by
    torch's fused loss, which is faster in the training loop).
    """
    if reduction == "mean":
        return _MEAN_LOSSES[kind](output, target)
    return RECONSTRUCTION_LOSSES[kind](output, target)
