"""SORRY-Bench (Xie et al., 2024): `question.jsonl`, one `{question_id, category, turns, prompt_style}` per line.

`turns` is a list whose first element is the prompt; `category` is the number of one of its fine-grained categories
(as a string). Source: huggingface.co/datasets/sorry-bench/sorry-bench-202406 (gated; question.jsonl holds the base
prompts, question_<style>.jsonl the mutated ones). `prompt_style` selects by style: `base` when the source has
several. Ids are `<question_id>:<prompt_style>`.
"""

from __future__ import annotations

from safetuned.eval.suite_formats import Item, RowError, Select, cell, need, register_format


@register_format("sorry_bench", columns=("question_id", "category", "turns"),
                 options={"prompt_style": Select("prompt_style", default="base")})
def read(rows: list[tuple[int, dict]]) -> list[Item]:
    """One item per question (its first turn), with its category."""
    items = []
    for i, row in rows:
        turns = row.get("turns")
        if not isinstance(turns, list) or not turns or not isinstance(turns[0], str) or not turns[0].strip():
            raise RowError(f"row {i + 1} has no 'turns' list starting with a prompt")
        style = cell(row, "prompt_style") or None
        items.append(Item(prompt=turns[0], id=f"{need(row, 'question_id', i)}:{style or ''}",
                          category=need(row, "category", i), type=style))
    return items
