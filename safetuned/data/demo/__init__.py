"""The demo world: a seeded, offline stand-in for the paper's data, in the paper's file formats.

Everything is generated here from small tables, no download. It is built to be learnable by a ~1M-parameter LLaMA:
short texts, benign tasks with deterministic answers (copy, reverse, sort, lookup...), and a *lexicon* of harmful
targets per harm category. Transfer from the safety pool to held-out harmful prompts comes from an entity-knowledge
task ("Which category does 'X' belong to?") that ties every lexicon entry, the held-out ones included, to its
category in the pre-training and base sets. The safety pool and the eval suites use disjoint templates and disjoint
fillers (recorded in world.json). XSTest-style safe look-alikes reuse the pool's ambiguous verbs (kill, shoot, blow
up, attack, execute, steal) with benign objects, which is what makes a model trained on many refusals over-refuse.
Hateful and private content uses invented groups, places and people; harmful requests carry only their *shape*.

Modules: `lexicon` (harm categories), `templates` and `words` (phrasing and benign tables), `tasks_benign`,
`tasks_safety` and `suites` (the generators), `world` (assembling the files), `cache` (building them once).
"""

from safetuned.data.demo.cache import ensure_demo_world
from safetuned.data.demo.lexicon import HARM
from safetuned.data.demo.world import SUITE_FILES, VERSION, DemoWorld, generate_world

__all__ = ["HARM", "SUITE_FILES", "VERSION", "DemoWorld", "ensure_demo_world", "generate_world"]
