"""Scale: peak memory and throughput of inference and training on large inputs.

Every case runs in a fresh Python subprocess (``--case NAME``) that prints one JSON line;
the parent collects them, writes ``scale.json`` / ``scale.md`` and prints the table. In the
subprocess: the data are made (or the file is opened), glibc is asked to return its free
memory (``malloc_trim``), the kernel's peak-RSS mark is reset (``clear_refs``) and the RSS is
read as the *baseline* (interpreter + torch + the input); then the measured operation runs
and ``VmHWM`` (the peak resident set) is read from ``/proc/self/status``. A thread samples
``RssAnon`` (heap: numpy, torch) and ``RssFile`` (pages of mapped files, e.g. a memmap: page
cache the kernel can reclaim) every 20 ms, so the table can tell them apart.

Cases (the network is n_features-512-256-30 and mirrored, float32, on the CPU):

* ``transform``, ``inverse_transform``, ``score_samples``: a model fitted by the parent on the
  first 20,000 rows (``max_epochs=1``, saved with ``sklearn_ae.save`` and loaded in the
  subprocess) maps ``--rows`` x ``--features`` float32 rows held in memory (codes for
  ``inverse_transform``);
* ``memmap_fit``: ``fit`` (``max_epochs=1``, early stopping on, validation_fraction 0.1)
  on ``--fit-rows`` rows in an ``.npy`` file opened with ``np.load(mmap_mode="r")``: streamed
  batch by batch, only the validation rows are loaded;
* ``inmemory_fit``: the same fit on the same rows held in memory;
* ``partial_fit``: one pass of ``partial_fit`` over chunks of 10,000 rows read from the file;
* ``dask_transform``: ``transform(X).compute()`` of ``--rows`` rows given as a Dask array whose
  chunks (16,384 rows, the same numbers as in memory) are made only when computed: the
  input is never in memory whole, only the codes are;
* ``dask_fit``: the fit of ``memmap_fit`` on ``--fit-rows`` rows given as such a Dask array,
  streamed block by block (needs the ``distributed`` extra, as ``dask_transform`` does).

    python -m benchmarks.bench_scale --threads 2          # 1,000,000 x 784 rows; minutes
    python -m benchmarks.bench_scale --quick              # seconds
"""

import argparse
import json
import shlex
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from benchmarks._common import (
    REPO_ROOT,
    RESULTS_DIR,
    argument_parser,
    fmt,
    markdown_table,
    set_threads,
    timed,
    write_json,
)
from benchmarks.metrics import _can_reset_hwm, _malloc_trim
from sklearn_ae.evaluation import environment

HIDDEN = (512, 256)
N_COMPONENTS = 30
MODEL_ROWS = 20_000
CHUNK_ROWS = 10_000  # partial_fit chunk
GEN_CHUNK_ROWS = 16_384  # data generation chunk
SEED = 0

INFERENCE_CASES = ("transform", "inverse_transform", "score_samples", "dask_transform")
FIT_CASES = ("memmap_fit", "inmemory_fit", "partial_fit", "dask_fit")
DASK_INPUT = f"Dask array, chunks of {GEN_CHUNK_ROWS} rows made when computed"
CASES = INFERENCE_CASES + FIT_CASES

GB = 1e9  # decimal gigabytes, as in "3.1 GB"
_STATUS = "/proc/self/status"


# --------------------------------------------------------------------- memory
def status_kib():
    """The memory lines of /proc/self/status (VmRSS, VmHWM, RssAnon, RssFile...) in KiB."""
    out = {}
    try:
        with open(_STATUS) as f:
            for line in f:
                key, _, rest = line.partition(":")
                parts = rest.split()
                if len(parts) == 2 and parts[1] == "kB":
                    out[key] = int(parts[0])
    except OSError:
        pass
    return out


# glibc's trim and the VmHWM reset are the suite's (metrics.py)
malloc_trim = _malloc_trim
reset_peak = _can_reset_hwm


class Sampler:
    """Background thread: the largest RssAnon / RssFile / VmRSS seen during the block."""

    def __init__(self, interval=0.02):
        self.interval = interval
        self.peak = {"RssAnon": 0, "RssFile": 0, "VmRSS": 0}
        self._stop = threading.Event()

    def _sample(self):
        s = status_kib()
        for key in self.peak:
            self.peak[key] = max(self.peak[key], s.get(key, 0))

    def _loop(self):
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self):
        self._sample()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self._sample()
        return False


