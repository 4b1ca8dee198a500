"""The objectives' terms as pure tensor functions: reconstruction losses, image similarity,
sparsity, variational terms and the contraction penalty."""

import math

import torch
import torch.nn.functional as F


def mse_per_sample(output, target):
    """Mean squared error of each row; ``output`` is the decoder's linear output."""
    return (output - target).pow(2).flatten(1).mean(1)


# fused one-kernel means: every sample has the same number of features, so the mean over
# all entries is the mean of the per-sample means
_MEAN_LOSSES = {"mse": F.mse_loss, "bce": F.binary_cross_entropy_with_logits}


def reconstruction_loss(kind, output, target):
    """Mean reconstruction loss of kind ``"mse"`` or ``"bce"`` (on logits) over all entries."""
    return _MEAN_LOSSES[kind](output, target)


def reconstruction_loss_per_sample(kind, output, target):
    """Each row's :func:`reconstruction_loss` (its mean over the row's entries)."""
    if kind == "mse":
        return mse_per_sample(output, target)
    loss = F.binary_cross_entropy_with_logits(output, target, reduction="none")
    return loss.flatten(1).mean(1)


# ----------------------------------------------------------------- image similarity
# weight of the MSE term added to 1 - SSIM: SSIM alone ignores a constant brightness offset
# in flat regions (and is blind to the background of MNIST-like images), the small MSE term
# pins the intensities down without changing what SSIM rewards
SSIM_MSE_WEIGHT = 0.1


def ssim_window(height, width):
    """Largest odd Gaussian window <= 11 that fits the image (7 for 8x8 digits)."""
    size = min(11, height, width)
    return size if size % 2 == 1 else size - 1


def ssim_per_sample(output, target, image_shape, data_range, offset=0.0):
    """SSIM of each row, rows being ``(H, W, C)`` images flattened in C order.

    Uses :func:`pytorch_msssim.ssim` (differentiable, Gaussian window
    :func:`ssim_window`, sigma 1.5, K=(0.01, 0.03)). ``offset`` (scalar or one value per
    feature) is added to both before comparing: the estimators pass the training mean in
    scaled units, since SSIM's luminance term depends on the absolute intensities.
    ``data_range`` is the dynamic range of the data in the units of ``output``.
    """
    from pytorch_msssim import ssim

    c, h, w = image_shape
    offset = torch.as_tensor(offset, dtype=output.dtype, device=output.device)

    def images(x):
        x = (x + offset).reshape(-1, h, w, c).permute(0, 3, 1, 2)
        if h == 1 or w == 1:
            # pytorch_msssim squeezes singleton spatial axes away and then rejects the
            # tensor; with a side of 1 the window is 1 pixel (SSIM is a per-pixel mean), so
            # doubling that axis leaves the value unchanged
            x = x.repeat(1, 1, 2 if h == 1 else 1, 2 if w == 1 else 1)
        return x

    return ssim(
        images(output),
        images(target),
        data_range=data_range,
        size_average=False,
        win_size=ssim_window(h, w),
    )


def ssim_loss_per_sample(output, target, image_shape, data_range, offset=0.0):
    """``1 - SSIM + SSIM_MSE_WEIGHT * MSE`` of each row."""
    loss = 1.0 - ssim_per_sample(output, target, image_shape, data_range, offset)
    return loss + SSIM_MSE_WEIGHT * mse_per_sample(output, target)


def ssim_loss(output, target, image_shape, data_range, offset=0.0):
    """Mean over samples of :func:`ssim_loss_per_sample`."""
    return ssim_loss_per_sample(output, target, image_shape, data_range, offset).mean()


# ------------------------------------------------------------------- sparsity
def l1_activity(codes):
    """Mean absolute code activation of each row (an L1 activity penalty, averaged over
    the row's units); its mean over rows is the mean over all entries."""
    return codes.abs().mean(1)


def kl_sparsity(codes, target, eps=1e-6):
    """KL divergence of a Bernoulli(``target``) from each code unit's mean activation.

    Activations are ``sigmoid(codes)`` (KL needs values in (0, 1)); the mean over the batch
    of each unit is compared with ``target`` and the divergences are averaged over units
    (Ng's sparse autoencoder, with a mean instead of a sum so the weight does not grow with
    ``n_components``).
    """
    rho_hat = torch.sigmoid(codes).mean(0).clamp(eps, 1 - eps)
    rho = torch.as_tensor(target, dtype=rho_hat.dtype, device=rho_hat.device)
    kl = rho * torch.log(rho / rho_hat) + (1 - rho) * torch.log((1 - rho) / (1 - rho_hat))
    return kl.mean()


