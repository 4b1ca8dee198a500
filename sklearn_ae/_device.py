"""Device resolution: the only place that asks whether CUDA is available."""

import re
import warnings

import torch

_DEVICE_RE = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")


def resolve_device(device):
    """Turn the ``device`` parameter into a concrete torch device string.

    ``"auto"`` picks ``"cuda"`` when a CUDA device is present and ``"cpu"`` otherwise;
    an explicit CUDA request on a machine without one is an error, not a silent fallback.
    """
    if not isinstance(device, str) or not _DEVICE_RE.match(device):
        raise ValueError(
            f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N'; got {device!r}."
        )
    if device == "auto":
        return "cuda" if cuda_available() else "cpu"
    if device.startswith("cuda"):
        if not cuda_available():
            raise ValueError(
                f"device={device!r} was requested but CUDA is not available on this "
                "machine; use device='auto' or 'cpu'."
            )
        index = int(device.split(":")[1]) if ":" in device else 0
        if index >= torch.cuda.device_count():
            raise ValueError(
                f"device={device!r} does not exist: this machine has "
                f"{torch.cuda.device_count()} CUDA device(s)."
            )
    return device


def cuda_available():
    return torch.cuda.is_available()


def loadable_device(device):
    """The device a model saved on ``device`` can be loaded onto here.

    A model trained on a GPU and unpickled on a CPU-only machine falls back to the CPU with
    a warning instead of failing.
    """
    if device.startswith("cuda") and not cuda_available():
        warnings.warn(
            f"The model was fitted on {device!r}, which is not available here; it was "
            "loaded onto the CPU.",
            UserWarning,
            stacklevel=3,
        )
        return "cpu"
    return device


def fork_rng_devices(device):
    """Devices whose RNG state ``torch.random.fork_rng`` must save and restore."""
    if device.startswith("cuda"):
        return [torch.device(device).index or 0]
    return []
