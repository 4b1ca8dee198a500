"""Training precision: float32 (the reference), bfloat16 mixed precision, float16."""

import pickle
import warnings

import numpy as np
import pytest
import torch
from conftest import ESTIMATORS, make_arc, make_estimator
from numpy.testing import assert_array_equal
from skorch import NeuralNet

import sklearn_ae._device as _device
from sklearn_ae import AutoencoderTransformer
from sklearn_ae._net import AutoencoderNet
from sklearn_ae.nn import build_network

each_estimator = pytest.mark.parametrize("Estimator", ESTIMATORS)


@pytest.fixture
def native_bf16(monkeypatch):
    monkeypatch.setattr(_device, "cpu_has_native_bfloat16", lambda: True)


@pytest.fixture
def emulated_bf16(monkeypatch):
    monkeypatch.setattr(_device, "cpu_has_native_bfloat16", lambda: False)


class _DtypeSpy:
    """Records the dtype of the first layer's output on every forward pass."""

    def __init__(self, module):
        first = next(m for m in module.modules() if isinstance(m, torch.nn.Linear))
        self.dtypes = []
        first.register_forward_hook(lambda m, i, out: self.dtypes.append(out.dtype))


@pytest.mark.parametrize("precision", ["float8", "half", "", None])
def test_unknown_precision_is_refused_before_training(precision):
    est = make_estimator(AutoencoderTransformer, precision=precision)
    with pytest.raises(ValueError, match="precision"):
        est.fit(make_arc(60))
    assert not hasattr(est, "net_")


def test_float16_needs_cuda():
    est = make_estimator(AutoencoderTransformer, precision="float16", device="cpu")
    with pytest.raises(ValueError, match="precision='float16' needs a CUDA device"):
        est.fit(make_arc(60))
    assert not hasattr(est, "net_")


@pytest.fixture
def timed_steps(monkeypatch, native_bf16):
    """Mocked timings of auto's measurement: ``timed_steps.update(float32=..,
    bfloat16=..)`` sets the seconds of a pass; ``timed_steps.calls`` counts passes."""

    class Timings(dict):
        calls = 0

    timings = Timings(float32=1.0, bfloat16=1.0)

    def step_seconds(module, x, dtype, device):
        timings.calls += 1
        return timings[dtype]

    monkeypatch.setattr(_device, "_step_seconds", step_seconds)
    monkeypatch.setattr(_device, "_MEASURED", {})
    return timings


@pytest.mark.parametrize(
    "float32, bfloat16, expected",
    [
        (1.0, 0.64, "bfloat16"),  # the AMD EPYC of the benchmarks: 1.57x
        (1.0, 1.53, "float32"),  # an Intel Xeon with AVX512-BF16, no AMX: 0.65x
        (1.0, 0.97, "float32"),  # faster, but within the margin
    ],
)
def test_auto_picks_what_the_measurement_finds_faster(timed_steps, float32, bfloat16, expected):
    timed_steps.update(float32=float32, bfloat16=bfloat16)
    est = make_estimator(AutoencoderTransformer, precision="auto", max_epochs=1)
    est.fit(make_arc(60))
    assert est.precision_ == expected
    assert est.net_.precision == expected
    assert est.precision == "auto"  # the parameter keeps what the user asked for


def test_auto_without_native_bfloat16_is_float32_without_measuring(monkeypatch):
    monkeypatch.setattr(_device, "cpu_has_native_bfloat16", lambda: False)
    monkeypatch.setattr(_device, "_step_seconds", None)  # calling it would fail
    est = make_estimator(AutoencoderTransformer, precision="auto", max_epochs=1)
    assert est.fit(make_arc(60)).precision_ == "float32"


def test_auto_measures_once_per_network_shape(timed_steps):
    X = make_arc(60)
    est = make_estimator(AutoencoderTransformer, precision="auto", max_epochs=1)
    est.fit(X)
    calls = timed_steps.calls
    assert calls >= 8  # warm-up and at least three timed rounds, in both precisions
    est.fit(X)
    est.set_params(warm_start=True).fit(X)
    assert timed_steps.calls == calls  # remembered for this network and batch shape
    est.set_params(warm_start=False, hidden_layer_sizes=(8,)).fit(X)
    assert timed_steps.calls == 2 * calls  # another network is measured anew