def measure(fn):
    """Run ``fn()`` with memory accounting; returns ``(result, seconds, memory dict in GB)``."""
    import gc

    gc.collect()
    malloc_trim()
    hwm_reset = reset_peak()
    before = status_kib()
    with Sampler() as sampler:
        result, seconds = timed(fn)
    after = status_kib()
    kib = 1024 / GB
    mem = {
        "baseline_rss_gb": before.get("VmRSS", 0) * kib,
        "baseline_rss_anon_gb": before.get("RssAnon", 0) * kib,
        "baseline_rss_file_gb": before.get("RssFile", 0) * kib,
        "peak_rss_gb": after.get("VmHWM", 0) * kib,
        "peak_rss_anon_gb": sampler.peak["RssAnon"] * kib,  # sampled every 20 ms
        "peak_rss_file_gb": sampler.peak["RssFile"] * kib,  # sampled every 20 ms
        "end_rss_anon_gb": after.get("RssAnon", 0) * kib,
        "end_rss_file_gb": after.get("RssFile", 0) * kib,
        "hwm_reset": hwm_reset,
    }
    mem["peak_minus_baseline_gb"] = mem["peak_rss_gb"] - mem["baseline_rss_gb"]
    return result, seconds, mem


# ----------------------------------------------------------------------- data
def fill_uniform(out, seed=SEED, chunk=GEN_CHUNK_ROWS):
    """Fill ``out`` (array or memmap) with uniform [0, 1) float32, chunk by chunk.

    Each chunk has its own seeded generator, so an in-memory array and a file of the same
    shape hold the same numbers, and no full-size temporary is ever made.
    """
    for i, start in enumerate(range(0, out.shape[0], chunk)):
        rng = np.random.default_rng([seed, i])
        block = out[start : start + chunk]
        if block.dtype in (np.float32, np.float64) and block.flags.c_contiguous:
            rng.random(dtype=block.dtype, out=block)
        else:
            block[...] = rng.random(block.shape, dtype=np.float32)
    return out


def make_rows(n_rows, n_features, seed=SEED):
    return fill_uniform(np.empty((n_rows, n_features), dtype=np.float32), seed)


def write_npy(path, n_rows, n_features, seed=SEED):
    mm = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32,
                                   shape=(n_rows, n_features))
    fill_uniform(mm, seed)
    mm.flush()
    del mm
    return path


