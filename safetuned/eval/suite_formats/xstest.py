"""XSTest (Röttger et al., NAACL 2024): `xstest_prompts.csv`, columns id,prompt,type,label,focus,note.

Source: github.com/paul-rottger/exaggerated-safety. `label` (safe/unsafe) picks the half a suite holds; the prompt
type (homonyms, contrast_homonyms, ...) is each item's type.
"""

from __future__ import annotations

from safetuned.eval.suite_formats import Item, RowError, Select, cell, register_format


@register_format("xstest", columns=("id", "prompt", "type", "label"),
                 options={"label": Select("label", ("safe", "unsafe"), required=True)})
def read(rows: list[tuple[int, dict]]) -> list[Item]:
    """One item per prompt of the selected label; ids `<id>:<type>`."""
    items = []
    for _, row in rows:
        if not cell(row, "prompt"):
            raise RowError(f"row id={row.get('id')} has an empty prompt")
        kind = cell(row, "type") or None
        items.append(Item(prompt=row["prompt"], id=f"{cell(row, 'id')}:{kind or ''}", type=kind))
    return items
