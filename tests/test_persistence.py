"""Tests for the safe persistence format (sklearn_ae.save / sklearn_ae.load)."""

import copy
import json
import os
import pathlib
import pickle
import stat
import threading
import time

import numpy as np
import pytest
import torch
from conftest import ESTIMATORS, Snapshot, make_estimator, make_supervised
from numpy.testing import assert_array_equal
from safetensors import safe_open
from safetensors.torch import save_file
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.preprocessing import StandardScaler
from skorch.callbacks import Callback

import sklearn_ae
from sklearn_ae import (
    AutoencoderClassifier,
    AutoencoderRegressor,
    AutoencoderTransformer,
    DenoisingAutoencoder,
    VAETransformer,
    load,
    save,
)
from sklearn_ae import _device, _persistence
from sklearn_ae._persistence import (
    MAX_DEPTH,
    MAX_HEADER_BYTES,
    _checksum,
    _decode,
    _dumps,
    _encode,
    _loads,
)
from sklearn_ae.nn import build_network


@pytest.fixture
def X16():
    """60 x 16 data in [0, 1]: fits the 4 x 4 conv architecture and loss='bce'."""
    return np.random.RandomState(0).rand(60, 16)


def _read(path):
    with safe_open(str(path), framework="pt", device="cpu") as f:
        return f.metadata(), {key: f.get_tensor(key) for key in f.keys()}


def _rewrite(path, metadata, tensors, recompute=True):
    """Write ``metadata`` and ``tensors`` back, with a fresh checksum unless told not to."""
    metadata = dict(metadata)
    if recompute:
        metadata["checksum"] = _checksum(metadata, tensors)
    save_file(tensors, str(path), metadata=metadata)


def _edit(path, entry, **values):
    """Set ``values`` in the header's JSON ``entry`` (``"params"``, ``"attributes"``), with a
    fresh checksum: what anyone can write. A value ``...`` removes the key."""
    metadata, tensors = _read(path)
    content = json.loads(metadata[entry])
    for key, value in values.items():
        if value is ...:
            del content[key]
        else:
            content[key] = value
    metadata[entry] = json.dumps(content)
    _rewrite(path, metadata, tensors)


def _tuple(*items):
    return {"__type__": "tuple", "items": list(items)}


def _fitted_attributes(est):
    return {
        k: v for k, v in vars(est).items()
        if k.endswith("_") and not k.startswith("_") and k != "net_"
    }


def _assert_same_outputs(original, loaded, X):
    Z = original.transform(X)
    assert_array_equal(loaded.transform(X), Z)
    assert_array_equal(loaded.inverse_transform(Z), original.inverse_transform(Z))
    assert_array_equal(loaded.reconstruct(X), original.reconstruct(X))
    assert_array_equal(loaded.score_samples(X), original.score_samples(X))


@pytest.fixture
def saved(tmp_path, X_small):
    """A fitted AutoencoderTransformer saved to a file: ``(estimator, path)``."""
    est = make_estimator(AutoencoderTransformer).fit(X_small)
    path = tmp_path / "model.safetensors"
    save(est, path)
    return est, path


# --------------------------------------------------------------------- round trip
@pytest.mark.parametrize(
    "params, data",
    [
        ({}, "X_small"),
        ({"init": "random"}, "X_small"),
        ({"early_stopping": False}, "X_small"),
        ({"architecture": "conv", "image_shape": (4, 4)}, "X16"),
        ({"loss": "bce"}, "X16"),
    ],
    ids=["default", "random-init", "no-early-stopping", "conv", "bce"],
)
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_round_trip_is_bit_identical(Estimator, params, data, request, tmp_path):
    X = request.getfixturevalue(data)
    est = make_estimator(Estimator, **params).fit(X)
    path = tmp_path / "model.safetensors"
    save(est, str(path))  # str and PathLike (below) both accepted
    loaded = load(path)

    assert type(loaded) is Estimator
    _assert_same_outputs(est, loaded, X)
    assert loaded.get_params() == est.get_params()

    expected = _fitted_attributes(est)
    restored = _fitted_attributes(loaded)
    assert restored.keys() == expected.keys()
    for name, value in expected.items():
        assert type(restored[name]) is type(value), name
        if isinstance(value, np.ndarray):
            assert restored[name].dtype == value.dtype, name
            assert_array_equal(restored[name], value)
        else:
            assert restored[name] == value, name
    assert isinstance(loaded.hidden_layer_sizes_, tuple)

    assert len(loaded.history_) == len(est.history_)
    assert loaded.history_[:, "train_loss"] == est.history_[:, "train_loss"]


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_loaded_estimator_refits_and_warm_starts(Estimator, X_small, tmp_path):
    est = make_estimator(Estimator).fit(X_small)
    save(est, tmp_path / "m.safetensors")

    # a refit from scratch is the same fit as the original's
    refit = load(tmp_path / "m.safetensors").fit(X_small)
    assert_array_equal(refit.transform(X_small), est.transform(X_small))

    # continuing from the saved weights; without early stopping, whose load_best may
    # legitimately keep the starting weights after three epochs
    est = make_estimator(Estimator, early_stopping=False).fit(X_small)
    save(est, tmp_path / "m.safetensors")
    loaded = load(tmp_path / "m.safetensors")
    before = {k: v.clone() for k, v in loaded.net_.module_.state_dict().items()}
    loaded.set_params(warm_start=True).fit(X_small)
    assert len(loaded.history_) == 2 * est.max_epochs
    assert loaded.history_[: est.max_epochs, "train_loss"] == est.history_[:, "train_loss"]
    after = loaded.net_.module_.state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before)
    assert np.all(np.isfinite(loaded.transform(X_small)))

    # with early stopping the warm start runs too (on the new split, not the placeholder)
    est = make_estimator(Estimator).fit(X_small)
    save(est, tmp_path / "m.safetensors")
    loaded = load(tmp_path / "m.safetensors").set_params(warm_start=True).fit(X_small)
    assert len(loaded.history_) == 2 * est.max_epochs
    assert np.isfinite(loaded.history_[-1, "valid_loss"])


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_loaded_estimator_partial_fits(Estimator, X_small, tmp_path):
    est = make_estimator(Estimator, early_stopping=False).fit(X_small)
    save(est, tmp_path / "m.safetensors")
    loaded = load(tmp_path / "m.safetensors").partial_fit(X_small)
    assert loaded.n_iter_ == est.n_iter_ + 1
    assert np.all(np.isfinite(loaded.transform(X_small)))


