#!/usr/bin/env python3
"""Generates test/fixtures/family_*.json: float64 references for the focal-loss family (issue 17).

Each loss is written here directly from its definition in PyTorch float64 and differentiated by
autograd; nothing calls the library, torchvision or mmdet. Run from the repository root with a
Python that has torch and mpmath (the repository's ignored .venv: `python3 -m venv .venv &&
.venv/bin/pip install torch==2.13.0 numpy`; mpmath comes with torch):

    .venv/bin/python tools/gen_family_fixtures.py

Definitions (p = softmax or sigmoid of the logits, y' the label after label smoothing):

  poly softmax focal (focalLoss + polyEpsilon = eps), per row, classes j:
      L = sum_j alpha_j y'_j [ -(1 - p_j)^gamma log p_j + eps (1 - p_j)^(gamma + 1) ]
    For one-hot labels this is the issue's alpha_t [ -(1 - p_t)^gamma log p_t + eps (1 - p_t)^(gamma+1) ].
    For soft labels and label smoothing it is the per-class extension chosen here (each class j
    with y'_j > 0 contributes its own poly term). NB: PolyLoss' published poly-1 code for soft
    labels instead uses p_t = sum_j y'_j p_j in a single eps (1 - p_t) term; the two differ there.
  poly sigmoid focal (sigmoidFocalLoss + polyEpsilon), elementwise:
      L = alpha_t [ ce (1 - p_t)^gamma + eps (1 - p_t)^(gamma + 1) ]
    ce = BCE-with-logits(x, y'), p_t = p y' + (1 - p)(1 - y'), alpha_t = alpha y' + (1 - alpha)(1 - y')
    or 1 when alpha is null. The issue multiplies the eps term by alpha_t as well; PolyLoss' published
    code adds eps (1 - p_t)^(gamma + 1) after the alpha_t weighting. Balanced cases with eps != 0 also
    store that form as `lossPublishedForm` (no gradient) to document the difference.
  asymmetric (Ridnik et al. 2021), elementwise, multi-label y in {0, 1}:
      L = -y (1 - p)^gammaPos log p - (1 - y) p_m^gammaNeg log(1 - p_m),  p_m = max(p - clip, 0)
    Differentiated through the focusing weights (ASL's optional disable_torch_grad_focal_loss is not
    modelled), without ASL's log clamp eps = 1e-8. At p <= clip the negative term and its gradient
    are 0 (the subgradient at the kink p = clip).
  varifocal (Zhang et al. 2021, mmdet), elementwise, q in [0, 1]:
      L = BCE(x, q) * (w if q > 0 else alpha |p - q|^gamma), w = q (iou_weighted=True, the default)
      or 1 (iouWeighted false)
    The alpha |p - q|^gamma weight applies to q = 0 exactly (mmdet's `target <= 0`), where it is
    alpha p^gamma; every q > 0, however small, uses the weight q. Weights are not detached.
  quality focal (Li et al. 2020, GFL), elementwise, q in [0, 1]:
      L = |q - p|^beta * BCE(x, q)
    Where q - p is exactly 0 in float64 the gradient uses the subgradient 0 (unbounded for beta < 1);
    0^0 = 1 for beta = 0.
  logit-adjusted focal (Menon et al. 2021; focalLoss + logitAdjustment):
      the softmax focal loss above (eps included) of z + tau log(pi), pi = counts / sum(counts), or
      the given priors. Gradients are with respect to z (the shift is a constant).

Numerics: the formulas are evaluated in log space so that the float64 reference is exact for every
finite logit (|logit| up to 1e4 in the `extreme_*` cases): log p = log_softmax / logsigmoid,
log(1 - p_j) = logsumexp over the other classes - logsumexp, 1 - p_t = y (1 - p) + (1 - y) p (no
cancellation), q - p = q (1 - p) - (1 - q) p, and powers as exp(gamma * log(base)). Where a base is
exactly 0 in float64 (a saturated p, or p = q) the power is selected by torch.where on a safe base,
so autograd returns the true limit (0) instead of 0 * inf = NaN. Every case, extreme or not, is
then re-evaluated in 50-digit mpmath from the plain formulas (gradient by mpmath.diff); the
largest float64-vs-mpmath disagreements are stored in each file under `mpmathCheck`.

Inputs are drawn from a fixed seed and rounded to float32 (the library's dtype), so the library,
the JS reference and this generator see exactly the same inputs. Weights and the reductions follow
tf.losses.computeWeightedLoss (NONE, SUM, MEAN, SUM_BY_NONZERO_WEIGHTS), except that a zero
denominator gives 0 (the library's rule) instead of NaN.
"""

import json
import os
import sys

import mpmath
import numpy as np
import torch

torch.set_default_dtype(torch.float64)
OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures")
GENERATOR = "tools/gen_family_fixtures.py"
NEG_INF = float("-inf")
mpmath.mp.dps = 50


def f32(a):
    return np.asarray(a, dtype=np.float32)


def to_list(a):
    return np.asarray(a, dtype=np.float64).tolist()


def t64(a):
    return torch.tensor(np.asarray(a, dtype=np.float64))


# ------------------------------------------------------------------------------------------------
# torch float64 definitions (stable forms)


def safe_pow(base, exponent, is_zero):
    """base^exponent with the value 0^exponent and a zero gradient where is_zero."""
    safe = torch.where(is_zero, torch.ones_like(base), base)
    zero_value = 1.0 if exponent == 0 else 0.0
    return torch.where(is_zero, torch.full_like(base, zero_value), safe ** exponent)


