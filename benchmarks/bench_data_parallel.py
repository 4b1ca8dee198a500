"""Data-parallel training throughput: one epoch over 60,000 rows in one process against
several (``data_parallel=True`` under torchrun: gloo on the CPU, NCCL on GPUs).

Every configuration runs in fresh processes and prints one JSON line from rank 0:

* ``1 process x T threads``: a plain fit (``data_parallel=False``), for T = 1 and
  ``--threads`` (default: the machine's cores, so both sides use the same cores);
* ``N processes x 1 thread``: ``python -m torch.distributed.run --standalone
  --nproc-per-node N -m benchmarks.bench_data_parallel --worker ...``;
* ``1 process x 1 thread, one share``: the per-process share (``rows / N`` rows in batches
  of ``batch_size / N``), the compute one of the N processes does, without communication.

Each fits ``AutoencoderTransformer`` (784-512-256-30 and mirrored, float32, ``init="pca"``,
global ``batch_size=256``, no early stopping) on uniform float32 rows (seeded) for
``--epochs`` epochs; the table gives the last epoch's duration from the fit's history (the
training loop only) and the whole fit's wall time (with the column statistics, the PCA
start and the closing pass). In the N-process runs rank 0 also times the gradient
all-reduce alone: one ``all_reduce`` of a flat tensor the size of the network's parameters
per step, as many as an epoch has, the communication DDP overlaps with the backward pass.

    python -m benchmarks.bench_data_parallel                 # 60,000 x 784, 2 processes
    python -m benchmarks.bench_data_parallel --quick         # seconds
    python -m benchmarks.bench_data_parallel --device cuda --processes 4   # 4 GPUs
"""

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import torch

from benchmarks._common import (
    REPO_ROOT,
    RESULTS_DIR,
    argument_parser,
    check_device,
    fmt,
    markdown_table,
    write_json,
)
from sklearn_ae.evaluation import environment

HIDDEN = (512, 256)
N_COMPONENTS = 30
GLOBAL_BATCH = 256


# ---------------------------------------------------------------- one process
def fit_once(args, data_parallel):
    """The measured fit in this process; returns its row of results (rank 0's)."""
    from benchmarks.bench_scale import make_rows
    from sklearn_ae import AutoencoderTransformer

    torch.set_num_threads(args.threads_per_process)
    X = make_rows(args.rows, args.features)
    est = AutoencoderTransformer(
        n_components=N_COMPONENTS, hidden_layer_sizes=HIDDEN, max_epochs=args.epochs,
        batch_size=args.batch_size, early_stopping=False, precision="float32",
        lr_schedule="constant", lr=1e-3, device=args.device, random_state=0,
        data_parallel=data_parallel,
    )
    start = time.perf_counter()
    est.fit(X)
    wall = time.perf_counter() - start
    epochs = [float(d) for d in est.history_[:, "dur"]]
    row = {"rows": args.rows, "batch_size": args.batch_size, "epoch_s": epochs[-1],
           "epochs_s": epochs, "fit_s": wall, "torch_threads": torch.get_num_threads(),
           "steps": -(-args.rows // args.batch_size), "device": est.device_}
    if data_parallel:
        row.update(allreduce_alone(est, row["steps"]))
    return row


def allreduce_alone(est, steps):
    """Seconds of ``steps`` all-reduces of a tensor the size of the parameters."""
    dist = torch.distributed
    n_params = sum(p.numel() for p in est.net_.module_.parameters())
    flat = torch.zeros(n_params, device=est.device_)
    dist.barrier()
    start = time.perf_counter()
    for _ in range(steps):
        dist.all_reduce(flat)
    if flat.is_cuda:
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    return {"params": n_params, "allreduce_s": seconds,
            "allreduce_ms_per_step": 1e3 * seconds / steps, "processes": dist.get_world_size()}


def worker(args):
    data_parallel = args.processes > 1
    row = fit_once(args, data_parallel)
    if not data_parallel or torch.distributed.get_rank() == 0:
        print(json.dumps(row), flush=True)


# -------------------------------------------------------------------- parent
def spawn(args, processes, threads, rows, batch_size):
    """One configuration in fresh processes; rank 0's JSON row."""
    flags = ["--worker", "--rows", str(rows), "--features", str(args.features),
             "--batch-size", str(batch_size), "--epochs", str(args.epochs),
             "--device", args.device, "--processes", str(processes),
             "--threads-per-process", str(threads)]
    if processes > 1:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               f"--nproc-per-node={processes}", "-m", __spec__.name, *flags]
    else:
        cmd = [sys.executable, "-m", __spec__.name, *flags]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO_ROOT, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr[-4000:]}")
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")][-1]
    return {"config": f"{processes} process(es) x {threads} thread(s)", "processes": processes,
            **json.loads(line)}


