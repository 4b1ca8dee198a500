"""
=================================================
The variational autoencoder as a generative model
=================================================

A plain autoencoder maps each digit to a code, but says nothing about the codes *between*
the training digits: decode an arbitrary point and you may get garbage. A **variational
autoencoder** (VAE) fixes a distribution over the codes, the prior ``N(0, I)``, and trains
the encoder to map each digit to a small Gaussian cloud in that space and the decoder to
turn any likely point into a plausible digit. The model then *generates*: draw a point from
the prior, decode it, and you get a new digit.

:class:`~sklearn_ae.VAETransformer` is such a model with the transformer interface:
``transform`` gives the posterior mean of each sample's code, ``inverse_transform`` decodes
codes, and ``sample(n)`` draws new data from the prior. This example shows new digits, the
latent map of a 2-d VAE, and interpolation between two digits.
"""

# %%
# Fit a VAE on MNIST digits
# -------------------------
# ``loss="bce"`` uses a Bernoulli likelihood, the usual choice for pixels in [0, 1]; the
# decoder then outputs each pixel's probability of being on, which we show as a grey
# level. ``score`` is the mean evidence lower bound (ELBO) per digit, in nats: a lower
# bound on the model's log-likelihood of held-out digits, higher is better.
import matplotlib.pyplot as plt
import numpy as np
from scipy.stats import norm

from sklearn_ae import VAETransformer
from sklearn_ae.evaluation import load_mnist_split

X_train, X_test, y_train, y_test = load_mnist_split(n_train=3000, n_test=500)


def fit_vae(n_components):
    return VAETransformer(
        n_components=n_components, loss="bce", hidden_layer_sizes=(256,), max_epochs=25,
        random_state=0,
    ).fit(X_train)


vae = fit_vae(8)
print(f"8 latent units: held-out ELBO {vae.score(X_test):.1f} nats per digit "
      f"(epoch kept: {vae.best_epoch_} of {vae.n_iter_})")


def show_grid(images, n_rows, n_cols, ax):
    grid = images.reshape(n_rows, n_cols, 28, 28).transpose(0, 2, 1, 3)
    ax.imshow(grid.reshape(n_rows * 28, n_cols * 28), cmap="gray_r", vmin=0, vmax=1)
    ax.set_axis_off()


# %%
# New digits from the prior
# -------------------------
# ``sample(n, random_state=...)`` draws ``n`` points from ``N(0, I)`` and decodes them. No
# training digit is copied: each sample is the decoder's answer to a random point.
fig, ax = plt.subplots(figsize=(5, 5))
show_grid(vae.sample(64, random_state=0), 8, 8, ax)
ax.set_title("64 samples from the prior")

# %%
# The samples are blurry, as usual for a small VAE trained briefly: the decoder outputs
# the *mean* of each pixel, an average over the digits a code could stand for. Some are
# clear digits, some are ambiguous shapes between two classes.
#
# Interpolation between two digits
# --------------------------------
# Walking in a straight line between the codes of two held-out digits and decoding each
# step morphs one digit into the other, through shapes the decoder considers plausible.
# Fading the pixels from one image to the other (bottom row) only superimposes them.
a = X_test[np.flatnonzero(y_test == 3)[0]]
b = X_test[np.flatnonzero(y_test == 7)[0]]
t = np.linspace(0, 1, 9)[:, None]
z_a, z_b = vae.transform(np.stack([a, b]))
through_codes = vae.inverse_transform(((1 - t) * z_a + t * z_b).astype(np.float32))
through_pixels = (1 - t) * a + t * b

fig, axes = plt.subplots(2, 1, figsize=(8, 2.2))
show_grid(through_codes, 1, 9, axes[0])
axes[0].set_title("decoded along the line between the two codes", fontsize=9)
show_grid(through_pixels, 1, 9, axes[1])
axes[1].set_title("pixel-wise cross-fade", fontsize=9)
fig.tight_layout()

# %%
# The latent map of a 2-d VAE
# ---------------------------
# With two latent units the whole code space can be drawn. On the left, the posterior
# means (``transform``) of the held-out digits, coloured by their label, which the model
# never saw. On the right, the decoder over the same plane: a 12 x 12 grid of points
# spanning the region those codes occupy (their 2nd to 98th percentiles in each
# direction), decoded with ``inverse_transform``.
vae_2d = fit_vae(2)
print(f"2 latent units: held-out ELBO {vae_2d.score(X_test):.1f} nats per digit")
Z_test = vae_2d.transform(X_test)
print("standard deviation of the held-out codes per unit:", Z_test.std(axis=0).round(2))

n = 12
low, high = np.percentile(Z_test, [2, 98], axis=0)
u = np.linspace(low[0], high[0], n)
v = np.linspace(high[1], low[1], n)  # top row of the image = largest unit-1 value
plane = np.array([[ui, vi] for vi in v for ui in u], dtype=np.float32)

fig, (ax_map, ax_grid) = plt.subplots(1, 2, figsize=(10, 4.8))
points = ax_map.scatter(Z_test[:, 0], Z_test[:, 1], c=y_test, cmap="tab10", s=6)
ax_map.legend(*points.legend_elements(), title="digit", fontsize=7, loc="upper left")
q = norm.ppf(0.95)
ax_map.add_patch(plt.Rectangle((-q, -q), 2 * q, 2 * q, fill=False, linestyle="--"))
ax_map.set_xlim(low[0], high[0])
ax_map.set_ylim(low[1], high[1])
ax_map.set_xlabel("latent unit 0")
ax_map.set_ylabel("latent unit 1")
ax_map.set_title("posterior means of held-out digits")
show_grid(vae_2d.inverse_transform(plane), n, n, ax_grid)
ax_grid.set_title("decoder over the same region")
fig.tight_layout()

# %%
# Digits of one class gather in one region of the plane, and the decoder changes smoothly
# from one region to the next. Two units are too few to separate all ten classes (some
# regions overlap), and the 2-d model's ELBO is lower than the 8-d one's: a small latent
# space is good for drawing, a larger one for modelling.
#
# The dashed square holds 90% of each unit's prior mass (5% to 95% quantiles of
# ``N(0, 1)``). The codes printed above spread wider than the prior's standard deviation
# of 1: each digit's posterior is narrow, and the KL term of the ELBO tolerates codes
# spread beyond the prior. Samples drawn from this model's prior would therefore come
# mostly from the centre of the map, where the classes meet and the decoded shapes are
# ambiguous.
plt.show()
