"""Data plumbing (sklearn_ae/_data.py): datasets, minibatches, validation splits."""

import numpy as np
import pytest
import torch
from numpy.testing import assert_array_equal

from sklearn_ae._data import ArrayData, IndexSplit, TailSplit, TensorBatches, TensorData


def _data(n=10, n_features=3):
    X = torch.arange(n * n_features, dtype=torch.float32).reshape(n, n_features)
    return TensorData(X, -X)  # targets tied to their rows, to check they travel together


def _rows(batches):
    return [batch[0][:, 0].long().div(3, rounding_mode="floor").tolist() for batch in batches]


# ---------------------------------------------------------------- TensorData
def test_tensor_data_indexes_inputs_and_targets():
    data = _data()
    assert len(data) == 10
    x, y = data[torch.tensor([2, 5])]
    assert torch.equal(x, data.X[[2, 5]]) and torch.equal(y, -x)


# ------------------------------------------------------------- TensorBatches
@pytest.mark.parametrize("batch_size, sizes", [(4, [4, 4, 2]), (5, [5, 5]), (32, [10])])
def test_batches_cover_every_row_once(seeded, batch_size, sizes):
    batches = TensorBatches(_data(), batch_size=batch_size, shuffle=True)
    assert len(batches) == len(sizes)
    epoch = list(batches)
    assert [len(x) for x, _ in epoch] == sizes  # the last batch is the partial one
    rows = sum(_rows(epoch), [])
    assert sorted(rows) == list(range(10))
    for x, y in epoch:
        assert torch.equal(y, -x)


def test_batches_reshuffle_between_epochs(seeded):
    batches = TensorBatches(_data(n=50), batch_size=8, shuffle=True)
    first, second = sum(_rows(batches), []), sum(_rows(batches), [])
    assert sorted(first) == sorted(second) == list(range(50))
    assert first != second
    assert first != list(range(50))


def test_batches_follow_torch_seed():
    batches = TensorBatches(_data(n=30), batch_size=7, shuffle=True)
    with torch.random.fork_rng():
        torch.manual_seed(3)
        a = _rows(batches)
        torch.manual_seed(3)
        b = _rows(batches)
    assert a == b


def test_batches_without_shuffle_keep_order():
    state = torch.random.get_rng_state()
    batches = TensorBatches(_data(), batch_size=4, shuffle=False)
    assert _rows(batches) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert _rows(batches) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert torch.equal(torch.random.get_rng_state(), state)  # draws nothing


# ------------------------------------------------------------------ IndexSplit
def test_index_split_streams_training_rows_and_loads_validation_rows():
    array = np.arange(24, dtype=np.float32).reshape(12, 2)
    data = ArrayData(array, scale=lambda rows: rows * 2)
    train, valid = IndexSplit([11, 1, 4, 5])(data)
    assert isinstance(train, ArrayData) and isinstance(valid, TensorData)
    assert_array_equal(train.indices, [0, 2, 3, 6, 7, 8, 9, 10])
    assert_array_equal(valid.X.numpy(), array[[1, 4, 5, 11]] * 2)  # scaled, in row order


def test_tail_split_returns_views_of_the_last_rows():
    X = torch.arange(20.0).reshape(10, 2)
    train, valid = TailSplit(np.array([3, 7]))(TensorData(X, X))
    assert len(train) == 8 and len(valid) == 2
    assert torch.equal(valid.X, X[8:]) and torch.equal(train.X, X[:8])
    # views: no copy of the training data
    assert train.X.data_ptr() == X.data_ptr()
    assert valid.X.data_ptr() == X[8:].data_ptr()
