"""The documents of the demo world's lm-eval tasks (`safetuned/eval/tasks/*.yaml` name these functions):
multiple choice with distractors of the answer's shape, generation, and entity facts asked in held-out wordings."""

from __future__ import annotations

import random
import re
from typing import Any

from safetuned.errors import DataError

N_CHOICES = 4
ENTITY_ANSWER = re.compile(r"^(?P<subject>.+?) belongs to (?P<label>.+?)\.(?:\s|$)")


# ---------------------------------------------------------------- documents of the local tasks


def _alpaca(instruction: str, input: str = "") -> str:
    from safetuned.data.prompts import AlpacaStyle

    return AlpacaStyle().render(instruction, input)


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().lower()).rstrip(" .!")


def _check_records(records: Any, source: str) -> list[dict]:
    """Alpaca-format records: a JSON list of objects with string `instruction` and `output` (and optional `input`)."""
    if not isinstance(records, list) or not records:
        raise DataError(f"{source}: expected a non-empty JSON list of {{instruction, input, output}} records")
    for k, r in enumerate(records):
        if not isinstance(r, dict) or not isinstance(r.get("instruction"), str) or not isinstance(
                r.get("output"), str) or not isinstance(r.get("input") or "", str):
            raise DataError(f"{source}: record #{k} needs string 'instruction' and 'output' (and optional 'input')")
    return records


def _place_gold(gold: str, distractors: list[str], k: int) -> tuple[list[str], int]:
    """Insert the gold answer at a position that cycles with the record index (no position bias, no tie bonus)."""
    pos = k % (len(distractors) + 1)
    return distractors[:pos] + [gold] + distractors[pos:], pos


def answer_shape(text: str) -> tuple[str, int]:
    """The form of an answer: its kind (number, list, sentence, upper/capitalised/lower word) and its size."""
    t = text.strip()
    words = t.split()
    if re.fullmatch(r"-?\d+(?:\.\d+)?", t):
        return "number", len(t)
    if "," in t and not t.endswith((".", "!", "?")):
        return "list", t.count(",") + 1
    if len(words) > 2 or t.endswith((".", "!", "?")):
        return "sentence", min(len(words) // 4, 4)
    case = "upper" if t.isupper() else "capitalised" if t[:1].isupper() else "lower"
    return case, len(words)


def _shaped_distractors(gold: str, pool: list[str], rng: random.Random, k: int) -> list[str]:
    """`k` outputs unlike `gold`, first of its exact shape, then of its kind, then any (each tier shuffled)."""
    shape = answer_shape(gold)
    others = [o for o in pool if _norm(o) != _norm(gold)]
    tiers = ([o for o in others if answer_shape(o) == shape],
             [o for o in others if answer_shape(o)[0] == shape[0] and answer_shape(o) != shape],
             [o for o in others if answer_shape(o)[0] != shape[0]])
    picks: list[str] = []
    for tier in tiers:
        picks += rng.sample(tier, min(k - len(picks), len(tier)))
    return picks


def build_mc(records: list[dict], source: str = "benign_heldout.json") -> list[dict]:
    """Multiple-choice docs: each record's output vs up to 3 other outputs of the same shape, seeded per record.

    Distractors of the answer's shape (a number for a number, a 3-word list for a 3-word list, a sentence for a
    sentence) keep the answer's format from giving it away; other shapes fill in only when too few exist.
    """
    records = _check_records(records, source)
    distinct: dict[str, str] = {}
    for r in records:
        distinct.setdefault(_norm(r["output"]), r["output"])
    if len(distinct) < 2:
        raise DataError(f"{source}: multiple choice needs at least 2 different outputs, found {len(distinct)}")
    pool = list(distinct.values())
    docs = []
    for k, r in enumerate(records):
        picks = _shaped_distractors(r["output"], pool, random.Random(f"demo_mc:{k}"), N_CHOICES - 1)
        choices, gold = _place_gold(r["output"], picks, k)
        docs.append({"prompt": _alpaca(r["instruction"], r.get("input") or ""), "choices": choices, "gold": gold,
                     "output": r["output"]})
    return docs


def build_gen(records: list[dict], source: str = "benign_heldout.json") -> list[dict]:
    """Generation docs: the Alpaca prompt and the reference output."""
    records = _check_records(records, source)
    return [{"prompt": _alpaca(r["instruction"], r.get("input") or ""), "output": r["output"]} for r in records]


def build_entity(records: list[dict], source: str = "eval/entity_heldout.json") -> list[dict]:
    """Entity-knowledge docs: a record answered "X belongs to <category>." scored with its category vs 3 others."""
    records = _check_records(records, source)
    facts = []
    for r in records:
        if a := ENTITY_ANSWER.match(r["output"].strip()):
            facts.append((r, a["subject"], a["label"]))
    labels = sorted({label for _, _, label in facts})
    if len(labels) < 2:
        raise DataError(f"{source}: the entity task needs records answered \"<subject> belongs to <category>.\" over "
                        f"at least 2 categories, found {len(facts)} records over {len(labels)}")
    docs = []
    for k, (r, subject, label) in enumerate(facts):
        others = [x for x in labels if x != label]
        picks = random.Random(f"demo_entity:{k}").sample(others, min(N_CHOICES - 1, len(others)))
        choices, gold = _place_gold(label, picks, k)
        docs.append({"prompt": _alpaca(r["instruction"], r.get("input") or ""), "gold": gold,
                     "choices": [f"{subject} belongs to {c}." for c in choices], "output": r["output"]})
    return docs


def _dataset(build, dataset):
    import datasets

    return datasets.Dataset.from_list(build(dataset.to_list()))


def mc_docs(dataset):
    """lm-eval `process_docs` of demo_mc."""
    return _dataset(build_mc, dataset)


def gen_docs(dataset):
    """lm-eval `process_docs` of demo_gen."""
    return _dataset(build_gen, dataset)


def entity_docs(dataset):
    """lm-eval `process_docs` of demo_entity."""
    return _dataset(build_entity, dataset)


BUILDERS = {"mc_docs": build_mc, "gen_docs": build_gen, "entity_docs": build_entity}
