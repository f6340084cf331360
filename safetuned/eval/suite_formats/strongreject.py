"""StrongREJECT (Souly et al., 2024): `strongreject_dataset.csv` / `strongreject_small_dataset.csv`.

Columns category,source,forbidden_prompt. Source: github.com/alexandrasouly/strongreject, strongreject_dataset/.
Ids are row positions (the file has no id column).
"""

from __future__ import annotations

from safetuned.eval.suite_formats import Item, need, register_format


@register_format("strongreject", columns=("category", "source", "forbidden_prompt"))
def read(rows: list[tuple[int, dict]]) -> list[Item]:
    """One item per forbidden prompt, with its category."""
    return [Item(prompt=need(r, "forbidden_prompt", i), id=str(i), category=need(r, "category", i)) for i, r in rows]
