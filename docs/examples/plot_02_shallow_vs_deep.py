"""
==============================================
Shallow or stacked: choosing the encoder depth
==============================================

``hidden_layer_sizes`` sets the widths of the encoder's hidden layers; the decoder mirrors
them. ``()`` means no hidden layer at all, ``(256,)`` one layer (a *shallow* autoencoder),
``(256, 128, 64)`` three layers (a *stacked* or *deep* one). Without a hidden layer, encoder
and decoder are linear maps, and the best a linear autoencoder can do is PCA's subspace;
each hidden layer adds a non-linearity, and with it the ability to bend the code around
curved data.

This example fits the same 8-unit code with several depths on MNIST digits and compares
the held-out reconstruction error, the number of weights, the fit time and the learning
curves.
"""

# %%
# The models
# ----------
# Every model starts at the PCA solution (the default ``init="pca"``) and trains for at
# most 30 epochs with early stopping, which keeps the best epoch seen on a held-out tenth
# of the training rows. ``precision="float32"`` makes the timings comparable across CPUs.
import time

import matplotlib.pyplot as plt
from sklearn.decomposition import PCA

from sklearn_ae import AutoencoderTransformer
from sklearn_ae.evaluation import load_mnist_split, reconstruction_mse

X_train, X_test, _, _ = load_mnist_split(n_train=2000, n_test=500)

architectures = [(), (64,), (256,), (256, 64), (256, 128, 64)]
pca_mse = reconstruction_mse(PCA(n_components=8).fit(X_train), X_test)
print(f"PCA, k=8: held-out MSE {pca_mse:.4f}\n")
print("hidden_layer_sizes   weights  fit s  epoch kept  held-out MSE  / PCA")

models = {}
for sizes in architectures:
    ae = AutoencoderTransformer(
        n_components=8, hidden_layer_sizes=sizes, max_epochs=30, precision="float32",
        random_state=0,
    )
    start = time.perf_counter()
    ae.fit(X_train)
    seconds = time.perf_counter() - start
    n_weights = sum(p.numel() for p in ae.net_.module_.parameters())
    mse = reconstruction_mse(ae, X_test)
    models[sizes] = ae
    print(f"{str(sizes):18s} {n_weights:8d}  {seconds:5.1f}  {ae.best_epoch_:10d}"
          f"  {mse:12.4f}  {mse / pca_mse:5.2f}")

# %%
# Reading the table
# -----------------
# * With ``()`` the network is linear. It starts at PCA, which is already the best linear
#   solution, so training has nothing to gain: minibatch steps can only move it off that
#   optimum (its learning curve below stays above where it started), and early stopping
#   keeps epoch 0, the PCA start, for a ratio of 1.
# * One hidden layer gives most of the gain over PCA.
# * Extra layers add weights and time; whether they also lower the error, and by how much,
#   is what the last column measures on this small training set (2000 images, at most 30
#   epochs). A deeper network usually needs more data and more epochs to pay off.
#
# ``ae.net_.module_`` is the underlying torch module; counting its parameters gives the
# ``weights`` column (the linear PCA path is included in every model).
#
# Learning curves
# ---------------
# ``validation_loss_curve_`` holds the loss on the held-out validation rows after each
# epoch (in the estimator's scaled units). Comparing the curves shows how fast each depth
# learns and whether it was still improving when training stopped.
fig, ax = plt.subplots(figsize=(5.5, 3.8))
for sizes, ae in models.items():
    ax.plot(range(1, ae.n_iter_ + 1), ae.validation_loss_curve_, label=str(sizes))
ax.set_xlabel("epoch")
ax.set_ylabel("validation loss (scaled MSE)")
ax.set_title("hidden_layer_sizes, code size 8")
ax.legend(title="hidden_layer_sizes", fontsize=8)
fig.tight_layout()

# %%
# ``hidden_layer_sizes=None`` (the default) picks two layers from the data's shape, here
# (512, 256) for 784 pixels: a sensible start when you have more data and time than in
# this example. Tune it like any other hyper-parameter, for example with ``GridSearchCV``
# and the transformer's own ``score`` (see the grid-search example).
plt.show()