def softmax_log_terms(z):
    """log p and log(1 - p) over the last axis of z [..., C], both exact in float64."""
    classes = z.shape[-1]
    log_p = torch.log_softmax(z, dim=-1)
    eye = torch.eye(classes, dtype=torch.bool)
    others = torch.where(eye, torch.tensor(NEG_INF), z.unsqueeze(-2).expand(*z.shape, classes))
    log_one_minus_p = torch.logsumexp(others, dim=-1) - torch.logsumexp(z, dim=-1, keepdim=True)
    return log_p, log_one_minus_p


def poly_softmax_focal_torch(z, y, alpha, gamma, eps):
    """Per-row loss; y dense [..., C] (already smoothed), alpha scalar or [C]."""
    log_p, log_u = softmax_log_terms(z)
    modulating = torch.exp(gamma * log_u)
    poly = torch.exp((gamma + 1) * log_u)
    return (t64(alpha) * y * (-modulating * log_p + eps * poly)).sum(dim=-1)


def log_sigmoid_pair(x):
    return torch.nn.functional.logsigmoid(x), torch.nn.functional.logsigmoid(-x)


def poly_sigmoid_focal_torch(x, y, alpha, gamma, eps, alpha_weights_poly=True):
    log_p, log_q = log_sigmoid_pair(x)
    ce = -(y * log_p + (1 - y) * log_q)
    # log(1 - p_t) = log(y (1 - p) + (1 - y) p); log(0) = -inf drops a term for hard labels.
    log_u = torch.logaddexp(torch.log(y) + log_q, torch.log1p(-y) + log_p)
    focal = ce * torch.exp(gamma * log_u)
    poly = eps * torch.exp((gamma + 1) * log_u)
    alpha_t = 1.0 if alpha is None else alpha * y + (1 - alpha) * (1 - y)
    return alpha_t * (focal + poly) if alpha_weights_poly else alpha_t * focal + poly


def asymmetric_torch(x, y, gamma_pos, gamma_neg, clip):
    log_p, log_q = log_sigmoid_pair(x)
    positive = -y * torch.exp(gamma_pos * log_q) * log_p
    if clip == 0:
        negative_term = torch.exp(gamma_neg * log_p) * log_q  # p_m = p, log(1 - p_m) = logsigmoid(-x)
    else:
        p = torch.exp(log_p)
        shifted = p > clip
        p_m = torch.where(shifted, p - clip, torch.ones_like(p))
        log_one_minus_p_m = torch.log(torch.where(shifted, torch.exp(log_q) + clip, torch.ones_like(p)))
        negative_term = torch.where(shifted, p_m ** gamma_neg * log_one_minus_p_m, torch.zeros_like(p))
    return positive - (1 - y) * negative_term


def varifocal_torch(x, q, alpha, gamma, iou_weighted=True):
    log_p, log_q = log_sigmoid_pair(x)
    bce = -(q * log_p + (1 - q) * log_q)
    # the q = 0 branch: alpha |p - q|^gamma = alpha p^gamma; positives: q, or 1 (iou_weighted=False)
    weight = torch.where(q > 0, q if iou_weighted else torch.ones_like(q), alpha * torch.exp(gamma * log_p))
    return bce * weight


def quality_focal_torch(x, q, beta):
    log_p, log_q = log_sigmoid_pair(x)
    bce = -(q * log_p + (1 - q) * log_q)
    d = q * torch.exp(log_q) - (1 - q) * torch.exp(log_p)  # q - p without cancellation at q in {0, 1}
    return safe_pow(torch.abs(d), beta, d == 0) * bce


# ------------------------------------------------------------------------------------------------
# mpmath: the plain formulas at 50 digits, for the cross-check


def mp_sigmoid(x):
    return 1 / (1 + mpmath.exp(-x)), 1 / (1 + mpmath.exp(x))


def mp_bce(x, y):
    p, q = mp_sigmoid(x)
    return -(y * mpmath.log(p) + (1 - y) * mpmath.log(q)) if 0 < y < 1 else (
        -mpmath.log(p) if y == 1 else -mpmath.log(q))


def mp_poly_sigmoid(x, y, alpha, gamma, eps):
    p, q = mp_sigmoid(x)
    u = y * q + (1 - y) * p
    alpha_t = 1 if alpha is None else alpha * y + (1 - alpha) * (1 - y)
    return alpha_t * (mp_bce(x, y) * mp_pow(u, gamma) + eps * mp_pow(u, gamma + 1))


def mp_pow(base, exponent):
    return mpmath.mpf(1) if exponent == 0 else (mpmath.mpf(0) if base == 0 else base ** exponent)


def mp_asymmetric(x, y, gamma_pos, gamma_neg, clip):
    p, q = mp_sigmoid(x)
    p_m = max(p - clip, 0)
    loss = 0
    if y != 0:
        loss -= y * mp_pow(q, gamma_pos) * mpmath.log(p)
    if y != 1 and p_m > 0:
        loss -= (1 - y) * mp_pow(p_m, gamma_neg) * mpmath.log(q + clip)
    return loss


def mp_varifocal(x, q, alpha, gamma, iou_weighted=True):
    p, _ = mp_sigmoid(x)
    return mp_bce(x, q) * ((q if iou_weighted else 1) if q > 0 else alpha * mp_pow(abs(p - q), gamma))


def mp_quality_focal(x, q, beta):
    p, qbar = mp_sigmoid(x)
    return mp_pow(abs(q * qbar - (1 - q) * p), beta) * mp_bce(x, q)


def mp_poly_softmax_row(z, y, alpha, gamma, eps):
    e = [mpmath.exp(v - max(z)) for v in z]
    s = sum(e)
    loss = 0
    for j in range(len(z)):
        if y[j] == 0:
            continue
        p = e[j] / s
        u = sum(e[k] for k in range(len(z)) if k != j) / s
        a = alpha if np.isscalar(alpha) else alpha[j]
        loss += a * y[j] * (-mp_pow(u, gamma) * mpmath.log(p) + eps * mp_pow(u, gamma + 1))
    return loss