class _InterruptFirstBatch(Callback):
    def on_batch_end(self, net, **kwargs):
        raise KeyboardInterrupt


@pytest.mark.parametrize(
    "Estimator, how",
    [*((E, "fit") for E in [*ESTIMATORS, AutoencoderClassifier]),
     *((E, "partial_fit") for E in ESTIMATORS)],  # (the classifier has no partial_fit)
)
def test_a_fit_interrupted_in_its_first_epoch_saves_and_loads(Estimator, how, X_small,
                                                              tmp_path):
    # Ctrl-C in the first epoch leaves a fitted, usable model with n_iter_ == 0 and an
    # empty loss curve, which the checksum could not hash
    if Estimator is AutoencoderClassifier:
        est = make_supervised(Estimator, callbacks=[_InterruptFirstBatch()])
        est.fit(X_small, np.arange(len(X_small)) % 2)
    else:
        est = make_estimator(Estimator, callbacks=[_InterruptFirstBatch()])
        getattr(est, how)(X_small)
    assert est.n_iter_ == 0 and est.loss_curve_.shape == (0,)
    with pytest.warns(UserWarning, match="callbacks cannot be saved"):
        save(est, tmp_path / "m.safetensors")
    loaded = load(tmp_path / "m.safetensors")
    assert loaded.n_iter_ == 0
    method = "predict_proba" if Estimator is AutoencoderClassifier else "transform"
    assert_array_equal(getattr(loaded, method)(X_small), getattr(est, method)(X_small))


def test_cuda_fitted_model_loads_on_cpu_only_machine(saved, X_small, monkeypatch):
    est, path = saved
    _edit(path, "attributes", device_="cuda")  # what a model trained on a GPU records

    monkeypatch.setattr(_device, "cuda_available", lambda: False)
    with pytest.warns(UserWarning, match="fitted on 'cuda'"):
        loaded = load(path)
    assert loaded.device_ == "cpu"
    assert str(loaded.net_.device) == "cpu"
    assert_array_equal(loaded.transform(X_small), est.transform(X_small))


def test_dataframe_feature_names_round_trip(tmp_path, X_small):
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(X_small, columns=[f"f{i}" for i in range(X_small.shape[1])])
    est = make_estimator(AutoencoderTransformer).fit(df)
    save(est, tmp_path / "m.safetensors")
    loaded = load(tmp_path / "m.safetensors")

    assert loaded.feature_names_in_.dtype == object
    assert_array_equal(loaded.feature_names_in_, est.feature_names_in_)
    assert_array_equal(loaded.get_feature_names_out(), est.get_feature_names_out())
    assert_array_equal(loaded.transform(df), est.transform(df))
    with pytest.warns(UserWarning, match="feature names"):
        loaded.transform(X_small)  # a plain array after fitting on names warns as before


