"""
================================================
Saving and loading safely, and bfloat16 training
================================================

Two practical matters once a model is worth keeping.

**Saving.** Every estimator pickles, but loading a pickle runs whatever code the file's
author put in it: only load pickles you trust. :func:`sklearn_ae.save` writes a
`safetensors <https://huggingface.co/docs/safetensors>`_ file (weights as tensors, the
parameters and fitted attributes as JSON, with a checksum), and :func:`sklearn_ae.load`
reads it back as *data*: it never unpickles or imports anything named in the file.

**Precision.** Training can run in *bfloat16* mixed precision (``precision="bfloat16"``):
the matrix products run in a 16-bit format while the weights stay float32. On CPUs that
multiply bfloat16 in hardware (AVX512-BF16 or AMX) it trains faster; elsewhere torch
emulates it, much more slowly. The default ``precision="auto"`` picks bfloat16 only where
it is native.
"""

# %%
# Save, load, compare
# -------------------
# We write into a temporary folder, removed at the end of the example.
import os
import tempfile
import time

import matplotlib.pyplot as plt
import numpy as np

from sklearn_ae import AutoencoderTransformer, load, save
from sklearn_ae.evaluation import load_mnist_split, reconstruction_mse

X_train, X_test, _, _ = load_mnist_split(n_train=2000, n_test=500)
ae = AutoencoderTransformer(n_components=16, max_epochs=10, random_state=0).fit(X_train)

folder = tempfile.TemporaryDirectory()
path = os.path.join(folder.name, "digits_ae.safetensors")
save(ae, path)
print(f"file size: {os.path.getsize(path) / 1e6:.1f} MB")
loaded = load(path)

print("same codes:          ", np.array_equal(loaded.transform(X_test), ae.transform(X_test)))
print("same reconstructions:", np.array_equal(loaded.reconstruct(X_test), ae.reconstruct(X_test)))
print("same parameters:     ", loaded.get_params() == ae.get_params())
print("epochs, epoch kept:  ", loaded.n_iter_, loaded.best_epoch_)

# %%
# The outputs agree bit for bit. The loaded estimator is complete: it can be refitted, or
# trained further with ``set_params(warm_start=True).fit(X)`` (the optimizer's state is
# not stored, so it continues with a fresh one).
#
# What a damaged file does
# ------------------------
# ``load`` checks the file before building anything from it: its structure, a SHA-256
# checksum over all contents, the class (from a fixed list), the parameters, the fitted
# attributes, and the shapes and finiteness of the weights. Here we flip one byte near the
# end of the file, inside the weights:
with open(path, "r+b") as f:
    f.seek(-100, os.SEEK_END)
    byte = f.read(1)
    f.seek(-100, os.SEEK_END)
    f.write(bytes([byte[0] ^ 0xFF]))
try:
    load(path)
except ValueError as exc:
    print("ValueError:", str(exc).replace(folder.name + os.sep, ""))
folder.cleanup()

# %%
# The checksum detects accidental damage. It is not a signature (anyone can write a valid
# file), which is why loading never trusts the file with code: a file from an untrusted
# source can at worst hold a model that gives wrong answers. See the persistence guide
# (``docs/persistence.md``) for the format and every check.
#
# bfloat16: what does this machine support?
# -----------------------------------------
# With ``precision="auto"`` the fitted attribute ``precision_`` says what was used.
print("precision='auto' trained in:", ae.precision_)

# %%
# If this CPU runs bfloat16 natively, we compare the two precisions on the same fit;
# otherwise we train in float32 only, since forcing bfloat16 would be emulated (and the
# estimator would warn).
if ae.precision_ == "bfloat16":
    precisions = ["float32", "bfloat16"]
else:
    precisions = ["float32"]
    print("No native bfloat16 on this CPU: float32 only. On a CPU with AVX512-BF16 or AMX "
          "(or a recent GPU) this section also trains in bfloat16.")

fig, ax = plt.subplots(figsize=(5, 3.2))
for precision in precisions:
    model = AutoencoderTransformer(
        n_components=16, max_epochs=10, precision=precision, random_state=0
    )
    start = time.perf_counter()
    model.fit(X_train)
    seconds = time.perf_counter() - start
    print(f"{precision:8s}: fit {seconds:5.1f} s, held-out MSE "
          f"{reconstruction_mse(model, X_test):.5f}, codes are {model.transform(X_test).dtype}")
    ax.plot(range(1, model.n_iter_ + 1), model.validation_loss_curve_, label=precision)
ax.set_xlabel("epoch")
ax.set_ylabel("validation loss (scaled MSE)")
ax.legend(title="precision")
fig.tight_layout()

# %%
# Where both ran, the learning curves and the held-out errors are close but not identical
# (rounding differs in training), and bfloat16 should be the faster one, though a single
# short timing on a busy machine is noisy. Whatever the training precision, inference and
# the returned arrays are float32, and a saved model holds float32 weights: it loads and
# predicts the same on a machine without bfloat16. For numbers that are identical on every
# CPU, pass ``precision="float32"``.
plt.show()
