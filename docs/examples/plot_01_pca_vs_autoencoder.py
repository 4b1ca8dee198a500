"""
=================================================
An undercomplete autoencoder as a drop-in for PCA
=================================================

An *undercomplete* autoencoder squeezes each sample through a code of ``n_components``
numbers, fewer than the input has, and learns to rebuild the sample from that code. PCA
does the same with a linear map; the autoencoder's encoder and decoder are small neural
networks, so it can follow a curved data cloud that a flat subspace cuts through.

:class:`~sklearn_ae.AutoencoderTransformer` has PCA's interface, so it replaces ``PCA``
in a pipeline without other changes. This example does exactly that on handwritten digits,
then compares the two as dimensionality reducers: reconstructions side by side, and the
held-out reconstruction error as the code size ``k`` grows.
"""

# %%
# Data: a small slice of MNIST
# ----------------------------
# The package ships 10,000 real MNIST digits (no download). We use 2000 for training and
# 500 held-out ones for every measurement; pixels are in [0, 1].
import time

import matplotlib.pyplot as plt
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_ae import AutoencoderTransformer
from sklearn_ae.evaluation import load_mnist_split, reconstruction_mse

X_train, X_test, y_train, y_test = load_mnist_split(n_train=2000, n_test=500)
print(X_train.shape, X_test.shape)

# %%
# Swap PCA for an autoencoder in a pipeline
# -----------------------------------------
# The only change to a ``PCA -> classifier`` pipeline is the first step. The autoencoder
# ignores ``y``: it is fitted on the pixels alone, exactly like PCA, and the classifier
# sees its codes (standardised first: like PCA's scores, the codes have unequal spreads).
# ``hidden_layer_sizes=(128,)`` (one hidden layer of 128 units on each side) and
# ``max_epochs=20`` keep this example fast; the defaults train a larger network for
# longer.
k = 16


def make_ae(n_components):
    return AutoencoderTransformer(
        n_components=n_components, hidden_layer_sizes=(128,), max_epochs=20, random_state=0
    )


pipelines = {
    "PCA": make_pipeline(
        PCA(n_components=k, random_state=0), StandardScaler(), LogisticRegression()
    ),
    "autoencoder": make_pipeline(make_ae(k), StandardScaler(), LogisticRegression()),
}
for name, pipe in pipelines.items():
    start = time.perf_counter()
    pipe.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    print(f"{name:12s} k={k}: test accuracy {pipe.score(X_test, y_test):.3f} "
          f"(fit {seconds:.1f} s)")

# %%
# The autoencoder takes far longer to fit than PCA. With the default ``init="pca"`` it
# *starts* at the PCA solution and early stopping keeps the best weights seen on a
# held-out tenth of the training data, the PCA start included; ``best_epoch_`` says which
# epoch was kept (0 would mean PCA itself).
pca, ae = pipelines["PCA"][0], pipelines["autoencoder"][0]
print(f"epochs run: {ae.n_iter_}, epoch kept: {ae.best_epoch_}")
print(f"variance of the training rows kept: autoencoder "
      f"{ae.train_explained_variance_ratio_:.3f}, PCA {pca.explained_variance_ratio_.sum():.3f}")

# %%
# Reconstructions side by side
# ----------------------------
# ``inverse_transform(transform(X))`` rebuilds images from their 16 numbers, in the units
# of the data, for both models.
X_pca = pca.inverse_transform(pca.transform(X_test[:8]))
X_ae = ae.inverse_transform(ae.transform(X_test[:8]))

fig, axes = plt.subplots(3, 8, figsize=(8, 3.3))
for row, (images, label) in enumerate(
    [(X_test[:8], "original"), (X_pca, f"PCA, k={k}"), (X_ae, f"AE, k={k}")]
):
    for col in range(8):
        ax = axes[row, col]
        ax.imshow(images[col].reshape(28, 28), cmap="gray_r", vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
    axes[row, 0].set_ylabel(label, fontsize=9)
fig.suptitle("Held-out digits and their reconstructions")
fig.tight_layout()

# %%
# Held-out error as the code grows
# --------------------------------
# :func:`~sklearn_ae.evaluation.reconstruction_mse` is the mean squared error between the
# held-out images and their reconstructions. We fit both models at several code sizes
# (reusing the pipeline's autoencoder for k=16).
ks = [2, 4, 8, 16, 32]
errors = {"PCA": [], "autoencoder": []}
for n in ks:
    errors["PCA"].append(reconstruction_mse(PCA(n_components=n).fit(X_train), X_test))
    model = ae if n == k else make_ae(n).fit(X_train)
    errors["autoencoder"].append(reconstruction_mse(model, X_test))

print(" k   PCA MSE   AE MSE   AE / PCA")
for n, e_pca, e_ae in zip(ks, errors["PCA"], errors["autoencoder"]):
    print(f"{n:2d}   {e_pca:.4f}    {e_ae:.4f}   {e_ae / e_pca:.2f}")

fig, ax = plt.subplots(figsize=(5, 3.5))
for name, marker in [("PCA", "o"), ("autoencoder", "s")]:
    ax.plot(ks, errors[name], marker=marker, label=name)
ax.set_xscale("log", base=2)
ax.set_xticks(ks, [str(n) for n in ks])
ax.set_xlabel("code size k (n_components)")
ax.set_ylabel("held-out reconstruction MSE")
ax.legend()
fig.tight_layout()

# %%
# The printed ratios are what to read here. Since the autoencoder starts at PCA and keeps
# its best epoch on its validation rows, it does at least as well as PCA on those rows;
# on new data that is an estimate, so a ratio slightly above 1 is possible where training
# helps little. Whether the gain is worth the fit time is a question for
# your data: ``python -m sklearn_ae compare --data your.csv`` measures both.
plt.show()
