"""What ``n_jobs`` buys a cross-validation of the family on a small machine.

Times ``cross_validate(AutoencoderTransformer(...), X, cv=4, n_jobs=n)`` on digits (or the
MNIST subset) for n = 1 (torch's own intra-op threads, then one thread) and n = 2, 4
(joblib's loky worker processes: each imports torch once and runs it with
``cpu_count // n_jobs`` threads), and the cost of starting one worker
(``import torch, sklearn_ae`` in a fresh interpreter).

    python -m benchmarks.bench_jobs
    python -m benchmarks.bench_jobs --data mnist --epochs 10   # longer fits: MNIST subset
    python -m benchmarks.bench_jobs --quick     # 2 epochs
"""

import os
import subprocess
import sys
import time

import torch
from joblib.externals.loky import get_reusable_executor
from sklearn.datasets import load_digits
from sklearn.model_selection import cross_validate

from benchmarks._common import RESULTS_DIR, argument_parser, fmt, markdown_table, write_json
from sklearn_ae import AutoencoderTransformer
from sklearn_ae.evaluation import environment, load_mnist_split

N_COMPONENTS = 10


def import_seconds():
    """Wall time of a fresh interpreter importing torch and sklearn_ae (a worker's start)."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import torch, sklearn_ae"], check=True)
    return time.perf_counter() - start


def time_cv(X, n_jobs, epochs, threads=None):
    est = AutoencoderTransformer(n_components=N_COMPONENTS, max_epochs=epochs, random_state=0)
    before = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    get_reusable_executor().shutdown(wait=True)  # every parallel run starts its workers
    start = time.perf_counter()
    result = cross_validate(est, X, cv=4, n_jobs=n_jobs)
    seconds = time.perf_counter() - start
    torch.set_num_threads(before)
    return seconds, float(result["test_score"].mean())


def main(argv=None):
    parser = argument_parser(__spec__.name, __doc__)
    parser.add_argument("--epochs", type=int, default=60, help="max_epochs (default 60)")
    parser.add_argument("--quick", action="store_true", help="2 epochs")
    parser.add_argument("--data", choices=["digits", "mnist"], default="digits",
                        help="digits (1797 x 64, default) or the MNIST subset (8000 x 784)")
    parser.add_argument("--out", default=None,
                        help="default: benchmarks/results/jobs.json (jobs_mnist.json)")
    args = parser.parse_args(argv)
    epochs = 2 if args.quick else args.epochs
    X = load_digits().data if args.data == "digits" else load_mnist_split(n_train=8000)[0]
    out = args.out or RESULTS_DIR / f"jobs{'' if args.data == 'digits' else '_mnist'}.json"
    runs = [("1 (torch threads: all cores)", 1, None), ("1 (torch threads: 1)", 1, 1),
            ("2 (loky workers)", 2, None), ("4 (loky workers)", 4, None)]
    rows, results = [], []
    for label, n_jobs, threads in runs:
        seconds, score = time_cv(X, n_jobs, epochs, threads)
        results.append({"n_jobs": label, "seconds": seconds, "mean_score": score})
        rows.append([label, fmt(seconds, ".1f"), fmt(score, ".4g")])
        print(f"n_jobs={label}: {seconds:.1f} s", flush=True)
    start_s = import_seconds()
    print(f"\n{args.data} {X.shape}, cross_validate(cv=4), "
          f"AutoencoderTransformer(n_components={N_COMPONENTS}, "
          f"max_epochs={epochs}); {os.cpu_count()} CPUs; one worker's import: {start_s:.1f} s\n")
    print(markdown_table(["n_jobs", "wall s", "mean test score"], rows))
    write_json(out, {"environment": environment("cpu"), "data": args.data, "epochs": epochs,
                     "import_seconds": start_s, "runs": results})


if __name__ == "__main__":
    main()
