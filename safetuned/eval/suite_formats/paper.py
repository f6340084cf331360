"""The paper's instruction sets (Bianchi et al., 2024): one JSON object `{"instructions": [...], "inputs": [...]}`.

Source: github.com/vinid/safety-tuned-llamas, data/evaluation/*.json (`inputs` is empty or one string per prompt).
"""

from __future__ import annotations

from safetuned.eval.suite_formats import Item, RowError, register_format


@register_format("paper", columns=("instructions",))
def read(rows: list[tuple[int, dict]]) -> list[Item]:
    """One item per instruction of the file's single object."""
    if len(rows) != 1:
        raise RowError("must be one JSON object with an 'instructions' list, not a list of records")
    data = rows[0][1]
    prompts = data["instructions"]
    if not isinstance(prompts, list) or not all(isinstance(p, str) for p in prompts):
        raise RowError("needs an 'instructions' list of strings")
    inputs = data.get("inputs") or [""] * len(prompts)
    if len(inputs) != len(prompts) or not all(isinstance(i, str) for i in inputs):
        raise RowError("'inputs' must be empty or one string per instruction")
    return [Item(prompt=p, input=x, id=str(i)) for i, (p, x) in enumerate(zip(prompts, inputs))]
