"""
======================================================
Denoising: gaussian noise, masking and salt-and-pepper
======================================================

A *denoising autoencoder* is trained to rebuild **clean** samples from **corrupted**
copies of them. Because the input is never exactly the target, it cannot learn to copy:
it has to learn what digits look like, and it can then clean up noisy ones.

:class:`~sklearn_ae.DenoisingAutoencoder` is fitted on clean data and corrupts each
minibatch itself, afresh at every step, with one of three kinds of noise (``noise=``):

* ``"gaussian"``: add Gaussian noise of standard deviation ``noise_level`` times the data's
  root mean square (``scale_``), clipped to the data's range;
* ``"masking"``: switch off (set to 0) a fraction ``noise_level`` of the pixels, the
  dropout or impulse noise of a dead sensor;
* ``"salt_and_pepper"``: set a fraction ``noise_level`` of the pixels to the darkest or the
  brightest value.

``denoise(X)`` then takes noisy rows and returns the clean reconstruction.
"""

# %%
# Fit one denoiser per kind of noise
# ----------------------------------
# Each model has a 32-unit code and one hidden layer of 256 units, and sees only the clean
# training digits. ``noise_level=None`` picks each kind's default level (0.5, 0.3, 0.2);
# for the gaussian noise we ask for 1.0 instead, for a reason explained below. The level
# used is ``noise_level_``.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.decomposition import PCA

from sklearn_ae import DenoisingAutoencoder
from sklearn_ae.evaluation import load_mnist_split, mse

X_train, X_test, _, _ = load_mnist_split(n_train=3000, n_test=500)

kinds = ["gaussian", "masking", "salt_and_pepper"]
levels = {"gaussian": 1.0, "masking": None, "salt_and_pepper": None}
models = {
    kind: DenoisingAutoencoder(
        n_components=32, noise=kind, noise_level=levels[kind], hidden_layer_sizes=(256,),
        max_epochs=30, random_state=0,
    ).fit(X_train)
    for kind in kinds
}
print({kind: dae.noise_level_ for kind, dae in models.items()})

# %%
# Corrupt the test digits the same way
# ------------------------------------
# The noise only exists during ``fit``; to try the models we corrupt held-out digits
# ourselves, following the definitions above.
rng = np.random.RandomState(0)


def corrupt(dae, X):
    level, low, high = dae.noise_level_, dae.data_min_, dae.data_max_
    if dae.noise == "gaussian":
        return np.clip(X + rng.normal(scale=level * dae.scale_, size=X.shape), low, high)
    hit = rng.rand(*X.shape) < level
    if dae.noise == "masking":
        return np.where(hit, 0.0, X)
    salt = rng.rand(*X.shape) < 0.5
    return np.where(hit, np.where(salt, high, low), X)


noisy = {kind: corrupt(dae, X_test).astype(np.float32) for kind, dae in models.items()}

# %%
# How much noise is removed?
# --------------------------
# We compare the error to the clean digits of the noisy input, of the denoiser's output,
# and of a simple baseline: projecting the noisy digits onto the 32 main PCA axes of the
# clean training digits (PCA removes noise that lies off those axes). The last column
# feeds the denoiser *clean* digits instead (``-score(X)`` is that reconstruction error).
pca = PCA(n_components=32, random_state=0).fit(X_train)
print("noise             noisy MSE  PCA(32) MSE  denoiser MSE  clean input")
for kind, dae in models.items():
    X_noisy = noisy[kind]
    pca_mse = mse(X_test, pca.inverse_transform(pca.transform(X_noisy)))
    print(f"{kind:16s}  {mse(X_test, X_noisy):9.4f}  {pca_mse:11.4f}  "
          f"{mse(X_test, dae.denoise(X_noisy)):12.4f}  {-dae.score(X_test):11.4f}")

