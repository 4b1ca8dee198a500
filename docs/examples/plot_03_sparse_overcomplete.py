"""
=====================================================
Over-complete sparse codes and what their units learn
=====================================================

An autoencoder's code may be *larger* than its input (an *over-complete* code). Left to
itself such a network can learn little more than a copy of the input, so it needs another
pressure: a **sparsity penalty** on the codes, which makes each sample use only a few of
the many code units. Each unit then tends to stand for one recurring part of the data,
and the decoder holds that part as an image.

This example fits an over-complete code (256 units for 196 pixels) with a weak and a
strong L1 penalty, measures how sparse the codes are, and shows each unit's decoder
output: the image it adds to a reconstruction when it switches on.
"""

# %%
# Data: MNIST digits at 14x14
# ---------------------------
# Averaging 2x2 blocks of pixels halves each side of the bundled 28x28 digits, so the
# over-complete code stays small (196 pixels, 256 units) and the example fast.
import matplotlib.pyplot as plt
import numpy as np

from sklearn_ae import AutoencoderTransformer
from sklearn_ae.evaluation import load_mnist_split, reconstruction_mse

X_train, X_test, _, _ = load_mnist_split(n_train=3000, n_test=500)
X_train, X_test = (X.reshape(-1, 14, 2, 14, 2).mean(axis=(2, 4)).reshape(len(X), -1)
                   for X in (X_train, X_test))
print(X_train.shape)

# %%
# Over-complete needs a penalty
# -----------------------------
# :class:`~sklearn_ae.AutoencoderTransformer` refuses ``n_components > n_features`` unless
# ``sparsity`` is set, and says why:
try:
    AutoencoderTransformer(n_components=256).fit(X_train)
except ValueError as exc:
    print(exc)

# %%
# Two penalties, weak and strong
# ------------------------------
# ``sparsity="l1"`` adds ``sparsity_weight * mean |code|`` to the training loss. We use a
# *linear* encoder and decoder (``hidden_layer_sizes=()``) so that each unit's decoder
# output is one fixed image, a column of the decoder's weight matrix, and
# ``init="random"``, the textbook start (the default ``init="pca"`` would start up to
# 196 units at PCA's components and leave the others unused at first).
models = {}
for weight in (0.3, 3.0):
    models[weight] = AutoencoderTransformer(
        n_components=256, hidden_layer_sizes=(), init="random", sparsity="l1",
        sparsity_weight=weight, max_epochs=60, random_state=0,
    ).fit(X_train)

# %%
# :meth:`~sklearn_ae.AutoencoderTransformer.code_sparsity` is the mean Hoyer sparsity of
# the codes, from 0 (every unit equally active) to 1 (one unit per sample); it ignores the
# codes' overall scale, so the two models compare fairly.
print("sparsity_weight  Hoyer sparsity  held-out MSE")
for weight, ae in models.items():
    print(f"{weight:15.1f}  {ae.code_sparsity(X_test):14.3f}  "
          f"{reconstruction_mse(ae, X_test):.5f}")

# %%
# The stronger penalty buys sparser codes at the price of a larger reconstruction error:
# fewer active units have to rebuild each digit.
#
# What each unit draws
# --------------------
# Decoding a code in which only unit ``j`` is on, minus the decoding of the all-zero code,
# gives the image unit ``j`` adds (for this linear decoder, exactly its weight column,
# scaled). We switch each unit on at a typical strong value, the 95th percentile of its
# ``|code|`` on the training digits, and show the 40 units that are most active on
# average. Red is ink added, blue ink removed.


def unit_images(ae, X):
    Z = ae.transform(X)
    strength = np.percentile(np.abs(Z), 95, axis=0)
    baseline = ae.inverse_transform(np.zeros((1, ae.n_components), dtype=np.float32))
    images = ae.inverse_transform(np.diag(strength).astype(np.float32)) - baseline
    busiest = np.argsort(-ae.code_activations(X).mean(axis=0))[:40]
    return images[busiest]


fig = plt.figure(figsize=(10, 3.6), layout="constrained")
for subfig, (weight, ae) in zip(fig.subfigures(1, 2, wspace=0.05), models.items()):
    axes = subfig.subplots(5, 8)
    for ax, image in zip(axes.flat, unit_images(ae, X_train)):
        limit = np.abs(image).max()
        ax.imshow(image.reshape(14, 14), cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.axis("off")
    subfig.suptitle(f"sparsity_weight={weight}")

# %%
# With the weak penalty the units draw speckled patterns spread over the image. With the
# strong one they draw smoother, curved pieces of pen strokes. Neither is a clean
# dictionary of small, local strokes: that takes more data and longer training than this
# example spends, but the direction in which the penalty pushes is visible.
#
# How many units does a digit use?
# --------------------------------
# Hoyer's measure summarises sparsity in one number; a more concrete one is how many of
# the 256 units it takes to hold half of a digit's total ``|code|``.


def units_for_half(ae, X):
    activity = np.sort(ae.code_activations(X), axis=1)[:, ::-1]
    cumulative = np.cumsum(activity, axis=1) / activity.sum(axis=1, keepdims=True)
    return (cumulative < 0.5).sum(axis=1) + 1


for weight, ae in models.items():
    print(f"sparsity_weight={weight}: half of a digit's |code| sits in "
          f"{np.median(units_for_half(ae, X_test)):.0f} units (median over test digits)")

# %%
# One digit, part by part
# -----------------------
# A reconstruction is the baseline plus the contributions of the active units. For one
# held-out digit, here are the five units with the largest ``|code|`` in the strongly
# penalised model, each drawn as the image it adds at this digit's code value.
ae = models[3.0]
x = X_test[:1]
z = ae.transform(x)[0]
top = np.argsort(-np.abs(z))[:5]
baseline = ae.inverse_transform(np.zeros((1, 256), dtype=np.float32))[0]

fig, axes = plt.subplots(1, 7, figsize=(8, 1.6))
axes[0].imshow(x.reshape(14, 14), cmap="gray_r", vmin=0, vmax=1)
axes[0].set_title("digit", fontsize=9)
axes[1].imshow(ae.reconstruct(x).reshape(14, 14), cmap="gray_r", vmin=0, vmax=1)
axes[1].set_title("rebuilt", fontsize=9)
for ax, j in zip(axes[2:], top):
    one = np.zeros((1, 256), dtype=np.float32)
    one[0, j] = z[j]
    part = ae.inverse_transform(one)[0] - baseline
    limit = np.abs(part).max()
    ax.imshow(part.reshape(14, 14), cmap="RdBu_r", vmin=-limit, vmax=limit)
    ax.set_title(f"unit {j}", fontsize=9)
for ax in axes:
    ax.axis("off")
fig.tight_layout()
plt.show()
