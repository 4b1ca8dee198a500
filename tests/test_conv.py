"""Convolutional architecture (sklearn_ae/nn/conv.py, architecture="conv") and SSIM loss."""

import numpy as np
import pytest
import torch
from conftest import make_estimator
from numpy.testing import assert_allclose
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA

from sklearn_ae import AutoencoderTransformer, DenoisingAutoencoder
from sklearn_ae.losses import ssim_per_sample, ssim_window
from sklearn_ae.nn import ConvDecoder, ConvEncoder, build_network, torch_image_shape


@pytest.mark.parametrize(
    "image_shape, channels",
    [((1, 8, 8), (32, 64)), ((1, 28, 28), (8, 16)), ((3, 7, 5), (4,)), ((2, 9, 13), (4, 8))],
)
def test_modules_round_trip_flattened_shapes(image_shape, channels):
    c, h, w = image_shape
    ae = build_network(h * w * c, 5, channels, image_shape=image_shape)
    x = torch.randn(4, h * w * c)
    recon, codes = ae(x)
    assert codes.shape == (4, 5)
    assert recon.shape == (4, h * w * c)


def test_flattened_rows_are_channels_last_images():
    # rows are (H, W, C) images reshaped as numpy does; the first conv must see (C, H, W)
    enc = ConvEncoder((3, 4, 6), 2, channels=(2,))
    seen = []
    enc.convs[0].register_forward_pre_hook(lambda m, a: seen.append(a[0]))
    images = torch.randn(2, 4, 6, 3)
    enc(images.reshape(2, -1))
    assert torch.equal(seen[0], images.permute(0, 3, 1, 2))
    dec = ConvDecoder(2, (3, 4, 6), channels=(2,))
    out = []
    dec.out.register_forward_hook(lambda m, a, o: out.append(o))
    flat = dec(torch.randn(2, 2))
    assert torch.equal(flat, out[0].permute(0, 2, 3, 1).reshape(2, -1))


def test_too_many_layers_for_the_image_raise():
    with pytest.raises(ValueError, match=r"8x8 pixels allows at most 2 .*\(4, 4, 4\)"):
        ConvEncoder((1, 8, 8), 3, channels=(4, 4, 4))


def test_torch_image_shape():
    assert torch_image_shape((28, 28)) == (1, 28, 28)
    assert torch_image_shape((32, 24, 3)) == (3, 32, 24)


def _digits(n=300):
    return load_digits().data[:n]


@pytest.mark.parametrize("init", ["pca", "random"])
@pytest.mark.parametrize("Estimator", [AutoencoderTransformer, DenoisingAutoencoder])
def test_conv_estimator_on_8x8_digits(Estimator, init):
    X = _digits()
    est = make_estimator(
        Estimator, architecture="conv", image_shape=(8, 8), n_components=7, init=init,
        hidden_layer_sizes=None,
    ).fit(X)
    assert est.image_shape_ == (1, 8, 8)
    assert est.hidden_layer_sizes_ == (32, 64)  # default channels, two halvings of 8x8
    assert isinstance(est.net_.module_.encoder.nonlinear if init == "pca"
                      else est.net_.module_.encoder, ConvEncoder)
    Z = est.transform(X)
    assert Z.shape == (300, 7) and Z.dtype == np.float32
    R = est.inverse_transform(Z)
    assert R.shape == (300, 64) and R.dtype == np.float32


def test_untrained_conv_model_with_pca_init_is_pca():
    X = _digits()
    est = make_estimator(
        AutoencoderTransformer, architecture="conv", image_shape=(8, 8), n_components=5,
        max_epochs=1, lr=1e-12, early_stopping=False,
    ).fit(X)
    pca = PCA(n_components=5, svd_solver="full").fit(X)
    assert_allclose(est.transform(X), pca.transform(X), atol=1e-4 * np.abs(X).max())
    assert_allclose(est.reconstruct(X), pca.inverse_transform(pca.transform(X)),
                    atol=1e-4 * np.abs(X).max())


def test_conv_trains_on_28x28_images():
    rng = np.random.RandomState(0)
    X = (rng.rand(64, 784) > 0.7).astype(np.float32)
    est = make_estimator(
        AutoencoderTransformer, architecture="conv", image_shape=(28, 28), n_components=3,
        hidden_layer_sizes=(4, 8), max_epochs=1,
    ).fit(X)
    assert est.reconstruct(X).shape == (64, 784)


def test_minus_one_infers_a_side():
    est = make_estimator(AutoencoderTransformer, architecture="conv", image_shape=(-1, 8),
                         hidden_layer_sizes=(4,)).fit(_digits(40))
    assert est.image_shape_ == (1, 8, 8)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"architecture": "conv", "image_shape": (28, 28)},
         r"image_shape=\(28, 28\) has 784 pixels but X has 64 features"),
        ({"architecture": "conv", "image_shape": (8, 8, 3)},
         r"image_shape=\(8, 8, 3\) has 192 pixels but X has 64 features"),
        ({"architecture": "conv"}, r"architecture='conv' needs image_shape"),
        ({"loss": "ssim"}, r"loss='ssim' needs image_shape"),
        ({"image_shape": (8, 0)}, r"got image_shape=\(8, 0\)"),
        ({"image_shape": (64,)}, r"got image_shape=\(64,\)"),
        ({"image_shape": (-1, -1)}, r"got image_shape=\(-1, -1\)"),
        ({"image_shape": (-1, 7)}, r"image_shape=\(-1, 7\) cannot hold X's 64 features"),
        ({"architecture": "conv", "image_shape": (8, 8), "hidden_layer_sizes": (4, 4, 4)},
         r"at most 2 stride-2"),
        ({"architecture": "cnn", "image_shape": (8, 8)}, "architecture"),
    ],
)
def test_bad_image_configuration_raises_before_training(params, match):
    est = make_estimator(AutoencoderTransformer, callbacks=[], **params)
    with pytest.raises(ValueError, match=match):
        est.fit(_digits(40))
    assert not hasattr(est, "net_")


def test_ssim_window_fits_small_images():
    assert ssim_window(8, 8) == 7
    assert ssim_window(28, 28) == 11
    assert ssim_window(1, 10) == 1


def test_ssim_per_sample_is_one_for_identical_images_and_differentiable():
    # seeded: unrelated random images score near 0, but an unseeded draw depends on the
    # tests run before it in the process
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(3, 64, generator=gen)
    assert torch.allclose(ssim_per_sample(x, x, (1, 8, 8), 1.0), torch.ones(3))
    y = torch.rand(3, 64, generator=gen).requires_grad_()
    s = ssim_per_sample(y, x, (1, 8, 8), 1.0)
    assert torch.all(s < 0.5)
    s.sum().backward()
    assert torch.all(torch.isfinite(y.grad)) and y.grad.abs().sum() > 0


def test_ssim_loss_training_raises_structural_similarity():
    X = load_digits().data[:400] / 16.0
    params = dict(loss="ssim", image_shape=(8, 8), n_components=4, early_stopping=False)
    before = make_estimator(AutoencoderTransformer, max_epochs=1, lr=1e-12, **params).fit(X)
    after = make_estimator(AutoencoderTransformer, max_epochs=15, lr=3e-3, **params).fit(X)

    def mean_ssim(est):
        R = torch.as_tensor(est.reconstruct(X))
        return ssim_per_sample(R, torch.as_tensor(X, dtype=torch.float32), (1, 8, 8), 1.0).mean()

    assert after.loss_curve_[-1] < before.loss_curve_[0]
    assert mean_ssim(after) > mean_ssim(before) + 0.02
