"""Pure torch modules (sklearn_ae/nn/mlp.py, networks.py)."""

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose
from sklearn.decomposition import PCA
from torch import nn

from sklearn_ae.nn import (
    ACTIVATIONS,
    Autoencoder,
    CodeScale,
    build_network,
    default_hidden_layer_sizes,
    make_mlp,
    write_pca_start,
)


@pytest.fixture
def generator():
    return torch.Generator().manual_seed(0)


def _linear_shapes(module):
    return [(m.in_features, m.out_features) for m in module.modules() if isinstance(m, nn.Linear)]


def _pca_module(X, n_components, hidden=(8,), code_unit=1.0, activation="relu"):
    n_pca = min(n_components, *X.shape)
    pca = PCA(n_components=n_pca, svd_solver="full").fit(X)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        module = build_network(X.shape[1], n_components, hidden, activation, residual=True)
        write_pca_start(
            module,
            torch.as_tensor(pca.components_, dtype=torch.float32),
            torch.as_tensor(np.sqrt(pca.explained_variance_), dtype=torch.float32),
            code_unit=code_unit,
        )
    return pca, module


# ------------------------------------------------------------------ make_mlp
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_make_mlp_layer_structure(activation):
    mlp = make_mlp([5, 8, 4, 3], activation)
    assert isinstance(mlp, nn.Sequential)
    kinds = [type(layer) for layer in mlp]
    act = ACTIVATIONS[activation]
    # an activation between linear layers, none after the last
    assert kinds == [nn.Linear, act, nn.Linear, act, nn.Linear]
    assert _linear_shapes(mlp) == [(5, 8), (8, 4), (4, 3)]


def test_make_mlp_single_layer_has_no_activation():
    mlp = make_mlp([6, 2], "tanh")
    assert [type(layer) for layer in mlp] == [nn.Linear]
    assert _linear_shapes(mlp) == [(6, 2)]


def test_make_mlp_zero_last_outputs_exact_zeros_and_still_learns(generator):
    mlp = make_mlp([4, 16, 3], "relu", zero_last=True)
    x = torch.randn(10, 4, generator=generator)
    out = mlp(x)
    assert torch.equal(out, torch.zeros(10, 3))
    # the first layer keeps its random initialisation
    assert torch.count_nonzero(mlp[0].weight) == mlp[0].weight.numel()
    # and the zero layer gets a gradient, so training can grow it
    out.sum().backward()
    assert torch.count_nonzero(mlp[-1].weight.grad) > 0
    assert torch.all(mlp[-1].bias.grad == 10)


def test_make_mlp_without_zero_last_is_not_zero(generator):
    mlp = make_mlp([4, 3], zero_last=False)
    assert torch.count_nonzero(mlp(torch.randn(5, 4, generator=generator))) == 15


# --------------------------------------------------------- plain autoencoder
def test_plain_autoencoder_mirrors_encoder(generator):
    module = build_network(10, 3, [16, 8], "tanh")
    assert isinstance(module, Autoencoder)
    assert _linear_shapes(module.encoder) == [(10, 16), (16, 8), (8, 3)]
    assert _linear_shapes(module.decoder) == [(3, 8), (8, 16), (16, 10)]
    x = torch.randn(7, 10, generator=generator)
    recon, codes = module(x)
    assert codes.shape == (7, 3) and recon.shape == (7, 10)
    assert torch.equal(codes, module.encode(x))
    assert torch.equal(recon, module.decode(codes))


def test_plain_autoencoder_without_hidden_layers_is_linear():
    module = build_network(6, 2, [], "relu")
    assert [type(m) for m in module.encoder] == [nn.Linear]
    assert [type(m) for m in module.decoder] == [nn.Linear]


# ------------------------------------------------------ PCA-residual module
@pytest.mark.parametrize("n_components", [1, 3])
@pytest.mark.parametrize("activation", ["relu", "tanh", "gelu"])
def test_pca_residual_autoencoder_reproduces_pca(n_components, activation):
    rng = np.random.RandomState(0)
    X = (rng.randn(80, 6) * np.array([4, 3, 2, 1, 0.5, 0.2])).astype(np.float32)
    X -= X.mean(axis=0)
    pca, module = _pca_module(X, n_components, hidden=(16, 8), activation=activation)
    x = torch.as_tensor(X)
    with torch.no_grad():
        recon, codes = module(x)
    assert_allclose(codes.numpy(), pca.transform(X), rtol=0, atol=1e-5)
    assert_allclose(recon.numpy(), pca.inverse_transform(pca.transform(X)), rtol=0, atol=1e-5)
    with torch.no_grad():
        decoded = module.decode(torch.as_tensor(pca.transform(X), dtype=torch.float32))
    assert_allclose(decoded.numpy(), recon.numpy(), rtol=0, atol=1e-5)


def test_pca_residual_code_unit_scales_codes_only():
    rng = np.random.RandomState(1)
    X = rng.randn(50, 4).astype(np.float32)
    X -= X.mean(axis=0)
    pca, module = _pca_module(X, 2, code_unit=2.5)
    with torch.no_grad():
        recon, codes = module(torch.as_tensor(X))
    assert_allclose(codes.numpy(), 2.5 * pca.transform(X), rtol=0, atol=1e-5)
    assert_allclose(recon.numpy(), pca.inverse_transform(pca.transform(X)), rtol=0, atol=1e-5)


