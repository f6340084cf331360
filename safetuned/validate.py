"""Check refusal judges against human labels: `python -m safetuned.validate files=[<file>,...] [judges=[...]]`.

Writes `<job>/disagreements.jsonl` (per judge, the rows where judge and human differ) and, last, `<job>/
validation.json` (flat `<judge>/<metric>` keys of the pooled rows; per file and per breakdown under `judges`).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import hydra
from omegaconf import DictConfig, ListConfig, OmegaConf

from safetuned.errors import ConfigError
from safetuned.job import run_job

log = logging.getLogger(__name__)


def names(cfg: DictConfig, key: str) -> list[str]:
    """A non-empty list of distinct strings from `cfg[key]` (a single string counts as a list of one)."""
    if OmegaConf.is_missing(cfg, key):
        raise ConfigError(f"{key} is required: {key}=[<file>,<file>,...]")
    value = cfg.get(key)
    items = [str(x) for x in value] if isinstance(value, ListConfig | list) else [] if value is None else [str(value)]
    if not items:
        raise ConfigError(f"{key}=[] is empty: name at least one")
    if len(set(items)) < len(items):
        raise ConfigError(f"{key}={items}: {sorted({x for x in items if items.count(x) > 1})} given twice")
    return items


def validate(cfg: DictConfig, out_dir: Path) -> dict[str, Any]:
    """Read every file, label every answer with each judge, print the table, write the outputs."""
    from safetuned.eval.agreement import disagreements, flat_metrics, format_table, judge_report, pooled_rows
    from safetuned.eval.labelled import read_labelled
    from safetuned.eval.refusal_judges import get_judge
    from safetuned.utils.io import write_json_atomic, write_jsonl_atomic

    judges = [get_judge(n) for n in names(cfg, "judges")]  # a bad name fails before any file is read
    files = [read_labelled(f) for f in names(cfg, "files")]
    for f in files:
        log.info("%s: %s format, %d rows%s", f.path, f.format, len(f.rows),
                 f", {f.skipped} skipped (no response label)" if f.skipped else "")
    rows = pooled_rows(files)
    prompts, responses = [r.prompt for r in rows], [r.response for r in rows]
    reports, flat, differ = {}, {}, []
    for judge in judges:
        verdicts = judge.verdicts(prompts, responses)
        labels = [label for label, _ in verdicts]
        reports[judge.name] = judge_report(rows, labels, judge.three_class)
        flat.update(flat_metrics(judge.name, reports[judge.name]))
        differ += disagreements(judge.name, rows, labels, [why for _, why in verdicts], judge.three_class)
    print(format_table(reports), flush=True)
    write_jsonl_atomic(out_dir / "disagreements.jsonl", differ)
    sources = {f.path: {"format": f.format, "rows": len(f.rows), "skipped": f.skipped} for f in files}
    write_json_atomic(out_dir / "validation.json", {**flat, "files": sources, "judges": reports})
    log.info("validation: %s (disagreements: %d rows)", out_dir / "validation.json", len(differ))
    return flat


@hydra.main(version_base="1.3", config_path="pkg://safetuned.conf", config_name="validate")
def main(cfg: DictConfig) -> None:
    run_job(cfg, validate)


if __name__ == "__main__":
    main()
