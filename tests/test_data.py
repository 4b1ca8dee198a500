"""Data plumbing (sklearn_ae/_data.py): datasets, minibatches (shared among processes),
block-by-block reading, validation splits."""

import numpy as np
import pytest
import torch
from numpy.testing import assert_array_equal

from sklearn_ae._data import (
    ArrayData,
    BlockData,
    BlockRows,
    IndexSplit,
    TailSplit,
    TensorBatches,
    TensorData,
    batch_plan,
    column_stats,
    shard_bounds,
)


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


# ------------------------------------------------------------------ sharding
def test_shard_bounds_split_a_batch_into_near_equal_parts():
    assert shard_bounds(10, None) == (0, 10)
    assert [shard_bounds(10, (r, 3)) for r in range(3)] == [(0, 3), (3, 6), (6, 10)]
    assert shard_bounds(2, (0, 3)) is None  # too small to give every process a row


def test_batch_plan_gives_each_process_its_part_of_every_batch():
    order = np.random.RandomState(0).permutation(23)
    assert batch_plan(23, 8, order) == (order, [8, 8, 7])
    plans = [batch_plan(23, 8, order, (r, 2)) for r in range(2)]
    assert [sizes for _, sizes in plans] == [[4, 4, 3], [4, 4, 4]]
    # together the parts are the batches of the single-process plan
    rows = [np.split(rows, np.cumsum(sizes)[:-1]) for rows, sizes in plans]
    for b, start in enumerate(range(0, 23, 8)):
        assert_array_equal(np.concatenate([rows[0][b], rows[1][b]]), order[start : start + 8])
    # a last batch of 1 row cannot be shared by 2 processes: both skip it
    assert batch_plan(17, 8, None, (1, 2))[1] == [4, 4]


@pytest.mark.parametrize("kind", ["tensor", "array"])
def test_sharded_batches_together_are_the_whole_batches(kind):
    data = _data(n=21) if kind == "tensor" else ArrayData(_data(n=21).X.numpy(), np.asarray)
    epochs = {}
    for shard in (None, (0, 2), (1, 2)):
        batches = TensorBatches(data, 6, True, torch.Generator().manual_seed(1), shard)
        epochs[shard] = _rows(batches)
    assert len(epochs[None]) == len(epochs[(0, 2)]) == len(epochs[(1, 2)]) == 4
    for b, whole in enumerate(epochs[None]):
        assert sorted(epochs[(0, 2)][b] + epochs[(1, 2)][b]) == sorted(whole)


# ------------------------------------------------------------------ BlockRows
class CountingArray:
    """A 2-D array that counts the reads of its row blocks."""

    def __init__(self, X):
        self.X, self.shape, self.dtype = X, X.shape, X.dtype
        self.reads = []

    def __getitem__(self, key):
        self.reads.append((key.start, key.stop))
        return self.X[key]


def _block_rows(n=23, n_features=3, block=5):
    X = np.arange(n * n_features, dtype=np.float64).reshape(n, n_features)
    source = CountingArray(X)
    return X, source, BlockRows(source, [*range(0, n, block), n])


def test_block_rows_read_each_block_once_in_order():
    X, source, rows = _block_rows()
    assert rows.shape == (23, 3) and len(rows) == 23
    assert_array_equal(np.asarray(rows), X)
    assert_array_equal(rows[3:12], X[3:12])
    assert_array_equal(rows[[21, 0, 7]], X[[21, 0, 7]])
    assert source.reads[:5] == [(0, 5), (5, 10), (10, 15), (15, 20), (20, 23)]
    # read in order, column statistics compute each block once
    source.reads.clear()
    lo, hi, mean, rms = column_stats(rows)
    assert (lo, hi) == (X.min(), X.max()) and np.allclose(mean, X.mean(axis=0))
    assert len(source.reads) <= 2 * 5  # two passes


def test_block_rows_refuse_non_finite_blocks_naming_the_rows():
    X, _, rows = _block_rows()
    X[12, 1] = np.inf
    with pytest.raises(ValueError, match="NaN or infinity in rows 10 to 14"):
        rows[:]


@pytest.mark.parametrize("shuffle", [False, True])
def test_block_data_batches_cover_every_row_reading_each_block_once(shuffle):
    X, source, rows = _block_rows()
    data = BlockData(rows, torch.as_tensor, indices=np.delete(np.arange(23), [4, 17]))
    batches = TensorBatches(data, 4, shuffle, torch.Generator().manual_seed(0))
    for _ in range(2):  # two epochs
        source.reads.clear()
        epoch = list(batches)
        seen = np.concatenate([x[:, 0].numpy() // 3 for x, _ in epoch]).astype(int)
        assert sorted(seen) == sorted(set(range(23)) - {4, 17})
        assert [len(x) for x, _ in epoch] == [4, 4, 4, 4, 4, 1]  # across block ends
        assert len(source.reads) <= 5
        assert (list(seen) == sorted(seen)) is not shuffle


def test_block_data_shards_share_the_same_batches():
    _, _, rows = _block_rows()
    parts = []
    for shard in (None, (0, 2), (1, 2)):
        data = BlockData(rows, torch.as_tensor)
        batches = TensorBatches(data, 4, True, torch.Generator().manual_seed(0), shard)
        parts.append([sorted(x[:, 0].numpy() // 3) for x, _ in batches])
    assert [len(p) for p in parts] == [6, 6, 6]
    assert [len(p) for p in parts[1]] == [2, 2, 2, 2, 2, 1]  # 23 rows: 5 x 4, then 3
    for whole, a, b in zip(parts[0], parts[1], parts[2]):
        assert sorted(a + b) == whole


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