def test_special_values_round_trip_through_the_encoding():
    # values of every kind the header holds, as parameters, attributes or history may
    values = {
        "inf": float("inf"),
        "nan": np.float32("nan"),
        "count": np.int64(7),
        "flag": np.bool_(True),
        "nested": [(1, 2), {"__type__": "not a marker", "x": None}, np.array([1.5, -np.inf])],
        "ints": np.arange(6, dtype=np.int32).reshape(2, 3),
        "fortran": np.asfortranarray(np.arange(6.0).reshape(2, 3)),
        "names": np.array(["a", "b"], dtype=object),
    }
    decoded = _decode(_loads(_dumps(_encode(values, "values"))), {})

    assert decoded["inf"] == float("inf")
    assert isinstance(decoded["nan"], float) and np.isnan(decoded["nan"])
    assert decoded["count"] == 7 and type(decoded["count"]) is int
    assert decoded["flag"] is True
    assert decoded["nested"][0] == (1, 2)
    assert decoded["nested"][1] == {"__type__": "not a marker", "x": None}
    assert_array_equal(decoded["nested"][2], np.array([1.5, -np.inf]))
    for name in ("ints", "fortran", "names"):
        assert decoded[name].dtype == values[name].dtype
        assert_array_equal(decoded[name], values[name])


def test_attributes_set_by_hand_are_dropped_on_save_with_a_warning(tmp_path, X_small):
    est = make_estimator(AutoencoderTransformer).fit(X_small)
    est.note_ = "mine"
    with pytest.warns(UserWarning, match="note_"):
        save(est, tmp_path / "m.safetensors")
    loaded = load(tmp_path / "m.safetensors")
    assert not hasattr(loaded, "note_")
    assert_array_equal(loaded.transform(X_small), est.transform(X_small))


def test_load_leaves_global_torch_rng_untouched(saved):
    _, path = saved
    state = torch.get_rng_state()
    load(path)
    assert torch.equal(torch.get_rng_state(), state)


def test_load_never_unpickles(saved, X_small, monkeypatch):
    est, path = saved

    def refuse(*args, **kwargs):
        raise AssertionError("load must not unpickle")

    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(torch, "load", refuse)
    loaded = load(path)
    assert_array_equal(loaded.transform(X_small), est.transform(X_small))


def test_file_is_safetensors_with_documented_header(saved):
    est, path = saved
    metadata, tensors = _read(path)
    assert metadata["format"] == "sklearn_ae"
    assert metadata["format_version"] == "1"
    assert metadata["class"] == "AutoencoderTransformer"
    assert metadata["sklearn_ae_version"] == sklearn_ae.__version__
    assert metadata["checksum"] == _checksum(metadata, tensors)
    assert json.loads(metadata["params"])["n_components"] == est.n_components
    assert {k for k in tensors if k.startswith("module.")} == {
        "module." + k for k in est.net_.module_.state_dict()
    }
    assert_array_equal(tensors["attr.mean_"].numpy(), est.mean_)


# ----------------------------------------------------------------- what save refuses
def test_save_unfitted_raises(tmp_path):
    with pytest.raises(NotFittedError):
        save(AutoencoderTransformer(), tmp_path / "m.safetensors")
    assert not (tmp_path / "m.safetensors").exists()


@pytest.mark.parametrize("obj", [StandardScaler(), object(), "model"])
def test_save_non_estimator_raises(obj, tmp_path):
    with pytest.raises(TypeError, match="AutoencoderTransformer"):
        save(obj, tmp_path / "m.safetensors")


def test_save_subclass_raises(tmp_path, X_small):
    class Custom(AutoencoderTransformer):
        pass

    est = make_estimator(Custom).fit(X_small)
    with pytest.raises(TypeError, match="Custom"):
        save(est, tmp_path / "m.safetensors")


def test_callbacks_are_dropped_with_a_warning(tmp_path, X_small):
    est = make_estimator(AutoencoderTransformer, callbacks=[Snapshot()]).fit(X_small)
    with pytest.warns(UserWarning, match="callbacks"):
        save(est, tmp_path / "m.safetensors")
    loaded = load(tmp_path / "m.safetensors")
    assert loaded.callbacks is None
    assert_array_equal(loaded.transform(X_small), est.transform(X_small))


def test_random_state_instance_is_dropped_with_a_warning(tmp_path, X_small):
    est = make_estimator(AutoencoderTransformer, random_state=np.random.RandomState(0))
    est.fit(X_small)
    with pytest.warns(UserWarning, match="random_state"):
        save(est, tmp_path / "m.safetensors")
    assert load(tmp_path / "m.safetensors").random_state is None


def test_optimizer_class_raises(tmp_path, X_small):
    est = make_estimator(AutoencoderTransformer, optimizer=torch.optim.Adam).fit(X_small)
    with pytest.raises(ValueError, match="optimizer"):
        save(est, tmp_path / "m.safetensors")


def test_unsupported_attribute_type_raises(tmp_path, X_small):
    est = make_estimator(AutoencoderTransformer).fit(X_small)
    est.data_min_ = {1, 2}
    with pytest.raises(TypeError, match="data_min_"):
        save(est, tmp_path / "m.safetensors")


def test_unsupported_param_type_raises(tmp_path, X_small):
    est = make_estimator(AutoencoderTransformer).fit(X_small)
    est.set_params(activation=object())  # set after fit: fit would have rejected it
    with pytest.raises(TypeError, match="activation"):
        save(est, tmp_path / "m.safetensors")


