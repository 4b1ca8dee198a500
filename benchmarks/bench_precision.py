"""Training precision: bfloat16 mixed precision against float32 and the plain loops.

Five trainings of one network (784-512-256-30-256-512-784, ReLU, MSE, Adam lr 1e-3,
batch 256, no validation, a fixed number of epochs) on the MNIST subset's 8000 training
rows, alternating in one process: the hand-written PyTorch loop of
``benchmarks.bench_throughput`` in float32 and under bfloat16 autocast, and
``AutoencoderTransformer`` with ``precision="float32"``, ``"bfloat16"`` and the default
``"auto"`` (which measures the network in both and picks). Reported: median samples/s per
variant, the default's throughput over the faster plain loop (target >= 0.95 on every
CPU), bfloat16's speed-up over the plain fp32 loop (1.5x where bfloat16 is fast), and the
held-out reconstruction MSE (2000 test rows, original units) of the bfloat16 fit relative
to the float32 fit after the same epochs (target within 3%). ``--defaults`` repeats the MSE
comparison with the estimator's default training (PCA start, AdamW, early stopping).

``--large`` is the GPU run of the issue: 60,000 rows (the subset tiled with a small
jitter) through 784-1000-500-250-30 for 100 epochs, timed end to end in float32 and
bfloat16, with the fraction of the device's measured matmul peak that training reaches.

    python -m benchmarks.bench_precision --threads 2          # 3 rounds x 20 epochs
    python -m benchmarks.bench_precision --quick               # seconds-long check
    python -m benchmarks.bench_precision --large --device cuda # the GPU run
"""

import statistics
import sys
import time

import numpy as np
import torch

from benchmarks._common import (
    RESULTS_DIR,
    argument_parser,
    check_device,
    fmt,
    markdown_table,
    set_threads,
    synchronize,
    timed,
    write_json,
)
from benchmarks.bench_throughput import n_params, preprocess, train_plain
from sklearn_ae import AutoencoderTransformer
from sklearn_ae._device import cpu_has_native_bfloat16
from sklearn_ae.evaluation import environment, load_mnist_split, reconstruction_mse

HIDDEN = (512, 256)
LARGE_HIDDEN = (1000, 500, 250)
N_COMPONENTS = 30
LR = 1e-3
TARGET_SPEEDUP = 1.5
TARGET_MSE_TOLERANCE = 0.03
TARGET_AUTO = 0.95  # the default against the faster plain loop on this machine
ESTIMATOR_PRECISIONS = ("float32", "bfloat16", "auto")


def estimator(precision, epochs, batch_size, seed, device, hidden=HIDDEN, defaults=False):
    if defaults:
        return AutoencoderTransformer(
            n_components=N_COMPONENTS, max_epochs=epochs, precision=precision,
            device=device, random_state=seed,
        )
    # the plain loop's training: random start, Adam without decay, no validation
    return AutoencoderTransformer(
        n_components=N_COMPONENTS, hidden_layer_sizes=hidden, init="random",
        optimizer="adam", weight_decay=0.0, lr=LR, lr_schedule="constant", max_epochs=epochs,
        batch_size=batch_size, early_stopping=False, precision=precision,
        device=device, random_state=seed,
    )


def training_flops(module, n_samples, epochs):
    """Matmul FLOPs of training: 2 per weight per sample forward, twice that backward."""
    weights = sum(m.weight.numel() for m in module.modules() if isinstance(m, torch.nn.Linear))
    return 6.0 * weights * n_samples * epochs


def matmul_peak(device, dtype, size=4096, seconds=2.0):
    """Measured FLOP/s of a large square matmul: the limit training is compared with."""
    a = torch.randn(size, size, device=device, dtype=dtype)
    b = torch.randn(size, size, device=device, dtype=dtype)
    for _ in range(3):
        a @ b
    synchronize(device)
    start, n = time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        a @ b
        n += 1
        if n % 10 == 0:
            synchronize(device)
    synchronize(device)
    return 2.0 * size**3 * n / (time.perf_counter() - start)


