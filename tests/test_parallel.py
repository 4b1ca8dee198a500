"""Data-parallel training (sklearn_ae/_parallel.py): two real processes launched by torchrun
on the CPU (gloo), against a fit in one process."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import make_arc
from numpy.testing import assert_allclose, assert_array_equal

import sklearn_ae
from sklearn_ae import AutoencoderTransformer

WORKER = Path(__file__).with_name("ddp_worker.py")

# the global batch (32) is split in two halves of 16, one per process
PARAMS = {
    "n_components": 1, "max_epochs": 4, "hidden_layer_sizes": [16], "batch_size": 32,
    "lr": 1e-2, "lr_schedule": "constant", "precision": "float32", "random_state": 0,
}

# The 2-process fit against the 1-process fit with the same global batch. Averaging the
# gradients of two half-batch means is the gradient of the whole batch's mean up to
# float32 rounding (~1e-8 relative on the project's AMD EPYC), but rows in batches of 16
# and of 32 may round differently on other CPUs (MKL on an Intel Xeon: 1 ulp), and
# training compounds it: 1 ulp per matmul moved a 4-epoch fit's held-out error by up to
# 6% in a simulation. So the first epoch's loss, before much compounding, is compared
# tightly, the end of training loosely.
RTOL_FIRST_EPOCH = 1e-3
RTOL = 0.1


@pytest.fixture(scope="module")
def two_processes(tmp_path_factory):
    """Launch the worker on 2 CPU processes; the per-rank results and the output folder."""
    out = tmp_path_factory.mktemp("ddp")
    np.save(out / "X.npy", make_arc(300))
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
        str(WORKER), str(out / "X.npy"), str(out), json.dumps(PARAMS),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-12000:]
    ranks = [json.loads((out / f"rank{r}.json").read_text()) for r in range(2)]
    return ranks, out


def test_ranks_end_with_the_same_model(two_processes):
    ranks, _ = two_processes
    for name in ranks[0]["members"]:
        a, b = (r["members"][name] for r in ranks)
        assert_array_equal(a["codes"], b["codes"])
        # the recorded losses are means over the processes, the same on every rank
        assert a["loss_curve"] == b["loss_curve"] and len(a["loss_curve"]) >= 1
        assert np.all(np.isfinite(a["codes"]))


def test_two_processes_match_one_with_the_same_global_batch(two_processes):
    _, out = two_processes
    X = np.load(out / "X.npy")
    X_test = make_arc(200, seed=1)
    single = AutoencoderTransformer(**PARAMS).fit(X)
    parallel = sklearn_ae.load(out / "model.safetensors")  # usable where it is loaded
    assert parallel.data_parallel and parallel.n_iter_ == single.n_iter_
    error = np.mean(np.square(parallel.reconstruct(X_test) - X_test))
    expected = np.mean(np.square(single.reconstruct(X_test) - X_test))
    assert parallel.loss_curve_[0] == pytest.approx(single.loss_curve_[0], rel=RTOL_FIRST_EPOCH)
    assert error == pytest.approx(expected, rel=RTOL)
    assert_allclose(parallel.loss_curve_, single.loss_curve_, rtol=RTOL)


def test_ranks_take_the_same_precision_and_floor_decisions(two_processes):
    # precision="auto" is measured on each rank and the floor tests each rank's validation
    # rows: both must be decided once for all, or the ranks would train different models
    ranks, _ = two_processes
    a, b = (r["defaults"] for r in ranks)
    assert a["precision"] == b["precision"] and a["best_epoch"] == b["best_epoch"]
    assert a["p_value"] == b["p_value"]
    assert_array_equal(a["codes"], b["codes"])


def test_only_rank_0_prints_and_saves(two_processes):
    ranks, out = two_processes
    assert [r["members"]["AutoencoderTransformer"]["printed"] for r in ranks] == [True, False]
    assert sorted(p.name for p in out.glob("*.safetensors")) == ["model.safetensors"]


def test_ranks_that_disagree_on_the_width_get_a_clear_error(two_processes):
    ranks, _ = two_processes
    for r in ranks:
        assert "different numbers of features (rank 0: 8, rank 1: 7)" in r["width_error"]


def test_data_parallel_outside_a_launcher_is_refused(monkeypatch):
    for name in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(name, raising=False)
    est = AutoencoderTransformer(data_parallel=True, **PARAMS)
    with pytest.raises(ValueError, match="process group: launch the script .* torchrun"):
        est.fit(make_arc(50))
    assert not hasattr(est, "n_features_in_")