# ----------------------------------------------------------------- what load refuses
def test_load_refuses_a_fifo_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "model.safetensors"
    os.mkfifo(fifo)
    outcome = []

    def load_it():
        try:
            load(fifo)
        except ValueError as exc:
            outcome.append(str(exc))

    reader = threading.Thread(target=load_it, daemon=True)
    reader.start()
    reader.join(timeout=10)
    if reader.is_alive():  # blocked in open(): let it go before failing
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail("load blocked on a FIFO")
    assert outcome and "is not a regular file" in outcome[0]


@pytest.mark.parametrize(
    "make_path, error",
    [
        (lambda tmp: tmp, IsADirectoryError),
        (lambda tmp: tmp / "plain" / "model.safetensors", NotADirectoryError),
        (lambda tmp: tmp / ("m" * 300), OSError),
    ],
    ids=["directory", "inside-a-file", "name-too-long"],
)
def test_load_keeps_io_errors_as_io_errors(tmp_path, make_path, error):
    # as save raises for the same paths: an OSError subclass, not "not a model file"
    (tmp_path / "plain").write_text("x")
    with pytest.raises(error) as info:
        load(make_path(tmp_path))
    assert not isinstance(info.value, ValueError)


def test_load_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "missing.safetensors")


def test_truncated_file_raises(saved, tmp_path):
    _, path = saved
    data = path.read_bytes()
    truncated = tmp_path / "truncated.safetensors"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="not a valid sklearn_ae model file"):
        load(truncated)


def test_random_bytes_raise(tmp_path):
    path = tmp_path / "noise.safetensors"
    path.write_bytes(np.random.RandomState(0).bytes(1000))
    with pytest.raises(ValueError, match="not a valid"):
        load(path)


def test_foreign_safetensors_file_raises(tmp_path):
    path = tmp_path / "other.safetensors"
    save_file({"weight": torch.zeros(3)}, str(path))
    with pytest.raises(ValueError, match="not a valid"):
        load(path)


def test_flipped_byte_in_tensor_data_raises(saved):
    _, path = saved
    data = bytearray(path.read_bytes())
    data[-5] ^= 0xFF  # the data region follows the header: the last tensor's bytes
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="checksum"):
        load(path)


def test_modified_metadata_raises(saved):
    _, path = saved
    metadata, tensors = _read(path)
    params = json.loads(metadata["params"])
    params["n_components"] = 3
    metadata["params"] = json.dumps(params)
    _rewrite(path, metadata, tensors, recompute=False)
    with pytest.raises(ValueError, match="checksum"):
        load(path)


@pytest.mark.parametrize(
    "name",
    ["history_", "net_", "_module_start_spec", "transform", "junk_", "fit_", "transform_"],
)
def test_unknown_attributes_raise(saved, name):
    _, path = saved
    _edit(path, "attributes", **{name: 1})
    with pytest.raises(ValueError, match="not a fitted attribute"):
        load(path)


def test_path_like_accepted(saved):
    est, path = saved
    assert isinstance(path, pathlib.Path)
    assert type(load(str(path))) is type(est)


@pytest.mark.parametrize("Estimator", [DenoisingAutoencoder, VAETransformer])
def test_estimator_specific_attributes_survive(Estimator, X_small, tmp_path):
    est = make_estimator(Estimator).fit(X_small)
    save(est, tmp_path / "m.safetensors")
    loaded = load(tmp_path / "m.safetensors")
    if Estimator is DenoisingAutoencoder:
        assert loaded.noise_level_ == est.noise_level_
        assert_array_equal(loaded.denoise(X_small), est.denoise(X_small))
    else:
        assert loaded.noise_variance_ == est.noise_variance_
        assert_array_equal(loaded.sample(5, random_state=0), est.sample(5, random_state=0))


def test_invalid_params_raise(saved):
    _, path = saved
    _edit(path, "params", lr=-1.0)
    with pytest.raises(ValueError, match="lr"):
        load(path)


def test_missing_or_bad_fitted_attributes_are_refused(tmp_path):
    X = np.random.RandomState(0).rand(40, 5)
    est = make_estimator(AutoencoderTransformer).fit(X)
    for name, value in (("precision_", None), ("precision_", "float64"), ("scale_", None)):
        saved = copy.copy(est)
        if value is None:
            saved.__dict__.pop(name)
        else:
            setattr(saved, name, value)
        path = tmp_path / f"{name}-{value}.safetensors"
        save(saved, path)
        with pytest.raises(ValueError, match="not a valid sklearn_ae model file|usable"):
            load(path)