# Errors below this fraction of a case's largest value count as absolute: where eps = -1 and gamma = 0
# the poly term cancels the cross-entropy's leading term (ce - (1 - p_t) ~ (1 - p_t)^2 / 2), and the
# float64 value there is exact to ~1e-25 absolute but only ~1e-7 relative.
ABSOLUTE_FLOOR = 1e-13


class MpCheck:
    """Largest relative disagreement between the torch float64 values and mpmath, per file."""

    def __init__(self):
        self.loss = 0.0
        self.grad = 0.0

    @staticmethod
    def rel(got, exact, scale):
        exact = float(exact)
        return abs(got - exact) / max(abs(exact), ABSOLUTE_FLOOR * scale, 1e-300)

    def elementwise(self, name, fn, x, loss, grad):
        xs = np.asarray(x, dtype=np.float64).ravel()
        ls = np.asarray(loss).ravel()
        gs = np.asarray(grad).ravel()
        lscale = max(np.abs(ls).max(), 1.0)
        gscale = max(np.abs(gs).max(), 1e-300)
        for i, xi in enumerate(xs):
            f = fn(i)
            x0 = mpmath.mpf(float(xi))
            self.loss = max(self.loss, self.rel(ls[i], f(x0), lscale))
            self.grad = max(self.grad, self.rel(gs[i], mpmath.diff(f, x0), gscale))
        self.assert_close(name)

    def rows(self, name, fn, z, loss, grad):
        z = np.asarray(z, dtype=np.float64).reshape(-1, np.shape(z)[-1])
        ls = np.asarray(loss).ravel()
        gs = np.asarray(grad).reshape(z.shape)
        lscale = max(np.abs(ls).max(), 1.0)
        gscale = max(np.abs(gs).max(), 1e-300)
        for i, row in enumerate(z):
            f = fn(i)
            z0 = [mpmath.mpf(float(v)) for v in row]
            self.loss = max(self.loss, self.rel(ls[i], f(*z0), lscale))
            for j in range(len(row)):
                order = [0] * len(row)
                order[j] = 1
                self.grad = max(self.grad, self.rel(gs[i, j], mpmath.diff(f, z0, order), gscale))
        self.assert_close(name)

    def assert_close(self, name):
        assert self.loss < 1e-10 and self.grad < 1e-9, (name, self.loss, self.grad)

    def summary(self):
        return {"digits": mpmath.mp.dps, "maxRelativeLossError": self.loss,
                "maxRelativeGradError": self.grad,
                "note": f"|torch - mpmath| / max(|mpmath|, {ABSOLUTE_FLOOR:g} max|values of the case|), over all cases"}


# ------------------------------------------------------------------------------------------------
# reductions (tf.losses.computeWeightedLoss, zero denominator -> 0)


def reduce_torch(losses, weights, reduction):
    n = losses.numel()
    if weights is None:
        if reduction == "none":
            return losses
        total = losses.sum()
        return total if reduction == "sum" else total / max(n, 1)
    w = t64(weights["values"]).reshape(weights["shape"])
    weighted = losses * w
    if reduction == "none":
        return weighted
    total = weighted.sum()
    if reduction == "sum":
        return total
    broadcast = (w * torch.ones_like(losses)).detach()
    if reduction == "mean":
        denominator = float(broadcast.sum())
    else:
        denominator = float((broadcast != 0).sum())
    return total / (denominator if denominator != 0 else 1.0)


def reductions_block(loss_fn, x_np, weights, kept=None):
    """Reduced values without and with `weights`, and d(reduced)/d(logits) for the weighted ones.

    `kept` (rows not ignored by ignoreIndex) multiplies the weights, and stands for them in the
    unweighted reductions: ignored rows leave MEAN and SUM_BY_NONZERO_WEIGHTS, as in the library.
    """
    unweighted, weighted = None, weights
    if kept is not None:
        shape = list(kept.shape)
        unweighted = {"shape": shape, "values": to_list(kept.ravel())}
        w = np.broadcast_to(np.asarray(weights["values"]).reshape(weights["shape"]), shape) * kept
        weighted = {"shape": shape, "values": to_list(w.ravel())}
    block = {"weights": weights, "unweighted": {}, "weighted": {}, "weightedGrad": {}}
    for reduction in ["sum", "mean", "sumByNonzeroWeights"]:
        x = t64(x_np).requires_grad_(True)
        block["unweighted"][reduction] = float(reduce_torch(loss_fn(x), unweighted, reduction).detach())
        x = t64(x_np).requires_grad_(True)
        value = reduce_torch(loss_fn(x), weighted, reduction)
        value.backward()
        block["weighted"][reduction] = float(value.detach())
        block["weightedGrad"][reduction] = to_list(x.grad)
    x = t64(x_np)
    block["weighted"]["none"] = to_list(reduce_torch(loss_fn(x), weighted, "none").detach())
    return block


def loss_and_grad(loss_fn, x_np):
    x = t64(x_np).requires_grad_(True)
    loss = loss_fn(x)
    loss.sum().backward()
    loss_np = loss.detach().numpy()
    grad_np = x.grad.numpy()
    assert np.isfinite(loss_np).all() and np.isfinite(grad_np).all()
    return loss_np, grad_np


