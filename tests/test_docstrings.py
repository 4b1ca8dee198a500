"""The family's docstrings agree with each other and with the code.

Shared parameters and fitted attributes are written out in every class (so ``help()`` and
IDEs show them), which lets them drift apart; these tests keep the shared text identical to
``AutoencoderTransformer``'s, with scikit-learn's own checker, and keep every class's
Parameters and Attributes sections in step with its ``__init__`` and its fitted state.
"""

import inspect

import numpy as np
import pytest
from numpydoc.docscrape import NumpyDocString
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils._testing import assert_docstring_consistency

import sklearn_ae
from sklearn_ae import AutoencoderClassifier, AutoencoderTransformer

REFERENCE = AutoencoderTransformer
SUPERVISED_REFERENCE = AutoencoderClassifier

# every public estimator, so that a new member of the family is checked without editing
# this file; the autoencoders share AutoencoderTransformer's text, the classifiers and
# regressors built on them AutoencoderClassifier's
ESTIMATORS = [
    obj
    for obj in (getattr(sklearn_ae, name) for name in sklearn_ae.__all__)
    if inspect.isclass(obj) and issubclass(obj, BaseEstimator)
]
SUPERVISED = [cls for cls in ESTIMATORS if issubclass(cls, (ClassifierMixin, RegressorMixin))]
MEMBERS = [cls for cls in ESTIMATORS if cls is not REFERENCE and cls not in SUPERVISED]
SUPERVISED_MEMBERS = [cls for cls in SUPERVISED if cls is not SUPERVISED_REFERENCE]

# Shared parameters whose meaning really differs in a member: the member keeps its own text.
PARAMETER_EXCLUSIONS = {
    "DenoisingAutoencoder": {
        "n_components": "over-complete codes are allowed without a sparsity penalty",
        "early_stopping": "denoising validation loss, clean reconstruction as a constraint",
        "random_state": "also draws the noise",
    },
    "ContractiveAutoencoder": {
        "n_components": "over-complete codes are allowed: the contraction regularises them",
    },
    "VAETransformer": {
        "n_components": "over-complete codes are allowed: the prior regularises them",
        "init": '"pca" is a probabilistic PCA start, with posterior variances',
        "loss": 'a likelihood, so only {"mse", "bce"}; "mse" learns a noise variance',
        "weight_decay": "never applied to the observation log-variance or the PPCA paths",
        "early_stopping": "the validation loss is the negative ELBO",
        "random_state": "also draws the reparameterisation noise in training",
        "sparsity": "acts on the posterior means, in the prior's units",
        "sparsity_weight": "the loss it is weighed against is the negative ELBO",
    },
    # the map's own training: edges, not rows (sklearn_ae/_neighbors.py writes them)
    "NeighborEmbeddingAutoencoder": {
        "hidden_layer_sizes": "a narrower default: three rows are encoded per edge",
        "init": "random by default; the PCA start is scaled to the map's units",
        "max_epochs": "an epoch draws as many edges as there are rows",
        "batch_size": "edges per batch, default 1024",
        "lr": "default 2e-2",
        "weight_decay": "none by default: the objective fixes the map's scale",
        "early_stopping": "the validation loss is the neighbour objective",
        "random_state": "also draws edges, negatives and the approximate search",
        "compile": "no effect on the edge batches",
        "data_parallel": "not supported",
    },
}

# The same for the classifiers and regressors, against AutoencoderClassifier.
SUPERVISED_PARAMETER_EXCLUSIONS = {
    "AutoencoderRegressor": {
        "consistency_weight": "off by default: input noise shrinks a regression's slopes",
    },
}

# Shared fitted attributes whose meaning really differs in a member.
ATTRIBUTE_EXCLUSIONS = {
    "VAETransformer": {
        "net_": "its module is a VariationalAutoencoder returning (output, mu, logvar)",
        "loss_curve_": "the negative ELBO, with the KL weight of the warm-up",
        "validation_loss_curve_": "the negative ELBO with the full beta",
    },
}


def _init_params(cls):
    return [name for name in inspect.signature(cls.__init__).parameters if name != "self"]


def _documented(cls, section):
    # parsed as assert_docstring_consistency parses them
    return [name for name, _, _ in NumpyDocString(inspect.getdoc(cls))[section]]