def test_history_is_saved_per_epoch_without_batches(tmp_path):
    X = np.random.RandomState(0).rand(40, 5)
    est = make_estimator(AutoencoderTransformer).fit(X)
    save(est, tmp_path / "m.safetensors")
    loaded = load(tmp_path / "m.safetensors")
    assert len(loaded.history_) == len(est.history_)
    assert all("batches" not in row for row in loaded.history_)
    assert loaded.history_[:, "train_loss"] == est.history_[:, "train_loss"]


_V1_FILES = pathlib.Path(__file__).parent / "data"


@pytest.mark.parametrize(
    "name", ["ae_pca", "ae_random", "ae_conv", "dae", "vae_pca", "vae_conv_bce"]
)
def test_files_written_by_0_1_0_still_load(name):
    # written by sklearn-ae 0.1.0 (format_version 1) with the outputs it gave then
    expected = np.load(_V1_FILES / "v1_expected.npz")
    X = expected["X"] / 16 if name.endswith("bce") else expected["X"]
    est = load(_V1_FILES / f"v1_{name}.safetensors")
    np.testing.assert_allclose(est.transform(X), expected[f"{name}_transform"], atol=1e-5)
    np.testing.assert_allclose(est.reconstruct(X), expected[f"{name}_reconstruct"], atol=1e-4)
    # 0.1.0 did not store them: the code width is the parameter's, the row count unknown
    assert est.n_components_ == est.n_components == expected[f"{name}_transform"].shape[1]
    assert not hasattr(est, "n_samples_")


# ---------------------------------------------------- crafted files (valid checksum)
@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("frame", [False, True], ids=["array", "dataframe"])
@pytest.mark.parametrize("early_stopping", [True, False])
def test_known_attributes_are_what_a_fit_sets(Estimator, frame, early_stopping, X_small):
    X = X_small
    if frame:
        pd = pytest.importorskip("pandas")
        X = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    est = make_estimator(Estimator, early_stopping=early_stopping).fit(X)
    optional = set() if frame else {"feature_names_in_"}
    assert set(_fitted_attributes(est)) == set(Estimator._fitted_attributes) - optional


@pytest.mark.parametrize(
    "name, value",
    [
        ("n_features_in_", "5"),
        ("n_features_in_", True),
        ("n_features_in_", 0),
        ("n_features_in_", 4),  # mean_ has 5 values
        ("scale_", "1.0"),
        ("scale_", 0),
        ("scale_", -1.0),
        ("scale_", {"__type__": "float", "value": "inf"}),
        ("scale_", None),
        ("mean_", None),
        ("mean_", [1.0, 2.0, 3.0, 4.0, 5.0]),
        ("data_min_", {"__type__": "float", "value": "nan"}),
        ("data_max_", -1e9),  # below data_min_
        ("precision_", "float64"),
        ("device_", "evil"),
        ("device_", 3),
        ("hidden_layer_sizes_", "x"),
        ("hidden_layer_sizes_", [16]),
        ("hidden_layer_sizes_", _tuple(0)),
        ("hidden_layer_sizes_", _tuple(True)),
        ("image_shape_", _tuple(1, 1, 4)),
        ("weight_decay_", -0.5),
        ("n_iter_", -1),
        ("n_iter_", 3.0),
        ("best_epoch_", 4),  # after n_iter_
        ("validation_loss_curve_", "x"),
        ("train_explained_variance_ratio_", None),
        ("feature_names_in_", {"__type__": "ndarray", "dtype": "object", "shape": [5],
                               "values": ["a", "b", "c", "d", 5]}),
    ],
)
def test_crafted_attribute_values_raise(saved, name, value):
    _, path = saved
    _edit(path, "attributes", **{name: value})
    with pytest.raises(ValueError, match=f"not a valid sklearn_ae model file.*{name}"):
        load(path)


def test_missing_attribute_raises(saved):
    _, path = saved
    _edit(path, "attributes", n_iter_=...)
    with pytest.raises(ValueError, match="'n_iter_' is missing"):
        load(path)


def test_member_attribute_is_checked(tmp_path, X_small):
    path = tmp_path / "m.safetensors"
    save(make_estimator(DenoisingAutoencoder).fit(X_small), path)
    _edit(path, "attributes", noise_level_=-0.5)
    with pytest.raises(ValueError, match="noise_level_"):
        load(path)


def _set(key, value):
    return lambda tensors: tensors.__setitem__(key, value)


def _set_first(key, value):
    return lambda tensors: tensors[key].view(-1).__setitem__(0, value)


@pytest.mark.parametrize(
    "edit, match",
    [
        (_set("module.encoder.linear.weight", torch.zeros(7, 3)), "does not match"),
        (lambda tensors: tensors.pop("module.encoder.linear.bias"), "does not match"),
        (lambda tensors: tensors.update({k: v.double() for k, v in tensors.items()
                                         if k.startswith("module.")}), "does not match"),
        (_set_first("module.encoder.linear.weight", float("nan")), "non-finite"),
        (_set_first("module.encoder.linear.weight", float("inf")), "non-finite"),
        (_set_first("attr.mean_", float("nan")), "fitted attribute mean_="),
        (_set("attr.extra_", torch.zeros(3)), "attr.extra_"),
    ],
    ids=["shape", "missing", "dtype", "nan", "inf", "nan-mean", "extra"],
)
def test_crafted_tensors_raise(saved, edit, match):
    _, path = saved
    metadata, tensors = _read(path)
    edit(tensors)
    _rewrite(path, metadata, tensors)
    with pytest.raises(ValueError, match=match):
        load(path)


