"""Convolutional encoders and decoders for images passed as flattened rows.

scikit-learn estimators see images as rows of ``H * W * C`` numbers: an array of images of
shape ``(n, H, W, C)`` (or ``(n, H, W)``) reshaped to ``(n, -1)``. The modules here take and
return such rows and do the reshaping themselves, so they plug into :class:`Autoencoder`
exactly like the MLPs (see :func:`~sklearn_ae.nn.build_network`). ``image_shape`` arguments
are in torch order ``(C, H, W)``; use
:func:`torch_image_shape` to convert the ``(H, W)`` / ``(H, W, C)`` that users pass.

The encoder halves the image with stride-2 convolutions (one per entry of ``channels``), the
decoder mirrors it with stride-2 transposed convolutions whose output padding restores odd
sizes exactly (28 -> 14 -> 7 -> 14 -> 28; 8 -> 4 -> 2 -> 4 -> 8).
"""

from numbers import Integral

import numpy as np
from torch import nn

from .mlp import ACTIVATIONS, zero_layer

DEFAULT_CHANNELS = (32, 64)


def torch_image_shape(image_shape):
    """``(H, W)`` or ``(H, W, C)`` (numpy, channels last) -> ``(C, H, W)`` (torch)."""
    if len(image_shape) == 2:
        return (1, int(image_shape[0]), int(image_shape[1]))
    h, w, c = image_shape
    return (int(c), int(h), int(w))


def _is_size(value):
    return isinstance(value, (Integral, np.integer)) and not isinstance(value, (bool, np.bool_))


