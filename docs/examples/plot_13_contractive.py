"""
============================================================
The contractive autoencoder: codes that resist small changes
============================================================

A *contractive* autoencoder (Rifai et al., 2011) adds a penalty to the reconstruction
error: ``contraction_weight`` times the squared Frobenius norm of the encoder's Jacobian,
``||d code / d x||²``, averaged over the training inputs. The penalty pushes the codes to
move as little as possible when the input moves a little; the reconstruction error
resists wherever the input's change matters to rebuilding it. The hoped-for result: codes
that follow the directions in which the data really vary and ignore small perturbations
off them.

This example fits :class:`~sklearn_ae.ContractiveAutoencoder` at two penalty weights next
to a plain :class:`~sklearn_ae.AutoencoderTransformer`, and measures how far the codes of
held-out digits move under small input changes, in absolute terms and relative to the
codes' own scale.
"""

# %%
# Three models on the 8x8 digits
# ------------------------------
# ``contraction_weight=0`` would be the plain autoencoder. The penalty is computed exactly
# (one backward pass per code unit), so a training step costs several times a plain one:
# compare the seconds per epoch (from skorch's history, ``history_``, which leaves out the
# set-up of each fit).
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neighbors import NearestNeighbors

from sklearn_ae import AutoencoderTransformer, ContractiveAutoencoder
from sklearn_ae.evaluation import reconstruction_mse

X = load_digits().data  # grey levels 0..16, 64 pixels
X_train, X_test = train_test_split(X, random_state=0)

models = {
    "plain": AutoencoderTransformer(n_components=16, max_epochs=50, random_state=0),
    "contractive 0.01": ContractiveAutoencoder(
        n_components=16, contraction_weight=0.01, max_epochs=50, random_state=0
    ),
    "contractive 0.1": ContractiveAutoencoder(
        n_components=16, contraction_weight=0.1, max_epochs=50, random_state=0
    ),
}
for name, model in models.items():
    model.fit(X_train)
    epoch_seconds = np.mean(model.history_[:, "dur"])
    print(f"{name:17s} {epoch_seconds:.3f} s per epoch, "
          f"held-out MSE {reconstruction_mse(model, X_test):.2f}")

# %%
# Two kinds of small change
# -------------------------
# Each held-out digit is moved by the same small distance (the norm of Gaussian noise of
# 0.5 grey level per pixel) in two ways:
#
# * **random**: in a random direction, which mostly points *off* the data, since digits
#   occupy only a thin region of the 64-d pixel space;
# * **towards a neighbour**: in the direction of its nearest training digit, a direction
#   in which the data do vary.
#
# For each model we measure how far the codes move, and the codes' *spread* (their root
# mean square distance to their centre), since a model can make its codes move less
# simply by making all of them smaller.
rng = np.random.RandomState(0)
random_step = rng.normal(scale=0.5, size=X_test.shape)
size = np.linalg.norm(random_step, axis=1, keepdims=True)
neighbour = X_train[NearestNeighbors(n_neighbors=1).fit(X_train).kneighbors(
    X_test, return_distance=False)[:, 0]]
towards = (neighbour - X_test) / np.linalg.norm(neighbour - X_test, axis=1, keepdims=True)
neighbour_step = towards * size

rows = {}
print("model              moved (random)  spread  moved/spread  towards/random")
for name, model in models.items():
    Z = model.transform(X_test)
    moved = np.linalg.norm(model.transform(X_test + random_step) - Z, axis=1).mean()
    moved_along = np.linalg.norm(model.transform(X_test + neighbour_step) - Z, axis=1).mean()
    spread = np.sqrt(((Z - Z.mean(axis=0)) ** 2).sum(axis=1).mean())
    rows[name] = (moved, moved / spread, moved_along / moved)
    print(f"{name:17s}  {moved:14.3f}  {spread:6.2f}  {moved / spread:12.4f}  "
          f"{moved_along / moved:14.2f}")

# %%
# What the penalty does
# ---------------------
fig, axes = plt.subplots(1, 3, figsize=(11, 3.2))
titles = ["codes moved by random noise", "... relative to the codes' spread",
          "movement towards a neighbour / random"]
for i, (ax, title) in enumerate(zip(axes, titles)):
    ax.bar(range(len(rows)), [values[i] for values in rows.values()],
           color=["C0", "C1", "C3"])
    ax.set_xticks(range(len(rows)), list(rows), fontsize=8)
    ax.set_title(title, fontsize=10)
axes[0].set_yscale("log")
axes[2].axhline(1, color="k", linewidth=0.8)
fig.tight_layout()

# %%
# * **In absolute terms the penalty works**: the codes of the contractive models move far
#   less under the same noise (left, on a log scale), the more so the larger the weight.
# * **Most of that is shrinking.** The codes' spread falls by a similar factor: nothing
#   stops the decoder from scaling small codes back up, so a smaller code overall is a
#   cheap way to a small Jacobian. Relative to their spread (middle), the codes move about
#   as much as the plain model's.
# * **The direction matters a little more.** The right panel compares movement towards a
#   neighbouring digit with movement in a random direction of the same size. A value above
#   1 means the codes follow the data's directions more than random ones; compare the
#   contractive models with the plain one to see how much the penalty adds to this.
# * **It costs reconstruction**: the held-out MSE printed first grows with the weight.
#
# So use the contractive penalty when something downstream is sensitive to the codes'
# *absolute* movement, and check on your own data, with measurements like these, whether
# it buys more than a rescaling. A :class:`~sklearn_ae.DenoisingAutoencoder` is the other
# route to robust codes: it learns robustness from corrupted examples instead.
plt.show()