@pytest.mark.parametrize(
    "entry, value, match",
    [
        ("class", "EvilTransformer", "EvilTransformer"),
        ("format_version", "3", r"format_version 3.*format_version 2"),
        *[("format_version", v, "bad format_version")
          for v in ["0", "-1", "01", " 1", "1.0", "1_0", "x", ""]],
        ("payload", "x", "payload"),
        ("history", "[]", "epochs, not n_iter_"),
    ],
)
def test_crafted_header_entries_raise(saved, entry, value, match):
    _, path = saved
    metadata, tensors = _read(path)
    metadata[entry] = value
    _rewrite(path, metadata, tensors)
    with pytest.raises(ValueError, match=match):
        load(path)


def test_stored_callbacks_raise(saved):
    _, path = saved
    _edit(path, "params", callbacks=[])
    with pytest.raises(ValueError, match="callbacks are code"):
        load(path)


def test_conv_architecture_without_image_shape_raises(tmp_path, X16):
    path = tmp_path / "m.safetensors"
    est = make_estimator(AutoencoderTransformer, architecture="conv", image_shape=(4, 4))
    save(est.fit(X16), path)
    _edit(path, "attributes", image_shape_=None)
    with pytest.raises(ValueError, match="image_shape_ is None"):
        load(path)


@pytest.mark.parametrize(
    "marker",
    [
        # fixed-width strings: a short header that would decode into gigabytes
        {"dtype": "<U100000", "shape": [5], "values": ["a", "b", "c", "d", "e"]},
        {"dtype": "object", "shape": [10**6, 10**6], "values": []},
        {"dtype": "<i8", "shape": [2], "values": ["1", "2"]},
        {"dtype": "<i8", "shape": [1], "values": [10**30]},
        {"dtype": "(1000,1000)f8", "shape": [1], "values": [0]},
        {"dtype": "<i8", "shape": "x", "values": []},
    ],
)
def test_malformed_array_markers_raise(saved, marker):
    _, path = saved
    _edit(path, "attributes", feature_names_in_={"__type__": "ndarray", **marker})
    with pytest.raises(ValueError, match="not a valid"):
        load(path)


# ------------------------------------------------ the cost of loading a crafted file
@pytest.fixture
def no_real_build_of_large_networks(monkeypatch):
    """Fails the test if a network with a layer over 10,000 wide is built for real
    (off the meta device), which would allocate what a crafted file asks for."""
    import sklearn_ae._base as base

    def guarded(n_features, n_components, hidden_layer_sizes, *args, **kwargs):
        sizes = [n_features, n_components, *hidden_layer_sizes]
        if str(kwargs.get("device", "cpu")) != "meta" and max(sizes) > 10_000:
            pytest.fail(f"a network of sizes {sizes} was allocated")
        return build_network(n_features, n_components, hidden_layer_sizes, *args, **kwargs)

    monkeypatch.setattr(base, "build_network", guarded)


@pytest.mark.parametrize(
    "entry, values",
    [
        ("attributes", {"hidden_layer_sizes_": _tuple(10**7, 32)}),
        ("attributes", {"n_components_": 10**8}),  # the network's code width
        ("attributes", {"hidden_layer_sizes_": _tuple(*[16] * 100_000)}),
    ],
    ids=["wide-layers", "wide-code", "many-layers"],
)
def test_huge_declared_sizes_raise_before_anything_is_built(
    saved, entry, values, no_real_build_of_large_networks
):
    _, path = saved
    _edit(path, entry, **values)
    assert path.stat().st_size < 1_000_000
    start = time.perf_counter()
    with pytest.raises(ValueError, match="not a valid sklearn_ae model file"):
        load(path)
    assert time.perf_counter() - start < 5


def test_header_over_the_limit_raises_before_it_is_parsed(saved, monkeypatch):
    _, path = saved
    metadata, tensors = _read(path)
    metadata["history"] = json.dumps([{"train_loss": 1.0}] * (MAX_HEADER_BYTES // 16))
    _rewrite(path, metadata, tensors)

    def refuse(*args, **kwargs):
        raise AssertionError("the header was parsed")

    monkeypatch.setattr(_persistence, "safe_open", refuse)
    with pytest.raises(ValueError, match="header length"):
        load(path)


def test_save_refuses_a_header_load_would_refuse(tmp_path, X_small, monkeypatch):
    est = make_estimator(AutoencoderTransformer).fit(X_small)
    monkeypatch.setattr(_persistence, "MAX_HEADER_BYTES", 1000)
    with pytest.raises(ValueError, match="header"):
        save(est, tmp_path / "m.safetensors")
    assert not (tmp_path / "m.safetensors").exists()


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 5000])
def test_deeply_nested_json_raises(saved, depth):
    _, path = saved
    metadata, tensors = _read(path)
    metadata["history"] = "[" * depth + "]" * depth
    _rewrite(path, metadata, tensors)
    with pytest.raises(ValueError, match="nested more than"):
        load(path)


