"""ONNX export: ``to_onnx`` of a fitted member and pipelines converted by skl2onnx
(sklearn_ae/_onnx.py), run in onnxruntime."""

import subprocess
import sys

import numpy as np
import pytest
from conftest import ESTIMATORS, make_arc, make_estimator, make_supervised
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_ae import (
    AutoencoderClassifier,
    AutoencoderRegressor,
    AutoencoderTransformer,
    VAETransformer,
    register_skl2onnx,
)

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")
skl2onnx = pytest.importorskip("skl2onnx")

IMAGE = {"architecture": "conv", "image_shape": (6, 6), "hidden_layer_sizes": (4,)}

# the network kinds: the denoising and contractive members build the plain autoencoder's
# network (only their training differs), the VAE its own; its conv case has a Bernoulli
# decoder, whose graph ends in a sigmoid
CASES = [
    (AutoencoderTransformer, {}),
    (AutoencoderTransformer, IMAGE),
    (VAETransformer, {}),
    (VAETransformer, {**IMAGE, "loss": "bce"}),
]


def _data(n_samples, seed):
    """Rows in [0, 1] of 36 pixels (6 x 6 images)."""
    rng = np.random.RandomState(seed)
    return rng.uniform(0, 1, size=(n_samples, 36)).astype(np.float32)


def _run(model, feed):
    return ort.InferenceSession(model.SerializeToString()).run(None, feed)


@pytest.mark.parametrize("Estimator, params", CASES)
def test_encoder_and_decoder_graphs_give_transform_and_inverse_transform(Estimator, params):
    est = make_estimator(Estimator, n_components=3, **params).fit(_data(80, 0))
    X_test = _data(30, 1)  # held-out rows
    codes = est.transform(X_test)

    encoder, decoder = est.to_onnx(), est.to_onnx("decoder")

    # the batch dimension is free: one row and many rows
    assert_allclose(_run(encoder, {"X": X_test[:1]})[0], codes[:1], rtol=0, atol=1e-5)
    assert_allclose(_run(encoder, {"X": X_test})[0], codes, rtol=0, atol=1e-5)
    decoded = _run(decoder, {"codes": codes})[0]
    assert_allclose(decoded, est.inverse_transform(codes), rtol=0, atol=1e-5)
    assert [i.name for i in encoder.graph.input] == ["X"]
    assert [o.name for o in decoder.graph.output] == ["X_decoded"]
    assert decoded.shape == (30, 36) and decoded.dtype == np.float32


def test_graph_takes_the_asked_opset():
    est = make_estimator(AutoencoderTransformer, n_components=2).fit(make_arc(60))
    model = est.to_onnx(opset=18)
    assert {(o.domain, o.version) for o in model.opset_import} == {("", 18)}


def test_unfitted_estimator_and_bad_part_are_refused():
    with pytest.raises(NotFittedError):
        AutoencoderTransformer().to_onnx()
    est = make_estimator(AutoencoderTransformer, n_components=1).fit(make_arc(60))
    with pytest.raises(ValueError, match="'middle'"):
        est.to_onnx("middle")


def _classification_data(seed):
    X = _data(120, seed)
    y = (X[:, :18].mean(axis=1) > X[:, 18:].mean(axis=1)).astype(int)
    return X, y


@pytest.mark.parametrize(
    "Estimator, params",
    [(AutoencoderTransformer, {}), (AutoencoderTransformer, IMAGE), (VAETransformer, {})],
)
def test_skl2onnx_converts_a_pipeline_with_a_member(Estimator, params):
    X, y = _classification_data(0)
    pipe = make_pipeline(
        StandardScaler(), make_estimator(Estimator, n_components=3, **params),
        LogisticRegression(),
    ).fit(X, y)
    register_skl2onnx()
    model = skl2onnx.to_onnx(pipe, X[:1], options={"zipmap": False})

    X_test, _ = _classification_data(1)  # held-out rows
    labels, proba = _run(model, {"X": X_test})
    assert_allclose(proba, pipe.predict_proba(X_test), rtol=0, atol=1e-5)
    assert_array_equal(labels, pipe.predict(X_test))


def _proba_matrix(outputs, zipmap, classes):
    """The probabilities skl2onnx's ``zipmap`` option gives, as a (n, n_classes) matrix."""
    if zipmap is False:
        return outputs[1]
    if zipmap == "columns":  # one output per class
        return np.column_stack(outputs[1:])
    return np.array([[row[c] for c in classes] for row in outputs[1]])  # dicts by class


