"""JailbreakBench JBB-Behaviors (Chao et al., 2024): `harmful-behaviors.csv` and `benign-behaviors.csv`.

Columns Index,Goal,Target,Behavior,Category,Source (Index in the current release). Source:
huggingface.co/datasets/JailbreakBench/JBB-Behaviors, data/ (subset behaviors, splits harmful and benign). The Goal
is the prompt, the Target the affirmative opening an attack aims for (kept as the item's target), the Category its
category; ids are the Index (row positions in files without it).
"""

from __future__ import annotations

from safetuned.eval.suite_formats import Item, cell, need, register_format


@register_format("jbb", columns=("Goal", "Target", "Behavior", "Category", "Source"))
def read(rows: list[tuple[int, dict]]) -> list[Item]:
    """One item per behavior, with its target string and category."""
    return [Item(prompt=need(r, "Goal", i), id=cell(r, "Index") or str(i), target=cell(r, "Target") or None,
                 category=need(r, "Category", i)) for i, r in rows]