# ------------------------------------------------------------------ paths and I/O
def test_bytes_path_raises_type_error(saved, tmp_path):
    est, path = saved
    with pytest.raises(TypeError, match="path must be"):
        load(bytes(path))
    with pytest.raises(TypeError, match="path must be"):
        save(est, bytes(tmp_path / "other.safetensors"))


@pytest.mark.parametrize("where", ["missing-folder/m.safetensors", "."])
def test_save_io_errors_are_os_errors(saved, tmp_path, where):
    est, _ = saved
    with pytest.raises(OSError):
        save(est, tmp_path / where)


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_saved_file_mode_follows_the_umask(saved, tmp_path, umask):
    est, _ = saved
    previous = os.umask(umask)
    try:
        save(est, tmp_path / "m.safetensors")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "m.safetensors").stat().st_mode) == 0o666 & ~umask


# ------------------------------------------------- classifiers and regressors
def _supervised_cases(X):
    """(name, estimator, y) of the classifiers and regressors save must round-trip."""
    rng = np.random.RandomState(0)
    labels = (X[:, 0] > 1).astype(int)
    semi = np.where(rng.rand(len(X)) < 0.5, -1, labels)
    names = np.array(["low", "high"], dtype=object)[labels]
    names[semi == -1] = -1
    targets = np.where(semi == -1, np.nan, X[:, 1] * 3.0)
    prefit = make_estimator(AutoencoderTransformer, n_components=3).fit(X)
    return [
        ("classifier", make_supervised(AutoencoderClassifier), semi),
        ("string-labels", make_supervised(AutoencoderClassifier), names),
        ("str-dtype", make_supervised(AutoencoderClassifier), np.array(["a", "b"])[labels]),
        ("prefit", make_supervised(AutoencoderClassifier, FrozenEstimator(prefit)), semi),
        ("hidden-head-vae", make_supervised(
            AutoencoderClassifier, make_estimator(VAETransformer, n_components=3),
            head_hidden_layer_sizes=(4,), freeze_encoder=True), semi),
        ("regressor-dae", make_supervised(
            AutoencoderRegressor, make_estimator(DenoisingAutoencoder, n_components=3)),
         targets),
        ("default-autoencoder", AutoencoderClassifier(max_epochs=1, random_state=0), labels),
    ]


_SUPERVISED_CASES = ["classifier", "string-labels", "str-dtype", "prefit", "hidden-head-vae",
                     "regressor-dae", "default-autoencoder"]


@pytest.mark.parametrize("case", range(7), ids=_SUPERVISED_CASES)
def test_supervised_round_trip_is_bit_identical(case, X_small, tmp_path):
    name, est, y = _supervised_cases(X_small)[case]
    assert name == _SUPERVISED_CASES[case]
    est.fit(X_small, y)
    path = tmp_path / "model.safetensors"
    save(est, path)
    loaded = load(path)

    assert type(loaded) is type(est)
    assert repr(loaded.get_params()) == repr(est.get_params())
    assert_array_equal(loaded.predict(X_small), est.predict(X_small))
    assert loaded.predict(X_small).dtype == est.predict(X_small).dtype
    assert_array_equal(loaded.transform(X_small), est.transform(X_small))
    if hasattr(est, "predict_proba"):
        assert_array_equal(loaded.predict_proba(X_small), est.predict_proba(X_small))
        assert_array_equal(loaded.classes_, est.classes_)
        assert loaded.classes_.dtype == est.classes_.dtype
    # the fitted autoencoder is the fine-tuned network itself, shared with the net
    assert loaded.net_.module_.network is loaded.autoencoder_.net_.module_
    assert type(loaded.autoencoder_) is type(est.autoencoder_)
    _assert_same_outputs(est.autoencoder_, loaded.autoencoder_, X_small)
    assert loaded.history_[:, "train_loss"] == est.history_[:, "train_loss"]
    # and it trains again, as a fresh fit of its parameters
    loaded.set_params(max_epochs=1).fit(X_small, y)
    assert loaded.n_iter_ == 1 and loaded.predict(X_small).shape == est.predict(X_small).shape


