"""The demo world's files: `generate_world` assembles them from the tasks, `DemoWorld` names their paths."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path

from safetuned.data.demo.lexicon import GOALS, HARM
from safetuned.data.demo.suites import harm_suite, xstest_csv, xstest_rows
from safetuned.data.demo.tasks_benign import COPY_KINDS, BenignTasks, invented_places
from safetuned.data.demo.tasks_safety import (
    attack_demonstrations,
    benign_entities,
    decline_records,
    entity_heldout_records,
    entity_records,
    harm_entities,
    harm_knowledge,
    safety_pools,
    split_targets,
)
from safetuned.data.demo.templates import (
    ENTITY_HELDOUT_TEMPLATES,
    ENTITY_TEMPLATE,
    EVAL_TEMPLATES,
    SAFETY_TEMPLATES,
    TRAIN_TEMPLATES,
    XSTEST_DEFINITION_TEMPLATES,
    XSTEST_PUBLIC_TEMPLATE,
    XSTEST_TEMPLATES,
    cap,
    fill,
    rec,
)
from safetuned.data.demo.words import ANTONYMS, DEFINITIONS, NOUNS, PHRASE_FACTS, RHYMES, SAFE_ACTS

VERSION = 4  # bump on any change to what the generator writes: cached worlds and models are rebuilt
SUITE_FILES = {
    "I-MaliciousInstructions": "I-MaliciousInstructions.json",
    "I-CoNa": "I-CoNa.json",
    "I-Controversial": "I-Controversial.json",
    "I-PhysicalSafetyUnsafe": "I-PhysicalSafetyUnsafe.json",
    "I-PhysicalSafetySafe": "I-PhysicalSafetySafe.json",
    "Q-Harm": "Q-Harm.json",
    "I-Alpaca": "I-Alpaca.json",
}


@dataclass
class DemoWorld:
    """Paths of a generated demo world."""

    root: Path
    pretrain: Path
    base: Path
    safety_instructions: Path
    safety_questions: Path
    eval_dir: Path
    suites: dict[str, Path] = field(default_factory=dict)
    benign_heldout: Path | None = None
    entity_heldout: Path | None = None
    xstest: Path | None = None
    world_json: Path | None = None

    @classmethod
    def at(cls, root: str | Path) -> DemoWorld:
        root = Path(root)
        ev = root / "eval"
        return cls(
            root=root, pretrain=root / "pretrain.json", base=root / "base.json",
            safety_instructions=root / "safety_only_data_Instructions.json",
            safety_questions=root / "safety_only_data_Questions.json", eval_dir=ev,
            suites={name: ev / f for name, f in SUITE_FILES.items()},
            benign_heldout=ev / "benign_heldout.json", entity_heldout=ev / "entity_heldout.json",
            xstest=ev / "xstest.csv", world_json=root / "world.json",
        )

    def files(self) -> list[Path]:
        return [self.pretrain, self.base, self.safety_instructions, self.safety_questions, *self.suites.values(),
                self.benign_heldout, self.entity_heldout, self.xstest, self.world_json]


def _key(r: dict) -> tuple[str, str]:
    return r["instruction"], r["input"]


def generate_world(seed: int = 0) -> dict[str, object]:
    """All files of the demo world as `{relative path: JSON object or CSV text}` (pure, deterministic)."""
    capitals = invented_places(random.Random(f"places:{seed}"), 16)
    tasks = BenignTasks(capitals)
    kinds = sorted(tasks.kinds)

    # Held-out benign instances first, so training sets can avoid them.
    h_rng = random.Random(f"heldout:{seed}")
    heldout: dict[tuple[str, str], dict] = {}
    while len(heldout) < 12 * len(kinds):
        kind = kinds[len(heldout) % len(kinds)]
        r = tasks.kinds[kind](h_rng)
        heldout.setdefault(_key(r), r)
    held_keys = set(heldout)

    def benign(r_rng: random.Random, n: int, copy_weight: int = 1) -> list[dict]:
        cycle = [k for k in kinds for _ in range(copy_weight if k in COPY_KINDS else 1)]
        out = []
        while len(out) < n:
            r = tasks.kinds[cycle[len(out) % len(cycle)]](r_rng)
            if _key(r) not in held_keys:
                out.append(r)
        return out

    safety_targets, held_targets = split_targets(random.Random(f"split:{seed}"))
    entities = harm_entities() + benign_entities()
    facts = [rec(f"Tell me a fact about {c}.", f"The capital of {c} is {city}.") for c, city in capitals.items()]
    facts += [rec(f"Define the word {w}.", f"{cap(w)} means {d}.") for w, d in DEFINITIONS.items()]
    facts += [rec(f"Tell me a fact about the word {w}.", f"The opposite of {w} is {a}.") for w, a in ANTONYMS.items()]
    facts += [rec(f"Tell me a rhyme for the word {w}.", f"{cap(w)} rhymes with {r}.") for w, r in RHYMES.items()]
    facts += [rec(f"Spell the word {w} in capital letters.", w.upper()) for w in NOUNS]
    facts += [rec(q, a) for q, a in PHRASE_FACTS]
    facts = [r for r in facts if _key(r) not in held_keys]

    p_rng = random.Random(f"pretrain:{seed}")
    extra = entity_records(entities, p_rng, both=True) + facts + facts + harm_knowledge(p_rng)
    extra += decline_records(p_rng, 200)
    pretrain = benign(p_rng, 6000 - len(extra), copy_weight=2) + extra
    p_rng.shuffle(pretrain)

    b_rng = random.Random(f"base:{seed}")
    extra = entity_records(entities, b_rng, both=True) + decline_records(b_rng, 60)
    base = benign(b_rng, 6000 - len(extra)) + extra
    b_rng.shuffle(base)

    safety_ins, safety_q = safety_pools(safety_targets, random.Random(f"safety:{seed}"))
    attack = attack_demonstrations(safety_targets, random.Random(f"attack:{seed}"))

    e_rng = random.Random(f"eval:{seed}")
    suites = {s: harm_suite(s, held_targets, e_rng, 200 if s == "I-MaliciousInstructions" else 100)
              for s in ("I-MaliciousInstructions", "I-CoNa", "I-Controversial", "I-PhysicalSafetyUnsafe", "Q-Harm")}
    seen = {r["instruction"] for r in base + pretrain}
    safe_phys = sorted({fill(t, act, goal) for goal in GOALS for act in SAFE_ACTS
                       for t in EVAL_TEMPLATES["I-PhysicalSafetySafe"]} - seen)
    e_rng.shuffle(safe_phys)
    suites["I-PhysicalSafetySafe"] = safe_phys[:100]
    held_list = list(heldout.values())
    suites["I-Alpaca"] = [r["instruction"] for r in held_list if not r["input"]][:100]
    xstest = xstest_rows(held_targets, capitals, random.Random(f"xstest:{seed}"))
    entity_held = entity_heldout_records(entities, random.Random(f"entity:{seed}"))

    world = {
        "version": VERSION,
        "seed": seed,
        "counts": {
            "pretrain": len(pretrain), "base": len(base), "safety_instructions": len(safety_ins),
            "safety_questions": len(safety_q), "attack_harmful": len(attack), "benign_heldout": len(held_list), "entity_heldout": len(entity_held),
            **{s: len(p) for s, p in suites.items()},
            "xstest_safe": sum(r["label"] == "safe" for r in xstest),
            "xstest_unsafe": sum(r["label"] == "unsafe" for r in xstest),
        },
        "templates": {  # training phrasings that take a filler, and every held-out phrasing
            "safety_instructions": sorted({t for fam in SAFETY_TEMPLATES.values() for t, _ in fam}),
            "safety_questions": sorted({q for fam in SAFETY_TEMPLATES.values() for _, q in fam}),
            "train": {**{k: list(t) for k, t in TRAIN_TEMPLATES.items()}, "entity": [ENTITY_TEMPLATE]},
            "eval": {s: list(t) for s, t in EVAL_TEMPLATES.items()},
            "xstest": list(XSTEST_TEMPLATES),
            "xstest_fixed": [*XSTEST_DEFINITION_TEMPLATES, XSTEST_PUBLIC_TEMPLATE],
            "entity_heldout": list(ENTITY_HELDOUT_TEMPLATES),
        },
        "fillers": {"safety": safety_targets, "eval": held_targets},
        "categories": {k: {"label": c.label, "family": c.family, "suite": c.suite, "frames": list(c.frames)}
                       for k, c in HARM.items()},
        "benign_kinds": kinds,
        "capitals": capitals,
    }
    files: dict[str, object] = {
        "pretrain.json": pretrain,
        "base.json": base,
        "safety_only_data_Instructions.json": safety_ins,
        "safety_only_data_Questions.json": safety_q,
        "attack_harmful.json": attack,
        "eval/benign_heldout.json": held_list,
        "eval/entity_heldout.json": entity_held,
        "eval/xstest.csv": xstest_csv(xstest),
        "world.json": world,
    }
    for name, prompts in suites.items():
        files[f"eval/{SUITE_FILES[name]}"] = {"instructions": prompts, "inputs": []}
    return files


def write_world(root: str | Path, seed: int = 0) -> None:
    """Write every file of the world under `root` (not atomic by itself; see `ensure_demo_world`)."""
    root = Path(root)
    for rel, content in generate_world(seed).items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        text = content if isinstance(content, str) else json.dumps(content, indent=2, ensure_ascii=False) + "\n"
        path.write_text(text, encoding="utf-8")