def weights_for(rng, loss_shape, kind):
    if kind == "scalar":
        return {"shape": [], "values": [1.5]}
    if kind == "zero":
        return {"shape": list(loss_shape), "values": [0.0] * int(np.prod(loss_shape))}
    if kind == "broadcast":  # [d0, 1, ...]: one weight per leading index
        shape = [loss_shape[0]] + [1] * (len(loss_shape) - 1)
    else:
        shape = list(loss_shape)
    w = f32(rng.uniform(0.0, 2.0, size=shape))
    w.ravel()[0] = 0.0  # a zero weight: SUM_BY_NONZERO_WEIGHTS counts only the others
    return {"shape": shape, "values": to_list(w.ravel())}


WEIGHT_KINDS = ["full", "broadcast", "scalar", "full", "broadcast", "zero"]


# ------------------------------------------------------------------------------------------------
# softmax family: poly focal and logit-adjusted focal


def smoothed_dense(labels_dense, smoothing):
    y = np.asarray(labels_dense, dtype=np.float64)
    return y * (1 - smoothing) + smoothing / y.shape[-1] if smoothing else y


def log_priors(adjustment):
    if adjustment is None:
        return None
    if "priors" in adjustment:
        pi = np.asarray(adjustment["priors"], dtype=np.float64)
    else:
        counts = np.asarray(adjustment["classCounts"], dtype=np.float64)
        pi = counts / counts.sum()
    return adjustment.get("tau", 1.0) * np.log(pi)


def softmax_case(rng, check, name, logits, *, sparse=None, dense=None, gamma=2.0, alpha=0.25,
                 eps=0.0, smoothing=0.0, ignore_index=None, adjustment=None, weights_kind="full",
                 extreme_note=None):
    logits = f32(logits)
    classes = logits.shape[-1]
    if sparse is not None:
        sparse = np.asarray(sparse, dtype=np.int64)
        kept = sparse != (ignore_index if ignore_index is not None else -(10 ** 9))
        dense_labels = np.zeros(logits.shape)
        idx = np.where(kept, sparse, 0)
        np.put_along_axis(dense_labels, idx[..., None], 1.0, axis=-1)
        dense_labels = dense_labels * kept[..., None]
    else:
        dense_labels = f32(dense)
        kept = np.ones(logits.shape[:-1], dtype=bool)
    y = t64(smoothed_dense(dense_labels, smoothing) * kept[..., None])
    shift = log_priors(adjustment)

    def loss_fn(z):
        if shift is not None:
            z = z + t64(shift)
        return poly_softmax_focal_torch(z, y, alpha, gamma, eps)

    loss, grad = loss_and_grad(loss_fn, logits)
    loss_shape = list(logits.shape[:-1])
    weights = weights_for(rng, loss_shape, weights_kind)
    options = {"gamma": gamma, "alpha": alpha, "labelSmoothing": smoothing}
    if eps != 0.0 or adjustment is None:
        options["polyEpsilon"] = eps
    if ignore_index is not None:
        options["ignoreIndex"] = ignore_index
    if adjustment is not None:
        options["logitAdjustment"] = adjustment
    case = {"name": name, "options": options, "shape": list(logits.shape), "logits": to_list(logits)}
    if sparse is not None:
        case["sparseLabels"] = sparse.tolist()
        if ignore_index is None:
            case["labels"] = to_list(dense_labels)  # the same labels one-hot: dense path
    else:
        case["labels"] = to_list(dense_labels)
    if shift is not None:
        case["adjustedLogits"] = to_list(logits.astype(np.float64) + shift)
    case["loss"] = to_list(loss)
    case["grad"] = to_list(grad)
    case["reductions"] = reductions_block(loss_fn, logits, weights,
                                          kept.astype(np.float64) if ignore_index is not None else None)
    if extreme_note:
        case["reference"] = extreme_note

    y_np = y.numpy().reshape(-1, classes)
    z_rows = logits.astype(np.float64).reshape(-1, classes)
    shift_mp = [mpmath.mpf(0)] * classes if shift is None else [mpmath.mpf(float(s)) for s in shift]
    check.rows(name, lambda i: (lambda *z: mp_poly_softmax_row(
        [zj + sj for zj, sj in zip(z, shift_mp)], [mpmath.mpf(float(v)) for v in y_np[i]],
        alpha if np.isscalar(alpha) else [mpmath.mpf(a) for a in alpha], gamma, eps)),
        z_rows, loss, grad)
    return case


EXTREME_SOFTMAX_NOTE = ("torch float64 autograd of the log-space form (log_softmax, log(1 - p_j) as "
                        "logsumexp of the other classes minus logsumexp); checked against 50-digit "
                        "mpmath of the plain formula (mpmath.diff for the gradient)")
EXTREME_SIGMOID_NOTE = ("torch float64 autograd of the log-space form (logsigmoid(+-x), 1 - p_t = "
                        "y (1 - p) + (1 - y) p, powers as exp(g log base), torch.where on a safe base "
                        "where the base is 0 in float64); checked against 50-digit mpmath of the plain "
                        "formula (mpmath.diff for the gradient)")

EXTREME_ROWS = np.array([
    [1e4, -1e4, 0.0, 5.0, -3.0],
    [1e4, -1e4, 0.0, 5.0, -3.0],
    [1e4, -1e4, 0.0, 5.0, -3.0],
    [-1e4, -1e4, 1e4, 1e4 - 1.0, 0.0],
    [1e3, 0.0, -1e3, 30.0, 1e3 - 40.0],
    [100.0, -100.0, 35.0, 0.0, -20.0],
])
EXTREME_LABELS = np.array([0, 1, 2, 3, 4, 1])