def dask_rows(n_rows, n_features, seed=SEED, chunk=GEN_CHUNK_ROWS):
    """The rows of :func:`make_rows` as a lazy Dask array whose chunks are made when they
    are computed: never in memory whole."""
    try:
        import dask.array as da
    except ImportError as exc:
        raise ImportError(
            "the dask_* cases need Dask: pip install 'sklearn-ae[distributed]'"
        ) from exc

    def block(block_info=None):
        (lo, hi), _ = block_info[None]["array-location"]
        rng = np.random.default_rng([seed, lo // chunk])
        return rng.random((hi - lo, n_features), dtype=np.float32)

    rows = (chunk,) * (n_rows // chunk) + ((n_rows % chunk,) if n_rows % chunk else ())
    return da.map_blocks(block, chunks=(rows, (n_features,)), dtype=np.float32,
                         meta=np.empty((0, 0), dtype=np.float32))


def make_estimator(max_epochs=1, n_components=N_COMPONENTS):
    from sklearn_ae import AutoencoderTransformer

    return AutoencoderTransformer(
        n_components=n_components, hidden_layer_sizes=HIDDEN, max_epochs=max_epochs,
        precision="float32", device="cpu", random_state=0,
    )


# ---------------------------------------------------------------- subprocess
def inference_work(case, model, args):
    """The input of an inference case, the measured call, and how the input is held."""
    n = args.rows
    if case == "inverse_transform":
        Z = np.empty((n, model.n_components), dtype=np.float32)
        fill_uniform(Z)
        Z *= 2.0
        Z -= 1.0
        return Z, lambda: model.inverse_transform(Z), "in memory"
    if case == "dask_transform":
        X = dask_rows(n, args.features)
        return X, lambda: model.transform(X).compute(), DASK_INPUT
    X = make_rows(n, args.features)
    fn = model.transform if case == "transform" else model.score_samples
    return X, lambda: fn(X), "in memory"


def fit_work(case, est, args):
    """The input of a fit case, the measured call, and how the input is held."""
    if case == "inmemory_fit":
        X = make_rows(args.fit_rows, args.features)
        return X, lambda: est.fit(X), "in memory"
    if case == "dask_fit":
        X = dask_rows(args.fit_rows, args.features)
        return X, lambda: est.fit(X), DASK_INPUT
    X = np.load(args.data, mmap_mode="r")
    if case == "memmap_fit":
        return X, lambda: est.fit(X), "memmap .npy"

    def stream():  # partial_fit (argparse admits no other case)
        for start in range(0, X.shape[0], CHUNK_ROWS):
            est.partial_fit(np.asarray(X[start : start + CHUNK_ROWS]))
        return est

    return X, stream, f"memmap .npy, chunks of {CHUNK_ROWS}"


def run_case(args):
    """One case in this (fresh) process; returns its result dict."""
    set_threads(args.threads)
    import sklearn_ae

    case = args.case
    row = {"case": case}
    if case in INFERENCE_CASES:
        data, fn, kind = inference_work(case, sklearn_ae.load(args.model), args)
        out, seconds, mem = measure(fn)
        row.update(output_gb=out.nbytes / GB, output_dtype=str(out.dtype))
        del out
    else:
        est = make_estimator(max_epochs=1, n_components=args.n_components)
        data, fn, kind = fit_work(case, est, args)
        _, seconds, mem = measure(fn)
        row.update(output_gb=None, epochs=int(est.n_iter_),
                   epoch_s=[float(d) for d in est.history_[:, "dur"]])
    row.update(rows=data.shape[0], input_gb=data.nbytes / GB, input_kind=kind)
    row.update(seconds=seconds, rows_per_s=row["rows"] / seconds, **mem)
    row["torch_threads"] = __import__("torch").get_num_threads()
    return row


def spawn(case, args, model_path, data_path):
    cmd = [sys.executable, "-m", "benchmarks.bench_scale", "--case", case,
           "--rows", str(args.rows), "--fit-rows", str(args.fit_rows),
           "--features", str(args.features), "--n-components", str(args.n_components),
           "--model", str(Path(model_path).resolve()),
           "--data", str(Path(data_path).resolve())]
    if args.threads is not None:
        cmd += ["--threads", str(args.threads)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO_ROOT)
    if proc.returncode != 0:
        raise RuntimeError(f"case {case} failed (exit {proc.returncode}):\n{proc.stderr}")
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    return json.loads(lines[-1])


# -------------------------------------------------------------------- parent
def run(args):
    set_threads(args.threads)
    import sklearn_ae

    results = []
    with tempfile.TemporaryDirectory(prefix="bench_scale_", dir=args.tmp_dir) as tmp:
        tmp = Path(tmp)
        model_path = tmp / "model.safetensors"
        data_path = tmp / "rows.npy"
        model_rows = min(args.model_rows, args.rows)
        X_model = make_rows(model_rows, args.features)  # = the first rows of every input
        t0 = time.perf_counter()
        model = make_estimator(max_epochs=1, n_components=args.n_components).fit(X_model)
        sklearn_ae.save(model, model_path)
        print(f"model fitted on {model_rows} rows in {time.perf_counter() - t0:.1f} s",
              flush=True)
        del X_model
        t0 = time.perf_counter()
        write_npy(data_path, args.fit_rows, args.features)
        print(f"wrote {data_path.stat().st_size / GB:.2f} GB to {data_path} in "
              f"{time.perf_counter() - t0:.1f} s", flush=True)
        if args.jobs > 1:  # smoke tests only: concurrent cases share the CPUs
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(args.jobs) as pool:
                rows = list(pool.map(lambda c: spawn(c, args, model_path, data_path),
                                     args.cases))
        else:
            rows = (spawn(case, args, model_path, data_path) for case in args.cases)
        for case, row in zip(args.cases, rows):
            if case in ("memmap_fit", "partial_fit"):
                row["file_gb"] = data_path.stat().st_size / GB
            print(f"{case}: {row['seconds']:.1f} s, {row['rows_per_s']:.0f} rows/s, peak "
                  f"{row['peak_rss_gb']:.2f} GB (baseline {row['baseline_rss_gb']:.2f} GB)",
                  flush=True)
            results.append(row)
    config = {
        "rows": args.rows, "fit_rows": args.fit_rows, "features": args.features,
        "network": f"{args.features}-{'-'.join(map(str, HIDDEN))}-{args.n_components} "
                   "(mirrored)",
        "model": f"fitted on the first {min(args.model_rows, args.rows)} rows, max_epochs=1",
        "data": "uniform [0, 1) float32, seeded",
        "inference_batch_size": make_estimator().inference_batch_size,
        "batch_size": make_estimator().batch_size,
        "fit": "max_epochs=1, early_stopping=True, validation_fraction=0.1, init='pca'",
        "partial_fit_chunk_rows": CHUNK_ROWS,
        "threads": args.threads,
        "quick": args.quick,
        "jobs": args.jobs,
    }
    return {"command": args.command, "environment": environment("cpu"), "config": config,
            "results": results}


HEADERS = ["case", "rows", "input GB", "output GB", "baseline GB", "peak GB",
           "peak - baseline GB", "peak RssAnon GB", "peak RssFile GB", "s", "rows/s"]


def table(result):
    rows = []
    for r in result["results"]:
        inp = fmt(r["input_gb"], ".3f")
        if r.get("file_gb") is not None:
            inp += " (file)"
        elif r["input_kind"] == DASK_INPUT:
            inp += " (Dask)"
        rows.append([
            r["case"], r["rows"], inp, fmt(r["output_gb"], ".3f"),
            fmt(r["baseline_rss_gb"], ".3f"), fmt(r["peak_rss_gb"], ".3f"),
            fmt(r["peak_minus_baseline_gb"], ".3f"), fmt(r["peak_rss_anon_gb"], ".3f"),
            fmt(r["peak_rss_file_gb"], ".3f"), fmt(r["seconds"], ".1f"),
            fmt(r["rows_per_s"], ".0f"),
        ])
    return markdown_table(HEADERS, rows)


def report(result):
    env, cfg = result["environment"], result["config"]
    head = (
        f"{cfg['network']}; {cfg['rows']} x {cfg['features']} rows for inference, "
        f"{cfg['fit_rows']} for the fits ({cfg['fit']}); model {cfg['model']}; "
        f"{cfg['data']}.\nCPU {env['cpu_model']} ({env['cpu_count']} logical CPUs), "
        f"{cfg['threads'] if cfg['threads'] is not None else 'default'} torch threads, "
        f"torch {env['torch']}, numpy {env['numpy']}, sklearn_ae {env['sklearn_ae']}."
    )
    notes = (
        "GB = 1e9 bytes. baseline: RSS right before the operation (interpreter, torch, the "
        "input; for the memmap cases the file is mapped but not yet read; for the Dask cases "
        "the input is a lazy array, made chunk by chunk during the operation). peak: VmHWM "
        "(kernel peak RSS, reset before the operation). RssAnon / RssFile: heap vs pages of "
        "mapped files (reclaimable page cache), sampled every 20 ms. rows/s: rows / seconds "
        "of the whole call (a fit: one epoch plus set-up and validation)."
    )
    quick = "\n\n(quick run: not representative)" if cfg["quick"] else ""
    if cfg["jobs"] > 1:
        quick += f"\n\n({cfg['jobs']} cases ran at a time: the timings are not representative)"
    return (f"    {result['command']}\n\n{head}\n\n{table(result)}\n\n{notes}{quick}\n")


def main(argv=None):
    parser = argument_parser(__spec__.name, __doc__)
    parser.add_argument("--rows", type=int, default=1_000_000,
                        help="rows for transform / inverse_transform / score_samples")
    parser.add_argument("--fit-rows", type=int, default=200_000,
                        help="rows for memmap_fit / inmemory_fit / partial_fit")
    parser.add_argument("--features", type=int, default=784)
    parser.add_argument("--n-components", type=int, default=N_COMPONENTS,
                        help="code size (default 30; at most --features)")
    parser.add_argument("--model-rows", type=int, default=MODEL_ROWS,
                        help="rows the inference model is fitted on (default 20000)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch intra-op threads (default: torch's own choice)")
    parser.add_argument("--quick", action="store_true",
                        help="short check: 20,000 rows, 5,000 fit rows, model on 2,000")
    parser.add_argument("--cases", nargs="+", choices=CASES, default=list(CASES))
    parser.add_argument("--out", default=str(RESULTS_DIR),
                        help="directory for scale.json and scale.md (default "
                             "benchmarks/results)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="cases run at the same time (default 1; more only for smoke "
                             "tests: the timings are then meaningless)")
    parser.add_argument("--tmp-dir", default=None,
                        help="where the temporary .npy file and model go (default: $TMPDIR)")
    # internal: one case in a fresh subprocess
    parser.add_argument("--case", choices=CASES, help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.case:
        print(json.dumps(run_case(args)), flush=True)
        return None

    args.command = "python -m benchmarks.bench_scale " + " ".join(
        shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv))
    args.command = args.command.rstrip()
    if args.quick:
        args.rows = min(args.rows, 20_000)
        args.fit_rows = min(args.fit_rows, 5_000)
        args.model_rows = min(args.model_rows, 2_000)
    result = run(args)
    text = report(result)
    print("\n" + text)
    out = Path(args.out)
    write_json(out / "scale.json", result)
    (out / "scale.md").write_text("# Scale: memory and throughput\n\n" + text)
    print(f"wrote {out / 'scale.json'} and {out / 'scale.md'}")
    return result


if __name__ == "__main__":
    main()