def test_auto_measurement_leaves_the_network_and_generators_alone(native_bf16, monkeypatch):
    monkeypatch.setattr(_device, "_MEASURED", {})
    module = build_network(8, 2, (16,), "relu", generator=torch.Generator().manual_seed(0))
    before = {k: v.clone() for k, v in module.state_dict().items()}
    rng_state = torch.random.get_rng_state()
    choice = _device.auto_precision("cpu", module, (32, 8))  # real timings
    assert choice.choice in ("float32", "bfloat16")
    _, t32, t16 = choice
    assert t32 > 0 and t16 > 0
    assert choice.choice == ("bfloat16" if t32 >= _device._BFLOAT16_MARGIN * t16 else "float32")
    assert all(torch.equal(before[k], v) for k, v in module.state_dict().items())
    assert all(p.grad is None for p in module.parameters())
    assert torch.equal(torch.random.get_rng_state(), rng_state)


def test_auto_says_its_choice_in_the_verbose_output(timed_steps, capsys):
    timed_steps.update(float32=2e-3, bfloat16=1e-3)
    make_estimator(AutoencoderTransformer, precision="auto", max_epochs=1, verbose=1).fit(
        make_arc(60)
    )
    out = capsys.readouterr().out
    assert "precision='auto' chose bfloat16" in out and "2 ms in float32" in out
    assert "1 ms in bfloat16 (2.00x" in out


@each_estimator
def test_bfloat16_validates_in_float32(Estimator, native_bf16):
    # early stopping compares epochs with the PCA start on validation passes: float32, so
    # bfloat16's rounding cannot decide the floor
    X = make_arc(80)
    est = make_estimator(Estimator, precision="bfloat16").fit(X)
    seen = []
    first = next(m for m in est.net_.module_.modules() if isinstance(m, torch.nn.Linear))
    first.register_forward_hook(lambda m, i, out: seen.append((m.training, out.dtype)))
    est.set_params(warm_start=True, max_epochs=1).fit(X)
    assert (True, torch.bfloat16) in seen
    assert {dtype for training, dtype in seen if not training} == {torch.float32}


def test_bfloat16_without_native_support_warns(emulated_bf16):
    est = make_estimator(AutoencoderTransformer, precision="bfloat16", max_epochs=1)
    with pytest.warns(UserWarning, match="without native bfloat16"):
        est.fit(make_arc(60))
    assert est.precision_ == "bfloat16"


