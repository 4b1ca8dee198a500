"""Write docs/benchmarks.md and its figures from the raw results of ``benchmarks.suite``.

Every number in the report is read from ``suite.json`` / ``suite_arrays.npz``; the only
fixed text is the description of the protocol and the published anchors (marked as such).

    python -m benchmarks.report                                  # default paths
    python -m benchmarks.report --results benchmarks/results --report docs/benchmarks.md
"""

import json
import math
import os
from pathlib import Path

import numpy as np

from benchmarks._common import REPO_ROOT, RESULTS_DIR, argument_parser, fmt, markdown_table

DEFAULT_REPORT = REPO_ROOT / "docs" / "benchmarks.md"
AUTOENCODERS = ("ae", "dae", "vae")
MNIST_PIXELS = 784

METRIC_COLUMNS = [
    ("mse", "test MSE", ".4g"),
    ("trustworthiness", "trust. (k=5)", ".3f"),
    ("knn5_acc", "kNN-5 acc", ".3f"),
    ("logreg_acc", "logreg acc", ".3f"),
    ("fit_s", "fit s", ".3g"),
    ("transform_s_per_10k", "transform s / 10k rows", ".3g"),
    ("peak_mem_mib", "peak MiB", ".0f"),
]


def _num(value):
    """A float, or None for missing / empty / NaN values."""
    if value is None or value == "":
        return None
    value = float(value)
    return None if math.isnan(value) else value


def load_results(results_dir):
    results_dir = Path(results_dir)
    meta = json.loads((results_dir / "suite.json").read_text())
    arrays_path = results_dir / "suite_arrays.npz"
    arrays = dict(np.load(arrays_path)) if arrays_path.exists() else {}
    return meta, arrays


def _label(meta, method):
    return meta["method_labels"].get(method, method)


def _ok(rows):
    return [r for r in rows if r["status"] == "ok"]


def _find(rows, dataset, method, k):
    for r in rows:
        if r["dataset"] == dataset and r["method"] == method and r["k"] == k:
            return r
    return None


