"""
=================================================
Reconstruction losses compared: MSE, BCE and SSIM
=================================================

What an autoencoder learns depends on how its reconstructions are scored in training.
:class:`~sklearn_ae.AutoencoderTransformer` offers three losses (``loss=``):

* ``"mse"``: the mean squared error per pixel. Every pixel counts alike, and the best
  guess for an uncertain pixel is the average of its possible values, hence blur.
* ``"bce"``: binary cross-entropy, which treats each pixel in [0, 1] as the probability of
  ink. It punishes confident mistakes hard (a dark pixel predicted white) and gives the
  decoder a sigmoid output; the data must lie in [0, 1].
* ``"ssim"``: ``1 - SSIM`` plus a small MSE term, where SSIM, the *structural similarity*
  index, compares local means, contrasts and correlations in windows of the image, closer
  to what a person sees than pixel-wise errors. It needs ``image_shape``.

This example trains one model per loss on the same digits and scores every model with all
three measures.
"""

# %%
# One model per loss
# ------------------
# Same data, code size, network and training budget (20 epochs); only ``loss`` changes.
# ``image_shape`` is only needed by ``"ssim"``; the other two ignore it here.
import time

import matplotlib.pyplot as plt
import torch
from pytorch_msssim import ssim

from sklearn_ae import AutoencoderTransformer
from sklearn_ae.evaluation import load_mnist_split, mse

X_train, X_test, _, _ = load_mnist_split(n_train=2000, n_test=500)

models = {}
for loss in ("mse", "bce", "ssim"):
    start = time.perf_counter()
    models[loss] = AutoencoderTransformer(
        n_components=16, loss=loss, image_shape=(28, 28), hidden_layer_sizes=(256,),
        max_epochs=20, random_state=0,
    ).fit(X_train)
    print(f'loss="{loss}": fit in {time.perf_counter() - start:.1f} s')

# %%
# Three ways to score a reconstruction
# ------------------------------------
# The same three measures on the held-out digits, for every model: the MSE per pixel,
# the binary cross-entropy per pixel (lower is better for both) and the mean SSIM per image
# (from the ``pytorch_msssim`` package the estimator uses, on the 0..1 scale, 11-pixel
# window; higher is better, 1 is identical).


def bce(X, X_hat, eps=1e-6):
    X_hat = torch.as_tensor(X_hat).clamp(eps, 1 - eps)
    return torch.nn.functional.binary_cross_entropy(X_hat, torch.as_tensor(X)).item()


def mean_ssim(X, X_hat):
    def images(A):
        return torch.as_tensor(A, dtype=torch.float32).reshape(-1, 1, 28, 28)

    return ssim(images(X_hat), images(X), data_range=1.0).item()


reconstructions = {loss: ae.reconstruct(X_test) for loss, ae in models.items()}
print("trained with   MSE      BCE     SSIM")
for loss, X_hat in reconstructions.items():
    print(f"{loss:12s} {mse(X_test, X_hat):.4f}  {bce(X_test, X_hat):.4f}  "
          f"{mean_ssim(X_test, X_hat):.4f}")

# %%
# One might expect each model to win on the measure it was trained on. Read the table
# column by column rather than assume it: a loss is also an optimisation problem, and at a
# small budget the one that *trains fastest* can win on other measures too. Binary
# cross-entropy has strong gradients exactly where a pixel is confidently wrong (ink
# predicted as paper), which suits mostly black-and-white digits; SSIM has weak gradients
# in flat regions and costs more per step (compare the fit times above), so its model
# may not reach the best SSIM in 20 epochs. Train longer, or check on your own images,
# before concluding that a loss does not work.
#
# Reconstructions
# ---------------
# By eye: look at the sharpness of the strokes and at the grey haze around them. The
# ``"bce"`` model's sigmoid output cannot leave [0, 1]; the others can, slightly.
fig, axes = plt.subplots(4, 8, figsize=(7, 4))
rows = [("original", X_test)] + [(f'loss="{loss}"', X) for loss, X in reconstructions.items()]
for row, (name, images) in enumerate(rows):
    for col in range(8):
        axes[row, col].imshow(images[col].reshape(28, 28), cmap="gray_r", vmin=0, vmax=1)
        axes[row, col].set_xticks([])
        axes[row, col].set_yticks([])
    axes[row, 0].set_ylabel(name, fontsize=8)
fig.tight_layout()

# %%
# Which loss to choose? Use the one that matches how reconstructions will be judged: MSE
# for numbers (and ``score``, which is always minus the MSE), BCE for images of ink on
# paper, SSIM when a person will look at the images. For tabular data only ``"mse"``
# makes sense (and ``"bce"`` for features in [0, 1]).
plt.show()