def test_bfloat16_with_native_support_does_not_warn(native_bf16):
    est = make_estimator(AutoencoderTransformer, precision="bfloat16", max_epochs=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est.fit(make_arc(60))


@each_estimator
def test_bfloat16_trains_in_bfloat16_and_infers_in_float32(Estimator, native_bf16):
    X = make_arc(80)
    est = make_estimator(Estimator, precision="bfloat16", init="random")
    est.fit(X)  # builds the module; refit with a spy on a warm start
    spy = _DtypeSpy(est.net_.module_)
    est.set_params(warm_start=True, max_epochs=1).fit(X)
    assert torch.bfloat16 in spy.dtypes  # training batches ran under autocast
    spy.dtypes.clear()
    Z = est.transform(X)
    assert set(spy.dtypes) == {torch.float32}
    assert Z.dtype == np.float32 and np.isfinite(Z).all()
    R = est.inverse_transform(Z)
    assert R.dtype == np.float32 and np.isfinite(R).all()
    assert np.isfinite(est.score_samples(X)).all()
    assert np.isfinite(est.loss_curve_).all() and np.isfinite(est.validation_loss_curve_).all()
    # master weights stay float32
    assert {p.dtype for p in est.net_.module_.parameters()} == {torch.float32}


@each_estimator
def test_float32_input_dtype_outputs_float32_in_bfloat16(Estimator, native_bf16):
    X = make_arc(60).astype(np.float32)
    est = make_estimator(Estimator, precision="bfloat16").fit(X)
    assert est.transform(X).dtype == np.float32


@pytest.mark.parametrize("optimizer", ["adam", "adamw", "sgd"])
def test_named_optimizers_are_fused_in_every_precision(native_bf16, optimizer):
    X = make_arc(60)
    for precision in ["bfloat16", "float32"]:
        est = make_estimator(AutoencoderTransformer, optimizer=optimizer, precision=precision)
        assert est.fit(X).net_.optimizer_.defaults["fused"] is True


def test_an_optimizer_class_is_the_reference_implementation():
    est = make_estimator(AutoencoderTransformer, optimizer=torch.optim.Adam).fit(make_arc(60))
    assert not est.net_.optimizer_.defaults.get("fused")


def test_bfloat16_model_pickles_and_keeps_its_outputs(native_bf16):
    X = make_arc(60)
    est = make_estimator(AutoencoderTransformer, precision="bfloat16").fit(X)
    clone = pickle.loads(pickle.dumps(est))
    assert_array_equal(clone.transform(X), est.transform(X))
    assert not hasattr(clone.net_, "grad_scaler_")


@each_estimator
def test_float32_is_the_plain_skorch_training_path(Estimator, monkeypatch):
    # precision="float32" must not change a single bit relative to skorch's own training
    # step with the same optimizer: no autocast, no scaler
    X = make_arc(80)
    reference = make_estimator(Estimator).fit(X)
    monkeypatch.setattr(AutoencoderNet, "infer", NeuralNet.infer)
    monkeypatch.setattr(AutoencoderNet, "fit_loop", NeuralNet.fit_loop)
    monkeypatch.setattr(AutoencoderNet, "train_step", NeuralNet.train_step)
    plain = make_estimator(Estimator).fit(X)
    assert_array_equal(plain.transform(X), reference.transform(X))
    assert_array_equal(plain.loss_curve_, reference.loss_curve_)


def test_float16_gradient_scaling_path_trains():
    # float16 is a CUDA feature for the estimators; the net's scaled step itself runs on
    # the CPU too, which lets this test check it without a GPU
    torch.manual_seed(0)
    X = torch.as_tensor(make_arc(64), dtype=torch.float32)
    X = (X - X.mean(0)) / X.std()
    net = AutoencoderNet(
        build_network(8, 2, (16,)),
        criterion=torch.nn.MSELoss,
        optimizer=torch.optim.Adam,
        lr=1e-2,
        max_epochs=5,
        batch_size=16,
        train_split=None,
        device="cpu",
        precision="float16",
    ).initialize()
    before = [p.detach().clone() for p in net.module_.parameters()]
    spy = _DtypeSpy(net.module_)
    net.partial_fit(X)
    losses = net.history[:, "train_loss"]
    assert torch.float16 in spy.dtypes
    assert np.isfinite(losses).all() and losses[-1] < losses[0]
    assert any(not torch.equal(a, b) for a, b in zip(before, net.module_.parameters()))
    assert not hasattr(net, "grad_scaler_")  # released after training


def test_compile_runs_training_batches_through_the_compiled_module(monkeypatch):
    calls = {"compiled": 0, "forward": 0}

    def fake_compile(module, **kwargs):
        # stands in for torch.compile (whose real compilation takes tens of seconds)
        def forward(*args, **kw):
            calls["forward"] += 1
            return module(*args, **kw)

        calls["compiled"] += 1
        return forward

    monkeypatch.setattr(torch, "compile", fake_compile)
    X = make_arc(64)
    est = make_estimator(
        AutoencoderTransformer, compile=True, early_stopping=False, max_epochs=2
    ).fit(X)
    assert calls["compiled"] == 1
    assert calls["forward"] == 2 * 2  # 64 rows / batch 32, two epochs
    # the fitted net keeps the plain module: its state dict and pickles are unchanged
    assert not hasattr(est.net_, "_training_forward")
    assert_array_equal(pickle.loads(pickle.dumps(est)).transform(X), est.transform(X))
    plain = make_estimator(AutoencoderTransformer, early_stopping=False, max_epochs=2).fit(X)
    assert_array_equal(est.transform(X), plain.transform(X))


def test_float16_model_falls_back_to_float32_when_loaded_on_cpu():
    # a model trained in float16 on a GPU, unpickled where only the CPU is left
    X = make_arc(60)
    est = make_estimator(AutoencoderTransformer).fit(X)
    est.precision_, est.net_.precision = "float16", "float16"
    clone = pickle.loads(pickle.dumps(est))
    assert clone.precision_ == "float32" and clone.net_.precision == "float32"
    clone.set_params(warm_start=True, max_epochs=1).fit(X)  # trains on without CUDA
    assert clone.n_iter_ == est.n_iter_ + 1


def test_warm_start_switches_precision_and_weight_decay(native_bf16):
    X = make_arc(60)
    est = make_estimator(AutoencoderTransformer, init="random", early_stopping=False).fit(X)
    assert est.precision_ == "float32"
    spy = _DtypeSpy(est.net_.module_)
    est.set_params(warm_start=True, precision="bfloat16", weight_decay=0.5, max_epochs=1)
    est.fit(X)
    assert est.precision_ == "bfloat16" and torch.bfloat16 in spy.dtypes
    assert est.weight_decay_ == 0.5
    assert est.net_.optimizer_.param_groups[0]["weight_decay"] == 0.5