def run_alternating(args, X, X_test):
    device = args.device
    X_plain = torch.as_tensor(preprocess(X), device=device)
    # untimed warm-up of every variant: allocator, thread pools, kernels (and the auto
    # estimator's one measurement, which later fits of the network in this process reuse)
    for bfloat16 in (False, True):
        train_plain(X_plain, 1, args.batch_size, args.seed, device, bfloat16=bfloat16)
    for precision in ESTIMATOR_PRECISIONS:
        estimator(precision, 1, args.batch_size, args.seed, device).fit(X)

    rounds = []
    n = len(X)
    for r in range(args.rounds):
        seed = args.seed + r
        row = {"round": r}
        for name, bfloat16 in (("plain", False), ("plain_bf16", True)):
            (model, _), plain_s = timed(lambda: train_plain(
                X_plain, args.epochs, args.batch_size, seed, device, bfloat16=bfloat16
            ), device)
            row[f"{name}_samples_per_s"] = n * args.epochs / plain_s
        for precision in ESTIMATOR_PRECISIONS:
            est, seconds = timed(
                lambda: estimator(precision, args.epochs, args.batch_size, seed, device).fit(X),
                device,
            )
            if n_params(est.net_.module_) != n_params(model):
                raise RuntimeError("the plain loop and the estimator train different networks")
            row[f"{precision}_samples_per_s"] = n * args.epochs / seconds
            row[f"{precision}_test_mse"] = reconstruction_mse(est, X_test)
        row["auto_precision"] = est.precision_
        # the default's promise: at least 0.95 of the faster plain loop on this machine
        row["auto_vs_best_plain"] = row["auto_samples_per_s"] / max(
            row["plain_samples_per_s"], row["plain_bf16_samples_per_s"])
        row["speedup_vs_plain"] = row["bfloat16_samples_per_s"] / row["plain_samples_per_s"]
        row["speedup_vs_float32"] = (
            row["bfloat16_samples_per_s"] / row["float32_samples_per_s"]
        )
        row["mse_change"] = row["bfloat16_test_mse"] / row["float32_test_mse"] - 1
        rounds.append(row)
        print(
            f"round {r}: plain fp32 {row['plain_samples_per_s']:.0f}, plain bf16 "
            f"{row['plain_bf16_samples_per_s']:.0f}, float32 "
            f"{row['float32_samples_per_s']:.0f}, bfloat16 {row['bfloat16_samples_per_s']:.0f}"
            f", auto ({row['auto_precision']}) {row['auto_samples_per_s']:.0f} samples/s; "
            f"test MSE float32 {row['float32_test_mse']:.5f}, bfloat16 "
            f"{row['bfloat16_test_mse']:.5f}",
            flush=True,
        )
    return rounds


def run_defaults(args, X, X_test):
    """Held-out MSE of the default estimator trained in float32 and in bfloat16."""
    out = {}
    for precision in ("float32", "bfloat16"):
        est, seconds = timed(
            lambda: estimator(precision, args.epochs, None, args.seed, args.device,
                              defaults=True).fit(X),
            args.device,
        )
        out[precision] = {"test_mse": reconstruction_mse(est, X_test), "fit_s": seconds,
                          "epochs": est.n_iter_, "best_epoch": est.best_epoch_}
    out["mse_change"] = out["bfloat16"]["test_mse"] / out["float32"]["test_mse"] - 1
    return out


def run_compile(args, X, X_test):
    """compile=True against compile=False per precision: the whole fit, the first epoch
    (which pays the compilation) and the steady state (median of the later epochs)."""
    out = {}
    n = len(X)
    for precision in ("float32", "bfloat16"):
        for compiled in (False, True):
            est = estimator(precision, args.epochs, args.batch_size, args.seed, args.device)
            est.set_params(compile=compiled)
            est, seconds = timed(lambda: est.fit(X), args.device)
            durations = [float(d) for d in est.net_.history[:, "dur"]]
            out[f"{precision}{'_compiled' if compiled else ''}"] = {
                "fit_s": seconds,
                "first_epoch_s": durations[0],
                "steady_samples_per_s": n / statistics.median(durations[1:]),
                "test_mse": reconstruction_mse(est, X_test),
            }
            print(f"compile={compiled} {precision}: {seconds:.1f} s", flush=True)
    return out


