"""Device resolution (sklearn_ae/_device.py) and moving fitted models between devices."""

import os
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch
from conftest import ESTIMATORS, make_estimator
from numpy.testing import assert_allclose, assert_array_equal

import sklearn_ae
import sklearn_ae._device as _device
from sklearn_ae._device import loadable_device, resolve_device

requires_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


@pytest.fixture
def no_cuda(monkeypatch):
    """Pretend this machine has no CUDA device, for our code and for skorch's."""
    monkeypatch.setattr(_device, "cuda_available", lambda: False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


@pytest.fixture
def one_cuda(monkeypatch):
    """Pretend this machine has exactly one CUDA device (resolution only; nothing runs)."""
    monkeypatch.setattr(_device, "cuda_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)


# -------------------------------------------------------------- resolve_device
def test_auto_is_cpu_without_cuda(no_cuda):
    assert resolve_device("auto") == "cpu"


def test_auto_is_cuda_with_cuda(one_cuda):
    assert resolve_device("auto") == "cuda"


@pytest.mark.parametrize("device", ["cpu", "cuda", "cuda:0"])
def test_explicit_devices_pass_through(one_cuda, device):
    assert resolve_device(device) == device


def test_cpu_needs_no_cuda(no_cuda):
    assert resolve_device("cpu") == "cpu"


@pytest.mark.parametrize("device", ["cuda", "cuda:0", "cuda:3"])
def test_cuda_without_cuda_raises(no_cuda, device):
    with pytest.raises(ValueError, match=f"device='{device}'.*CUDA is not available"):
        resolve_device(device)


@pytest.fixture
def two_cuda(monkeypatch):
    """Pretend this machine has two CUDA devices (resolution only; nothing runs)."""
    monkeypatch.setattr(_device, "cuda_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)


@pytest.mark.parametrize("device", ["auto", "cuda"])
def test_data_parallel_process_gets_the_gpu_of_its_local_rank(two_cuda, device):
    assert resolve_device(device, local_rank=1) == "cuda:1"
    assert resolve_device("cuda:0", local_rank=1) == "cuda:0"  # asked for explicitly
    assert resolve_device("cpu", local_rank=1) == "cpu"


def test_data_parallel_process_without_cuda_stays_on_the_cpu(no_cuda):
    assert resolve_device("auto", local_rank=1) == "cpu"
    with pytest.raises(ValueError,
                       match="device='cuda:2' was requested but CUDA is not available"):
        resolve_device("cuda", local_rank=2)


def test_missing_cuda_index_raises(one_cuda):
    with pytest.raises(ValueError, match=r"device='cuda:1' does not exist.*1 CUDA device"):
        resolve_device("cuda:1")


@pytest.mark.parametrize("device", ["gpu", "cuda:x", "cuda:", "CPU", " cpu", "mps", "", None, 0])
def test_malformed_device_raises(device):
    with pytest.raises(ValueError, match=r"device must be 'auto', 'cpu', 'cuda' or 'cuda:N'"):
        resolve_device(device)


# ----------------------------------------------------- loadable_device, RNG
def test_loadable_device_falls_back_to_cpu_with_warning(no_cuda):
    with pytest.warns(UserWarning, match=r"fitted on 'cuda:1'.*loaded onto the CPU"):
        assert loadable_device("cuda:1") == "cpu"


@pytest.mark.parametrize("device", ["cpu", "cuda", "cuda:1"])
def test_loadable_device_keeps_available_devices(one_cuda, device):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert loadable_device(device) == device


# ---------------------------------------------------------- estimators
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_estimator_resolves_auto_without_touching_params(Estimator, X_small, no_cuda):
    est = make_estimator(Estimator).fit(X_small)
    assert est.device_ == "cpu"
    assert est.get_params()["device"] == "auto"
    assert str(est.net_.device) == "cpu"


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.filterwarnings("ignore::skorch.exceptions.DeviceWarning")  # skorch says it too
def test_cuda_fitted_model_unpickles_on_cpu_machine(Estimator, X_small, monkeypatch):
    est = make_estimator(Estimator).fit(X_small)
    Z = est.transform(X_small)
    R = est.inverse_transform(Z)
    # what a model trained on a GPU records about its device
    est.device_ = "cuda"
    est.net_.device = "cuda"
    blob = pickle.dumps(est)

    monkeypatch.setattr(_device, "cuda_available", lambda: False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.warns(UserWarning, match="fitted on 'cuda'"):
        loaded = pickle.loads(blob)
    assert loaded.device_ == "cpu"
    assert str(loaded.net_.device) == "cpu"
    assert_array_equal(loaded.transform(X_small), Z)
    assert_array_equal(loaded.inverse_transform(Z), R)
    # and it keeps its training parameters: device="auto" was never overwritten
    assert loaded.get_params() == est.get_params()


@requires_cuda
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_fit_on_cuda(Estimator, X_small):
    cpu = make_estimator(Estimator, device="cpu").fit(X_small)
    gpu = make_estimator(Estimator, device="cuda").fit(X_small)
    assert gpu.device_ == "cuda"
    assert next(gpu.net_.module_.parameters()).is_cuda
    Z = gpu.transform(X_small)
    assert isinstance(Z, np.ndarray) and Z.dtype == np.float32
    # same seed, same data: the two devices agree up to floating point
    assert_allclose(Z, cpu.transform(X_small), rtol=1e-3, atol=1e-3)
    state = torch.cuda.get_rng_state()
    make_estimator(Estimator, device="cuda").fit(X_small)
    assert torch.equal(torch.cuda.get_rng_state(), state)
    loaded = pickle.loads(pickle.dumps(gpu))
    assert loaded.device_ == "cuda"
    assert_array_equal(loaded.transform(X_small), Z)


_LOAD_WITHOUT_CUDA = """
import pickle, sys
import numpy as np
import torch
assert not torch.cuda.is_available()
with open(sys.argv[1], "rb") as f:
    est, X = pickle.load(f)
print(est.device_, float(np.abs(est.transform(X) - est.expected_).max()))
"""


@requires_cuda
def test_cuda_fitted_model_unpickles_in_a_process_without_cuda(X_small, tmp_path):
    # the real case: CUDA tensors in the fitted state, loaded where torch sees no GPU
    est = make_estimator(sklearn_ae.AutoencoderTransformer, device="cuda").fit(X_small)
    est.expected_ = est.transform(X_small)
    with open(tmp_path / "est.pkl", "wb") as f:
        pickle.dump((est, X_small), f)
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    out = subprocess.run(
        [sys.executable, "-c", _LOAD_WITHOUT_CUDA, str(tmp_path / "est.pkl")],
        env=env, capture_output=True, text=True, check=True,
    ).stdout.split()
    assert out[0] == "cpu"
    assert float(out[1]) < 1e-5
