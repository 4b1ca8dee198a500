"""pytest set-up for the docstring examples in sklearn_ae/ (scikit-learn ships one too): an
example that needs an optional extra is skipped where that extra is not installed. The
README's test command installs every extra, so CI runs them all."""

import importlib.util

import pytest

# doctest -> the optional packages its example imports
_NEEDS = {
    "sklearn_ae._base._BaseAutoencoder.to_onnx": ("onnxruntime", "onnxscript"),
    "sklearn_ae._onnx.register_skl2onnx": ("onnxruntime", "onnxscript", "skl2onnx"),
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        needs = _NEEDS.get(item.name, ())
        missing = [name for name in needs if importlib.util.find_spec(name) is None]
        if missing:
            item.add_marker(pytest.mark.skip(reason=f"needs {missing} (the 'onnx' extra)"))
