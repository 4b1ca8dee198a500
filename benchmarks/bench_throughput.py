"""Training throughput: AutoencoderTransformer against a hand-written PyTorch loop.

Both train the same network (784-512-256-30-256-512-784, ReLU, MSE) on the same centred and
RMS-scaled MNIST rows, with Adam (lr 1e-3), batch 256, a fresh shuffle per epoch, a fixed
number of epochs and no validation, in the same process with the same torch threads. Rounds
alternate (plain, estimator, plain, estimator, ...); the report gives the median samples/s
of each and their ratio (target: estimator >= 0.95x plain). The estimator's named
optimizers use torch's fused implementation; a third loop, the plain one with
``Adam(fused=True)``, gives the like-for-like ratio (the wrapper's own cost).

    python -m benchmarks.bench_throughput            # 3 rounds x 50 epochs on 8000 rows
    python -m benchmarks.bench_throughput --quick    # seconds-long check
"""

import statistics

import numpy as np
import torch
from torch import nn

from benchmarks._common import (
    RESULTS_DIR,
    argument_parser,
    check_device,
    fmt,
    markdown_table,
    set_threads,
    timed,
    write_json,
)
from sklearn_ae import AutoencoderTransformer
from sklearn_ae.evaluation import environment, load_mnist_split

HIDDEN = (512, 256)
N_COMPONENTS = 30
LR = 1e-3
TARGET_RATIO = 0.95


# ------------------------------------------------------------------ plain loop
def mlp(sizes):
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def plain_model(n_features):
    encoder = mlp([n_features, *HIDDEN, N_COMPONENTS])
    decoder = mlp([N_COMPONENTS, *reversed(HIDDEN), n_features])
    return nn.Sequential(encoder, decoder)


def preprocess(X):
    """What the estimator does to its input: centre, divide by one global RMS."""
    mean = X.mean(axis=0)
    rms = float(np.sqrt(np.mean((X - mean) ** 2)))
    return ((X - mean) / rms).astype(np.float32)


def train_plain(X, epochs, batch_size, seed, device, fused=None, bfloat16=False):
    """The textbook loop over a tensor already on ``device``; returns per-epoch losses.
    ``bfloat16``: the forward pass under bfloat16 autocast (torch's recipe), the loss in
    float32."""
    torch.manual_seed(seed)
    model = plain_model(X.shape[1]).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=LR, fused=fused)
    loss_fn = nn.MSELoss()
    n = len(X)
    losses = []
    model.train()
    device_type = torch.device(device).type
    for _ in range(epochs):
        # same shuffle as the estimator: a CPU permutation, one gather, contiguous slices
        Xp = X[torch.randperm(n).to(device)]
        total = torch.zeros((), device=device)
        for start in range(0, n, batch_size):
            xb = Xp[start : start + batch_size]
            optimizer.zero_grad(set_to_none=True)
            with torch.autocast(device_type, dtype=torch.bfloat16, enabled=bfloat16):
                out = model(xb)
            loss = loss_fn(out.float(), xb)
            loss.backward()
            optimizer.step()
            total += loss.detach() * len(xb)
        losses.append(total.item() / n)
    return model, losses


# ------------------------------------------------------------------- estimator
def make_estimator(epochs, batch_size, seed, device):
    return AutoencoderTransformer(
        n_components=N_COMPONENTS,
        hidden_layer_sizes=HIDDEN,
        activation="relu",
        init="random",
        loss="mse",
        max_epochs=epochs,
        batch_size=batch_size,
        lr=LR,
        lr_schedule="constant",  # the plain loop's constant rate, in float32
        precision="float32",
        optimizer="adam",
        weight_decay=0.0,  # the plain loop has none
        early_stopping=False,
        device=device,
        random_state=seed,
    )


def n_params(module):
    return sum(p.numel() for p in module.parameters())


