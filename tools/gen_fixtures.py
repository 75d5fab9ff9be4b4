#!/usr/bin/env python3
"""Generates test/fixtures/*.json: focal-loss values computed by Keras and torchvision.

The tests compare the library against these numbers without needing Python at test time.
Run from the repository root with a Python that has tensorflow-cpu, keras 3, torch and torchvision:

    python tools/gen_fixtures.py

Inputs are drawn from a fixed seed and rounded to float32 (the library's dtype), so the library and
Python see exactly the same input values. Keras is evaluated twice:
  * in float64 on those float32 inputs ("perSample"): the exact value of Keras' formula, free of
    Keras' own float32 rounding, which is what the library is tested against;
  * in its default float32 ("perSampleKerasFloat32"): what a Keras user sees; kept for reference
    and for the probability-boundary cases (probs_at_*), where Keras' clip constant 1 - 1e-7 is
    itself rounded to float32 (0.99999988) and that rounding changes the value.
torchvision is evaluated in float64 ("loss"), and its formula also in 60-digit arithmetic with mpmath
("lossExact"): for saturated logits torchvision's own 1 - p_t cancels (p_t = 1 - p computed as
1 - sigmoid(x)), so its float64 result carries a relative error up to ~1e-2 there, while a careful
implementation (the library) should reproduce the exact value.

Keras clips probabilities to [1e-7, 1 - 1e-7] in categorical_focal_crossentropy even when
from_logits=True (softmax first, then clip). The library does not clamp on the logits path, so every
from_logits=True categorical case here is drawn so that no softmax probability reaches the clip
bounds (asserted below); there the two definitions coincide. The case
`logits_clipped_by_keras` deliberately violates this and also stores `perSampleUnclipped`, the
unclipped float64 value, to document the difference.
"""

import json
import os
import sys

import mpmath
import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
import torch  # noqa: E402


def load_torchvision_sigmoid_focal_loss():
    """torchvision.ops.sigmoid_focal_loss, and how it was obtained.

    torchvision's package import loads its C extension, which fails when the installed torch
    build differs from the one torchvision was compiled against (e.g. torch 2.13.0+cpu with the
    plain torchvision 0.28.0 wheel). The focal loss itself is pure Python, so in that case the
    module's own source file is executed with only its usage-logging import stubbed out.
    """
    import importlib.metadata
    import importlib.util

    version = importlib.metadata.version("torchvision")
    try:
        from torchvision.ops import sigmoid_focal_loss as fn
        return fn, version
    except Exception:  # noqa: BLE001 - any import failure of the C extension
        spec = importlib.util.find_spec("torchvision")
        path = os.path.join(os.path.dirname(spec.origin), "ops", "focal_loss.py")
        with open(path) as f:
            source = f.read()
        stub = "def _log_api_usage_once(obj):\n    pass\n"
        source = source.replace("from ..utils import _log_api_usage_once\n", stub)
        namespace = {"__name__": "torchvision_ops_focal_loss"}
        exec(compile(source, path, "exec"), namespace)
        return namespace["sigmoid_focal_loss"], version + " (ops/focal_loss.py run from source)"


sigmoid_focal_loss, TORCHVISION_VERSION = load_torchvision_sigmoid_focal_loss()

KERAS_EPSILON = 1e-7
OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures")


def f32(a):
    return np.asarray(a, dtype=np.float32)


def to_list(a):
    """float32-exact values as JSON numbers: float64 repr of a float32 round-trips exactly."""
    return np.asarray(a, dtype=np.float64).tolist()


def keras_categorical(y_true, y_pred, dtype, **options):
    loss = keras.losses.CategoricalFocalCrossentropy(reduction=None, dtype=dtype, **options)
    return np.asarray(loss(y_true.astype(dtype), y_pred.astype(dtype)), dtype=np.float64)


def keras_categorical_mean(y_true, y_pred, **options):
    loss = keras.losses.CategoricalFocalCrossentropy(dtype="float64", **options)
    return float(loss(y_true.astype("float64"), y_pred.astype("float64")))


def keras_binary(y_true, y_pred, dtype, **options):
    loss = keras.losses.BinaryFocalCrossentropy(reduction=None, dtype=dtype, **options)
    return np.asarray(loss(y_true.astype(dtype), y_pred.astype(dtype)), dtype=np.float64)


def keras_binary_mean(y_true, y_pred, **options):
    loss = keras.losses.BinaryFocalCrossentropy(dtype="float64", **options)
    return float(loss(y_true.astype("float64"), y_pred.astype("float64")))