def resolve_image_shape(image_shape, n_features):
    """``(H, W)`` / ``(H, W, C)``, one entry possibly -1 (inferred, as in numpy.reshape),
    checked against rows of ``n_features`` values; returned in torch order ``(C, H, W)``."""
    shape = image_shape
    if (
        len(shape) not in (2, 3)
        or not all(_is_size(s) and (s > 0 or s == -1) for s in shape)
        or list(shape).count(-1) > 1
    ):
        raise ValueError(
            "image_shape must be 2 or 3 positive integers (height, width[, channels]), "
            "one of which may be -1 (inferred, as in numpy.reshape); got "
            f"image_shape={shape!r}."
        )
    n_values = int(np.prod([s for s in shape if s != -1]))
    if -1 in shape:
        if n_features % n_values:
            raise ValueError(
                f"image_shape={tuple(shape)!r} cannot hold X's {n_features} features: "
                f"{n_features} is not a multiple of {n_values}."
            )
        shape = tuple(n_features // n_values if s == -1 else int(s) for s in shape)
    elif n_values != n_features:
        raise ValueError(
            f"image_shape={tuple(shape)!r} has {n_values} pixels but X has "
            f"{n_features} features."
        )
    return torch_image_shape(shape)


def downsampled_sizes(height, width, n_layers):
    """Spatial sizes after each stride-2 layer (kernel 3, padding 1): ``ceil(size / 2)``."""
    sizes = [(height, width)]
    for _ in range(n_layers):
        h, w = sizes[-1]
        sizes.append(((h + 1) // 2, (w + 1) // 2))
    return sizes


def max_conv_layers(height, width):
    """How many stride-2 layers an image allows: halving stops before a side of 2 or more
    would shrink to 1 (28x28 allows 4, 8x8 allows 2); sides of 1 stay 1, so a 1 x W
    "image" (a signal) halves along W only."""
    n = 0
    while max(height, width) > 1:
        new = ((height + 1) // 2, (width + 1) // 2)
        if any(old > 1 and size < 2 for old, size in zip((height, width), new)):
            break
        height, width = new
        n += 1
    return n


def _check(image_shape, channels):
    c, h, w = image_shape
    if len(channels) > max_conv_layers(h, w):
        raise ValueError(
            f"An image of {h}x{w} pixels allows at most {max_conv_layers(h, w)} stride-2 "
            f"convolution layers; got channels={tuple(channels)!r}."
        )


class ConvEncoder(nn.Module):
    """Flattened images ``(N, H*W*C)`` -> ``(N, n_outputs)``.

    Stride-2 3x3 convolutions (each followed by ``activation``), then a linear layer.

    Parameters
    ----------
    image_shape : tuple of int
        ``(C, H, W)``; the input rows are ``(H, W, C)`` images flattened in C order.
    n_outputs : int
    channels : sequence of int, default=(32, 64)
        Output channels of the stride-2 layers; each halves the image.
    activation : str, default="relu"
    zero_last : bool, default=False
        Start the final linear layer at zero (for the residual path of a PCA start).
    """

    def __init__(self, image_shape, n_outputs, channels=DEFAULT_CHANNELS, activation="relu",
                 zero_last=False):
        super().__init__()
        self.image_shape = tuple(int(s) for s in image_shape)
        _check(self.image_shape, channels)
        c, h, w = self.image_shape
        layers, n_in = [], c
        for n_out in channels:
            layers += [nn.Conv2d(n_in, n_out, 3, stride=2, padding=1), ACTIVATIONS[activation]()]
            n_in = n_out
        self.convs = nn.Sequential(*layers)
        hf, wf = downsampled_sizes(h, w, len(channels))[-1]
        self.linear = nn.Linear(n_in * hf * wf, n_outputs)
        if zero_last:
            zero_layer(self.linear)

    def forward(self, x):
        c, h, w = self.image_shape
        images = x.reshape(-1, h, w, c).permute(0, 3, 1, 2)
        return self.linear(self.convs(images).flatten(1))


class ConvDecoder(nn.Module):
    """Codes ``(N, n_inputs)`` -> flattened images ``(N, H*W*C)`` (raw outputs / logits).

    A linear layer to the encoder's smallest feature map, then stride-2 transposed
    convolutions back to full size, then a 3x3 convolution to ``C`` channels (no activation).

    Parameters
    ----------
    n_inputs : int
    image_shape : tuple of int
        ``(C, H, W)``; output rows are ``(H, W, C)`` images flattened in C order.
    channels : sequence of int, default=(32, 64)
        The encoder's channels; the decoder runs through them in reverse.
    activation : str, default="relu"
    zero_last : bool, default=False
        Start the final convolution at zero, so the decoder outputs 0 before training.
    """

    def __init__(self, n_inputs, image_shape, channels=DEFAULT_CHANNELS, activation="relu",
                 zero_last=False):
        super().__init__()
        self.image_shape = tuple(int(s) for s in image_shape)
        _check(self.image_shape, channels)
        c, h, w = self.image_shape
        sizes = downsampled_sizes(h, w, len(channels))
        channels = list(channels)
        self.start_shape = (channels[-1] if channels else c, *sizes[-1])
        self.linear = nn.Linear(n_inputs, self.start_shape[0] * sizes[-1][0] * sizes[-1][1])
        layers = [ACTIVATIONS[activation]()] if channels else []
        outs = list(reversed(channels[:-1])) + [channels[0]] if channels else []
        n_in = self.start_shape[0]
        for i, n_out in enumerate(outs):
            (hi, wi), (ho, wo) = sizes[len(channels) - i], sizes[len(channels) - i - 1]
            # (in - 1) * 2 - 2 + 3 = 2 * in - 1; output padding 1 restores even sizes
            pad = (ho - (2 * hi - 1), wo - (2 * wi - 1))
            layers += [
                nn.ConvTranspose2d(n_in, n_out, 3, stride=2, padding=1, output_padding=pad),
                ACTIVATIONS[activation](),
            ]
            n_in = n_out
        self.deconvs = nn.Sequential(*layers)
        self.out = nn.Conv2d(n_in, c, 3, padding=1)
        if zero_last:
            zero_layer(self.out)

    def forward(self, z):
        images = self.deconvs(self.linear(z).reshape(-1, *self.start_shape))
        return self.out(images).permute(0, 2, 3, 1).flatten(1)
