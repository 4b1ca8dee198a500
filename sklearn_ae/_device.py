"""Device resolution (the only place that asks whether CUDA is available), and what goes
with a device: CPU copies of state, out-of-memory advice."""

import contextlib
import copy
import re
import time

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
    """Check the ``precision`` parameter against ``device``: ``"float32"``,
    ``"bfloat16"`` and ``"float16"`` come back as they are (float16 needs CUDA, its
    gradient scaling and fast kernels are GPU features); ``"auto"`` too, to be decided by
    :func:`auto_precision` once the network exists.
    """
    cuda = device.startswith("cuda")
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


# bfloat16 is chosen only when a training step runs at least this much faster in it: the
# forward and backward passes are timed, the optimizer's step (float32 master weights in
# both) is not, so the whole step gains less than measured. Below the margin float32 is
# kept, at most 1/1.05 = 0.95 of bfloat16's speed; the margin also keeps bfloat16's
# rounding out of fits where it would buy almost nothing.
_BFLOAT16_MARGIN = 1.05
_MEASURE_ROUNDS = 10
_MEASURE_BUDGET_S = 1.0

# auto_precision's measurements in this process, by device and network shape
_MEASURED = {}


class PrecisionChoice(tuple):
    """``(choice, float32_seconds, bfloat16_seconds)`` of one measurement."""

    choice = property(lambda self: self[0])

    def describe(self):
        choice, t32, t16 = self
        if t32 is None:
            return "precision='auto' chose float32: this device has no native bfloat16"
        return (
            f"precision='auto' chose {choice}: a forward and backward pass of this network "
            f"took {t32 * 1e3:.3g} ms in float32 and {t16 * 1e3:.3g} ms in bfloat16 "
            f"({t32 / t16:.2f}x; bfloat16 needs {_BFLOAT16_MARGIN}x)"
        )


def auto_precision(device, module, batch_shape):
    """What ``precision="auto"`` trains ``module`` in on ``device`` with batches of
    ``batch_shape``: a :class:`PrecisionChoice`.

    bfloat16 only where the hardware has it natively (a CUDA device that supports it, or a
    CPU with AVX512-BF16 / AMX; emulated bfloat16 is tens of times slower, not worth
    timing) *and* a forward and backward pass of this network was measured at least
    ``_BFLOAT16_MARGIN`` times faster in bfloat16 than in float32 (fastest of up to 10
    alternating rounds): CPUs with the same
    flag differ (AVX512-BF16 without AMX can be slower in bfloat16). Measured once per
    process, device and network shape (parameter and batch shapes), then remembered, so
    fits of one network in one process take the same decision.
    """
    cuda = device.startswith("cuda")
    if not (cuda_has_bfloat16(device) if cuda else cpu_has_native_bfloat16()):
        return PrecisionChoice(("float32", None, None))
    shapes = tuple(tuple(p.shape) for p in module.state_dict().values())
    key = (str(device), type(module).__name__, shapes, tuple(batch_shape))
    if key not in _MEASURED:
        # a copy: the module's weights, buffers and gradients stay untouched
        module = copy.deepcopy(module).to(device)
        t32, t16 = _fastest_step_seconds(module, batch_shape, device)
        choice = "bfloat16" if t32 >= _BFLOAT16_MARGIN * t16 else "float32"
        _MEASURED[key] = PrecisionChoice((choice, t32, t16))
    return _MEASURED[key]


def _fastest_step_seconds(module, batch_shape, device):
    """Fastest seconds of a forward and backward pass in float32 and in bfloat16, over
    alternating rounds (after one warm-up of each) within a time budget: the fastest
    round is the least disturbed by whatever else the machine runs (on a busy 2-core
    machine single passes were seen 100x slower than undisturbed ones)."""
    x = torch.randn(batch_shape, generator=torch.Generator().manual_seed(0)).to(device)
    # evaluation mode: the same matmuls forward and backward, and no draws from torch's
    # global generator (the VAE samples its latent codes in training mode), which other
    # threads may be drawing from meanwhile (forking it would undo their draws)
    module.eval()
    times = {"float32": [], "bfloat16": []}
    start = time.perf_counter()
    for round_ in range(_MEASURE_ROUNDS + 1):
        for dtype in times:
            seconds = _step_seconds(module, x, dtype, device)
            if round_:  # the first round warms up
                times[dtype].append(seconds)
        if round_ >= 3 and time.perf_counter() - start > _MEASURE_BUDGET_S:
            break
    return min(times["float32"]), min(times["bfloat16"])


def _step_seconds(module, x, dtype, device):
    """Seconds of one forward and backward pass of ``module`` on ``x`` in ``dtype``."""
    _synchronize(device)
    start = time.perf_counter()
    autocast = torch.autocast(torch.device(device).type, dtype=torch.bfloat16,
                              enabled=dtype == "bfloat16")
    with autocast:
        out = module(x)
    outputs = out if isinstance(out, tuple) else (out,)
    loss = sum(t.float().square().mean() for t in outputs
               if isinstance(t, torch.Tensor) and t.requires_grad)
    loss.backward()
    _synchronize(device)
    seconds = time.perf_counter() - start
    module.zero_grad(set_to_none=True)
    return seconds


def _synchronize(device):
    if device.startswith("cuda"):
        torch.cuda.synchronize(device)


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
    """Re-raise an out-of-memory error with ``advice`` (what to lower) in front of torch's
    own message: CUDA's as it is, the CPU allocator's RuntimeError as MemoryError."""
    try:
        yield
    except torch.cuda.OutOfMemoryError as exc:
        raise torch.cuda.OutOfMemoryError(f"{advice} Original error: {exc}") from exc
    except RuntimeError as exc:
        # torch's CPU allocator raises a plain RuntimeError
        if "can't allocate memory" not in str(exc):
            raise
        raise MemoryError(f"{advice} Original error: {exc}") from exc