def test_code_scale_follows_the_training_rms_and_is_fixed_in_eval():
    scale = CodeScale(momentum=0.5).eval()
    x = torch.full((4, 2), 3.0)  # rms 3
    assert torch.equal(scale(x), x)  # the start: the identity, and no update in eval
    scale.train()
    out = scale(x)
    assert scale.scale.item() == pytest.approx(2.0)  # halfway from 1 to 3
    assert_allclose(out.numpy(), 1.5)
    for _ in range(30):
        scale(x)
    assert scale.scale.item() == pytest.approx(3.0)
    scale(torch.full((4, 2), float("nan")))  # a non-finite batch leaves the scale alone
    assert scale.scale.item() == pytest.approx(3.0)
    scale.eval()
    assert_allclose(scale(torch.full((1, 2), 6.0)).numpy(), 2.0)  # fixed, per row
    assert scale.scale.item() == pytest.approx(3.0)


def test_network_with_code_scale_decodes_through_it(generator):
    module = build_network(6, 2, (4,), code_scale=True, generator=generator)
    assert isinstance(module.decoder[0], CodeScale)
    assert module.decoder[0].scale.item() == 1.0  # initialised, not left empty
    axes = build_network(6, 2, (4,), input_axes=3, code_scale=True, generator=generator)
    assert isinstance(axes.decoder[0][0], CodeScale)  # the path from the codes


def test_pca_residual_over_complete_codes():
    rng = np.random.RandomState(2)
    X = rng.randn(40, 4).astype(np.float32)
    X -= X.mean(axis=0)
    pca, module = _pca_module(X, 7)  # more code units than features
    with torch.no_grad():
        recon, codes = module(torch.as_tensor(X))
    assert codes.shape == (40, 7) and recon.shape == (40, 4)
    assert_allclose(codes[:, :4].numpy(), pca.transform(X), rtol=0, atol=1e-5)
    assert torch.equal(codes[:, 4:], torch.zeros(40, 3))  # extra units start silent
    assert_allclose(recon.numpy(), X, rtol=0, atol=1e-5)  # all components: exact


def test_pca_residual_fewer_samples_than_components():
    rng = np.random.RandomState(3)
    X = rng.randn(3, 6).astype(np.float32)
    X -= X.mean(axis=0)
    pca, module = _pca_module(X, 5)  # PCA can give only 3 axes
    with torch.no_grad():
        recon, codes = module(torch.as_tensor(X))
    assert codes.shape == (3, 5)
    assert torch.all(torch.isfinite(codes)) and torch.all(torch.isfinite(recon))
    assert_allclose(recon.numpy(), X, rtol=0, atol=1e-4)


def test_pca_residual_zero_variance_component_stays_finite():
    X = np.zeros((10, 3), dtype=np.float32)
    X[:, 0] = np.linspace(-1, 1, 10)  # rank one: the other scores have zero spread
    pca, module = _pca_module(X, 2)
    with torch.no_grad():
        recon, codes = module(torch.as_tensor(X))
    assert torch.all(torch.isfinite(codes)) and torch.all(torch.isfinite(recon))
    assert_allclose(recon.numpy(), X, rtol=0, atol=1e-5)


# ---------------------------------------------------------- default sizes
def test_default_hidden_layer_sizes():
    assert default_hidden_layer_sizes(784, 30) == (512, 256)
    assert default_hidden_layer_sizes(64, 10) == (128, 64)
    assert default_hidden_layer_sizes(3, 2) == (64, 32)
    # never narrower than the code
    assert default_hidden_layer_sizes(10, 200) == (400, 200)
    assert default_hidden_layer_sizes(10, 60) == (120, 60)
    # convolutional: channels, as many stride-2 layers as the image allows
    assert default_hidden_layer_sizes(784, 30, (1, 28, 28)) == (32, 64)
    assert default_hidden_layer_sizes(16, 2, (1, 4, 4)) == (32,)


def _weights(n_features, n_components, hidden):
    paths = build_network(n_features, n_components, hidden, "relu", device="meta")
    return sum(p.numel() for name, p in paths.named_parameters() if "linear" not in name)


@pytest.mark.parametrize(
    "n_samples, n_features, n_components, expected",
    [
        (8000, 784, 30, (512, 256)),  # the MNIST subset: enough data, unchanged
        (1437, 64, 10, (128, 64)),  # digits: unchanged
        (133, 13, 2, None),  # small tabular data: narrower
        (10, 100_000, 2, None),  # wide: a few units
        (2, 100_000, 2, (1, 2)),  # not even one unit fits: the narrowest
    ],
)
def test_default_widths_have_no_more_weights_than_the_data_have_numbers(
    n_samples, n_features, n_components, expected
):
    sizes = default_hidden_layer_sizes(n_features, n_components,
                                       n_values=n_samples * n_features)
    if expected is not None:
        assert sizes == expected
    if sizes[0] > 1:
        assert _weights(n_features, n_components, sizes) <= n_samples * n_features
        wider = (sizes[0] + 1, max((sizes[0] + 1) // 2, n_components))
        assert _weights(n_features, n_components, wider) > n_samples * n_features or (
            sizes == default_hidden_layer_sizes(n_features, n_components))
