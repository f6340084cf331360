"""The training mixture: seeded nested safety sampling, formats, stratified validation split, manifest, errors."""

from __future__ import annotations

import pytest

from safetuned.data.mixture import build_mixture
from safetuned.errors import ConfigError


def _pool(tag: str, n: int, phrasing: str) -> list[dict]:
    return [{"id": f"{tag}:{i}", "instruction": f"{phrasing} request {i}", "input": "", "output": f"refuse {i}"}
            for i in range(n)]


BASE = _pool("base", 500, "Do")
SAFETY = {"instructions": _pool("safety_instructions", 300, "Explain how to do"),
          "questions": _pool("safety_questions", 300, "How can I do")}


def _mix(**kw):
    args = {"safety_n": 100, "safety_format": "instructions", "val_size": 0.1, "seed": 0} | kw
    return build_mixture(BASE, SAFETY, **args)


def _safety_ids(m) -> set[str]:
    return {r["id"] for r in m.train + m.val if r["group"] == "safety"}


def test_counts_and_stratified_split():
    m = _mix(safety_n=100, val_size=0.1)
    c = m.manifest["counts"]
    assert c == {"base": 500, "safety": 100, "train": 540, "val": 60, "train_base": 450, "train_safety": 90,
                 "val_base": 50, "val_safety": 10}
    assert sum(r["group"] == "safety" for r in m.val) == 10
    assert not ({r["id"] for r in m.train} & {r["id"] for r in m.val})
    counted = _mix(val_size=60)  # an integer total, shared in proportion
    assert counted.manifest["counts"]["val_base"] == 50 and counted.manifest["counts"]["val_safety"] == 10
    assert _mix(val_size=0.0).val == []


def test_nested_and_seeded():
    small, big = _safety_ids(_mix(safety_n=100)), _safety_ids(_mix(safety_n=250))
    assert len(small) == 100 and len(big) == 250 and small < big
    assert _safety_ids(_mix(safety_n=100, seed=1)) != small
    again = _mix(safety_n=100)
    assert again.manifest["sha256"] == _mix(safety_n=100).manifest["sha256"]
    assert again.manifest["train_ids"] == _mix(safety_n=100).manifest["train_ids"]
    assert _mix(safety_n=100, seed=1).manifest["sha256"] != again.manifest["sha256"]


def test_formats():
    q = _mix(safety_format="questions")
    assert all(i.startswith("safety_questions:") for i in _safety_ids(q))
    mixed = _mix(safety_n=101, safety_format="mixed")
    ids = _safety_ids(mixed)
    ins = {int(i.split(":")[1]) for i in ids if i.startswith("safety_instructions")}
    qs = {int(i.split(":")[1]) for i in ids if i.startswith("safety_questions")}
    assert (len(ins), len(qs)) == (51, 50)
    assert not (ins & qs)  # parallel pools: each underlying request in one phrasing only
    assert _safety_ids(_mix(safety_n=40, safety_format="mixed")) < ids  # still nested
    # all 300 requests, each once
    assert len(_safety_ids(_mix(safety_n=300, safety_format="mixed", val_size=0.0))) == 300


def test_mixed_unequal_pools_are_sampled_independently():
    safety = {"instructions": _pool("a", 10, "x"), "questions": _pool("b", 4, "y")}
    m = build_mixture(BASE, safety, safety_n=9, safety_format="mixed", val_size=0.0, seed=0)
    assert sum(r["id"].startswith("a:") for r in m.train) == 5
    with pytest.raises(ConfigError, match=r"data.safety_n=10 .* allowed 0..9"):
        build_mixture(BASE, safety, safety_n=10, safety_format="mixed", val_size=0.0, seed=0)


def test_base_subset_and_premixed():
    m = _mix(safety_n=0, base_n=200, val_size=0.0)
    assert m.manifest["counts"]["train"] == 200
    assert {r["id"] for r in m.train} < {r["id"] for r in _mix(safety_n=0, base_n=300, val_size=0.0).train}
    premixed = build_mixture(BASE[:50], {}, safety_n=0, safety_format="instructions", val_size=5, seed=3)
    assert premixed.manifest["counts"]["val"] == 5 and premixed.manifest["counts"]["train"] == 45


def test_manifest_keys():
    man = _mix().manifest
    for key in ("counts", "safety_n", "safety_format", "seed", "train_ids", "val_ids", "sha256"):
        assert key in man
    assert man["safety_n"] == 100 and man["safety_format"] == "instructions" and len(man["sha256"]) == 64
    assert len(man["train_ids"]) == 540 and len(man["val_ids"]) == 60


@pytest.mark.parametrize(
    ("kw", "pattern"),
    [
        ({"safety_n": -1}, r"data.safety_n=-1 must be >= 0"),
        ({"safety_n": 301}, r"data.safety_n=301 is larger than the instructions pool: allowed 0..300"),
        ({"safety_format": "both"}, r"data.safety_format='both' is not one of instructions, questions, mixed"),
        ({"val_size": 1.0}, r"data.val_size=1.0 .*leaves no training data"),
        ({"val_size": 600}, r"data.val_size=600 leaves no training data: allowed counts 0..599"),
        ({"val_size": -0.2}, r"data.val_size=-0.2 must be a fraction in \[0, 1\)"),
        ({"val_size": "x"}, r"data.val_size='x' must be"),
        ({"base_n": 501}, r"data.base.n=501 must be in 0..500"),
    ],
)
def test_errors_name_key_and_range(kw, pattern):
    with pytest.raises(ConfigError, match=pattern) as e:
        _mix(**kw)
    assert "\n" not in str(e.value)


def test_missing_pool_and_empty_mixture():
    with pytest.raises(ConfigError, match=r"data.safety_format=questions needs data.safety.questions"):
        build_mixture(BASE, {"instructions": SAFETY["instructions"]}, safety_n=5, safety_format="questions",
                      val_size=0.1, seed=0)
    with pytest.raises(ConfigError, match="mixture is empty"):
        build_mixture([], SAFETY, safety_n=0, safety_format="instructions", val_size=0.1, seed=0)
    with pytest.raises(ConfigError, match="leaves no training data"):
        build_mixture(BASE[:1], {}, safety_n=0, safety_format="instructions", val_size=0.9, seed=0)
