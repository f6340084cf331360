"""Check refusal judges against human labels: `python -m safetuned.validate files=[<file>,...] [judges=[...]]`.

Writes `<job>/disagreements.jsonl` (per judge, the rows where judge and human differ) and, last, `<job>/
validation.json` (flat `<judge>/<metric>` keys of the pooled rows; per file and per breakdown under `judges`).
The work lives in safetuned.eval.validation.
"""

from __future__ import annotations

import hydra
from omegaconf import DictConfig

from safetuned.eval.validation import validate
from safetuned.runtime.job import run_job


@hydra.main(version_base="1.3", config_path="pkg://safetuned.conf", config_name="validate")
def main(cfg: DictConfig) -> None:
    run_job(cfg, validate)


if __name__ == "__main__":
    main()
