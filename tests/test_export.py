"""``to_torch``: a fitted member's encoder and decoder as plain torch modules."""

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose
from sklearn.exceptions import NotFittedError

from sklearn_ae import AutoencoderTransformer, VAETransformer
from tests.conftest import ESTIMATORS, make_arc, make_estimator


def _run(module, A):
    with torch.no_grad():
        return module(torch.from_numpy(np.asarray(A, dtype=np.float32))).numpy()


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_encoder_and_decoder_match_transform_and_inverse_transform(Estimator):
    X = make_arc(120)
    est = make_estimator(Estimator, n_components=2).fit(X)
    X_test = make_arc(40, seed=1)
    codes = est.transform(X_test)
    assert_allclose(_run(est.to_torch(), X_test), codes, rtol=1e-5, atol=1e-5)
    assert_allclose(
        _run(est.to_torch("decoder"), codes), est.inverse_transform(codes), rtol=1e-5, atol=1e-4
    )


@pytest.mark.parametrize(
    "Estimator, params",
    [
        (AutoencoderTransformer, {"loss": "bce"}),
        (AutoencoderTransformer, {"architecture": "conv", "image_shape": (6, 6),
                                  "hidden_layer_sizes": (4,)}),
        (VAETransformer, {"loss": "bce", "architecture": "conv", "image_shape": (6, 6),
                          "hidden_layer_sizes": (4,)}),
    ],
)
def test_bce_and_conv_networks_export_their_output_mapping(Estimator, params):
    X = np.random.RandomState(0).uniform(0, 1, size=(60, 36))
    est = make_estimator(Estimator, n_components=3, **params).fit(X)
    codes = est.transform(X)
    assert_allclose(_run(est.to_torch(), X), codes, rtol=1e-5, atol=1e-5)
    decoded = _run(est.to_torch("decoder"), codes)
    assert_allclose(decoded, est.inverse_transform(codes), rtol=1e-5, atol=1e-5)


def test_module_is_an_independent_copy_in_eval_mode():
    X = make_arc(120)
    est = make_estimator(AutoencoderTransformer, n_components=1).fit(X)
    before = est.transform(X)
    encoder = est.to_torch()
    assert not encoder.training
    with torch.no_grad():
        for p in encoder.parameters():
            p.add_(1.0)
    assert_allclose(est.transform(X), before)
    assert not np.allclose(_run(encoder, X), before)


def test_bad_part_and_unfitted_estimator_are_refused():
    with pytest.raises(NotFittedError):
        AutoencoderTransformer().to_torch()
    est = make_estimator(AutoencoderTransformer, n_components=1).fit(make_arc(60))
    with pytest.raises(ValueError, match="'middle'"):
        est.to_torch("middle")
