"""Helpers shared by the benchmark scripts: threads, devices, timing, report writing.

What they measure (MSE, kNN probe, MNIST split, environment) is :mod:`sklearn_ae.evaluation`,
shared with the CLI.
"""

import argparse
import csv
import json
import time
from pathlib import Path

import numpy as np
import torch

# the directory holding the benchmarks package: where ``python -m benchmarks.<script>`` runs
REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"


def argument_parser(module, doc):
    """The parser of the script ``module`` (its ``__spec__.name``, e.g.
    ``"benchmarks.suite"``): usage reads ``python -m benchmarks.suite``, the command that runs
    it, and the description is the first paragraph of the script's docstring ``doc``."""
    return argparse.ArgumentParser(prog=f"python -m {module}", description=doc.split("\n\n")[0])


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
