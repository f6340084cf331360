"""Intervals and paired tests shared by every scorer and the report.

Rates (0/1 values) get Wilson score intervals, which stay inside [0, 1] and are not degenerate at 0 of n or n of n;
other means get a percentile bootstrap. A job is compared with its reference job (N=0 of the same sweep, same seed,
same prompts) by a paired test on the same prompts: exact McNemar for 0/1 outcomes with Newcombe's score interval
for the paired difference, a sign-flip permutation test with a paired bootstrap interval for other scores.
All of these treat prompts as independent draws; prompts built from shared templates are not.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

Z95 = 1.959963984540054


def wilson_interval(successes: float, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a proportion `successes / n` (NaN, NaN when n is 0)."""
    if n <= 0:
        return float("nan"), float("nan")
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (0.0 if successes <= 0 else max(0.0, centre - half)), (1.0 if successes >= n else min(1.0, centre + half))


def bootstrap_ci(
    values: Sequence[float], n_boot: int = 2000, alpha: float = 0.05, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of `values` (NaN, NaN when empty)."""
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, x.size, size=(n_boot, x.size))].mean(axis=1)
    return float(np.quantile(means, alpha / 2)), float(np.quantile(means, 1 - alpha / 2))


def is_binary(x: np.ndarray) -> bool:
    return bool(np.all((x == 0) | (x == 1)))


def rate_with_ci(values: Sequence[float], name: str, prefix: str = "", seed: int = 0) -> dict[str, float]:
    """`{prefix+name: mean, ..._ci_low, ..._ci_high}`: a Wilson interval for 0/1 values, else a bootstrap one."""
    x = np.asarray(values, dtype=float)
    if x.size and is_binary(x):
        lo, hi = wilson_interval(float(x.sum()), int(x.size))
    else:
        lo, hi = bootstrap_ci(x, seed=seed)
    key = f"{prefix}{name}"
    return {key: float(x.mean()) if x.size else float("nan"), f"{key}_ci_low": lo, f"{key}_ci_high": hi}


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value from the discordant counts (a binomial test of b against b + c at 1/2)."""
    n = b + c
    if n == 0:
        return 1.0
    k = min(b, c)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2**n  # exact integers: 2.0**n overflows past n = 1023
    return min(1.0, 2 * tail)


@dataclass(frozen=True)
class PairedDifference:
    """`other - base` on the same items: the difference, its 95% interval, a two-sided p-value and the test."""

    base: float
    other: float
    diff: float
    lo: float
    hi: float
    p: float
    n: int
    test: str
    b: int = 0  # base 1, other 0 (binary only)
    c: int = 0  # base 0, other 1


def newcombe_paired_interval(n11: int, n10: int, n01: int, n00: int, z: float = Z95) -> tuple[float, float]:
    """Newcombe's score interval (method 10, 1998) for p(other) - p(base); n10: base 1 other 0, n01 the reverse."""
    n = n11 + n10 + n01 + n00
    if n == 0:
        return float("nan"), float("nan")
    p1, p2 = (n11 + n01) / n, (n11 + n10) / n  # other, base
    l1, u1 = wilson_interval(n11 + n01, n, z)
    l2, u2 = wilson_interval(n11 + n10, n, z)
    # 2x2 of (other, base): A both 1, B other 1 base 0, C other 0 base 1, D both 0.
    a, b, c, d = n11, n01, n10, n00
    denom = math.sqrt((a + b) * (c + d) * (a + c) * (b + d))
    if denom == 0:
        phi = 0.0
    else:
        num = a * d - b * c
        phi = (max(num - n / 2, 0.0) if num > 0 else num) / denom
    theta = p1 - p2
    delta = math.sqrt(max((p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2, 0.0))
    eps = math.sqrt(max((u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2, 0.0))
    return max(-1.0, theta - delta), min(1.0, theta + eps)


def paired_difference(base: Sequence[float], other: Sequence[float], n_boot: int = 4000,
                      seed: int = 0) -> PairedDifference:
    """Compare `other` with `base` item by item (same length, same order)."""
    x, y = np.asarray(base, dtype=float), np.asarray(other, dtype=float)
    if x.shape != y.shape:
        raise ValueError(f"paired_difference: {x.size} base items but {y.size} other items")
    n = int(x.size)
    if n == 0:
        nan = float("nan")
        return PairedDifference(nan, nan, nan, nan, nan, nan, 0, "none")
    if is_binary(x) and is_binary(y):
        n11 = int(np.sum((x == 1) & (y == 1)))
        n10 = int(np.sum((x == 1) & (y == 0)))
        n01 = int(np.sum((x == 0) & (y == 1)))
        lo, hi = newcombe_paired_interval(n11, n10, n01, n - n11 - n10 - n01)
        return PairedDifference(float(x.mean()), float(y.mean()), float(y.mean() - x.mean()), lo, hi,
                                mcnemar_exact(n10, n01), n, "mcnemar_exact", n10, n01)
    d = y - x
    rng = np.random.default_rng(seed)
    boots = d[rng.integers(0, n, size=(n_boot, n))].mean(axis=1)
    flips = rng.choice((-1.0, 1.0), size=(n_boot, n))
    null = np.abs((flips * d).mean(axis=1))
    p = (1 + int(np.sum(null >= abs(d.mean()) - 1e-12))) / (n_boot + 1)
    return PairedDifference(float(x.mean()), float(y.mean()), float(d.mean()), float(np.quantile(boots, 0.025)),
                            float(np.quantile(boots, 0.975)), min(1.0, p), n, "sign_flip_permutation")
