"""Wilson intervals, exact McNemar, Newcombe's paired interval and the permutation test, on known values."""

from __future__ import annotations

import numpy as np
import pytest

from safetuned.eval.stats import (
    mcnemar_exact,
    newcombe_paired_interval,
    paired_difference,
    rate_with_ci,
    wilson_interval,
)


def test_wilson_known_values():
    assert wilson_interval(81, 263) == pytest.approx((0.2553, 0.3662), abs=1e-4)
    lo, hi = wilson_interval(0, 10)
    assert lo == 0.0 and hi == pytest.approx(0.2775, abs=1e-4)
    assert wilson_interval(10, 10)[0] == pytest.approx(0.7225, abs=1e-4)


def test_zero_of_136_is_not_a_point():
    out = rate_with_ci([0.0] * 136, "refusal_rate")
    assert out["refusal_rate"] == 0.0 and out["refusal_rate_ci_low"] == 0.0
    assert out["refusal_rate_ci_high"] == pytest.approx(0.0275, abs=1e-4)


def test_non_binary_values_get_a_bootstrap_interval():
    out = rate_with_ci([0.0, 0.5, 1.0, 0.5], "win_rate")
    assert out["win_rate"] == 0.5 and 0.0 <= out["win_rate_ci_low"] < 0.5 < out["win_rate_ci_high"] <= 1.0


def test_mcnemar_exact_is_the_binomial_test_on_discordant_pairs():
    assert mcnemar_exact(0, 0) == 1.0
    assert mcnemar_exact(3, 3) == 1.0
    assert mcnemar_exact(0, 5) == pytest.approx(2 / 32)
    assert mcnemar_exact(1, 9) == pytest.approx(2 * 11 / 1024)
    assert mcnemar_exact(9, 1) == mcnemar_exact(1, 9)


def test_paired_binary_difference_counts_and_direction():
    base = [1] * 30 + [0] * 10
    other = [0] * 20 + [1] * 10 + [0] * 10  # 20 prompts stopped being complied with, none started
    r = paired_difference(base, other)
    assert r.test == "mcnemar_exact" and (r.b, r.c, r.n) == (20, 0, 40)
    assert r.diff == pytest.approx(-0.5) and r.lo < -0.5 < r.hi < 0
    assert r.p == pytest.approx(2 / 2**20)


def test_identical_jobs_show_no_difference():
    x = [1, 0, 1, 1, 0]
    r = paired_difference(x, x)
    assert r.diff == 0.0 and r.p == 1.0 and r.lo <= 0.0 <= r.hi


def test_newcombe_interval_covers_the_true_difference():
    rng = np.random.default_rng(0)
    hits, trials = 0, 400
    for _ in range(trials):
        x = (rng.random(80) < 0.4).astype(float)
        y = np.where(rng.random(80) < 0.6, x, rng.random(80) < 0.5).astype(float)
        r = paired_difference(x, y)  # true difference: 0.6*0.4 + 0.4*0.5 - 0.4 = 0.04
        hits += r.lo <= 0.04 <= r.hi
    assert 0.92 <= hits / trials <= 0.995
    lo, hi = newcombe_paired_interval(0, 0, 0, 50)
    assert lo < 0 < hi  # no discordant pair still leaves uncertainty


def test_continuous_scores_use_a_permutation_test():
    rng = np.random.default_rng(1)
    base = rng.normal(size=200)
    r = paired_difference(base, base + 0.5 + rng.normal(scale=0.1, size=200))
    assert r.test == "sign_flip_permutation" and r.p < 0.01 and r.lo < 0.5 < r.hi
    same = paired_difference(base, base + rng.normal(scale=0.1, size=200))
    assert same.p > 0.01


def test_lengths_must_match():
    with pytest.raises(ValueError, match="3 base items but 2"):
        paired_difference([1, 0, 1], [1, 0])


def test_mcnemar_exact_holds_past_a_thousand_discordant_pairs():
    from safetuned.eval.stats import mcnemar_exact

    assert mcnemar_exact(600, 700) == pytest.approx(0.00602, abs=1e-4)  # 2.0**1300 overflows a float
    assert mcnemar_exact(650, 650) == 1.0
