"""The training mixture: base instructions plus N safety demonstrations, split into train and validation.

Sampling is seeded and nested: for one seed, the N=100 safety examples are the first 100 of the N=500 ones (as in
the paper's saferpaca_Instructions_<N>.json files), because every size takes a prefix of one seeded permutation.

`safety_format=mixed` alternates between the two pools along that permutation. When the pools have the same length
they are taken to be *parallel* (index i of the instructions pool and of the questions pool phrase the same
request, as in the demo world), so one permutation of request indices is drawn and each chosen request is used in
one phrasing only: no request appears twice. Pools of different lengths are sampled independently, half each.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from safetuned.data.sources import canonical_sha256
from safetuned.errors import ConfigError

FORMATS = ("instructions", "questions", "mixed")


@dataclass
class Mixture:
    """Train and validation records (each with `id`, `instruction`, `input`, `output`, `group`) and a manifest."""

    train: list[dict]
    val: list[dict]
    manifest: dict


def _perm(n: int, seed: int, salt: str) -> list[int]:
    idx = list(range(n))
    random.Random(f"{salt}:{seed}").shuffle(idx)
    return idx


def _pool(safety: dict[str, list[dict]], kind: str, fmt: str) -> list[dict]:
    pool = safety.get(kind)
    if pool is None:
        raise ConfigError(f"data.safety_format={fmt} needs data.safety.{kind}, which is not set")
    return pool


def _mixed_max(la: int, lq: int, parallel: bool) -> int:
    if parallel:
        return la
    # the largest N with ceil(N/2) <= la and floor(N/2) <= lq
    return min(2 * la, 2 * lq + 1)


def select_safety(safety: dict[str, list[dict]], safety_n: int, safety_format: str, seed: int) -> list[dict]:
    """The seeded, nested choice of `safety_n` safety examples in the requested phrasing."""
    if safety_format not in FORMATS:
        raise ConfigError(f"data.safety_format={safety_format!r} is not one of {', '.join(FORMATS)}")
    if safety_n < 0:
        raise ConfigError(f"data.safety_n={safety_n} must be >= 0")
    if safety_n == 0:
        return []
    if safety_format != "mixed":
        pool = _pool(safety, safety_format, safety_format)
        if not pool:
            raise ConfigError(f"data.safety_n={safety_n} but data.safety.{safety_format} holds no records (an empty "
                              "list): give a pool file with records, or data.safety_n=0")
        if safety_n > len(pool):
            raise ConfigError(f"data.safety_n={safety_n} is larger than the {safety_format} pool: allowed 0..{len(pool)}")
        return [pool[i] for i in _perm(len(pool), seed, "safety")[:safety_n]]
    a, q = _pool(safety, "instructions", "mixed"), _pool(safety, "questions", "mixed")
    empty = [k for k, p in (("instructions", a), ("questions", q)) if not p]
    if empty:
        raise ConfigError(f"data.safety_format=mixed but data.safety.{empty[0]} holds no records (an empty list)")
    parallel = len(a) == len(q)
    most = _mixed_max(len(a), len(q), parallel)
    if safety_n > most:
        raise ConfigError(f"data.safety_n={safety_n} is larger than the mixed pools allow: allowed 0..{most}")
    if parallel:
        chosen = _perm(len(a), seed, "safety")[:safety_n]
        return [(a if k % 2 == 0 else q)[i] for k, i in enumerate(chosen)]
    pa, pq = _perm(len(a), seed, "safety"), _perm(len(q), seed, "safety-q")
    return [a[pa[k // 2]] if k % 2 == 0 else q[pq[k // 2]] for k in range(safety_n)]


def _val_counts(sizes: dict[str, int], val_size: float | int) -> dict[str, int]:  # noqa: PYI041
    """Validation examples per stratum: a fraction of each, or an integer total shared by largest remainder."""
    total = sum(sizes.values())
    allowed = f"a fraction in [0, 1) or a count in [0, {total})"
    if isinstance(val_size, bool) or not isinstance(val_size, (int, float)):
        raise ConfigError(f"data.val_size={val_size!r} must be {allowed}")
    if isinstance(val_size, float):  # a float is a fraction, an int a count
        if val_size >= 1:
            raise ConfigError(f"data.val_size={val_size} leaves no training data: a fraction must be in [0, 1)")
        if val_size < 0:
            raise ConfigError(f"data.val_size={val_size} must be {allowed}")
        return {k: round(n * val_size) for k, n in sizes.items()}
    count = int(val_size)
    if count < 0:
        raise ConfigError(f"data.val_size={val_size} must be {allowed}")
    if count >= total:
        raise ConfigError(f"data.val_size={val_size} leaves no training data: allowed counts 0..{total - 1}")
    exact = {k: count * n / total for k, n in sizes.items()}
    out = {k: int(v) for k, v in exact.items()}
    for k in sorted(exact, key=lambda k: (out[k] - exact[k], k))[: count - sum(out.values())]:
        out[k] += 1
    return out


def build_mixture(
    base: list[dict],
    safety: dict[str, list[dict]],
    *,
    safety_n: int,
    safety_format: str,
    val_size: float | int,  # noqa: PYI041 - a float is a fraction, an int a count
    seed: int,
    base_n: int | None = None,
) -> Mixture:
    """Seeded base subset + nested safety sample, split into train/val stratified by base vs safety."""
    unknown = set(safety) - {"instructions", "questions"}
    if unknown:
        raise ConfigError(f"data.safety has unknown pool(s) {sorted(unknown)} (allowed: instructions, questions)")
    chosen_safety = select_safety(safety, int(safety_n), safety_format, seed)
    if base_n is not None:
        if not base and base_n:
            raise ConfigError(f"data.base.n={base_n} but the base data holds no records (an empty list)")
        if not 0 <= base_n <= len(base):
            raise ConfigError(f"data.base.n={base_n} must be in 0..{len(base)} (the base set's size) or null")
        base = [base[i] for i in _perm(len(base), seed, "base")[:base_n]]
    if not base and not chosen_safety:
        raise ConfigError("the training mixture is empty: data.base has no records and data.safety_n=0")
    strata = {"base": base, "safety": chosen_safety}
    k_val = _val_counts({k: len(v) for k, v in strata.items()}, val_size)
    train, val = [], []
    for group, rows in strata.items():
        order = _perm(len(rows), seed, f"val-{group}")
        picked = [{**rows[i], "group": group} for i in order]
        val += picked[: k_val[group]]
        train += picked[k_val[group] :]
    if not train:
        raise ConfigError(f"data.val_size={val_size} leaves no training data (mixture of {len(base) + len(chosen_safety)})")
    random.Random(f"train-order:{seed}").shuffle(train)
    fields = ("id", "instruction", "input", "output", "group")
    manifest = {
        "counts": {
            "base": len(base), "safety": len(chosen_safety), "train": len(train), "val": len(val),
            "train_base": sum(r["group"] == "base" for r in train),
            "train_safety": sum(r["group"] == "safety" for r in train),
            "val_base": k_val["base"], "val_safety": k_val["safety"],
        },
        "pool_sizes": {k: len(v) for k, v in safety.items() if v is not None},
        "safety_n": int(safety_n),
        "safety_format": safety_format,
        "base_n": base_n,
        "val_size": val_size,
        "seed": seed,
        "train_ids": [r["id"] for r in train],
        "val_ids": [r["id"] for r in val],
        "sha256": canonical_sha256({"train": [{k: r.get(k) for k in fields} for r in train],
                                    "val": [{k: r.get(k) for k in fields} for r in val]}),
    }
    return Mixture(train=train, val=val, manifest=manifest)