def poly_softmax_cases(rng, check):
    cases = []
    n, c = 6, 5
    labels = rng.integers(0, c, size=n)
    logits = rng.normal(0, 2.0, size=(n, c))
    soft = rng.dirichlet(np.ones(c), size=n)
    kinds = iter(WEIGHT_KINDS * 20)
    for gamma in [0.0, 0.5, 2.0]:
        for eps in [-1.0, 0.0, 1.0]:
            cases.append(softmax_case(rng, check, f"gamma{gamma:g}_eps{eps:g}", logits, sparse=labels,
                                      gamma=gamma, eps=eps, weights_kind=next(kinds)))
    cases.append(softmax_case(rng, check, "gamma3.5_eps2.5_alpha1", logits, sparse=labels, gamma=3.5,
                              eps=2.5, alpha=1.0, weights_kind=next(kinds)))
    cases.append(softmax_case(rng, check, "class_alpha_eps1", logits, sparse=labels, gamma=2.0, eps=1.0,
                              alpha=[0.1, 0.2, 0.3, 0.25, 0.15], weights_kind=next(kinds)))
    cases.append(softmax_case(rng, check, "label_smoothing_eps-1", logits, sparse=labels, gamma=2.0,
                              eps=-1.0, smoothing=0.1, weights_kind=next(kinds)))
    cases.append(softmax_case(rng, check, "label_smoothing_class_alpha_eps0.5_gamma0.5", logits,
                              sparse=labels, gamma=0.5, eps=0.5, smoothing=0.2,
                              alpha=[1.0, 0.5, 0.25, 2.0, 0.75], weights_kind=next(kinds)))
    cases.append(softmax_case(rng, check, "soft_labels_class_alpha_eps1", logits, dense=soft,
                              gamma=2.0, eps=1.0, alpha=[0.1, 0.2, 0.3, 0.25, 0.15],
                              weights_kind=next(kinds)))
    cases.append(softmax_case(rng, check, "soft_labels_smoothing_eps-0.5_gamma0.5", logits, dense=soft,
                              gamma=0.5, eps=-0.5, smoothing=0.1, weights_kind=next(kinds)))
    ignored = labels.copy()
    ignored[[1, 4]] = -1
    cases.append(softmax_case(rng, check, "ignore_index_eps1", logits, sparse=ignored, gamma=2.0,
                              eps=1.0, ignore_index=-1, weights_kind="full"))
    b, t, c3 = 2, 3, 4
    cases.append(softmax_case(rng, check, "rank3_smoothing_eps0.5", rng.normal(0, 2.0, size=(b, t, c3)),
                              sparse=rng.integers(0, c3, size=(b, t)), gamma=2.0, eps=0.5,
                              smoothing=0.1, weights_kind="broadcast"))
    cases.append(softmax_case(rng, check, "all_weights_zero", logits, sparse=labels, gamma=2.0,
                              eps=1.0, weights_kind="zero"))
    for gamma in [0.0, 0.5, 0.9]:
        for eps in [-1.0, 1.0]:
            cases.append(softmax_case(rng, check, f"extreme_gamma{gamma:g}_eps{eps:g}", EXTREME_ROWS,
                                      sparse=EXTREME_LABELS, gamma=gamma, eps=eps,
                                      weights_kind=next(kinds), extreme_note=EXTREME_SOFTMAX_NOTE))
    cases.append(softmax_case(rng, check, "extreme_smoothing_gamma0.5_eps-1", EXTREME_ROWS,
                              sparse=EXTREME_LABELS, gamma=0.5, eps=-1.0, smoothing=0.1,
                              weights_kind=next(kinds), extreme_note=EXTREME_SOFTMAX_NOTE))
    cases.append(softmax_case(rng, check, "extreme_soft_labels_gamma0.25_eps2", EXTREME_ROWS,
                              dense=rng.dirichlet(np.ones(5), size=6), gamma=0.25, eps=2.0,
                              alpha=[0.1, 0.2, 0.3, 0.25, 0.15], weights_kind=next(kinds),
                              extreme_note=EXTREME_SOFTMAX_NOTE))
    return cases


def logit_adjusted_cases(rng, check):
    cases = []
    n, c = 8, 5
    counts = [500, 120, 40, 10, 3]
    labels = rng.integers(0, c, size=n)
    logits = rng.normal(0, 2.0, size=(n, c))
    soft = rng.dirichlet(np.ones(c), size=n)
    kinds = iter(WEIGHT_KINDS * 20)
    for tau in [0.5, 1.0, 2.0]:
        cases.append(softmax_case(rng, check, f"counts_tau{tau:g}", logits, sparse=labels, gamma=2.0,
                                  adjustment={"classCounts": counts, "tau": tau},
                                  weights_kind=next(kinds)))
    cases.append(softmax_case(rng, check, "counts_default_tau", logits, sparse=labels, gamma=2.0,
                              adjustment={"classCounts": counts}, weights_kind=next(kinds)))
    cases.append(softmax_case(rng, check, "gamma0_alpha1_logit_adjusted_cross_entropy", logits,
                              sparse=labels, gamma=0.0, alpha=1.0,
                              adjustment={"classCounts": counts, "tau": 1.0}, weights_kind=next(kinds)))
    priors = (np.asarray(counts, dtype=np.float64) / sum(counts))[::-1].tolist()
    cases.append(softmax_case(rng, check, "priors_tau1_gamma0.5", logits, sparse=labels, gamma=0.5,
                              adjustment={"priors": priors, "tau": 1.0}, weights_kind=next(kinds)))
    cases.append(softmax_case(rng, check, "priors_tau2_class_alpha_smoothing", logits, sparse=labels,
                              gamma=2.0, alpha=[0.1, 0.2, 0.3, 0.25, 0.15], smoothing=0.1,
                              adjustment={"priors": [0.4, 0.3, 0.15, 0.1, 0.05], "tau": 2.0},
                              weights_kind=next(kinds)))
    cases.append(softmax_case(rng, check, "soft_labels_counts_tau1", logits, dense=soft, gamma=2.0,
                              adjustment={"classCounts": counts, "tau": 1.0}, weights_kind=next(kinds)))
    cases.append(softmax_case(rng, check, "with_poly_eps1", logits, sparse=labels, gamma=2.0, eps=1.0,
                              adjustment={"classCounts": counts, "tau": 1.0}, weights_kind=next(kinds)))
    cases.append(softmax_case(rng, check, "ignore_index_counts_tau0.5", logits,
                              sparse=np.where(np.arange(n) % 3 == 0, -1, labels), gamma=2.0,
                              ignore_index=-1, adjustment={"classCounts": counts, "tau": 0.5},
                              weights_kind="full"))
    for gamma in [0.0, 0.5]:
        cases.append(softmax_case(rng, check, f"extreme_gamma{gamma:g}_tau1", EXTREME_ROWS,
                                  sparse=EXTREME_LABELS, gamma=gamma,
                                  adjustment={"classCounts": counts, "tau": 1.0},
                                  weights_kind=next(kinds), extreme_note=EXTREME_SOFTMAX_NOTE))
    cases.append(softmax_case(rng, check, "extreme_gamma0.9_tau2_eps-1_smoothing", EXTREME_ROWS,
                              sparse=EXTREME_LABELS, gamma=0.9, eps=-1.0, smoothing=0.1,
                              adjustment={"classCounts": counts, "tau": 2.0},
                              weights_kind=next(kinds), extreme_note=EXTREME_SOFTMAX_NOTE))
    return cases


