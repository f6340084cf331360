"""Alpaca-format records: a JSON list of `{instruction, input?, output?}`; `output` is kept as the reference answer.

Source: github.com/tatsu-lab/stanford_alpaca (alpaca_data.json) and the paper's I-Alpaca.json.
"""

from __future__ import annotations

from safetuned.eval.suite_formats import Item, RowError, register_format


@register_format("alpaca", columns=("instruction",))
def read(rows: list[tuple[int, dict]]) -> list[Item]:
    """One item per record, with its input and reference answer."""
    items = []
    for i, row in rows:
        instruction, inp, out = row.get("instruction"), row.get("input") or "", row.get("output")
        if not isinstance(instruction, str):
            raise RowError(f"row {i + 1} has no 'instruction' string")
        if out is not None and not isinstance(out, str) or not isinstance(inp, str):
            raise RowError(f"row {i + 1} 'input'/'output' must be strings")
        items.append(Item(prompt=instruction, input=inp, reference=out, id=str(i)))
    return items
