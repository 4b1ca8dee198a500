"""Warnings point at the user's line (``sklearn_ae/_warn.py``), however deep in the
package, skorch's loop or scikit-learn's wrappers they arise."""

import warnings

import numpy as np
import pytest
from conftest import make_estimator, make_supervised
from skorch.callbacks import EpochTimer
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_ae import AutoencoderClassifier, AutoencoderTransformer, save


def _warnings_of(call, category):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    found = [w for w in caught if issubclass(w.category, category)]
    assert found, f"no {category.__name__}"
    return found


@pytest.mark.parametrize("through", ["estimator", "pipeline"])
def test_divergence_warning_points_at_the_fit_call(through, X_small):
    est = make_estimator(AutoencoderTransformer, lr=1e3, n_iter_no_change=1, max_epochs=5)
    model = est if through == "estimator" else make_pipeline(StandardScaler(), est)
    for w in _warnings_of(lambda: model.fit(X_small), ConvergenceWarning):
        assert w.filename == __file__


def test_classifier_divergence_warning_points_at_the_fit_call(X_small):
    y = (X_small[:, 0] > np.median(X_small[:, 0])).astype(int)
    clf = make_supervised(AutoencoderClassifier, lr=1e4, max_epochs=5)
    for w in _warnings_of(lambda: clf.fit(X_small * 1e3, y), ConvergenceWarning):
        assert w.filename == __file__


def test_save_warning_points_at_the_save_call(X_small, tmp_path):
    est = make_estimator(AutoencoderTransformer, callbacks=[EpochTimer()]).fit(X_small)
    for w in _warnings_of(lambda: save(est, tmp_path / "m.safetensors"), UserWarning):
        assert w.filename == __file__