def softmax64(z):
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def unclipped_categorical_focal(y_true, logits, alpha, gamma, label_smoothing):
    """The library's logits-path definition (no probability clamp), float64."""
    y = np.asarray(y_true, dtype=np.float64)
    if label_smoothing:
        y = y * (1 - label_smoothing) + label_smoothing / y.shape[-1]
    z = np.asarray(logits, dtype=np.float64)
    log_p = z - z.max(axis=-1, keepdims=True)
    log_p = log_p - np.log(np.exp(log_p).sum(axis=-1, keepdims=True))
    one_minus_p = -np.expm1(log_p)
    return (-np.asarray(alpha) * y * one_minus_p**gamma * log_p).sum(axis=-1)


def categorical_cases(rng):
    cases = []

    def add(name, y_true, y_pred, sparse_labels=None, check_no_clip=True, check_boundary=True,
            **options):
        y_true = f32(y_true)
        y_pred = f32(y_pred)
        if options.get("from_logits") and check_no_clip:
            p = softmax64(y_pred)
            assert p.min() > 10 * KERAS_EPSILON and p.max() < 1 - 10 * KERAS_EPSILON, name
        if not options.get("from_logits") and check_boundary:
            p = y_pred / y_pred.sum(axis=-1, keepdims=True, dtype=np.float64)
            # Keep the clip bound 1 - 1e-7 out of reach: its float32 rounding would make the
            # float64 and float32 Keras values disagree (see the module docstring).
            assert p.max() < 1 - 1e-5, name
        alpha = options.get("alpha", 0.25)
        case = {
            "name": name,
            "options": {
                "alpha": alpha,
                "gamma": options.get("gamma", 2.0),
                "fromLogits": options.get("from_logits", False),
                "labelSmoothing": options.get("label_smoothing", 0.0),
            },
            "shape": list(y_pred.shape),
            "yTrue": to_list(y_true),
            "yPred": to_list(y_pred),
            "perSample": to_list(keras_categorical(y_true, y_pred, "float64", **options)),
            "perSampleKerasFloat32": to_list(keras_categorical(y_true, y_pred, "float32", **options)),
            "meanLoss": keras_categorical_mean(y_true, y_pred, **options),
        }
        if sparse_labels is not None:
            case["sparseLabels"] = np.asarray(sparse_labels).astype(int).tolist()
        cases.append(case)
        return case

    n, c = 8, 5
    labels = rng.integers(0, c, size=n)
    one_hot = np.eye(c)[labels]
    logits = rng.normal(0, 2.0, size=(n, c))
    probs_raw = rng.uniform(0.02, 1.0, size=(n, c))  # unnormalised on purpose: Keras renormalises
    probs = softmax64(rng.normal(0, 1.5, size=(n, c)))
    soft = rng.dirichlet(np.ones(c), size=n)

    add("logits_default", one_hot, logits, labels, from_logits=True)
    add("logits_gamma0_alpha1", one_hot, logits, labels, from_logits=True, gamma=0.0, alpha=1.0)
    add("logits_gamma0.5", one_hot, logits, labels, from_logits=True, gamma=0.5, alpha=0.4)
    add("logits_label_smoothing", one_hot, logits, labels, from_logits=True, label_smoothing=0.1)
    add("logits_class_alpha", one_hot, logits, labels, from_logits=True,
        alpha=[0.1, 0.2, 0.3, 0.25, 0.15], gamma=1.5)
    add("logits_soft_labels", soft, logits, None, from_logits=True, gamma=2.5, alpha=0.6)
    add("probs_default", one_hot, probs, labels)
    add("probs_unnormalised", one_hot, probs_raw, labels, gamma=1.0, alpha=0.5)
    add("probs_label_smoothing_class_alpha", one_hot, probs, labels, label_smoothing=0.2,
        alpha=[0.3, 0.1, 0.2, 0.25, 0.15], gamma=3.0)
    add("probs_soft_labels", soft, probs_raw, None, gamma=2.0, alpha=0.25, label_smoothing=0.05)
    # Exact zeros: Keras clips them up to 1e-7, so log stays finite.
    probs_with_zeros = probs.copy()
    probs_with_zeros[np.arange(n), (labels + 1) % c] = 0.0
    probs_with_zeros[0, labels[0]] = 0.0
    add("probs_zeros_clipped", one_hot, probs_with_zeros, labels, gamma=2.0)

    # Probability boundary: p = 1 (and within 1.2e-7 of it). Keras in float32 clips at
    # float32(1 - 1e-7) = 0.99999988, Keras in float64 (and the library, which clips in double) at
    # 1 - 1e-7; perSample and perSampleKerasFloat32 differ here, by design of this case.
    boundary = np.array([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.99999994, 3e-8, 3e-8], [0.5, 0.5, 0.0]])
    add("probs_at_one_boundary", np.eye(3)[[0, 1, 0, 2]], boundary, [0, 1, 0, 2], check_boundary=False,
        gamma=2.0, alpha=0.25)

    # rank 3 (batch, time, classes)
    b, t, c3 = 2, 3, 4
    labels3 = rng.integers(0, c3, size=(b, t))
    add("rank3_logits", np.eye(c3)[labels3], rng.normal(0, 2.0, size=(b, t, c3)), labels3,
        from_logits=True, gamma=2.0, alpha=0.25, label_smoothing=0.1)

    # Documented difference: Keras clips softmax probabilities even for from_logits=True.
    big = np.array([[12.0, -9.0, 0.5, -2.0], [-11.0, 3.0, 10.0, -8.0]])
    lab = np.array([1, 0])
    case = add("logits_clipped_by_keras", np.eye(4)[lab], big, lab, check_no_clip=False,
               from_logits=True, gamma=2.0, alpha=0.25)
    case["perSampleUnclipped"] = to_list(
        unclipped_categorical_focal(np.eye(4)[lab], f32(big), 0.25, 2.0, 0.0))
    case["note"] = ("Keras clips softmax output to [1e-7, 1-1e-7] even with from_logits=True; "
                    "the library does not clamp on the logits path and matches perSampleUnclipped.")
    return cases


