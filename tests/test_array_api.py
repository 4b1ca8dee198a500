"""Torch tensors under scikit-learn's ``array_api_dispatch``: transform, inverse_transform,
score_samples (and reconstruct) answer in the input's namespace and on its device.

scikit-learn refuses the flag unless ``SCIPY_ARRAY_API=1`` was set before scipy was first
imported, which the test process has done long before; the checks run in a fresh
interpreter with it set (each prints nothing and exits 0, or fails an assert)."""

import os
import subprocess
import sys
import textwrap

import pytest
import torch

SETUP = """
import numpy as np, sklearn, torch
from sklearn_ae import {name}
torch.set_num_threads(1)
X = np.random.RandomState(0).rand(60, 5)
est = {name}(n_components=2, max_epochs=2, hidden_layer_sizes=(8,), random_state=0,
             precision="float32", whiten=True, device="{device}").fit(X)
T = torch.tensor(X, device="{device}")
"""


def _run(code, name="AutoencoderTransformer", device="cpu"):
    script = SETUP.format(name=name, device=device) + textwrap.dedent(code)
    env = {**os.environ, "SCIPY_ARRAY_API": "1"}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.mark.parametrize("name", ["AutoencoderTransformer", "VAETransformer"])
def test_tensors_in_tensors_out_equal_the_numpy_results(name):
    _run("""
    with sklearn.config_context(array_api_dispatch=True):
        codes = est.transform(T)
        assert isinstance(codes, torch.Tensor) and codes.dtype == torch.float32
        assert codes.device == T.device
        assert torch.equal(codes, torch.from_numpy(est.transform(X)))
        back = est.inverse_transform(codes)
        assert isinstance(back, torch.Tensor) and back.shape == (60, 5)
        assert torch.equal(back, torch.from_numpy(est.inverse_transform(est.transform(X))))
        scores = est.score_samples(T)
        assert scores.dtype == torch.float64
        assert torch.equal(scores, torch.from_numpy(est.score_samples(X)))
        assert abs(est.score(T) - est.score(X)) <= 1e-12 * abs(est.score(X))  # other sums
        assert isinstance(est.reconstruct(T), torch.Tensor)
        # integers become float64 first, as check_array makes them
        assert torch.equal(est.transform(T.round().int()),
                           torch.from_numpy(est.transform(X.round())))
    # without the flag a tensor is an array-like like any other: numpy out
    assert isinstance(est.transform(T), np.ndarray)
    """, name)


def test_bad_tensors_get_check_arrays_errors():
    _run("""
    import pytest
    with sklearn.config_context(array_api_dispatch=True):
        with pytest.raises(ValueError, match="NaN or infinity"):
            est.transform(torch.full((3, 5), float("nan"), dtype=torch.float64))
        with pytest.raises(ValueError, match="Expected a 2D tensor"):
            est.transform(T[0])
        with pytest.raises(ValueError, match="5 features"):
            est.transform(T[:, :4])
        with pytest.raises(ValueError, match="n_components_=2"):
            est.inverse_transform(T)
    """)


def test_fit_and_the_classifier_take_tensors_and_compute_on_the_host():
    _run("""
    from sklearn_ae import AutoencoderClassifier
    y = (X[:, 0] > 0.5).astype(int)
    with sklearn.config_context(array_api_dispatch=True):
        refit = sklearn.base.clone(est).fit(T)
        assert isinstance(refit.mean_, np.ndarray)
        assert np.array_equal(refit.mean_, est.mean_)
        clf = AutoencoderClassifier(est, max_epochs=2, random_state=0).fit(T, y)
        assert np.array_equal(clf.predict(T), clf.predict(X))
    """)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_tensors_stay_on_the_gpu():
    _run("""
    with sklearn.config_context(array_api_dispatch=True):
        codes = est.transform(T)
        assert codes.is_cuda and est.inverse_transform(codes).is_cuda
        assert est.score_samples(T).is_cuda
    """, device="cuda")
