"""
===========================================
Scaling out: a Dask cluster and Dask arrays
===========================================

Two ways to take an autoencoder beyond one Python process with Dask:

* tune it with :class:`~sklearn.model_selection.GridSearchCV` on a Dask cluster, through
  joblib's ``"dask"`` backend: the scores are those of the search run in one process;
* encode a :class:`dask.array.Array` block by block: ``transform`` returns a lazy Dask
  array, so data larger than memory is encoded a few chunks at a time.

Both need the ``distributed`` extra (``pip install "sklearn-ae[distributed]"``). The
cluster here is a :class:`distributed.LocalCluster` on this machine; against a real cluster
only the address changes. Data-parallel training on several processes or GPUs
(``data_parallel=True`` under ``torchrun``) is shown at the end; it needs a launcher, so it
is not run here.
"""

# %%
# The data: scikit-learn's 8x8 digits, split once.
import joblib
import matplotlib.pyplot as plt
import numpy as np
from distributed import Client, LocalCluster
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, train_test_split

from sklearn_ae import AutoencoderTransformer

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X.astype(np.float32), y, test_size=0.25, random_state=0
)
search = GridSearchCV(
    AutoencoderTransformer(max_epochs=15, random_state=0),
    {"n_components": [4, 8], "hidden_layer_sizes": [(64,), (128, 64)]},
    cv=2,
)

# %%
# A grid search on a Dask cluster
# -------------------------------
# One worker running two fits at a time in threads of this process (``processes=False``:
# nothing to spawn, so this runs as a script, in a notebook or in a docs build alike). The
# fits share torch's intra-op threads, so give torch one thread per fit. The ``with``
# blocks shut the client and the cluster down, also on an error.
#
# With worker processes (``LocalCluster(n_workers=2, threads_per_worker=1)``, Dask's
# default), put the script's code under ``if __name__ == "__main__":``, as for any
# :mod:`multiprocessing` program. On a remote cluster, start a scheduler and workers there
# and connect with ``Client("tcp://scheduler-host:8786")`` instead of the ``LocalCluster``.
import torch

threads = torch.get_num_threads()
torch.set_num_threads(1)  # the two fits running at once share torch's threads
with LocalCluster(
    n_workers=1, threads_per_worker=2, processes=False, dashboard_address=":0"
) as cluster:
    with Client(cluster), joblib.parallel_backend("dask"):
        search.fit(X_train)
torch.set_num_threads(threads)

print("best:", search.best_params_, "held-out MSE:", -search.score(X_test))

# %%
# Each candidate's fit is seeded by ``random_state`` and draws from generators of its own,
# so the scores equal those of ``search.fit(X_train)`` without the cluster, whichever
# worker (process or thread) ran which fit.
for params, score in zip(search.cv_results_["params"], search.cv_results_["mean_test_score"]):
    print(params, f"validation MSE {-score:.3f}")

# %%
# Encoding a Dask array block by block
# ------------------------------------
# ``transform`` of a Dask array checks its width at once and returns a lazy Dask array with
# the same row chunks; each chunk is encoded when it is computed. Here the array wraps data
# in memory; in practice it would come from ``dask.array.from_zarr``, ``from_npy_stack``
# or a Dask DataFrame's ``to_dask_array(lengths=True)``.
import dask.array as da

X_big = da.from_array(X_test, chunks=(100, -1))
codes = search.best_estimator_.transform(X_big)
print(codes)  # nothing computed yet
codes = codes.compute()
assert np.allclose(codes, search.best_estimator_.transform(X_test), atol=1e-5)

# %%
# ``fit`` takes a Dask array too: it reads one chunk at a time, shuffling the chunks' order
# and the rows within each chunk at every epoch, and never holds the whole array.
streamed = AutoencoderTransformer(n_components=8, max_epochs=15, random_state=0)
streamed.fit(da.from_array(X_train, chunks=(200, -1)))
print("fitted from chunks, held-out MSE:", -streamed.score(X_test))

# %%
# The first two code units of the held-out digits.
fig, ax = plt.subplots(figsize=(5, 4))
points = ax.scatter(codes[:, 0], codes[:, 1], c=y_test, cmap="tab10", s=8)
fig.colorbar(points, ax=ax, label="digit")
ax.set(xlabel="code 1", ylabel="code 2", title="Codes computed block by block")
plt.show()

# %%
# Data-parallel training (not run here)
# -------------------------------------
# To train one model on several processes (one per GPU, or several CPU processes), write a
# script that every process runs on the same data, and launch it with ``torchrun``::
#
#     # train.py
#     import numpy as np
#     import torch.distributed as dist
#     import sklearn_ae
#
#     X = np.load("X.npy", mmap_mode="r")   # the same rows on every process
#     ae = sklearn_ae.AutoencoderTransformer(n_components=30, data_parallel=True).fit(X)
#     if dist.get_rank() == 0:              # every process holds the same model
#         sklearn_ae.save(ae, "model.safetensors")
#
#     torchrun --nproc-per-node 4 train.py  # 4 GPUs (NCCL); on a CPU: gloo
#
# Each process trains on its share of every batch of ``batch_size`` rows and DDP averages
# the gradients, so the model is the one a single process would train.
