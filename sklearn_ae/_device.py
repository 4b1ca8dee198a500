"""Device resolution (the only place that asks whether CUDA is available), and what goes
with a device: CPU copies of state, out-of-memory advice."""

import contextlib
import copy
import re

import numpy as np
import torch

from ._warn import warn

_DEVICE_RE = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")


def is_concrete_device(device):
    """Whether ``device`` names a device (``"cpu"``, ``"cuda"``, ``"cuda:N"``), as
    ``device_`` does after ``"auto"`` is resolved."""
    return isinstance(device, str) and device != "auto" and bool(_DEVICE_RE.match(device))


def resolve_device(device, local_rank=None):
    """Turn the ``device`` parameter into a concrete torch device string.

    ``"auto"`` picks ``"cuda"`` when a CUDA device is present and ``"cpu"`` otherwise;
    an explicit CUDA request on a machine without one is an error, not a silent fallback.
    With ``local_rank`` (data-parallel training, one process per GPU), ``"auto"`` and
    ``"cuda"`` mean this process's GPU, ``"cuda:<local_rank>"``.
    """
    if not isinstance(device, str) or not _DEVICE_RE.match(device):
        raise ValueError(
            f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N'; got {device!r}."
        )
    if device == "auto":
        device = "cuda" if cuda_available() else "cpu"
    if device == "cuda" and local_rank is not None:
        device = f"cuda:{local_rank}"
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
        warn(
            f"The model was fitted on {device!r}, which is not available here; it was "
            "loaded onto the CPU.",
            UserWarning,
        )
        return "cpu"
    return device


def loadable_precision(precision, device):
    """The training precision a model loaded onto ``device`` can continue with: float16
    (CUDA only) becomes float32 on the CPU."""
    if precision == "float16" and not device.startswith("cuda"):
        return "float32"
    return precision


def cpu_has_native_bfloat16():
    """Whether this CPU multiplies bfloat16 in hardware (AVX512-BF16 or AMX).

    Without it, torch emulates bfloat16 matmuls and they run tens of times slower than
    float32 (0.3 vs 177 GFLOP/s measured on an AVX2-only EPYC).
    """
    cpu = torch.cpu
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(getattr(cpu, name, lambda: False)() for name in checks)


def resolve_precision(precision, device):
    """Turn the ``precision`` parameter into ``"float32"``, ``"bfloat16"`` or ``"float16"``.

    ``"auto"`` picks bfloat16 only where the hardware runs it natively (a CUDA device that
    supports it, or a CPU with AVX512-BF16 / AMX) and float32 elsewhere. float16 needs
    CUDA (its gradient scaling and fast kernels are GPU features).
    """
    cuda = device.startswith("cuda")
    if precision == "auto":
        native = cuda_has_bfloat16(device) if cuda else cpu_has_native_bfloat16()
        return "bfloat16" if native else "float32"
    if precision == "float16" and not cuda:
        raise ValueError(
            f"precision='float16' needs a CUDA device; got device={device!r}. On the CPU "
            "use precision='bfloat16' (or 'auto')."
        )
    if precision == "bfloat16":
        if cuda and not cuda_has_bfloat16(device):
            raise ValueError(
                f"precision='bfloat16' is not supported by {device!r}; use 'float16' or "
                "'float32'."
            )
        if not cuda and not cpu_has_native_bfloat16():
            warn(
                "precision='bfloat16' on a CPU without native bfloat16 (AVX512-BF16 or "
                "AMX): torch emulates it, and training runs much slower than in float32. "
                "precision='auto' picks float32 here.",
                UserWarning,
            )
    return precision


def cuda_has_bfloat16(device):
    """Whether the CUDA device named ``device`` (not just the current one) has bfloat16
    tensor cores (compute capability 8.0, Ampere, or newer)."""
    return torch.cuda.get_device_capability(torch.device(device))[0] >= 8


def cpu_copy(obj):
    """A copy of a (nested) state dict with every tensor on the CPU."""
    return _map_leaves(obj, torch.Tensor, lambda t: t.detach().to("cpu", copy=True))


def to_arrays(obj):
    """A copy of a (nested) state dict with every tensor as a numpy array: a state that
    pickle, joblib and skops store without torch, and that loads on any device."""
    return _map_leaves(obj, torch.Tensor, lambda t: t.detach().cpu().numpy().copy())


def to_tensors(obj):
    """The inverse of :func:`to_arrays`: every numpy array as a CPU tensor."""
    return _map_leaves(obj, np.ndarray, lambda a: torch.from_numpy(np.array(a)))


def _map_leaves(obj, kind, fn):
    """A copy of nested dicts, lists and tuples with ``fn`` applied to the leaves of type
    ``kind`` (other leaves deep-copied)."""
    if isinstance(obj, kind):
        return fn(obj)
    if isinstance(obj, dict):
        return {key: _map_leaves(value, kind, fn) for key, value in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_map_leaves(value, kind, fn) for value in obj)
    return copy.deepcopy(obj)


@contextlib.contextmanager
def oom_advice(advice):
    """Re-raise a CUDA out-of-memory error with ``advice`` (what to lower) in front of
    torch's own message."""
    try:
        yield
    except torch.cuda.OutOfMemoryError as exc:
        raise torch.cuda.OutOfMemoryError(f"{advice} Original error: {exc}") from exc
