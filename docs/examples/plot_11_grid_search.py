"""
==================================================
Tuning an autoencoder without labels: GridSearchCV
==================================================

Hyper-parameters such as the network's size or the learning rate are chosen by
cross-validation, as for any estimator. A transformer usually cannot be cross-validated on
its own, because there is no score to compare; the autoencoders in ``sklearn_ae`` have
one. ``score(X)`` is **minus the mean squared reconstruction error** on ``X``: higher is
better, and on held-out folds it measures how well the model rebuilds data it has not
seen. So ``GridSearchCV`` can tune an autoencoder with no labels and no ``scoring=``.
"""

# %%
# Tune the network at a fixed code size
# -------------------------------------
# scikit-learn's 8x8 digits, 8 code units. The grid covers the hidden layers and the peak
# learning rate; each candidate is fitted on two folds and scored on the third.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_ae import AutoencoderTransformer

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)

search = GridSearchCV(
    AutoencoderTransformer(n_components=8, max_epochs=30, random_state=0),
    {"hidden_layer_sizes": [(32,), (128, 64)], "lr": [1e-3, 5e-3]},
    cv=3,
)
search.fit(X_train)  # no y, no scoring=: score() is minus the reconstruction MSE

results = search.cv_results_
print("hidden_layer_sizes  lr      held-out MSE (std over folds)  fit s")
for i in np.argsort(results["rank_test_score"]):
    params = results["params"][i]
    print(f"{str(params['hidden_layer_sizes']):18s}  {params['lr']:.0e}  "
          f"{-results['mean_test_score'][i]:12.3f} ({results['std_test_score'][i]:.3f})"
          f"          {results['mean_fit_time'][i]:.1f}")
print("best:", search.best_params_)
print(f"test MSE of the refitted best model: {-search.score(X_test):.3f}")

# %%
# ``best_estimator_`` is refitted on all of ``X_train`` with the best parameters, and
# ``search.score`` delegates to its ``score``, so the last line is minus its error on the
# test set (printed as an MSE). Compare the spread across folds (``std_test_score``) with
# the gaps between candidates before trusting a small difference.
#
# Do not tune the code size this way
# ----------------------------------
# Reconstruction error nearly always prefers the largest ``n_components`` on the grid: a
# larger code keeps more of the data. To choose the code size, tune it for what the codes
# are *for*, for example a classifier in a pipeline. ``GridSearchCV`` can record both
# criteria: the pipeline's accuracy, and the autoencoder step's own ``score``. (The codes
# are in the data's units, with unequal spreads like PCA's scores; a ``StandardScaler``
# before the linear classifier makes it converge in far fewer iterations.)


def reconstruction(pipeline, X, y):
    return pipeline[0].score(X)  # the autoencoder step: minus the reconstruction MSE


pipe_search = GridSearchCV(
    make_pipeline(
        AutoencoderTransformer(max_epochs=30, hidden_layer_sizes=(128,), random_state=0),
        StandardScaler(),
        LogisticRegression(max_iter=2000),
    ),
    {"autoencodertransformer__n_components": [2, 4, 8, 16]},
    scoring={"accuracy": "accuracy", "reconstruction": reconstruction},
    refit="accuracy",
    cv=3,
)
pipe_search.fit(X_train, y_train)

k = pipe_search.cv_results_["param_autoencodertransformer__n_components"].astype(int)
accuracy = pipe_search.cv_results_["mean_test_accuracy"]
mse = -pipe_search.cv_results_["mean_test_reconstruction"]
for row in zip(k, accuracy, mse):
    print("n_components={:2d}  accuracy {:.3f}  reconstruction MSE {:.2f}".format(*row))
print("chosen by accuracy:", pipe_search.best_params_,
      f"test accuracy {pipe_search.score(X_test, y_test):.3f}")

fig, ax1 = plt.subplots(figsize=(5.5, 3.5))
ax1.plot(k, accuracy, "o-", color="C0")
ax1.set_xlabel("n_components")
ax1.set_ylabel("cross-validated accuracy", color="C0")
ax2 = ax1.twinx()
ax2.plot(k, mse, "s--", color="C1")
ax2.set_ylabel("cross-validated reconstruction MSE", color="C1")
ax1.set_xticks(k)
fig.tight_layout()

# %%
# The reconstruction error falls with every extra component, so on its own it would
# always pick the largest. The accuracy measures what each extra component buys for the
# task, and its gains typically shrink as the code grows: that is the curve to weigh
# against the cost of a larger code. ``refit="accuracy"`` makes it the criterion that
# chooses (here among the sizes on the grid).
#
# ``max_epochs=30`` keeps this example short; leave it at the default (60 epochs with a
# one-cycle learning-rate schedule and early stopping) for real use.
plt.show()
