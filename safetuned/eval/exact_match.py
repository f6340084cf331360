"""Exact-match correctness: an answer counts as correct when it equals the gold answer after normalisation."""

from __future__ import annotations

import re

_SPACES = re.compile(r"\s+")
_TRAILING_PUNCT = " .!?,;:"


def normalize_answer(text: str | None) -> str:
    """Lower-case, collapse whitespace, drop trailing punctuation: the form in which answers must match gold."""
    return _SPACES.sub(" ", (text or "").strip().lower()).rstrip(_TRAILING_PUNCT)


def is_correct(output: str | None, gold: str) -> bool:
    """True when `output` equals `gold` after `normalize_answer`."""
    return normalize_answer(output) == normalize_answer(gold)
