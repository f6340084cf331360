"""OR-Bench (Cui et al., 2024): `or-bench-hard-1k.csv`, `or-bench-toxic.csv`, `or-bench-80k.csv`.

Columns prompt,category. Source: huggingface.co/datasets/bench-llm/or-bench (subsets or-bench-hard-1k,
or-bench-toxic, or-bench-80k; split train). Hard-1k and 80k are seemingly toxic but safe prompts (kind: safe);
toxic holds prompts that should be refused (kind: harmful). Ids are row positions.
"""

from __future__ import annotations

from safetuned.eval.suite_formats import Item, need, register_format


@register_format("or_bench", columns=("prompt", "category"))
def read(rows: list[tuple[int, dict]]) -> list[Item]:
    """One item per prompt, with its category."""
    return [Item(prompt=need(r, "prompt", i), id=str(i), category=need(r, "category", i)) for i, r in rows]