# ------------------------------------------------------------------------------------------------
# elementwise (sigmoid) family


def elementwise_case(rng, check, name, logits, targets, options, torch_fn, mp_fn, *,
                     weights_kind="full", extreme=False, extra=None):
    logits = f32(logits)
    targets = f32(targets)
    y = t64(targets)
    loss, grad = loss_and_grad(lambda x: torch_fn(x, y), logits)
    weights = weights_for(rng, list(logits.shape), weights_kind)
    case = {"name": name, "options": options, "shape": list(logits.shape), "logits": to_list(logits),
            "targets": to_list(targets), "loss": to_list(loss), "grad": to_list(grad),
            "reductions": reductions_block(lambda x: torch_fn(x, y), logits, weights)}
    if extra:
        case.update(extra(logits, y))
    if extreme:
        case["reference"] = EXTREME_SIGMOID_NOTE
    flat_targets = targets.astype(np.float64).ravel()
    check.elementwise(name, lambda i: (lambda x: mp_fn(x, mpmath.mpf(float(flat_targets[i])))),
                      logits, loss, grad)
    return case


EXTREME_X = np.array([
    [1e4, -1e4, 1e3, -1e3, 100.0, -100.0, 30.0, -30.0],
    [1e4, -1e4, 1e3, -1e3, 100.0, -100.0, 30.0, -30.0],
    [1e4, -1e4, 20.0, -20.0, 0.0, 1e4, -1e4, 0.0],
])


def poly_sigmoid_cases(rng, check):
    cases = []
    n, k = 6, 7
    y = (rng.uniform(size=(n, k)) < 0.3).astype(np.float64)
    logits = rng.normal(0, 3.0, size=(n, k))
    soft = rng.uniform(0, 1, size=(n, k))
    kinds = iter(WEIGHT_KINDS * 20)

    def add(name, x, t, alpha=0.25, gamma=2.0, eps=0.0, smoothing=0.0, extreme=False):
        def smooth(tt):
            return tt * (1 - smoothing) + 0.5 * smoothing if smoothing else tt

        def torch_fn(xx, tt):
            return poly_sigmoid_focal_torch(xx, smooth(tt), alpha, gamma, eps)

        def mp_fn(xx, tt):
            a = None if alpha is None else mpmath.mpf(alpha)
            # the smoothed label as float64 computes it: the same input the torch reference sees
            return mp_poly_sigmoid(xx, mpmath.mpf(smooth(float(tt))), a, gamma, eps)

        extra = None
        if alpha is not None and eps != 0:
            def extra(xx, tt):
                published = poly_sigmoid_focal_torch(t64(xx), smooth(tt), alpha, gamma, eps,
                                                     alpha_weights_poly=False)
                return {"lossPublishedForm": to_list(published.detach())}
        options = {"gamma": gamma, "alpha": alpha, "labelSmoothing": smoothing, "polyEpsilon": eps}
        cases.append(elementwise_case(rng, check, name, x, t, options, torch_fn, mp_fn,
                                      weights_kind=next(kinds), extreme=extreme, extra=extra))

    for gamma in [0.0, 0.5, 2.0]:
        for eps in [-1.0, 0.0, 1.0]:
            add(f"alpha0.25_gamma{gamma:g}_eps{eps:g}", logits, y, gamma=gamma, eps=eps)
    add("alpha_null_gamma2_eps1", logits, y, alpha=None, eps=1.0)
    add("alpha_null_gamma0.5_eps-1", logits, y, alpha=None, gamma=0.5, eps=-1.0)
    add("alpha0.7_smoothing0.1_eps2", logits, y, alpha=0.7, eps=2.0, smoothing=0.1)
    add("soft_targets_eps1", logits, soft, eps=1.0)
    add("soft_targets_alpha_null_gamma0.5_eps-0.5", logits, soft, alpha=None, gamma=0.5, eps=-0.5)
    add("rank3_eps1", rng.normal(0, 2.0, size=(2, 3, 4)), (rng.uniform(size=(2, 3, 4)) < 0.4),
        gamma=2.0, eps=1.0)
    ex_y = np.array([[1, 0, 1, 0, 1, 0, 1, 0], [0, 1, 0, 1, 0, 1, 0, 1], [1, 0, 1, 0, 0.5, 0.3, 0.7, 1]])
    for gamma in [0.0, 0.5, 0.9]:
        for eps in [-1.0, 1.0]:
            add(f"extreme_gamma{gamma:g}_eps{eps:g}", EXTREME_X, ex_y, gamma=gamma, eps=eps, extreme=True)
    add("extreme_alpha_null_gamma0.5_eps1_smoothing", EXTREME_X, ex_y, alpha=None, gamma=0.5, eps=1.0,
        smoothing=0.1, extreme=True)
    return cases