# --------------------------------------------------------------------------- figures


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def figure_embeddings(meta, arrays, dataset, fig_dir):
    """Scatter plots of every method's 2-d test codes, coloured by label / coordinate."""
    rows = [r for r in _ok(meta["results"]) if r["dataset"] == dataset and r["k"] == 2]
    panels = [(r["method"], arrays[f"{dataset}/{r['method']}/k2/codes"]) for r in rows
              if f"{dataset}/{r['method']}/k2/codes" in arrays]
    if not panels:
        return None
    plt = _plt()
    c = arrays.get(f"{dataset}/c_test")
    n = len(panels)
    fig, axes = plt.subplots(1, n, figsize=(3.0 * n, 3.2), squeeze=False)
    labelled = meta["datasets"][dataset].get("labelled", True)
    cmap = "tab10" if labelled else "viridis"
    for ax, (method, Z) in zip(axes[0], panels):
        ax.scatter(Z[:, 0], Z[:, 1], c=c, s=3, cmap=cmap, alpha=0.8, linewidths=0)
        ax.set_title(_label(meta, method), fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(f"{dataset}: 2-d codes of the test split", fontsize=10)
    fig.tight_layout()
    path = fig_dir / f"bench_embeddings_{dataset}.png"
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def figure_reconstructions(meta, arrays, dataset, fig_dir):
    """Original test images (top row) and each method's reconstruction at one k."""
    info = meta["datasets"][dataset]
    images = arrays.get(f"{dataset}/images")
    if images is None:
        return None, None
    ks = info["ks"]
    k = 10 if 10 in ks else ks[0]
    rows = [r for r in _ok(meta["results"]) if r["dataset"] == dataset and r["k"] == k
            and f"{dataset}/{r['method']}/k{k}/recon" in arrays]
    if not rows:
        return None, None
    plt = _plt()
    side = int(round(math.sqrt(images.shape[1])))
    n_img = images.shape[0]
    fig, axes = plt.subplots(len(rows) + 1, n_img, figsize=(0.8 * n_img + 1.6,
                                                           0.8 * (len(rows) + 1)),
                             squeeze=False)
    lines = [("original", images)] + [
        (_label(meta, r["method"]), arrays[f"{dataset}/{r['method']}/k{k}/recon"])
        for r in rows]
    vmin, vmax = float(images.min()), float(images.max())
    for i, (name, X) in enumerate(lines):
        for j in range(n_img):
            ax = axes[i, j]
            ax.imshow(X[j].reshape(side, side), cmap="gray_r", vmin=vmin, vmax=vmax)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[i, 0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=8)
    fig.suptitle(f"{dataset}: test images and reconstructions at k={k}", fontsize=10)
    fig.tight_layout()
    path = fig_dir / f"bench_reconstructions_{dataset}.png"
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path, k


def figure_mse_vs_k(meta, fig_dir):
    """Test reconstruction MSE against n_components, one panel per dataset."""
    rows = [r for r in _ok(meta["results"]) if _num(r["mse"]) is not None]
    datasets = [d for d in meta["datasets"] if any(r["dataset"] == d for r in rows)]
    if not datasets:
        return None
    plt = _plt()
    fig, axes = plt.subplots(1, len(datasets), figsize=(3.6 * len(datasets), 3.2),
                             squeeze=False)
    methods = list(dict.fromkeys(r["method"] for r in rows))
    colours = {m: plt.get_cmap("tab10")(i % 10) for i, m in enumerate(methods)}
    handles = {}
    for ax, dataset in zip(axes[0], datasets):
        drows = [r for r in rows if r["dataset"] == dataset]
        for method in dict.fromkeys(r["method"] for r in drows):
            pts = sorted((r["k"], _num(r["mse"])) for r in drows if r["method"] == method)
            (line,) = ax.plot(*zip(*pts), marker="o", color=colours[method],
                              label=_label(meta, method))
            handles.setdefault(method, line)
        ax.set_yscale("log")
        ax.set_xlabel("n_components")
        ax.set_title(dataset, fontsize=10)
    axes[0, 0].set_ylabel("test reconstruction MSE")
    fig.legend([handles[m] for m in methods], [_label(meta, m) for m in methods],
               loc="lower center", ncol=min(len(methods), 7), fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    path = fig_dir / "bench_mse_vs_k.png"
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


# --------------------------------------------------------------------------- text


def results_table(meta, dataset):
    rows = [r for r in _ok(meta["results"]) if r["dataset"] == dataset]
    headers = ["method", "k"] + [h for _, h, _ in METRIC_COLUMNS] + ["epochs (best)"]
    out = []
    for r in sorted(rows, key=lambda r: r["k"]):
        cells = [_label(meta, r["method"]), str(r["k"])]
        cells += [fmt(_num(r[key]), spec) for key, _, spec in METRIC_COLUMNS]
        epochs = "-" if r["n_iter"] is None else f"{r['n_iter']} ({r['best_epoch']})"
        out.append(cells + [epochs])
    return markdown_table(headers, out) if out else "_no successful runs_"


def _best(rows, key, lower):
    vals = [(r, _num(r[key])) for r in rows if _num(r[key]) is not None]
    if not vals:
        return None, None
    r, v = (min if lower else max)(vals, key=lambda t: t[1])
    return r, v


def _versus_pca(meta, rows, method):
    """One bullet: where ``method`` reconstructs better, as well as, or worse than PCA."""
    ratios = []
    for r in rows:
        if r["method"] == method and _num(r["mse"]) is not None:
            p = _find(rows, r["dataset"], "pca", r["k"])
            if p and _num(p["mse"]):
                ratios.append((_num(r["mse"]) / _num(p["mse"]), r["dataset"], r["k"]))
    if not ratios:
        return []
    better = [t for t in ratios if t[0] < 0.999]
    tied = [t for t in ratios if 0.999 <= t[0] <= 1.001]
    worse = [t for t in ratios if t[0] > 1.001]
    kept_init = sum(1 for r in rows if r["method"] == method
                    and r["best_epoch"] == 0 and _num(r["mse"]) is not None)
    return [
        f"- **{_label(meta, method)} vs PCA**: lower test MSE in {len(better)} of "
        f"{len(ratios)} (dataset, k) cases"
        + (" (by " + ", ".join(f"{d} k={k}: {1 - x:.1%}" for x, d, k in better)
           + " less error)" if better else "")
        + f", within 0.1% in {len(tied)}, higher in {len(worse)}" + (
            " (" + ", ".join(f"{d} k={k}: x{x:.3f}" for x, d, k in worse) + ")"
            if worse else "")
        + f". In {kept_init} of them early stopping kept the untrained, "
        "PCA-initialised state (best epoch 0)."
    ]


def reading(meta):
    """Bullets computed from the numbers: who wins what, and what it costs."""
    rows = _ok(meta["results"])
    lines = []
    wins = {"autoencoder": 0, "PCA": 0, "other": 0, "tie": 0}
    cells = []
    for dataset, info in meta["datasets"].items():
        for k in info["ks"]:
            cell = [r for r in rows if r["dataset"] == dataset and r["k"] == k]
            best, v = _best(cell, "mse", lower=True)
            if best is None:
                continue
            pca, ae = _find(cell, dataset, "pca", k), _find(cell, dataset, "ae", k)
            kind = ("autoencoder" if best["method"] in AUTOENCODERS
                    else "PCA" if best["method"] == "pca" else "other")
            if kind != "PCA" and pca and _num(pca["mse"]) is not None \
                    and _num(pca["mse"]) <= v * 1.001:
                kind = "tie"  # PCA within 0.1% of the best: no real win
            wins[kind] += 1
            ratio = ""
            if pca and ae and _num(pca["mse"]) and _num(ae["mse"]) is not None:
                ratio = f"; AE/PCA MSE = {_num(ae['mse']) / _num(pca['mse']):.4f}"
            tie = ", a tie with PCA" if kind == "tie" else ""
            cells.append(
                f"{dataset} k={k}: {_label(meta, best['method'])} ({v:.4g}{ratio}{tie})")
    n = sum(wins.values())
    if n:
        lines.append(
            f"- **Reconstruction** (lowest test MSE per dataset and k): an autoencoder in "
            f"{wins['autoencoder']} of {n} cases, PCA in {wins['PCA']}, another method in "
            f"{wins['other']}; in {wins['tie']} the best was within 0.1% of PCA (a tie). "
            "Per case: " + "; ".join(cells) + ".")
        for method in ("ae", "dae", "vae"):
            lines.extend(_versus_pca(meta, rows, method))
    for key, name in (("trustworthiness", "Trustworthiness"), ("knn5_acc", "kNN-5 accuracy"),
                      ("logreg_acc", "Logistic probe accuracy")):
        per = []
        for dataset, info in meta["datasets"].items():
            ks = [k for k in info["ks"]]
            if not ks:
                continue
            k = min(ks)
            cell = [r for r in rows if r["dataset"] == dataset and r["k"] == k]
            best, v = _best(cell, key, lower=False)
            if best is not None:
                pca = _find(cell, dataset, "pca", k)
                extra = (f" vs PCA {_num(pca[key]):.3f}"
                         if pca and _num(pca[key]) is not None and best is not pca else "")
                per.append(f"{dataset}: {_label(meta, best['method'])} {v:.3f}{extra}")
        if per:
            lines.append(f"- **{name}** at the smallest k (highest): " + "; ".join(per) + ".")
    time_ratios = []
    for r in rows:
        if r["method"] in AUTOENCODERS and _num(r["fit_s"]) is not None:
            p = _find(rows, r["dataset"], "pca", r["k"])
            if p and _num(p["fit_s"]):
                time_ratios.append((_num(r["fit_s"]) / _num(p["fit_s"]), r))
    if time_ratios:
        vals = np.array([t for t, _ in time_ratios])
        ae_s = [_num(r["fit_s"]) for _, r in time_ratios]
        tr = [(_num(r["transform_s_per_10k"]),
               _num(_find(rows, r["dataset"], "pca", r["k"])["transform_s_per_10k"]))
              for _, r in time_ratios]
        tr_ratio = np.array([a / b for a, b in tr if a is not None and b])
        lines.append(
            f"- **Cost**: an autoencoder fit takes {np.median(vals):.0f}x PCA's fit time "
            f"(median over {len(vals)} fits; range {vals.min():.0f}x to {vals.max():.0f}x; "
            f"{min(ae_s):.2f} s to {max(ae_s):.1f} s per fit on {meta['environment']['device']})"
            + (f"; transforming is {np.median(tr_ratio):.0f}x slower than PCA's (median)"
               if len(tr_ratio) else "") + ".")
        mnist = [(r, _find(rows, "mnist", "pca", r["k"])) for _, r in time_ratios
                 if r["dataset"] == "mnist" and r["k"] == max(meta["datasets"].get(
                     "mnist", {}).get("ks", [0]))]
        if mnist:
            lines.append(
                f"- **Cost on MNIST at k={mnist[0][0]['k']}**: " + "; ".join(
                    f"{_label(meta, r['method'])} {_num(r['fit_s']):.1f} s "
                    f"({_num(r['n_iter']) or 0:.0f} epochs)" for r, _ in mnist)
                + f" against PCA's {_num(mnist[0][1]['fit_s']):.2f} s.")
        mem = [(_num(r["peak_mem_mib"]),
                _num(_find(rows, r["dataset"], "pca", r["k"])["peak_mem_mib"]))
               for _, r in time_ratios]
        mem = [(a, b) for a, b in mem if a is not None and b is not None]
        if mem:
            lines.append(
                f"- **Memory**: the autoencoders' fits grew the process by up to "
                f"{max(a for a, _ in mem):.0f} MiB, PCA's by up to {max(b for _, b in mem):.0f}"
                " MiB (peak RSS growth; see the protocol).")
    return "\n".join(lines)


ANCHOR_TEXT = """\
_Fixed text (published numbers, not measured here):_

* **Hinton & Salakhutdinov (2006)**, *Reducing the dimensionality of data with neural
  networks*, Science 313: MNIST, 30-d code, average squared error **summed over the 784
  pixels** of a test image: deep autoencoder **3.00**, logistic PCA **8.01**, PCA **13.87**.
  Protocol differences: full MNIST (60k train / 10k test), an RBM-pretrained 784-1000-500-250-30
  network fine-tuned for a long time, logistic (sigmoid/cross-entropy) outputs. Ours: the
  10k MNIST subset (8000 train / 2000 test), the default MLP (784-512-256-k), MSE loss,
  early stopping; our per-pixel MSE is multiplied by 784 to compare.
* **Parametric UMAP (Sainburg, McInnes & Gentner, 2021, Neural Computation)**: MNIST test
  reconstruction MSE (per pixel) at a 2-d code: PCA **0.0557**, autoencoder **0.0369**; 1-NN
  accuracy on the 2-d codes: PCA **0.377**, autoencoder **0.765**. Protocol differences:
  full MNIST (60k / 10k), their own network and training schedule. Ours: the 10k subset,
  1-NN fitted on our 8000 (or fewer, see above) training codes and scored on the 2000 test
  codes.
"""

def anchors(meta):
    rows = _ok(meta["results"])
    body = [ANCHOR_TEXT, "_Our numbers beside them (measured, from the raw results):_", ""]
    table = []
    for method in ("pca", "kernel_pca", "ae", "dae", "vae"):
        r30 = _find(rows, "mnist", method, 30)
        r2 = _find(rows, "mnist", method, 2)
        if r30 is None and r2 is None:
            continue
        mse30 = _num(r30["mse"]) if r30 else None
        table.append([
            _label(meta, method),
            fmt(None if mse30 is None else mse30 * MNIST_PIXELS, ".2f"),
            fmt(_num(r2["mse"]) if r2 else None, ".4f"),
            fmt(_num(r2["knn1_acc"]) if r2 else None, ".3f"),
        ])
    if not table:
        body.append("_MNIST was not part of this run._")
    else:
        body.append(markdown_table(
            ["method (ours)", "k=30: squared error per image (MSE x 784)",
             "k=2: test MSE per pixel", "k=2: 1-NN accuracy"], table))
        body.append("")
        body.append(markdown_table(
            ["published", "k=30: squared error per image", "k=2: test MSE per pixel",
             "k=2: 1-NN accuracy"],
            [["PCA (H&S 2006 / P-UMAP 2021)", "13.87", "0.0557", "0.377"],
             ["logistic PCA (H&S 2006)", "8.01", "-", "-"],
             ["deep autoencoder (H&S 2006) / AE (P-UMAP 2021)", "3.00", "0.0369", "0.765"]]))
    return "\n".join(body)


def protocol(meta):
    s = meta["settings"]
    lines = [
        "Each method is fitted on the training split and measured on the held-out test "
        "split (for MNIST: first 8000 rows train, last 2000 test of the bundled 10k subset).",
        "",
        "* **test MSE**: mean over all test entries of `(X - inverse_transform(transform(X)))"
        "**2`, in the data's own units (MNIST pixels / 255, digits raw 0..16, the tabular "
        "sets standardised); `-` where there is no inverse (Isomap, UMAP).",
        f"* **trust.**: `sklearn.manifold.trustworthiness(X_test, codes, n_neighbors="
        f"{s['trust_neighbors']})` on at most {s['trust_max_rows']} test rows (a fixed "
        "random subset beyond that).",
        f"* **kNN-{s['knn_neighbors']} acc** (and 1-NN for the anchors): a k-NN classifier "
        "fitted on the training codes, accuracy on the test codes. **logreg acc**: "
        "`StandardScaler + LogisticRegression(max_iter=1000)` on the training codes, accuracy "
        "on the test codes. Only where labels exist (not swiss roll / S-curve; their plots are "
        "coloured by the manifold coordinate).",
        "* **fit s**: wall-clock seconds of `fit` on the training split. **transform s / 10k "
        "rows**: `transform` of the test split, scaled linearly to 10 000 rows.",
        "* **peak MiB**: growth of the process's peak resident set size during `fit` (Linux: "
        "the kernel's high-water mark `VmHWM`, reset through `/proc/self/clear_refs` before "
        "the fit, so torch's allocations are counted; elsewhere `tracemalloc`, Python/numpy "
        "only). Memory the allocator kept from earlier fits is reused and not counted "
        "again, so this is a lower bound, comparable within a run.",
        "* **methods**: `PCA`; `KernelPCA(kernel='rbf', gamma=1/(n_features*Var(X_train)), "
        "fit_inverse_transform=True)` (other parameters at their defaults; pre-image ridge "
        f"alpha={s['kpca_alpha']:g}, picked on a validation split of the training data: "
        "the default 1.0 maps every code to about the mean image); "
        f"`Isomap(n_neighbors={s['isomap_neighbors']})`; `TruncatedSVD` on the "
        "pixel datasets only (no centring, meaningful for non-negative pixels); "
        "`AutoencoderTransformer`, `DenoisingAutoencoder`, `VAETransformer` with their "
        f"defaults except `n_components`, `random_state={s['seed']}`, "
        f"`device={s['device_resolved']!r}`"
        + (f" and `max_epochs={s['max_epochs']}`" if s["max_epochs"] is not None else "")
        + "; `UMAP` (umap-learn, when installed) with its defaults.",
        f"* **subsampling**: KernelPCA and Isomap are fitted on the first "
        f"{s['manifold_max_fit_rows']} MNIST training rows (all pairwise kernels / "
        "geodesics); the probes still use the codes of every training row.",
    ]
    if s.get("mnist_rows"):
        lines.append(f"* **--quick**: MNIST training split cut to its first {s['mnist_rows']} "
                     "rows (test split kept).")
    if s.get("n_train"):
        lines.append(f"* **--n-train**: every training split cut to its first {s['n_train']} "
                     "rows.")
    lines.append(f"* **seed**: {s['seed']} (dataset splits, generators, estimators); the "
                 "metrics are deterministic under it, the timings are not.")
    return "\n".join(lines)


def _included_section(title, intro, marker):
    """A section whose table lives in benchmarks/README.md between ``<!-- marker-start -->``
    and ``<!-- marker-end -->``, included, so regenerating this report keeps it."""
    return [
        f"## {title}", "", intro, "",
        "```{include} ../benchmarks/README.md",
        f":start-after: <!-- {marker}-start -->",
        f":end-before: <!-- {marker}-end -->",
        ":relative-images:",
        "```", "",
    ]


# measured by their own scripts, not by the suite
INCLUDED_SECTIONS = (
    _included_section(
        "Neighbour embeddings on MNIST (issue 26)",
        "NeighborEmbeddingAutoencoder beside umap-learn and openTSNE, from "
        "`benchmarks/bench_neighbors.py` (see [its page](neighbor_embedding.md)):",
        "neighbors-results"),
    _included_section(
        "Sparse input: memory and TF-IDF text (issue 27)",
        "A fit on a large CSR matrix, and the LSA pipeline with the autoencoder where "
        "TruncatedSVD stood, from `benchmarks/bench_sparse_input.py`:",
        "sparse-results"),
)


def write_report(results_dir=RESULTS_DIR, report_path=DEFAULT_REPORT):
    """Regenerate the markdown report and its PNG figures; returns the report's path."""
    meta, arrays = load_results(results_dir)
    for name, info in meta["datasets"].items():
        info["labelled"] = any(
            r["dataset"] == name and _num(r["knn5_acc"]) is not None for r in meta["results"])
    report_path = Path(report_path)
    fig_dir = report_path.parent / "figures"
    fig_dir.mkdir(parents=True, exist_ok=True)

    def rel(p):
        return Path(os.path.relpath(p, report_path.parent)).as_posix()

    env, s = meta["environment"], meta["settings"]
    out = [
        "# Benchmarks",
        "",
        "_Generated by `benchmarks/suite.py` (through `benchmarks/report.py`) from the raw "
        "results; do not edit by hand._",
        "",
    ]
    if s["quick"]:
        out += ["> **This is a `--quick` run**: few epochs and a cut MNIST; its numbers check "
                "that the suite works and are not representative of the methods.", ""]
    out += ["## Command", "", "```", meta["command"], "```", "",
            "Raw results beside it: `suite.csv`, `suite.json` (with the environment) and "
            "`suite_arrays.npz` (2-d codes, reconstructed images) in the results directory.",
            "", "## Environment", ""]
    env_rows = [[k, str(env[k])] for k in
                ("timestamp", "device", "gpu", "cpu_model", "cpu_count", "torch_threads",
                 "python", "platform", "torch", "numpy", "sklearn", "skorch", "sklearn_ae")
                if k in env]
    out += [markdown_table(["", "value"], env_rows), "",
            "Timings depend on the machine's load; on shared cores they can be several times "
            "off.", "", "## Protocol", "", protocol(meta), "", "## Datasets", ""]
    out.append(markdown_table(
        ["dataset", "description", "train", "test", "features", "k"],
        [[d, i["description"], str(i["n_train"]), str(i["n_test"]), str(i["n_features"]),
          ", ".join(map(str, i["ks"]))] for d, i in meta["datasets"].items()]))
    out += ["", "## Reading of the results", "",
            "_Computed from the numbers below._", "", reading(meta) or "_no results_", ""]

    out += ["## Results", ""]
    skipped = [r for r in meta["results"] if r["status"] != "ok"]
    for dataset in meta["datasets"]:
        out += [f"### {dataset}", "", results_table(meta, dataset), ""]
        emb = figure_embeddings(meta, arrays, dataset, fig_dir)
        if emb:
            out += [f"![2-d embeddings of {dataset}]({rel(emb)})", ""]
        rec, k = figure_reconstructions(meta, arrays, dataset, fig_dir)
        if rec:
            out += [f"Test images (top row) and their reconstructions at k={k}:", "",
                    f"![reconstructions of {dataset}]({rel(rec)})", ""]
    mse_fig = figure_mse_vs_k(meta, fig_dir)
    if mse_fig:
        out += ["### Reconstruction error against n_components", "",
                f"![test MSE vs n_components]({rel(mse_fig)})", ""]
    if skipped:
        reasons = {}
        for r in skipped:
            reasons.setdefault((r["method"], r["status"], r["note"]), []).append(
                f"{r['dataset']} k={r['k']}")
        out += ["### Not run", ""]
        for (method, status, note), where in reasons.items():
            out.append(f"* {meta['method_labels'].get(method, method)} ({status}: {note}): "
                       + ", ".join(where))
        out.append("")
    out += [line for section in INCLUDED_SECTIONS for line in section]
    out += ["## Published anchors", "", anchors(meta), ""]
    report_path.parent.mkdir(parents=True, exist_ok=True)
    report_path.write_text("\n".join(out))
    return report_path


def main(argv=None):
    p = argument_parser(__spec__.name, __doc__)
    p.add_argument("--results", type=Path, default=RESULTS_DIR)
    p.add_argument("--report", type=Path, default=DEFAULT_REPORT)
    args = p.parse_args(argv)
    print(write_report(args.results, args.report))


if __name__ == "__main__":
    main()