def configurations(args):
    """``(name, processes, threads per process, rows, batch_size)`` of every configuration."""
    n = args.processes
    batch = args.global_batch
    configs = [("1 process x 1 thread", 1, 1, args.rows, batch)]
    if args.threads > 1:
        configs.append((f"1 process x {args.threads} threads", 1, args.threads, args.rows,
                        batch))
    return configs + [
        (f"{n} processes x 1 thread", n, 1, args.rows, batch),
        (f"1 process x 1 thread, one share ({args.rows // n} rows, batch {batch // n})",
         1, 1, args.rows // n, batch // n),
    ]


def run(args):
    """``--rounds`` rounds, each running every configuration once in turn (so a change in
    the machine's load affects them alike); per configuration, the round with the median
    epoch time, with every round's epoch time and the load average before each."""
    runs = {}
    for round_ in range(args.rounds):
        for name, processes, threads, rows, batch in configurations(args):
            load = os.getloadavg()[0]
            row = {**spawn(args, processes, threads, rows, batch), "config": name}
            row["load_before"] = load
            runs.setdefault(name, []).append(row)
            print(f"round {round_ + 1}, {name}: epoch {row['epoch_s']:.2f} s (load {load:.1f})",
                  flush=True)
    results = []
    for rows in runs.values():
        median = sorted(rows, key=lambda r: r["epoch_s"])[len(rows) // 2]
        results.append({**median, "rounds_epoch_s": [r["epoch_s"] for r in rows],
                        "rounds_load": [r["load_before"] for r in rows],
                        "rounds_allreduce_s": [r.get("allreduce_s") for r in rows]})
    return results


def summary(results):
    """The ratios of the N-process epoch time to the best single process's (median rounds,
    and round by round), and, in the round where the N processes ran under the least load,
    their epoch split into one share's compute, the all-reduces timed alone and the rest
    (waits at the steps' synchronisations, the loss all-reduce, skew; negative where DDP hid
    the all-reduces under the backward pass)."""
    parallel = next(r for r in results if r["processes"] > 1)
    singles = [r for r in results if r["processes"] == 1 and "share" not in r["config"]]
    share = next(r for r in results if "share" in r["config"])
    best = min(singles, key=lambda r: r["epoch_s"])
    quiet = min(range(len(parallel["rounds_load"])), key=parallel["rounds_load"].__getitem__)
    epoch, allreduce = parallel["rounds_epoch_s"][quiet], parallel["rounds_allreduce_s"][quiet]
    return {
        "parallel_over_best_single_epoch": parallel["epoch_s"] / best["epoch_s"],
        "best_single": best["config"],
        "parallel_over_one_thread_epoch": parallel["epoch_s"] / singles[0]["epoch_s"],
        "ratio_by_round": [p / b for p, b in zip(parallel["rounds_epoch_s"],
                                                 best["rounds_epoch_s"])],
        "quiet_round": quiet + 1,
        "share_compute_s": share["rounds_epoch_s"][quiet],
        "allreduce_alone_s": allreduce,
        "rest_s": epoch - share["rounds_epoch_s"][quiet] - allreduce,
    }


HEADERS = ["configuration", "rows", "batch / process", "epoch s (median)", "rows/s (epoch)",
           "epoch s, every round", "load average before", "all-reduce alone s"]


def report(result):
    rows = [[r["config"], r["rows"], r["batch_size"] // r["processes"],
             fmt(r["epoch_s"], ".2f"), fmt(r["rows"] / r["epoch_s"], ".0f"),
             " ".join(f"{e:.2f}" for e in r["rounds_epoch_s"]),
             " ".join(f"{x:.1f}" for x in r["rounds_load"]), fmt(r.get("allreduce_s"), ".2f")]
            for r in result["results"]]
    s, env = result["summary"], result["environment"]
    return (
        f"    {result['command']}\n\n"
        f"{result['config']['network']}, float32, global batch {result['config']['batch']}, "
        f"{result['config']['epochs']} epoch(s) per fit (the last one timed), "
        f"{result['config']['rounds']} round(s), device {result['config']['device']}; CPU "
        f"{env['cpu_model']} ({env['cpu_count']} logical CPUs), torch {env['torch']}.\n\n"
        f"{markdown_table(HEADERS, rows)}\n\n"
        f"Epoch time of {result['config']['processes']} processes / the best single process "
        f"({s['best_single']}): {s['parallel_over_best_single_epoch']:.3f} (below 1: faster); "
        f"/ 1 process x 1 thread: {s['parallel_over_one_thread_epoch']:.3f}; round by round: "
        f"{' '.join(f'{x:.2f}' for x in s['ratio_by_round'])}. In round {s['quiet_round']} "
        f"(the least load), its epoch: {s['share_compute_s']:.2f} s computing one share, "
        f"{s['allreduce_alone_s']:.2f} s of all-reduces timed alone, {s['rest_s']:.2f} s the "
        "rest.\n"
        + ("\n(quick run: not representative)\n" if result["config"]["quick"] else "")
    )


def parse_args(argv):
    parser = argument_parser(__spec__.name, __doc__)
    parser.add_argument("--rows", type=int, default=60_000)
    parser.add_argument("--features", type=int, default=784)
    parser.add_argument("--epochs", type=int, default=2,
                        help="epochs per fit; the table reports the last (default 2)")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--threads", type=int, default=os.cpu_count(),
                        help="threads of the multi-threaded single process (default: cores)")
    parser.add_argument("--global-batch", type=int, default=GLOBAL_BATCH,
                        help="batch_size, shared by the processes (default 256)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds over all configurations; medians are reported (default 3)")
    parser.add_argument("--device", default="cpu", help="cpu, or cuda (one GPU per process)")
    parser.add_argument("--quick", action="store_true", help="4,000 rows x 64, one epoch")
    parser.add_argument("--out", default=str(RESULTS_DIR))
    # internal: one process of a configuration
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--batch-size", type=int, default=GLOBAL_BATCH, help=argparse.SUPPRESS)
    parser.add_argument("--threads-per-process", type=int, default=1, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.worker:
        return worker(args)
    check_device(args.device)
    if args.quick:
        args.rows, args.features, args.epochs, args.rounds = 4_000, 64, 1, 1
    command = "python -m benchmarks.bench_data_parallel " + " ".join(
        shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv))
    results = run(args)
    result = {
        "command": command.rstrip(), "environment": environment(args.device),
        "config": {"rows": args.rows, "features": args.features, "epochs": args.epochs,
                   "processes": args.processes, "threads": args.threads, "device": args.device,
                   "rounds": args.rounds, "quick": args.quick, "batch": args.global_batch,
                   "network": f"{args.features}-{'-'.join(map(str, HIDDEN))}-{N_COMPONENTS}"},
        "results": results,
    }
    result["summary"] = summary(results)
    text = report(result)
    print("\n" + text)
    out = Path(args.out)
    write_json(out / "data_parallel.json", result)
    (out / "data_parallel.md").write_text("# Data-parallel training throughput\n\n" + text)
    return result


if __name__ == "__main__":
    main()
