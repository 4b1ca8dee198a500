"""
================================================================
Sparse text: the autoencoder where TruncatedSVD stood (LSA)
================================================================

Latent semantic analysis reduces a sparse TF-IDF matrix with ``TruncatedSVD`` before a
classifier. :class:`~sklearn_ae.AutoencoderTransformer` takes the same sparse matrix: it
densifies one minibatch at a time (never the whole matrix), computes its column statistics
and its PCA start from the sparse rows, and then trains a non-linear encoder from there.

The corpus is real text built offline: the docstrings of three installed packages
(numpy, scikit-learn, pandas), and the task is to tell which package wrote each one.
"""

# %%
# A real corpus, built from the installed packages
# -------------------------------------------------
# :func:`sklearn_ae.datasets.load_docstrings` reads the packages' source files with
# :mod:`ast` (nothing is imported or downloaded); which docstrings it finds depends on the
# installed versions, which it records.
import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline

from sklearn_ae import AutoencoderTransformer
from sklearn_ae.datasets import load_docstrings

corpus = load_docstrings(["numpy", "sklearn", "pandas"])
print(len(corpus.data), "docstrings;", corpus.versions)
texts_train, texts_test, y_train, y_test = train_test_split(
    corpus.data, corpus.target, test_size=0.25, random_state=0, stratify=corpus.target)

X_train = TfidfVectorizer(min_df=3, sublinear_tf=True, max_features=2000).fit_transform(
    texts_train)
print(type(X_train).__name__, X_train.shape,
      f"{X_train.nnz / np.prod(X_train.shape):.2%} non-zero")

# %%
# The same pipeline, two reducers
# -------------------------------
# Only the middle step changes. Both keep 50 components; the autoencoder trains for a
# few epochs here to keep the example short (``benchmarks/bench_sparse_input.py`` runs the
# defaults, with 100 components, on five packages).
reducers = {
    "TruncatedSVD(50)": TruncatedSVD(50, random_state=0),
    "AutoencoderTransformer(50)": AutoencoderTransformer(50, max_epochs=8, random_state=0),
}
pipes, scores = {}, {}
for name, reducer in reducers.items():
    pipe = make_pipeline(
        TfidfVectorizer(min_df=3, sublinear_tf=True, max_features=2000),
        reducer,
        LogisticRegression(max_iter=2000),
    )
    start = time.perf_counter()
    pipes[name] = pipe.fit(texts_train, y_train)
    seconds = time.perf_counter() - start
    scores[name] = pipe.score(texts_test, y_test)
    print(f"{name:28s} held-out accuracy {scores[name]:.3f}  fit {seconds:.1f} s")

# %%
# What the codes look like
# ------------------------
# The first two codes of each reducer, held-out documents coloured by package. The
# autoencoder starts from PCA (the centred cousin of the SVD) and trains from there.
fig, axes = plt.subplots(1, 2, figsize=(10, 4.5))
for ax, (name, pipe) in zip(axes, pipes.items()):
    codes = pipe[:-1].transform(texts_test)  # TF-IDF, then the reducer
    for label, package in enumerate(corpus.target_names):
        rows = y_test == label
        ax.scatter(codes[rows, 0], codes[rows, 1], s=4, alpha=0.5, label=package)
    ax.set_title(f"{name}: accuracy {scores[name]:.3f}")
    ax.set_xticks([])
    ax.set_yticks([])
axes[0].legend(markerscale=3)
fig.tight_layout()
plt.show()