def hoyer_sparsity(activations, eps=1e-12):
    """Hoyer's sparsity of each row of non-negative ``activations``, in [0, 1].

    ``(sqrt(n) - L1 / L2) / (sqrt(n) - 1)``: 1 when one unit is active, 0 when all are
    equally active; unchanged by rescaling, so a decoder cannot fake sparsity by shrinking
    the codes and growing its weights. Rows of zeros count as fully sparse.
    """
    n = activations.shape[1]
    if n == 1:
        return torch.ones(activations.shape[0], dtype=activations.dtype)
    l1 = activations.abs().sum(1)
    l2 = activations.pow(2).sum(1).sqrt()
    ratio = torch.where(l2 > eps, l1 / l2.clamp_min(eps), torch.ones_like(l1))
    return (math.sqrt(n) - ratio) / (math.sqrt(n) - 1)


# ------------------------------------------------------------- variational terms
# Unlike the reconstruction losses above these are log-densities in nats, *summed* over
# features (one value per sample), as the ELBO needs.

_LOG_2PI = math.log(2.0 * math.pi)


def gaussian_log_likelihood(mean, target, log_var):
    """``log N(target; mean, exp(log_var) I)`` of each row; ``log_var`` is a scalar tensor
    (one observation variance shared by all features)."""
    sq = (target - mean).pow(2).flatten(1)
    n_features = sq.shape[1]
    return -0.5 * (sq.sum(1) * torch.exp(-log_var) + n_features * (log_var + _LOG_2PI))


def bernoulli_log_likelihood(logits, target):
    """``log Bernoulli(target; sigmoid(logits))`` of each row; for targets inside (0, 1)
    this is the negative cross-entropy (the continuous relaxation usual for grey pixels)."""
    return -F.binary_cross_entropy_with_logits(logits, target, reduction="none").flatten(1).sum(1)


def kl_standard_normal(mu, logvar):
    """``KL(N(mu, diag(exp(logvar))) || N(0, I))`` of each row, analytic."""
    return 0.5 * (mu.pow(2) + torch.exp(logvar) - 1.0 - logvar).sum(1)


def log_likelihood(kind, output, target, log_var=None):
    """Per-row log-likelihood for ``kind="mse"`` (Gaussian, needs ``log_var``) or
    ``"bce"`` (Bernoulli on logits)."""
    if kind == "mse":
        return gaussian_log_likelihood(output, target, log_var)
    return bernoulli_log_likelihood(output, target)


# ------------------------------------------------------------------ contraction
def jacobian_frobenius_sq(fn, x):
    """Squared Frobenius norm of the Jacobian of ``fn`` at each row of ``x``.

    ``fn`` maps a batch ``(N, n_in)`` to ``(N, n_out)`` row by row (an encoder); the
    result, one value per row, is ``sum_ij (d fn(x)_i / d x_j)^2``, the contractive
    autoencoder's penalty (Rifai et al., 2011). Exact (one vector-Jacobian product per
    output), and differentiable with respect to ``fn``'s parameters; it is computed with
    ``torch.func``, so it also works where autograd is switched off (validation).
    """

    def one_row(row):
        return fn(row.unsqueeze(0)).squeeze(0)

    jacobians = torch.func.vmap(torch.func.jacrev(one_row))(x)
    return jacobians.pow(2).flatten(1).sum(1)


# ------------------------------------------------------------ supervised terms
# Rows without a label take part in a batch (they feed the reconstruction term) but not in
# these means; a batch without labeled rows contributes 0.


def masked_cross_entropy(logits, labels):
    """Mean cross-entropy over the rows whose class index ``labels`` is not -1."""
    total = F.cross_entropy(logits, labels, ignore_index=-1, reduction="sum")
    return total / (labels != -1).sum().clamp_min(1)


def masked_entropy(logits, labels):
    """Mean entropy (nats) of the softmax of ``logits`` over the rows whose ``labels`` are
    -1: minimising it moves the decision boundaries away from the unlabeled rows, into the
    data's low-density regions (Grandvalet & Bengio, "Semi-supervised learning by entropy
    minimization", 2005)."""
    log_p = torch.log_softmax(logits, dim=1)
    entropy = -(log_p.exp() * log_p).sum(dim=1)
    unlabeled = labels == -1
    return (entropy * unlabeled).sum() / unlabeled.sum().clamp_min(1)


def softmax_consistency(clean_logits, noisy_logits):
    """Mean KL divergence ``KL(softmax(clean) || softmax(noisy))`` over the rows: the
    consistency term of the Pi-model (Laine & Aila, 2017; Sajjadi et al., 2016), the
    predictions for a perturbed input pulled towards those for the clean one. Pass the
    clean logits detached."""
    log_p = torch.log_softmax(clean_logits, dim=1)
    log_q = torch.log_softmax(noisy_logits, dim=1)
    return (log_p.exp() * (log_p - log_q)).sum(dim=1).mean()


def masked_mse(output, target):
    """Mean squared error over the rows of ``target`` (n, n_targets) that are not NaN,
    averaged over targets."""
    labeled = ~torch.isnan(target[:, :1])
    squares = torch.where(labeled, (output - target.nan_to_num()).pow(2), 0.0)
    return squares.sum() / (labeled.sum() * target.shape[1]).clamp_min(1)


