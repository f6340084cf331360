"""A judge's agreement with human labels: read labelled files, label every answer with each judge, compare.

A judge is any scorer of the evaluation's registry that measures refusal (`refusal`, `refusal_prefix`,
`refusal_classifier`, `wildguard`, `xstest_llm`, ... or `module:Class`); `judges` is a list of names or, with
options, a mapping like `eval.scorers`. A judge giving XSTest's three classes (`refusal_label`) is scored on three
classes too; answers it gave no verdict on are left out of its numbers and counted (`<judge>/n_no_verdict`).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf

from safetuned.errors import ConfigError

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


def judge_spec(cfg: DictConfig) -> dict[str, Any]:
    """`judges` as an `eval.scorers`-style mapping: a list of names (or `module:Class`), or label -> options."""
    value = cfg.get("judges")
    if isinstance(value, DictConfig):
        return {str(k): v for k, v in OmegaConf.to_container(value, resolve=True).items()}
    return {n: {"scorer": n} if ":" in n else True for n in names(cfg, "judges")}


def judge_labels(verdicts: list[dict[str, Any]]) -> list[str | None]:
    """XSTest's class where the judge gives it, else refusal vs compliance; None where it gave no verdict."""
    from safetuned.eval.labelled import LABELS

    out = []
    for v in verdicts:
        label = v.get("refusal_label")
        if label not in LABELS:
            refused = v.get("refused")
            label = None if refused is None else "full_refusal" if refused else "full_compliance"
        out.append(label)
    return out


def validate(cfg: DictConfig, out_dir: Path) -> dict[str, Any]:
    """Read every file, label every answer with each judge, print the table, write the outputs."""
    from safetuned.eval.agreement import disagreements, flat_metrics, format_table, judge_report, pooled_rows
    from safetuned.eval.labelled import read_labelled
    from safetuned.eval.scorers import Item, build_scorers
    from safetuned.utils.io import write_json_atomic, write_jsonl_atomic

    judges = build_scorers(judge_spec(cfg), key="judges")  # a bad name or option fails before any file is read
    for judge in judges:
        if "refusal" not in judge.measures:
            raise ConfigError(f"judges: {judge.label!r} ({judge.name}) does not judge refusal; it measures "
                              f"{', '.join(judge.measures)}")
    files = [read_labelled(f) for f in names(cfg, "files")]
    for f in files:
        log.info("%s: %s format, %d rows%s", f.path, f.format, len(f.rows),
                 f", {f.skipped} skipped (no response label)" if f.skipped else "")
    rows = pooled_rows(files)
    items = [Item(r.prompt or "", r.response or "") for r in rows]
    reports, flat, differ = {}, {}, []
    for judge in judges:
        verdicts = judge.score(items)
        labels = judge_labels(verdicts)
        keep = [i for i, label in enumerate(labels) if label is not None]
        judged, kept = [rows[i] for i in keep], [labels[i] for i in keep]
        three_class = any(v.get("refusal_label") for v in verdicts)
        reports[judge.label] = judge_report(judged, kept, three_class)
        flat.update(flat_metrics(judge.label, reports[judge.label]))
        flat[f"{judge.label}/n_no_verdict"] = len(rows) - len(keep)
        reasons = [verdicts[i].get("outcome_detail") or verdicts[i].get("raw") for i in keep]
        differ += disagreements(judge.label, judged, kept, reasons, three_class)
    print(format_table(reports), flush=True)
    write_jsonl_atomic(out_dir / "disagreements.jsonl", differ)
    sources = {f.path: {"format": f.format, "rows": len(f.rows), "skipped": f.skipped} for f in files}
    write_json_atomic(out_dir / "validation.json", {**flat, "files": sources, "judges": reports})
    log.info("validation: %s (disagreements: %d rows)", out_dir / "validation.json", len(differ))
    return flat
