"""AdvBench harmful behaviors (Zou et al., 2023): `harmful_behaviors.csv`, columns goal,target.

Source: github.com/llm-attacks/llm-attacks, data/advbench/. The target is the affirmative opening an attack aims
for (kept as the item's target); ids are row positions.
"""

from __future__ import annotations

from safetuned.eval.suite_formats import Item, cell, need, register_format


@register_format("advbench", columns=("goal", "target"))
def read(rows: list[tuple[int, dict]]) -> list[Item]:
    """One item per behavior, with its target string."""
    return [Item(prompt=need(r, "goal", i), id=str(i), target=cell(r, "target") or None) for i, r in rows]