def _three_class_strings(X):
    return np.array(["cat", "dog", "eel"])[np.digitize(X[:, :18].mean(axis=1), [0.48, 0.52])]


# each factor both ways at least once, without the whole product (every conversion
# runs PyTorch's exporter, about 1.5 s)
CLASSIFIER_CASES = [
    # in a pipeline, labels, options, input dtype
    (False, "int", {"zipmap": True}, np.float32),
    (False, "str", {"zipmap": False}, np.float64),
    (True, "str", {"zipmap": True}, np.float32),
    (True, "int", {"zipmap": False}, np.float64),
    (True, "int", {"zipmap": "columns"}, np.float64),
]


@pytest.mark.parametrize("in_pipeline, labels, options, dtype", CLASSIFIER_CASES)
def test_skl2onnx_converts_the_classifier_as_its_own_classifiers(
    in_pipeline, labels, options, dtype
):
    X, y = _classification_data(0)
    # integer classes that are not the class indices: the labels must be classes_
    y = _three_class_strings(X) if labels == "str" else y * 4 + 3
    clf = make_supervised(AutoencoderClassifier)
    model = make_pipeline(StandardScaler(), clf) if in_pipeline else clf
    model.fit(X.astype(dtype), y)
    register_skl2onnx()
    onx = skl2onnx.to_onnx(model, X[:1].astype(dtype), options=options)

    X_test = _classification_data(1)[0].astype(dtype)  # held-out rows
    outputs = _run(onx, {"X": X_test})
    assert outputs[0].dtype == (object if labels == "str" else np.int64)
    assert_array_equal(outputs[0], model.predict(X_test))
    proba = _proba_matrix(outputs, options["zipmap"], clf.classes_)
    assert_allclose(proba, model.predict_proba(X_test), rtol=0, atol=1e-5)
    if options["zipmap"] is False:  # the matrix in the input's type, as skl2onnx's own
        assert proba.dtype == dtype


def test_skl2onnx_nocl_option_gives_class_indices():
    X, _ = _classification_data(0)
    clf = make_supervised(AutoencoderClassifier).fit(X, _three_class_strings(X))
    register_skl2onnx()
    onx = skl2onnx.to_onnx(clf, X[:1], options={"zipmap": False, "nocl": True})
    labels, _ = _run(onx, {"X": X})
    assert_array_equal(labels, np.searchsorted(clf.classes_, clf.predict(X)))


def test_double_input_with_zipmap_is_refused_before_a_graph_onnxruntime_rejects():
    # ONNX's ZipMap reads float32 only (skl2onnx's LogisticRegression builds the
    # graph all the same, and onnxruntime refuses to load it)
    X, y = _classification_data(0)
    X64 = X.astype(np.float64)
    clf = make_supervised(AutoencoderClassifier).fit(X64, y)
    register_skl2onnx()
    with pytest.raises(ValueError, match=r"zipmap.*False"):
        skl2onnx.to_onnx(clf, X64[:1])


@pytest.mark.parametrize(
    "in_pipeline, n_targets, dtype", [(False, 1, np.float32), (True, 2, np.float64)]
)
def test_skl2onnx_converts_the_regressor(in_pipeline, n_targets, dtype):
    X, _ = _classification_data(0)
    # targets far from 0 and wide, in units unlike X's
    y = np.column_stack([X[:, 0] * 100.0 + 7.0, X[:, 1] * -30.0 + 500.0])[:, :n_targets]
    reg = make_supervised(AutoencoderRegressor)
    model = make_pipeline(StandardScaler(), reg) if in_pipeline else reg
    model.fit(X.astype(dtype), y.ravel() if n_targets == 1 else y)
    register_skl2onnx()
    onx = skl2onnx.to_onnx(model, X[:1].astype(dtype))

    X_test = _classification_data(1)[0].astype(dtype)  # held-out rows
    (predictions,) = _run(onx, {"X": X_test})
    assert predictions.shape == (len(X_test), n_targets)  # (n, 1) too, as skl2onnx's
    assert predictions.dtype == dtype
    expected = model.predict(X_test).reshape(len(X_test), n_targets)
    # within 1e-5 of each target's spread
    assert_allclose((predictions - expected) / y.std(axis=0), 0, rtol=0, atol=1e-5)