def test_save_refuses_a_frozen_unfitted_autoencoder(X_small, tmp_path):
    # load would refuse it: save says so first
    est = make_supervised(AutoencoderClassifier).fit(X_small, (X_small[:, 0] > 1).astype(int))
    est.set_params(autoencoder=FrozenEstimator(make_estimator(AutoencoderTransformer)))
    with pytest.raises(ValueError, match="around an unfitted AutoencoderTransformer"):
        save(est, tmp_path / "m.safetensors")
    assert not (tmp_path / "m.safetensors").exists()


def test_supervised_file_layout(X_small, tmp_path):
    prefit = make_estimator(AutoencoderTransformer, n_components=3).fit(X_small)
    est = make_supervised(AutoencoderClassifier, FrozenEstimator(prefit))
    est.fit(X_small, (X_small[:, 0] > 1).astype(int))
    path = tmp_path / "m.safetensors"
    save(est, path)
    metadata, tensors = _read(path)
    assert metadata["format_version"] == "2"
    assert metadata["class"] == "AutoencoderClassifier"
    assert {k for k in tensors if k.startswith("module.")} == {
        "module." + k for k in est.net_.module_.head.state_dict()
    }
    # the fine-tuned autoencoder and the prefit one the parameter holds, each once
    for prefix, ae in (("autoencoder_.", est.autoencoder_), ("autoencoder.", prefit)):
        stored = {k[len(prefix) + 7:]: v for k, v in tensors.items()
                  if k.startswith(prefix + "module.")}
        assert stored.keys() == ae.net_.module_.state_dict().keys()
        assert all(torch.equal(v, ae.net_.module_.state_dict()[k]) for k, v in stored.items())
    params = json.loads(metadata["params"])
    assert params["autoencoder"]["__type__"] == "frozen"
    assert params["autoencoder"]["estimator"]["class"] == "AutoencoderTransformer"
    # a file of an autoencoder alone stays version 1
    save(prefit, path)
    assert _read(path)[0]["format_version"] == "1"


@pytest.fixture
def saved_classifier(tmp_path, X_small):
    est = make_supervised(AutoencoderClassifier).fit(X_small, (X_small[:, 0] > 1).astype(int))
    path = tmp_path / "m.safetensors"
    save(est, path)
    return est, path


def _edit_nested(path, entry, name, **values):
    """Set ``values`` in the nested estimator marker ``name`` of the header's ``entry``."""
    metadata, tensors = _read(path)
    content = json.loads(metadata[entry])
    content[name].update(values)
    metadata[entry] = json.dumps(content)
    _rewrite(path, metadata, tensors)


@pytest.mark.parametrize(
    "entry, name, values, match",
    [
        ("attributes", "autoencoder_", {"class": "AutoencoderClassifier"},
         "not a member of the family"),
        ("attributes", "autoencoder_", {"class": "EvilTransformer"}, "EvilTransformer"),
        ("params", "autoencoder", {"params": {"n_components": -1}}, "parameters are invalid"),
        ("params", "autoencoder", {"params": {"callbacks": []}}, "callbacks are code"),
        ("params", "autoencoder", {"__type__": "frozen", "estimator": {}},
         "frozen estimator must hold a fitted member"),
    ],
    ids=["nested-classifier", "unknown-class", "bad-params", "callbacks", "frozen-unfitted"],
)
def test_crafted_nested_estimators_raise(saved_classifier, entry, name, values, match):
    _, path = saved_classifier
    _edit_nested(path, entry, name, **values)
    with pytest.raises(ValueError, match=match):
        load(path)


def test_crafted_supervised_attributes_raise(saved_classifier):
    _, path = saved_classifier
    metadata, tensors = _read(path)
    # the autoencoder's width must be the classifier's
    _edit(path, "attributes", n_features_in_=4)
    with pytest.raises(ValueError, match="autoencoder_"):
        load(path)
    _rewrite(path, metadata, tensors)
    _edit(path, "attributes", classes_={"__type__": "ndarray", "dtype": "<i8", "shape": [2],
                                        "values": [1, 0]})
    with pytest.raises(ValueError, match="classes_"):
        load(path)
    _rewrite(path, metadata, tensors)
    tensors["module.1.0.weight"] = torch.zeros(5, 3)
    _rewrite(path, metadata, tensors)
    with pytest.raises(ValueError, match="does not match"):
        load(path)
    tensors.pop("module.1.0.weight")
    tensors["autoencoder_.extra"] = torch.zeros(1)
    _rewrite(path, metadata, tensors)
    with pytest.raises(ValueError, match=r"belong to no fitted attribute"):
        load(path)


def test_padded_string_array_is_refused():
    # 100 kB of header that would pad into 400 MB (1000 values, 100000 characters each)
    marker = {"__type__": "ndarray", "dtype": "str", "shape": [1000],
              "values": ["a" * 100000] + ["b"] * 999}
    with pytest.raises(ValueError, match="pad the others"):
        _decode(marker, {})
    short = {**marker, "shape": [3], "values": ["ab", "b", "c"]}
    assert _decode(short, {}).dtype == np.dtype("<U2")
