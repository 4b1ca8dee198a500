"""Arrays of other namespaces under scikit-learn's ``array_api_dispatch``: the answers of
inference (transform, inverse_transform, score_samples, reconstruct, predict...) in the
input's namespace and on its device, torch tensors computed where they lie; a fit's fitted
arrays in its input's namespace; pickles and files of NumPy arrays all the same.
scikit-learn's own array API estimator checks run over the family in tests/test_common.py.

scikit-learn refuses the flag unless ``SCIPY_ARRAY_API=1`` was set before scipy was first
imported, which the test process has done long before; the checks run in a fresh
interpreter with it set (each prints nothing and exits 0, or fails an assert)."""

import os
import subprocess
import sys
import textwrap

import pytest
import torch

from sklearn_ae._array_api import _INFERENCE_METHODS, ArrayAPIMixin
from sklearn_ae._base import _NetTrainer

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


def test_every_members_inference_methods_answer_in_the_namespace_of_x():
    # ArrayAPIMixin wraps them as each class is defined (importing sklearn_ae defines every
    # member): a member's own methods and those it takes from scikit-learn's mixins (a
    # classifier's score), the supervised estimators' included
    members = _NetTrainer._members_by_name
    assert {"AutoencoderTransformer", "AutoencoderClassifier", "AutoencoderRegressor"} <= set(
        members)
    for name, member in members.items():
        assert issubclass(member, ArrayAPIMixin), name
        for method in _INFERENCE_METHODS:
            if hasattr(member, method):
                wrapped = getattr(member, method)
                assert getattr(wrapped, "answers_in_namespace_of_X", False), (name, method)


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


def test_a_fit_on_tensors_leaves_its_fitted_arrays_as_tensors():
    _run("""
    import pickle, tempfile, os, pytest, sklearn_ae
    from sklearn.utils._array_api import move_estimator_to
    with sklearn.config_context(array_api_dispatch=True):
        on_T = sklearn.base.clone(est).fit(T)
    # the fit computed on the host: the same numbers as from numpy, as tensors on T's device
    for name in ("mean_", "code_mean_", "code_std_", "loss_curve_"):
        value = getattr(on_T, name)
        assert isinstance(value, torch.Tensor) and value.device == T.device, name
        assert np.array_equal(value.numpy(), getattr(est, name)), name
    with sklearn.config_context(array_api_dispatch=True):
        assert torch.equal(on_T.transform(T), est.transform(T))
        # as scikit-learn's estimators do: X of another namespace is refused under the flag
        with pytest.raises(ValueError, match="AutoencoderTransformer.transform.. must use the "
                                             "same namespace"):
            on_T.transform(X)
        # ... unless the estimator is moved there (scikit-learn's move_estimator_to)
        moved = move_estimator_to(on_T, np, "cpu")
        assert isinstance(moved.mean_, np.ndarray) and isinstance(on_T.mean_, torch.Tensor)
        assert np.array_equal(moved.transform(X), est.transform(X))
    # without the flag numpy in, numpy out
    assert np.array_equal(on_T.transform(X), est.transform(X))
    assert np.array_equal(on_T.code_activations(X), est.code_activations(X))
    # pickles and files hold numpy; the loaded model serves every namespace
    state = on_T.__getstate__()
    assert isinstance(state["mean_"], np.ndarray)
    path = os.path.join(tempfile.mkdtemp(), "model.safetensors")
    sklearn_ae.save(on_T, path)
    for loaded in (pickle.loads(pickle.dumps(on_T)), sklearn_ae.load(path)):
        assert isinstance(loaded.mean_, np.ndarray)
        assert np.array_equal(loaded.transform(X), est.transform(X))
    with torch.no_grad():
        codes = on_T.to_torch()(torch.tensor(X, dtype=torch.float32))
    assert torch.allclose(codes, torch.from_numpy(est.transform(X)), atol=1e-5)
    # a classifier's autoencoder_ follows; its labels stay numpy (they may be strings)
    y = torch.tensor(X[:, 0] > 0.5).long()
    with sklearn.config_context(array_api_dispatch=True):
        clf = sklearn_ae.AutoencoderClassifier(est, max_epochs=2, random_state=0).fit(T, y)
        assert isinstance(clf.autoencoder_.mean_, torch.Tensor)
        assert isinstance(clf.classes_, np.ndarray)
        predicted = clf.predict(T)
    assert isinstance(predicted, torch.Tensor)
    assert np.array_equal(predicted.numpy(), clf.predict(X))
    """)


def test_answers_and_fitted_arrays_equal_the_numpy_ones_in_each_namespace():
    # scikit-learn's own check of the values (fitted arrays and every method's answer
    # against a fit on numpy), beside the namespace checks test_common runs for the family
    # (the autoencoders' tensors: test_tensors_in_tensors_out_equal_the_numpy_results)
    _run("""
    from sklearn.utils.estimator_checks import check_array_api_input_and_values
    from sklearn_ae import AutoencoderClassifier, AutoencoderRegressor
    small = dict(max_epochs=2, random_state=0)
    for checked, namespace in (
        (est, "array_api_strict"),
        (AutoencoderClassifier(sklearn.base.clone(est), **small), "torch"),
        (AutoencoderRegressor(sklearn.base.clone(est), **small), "array_api_strict"),
    ):
        check_array_api_input_and_values(type(checked).__name__, checked, namespace)
    """)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_tensors_stay_on_the_gpu():
    _run("""
    with sklearn.config_context(array_api_dispatch=True):
        codes = est.transform(T)
        assert codes.is_cuda and est.inverse_transform(codes).is_cuda
        assert est.score_samples(T).is_cuda
        on_T = sklearn.base.clone(est).fit(T)
        assert on_T.mean_.is_cuda and on_T.loss_curve_.is_cuda
        assert on_T.transform(T).is_cuda
    """, device="cuda")
