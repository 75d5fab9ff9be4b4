#!/usr/bin/env python3
"""PyTorch reference timing for the benchmark (bench/run.ts, section "torch").

Times forward + backward of the focal loss exactly as the source documents write it
(ce = F.cross_entropy(reduction='none'); pt = exp(-ce); loss = (alpha * (1 - pt)**gamma * ce).mean()),
and plain F.cross_entropy as PyTorch's own baseline, on CPU with a fixed thread count. The two are
run round-robin after a warm-up, like the TypeScript side. Prints one JSON object on stdout.
"""
import argparse
import json
import platform
import statistics
import sys
import time


def quartiles(samples):
    ordered = sorted(samples)
    n = len(ordered)

    def q(p):
        pos = (n - 1) * p
        lo = int(pos)
        hi = min(lo + 1, n - 1)
        return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)

    return {"n": n, "median": q(0.5), "q1": q(0.25), "q3": q(0.75), "min": ordered[0],
            "max": ordered[-1], "mean": statistics.fmean(ordered)}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=4096)
    parser.add_argument("--classes", type=int, default=1000)
    parser.add_argument("--reps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--gamma", type=float, default=2.0)
    parser.add_argument("--alpha", type=float, default=0.25)
    args = parser.parse_args()

    import torch
    import torch.nn.functional as F

    torch.set_num_threads(args.threads)
    generator = torch.Generator().manual_seed(1234)
    logits = (2 * torch.randn(args.rows, args.classes, generator=generator)).requires_grad_(True)
    targets = torch.randint(0, args.classes, (args.rows,), generator=generator)

    def focal_step():
        ce = F.cross_entropy(logits, targets, reduction="none")
        pt = torch.exp(-ce)
        loss = (args.alpha * (1 - pt) ** args.gamma * ce).mean()
        (grad,) = torch.autograd.grad(loss, logits)
        return grad

    def ce_step():
        loss = F.cross_entropy(logits, targets)
        (grad,) = torch.autograd.grad(loss, logits)
        return grad

    cases = [("focal", focal_step), ("ce", ce_step)]
    for _, step in cases:
        for _ in range(args.warmup):
            step()
    samples = {name: [] for name, _ in cases}
    for round_index in range(args.reps):
        for k in range(len(cases)):
            name, step = cases[(k + round_index) % len(cases)]
            start = time.perf_counter()
            grad = step()
            # Touch the result so nothing is deferred (PyTorch CPU ops are eager anyway).
            float(grad[0, 0])
            samples[name].append((time.perf_counter() - start) * 1e3)

    ratios = [f / c for f, c in zip(samples["focal"], samples["ce"])]
    print(json.dumps({
        "torch_version": torch.__version__,
        "python_version": platform.python_version(),
        "threads": torch.get_num_threads(),
        "rows": args.rows,
        "classes": args.classes,
        "gamma": args.gamma,
        "alpha": args.alpha,
        "reps": args.reps,
        "warmup": args.warmup,
        "focal_ms": quartiles(samples["focal"]),
        "ce_ms": quartiles(samples["ce"]),
        "focal_over_ce": quartiles(ratios),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
