"""
=========================================================
Pretraining a classifier when only a few rows have labels
=========================================================

Labels are expensive, pixels are cheap. An autoencoder learns from the pixels alone, so it
can be *pretrained* on every row, and a classifier then learns from the few labeled rows on
top of its encoder. :class:`~sklearn_ae.AutoencoderClassifier` does both in one ``fit``,
with scikit-learn's semi-supervised convention: rows whose label is ``-1`` are unlabeled.
Every row pretrains the autoencoder; the labeled rows train a head on its codes and
fine-tune the encoder, while the unlabeled rows keep shaping it through a consistency term
(a row's prediction must not change when noise is added to it).

This example measures what that buys on scikit-learn's handwritten digits with 20 to 200
labels, against a logistic regression that only sees the labeled pixels.
"""

# %%
# Data: digits, most of them unlabeled
# ------------------------------------
# 1797 images of 8 x 8 pixels (grey levels 0 to 16), shipped with scikit-learn: 1347 for
# training, 450 held out for every measurement.
import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from sklearn_ae import AutoencoderClassifier, AutoencoderTransformer

X, y = load_digits(return_X_y=True)
X = X.astype(np.float32)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=450, random_state=0)


def few_labels(n_labeled, seed=0):
    """``y_train`` with all but ``n_labeled`` rows (drawn stratified by class) set to -1."""
    _, labeled = train_test_split(
        np.arange(len(y_train)), test_size=n_labeled, stratify=y_train, random_state=seed
    )
    y_semi = np.full_like(y_train, -1)
    y_semi[labeled] = y_train[labeled]
    return y_semi


y_semi = few_labels(50)
print(f"{np.sum(y_semi != -1)} labeled rows, {np.sum(y_semi == -1)} unlabeled")

# %%
# Pretrain once, fine-tune for each number of labels
# --------------------------------------------------
# ``AutoencoderClassifier()`` pretrains its own autoencoder on every row passed to ``fit``.
# Here the same unlabeled pixels serve several label budgets, so we pretrain one
# autoencoder and hand it over as ``FrozenEstimator(pretrained)``: scikit-learn's way to
# say *already fitted, do not refit*. The classifier copies its network and fine-tunes the
# copy; ``pretrained`` itself is left untouched.
pretrained = AutoencoderTransformer(n_components=16, random_state=0)
pretrained.fit(X_train)  # the pixels only: no labels needed

budgets = [20, 50, 200]
accuracy = {"logistic regression, labeled pixels": [], "AutoencoderClassifier": []}
for n_labeled in budgets:
    y_semi = few_labels(n_labeled)
    labeled = y_semi != -1
    logistic = LogisticRegression(max_iter=1000).fit(X_train[labeled], y_train[labeled])
    classifier = AutoencoderClassifier(FrozenEstimator(pretrained), random_state=0)
    classifier.fit(X_train, y_semi)
    accuracy["logistic regression, labeled pixels"].append(logistic.score(X_test, y_test))
    accuracy["AutoencoderClassifier"].append(classifier.score(X_test, y_test))
    print(f"L={n_labeled:3d}: " + ", ".join(f"{k} {v[-1]:.3f}" for k, v in accuracy.items()))

# %%
# Accuracy against the number of labels
# -------------------------------------
# The classifier's head starts at a logistic regression on the pretrained codes; fine-tuning
# with the unlabeled rows takes it further. The gap is widest where labels are scarcest.
fig, ax = plt.subplots(figsize=(6, 4))
for name, values in accuracy.items():
    ax.plot(budgets, values, marker="o", label=name)
ax.set_xscale("log")
ax.set_xticks(budgets, [str(b) for b in budgets])
ax.set_xlabel("labeled training rows (of 1347)")
ax.set_ylabel("held-out accuracy (450 digits)")
ax.grid(alpha=0.3)
ax.legend()
fig.tight_layout()
plt.show()

# %%
# What the fitted classifier offers
# ---------------------------------
# ``predict_proba`` and ``score`` as any scikit-learn classifier; ``transform`` gives the
# fine-tuned codes (16 per row here); ``autoencoder_`` is the fitted autoencoder holding
# the fine-tuned network; and ``to_torch()`` hands the whole network (input scaling,
# encoder, head) to PyTorch as a plain module whose softmax is ``predict_proba``.
codes = classifier.transform(X_test[:5])
module = classifier.to_torch()
with torch.no_grad():
    proba = torch.softmax(module(torch.from_numpy(X_test[:5])), dim=1).numpy()
print(codes.shape, np.allclose(proba, classifier.predict_proba(X_test[:5]), atol=1e-5))