def run(args):
    device = args.device
    n_train = args.n_train
    X = load_mnist_split(n_train=n_train)[0]
    n = len(X)
    X_plain = torch.as_tensor(preprocess(X), device=device)

    # untimed warm-up: allocator, thread pools, CUDA context and kernels
    train_plain(X_plain, 1, args.batch_size, args.seed, device)
    make_estimator(1, args.batch_size, args.seed, device).fit(X)

    rounds = []
    for r in range(args.rounds):
        seed = args.seed + r
        (model, plain_losses), plain_s = timed(
            lambda: train_plain(X_plain, args.epochs, args.batch_size, seed, device), device
        )
        _, fused_s = timed(
            lambda: train_plain(X_plain, args.epochs, args.batch_size, seed, device, True),
            device,
        )
        est, est_s = timed(
            lambda: make_estimator(args.epochs, args.batch_size, seed, device).fit(X), device
        )
        epoch_s = float(np.sum(est.net_.history[:, "dur"]))
        if n_params(model) != n_params(est.net_.module_):
            raise RuntimeError("the plain loop and the estimator train different networks")
        rounds.append(
            {
                "round": r,
                "plain_s": plain_s,
                "plain_samples_per_s": n * args.epochs / plain_s,
                "plain_fused_s": fused_s,
                "plain_fused_samples_per_s": n * args.epochs / fused_s,
                "estimator_s": est_s,
                "estimator_samples_per_s": n * args.epochs / est_s,
                "estimator_epochs_s": epoch_s,
                "estimator_epochs_samples_per_s": n * args.epochs / epoch_s,
                "estimator_epoch_durations_s": [float(d) for d in est.net_.history[:, "dur"]],
                "plain_final_loss": plain_losses[-1],
                "estimator_final_loss": float(est.loss_curve_[-1]),
            }
        )
        rounds[-1]["ratio"] = (
            rounds[-1]["estimator_samples_per_s"] / rounds[-1]["plain_samples_per_s"]
        )
        print(f"round {r}: plain {plain_s:.2f} s, plain fused {fused_s:.2f} s, "
              f"estimator {est_s:.2f} s", flush=True)

    def median(key):
        return statistics.median(row[key] for row in rounds)

    plain_sps = median("plain_samples_per_s")
    est_sps = median("estimator_samples_per_s")
    fused_sps = median("plain_fused_samples_per_s")
    summary = {
        "plain_samples_per_s": plain_sps,
        "plain_fused_samples_per_s": fused_sps,
        "ratio_to_fused": est_sps / fused_sps,
        "estimator_samples_per_s": est_sps,
        "estimator_epochs_samples_per_s": median("estimator_epochs_samples_per_s"),
        "ratio": est_sps / plain_sps,
        "target_ratio": TARGET_RATIO,
        "passed": est_sps / plain_sps >= TARGET_RATIO,
    }
    config = {
        "network": f"{X.shape[1]}-{'-'.join(map(str, HIDDEN))}-{N_COMPONENTS} (mirrored)",
        "n_params": n_params(model),
        "n_train": n,
        "epochs": args.epochs,
        "rounds": args.rounds,
        "batch_size": args.batch_size,
        "optimizer": f"adam lr={LR}",
        "seed": args.seed,
        "quick": args.quick,
    }
    return {"environment": environment(device), "config": config, "rounds": rounds,
            "summary": summary}


def report(result):
    env, cfg, s = result["environment"], result["config"], result["summary"]
    print(
        f"\n{cfg['network']}, {cfg['n_params']} parameters; {cfg['n_train']} rows x "
        f"{cfg['epochs']} epochs, batch {cfg['batch_size']}, {cfg['optimizer']}; "
        f"device {env['device']}, {env['torch_threads']} torch threads, {env['cpu_model']}, "
        f"torch {env['torch']}, skorch {env['skorch']}\n"
    )
    headers = ["round", "plain s", "plain samples/s", "plain fused samples/s", "estimator s",
               "estimator samples/s", "estimator epochs-only samples/s", "ratio",
               "final loss plain / est."]
    rows = [
        [r["round"], fmt(r["plain_s"], ".3f"), fmt(r["plain_samples_per_s"], ".0f"),
         fmt(r["plain_fused_samples_per_s"], ".0f"),
         fmt(r["estimator_s"], ".3f"), fmt(r["estimator_samples_per_s"], ".0f"),
         fmt(r["estimator_epochs_samples_per_s"], ".0f"), fmt(r["ratio"], ".3f"),
         f"{r['plain_final_loss']:.4f} / {r['estimator_final_loss']:.4f}"]
        for r in result["rounds"]
    ]
    rows.append(["median", "", fmt(s["plain_samples_per_s"], ".0f"),
                 fmt(s["plain_fused_samples_per_s"], ".0f"), "",
                 fmt(s["estimator_samples_per_s"], ".0f"),
                 fmt(s["estimator_epochs_samples_per_s"], ".0f"), fmt(s["ratio"], ".3f"), ""])
    print(markdown_table(headers, rows))
    verdict = "PASS" if s["passed"] else "FAIL"
    quick = " (quick run: not representative)" if cfg["quick"] else ""
    print(
        f"\nthroughput: estimator {s['estimator_samples_per_s']:.0f} samples/s, plain loop "
        f"{s['plain_samples_per_s']:.0f} samples/s, ratio {s['ratio']:.3f} "
        f"(target >= {TARGET_RATIO}): {verdict}{quick}; against the plain loop with fused Adam "
        f"({s['plain_fused_samples_per_s']:.0f} samples/s): {s['ratio_to_fused']:.3f}"
    )


def main(argv=None):
    parser = argument_parser(__spec__.name, __doc__)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    parser.add_argument("--epochs", type=int, default=50, help="epochs per fit (default 50)")
    parser.add_argument("--n-train", type=int, default=8000,
                        help="training rows, from the front of the train split (default 8000)")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--device", default="cpu", help='"cpu" (default), "cuda", "cuda:N"')
    parser.add_argument("--threads", type=int, default=None,
                        help="torch intra-op threads (default: torch's own choice)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true",
                        help="seconds-long check: 1024 rows, 2 epochs, 2 rounds")
    parser.add_argument("--out", default=str(RESULTS_DIR / "throughput.json"))
    args = parser.parse_args(argv)
    if args.quick:
        args.n_train, args.epochs, args.rounds = 1024, 2, 2
    check_device(args.device)
    set_threads(args.threads)

    result = run(args)
    report(result)
    print(f"wrote {write_json(args.out, result)}")


if __name__ == "__main__":
    main()