def binary_cases(rng):
    cases = []

    def add(name, y_true, y_pred, **options):
        y_true = f32(y_true)
        y_pred = f32(y_pred)
        cases.append({
            "name": name,
            "options": {
                "applyClassBalancing": options.get("apply_class_balancing", False),
                "alpha": options.get("alpha", 0.25),
                "gamma": options.get("gamma", 2.0),
                "fromLogits": options.get("from_logits", False),
                "labelSmoothing": options.get("label_smoothing", 0.0),
            },
            "shape": list(y_pred.shape),
            "yTrue": to_list(y_true),
            "yPred": to_list(y_pred),
            "perSample": to_list(keras_binary(y_true, y_pred, "float64", **options)),
            "perSampleKerasFloat32": to_list(keras_binary(y_true, y_pred, "float32", **options)),
            "meanLoss": keras_binary_mean(y_true, y_pred, **options),
        })

    n, k = 6, 7
    y = (rng.uniform(size=(n, k)) < 0.3).astype(np.float64)
    logits = rng.normal(0, 3.0, size=(n, k))
    probs = rng.uniform(0.001, 0.999, size=(n, k))
    soft = rng.uniform(0, 1, size=(n, k))

    add("logits_default", y, logits, from_logits=True)
    add("logits_balanced", y, logits, from_logits=True, apply_class_balancing=True)
    add("logits_balanced_alpha_gamma", y, logits, from_logits=True, apply_class_balancing=True,
        alpha=0.7, gamma=0.5)
    add("logits_gamma0", y, logits, from_logits=True, gamma=0.0)
    add("logits_label_smoothing", y, logits, from_logits=True, apply_class_balancing=True,
        label_smoothing=0.1)
    add("logits_soft_labels", soft, logits, from_logits=True, gamma=3.0)
    add("probs_default", y, probs)
    add("probs_balanced_smoothing", y, probs, apply_class_balancing=True, alpha=0.4, gamma=1.5,
        label_smoothing=0.2)
    add("probs_soft_labels", soft, probs, gamma=2.0)
    # Exact 0 probabilities: Keras clips them to 1e-7 inside the cross-entropy only; p_t uses the
    # unclipped value (so y=0, p=0 gives p_t = 1 and a zero loss).
    probs_zero = probs.copy()
    probs_zero[:, 0] = 0.0
    add("probs_exact_zero", y, probs_zero, apply_class_balancing=True, gamma=2.0)
    # Probability boundary (see probs_at_one_boundary above): p = 1 or within 1.2e-7 of it, and
    # p = 0 or below 1e-7, for both label values. perSampleKerasFloat32 differs from perSample
    # where y = 0 and p >= 0.99999988: -log(1 - clip(p)) is 15.94 in float32, 16.12 in float64.
    p_edge = np.array([[1.0, 0.99999994, 0.9999999, 0.0, 6e-8, 0.5],
                       [1.0, 0.99999994, 0.9999999, 0.0, 6e-8, 0.5]])
    y_edge = np.array([[0.0, 0.0, 0.0, 1.0, 1.0, 1.0],
                       [1.0, 1.0, 1.0, 0.0, 0.0, 0.0]])
    add("probs_at_boundaries", y_edge, p_edge, gamma=0.0)
    add("probs_at_boundaries_gamma2_balanced", y_edge, p_edge, gamma=2.0, apply_class_balancing=True)

    # rank 3: mean over the last axis only
    add("rank3_logits", (rng.uniform(size=(2, 3, 4)) < 0.4), rng.normal(0, 2.0, size=(2, 3, 4)),
        from_logits=True, apply_class_balancing=True, alpha=0.25, gamma=2.0)
    return cases