# %%
# Compare each row's denoiser column with its noisy column (how much noise was removed)
# and with the PCA column: the denoiser has learned what this corruption does and how to
# undo it, where PCA only keeps what lies in a subspace of clean digits.
#
# The last column is no lower bound. A denoiser expects corrupted input: one trained on
# masking has learned to put back the ink that masking removes, and it adds that ink to
# clean digits too. Where that column is above the denoiser column, the model rebuilds
# noisy digits better than clean ones.
#
# Denoising pays only when the noise is strong enough
# ---------------------------------------------------
# Why level 1.0 for the gaussian noise? At the default level of 0.5 the noise is mild on
# these digits: most pixels are background at 0, and clipping to the data's range removes
# the negative half of their noise. A denoiser fitted at that level, with the same
# settings:
mild = DenoisingAutoencoder(
    n_components=32, noise="gaussian", hidden_layer_sizes=(256,), max_epochs=30,
    random_state=0,
).fit(X_train)
X_mild = corrupt(mild, X_test).astype(np.float32)
print(f"gaussian, level {mild.noise_level_}: noisy MSE {mse(X_test, X_mild):.4f}, "
      f"denoised MSE {mse(X_test, mild.denoise(X_mild)):.4f}")

# %%
# If the denoised error is the larger, the noisy input was already closer to the clean
# digits than the denoiser's output, and "denoising" made them worse. Check the noisy
# error of your own data against the denoised one before relying on a denoiser.
#
# Noisy, denoised and clean images
# --------------------------------
fig, axes = plt.subplots(7, 8, figsize=(7, 6.6))
rows = [(X_test, "clean")]
for kind, dae in models.items():
    rows += [(noisy[kind], f"{kind}\nnoisy"), (dae.denoise(noisy[kind]), "denoised")]
for row, (images, label) in enumerate(rows):
    for col in range(8):
        axes[row, col].imshow(images[col].reshape(28, 28), cmap="gray_r", vmin=0, vmax=1)
        axes[row, col].set_xticks([])
        axes[row, col].set_yticks([])
    axes[row, 0].set_ylabel(label, fontsize=8)
fig.tight_layout()

# %%
# A denoiser is trained for one kind of noise
# -------------------------------------------
# Each model learned to undo its own corruption. Feeding it another kind shows how much
# that matters: each row is a model, each column the noise of the test digits.
print("model \\ test noise  " + "  ".join(f"{kind:>15s}" for kind in kinds))
for name, dae in models.items():
    errors = [mse(X_test, dae.denoise(noisy[kind])) for kind in kinds]
    print(f"{name:19s} " + "  ".join(f"{e:15.4f}" for e in errors))

# %%
# The diagonal holds each model on its own noise. Off the diagonal, compare each column
# with its diagonal entry: a denoiser meeting an unfamiliar corruption generally does
# worse than one trained for it, so train with the kind of noise your data will have.
#
# A noise level you know, in the data's units
# -------------------------------------------
# ``noise_level`` counts in multiples of the data's root mean square, so one setting suits
# data of any scale. If you know your noise in the data's own units (here a standard
# deviation of 0.25 on pixels in [0, 1]), say so with ``noise_units="data"``, with no fit
# beforehand to learn ``scale_``. The training noise is clipped to the data's range either
# way, so the test digits are corrupted and clipped the same way.
known = DenoisingAutoencoder(
    n_components=32, noise_level=0.25, noise_units="data", hidden_layer_sizes=(256,),
    max_epochs=30, random_state=0,
).fit(X_train)
X_known = np.clip(X_test + rng.normal(scale=0.25, size=X_test.shape), 0, 1).astype(np.float32)
pca_known = mse(X_test, pca.inverse_transform(pca.transform(X_known)))
print(f"sigma 0.25 in data units = {0.25 / known.scale_:.2f} RMS units")
print(f"noisy MSE {mse(X_test, X_known):.4f}, PCA(32) {pca_known:.4f}, "
      f"denoised {mse(X_test, known.denoise(X_known)):.4f}")
plt.show()
