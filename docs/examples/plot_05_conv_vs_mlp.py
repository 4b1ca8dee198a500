"""
=========================================================
A convolutional autoencoder against a fully connected one
=========================================================

A fully connected (MLP) encoder treats an image as a list of unrelated numbers: it would
learn the same thing if the pixels were shuffled. A **convolutional** encoder slides small
filters over the image, so it knows which pixels are neighbours and reuses the same
weights at every position. That usually means far fewer weights for the same job, at the
price of more arithmetic per weight.

``architecture="conv"`` with ``image_shape=(height, width)`` swaps the fully connected
networks for stride-2 3x3 convolutions (each halving the image) and mirrored transposed
convolutions; ``hidden_layer_sizes`` then gives their numbers of channels. This example
compares a small convolutional autoencoder with two MLPs on MNIST digits: held-out error,
number of weights and fit time, with the same code size and training budget.
"""

# %%
# Data and models
# ---------------
# Rows stay flattened images (28 * 28 = 784 pixels in C order); ``image_shape`` tells the
# estimator how to fold them back. All models have a 16-unit code, start at PCA (the
# default ``init="pca"``: the network paths learn what PCA misses) and train for 15 epochs
# in minibatches of 64 (with 900 training rows, after early stopping's validation tenth,
# the default of 256 would give only four steps per epoch).
import time

import matplotlib.pyplot as plt
from sklearn.decomposition import PCA

from sklearn_ae import AutoencoderTransformer
from sklearn_ae.evaluation import load_mnist_split, reconstruction_mse

X_train, X_test, _, _ = load_mnist_split(n_train=1000, n_test=500)

candidates = {
    "conv, channels (8, 16)": dict(
        architecture="conv", image_shape=(28, 28), hidden_layer_sizes=(8, 16)
    ),
    "MLP, (32,)": dict(hidden_layer_sizes=(32,)),
    "MLP, (256,)": dict(hidden_layer_sizes=(256,)),
}

pca = PCA(n_components=16).fit(X_train)
print(f"{'PCA':24s} held-out MSE {reconstruction_mse(pca, X_test):.4f}")
models = {}
for name, params in candidates.items():
    ae = AutoencoderTransformer(
        n_components=16, max_epochs=15, batch_size=64, random_state=0, **params
    )
    start = time.perf_counter()
    ae.fit(X_train)
    seconds = time.perf_counter() - start
    n_weights = sum(p.numel() for p in ae.net_.module_.parameters())
    models[name] = ae
    print(f"{name:24s} held-out MSE {reconstruction_mse(ae, X_test):.4f}   "
          f"{n_weights:7d} weights   fit {seconds:5.1f} s")

# %%
# ``image_shape_`` is the image in torch's order ``(channels, height, width)``, and
# ``net_.module_`` the torch network, where the convolutions can be inspected:
conv = models["conv, channels (8, 16)"]
print(conv.image_shape_)
print(conv.net_.module_.encoder.nonlinear)

# %%
# What the table shows
# --------------------
# * **Weights.** Each convolution has only 3 x 3 x (channels in) x (channels out) weights,
#   whatever the image size. Most of the convolutional model's weights sit in the
#   784-pixel linear PCA path and in the dense layer between the last feature map and the
#   code.
# * **Error per weight.** Compare the convolutional model with the MLP of a similar size:
#   this measures what knowing the neighbourhood of each pixel is worth.
# * **Time.** Convolutions cost many more operations per weight than a dense layer, and on
#   a CPU they are much slower to train: compare the fit times. A wide MLP trained for the
#   same time may well reconstruct better; convolutions pay off on larger images, with
#   more channels and more epochs, and on a GPU.
#
# Reconstructions
# ---------------
fig, axes = plt.subplots(5, 8, figsize=(7, 4.8))
rows = [("original", X_test[:8]), ("PCA", pca.inverse_transform(pca.transform(X_test[:8])))]
rows += [(name, ae.reconstruct(X_test[:8])) for name, ae in models.items()]
for row, (name, images) in enumerate(rows):
    for col in range(8):
        axes[row, col].imshow(images[col].reshape(28, 28), cmap="gray_r", vmin=0, vmax=1)
        axes[row, col].set_xticks([])
        axes[row, col].set_yticks([])
    axes[row, 0].set_ylabel(name.replace(", ", "\n", 1), fontsize=8)
fig.tight_layout()
plt.show()
