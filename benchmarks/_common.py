"""Helpers shared by the benchmark scripts: environment, timing, data, report writing."""

import csv
import datetime
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch

RESULTS_DIR = Path(__file__).resolve().parent / "results"

# the project's MNIST convention: first 8000 rows train, last 2000 test
MNIST_N_TRAIN = 8000


def cpu_model():
    """The CPU's marketing name, from /proc/cpuinfo where there is one."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment(device="cpu"):
    """Versions and hardware that the numbers depend on."""
    import sklearn
    import skorch

    import sklearn_ae

    env = {
        "timestamp": datetime.datetime.now().isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "sklearn": sklearn.__version__,
        "skorch": skorch.__version__,
        "sklearn_ae": sklearn_ae.__version__,
        "device": device,
    }
    if str(device).startswith("cuda"):
        env["gpu"] = torch.cuda.get_device_name(torch.device(device))
    return env


def set_threads(n_threads):
    """Pin torch's intra-op threads (None keeps torch's default)."""
    if n_threads is not None:
        torch.set_num_threads(n_threads)


def check_device(device):
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        raise SystemExit(f"--device {device} was requested but CUDA is not available here.")


def synchronize(device):
    # CUDA kernels run asynchronously; a timer must wait for them to finish
    if str(device).startswith("cuda"):
        torch.cuda.synchronize(torch.device(device))


def timed(fn, device="cpu"):
    """Run ``fn()`` and return ``(result, seconds)``, waiting for the device to finish."""
    synchronize(device)
    start = time.perf_counter()
    result = fn()
    synchronize(device)
    return result, time.perf_counter() - start


def load_mnist_split(n_train=None, n_test=None):
    """MNIST subset as (X_train, X_test), float32 pixels in [0, 1].

    ``n_train`` / ``n_test`` keep the first rows of each split (for quick checks).
    """
    from sklearn_ae.datasets import load_mnist_10k

    X, _ = load_mnist_10k(return_X_y=True)
    X_train, X_test = X[:MNIST_N_TRAIN], X[MNIST_N_TRAIN:]
    return X_train[:n_train], X_test[:n_test]


def fmt(value, spec=".4g"):
    """Format a table cell; None and strings pass through."""
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    return format(value, spec)


def markdown_table(headers, rows):
    """A GitHub markdown table from a header list and rows of already formatted cells."""
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    lines = [
        "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths)) + " |",
        "|" + "|".join("-" * (w + 2) for w in widths) + "|",
    ]
    lines += [
        "| " + " | ".join(_align(c, w) for c, w in zip(r, widths)) + " |" for r in cells
    ]
    return "\n".join(lines)


def _align(cell, width):
    # numbers right-aligned so digits line up, text left-aligned
    try:
        float(cell)
    except ValueError:
        return cell.ljust(width)
    return cell.rjust(width)


def _jsonable(obj):
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def write_json(path, obj):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, default=_jsonable) + "\n")
    return path


def write_csv(path, rows):
    """Write a list of flat dicts (all with the same keys) as CSV."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path
