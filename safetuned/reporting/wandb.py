"""The sweep report on W&B: the job table, the paired comparisons, the seed-mean table and the plots, logged to a
`job_type=report` run in the sweep's group (the group of its jobs' runs).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from safetuned.errors import ConfigError
from safetuned.reporting.agreement import COLUMNS as AGREEMENT_COLUMNS
from safetuned.reporting.metrics import FAMILIES
from safetuned.reporting.paired import COLUMNS as PAIRED_COLUMNS

if TYPE_CHECKING:
    from safetuned.reporting.tables import SweepReport


def wandb_settings(config: Any, force: bool = False) -> dict[str, Any] | None:
    """project/entity/mode of the report run from a sweep's config (`logger.wandb`, as its jobs logged), else, when
    `force`, from conf/logger/wandb.yaml (the one place the defaults are written); None: the sweep does not log."""
    from omegaconf import OmegaConf

    w = OmegaConf.select(config, "logger.wandb", default=None) if config is not None else None
    if w is None:
        if not force:
            return None
        from importlib.resources import files

        w = OmegaConf.create((files("safetuned.conf") / "logger" / "wandb.yaml").read_text(encoding="utf-8")).wandb
    return {"project": w.get("project"), "entity": w.get("entity"),
            "mode": "offline" if w.get("offline", True) else "online"}


def _wandb_table(columns: Sequence[str], rows: Sequence[dict]):
    """A wandb.Table; a column mixing numbers and text is logged as text so W&B accepts it."""
    import wandb

    def kind(v: Any) -> str:
        return "none" if v is None else "num" if isinstance(v, (int, float)) and not isinstance(v, bool) else "str"

    as_text = {c for c in columns if len({kind(r.get(c)) for r in rows} - {"none"}) > 1}
    data = [[(None if r.get(c) is None else str(r.get(c))) if c in as_text else r.get(c) for c in columns]
            for r in rows]
    return wandb.Table(columns=list(columns), data=data)


def log_report_to_wandb(report: SweepReport, project: str, entity: str | None = None, group: str | None = None,
                        mode: str = "offline") -> Path | None:
    """Log the job table, the seed-mean table and the plots to a `job_type=report` run in the sweep's group.

    The run goes under $WANDB_DIR, else the sweep folder. Returns the run's local folder (`wandb sync` it later
    when offline). The run is always finished.
    """
    if mode not in ("offline", "online", "disabled"):
        raise ConfigError(f"wandb mode={mode!r}; choose offline, online or disabled")
    import wandb

    group = group or report.group
    run = wandb.init(project=project, entity=entity, group=group, job_type="report", name=f"report {group}",
                     dir=os.environ.get("WANDB_DIR") or str(report.sweep_dir), mode=mode, reinit="create_new",
                     config={"sweep_dir": str(report.sweep_dir), "swept": report.swept, "x_key": report.x_key})
    try:
        payload: dict[str, Any] = {"report/jobs": _wandb_table(report.columns, report.rows)}
        if report.paired:
            payload["report/paired"] = _wandb_table(PAIRED_COLUMNS, [c.row() for c in report.paired])
        if report.agreement:
            payload["report/judge_agreement"] = _wandb_table(AGREEMENT_COLUMNS, report.agreement)
        if report.summary_rows:
            payload["report/mean_over_seeds"] = _wandb_table(report.summary_columns, report.summary_rows)
        for name, path in report.plots.items():
            payload[f"report/plots/{name}"] = wandb.Image(str(path), caption=FAMILIES.get(name, name))
        run.log(payload)
        run.summary.update({f"report/jobs_{s.replace(' ', '_')}": n for s, n in report.counts().items()})
        return Path(run.dir).parent if mode != "disabled" else None
    finally:
        run.finish()
