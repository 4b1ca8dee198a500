"""
=========================================
Serving a pipeline outside Python: ONNX
=========================================

A pipeline that contains an autoencoder of the family can run without Python, scikit-learn
or PyTorch: `skl2onnx <https://onnx.ai/sklearn-onnx/>`_ converts it to one ONNX graph, which
`ONNX Runtime <https://onnxruntime.ai/>`_ (C, C++, C#, Java, JavaScript, ...) executes.

The autoencoder's step is its encoder, with the input scaling built in, exported by
PyTorch's ONNX exporter; :func:`sklearn_ae.register_skl2onnx` teaches skl2onnx to use it.
Needs the ``onnx`` extra: ``pip install 'sklearn-ae[onnx]'``.
"""

# %%
# Fit a pipeline on handwritten digits
# ------------------------------------
# ``StandardScaler`` -> ``AutoencoderTransformer`` (16 codes) -> ``LogisticRegression``,
# as one would with ``PCA(n_components=16)``.
import time

import numpy as np
import onnx
import onnxruntime
from skl2onnx import to_onnx
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_ae import AutoencoderTransformer, register_skl2onnx

X, y = load_digits(return_X_y=True)
X = X.astype(np.float32)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)

pipe = make_pipeline(
    StandardScaler(),
    AutoencoderTransformer(n_components=16, max_epochs=20, random_state=0),
    LogisticRegression(max_iter=1000),
).fit(X_train, y_train)
print(f"accuracy in scikit-learn: {pipe.score(X_test, y_test):.3f}")

# %%
# Convert the whole pipeline
# --------------------------
# Register the family's converter once, then convert as for any scikit-learn pipeline.
# The sample row fixes the input's type (float32 here) and width; the number of rows
# stays free. ``zipmap=False`` makes the classifier output a plain probability matrix.
register_skl2onnx()
start = time.perf_counter()
model = to_onnx(pipe, X_train[:1], options={"zipmap": False})
print(f"converted in {time.perf_counter() - start:.1f} s")
print("inputs:", [
    (i.name, onnx.TensorProto.DataType.Name(i.type.tensor_type.elem_type))
    for i in model.graph.input
])
print("outputs:", [o.name for o in model.graph.output])

# the graph is one file: ``onnx.save(model, "digits.onnx")`` writes it

# %%
# Run it in ONNX Runtime and compare
# ----------------------------------
session = onnxruntime.InferenceSession(model.SerializeToString())
labels, proba = session.run(None, {"X": X_test})

print("labels equal:", bool(np.array_equal(labels, pipe.predict(X_test))))
print(f"largest probability difference: {np.abs(proba - pipe.predict_proba(X_test)).max():.1e}")

# %%
# The encoder and decoder alone
# -----------------------------
# ``to_onnx(part)`` exports one half of a fitted member: the encoder maps rows ``"X"`` to
# ``"codes"`` (what ``transform`` returns), the decoder maps ``"codes"`` back to rows
# ``"X_decoded"`` in the data's units (what ``inverse_transform`` returns).
ae = pipe[1]
X_scaled = pipe[0].transform(X_test).astype(np.float32)
encoder = onnxruntime.InferenceSession(ae.to_onnx("encoder").SerializeToString())
decoder = onnxruntime.InferenceSession(ae.to_onnx("decoder").SerializeToString())

(codes,) = encoder.run(None, {"X": X_scaled})
(decoded,) = decoder.run(None, {"codes": codes})
print(f"codes: largest difference to transform: "
      f"{np.abs(codes - ae.transform(X_scaled)).max():.1e}")
print(f"reconstructions: largest difference to inverse_transform: "
      f"{np.abs(decoded - ae.inverse_transform(codes)).max():.1e}")
