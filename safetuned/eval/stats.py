"""Rates with 95% bootstrap intervals, shared by every scorer."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


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


def rate_with_ci(values: Sequence[float], name: str, prefix: str = "", seed: int = 0) -> dict[str, float]:
    """`{prefix+name: mean, ..._ci_low, ..._ci_high}` for 0/1 (or real) values."""
    x = np.asarray(values, dtype=float)
    lo, hi = bootstrap_ci(x, seed=seed)
    key = f"{prefix}{name}"
    return {key: float(x.mean()) if x.size else float("nan"), f"{key}_ci_low": lo, f"{key}_ci_high": hi}