@pytest.mark.parametrize("supervised", [False, True], ids=["transformer", "classifier"])
def test_unregistered_member_names_register_skl2onnx(monkeypatch, supervised):
    # as in a fresh process that never called register_skl2onnx(): skl2onnx knows no
    # alias and no parser for the class
    from skl2onnx._parse import sklearn_parsers_map
    from skl2onnx._supported_operators import sklearn_operator_name_map
    from skl2onnx.common.exceptions import MissingShapeCalculator

    X, y = _classification_data(0)
    member = (make_supervised(AutoencoderClassifier) if supervised
              else make_estimator(AutoencoderTransformer, n_components=3))
    pipe = make_pipeline(StandardScaler(), member).fit(X, y)
    register_skl2onnx()
    monkeypatch.delitem(sklearn_operator_name_map, type(member))
    monkeypatch.delitem(sklearn_parsers_map, type(member), raising=False)
    with pytest.raises(
        MissingShapeCalculator, match=rf"{type(member).__name__}.*sklearn_ae\.register_skl2onnx"
    ):
        skl2onnx.to_onnx(pipe, X[:1])


def test_double_input_gives_double_codes_computed_in_float32():
    # skl2onnx types the graph's input from the sample: float64 rows give a double
    # input; the member's step computes in float32, as transform does, and hands on its
    # codes as double, the type skl2onnx gives the steps after it
    X, y = _classification_data(0)
    X64 = X.astype(np.float64)
    pipe = make_pipeline(
        StandardScaler(), make_estimator(AutoencoderTransformer, n_components=3)
    ).fit(X64, y)
    register_skl2onnx()
    model = skl2onnx.to_onnx(pipe, X64[:1])
    (codes,) = _run(model, {"X": X64})
    assert codes.dtype == np.float64
    assert_allclose(codes, pipe.transform(X64), rtol=0, atol=1e-5)


@pytest.mark.parametrize("after", [[], [StandardScaler()]], ids=["member", "scaler"])
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_float64_pipelines_with_a_classifier_load_and_match(Estimator, after):
    # the member's float32 output among double steps made a graph onnxruntime refused
    # ("Type (tensor(double)) of output arg (probabilities) ... expected tensor(float)")
    X, y = _classification_data(0)
    X64 = X.astype(np.float64)
    member = make_estimator(Estimator, n_components=3)
    pipe = make_pipeline(member, *after, LogisticRegression()).fit(X64, y)
    register_skl2onnx()
    model = skl2onnx.to_onnx(pipe, X64[:1], options={"zipmap": False})
    labels, proba = _run(model, {"X": X64})
    assert proba.dtype == np.float64
    assert_allclose(proba, pipe.predict_proba(X64), rtol=0, atol=1e-5)
    assert_array_equal(labels, pipe.predict(X64))


def test_export_without_the_extra_names_it(monkeypatch):
    est = make_estimator(AutoencoderTransformer, n_components=1).fit(make_arc(60))
    monkeypatch.setitem(sys.modules, "onnxscript", None)  # as if not installed
    with pytest.raises(ImportError, match=r"onnxscript.*sklearn-ae\[onnx\]"):
        est.to_onnx()
    monkeypatch.setitem(sys.modules, "skl2onnx", None)
    with pytest.raises(ImportError, match=r"skl2onnx.*sklearn-ae\[onnx\]"):
        register_skl2onnx()


def test_package_imports_without_the_optional_extras():
    # a None entry in sys.modules makes importing that module fail
    blocked = ["onnx", "onnxruntime", "onnxscript", "skl2onnx", "skops"]
    code = f"import sys; sys.modules.update(dict.fromkeys({blocked!r})); import sklearn_ae"
    subprocess.run([sys.executable, "-c", code], capture_output=True, check=True)


def test_the_supervised_estimators_export_their_whole_network():
    X, y = _classification_data(0)
    ae = make_estimator(AutoencoderTransformer, n_components=3)
    clf = AutoencoderClassifier(ae, max_epochs=2, random_state=0).fit(X, y)
    (proba,) = _run(clf.to_onnx(), {"X": X.astype(np.float32)})
    assert_allclose(proba, clf.predict_proba(X), rtol=0, atol=1e-5)
    target = X[:, 0] * 100.0 + 7.0
    reg = AutoencoderRegressor(ae, max_epochs=2, random_state=0).fit(X, target)
    (predictions,) = _run(reg.to_onnx(), {"X": X.astype(np.float32)})
    assert predictions.shape == (len(X), 1)
    assert_allclose(predictions[:, 0], reg.predict(X), rtol=1e-5, atol=1e-3)