def run_large(args, X, X_test):
    """60,000 tiled rows through 784-1000-500-250-30 for --epochs, timed end to end."""
    rng = np.random.RandomState(args.seed)
    reps = -(-args.large_rows // len(X))
    X_big = np.tile(X, (reps, 1))[: args.large_rows]
    # jitter of 1% of the data's range (2.5 grey levels of 255), kept inside the range
    lo, hi = float(X.min()), float(X.max())
    X_big = np.clip(X_big + rng.normal(0, 0.01 * (hi - lo), X_big.shape), lo, hi)
    X_big = X_big.astype(np.float32)
    out = {"rows": len(X_big), "epochs": args.epochs, "network": "784-1000-500-250-30"}
    for precision in ("float32", "bfloat16"):
        est, seconds = timed(
            lambda: estimator(precision, args.epochs, args.batch_size, args.seed,
                              args.device, hidden=LARGE_HIDDEN).fit(X_big),
            args.device,
        )
        dtype = torch.float32 if precision == "float32" else torch.bfloat16
        peak = matmul_peak(args.device, dtype)
        flops = training_flops(est.net_.module_, len(X_big), args.epochs)
        out[precision] = {
            "fit_s": seconds,
            "samples_per_s": len(X_big) * args.epochs / seconds,
            "training_flop_per_s": flops / seconds,
            "matmul_peak_flop_per_s": peak,
            "fraction_of_matmul_peak": flops / seconds / peak,
            "test_mse": reconstruction_mse(est, X_test),
        }
        print(f"large {precision}: {seconds:.1f} s", flush=True)
    return out


def report(result):
    env, cfg = result["environment"], result["config"]
    print(
        f"\n{cfg['network']}; {cfg['n_train']} rows x {cfg['epochs']} epochs, batch "
        f"{cfg['batch_size']}; device {env['device']}, {env['torch_threads']} torch threads, "
        f"{env['cpu_model']} (native bfloat16: {cfg['native_bfloat16']}), torch {env['torch']}\n"
    )
    if result.get("rounds"):
        headers = ["round", "plain fp32 loop samples/s", "plain bf16 loop samples/s",
                   "estimator float32 samples/s", "estimator bfloat16 samples/s",
                   "estimator auto samples/s", "auto / faster plain", "bf16 / plain",
                   "bf16 / float32", "MSE change"]
        rows = [
            [r["round"], fmt(r["plain_samples_per_s"], ".0f"),
             fmt(r["plain_bf16_samples_per_s"], ".0f"),
             fmt(r["float32_samples_per_s"], ".0f"), fmt(r["bfloat16_samples_per_s"], ".0f"),
             f"{r['auto_samples_per_s']:.0f} ({r['auto_precision']})",
             fmt(r["auto_vs_best_plain"], ".2f"),
             fmt(r["speedup_vs_plain"], ".2f"), fmt(r["speedup_vs_float32"], ".2f"),
             f"{100 * r['mse_change']:+.2f}%"]
            for r in result["rounds"]
        ]
        s = result["summary"]
        rows.append(["median", *(fmt(s[f"{key}_samples_per_s"], ".0f") for key in (
            "plain", "plain_bf16", "float32", "bfloat16", "auto")),
            fmt(s["auto_vs_best_plain"], ".2f"), fmt(s["speedup_vs_plain"], ".2f"),
            fmt(s["speedup_vs_float32"], ".2f"), f"{100 * s['mse_change']:+.2f}%"])
        print(markdown_table(headers, rows))
        quick = " (quick run: not representative)" if cfg["quick"] else ""
        print(
            f"\nbfloat16 / plain fp32 loop: {s['speedup_vs_plain']:.2f}x (target >= "
            f"{TARGET_SPEEDUP}, where bfloat16 is faster): "
            f"{'PASS' if s['speed_passed'] else 'FAIL'}; default (auto) / faster plain loop: "
            f"{s['auto_vs_best_plain']:.2f} (target >= {TARGET_AUTO}): "
            f"{'PASS' if s['auto_passed'] else 'FAIL'}; held-out MSE "
            f"change {100 * s['mse_change']:+.2f}% (target within "
            f"{100 * TARGET_MSE_TOLERANCE:.0f}%): {'PASS' if s['mse_passed'] else 'FAIL'}{quick}"
        )
    if result.get("defaults"):
        d = result["defaults"]
        print(
            f"\ndefault estimator ({cfg['epochs']} max epochs, early stopping): test MSE "
            f"float32 {d['float32']['test_mse']:.4g} ({d['float32']['fit_s']:.1f} s), bfloat16 "
            f"{d['bfloat16']['test_mse']:.4g} ({d['bfloat16']['fit_s']:.1f} s): "
            f"{100 * d['mse_change']:+.2f}%"
        )
    if result.get("compile"):
        comp = result["compile"]
        headers = ["variant", "fit s", "first epoch s", "steady-state samples/s", "test MSE"]
        rows = [[name, fmt(v["fit_s"], ".1f"), fmt(v["first_epoch_s"], ".2f"),
                 fmt(v["steady_samples_per_s"], ".0f"), fmt(v["test_mse"], ".4g")]
                for name, v in comp.items()]
        print(f"\ntorch.compile ({cfg['epochs']} epochs per fit)")
        print(markdown_table(headers, rows))
    if result.get("large"):
        big = result["large"]
        headers = ["precision", "fit s", "samples/s", "training TFLOP/s",
                   "matmul peak TFLOP/s", "fraction of peak", "test MSE"]
        rows = [
            [p, fmt(big[p]["fit_s"], ".1f"), fmt(big[p]["samples_per_s"], ".0f"),
             fmt(big[p]["training_flop_per_s"] / 1e12, ".3f"),
             fmt(big[p]["matmul_peak_flop_per_s"] / 1e12, ".3f"),
             fmt(big[p]["fraction_of_matmul_peak"], ".2f"), fmt(big[p]["test_mse"], ".4g")]
            for p in ("float32", "bfloat16")
        ]
        print(f"\nlarge run: {big['rows']} rows x {big['epochs']} epochs, {big['network']}")
        print(markdown_table(headers, rows))


def main(argv=None):
    parser = argument_parser(__spec__.name, __doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=20,
                        help="epochs per fit (default 20; --large: 100)")
    parser.add_argument("--n-train", type=int, default=8000)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--defaults", action="store_true",
                        help="also compare held-out MSE with the default estimator")
    parser.add_argument("--compile", action="store_true",
                        help="also time compile=True against compile=False")
    parser.add_argument("--large", action="store_true",
                        help="only the large run (60,000 rows, 784-1000-500-250-30)")
    parser.add_argument("--large-rows", type=int, default=60_000)
    parser.add_argument("--quick", action="store_true",
                        help="seconds-long check: 1024 rows, 2 epochs, 2 rounds")
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    if args.large and "--epochs" not in (sys.argv[1:] if argv is None else argv):
        args.epochs = 100
    if args.quick:
        args.n_train, args.epochs, args.rounds, args.large_rows = 1024, 2, 2, 2048
    check_device(args.device)
    set_threads(args.threads)

    X, X_test, _, _ = load_mnist_split(n_train=args.n_train)
    result = {
        "environment": environment(args.device),
        "config": {
            "network": f"{X.shape[1]}-{'-'.join(map(str, HIDDEN))}-{N_COMPONENTS} (mirrored)",
            "n_train": len(X), "n_test": len(X_test), "epochs": args.epochs,
            "rounds": args.rounds, "batch_size": args.batch_size, "optimizer": f"adam lr={LR}",
            "seed": args.seed, "quick": args.quick,
            "native_bfloat16": (torch.cuda.is_bf16_supported()
                                if args.device.startswith("cuda") else cpu_has_native_bfloat16()),
        },
    }
    if args.large:
        result["large"] = run_large(args, X, X_test)
    else:
        rounds = run_alternating(args, X, X_test)

        def median(key):
            return statistics.median(r[key] for r in rounds)

        summary = {key: median(key) for key in (
            "plain_samples_per_s", "plain_bf16_samples_per_s", "float32_samples_per_s",
            "bfloat16_samples_per_s", "auto_samples_per_s", "auto_vs_best_plain",
            "speedup_vs_plain", "speedup_vs_float32", "mse_change")}
        summary["speed_passed"] = summary["speedup_vs_plain"] >= TARGET_SPEEDUP
        summary["auto_passed"] = summary["auto_vs_best_plain"] >= TARGET_AUTO
        summary["mse_passed"] = all(abs(r["mse_change"]) <= TARGET_MSE_TOLERANCE
                                    for r in rounds)
        result.update(rounds=rounds, summary=summary)
        if args.defaults:
            result["defaults"] = run_defaults(args, X, X_test)
        if args.compile:
            result["compile"] = run_compile(args, X, X_test)
    report(result)
    name = "precision_large.json" if args.large else "precision.json"
    print(f"wrote {write_json(args.out or RESULTS_DIR / name, result)}")


if __name__ == "__main__":
    main()
