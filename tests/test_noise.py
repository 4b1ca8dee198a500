"""Corruption functions (sklearn_ae/noise.py) on tensors large enough for stable fractions."""

import pytest
import torch

from sklearn_ae.noise import corrupt, gaussian, masking, salt_and_pepper


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_gaussian_adds_noise_of_the_requested_std_and_leaves_input_alone():
    x = torch.full((200, 50), 3.0)
    noisy = gaussian(x, 0.5, generator=_gen())
    assert torch.equal(x, torch.full((200, 50), 3.0))
    assert (noisy - x).std().item() == pytest.approx(0.5, rel=0.03)
    assert (noisy - x).mean().item() == pytest.approx(0.0, abs=0.01)


def test_gaussian_clips_to_per_feature_range():
    x = torch.zeros(500, 3)
    low, high = torch.tensor([-0.1, -1.0, -5.0]), torch.tensor([0.1, 1.0, 5.0])
    noisy = gaussian(x, 2.0, generator=_gen(), low=low, high=high)
    assert torch.all(noisy >= low) and torch.all(noisy <= high)
    # the tight first feature sits on its bounds most of the time
    assert (noisy[:, 0].abs() == 0.1).float().mean() > 0.9


def test_masking_sets_a_fraction_to_fill_without_rescaling_the_rest():
    x = torch.rand(400, 50) + 1.0  # no entry equals the fill value by chance
    fill = torch.linspace(-2, 2, 50)
    out = masking(x, 0.3, fill=fill, generator=_gen())
    masked = out != x
    assert masked.float().mean().item() == pytest.approx(0.3, abs=0.01)
    assert torch.equal(out[masked], fill.expand_as(x)[masked])
    assert torch.equal(out[~masked], x[~masked])  # unlike dropout, no 1 / (1 - p) factor


def test_salt_and_pepper_hits_a_fraction_half_low_half_high():
    x = torch.full((400, 50), 0.5)
    out = salt_and_pepper(x, 0.2, low=0.0, high=1.0, generator=_gen())
    assert set(out.unique().tolist()) == {0.0, 0.5, 1.0}
    assert (out == 0.0).float().mean().item() == pytest.approx(0.1, abs=0.01)
    assert (out == 1.0).float().mean().item() == pytest.approx(0.1, abs=0.01)


@pytest.mark.parametrize(
    "kind, kwargs",
    [("gaussian", {}), ("masking", {"fill": -1.0}), ("salt_and_pepper", {"low": 0, "high": 1})],
)
def test_corrupt_is_reproducible_from_the_generator_or_the_global_rng(kind, kwargs):
    x = torch.rand(20, 10)
    a = corrupt(kind, x, 0.3, generator=_gen(1), **kwargs)
    b = corrupt(kind, x, 0.3, generator=_gen(1), **kwargs)
    c = corrupt(kind, x, 0.3, generator=_gen(2), **kwargs)
    assert torch.equal(a, b) and not torch.equal(a, c)
    with torch.random.fork_rng():
        torch.manual_seed(5)
        d = corrupt(kind, x, 0.3, **kwargs)
        torch.manual_seed(5)
        e = corrupt(kind, x, 0.3, **kwargs)
    assert torch.equal(d, e) and not torch.equal(d, x)


def test_corrupt_rejects_unknown_kind_and_missing_bounds():
    x = torch.zeros(2, 2)
    with pytest.raises(ValueError, match="'speckle'"):
        corrupt("speckle", x, 0.1)
    with pytest.raises(ValueError, match="low and high"):
        corrupt("salt_and_pepper", x, 0.1)
