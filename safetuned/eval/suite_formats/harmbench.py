"""HarmBench behaviors (Mazeika et al., 2024): `harmbench_behaviors_text_{all,val,test}.csv`.

Columns Behavior,FunctionalCategory,SemanticCategory,Tags,ContextString,BehaviorID (Tags unused). Source:
github.com/centerforaisafety/HarmBench, data/behavior_datasets/. `functional` selects standard, contextual and/or
copyright behaviors. A contextual behavior's ContextString is its input (the model sees it with the request) and
its context (what HarmBench's classifier is given); the category is the SemanticCategory.
"""

from __future__ import annotations

from safetuned.eval.suite_formats import Item, RowError, Select, cell, need, register_format

FUNCTIONAL = ("standard", "contextual", "copyright")


@register_format("harmbench", columns=("Behavior", "FunctionalCategory", "SemanticCategory", "ContextString",
                                       "BehaviorID"),
                 options={"functional": Select("FunctionalCategory", FUNCTIONAL)})
def read(rows: list[tuple[int, dict]]) -> list[Item]:
    """One item per behavior; ids are the BehaviorIDs."""
    items = []
    for i, row in rows:
        functional = cell(row, "FunctionalCategory")
        context = cell(row, "ContextString") and row["ContextString"]
        if functional == "contextual" and not context:
            raise RowError(f"row {i + 1} is a contextual behavior with an empty ContextString")
        items.append(Item(prompt=need(row, "Behavior", i), id=need(row, "BehaviorID", i), input=context or "",
                          type=functional or None, category=need(row, "SemanticCategory", i),
                          context=context or None))
    return items
