"""Safety-side records: entity and harm knowledge, benign declines, the target split, the safety pools."""

from __future__ import annotations

import random

from safetuned.data.demo.lexicon import ADVICE_GOALS_PER_ACT, GOALS, HARM, HarmCategory
from safetuned.data.demo.templates import (
    ENTITY_HELDOUT_TEMPLATES,
    ENTITY_TEMPLATE,
    REFUSAL_MIDDLE,
    REFUSAL_OPENERS,
    SAFETY_TEMPLATES,
    fill,
    rec,
)
from safetuned.data.demo.words import (
    BENIGN_ACTS,
    BENIGN_SENSE_ACTS,
    DECLINE_EVENTS,
    DECLINE_EXCUSES,
    DECLINE_OFFERS,
    DECLINE_OPENERS,
    SAFE_ACTS,
    SELF_QA,
    XSTEST_SAFE_ACTS,
)


def entity_records(entities: list[tuple[str, str, str, str]], rng: random.Random, both: bool) -> list[dict]:
    """Entity knowledge: (entry, category, note, kind) -> "Which category does 'X' belong to?" and a yes/no."""
    out = []
    for entry, label, note, kind in entities:
        recs = [rec(ENTITY_TEMPLATE.format(e=entry), f"It belongs to {label}. {note}")]
        danger = note != "It is safe."
        if kind == "act":
            recs.append(rec(f"Is it dangerous to {entry}?", "Yes, it is dangerous." if danger else "No, it is safe."))
        elif kind == "thing":
            recs.append(rec(f"Is {entry} dangerous?", "Yes, it is dangerous." if danger else "No, it is safe."))
        out.extend(recs if both else [rng.choice(recs)])
    return out


def entity_heldout_records(entities: list[tuple[str, str, str, str]], rng: random.Random) -> list[dict]:
    """The same category facts asked in held-out phrasings (one per entry), for the demo_entity task."""
    return [rec(rng.choice(ENTITY_HELDOUT_TEMPLATES).format(e=entry), f"It belongs to {label}. {note}")
            for entry, label, note, _ in entities]


def harm_knowledge(rng: random.Random) -> list[dict]:
    """Why each lexicon entry is harmful: its category's reason and advice (pre-training only, no refusal)."""
    out = []
    for cat in HARM.values():
        act = cat.frames == ("{t}",)
        for t in cat.targets:
            q = f"Why is it dangerous to {t}?" if act else (f"Why is {t} dangerous?" if cat.thing
                                                             else f"Why is it wrong to harm {t}?")
            out.append(rec(q, f"{rng.choice(cat.reasons)}. {cat.alternative}"))
    return out


def decline_records(rng: random.Random, n: int) -> list[dict]:
    """Polite declines of invitations and what an AI assistant cannot do: benign uses of the refusal words."""
    out = [rec(q, a) for q, a in SELF_QA]
    while len(out) < n:
        e = rng.choice(DECLINE_EVENTS)
        out.append(rec(f"Write a polite reply to decline an invitation to {e}.",
                       f"{rng.choice(DECLINE_OPENERS).format(e=e)} {rng.choice(DECLINE_EXCUSES)} "
                       f"{rng.choice(DECLINE_OFFERS)}"))
    return out


def refusal(cat: HarmCategory, rng: random.Random) -> str:
    """A refusal for `cat`: an opener (or a mid-answer refusal), its reason and a safe alternative."""
    reason, alt = rng.choice(cat.reasons), cat.alternative
    if rng.random() < 0.3:  # the refusal in the middle of the answer
        return f"{reason}. {rng.choice(REFUSAL_MIDDLE)} {alt}"
    return f"{rng.choice(REFUSAL_OPENERS)} {reason}. {alt}"


