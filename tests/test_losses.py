"""Reconstruction losses (sklearn_ae/losses.py) on tensors small enough to check by hand."""

import math

import pytest
import torch

from sklearn_ae.losses import (
    jacobian_frobenius_sq,
    mse_per_sample,
    reconstruction_loss,
)

LOG2 = math.log(2.0)


def test_mse_per_sample_known_values():
    output = torch.tensor([[1.0, 2.0], [0.0, 0.0], [3.0, -1.0]])
    target = torch.tensor([[0.0, 0.0], [0.0, 0.0], [1.0, 1.0]])
    # (1 + 4) / 2, 0, (4 + 4) / 2
    assert torch.allclose(mse_per_sample(output, target), torch.tensor([2.5, 0.0, 4.0]))


def test_mse_per_sample_flattens_images():
    output = torch.zeros(2, 2, 2)
    target = torch.tensor([[[1.0, 1.0], [1.0, 1.0]], [[2.0, 0.0], [0.0, 0.0]]])
    assert torch.allclose(mse_per_sample(output, target), torch.tensor([1.0, 1.0]))


def test_bce_loss_known_values():
    logits = torch.tensor([[0.0, 0.0], [0.0, 0.0], [math.log(3.0), 0.0]])
    target = torch.tensor([[1.0, 0.0], [0.5, 0.5], [1.0, 1.0]])
    # sigmoid(0) = 1/2 costs log 2 whatever the target; sigmoid(log 3) = 3/4 costs log(4/3)
    expected = (5 * LOG2 + math.log(4 / 3)) / 6
    assert reconstruction_loss("bce", logits, target).item() == pytest.approx(expected)


def test_bce_loss_is_stable_for_large_logits():
    logits = torch.tensor([[100.0, -100.0], [100.0, -100.0]])
    target = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    loss = reconstruction_loss("bce", logits, target)
    assert torch.isfinite(loss)
    assert loss.item() == pytest.approx(50.0, rel=1e-6)  # two entries of 100, two of 0


def test_bce_loss_matches_formula():
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(4, 3, 5, generator=gen, dtype=torch.float64)
    target = torch.rand(4, 3, 5, generator=gen, dtype=torch.float64)
    p = torch.sigmoid(logits)
    expected = -(target * p.log() + (1 - target) * (1 - p).log()).mean()
    assert torch.allclose(reconstruction_loss("bce", logits, target), expected)


def test_losses_are_differentiable():
    output = torch.tensor([[1.0, 2.0]], requires_grad=True)
    mse_per_sample(output, torch.zeros(1, 2)).sum().backward()
    # d/dx mean(x^2) = 2x / n
    assert torch.allclose(output.grad, torch.tensor([[1.0, 2.0]]))


def test_mse_loss_is_the_mean_of_the_per_sample_losses():
    output = torch.tensor([[0.3, -1.2], [2.0, 0.1]])
    target = torch.tensor([[0.0, 1.0], [1.0, 0.5]])
    per_sample = mse_per_sample(output, target)
    assert torch.allclose(reconstruction_loss("mse", output, target), per_sample.mean())


# ------------------------------------------------------------------ contraction
def test_jacobian_frobenius_of_a_linear_map_is_its_weights_norm():
    torch.manual_seed(0)
    layer = torch.nn.Linear(5, 3)
    x = torch.randn(4, 5)
    expected = layer.weight.pow(2).sum().expand(4)
    assert torch.allclose(jacobian_frobenius_sq(layer, x), expected)


def test_jacobian_frobenius_matches_autograd_and_works_without_grad():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.Tanh(), torch.nn.Linear(6, 2))
    x = torch.randn(3, 4)
    expected = torch.stack([
        torch.autograd.functional.jacobian(lambda r: net(r[None])[0], row).pow(2).sum()
        for row in x
    ])
    with torch.no_grad():  # validation runs without autograd
        assert torch.allclose(jacobian_frobenius_sq(net, x), expected, atol=1e-6)
    jacobian_frobenius_sq(net, x).mean().backward()
    assert net[0].weight.grad.abs().sum() > 0  # trainable through the penalty