def asymmetric_cases(rng, check):
    cases = []
    n, k = 6, 8
    y = (rng.uniform(size=(n, k)) < 0.3).astype(np.float64)
    logits = rng.normal(-1.0, 3.0, size=(n, k))
    # negatives on both sides of the clip: p = 0.01, 0.04, 0.06, 0.2 (sigmoid^-1 of each)
    logits[0, :4] = np.log(np.array([0.01, 0.04, 0.06, 0.2]) / (1 - np.array([0.01, 0.04, 0.06, 0.2])))
    y[0, :4] = 0.0
    kinds = iter(WEIGHT_KINDS * 20)

    def add(name, x, t, gamma_pos=0.0, gamma_neg=4.0, clip=0.05, extreme=False):
        options = {"gammaPos": gamma_pos, "gammaNeg": gamma_neg, "clip": clip}
        cases.append(elementwise_case(
            rng, check, name, x, t, options,
            lambda xx, tt: asymmetric_torch(xx, tt, gamma_pos, gamma_neg, clip),
            lambda xx, tt: mp_asymmetric(xx, tt, gamma_pos, gamma_neg, mpmath.mpf(clip)),
            weights_kind=next(kinds), extreme=extreme))

    add("defaults", logits, y)
    add("clip0_gammaNeg4", logits, y, clip=0.0)
    add("gammaPos1_gammaNeg2", logits, y, gamma_pos=1.0, gamma_neg=2.0)
    add("gammaPos0.5_gammaNeg0.5", logits, y, gamma_pos=0.5, gamma_neg=0.5)
    add("gammaPos2_gammaNeg0_clip0.05", logits, y, gamma_pos=2.0, gamma_neg=0.0)
    add("all_zero_clip0_is_bce", logits, y, gamma_pos=0.0, gamma_neg=0.0, clip=0.0)
    add("clip0.2_gammaNeg1", logits, y, gamma_pos=0.0, gamma_neg=1.0, clip=0.2)
    add("rank3_defaults", rng.normal(0, 2.0, size=(2, 3, 4)), (rng.uniform(size=(2, 3, 4)) < 0.4))
    ex_y = np.array([[1, 0, 1, 0, 1, 0, 1, 0], [0, 1, 0, 1, 0, 1, 0, 1], [1, 0, 1, 0, 0, 0, 1, 1]])
    for gp, gn, clip in [(0.0, 0.0, 0.0), (0.5, 0.5, 0.0), (0.0, 0.9, 0.05), (0.5, 0.25, 0.05),
                         (0.0, 4.0, 0.05)]:
        add(f"extreme_gammaPos{gp:g}_gammaNeg{gn:g}_clip{clip:g}", EXTREME_X, ex_y, gamma_pos=gp,
            gamma_neg=gn, clip=clip, extreme=True)
    return cases


def iou_targets(rng, shape, positive_fraction=0.3):
    q = np.where(rng.uniform(size=shape) < positive_fraction, rng.uniform(0.05, 1.0, size=shape), 0.0)
    return q


def varifocal_cases(rng, check):
    cases = []
    n, k = 6, 8
    q = iou_targets(rng, (n, k))
    q[0, :4] = [1.0, 1e-3, 1e-7, 0.0]  # q = 1, tiny q > 0 (weight q, not alpha |p - q|^gamma), 0
    logits = rng.normal(-1.0, 3.0, size=(n, k))
    kinds = iter(WEIGHT_KINDS * 20)

    def add(name, x, t, alpha=0.75, gamma=2.0, extreme=False, iou_weighted=True, case_rng=rng):
        options = {"alpha": alpha, "gamma": gamma}
        if not iou_weighted:
            options["iouWeighted"] = False
        cases.append(elementwise_case(
            case_rng, check, name, x, t, options,
            lambda xx, tt: varifocal_torch(xx, tt, alpha, gamma, iou_weighted),
            lambda xx, tt: mp_varifocal(xx, tt, mpmath.mpf(alpha), gamma, iou_weighted),
            weights_kind=next(kinds), extreme=extreme))

    add("defaults", logits, q)
    add("gamma0", logits, q, gamma=0.0)
    add("gamma0.5_alpha0.25", logits, q, alpha=0.25, gamma=0.5)
    add("gamma1.5_alpha1", logits, q, alpha=1.0, gamma=1.5)
    add("rank3_defaults", rng.normal(0, 2.0, size=(2, 3, 4)), iou_targets(rng, (2, 3, 4), 0.5))
    ex_q = np.array([[1, 0, 1, 0, 0.6, 0, 0.9, 0], [0, 1, 0, 1, 0, 0.3, 0, 1e-3],
                     [0.8, 0, 0.5, 0.2, 0.5, 0, 0, 0.25]])
    for gamma in [0.0, 0.5, 0.9, 2.0]:
        add(f"extreme_gamma{gamma:g}", EXTREME_X, ex_q, gamma=gamma, extreme=True)
    # iouWeighted false (mmdet iou_weighted=False), from their own generator so that the cases
    # above and the other files keep their draws
    own = np.random.default_rng(2026120402)
    add("iou_weighted_false", logits, q, iou_weighted=False, case_rng=own)
    add("iou_weighted_false_gamma0.5_alpha0.25", own.normal(0, 2.0, size=(2, 3, 4)),
        iou_targets(own, (2, 3, 4), 0.5), alpha=0.25, gamma=0.5, iou_weighted=False, case_rng=own)
    add("extreme_iou_weighted_false", EXTREME_X, ex_q, iou_weighted=False, extreme=True, case_rng=own)
    return cases


