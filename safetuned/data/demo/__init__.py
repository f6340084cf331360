"""The demo world: a seeded, offline stand-in for the paper's data, in the paper's file formats.

Everything is generated here from small tables, no download. It is built to be learnable by a ~1M-parameter LLaMA:
short texts, benign tasks with deterministic answers (copy, reverse, sort, lookup...), and a *lexicon* of harmful
targets per harm category. Transfer from the safety pool to held-out harmful prompts comes from an entity-knowledge
task ("Which category does 'X' belong to?") that ties every lexicon entry, the held-out ones included, to its
category in the pre-training and base sets. Every held-out suite (harmful, physical safety, XSTest-style, entity)
is phrased with templates no training record uses, and the harmful ones with fillers the safety pool does not use
(both recorded in world.json). The safety pool's ambiguous verbs (kill, shoot, execute, attack, blow up, steal)
also occur in benign training text in their everyday senses (kill a stuck process, blow up a beach ball, ...), in
about 2-3% of records, so a model over-refuses the look-alikes only as far as the safety data teaches it to.
Hateful and private content uses invented groups, places and people; harmful requests carry only their *shape*.

Modules: `lexicon` (harm categories), `templates` and `words` (phrasing and benign tables), `tasks_benign`,
`tasks_safety` and `suites` (the generators), `world` (assembling the files), `cache` (building them once),
`judge_pairs` (labelled answers for the embedded harm judge).
"""

from safetuned.data.demo.cache import ensure_demo_world
from safetuned.data.demo.lexicon import HARM
from safetuned.data.demo.world import SUITE_FILES, VERSION, DemoWorld, generate_world

__all__ = ["HARM", "SUITE_FILES", "VERSION", "DemoWorld", "ensure_demo_world", "generate_world"]