def _fitted_attributes(est):
    # public names ending in "_" that a fitted estimator answers: attributes set by fit
    # and properties such as history_
    return {
        name
        for name in dir(est)
        if name.endswith("_") and not name.startswith("_") and hasattr(est, name)
    }


def test_family_is_found():
    # guards the discovery above: an empty list would make the other tests pass vacuously
    assert REFERENCE in ESTIMATORS
    assert {cls.__name__ for cls in MEMBERS} >= {"DenoisingAutoencoder", "VAETransformer"}
    assert {cls.__name__ for cls in SUPERVISED_MEMBERS} == {"AutoencoderRegressor"}


def test_exclusions_name_members():
    names = {cls.__name__ for cls in MEMBERS}
    assert set(PARAMETER_EXCLUSIONS) <= names
    assert set(ATTRIBUTE_EXCLUSIONS) <= names
    assert set(SUPERVISED_PARAMETER_EXCLUSIONS) <= {cls.__name__ for cls in SUPERVISED_MEMBERS}


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda cls: cls.__name__)
def test_parameters_documented_are_init_parameters(cls):
    documented = _documented(cls, "Parameters")
    assert len(documented) == len(set(documented)), "a parameter is documented twice"
    assert set(documented) == set(_init_params(cls))


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda cls: cls.__name__)
def test_attributes_documented_are_fitted_attributes(cls):
    rng = np.random.RandomState(0)
    pd = pytest.importorskip("pandas")
    # string column names so that feature_names_in_ exists
    X = pd.DataFrame(rng.rand(20, 3), columns=["a", "b", "c"])
    if cls in SUPERVISED:
        ae = AutoencoderTransformer(max_epochs=1, device="cpu", random_state=0)
        est = cls(ae, max_epochs=1, random_state=0).fit(X, np.arange(20) % 2)
    else:
        est = cls(max_epochs=1, device="cpu", random_state=0).fit(X)
    documented = _documented(cls, "Attributes")
    assert len(documented) == len(set(documented)), "an attribute is documented twice"
    assert set(documented) == _fitted_attributes(est)


@pytest.mark.parametrize("cls", MEMBERS, ids=lambda cls: cls.__name__)
def test_shared_parameters_match_reference(cls):
    excluded = PARAMETER_EXCLUSIONS.get(cls.__name__, {})
    assert set(excluded) <= set(_init_params(REFERENCE)) & set(_init_params(cls))
    shared = [
        name
        for name in _init_params(REFERENCE)
        if name in _init_params(cls) and name not in excluded
    ]
    assert_docstring_consistency([REFERENCE, cls], include_params=shared)


@pytest.mark.parametrize("cls", MEMBERS, ids=lambda cls: cls.__name__)
def test_shared_attributes_match_reference(cls):
    excluded = ATTRIBUTE_EXCLUSIONS.get(cls.__name__, {})
    reference = _documented(REFERENCE, "Attributes")
    member = _documented(cls, "Attributes")
    assert set(excluded) <= set(reference) & set(member)
    shared = [name for name in reference if name in member and name not in excluded]
    assert_docstring_consistency([REFERENCE, cls], include_attrs=shared)


def _shared_parameters(reference, cls, excluded):
    assert set(excluded) <= set(_init_params(reference)) & set(_init_params(cls))
    return [
        name for name in _init_params(reference)
        if name in _init_params(cls) and name not in excluded
    ]


@pytest.mark.parametrize("cls", SUPERVISED_MEMBERS, ids=lambda cls: cls.__name__)
def test_supervised_shared_parameters_match(cls):
    excluded = SUPERVISED_PARAMETER_EXCLUSIONS.get(cls.__name__, {})
    shared = _shared_parameters(SUPERVISED_REFERENCE, cls, excluded)
    assert_docstring_consistency([SUPERVISED_REFERENCE, cls], include_params=shared)


@pytest.mark.parametrize("cls", SUPERVISED_MEMBERS, ids=lambda cls: cls.__name__)
def test_supervised_shared_attributes_match(cls):
    reference = _documented(SUPERVISED_REFERENCE, "Attributes")
    shared = [name for name in reference if name in _documented(cls, "Attributes")]
    assert_docstring_consistency([SUPERVISED_REFERENCE, cls], include_attrs=shared)