def quality_focal_cases(rng, check):
    cases = []
    n, k = 6, 8
    q = iou_targets(rng, (n, k), 0.4)
    logits = rng.normal(-1.0, 3.0, size=(n, k))
    # p = q exactly: sigmoid(0) = 0.5 is exact in float64 (the subgradient 0 for beta < 1)
    logits[0, 0], q[0, 0] = 0.0, 0.5
    q[0, 1] = 1.0
    # q near p: relative offsets 1e-2, 1e-3, 1e-4, 1e-5 above and below p
    near_x = f32(rng.normal(0, 2.0, size=8))
    p = 1 / (1 + np.exp(-near_x.astype(np.float64)))
    offsets = np.array([1e-2, -1e-2, 1e-3, -1e-3, 1e-4, -1e-4, 1e-5, -1e-5])
    logits[1, :] = near_x
    q[1, :] = f32(p * (1 + offsets))
    kinds = iter(WEIGHT_KINDS * 20)

    def add(name, x, t, beta=2.0, extreme=False):
        cases.append(elementwise_case(
            rng, check, name, x, t, {"beta": beta},
            lambda xx, tt: quality_focal_torch(xx, tt, beta),
            lambda xx, tt: mp_quality_focal(xx, tt, beta),
            weights_kind=next(kinds), extreme=extreme))

    for beta in [0.0, 0.5, 1.0, 2.0, 3.0]:
        add(f"beta{beta:g}", logits, q, beta=beta)
    add("rank3_defaults", rng.normal(0, 2.0, size=(2, 3, 4)), iou_targets(rng, (2, 3, 4), 0.5))
    ex_q = np.array([[1, 0, 1, 0, 1, 0, 1, 0], [0, 1, 0, 1, 0, 1, 0, 1],
                     [0.8, 0, 0.5, 0.2, 0.5, 1, 0, 0.25]])
    for beta in [0.25, 0.5, 0.9, 2.0]:
        add(f"extreme_beta{beta:g}", EXTREME_X, ex_q, beta=beta, extreme=True)
    return cases


# ------------------------------------------------------------------------------------------------


def write(name, payload):
    os.makedirs(OUT_DIR, exist_ok=True)
    path = os.path.join(OUT_DIR, name)
    # compact numbers, one case per line: small files whose diffs still show which case changed
    header = {k: v for k, v in payload.items() if k != "cases"}
    with open(path, "w") as f:
        f.write(json.dumps(header, indent=1)[:-2] + ',\n "cases": [\n')
        f.write(",\n".join(json.dumps(c, separators=(",", ":")) for c in payload["cases"]))
        f.write("\n ]\n}\n")
    print(f"wrote {os.path.relpath(path)} ({os.path.getsize(path)} bytes)")


def main():
    versions = {"python": sys.version.split()[0], "numpy": np.__version__, "torch": torch.__version__,
                "mpmath": mpmath.__version__}
    rng = np.random.default_rng(20261204)
    files = [
        ("family_poly_softmax_focal.json", "focalLoss with polyEpsilon (Poly-1 focal, softmax)",
         "per row: sum_j alpha_j y'_j [-(1 - p_j)^gamma log p_j + eps (1 - p_j)^(gamma + 1)]",
         poly_softmax_cases),
        ("family_poly_sigmoid_focal.json", "sigmoidFocalLoss with polyEpsilon (Poly-1 focal, sigmoid)",
         "elementwise: alpha_t [ce (1 - p_t)^gamma + eps (1 - p_t)^(gamma + 1)]", poly_sigmoid_cases),
        ("family_asymmetric.json", "asymmetricLoss (ASL, multi-label)",
         "elementwise: -y (1 - p)^gammaPos log p - (1 - y) p_m^gammaNeg log(1 - p_m), "
         "p_m = max(p - clip, 0)", asymmetric_cases),
        ("family_varifocal.json", "varifocalLoss (mmdet iou_weighted)",
         "elementwise: BCE(x, q) (q if q > 0 else alpha |p - q|^gamma)", varifocal_cases),
        ("family_quality_focal.json", "qualityFocalLoss (GFL)",
         "elementwise: |q - p|^beta BCE(x, q); subgradient 0 where q - p = 0", quality_focal_cases),
        ("family_logit_adjusted_focal.json", "focalLoss with logitAdjustment",
         "per row: the softmax (poly) focal loss of z + tau log(pi), pi = counts / sum(counts) or priors",
         logit_adjusted_cases),
    ]
    for file_name, loss, definition, build in files:
        check = MpCheck()
        cases = build(rng, check)
        write(file_name, {
            "generator": GENERATOR, "versions": versions, "loss": loss, "definition": definition,
            "reference": "torch float64 autograd of the definition in log-space form (see the generator's docstring)",
            "arrays": "loss: per row (softmax) / per element (sigmoid), unweighted and unreduced; grad: "
                      "d loss / d logits (of sum(loss)); reductions.weightedGrad[r]: d reduced / d logits",
            "mpmathCheck": check.summary(), "cases": cases})


if __name__ == "__main__":
    main()