def _umap_terms(d2, a, b, eps):
    """UMAP's ``-log q(d)`` and ``-log(1 - q(d))`` of squared distances ``d2``, computed
    stably through ``u = log a + b log(d^2 + eps)``: ``softplus(u)`` and ``softplus(-u)``."""
    u = math.log(a) + b * torch.log(d2 + eps)
    return F.softplus(u), F.softplus(-u)


def neighbor_embedding_loss(heads, tails=None, negatives=None, a=1.0, b=1.0, eps=1e-3,
                            exaggeration=1.0):
    """UMAP's fuzzy cross-entropy terms for each row of ``heads`` (n, c): the attraction
    ``-log q(d)`` to the matching row of ``tails`` (n, c), times ``exaggeration``, plus the
    repulsion ``sum_m -log(1 - q(d))`` from the rows ``negatives[i]`` (n, m, c), with
    ``q(d) = 1 / (1 + a d^(2b))`` (McInnes et al., 2018). Exact, computed stably through
    ``u = log a + b log(d^2 + eps)``: attraction ``softplus(u)``, repulsion
    ``softplus(-u)``; ``eps`` (umap-learn's 0.001) bounds the repulsion and the gradient at
    ``d = 0``. Either part may be None. Returns one value per head."""
    out = heads.new_zeros(heads.shape[0])
    if tails is not None:
        d2 = (heads - tails).pow(2).sum(dim=-1)
        out = out + exaggeration * _umap_terms(d2, a, b, eps)[0]
    if negatives is not None:
        d2 = (heads[:, None, :] - negatives).pow(2).sum(dim=-1)
        out = out + _umap_terms(d2, a, b, eps)[1].sum(dim=1)
    return out


def contrastive_embedding_loss(heads, tails, negatives, exaggeration=1.0):
    """InfoNCE with t-SNE's Cauchy kernel ``q(d) = 1 / (1 + d^2)`` (InfoNC-t-SNE, Damrich
    et al., 2023) for each row of ``heads`` (n, c):
    ``-log(q(h, t) / (q(h, t) + sum_m q(h, n_m)))``, its tail ``t`` the matching row of
    ``tails`` (n, c), its negatives ``n_m`` the rows ``negatives[i]`` (n, m, c). Each head
    is pulled to its tail and pushed from its negatives in proportion to their shares of
    the softmax, as t-SNE normalises its similarities. ``exaggeration`` multiplies the
    attraction ``-log q(h, t)`` (t-SNE's exaggeration: ``log sum q - exaggeration *
    log q(h, t)``); below 1 the loss has no minimum (spreading all codes apart lowers it
    without bound). Returns one value per head."""
    pos = -torch.log1p((heads - tails).pow(2).sum(dim=-1))
    neg = -torch.log1p((heads[:, None, :] - negatives).pow(2).sum(dim=-1))
    return torch.logsumexp(torch.cat([pos[:, None], neg], dim=1), dim=1) - exaggeration * pos


def block_sq_distances(heads, tails, size):
    """Squared distances (n, size) from each head (n, c) to the tails (n, c) of its block of
    ``size`` consecutive rows: head ``i``'s own tail is in column ``i % size``; the columns
    a short last block lacks are ``inf``. Plain broadcast differences, no gather: the
    batch's other tails are the negatives at the cost of elementwise work."""
    n, c = heads.shape
    pad = -n % size
    if pad:
        heads, tails = F.pad(heads, (0, 0, 0, pad)), F.pad(tails, (0, 0, 0, pad))
    d2 = (heads.reshape(-1, size, 1, c) - tails.reshape(-1, 1, size, c)).pow(2).sum(dim=-1)
    d2 = d2.reshape(-1, size)[:n]
    if pad:
        columns = torch.arange(size, device=d2.device)
        rows = torch.arange(n, device=d2.device)
        d2 = d2.masked_fill((rows[:, None] >= n - n % size) & (columns >= n % size), math.inf)
    return d2


def block_embedding_loss(heads, tails, size, objective="infonce", a=1.0, b=1.0, eps=1e-3,
                         exaggeration=1.0):
    """Each head's neighbour-embedding loss against its tail, with the other tails of its
    block of ``size`` (see :func:`block_sq_distances`) as its negatives: ``objective``
    ``"umap"``, :func:`neighbor_embedding_loss`; ``"infonce"``,
    :func:`contrastive_embedding_loss`; the attraction times ``exaggeration``. Returns one
    value per head."""
    d2 = block_sq_distances(heads, tails, size)
    own = (torch.arange(len(d2), device=d2.device) % size)[:, None]
    if objective == "umap":
        attraction = _umap_terms(d2.gather(1, own)[:, 0], a, b, eps)[0]
        repulsion = _umap_terms(d2.scatter(1, own, math.inf), a, b, eps)[1]
        return exaggeration * attraction + repulsion.sum(dim=1)
    logits = -torch.log1p(d2)
    return torch.logsumexp(logits, dim=1) - exaggeration * logits.gather(1, own)[:, 0]