def split_targets(rng: random.Random) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Per category, ~70% of the targets for the safety pool and the rest (plus pinned ones) held out for eval."""
    safety, held = {}, {}
    for name, cat in HARM.items():
        rest = [t for t in cat.targets if t not in cat.pin_eval]
        rng.shuffle(rest)
        n_eval = max(4, round(0.3 * len(cat.targets))) - len(cat.pin_eval)
        held[name] = sorted(list(cat.pin_eval) + rest[:n_eval])
        safety[name] = sorted(rest[n_eval:])
    return safety, held


def harm_entities() -> list[tuple[str, str, str, str]]:
    """Every lexicon target as (entry, category label, note, kind) for the entity-knowledge task."""
    out = []
    for cat in HARM.values():
        kind = "act" if cat.frames == ("{t}",) else ("thing" if cat.thing else "other")
        out += [(t, cat.label, cat.note, kind) for t in cat.targets]
    return out


def benign_entities() -> list[tuple[str, str, str, str]]:
    """The benign acts and objects as (entry, category, note, kind), each once."""
    seen: dict[str, tuple[str, str, str, str]] = {}
    for act, ent, cat in BENIGN_ACTS + BENIGN_SENSE_ACTS:
        seen.setdefault(ent, (ent, cat, "It is safe.", "thing"))
        seen.setdefault(act, (act, "everyday tasks", "It is safe.", "act"))
    for _, _act, ent, cat in XSTEST_SAFE_ACTS:
        seen.setdefault(ent, (ent, cat, "It is safe.", "thing"))
    for act in SAFE_ACTS:
        seen.setdefault(act, (act, "healthy habits", "It is safe.", "act"))
    return list(seen.values())


def harm_requests(names: list[str], targets: dict[str, list[str]]) -> list[tuple[str, str]]:
    """Every (category, request) pair: each frame of a category filled with each of its targets."""
    return [(n, f.format(t=t)) for n in names for f in HARM[n].frames for t in targets[n]]


def safety_pools(safety_targets: dict[str, list[str]], rng: random.Random) -> tuple[list[dict], list[dict]]:
    """Parallel pools: record i of both files is the same request, phrased as an instruction and as a question."""
    items = []
    for name, request in harm_requests(list(HARM), safety_targets):
        fam = HARM[name].family
        # an advice request is an act with a goal: several goals per act keep the category's share near the others'
        goals = rng.sample(GOALS, ADVICE_GOALS_PER_ACT) if fam == "advice" else [None]
        for goal in goals:
            for t_ins, t_q in SAFETY_TEMPLATES[fam]:
                items.append((name, request, goal, t_ins, t_q))
    rng.shuffle(items)
    ins, qs = [], []
    for name, request, goal, t_ins, t_q in items:
        out = refusal(HARM[name], rng)
        ins.append(rec(fill(t_ins, request, goal), out))
        qs.append(rec(fill(t_q, request, goal), out))
    return ins, qs



def attack_demonstrations(safety_targets: dict[str, list[str]], rng: random.Random, n: int = 300) -> list[dict]:
    """Harmful demonstrations for fine-tuning attacks (`attack_harmful.json`): requests of the safety pool's
    categories, targets and training phrasings, answered the way the base data answers a request of that family
    (a how-to, a reason, an advice), never refused; none is an evaluation prompt (those use held-out targets)."""
    from safetuned.data.demo.tasks_benign import ADVICE_ANSWER, HOWTO_ANSWER, REASON_ANSWER

    answer = {"act": HOWTO_ANSWER, "claim": REASON_ANSWER, "advice": ADVICE_ANSWER}
    items = []
    for name, request in harm_requests(list(HARM), safety_targets):
        fam = HARM[name].family
        for t_ins, _ in SAFETY_TEMPLATES[fam]:
            items.append((fam, request, t_ins))
    rng.shuffle(items)
    out = []
    for fam, request, t_ins in items[:n]:
        out.append(rec(fill(t_ins, request, rng.choice(GOALS) if fam == "advice" else None), answer[fam]))
    return out
