"""
===============================================
Visualising MNIST in 2-d: PCA, autoencoder, VAE
===============================================

Squeezing 784 pixels into 2 numbers per image gives a map of the data set that can be
drawn. How much of the data's structure survives depends on the method. This example maps
held-out MNIST digits with PCA, with a plain autoencoder and with a variational
autoencoder, colours each point by its digit (a label none of the methods sees), and
measures how well the 2-d codes keep digits of one class together.
"""

# %%
# Three 2-d maps
# --------------
# All three are fitted on the same 3000 training digits, without labels, and map 500
# held-out digits. Both networks have one hidden layer of 256 units and start at PCA
# (``init="pca"``; for the VAE, at probabilistic PCA); ``transform`` of the VAE is the
# posterior mean.
import matplotlib.pyplot as plt
from sklearn.decomposition import PCA
from sklearn.manifold import trustworthiness

from sklearn_ae import AutoencoderTransformer, VAETransformer
from sklearn_ae.evaluation import knn_accuracy, load_mnist_split

X_train, X_test, y_train, y_test = load_mnist_split(n_train=3000, n_test=500)

common = dict(n_components=2, hidden_layer_sizes=(256,), max_epochs=30, random_state=0)
methods = {
    "PCA": PCA(n_components=2),
    "autoencoder": AutoencoderTransformer(**common),
    "VAE": VAETransformer(**common),
}

# %%
# Measuring the maps
# ------------------
# * :func:`~sklearn_ae.evaluation.knn_accuracy`: a 5-nearest-neighbour classifier fitted
#   on the 2-d codes of the training digits, scored on the held-out ones. It asks whether
#   a digit's neighbours on the map share its label (chance: about 0.1).
# * :func:`~sklearn.manifold.trustworthiness` (5 neighbours): whether digits that are
#   neighbours on the map were also neighbours in pixel space (1 is perfect).
fig, axes = plt.subplots(1, 3, figsize=(13, 4.4))
print("method        kNN-5 accuracy  trustworthiness")
for ax, (name, method) in zip(axes, methods.items()):
    Z_train = method.fit_transform(X_train)
    Z_test = method.transform(X_test)
    accuracy = knn_accuracy(Z_train, y_train, Z_test, y_test)
    trust = trustworthiness(X_test, Z_test, n_neighbors=5)
    print(f"{name:12s}  {accuracy:14.3f}  {trust:15.3f}")
    points = ax.scatter(Z_test[:, 0], Z_test[:, 1], c=y_test, cmap="tab10", s=6)
    ax.set_title(f"{name}: kNN-5 accuracy {accuracy:.2f}")
    ax.set_xticks([])
    ax.set_yticks([])
axes[-1].legend(*points.legend_elements(), title="digit", fontsize=7,
                loc="center left", bbox_to_anchor=(1, 0.5))
fig.tight_layout()

# %%
# Reading the maps
# ----------------
# PCA's two directions of largest variance separate a few classes (ones from zeros, for
# instance) and pile the others on top of each other. The two networks start from that
# same map and bend it: classes that PCA overlaps move apart, which the kNN accuracy
# measures. The autoencoder is trained to rebuild each digit from its two numbers; the
# VAE is trained to do so from a noisy code while its KL term pulls the codes towards a
# standard normal cloud, so that every region of its map decodes to a plausible digit
# (see the VAE example). Compare the two networks' scores: that pull need not cost much
# separation. Small differences between them can even flip with the number of CPU
# threads, which changes the order of floating-point sums and so the fitted weights.
#
# Neither network is told about the labels: any class structure in its map comes from
# what it takes to reconstruct the pixels. For a 2-d *picture* of a data set,
# neighbour-embedding methods such as t-SNE or UMAP usually separate classes more
# sharply; the autoencoders' advantages are elsewhere: a ``transform`` for new data, an
# ``inverse_transform`` back to images, and a fit that scales to more data.
plt.show()
