"""
========================================
Anomaly detection with ``score_samples``
========================================

An autoencoder trained on normal data rebuilds normal samples well and unfamiliar ones
badly, so its reconstruction error is an anomaly score. ``score_samples(X)`` returns, for
each row, minus its mean squared reconstruction error (higher means more normal, as for
scikit-learn's outlier detectors), so ``-score_samples(X)`` ranks anomalies. For
:class:`~sklearn_ae.VAETransformer`, ``score_samples`` is each row's ELBO, a lower bound
on its log-likelihood under the model: again, low means unusual.

Here the "normal" data are MNIST digits without any 4, and the anomalies we look for are
the 4s: a realistic, hard case, since a 4 is made of the same strokes as the other digits.
"""

# %%
# Train on digits without 4s
# --------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.decomposition import PCA
from sklearn.metrics import roc_auc_score

from sklearn_ae import AutoencoderTransformer, VAETransformer
from sklearn_ae.evaluation import load_mnist_split

X_train, X_test, y_train, y_test = load_mnist_split(n_train=3300, n_test=1000)
X_normal = X_train[y_train != 4]
is_four = y_test == 4
print(f"{len(X_normal)} training digits, no 4s; {len(X_test)} test digits, "
      f"{is_four.sum()} of them 4s")

common = dict(n_components=16, hidden_layer_sizes=(256,), max_epochs=20, random_state=0)
ae = AutoencoderTransformer(**common).fit(X_normal)
vae = VAETransformer(loss="bce", **common).fit(X_normal)
pca = PCA(n_components=16).fit(X_normal)

# %%
# How well does each score separate the 4s?
# -----------------------------------------
# The area under the ROC curve (AUROC) is the chance that a random 4 gets a higher
# anomaly score than a random other digit: 0.5 is guessing, 1 a perfect ranking. As a
# baseline, PCA's reconstruction error with the same 16 components.
anomaly_scores = {
    "PCA, reconstruction error": np.mean(
        (pca.inverse_transform(pca.transform(X_test)) - X_test) ** 2, axis=1
    ),
    "autoencoder, -score_samples": -ae.score_samples(X_test),
    "VAE, -score_samples (ELBO)": -vae.score_samples(X_test),
}
for name, score in anomaly_scores.items():
    print(f"{name:30s} AUROC {roc_auc_score(is_four, score):.3f}")

# %%
# No score is perfect: many 4s look enough like 9s that a model of the other digits
# rebuilds them well. The ELBO measures something different from the reconstruction
# error (a likelihood also rewards simple images with few ink pixels), so the two network
# scores need not rank the same rows first.
#
# Choosing a threshold
# --------------------
# In practice you flag the rows whose score passes a threshold. Without labelled
# anomalies, a common choice is a quantile of the scores of the training data: here we
# accept that 2% of normal training digits would be flagged.
train_error = -ae.score_samples(X_normal)
threshold = np.quantile(train_error, 0.98)
flagged = -ae.score_samples(X_test) > threshold
print(f"threshold (98th percentile of training errors): {threshold:.4f}")
print(f"flagged: {flagged[is_four].mean():.1%} of the 4s, "
      f"{flagged[~is_four].mean():.1%} of the other test digits")

fig, ax = plt.subplots(figsize=(6, 3.5))
bins = np.linspace(0, np.quantile(anomaly_scores["autoencoder, -score_samples"], 0.995), 40)
ax.hist(-ae.score_samples(X_test[~is_four]), bins=bins, alpha=0.6, density=True,
        label="other digits")
ax.hist(-ae.score_samples(X_test[is_four]), bins=bins, alpha=0.6, density=True, label="4s")
ax.axvline(threshold, color="k", linestyle="--", label="threshold")
ax.set_xlabel("reconstruction error, -score_samples")
ax.set_ylabel("density")
ax.legend()
fig.tight_layout()

# %%
# The two histograms overlap: any threshold trades missed 4s against false alarms.
# Held-out normal digits are also flagged somewhat more often than the 2% chosen on the
# training digits, which the model has seen.
#
# The most and least anomalous test digits
# ----------------------------------------
# The ranking itself is often more useful than a threshold: inspect the top of the list.
error = -ae.score_samples(X_test)
order = np.argsort(error)
fig, axes = plt.subplots(2, 10, figsize=(9, 2.3))
for ax, i in zip(axes[0], order[::-1][:10]):
    ax.imshow(X_test[i].reshape(28, 28), cmap="gray_r")
    ax.set_title(f"{y_test[i]}", fontsize=9, color="C3" if is_four[i] else "k")
for ax, i in zip(axes[1], order[:10]):
    ax.imshow(X_test[i].reshape(28, 28), cmap="gray_r")
    ax.set_title(f"{y_test[i]}", fontsize=9)
for ax in axes.flat:
    ax.axis("off")
axes[0, 0].text(-12, 14, "most\nanomalous", ha="right", va="center", fontsize=9)
axes[1, 0].text(-12, 14, "most\nnormal", ha="right", va="center", fontsize=9)
fig.tight_layout()

# %%
# The titles are the true labels (4s in red). The top of the ranking holds 4s and also
# unusual examples of the other digits, badly written or thick ones: an autoencoder
# flags whatever it rebuilds badly, which is not always what you call an anomaly. The
# most normal digits are mostly simple ones such as 1s, which are easy to rebuild.
plt.show()