def torchvision_cases(rng):
    cases = []
    n, k = 6, 8
    y = (rng.uniform(size=(n, k)) < 0.25).astype(np.float64)
    logits = rng.normal(0, 3.0, size=(n, k))
    logits[0, :4] = [30.0, -30.0, 60.0, -60.0]  # saturated sigmoid, both label values below
    y[0, :4] = [1.0, 0.0, 0.0, 1.0]
    soft = rng.uniform(size=(n, k))
    for alpha, gamma, targets, name in [
        (0.25, 2.0, y, "alpha0.25_gamma2"),
        (-1.0, 2.0, y, "alpha-1_gamma2"),
        (0.5, 0.0, y, "alpha0.5_gamma0"),
        (0.25, 0.5, y, "alpha0.25_gamma0.5"),
        (0.9, 3.5, y, "alpha0.9_gamma3.5"),
        (-1.0, 1.0, soft, "alpha-1_gamma1_soft"),
        (0.25, 2.0, soft, "alpha0.25_gamma2_soft"),
    ]:
        x = f32(logits)
        t = f32(targets)
        out = sigmoid_focal_loss(torch.tensor(x, dtype=torch.float64),
                                 torch.tensor(t, dtype=torch.float64),
                                 alpha=alpha, gamma=gamma, reduction="none")
        out_sum = sigmoid_focal_loss(torch.tensor(x, dtype=torch.float64),
                                     torch.tensor(t, dtype=torch.float64),
                                     alpha=alpha, gamma=gamma, reduction="sum")
        cases.append({
            "name": name,
            "options": {"alpha": alpha, "gamma": gamma},
            "shape": list(x.shape),
            "targets": to_list(t),
            "logits": to_list(x),
            "loss": out.numpy().tolist(),
            "lossExact": torchvision_formula_exact(x, t, alpha, gamma),
            "sum": float(out_sum),
        })
    return cases


def torchvision_formula_exact(logits, targets, alpha, gamma):
    """torchvision's sigmoid_focal_loss formula, term by term, in 60-digit arithmetic."""
    mpmath.mp.dps = 60
    out = []
    for x, y in zip(np.asarray(logits, dtype=np.float64).ravel(), np.asarray(targets, dtype=np.float64).ravel()):
        x = mpmath.mpf(float(x))
        y = mpmath.mpf(float(y))
        p = 1 / (1 + mpmath.exp(-x))
        ce = -(y * mpmath.log(p) + (1 - y) * mpmath.log(1 - p))
        p_t = p * y + (1 - p) * (1 - y)
        loss = ce * (1 - p_t) ** mpmath.mpf(gamma)
        if alpha >= 0:
            loss = (mpmath.mpf(alpha) * y + (1 - mpmath.mpf(alpha)) * (1 - y)) * loss
        out.append(float(loss))
    return np.asarray(out).reshape(np.shape(logits)).tolist()


def write(name, payload):
    os.makedirs(OUT_DIR, exist_ok=True)
    path = os.path.join(OUT_DIR, name)
    with open(path, "w") as f:
        json.dump(payload, f, indent=1)
        f.write("\n")
    print(f"wrote {os.path.relpath(path)}")


def main():
    versions = {
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "mpmath": mpmath.__version__,
        "keras": keras.__version__,
        "tensorflow": tf.__version__,
        "torch": torch.__version__,
        "torchvision": TORCHVISION_VERSION,
    }
    generator = "tools/gen_fixtures.py"
    rng = np.random.default_rng(20240917)
    write("keras_categorical_focal.json", {
        "generator": generator, "versions": versions,
        "source": "keras.losses.CategoricalFocalCrossentropy(reduction=None)",
        "cases": categorical_cases(rng)})
    write("keras_binary_focal.json", {
        "generator": generator, "versions": versions,
        "source": "keras.losses.BinaryFocalCrossentropy(reduction=None)",
        "cases": binary_cases(rng)})
    write("torchvision_sigmoid_focal.json", {
        "generator": generator, "versions": versions,
        "source": "torchvision.ops.sigmoid_focal_loss(reduction='none')",
        "cases": torchvision_cases(rng)})


if __name__ == "__main__":
    main()
