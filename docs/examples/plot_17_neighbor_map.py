"""
====================================================
A neighbour-embedding map of MNIST, and its decoder
====================================================

:class:`~sklearn_ae.NeighborEmbeddingAutoencoder` trains its encoder on a neighbour
embedding objective (by default t-SNE's kernel in a contrastive loss, or UMAP's): rows that
are near neighbours in pixel space should be near on the map, and other rows should not.
A decoder is trained beside it, so that every point of the map decodes back to an image.
This example draws the map of held-out MNIST digits beside PCA's and the plain
autoencoder's, fits a supervised map, then decodes a grid of points of the map back to
images.
"""

# %%
# Three 2-d maps
# --------------
# All three are fitted on the same 3000 training digits, without labels, and map 500
# held-out digits; each point is coloured by its digit, a label none of them sees.
import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.decomposition import PCA
from sklearn.manifold import trustworthiness

from sklearn_ae import AutoencoderTransformer, NeighborEmbeddingAutoencoder
from sklearn_ae.evaluation import knn_accuracy, load_mnist_split

X_train, X_test, y_train, y_test = load_mnist_split(n_train=3000, n_test=500)

methods = {
    "PCA": PCA(n_components=2),
    "autoencoder": AutoencoderTransformer(2, hidden_layer_sizes=(256,), max_epochs=20,
                                          random_state=0),
    "neighbour embedding": NeighborEmbeddingAutoencoder(random_state=0),
}

fig, axes = plt.subplots(1, 3, figsize=(13, 4.4))
print("method               kNN-5  trustworthiness  fit s")
for ax, (name, method) in zip(axes, methods.items()):
    start = time.perf_counter()
    Z_train = method.fit_transform(X_train)
    seconds = time.perf_counter() - start
    Z_test = method.transform(X_test)
    accuracy = knn_accuracy(Z_train, y_train, Z_test, y_test)
    trust = trustworthiness(X_test, Z_test, n_neighbors=5)
    print(f"{name:20s} {accuracy:5.3f}  {trust:15.3f}  {seconds:5.1f}")
    points = ax.scatter(Z_test[:, 0], Z_test[:, 1], c=y_test, cmap="tab10", s=6)
    ax.set_title(f"{name}: kNN-5 {accuracy:.2f}, trust. {trust:.2f}")
    ax.set_xticks([])
    ax.set_yticks([])
axes[-1].legend(*points.legend_elements(), title="digit", fontsize=7,
                loc="center left", bbox_to_anchor=(1, 0.5))
fig.tight_layout()

# %%
# The map's own score
# -------------------
# ``score`` is the trustworthiness of the map of the rows it is given (k=5 by default,
# ``score_neighbors``): the number a grid search over ``n_neighbors`` or ``min_dist``
# maximises, since the training loss itself changes meaning with them.
nea = methods["neighbour embedding"]
print(f"score on the held-out digits: {nea.score(X_test):.3f}")

# %%
# Decoding the map
# ----------------
# ``inverse_transform`` decodes any point of the map. A regular grid over the map's
# extent, decoded, shows what each region stands for; points between clusters decode to
# blends of their neighbours' digits.
Z_test = nea.transform(X_test)
(x0, y0), (x1, y1) = np.percentile(Z_test, [2, 98], axis=0)
n = 12
grid = np.array([[x, y] for y in np.linspace(y1, y0, n) for x in np.linspace(x0, x1, n)])
images = nea.inverse_transform(grid.astype(np.float32)).reshape(n, n, 28, 28)
montage = images.transpose(0, 2, 1, 3).reshape(n * 28, n * 28)

fig, (left, right) = plt.subplots(1, 2, figsize=(11, 5.2))
left.scatter(Z_test[:, 0], Z_test[:, 1], c=y_test, cmap="tab10", s=6)
left.scatter(grid[:, 0], grid[:, 1], c="k", s=3, marker="+")
left.set_title("held-out digits and the decoded grid (+)")
left.set_xticks([])
left.set_yticks([])
right.imshow(montage, cmap="gray_r", extent=(x0, x1, y0, y1), aspect="auto")
right.set_title("the grid decoded by inverse_transform")
right.set_xticks([])
right.set_yticks([])
fig.tight_layout()

# %%
# A map that has seen the labels
# ------------------------------
# With ``target_weight`` set (0.5, umap-learn's default), ``fit(X, y)`` with class labels
# weakens the graph's edges between rows of different classes before training (UMAP's
# supervised mode), so each class is pulled together. The
# held-out digits are still mapped by ``transform`` alone, without their labels. (``-1``
# marks unlabeled rows; with only one training label in ten, the map was no better than
# the unsupervised one here: held-out kNN-5 0.842 against 0.856.)
supervised = NeighborEmbeddingAutoencoder(target_weight=0.5, random_state=0)
supervised.fit(X_train, y_train)
Z_supervised = supervised.transform(X_test)
accuracy = knn_accuracy(supervised.transform(X_train), y_train, Z_supervised, y_test)
print(f"supervised map: held-out kNN-5 {accuracy:.3f}")

fig, ax = plt.subplots(figsize=(5, 4.4))
ax.scatter(Z_supervised[:, 0], Z_supervised[:, 1], c=y_test, cmap="tab10", s=6)
ax.set_title(f"supervised map, held-out digits: kNN-5 {accuracy:.2f}")
ax.set_xticks([])
ax.set_yticks([])
fig.tight_layout()

# %%
# Reading the maps
# ----------------
# PCA piles most classes on top of each other; the plain autoencoder, trained only to
# rebuild each digit from two numbers, pulls some apart. The neighbour embedding is trained
# for what the maps are judged on, neighbourhoods, and separates the classes more sharply,
# while its decoder still turns the map back into images. UMAP and t-SNE, which place each
# training row freely, keep neighbourhoods a little better on the full split (see the
# benchmark on :doc:`/neighbor_embedding`); unlike them, the map's ``transform`` of new
# rows is one pass through the encoder, and it decodes.
plt.show()
