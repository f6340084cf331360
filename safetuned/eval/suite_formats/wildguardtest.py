"""WildGuardTest (Han et al., 2024): the test split of allenai/wildguardmix, as released `test/wildguard_test.parquet`.

Columns prompt,adversarial,response,prompt_harm_label,response_refusal_label,response_harm_label,subcategory
(response and its labels unused). Source: huggingface.co/datasets/allenai/wildguardmix (gated; subset wildguardtest,
split test). `label` (harmful/unharmful) selects by prompt_harm_label; rows without one are never selected. The
subcategory is each item's category, adversarial/vanilla its type; ids are row positions in the file.
"""

from __future__ import annotations

from safetuned.eval.suite_formats import Item, Select, cell, need, register_format


@register_format("wildguardtest", columns=("prompt", "adversarial", "prompt_harm_label", "subcategory"),
                 options={"label": Select("prompt_harm_label", ("harmful", "unharmful"), required=True)})
def read(rows: list[tuple[int, dict]]) -> list[Item]:
    """One item per prompt of the selected harm label."""
    return [Item(prompt=need(r, "prompt", i), id=str(i), category=cell(r, "subcategory") or None,
                 type="adversarial" if cell(r, "adversarial").lower() == "true" else "vanilla") for i, r in rows]
