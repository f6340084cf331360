"""Sweep report: `python -m safetuned.report [<sweep folder>]` collects every job of a Hydra multirun sweep and
writes `report.csv`, `report.md`, `summary.csv` (mean over seeds, when seeds were swept), `paired.csv`,
`plots/*.png` and one self-contained `report.html` into the sweep folder; `--wandb offline|online` also logs them
to W&B. The work lives in `safetuned.reporting` (collect, metrics, tables, plots, render, wandb).

A plain argparse CLI rather than a Hydra app: the one argument is a folder (as in `make report SWEEP=...`), and a
Hydra main would create its own output folder and take over logging for a read-only post-processing step.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from safetuned.errors import SafetunedError
from safetuned.pipeline.layout import newest_sweep
from safetuned.reporting.render import headline
from safetuned.reporting.tables import SweepReport, summarize_sweep
from safetuned.reporting.wandb import log_report_to_wandb, wandb_settings


def build_report(sweep_dir: str | Path | None = None, x_key: str | None = None, wandb_mode: str | None = None,
                 project: str | None = None, entity: str | None = None, root: str | Path = "multirun"
                 ) -> SweepReport:
    """The CLI's work: resolve the sweep folder (default: newest under `root`), write the report, log to W&B
    (project and entity default to the sweep's own `logger.wandb`)."""
    report = summarize_sweep(sweep_dir if sweep_dir is not None else newest_sweep(root), x_key=x_key)
    if wandb_mode:
        from omegaconf import OmegaConf

        run_yaml = report.sweep_dir / "multirun.yaml"
        settings = wandb_settings(OmegaConf.load(run_yaml) if run_yaml.is_file() else None, force=True)
        run_dir = log_report_to_wandb(report, project=project or settings["project"],
                                      entity=entity or settings["entity"], mode=wandb_mode)
        if run_dir is not None:
            report.files["wandb_run"] = run_dir
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """`safetuned-report [SWEEP_DIR] [--x-key KEY] [--wandb offline|online] [--project P] [--entity E]`."""
    p = argparse.ArgumentParser(prog="safetuned-report", description=__doc__.split("\n\n")[0])
    p.add_argument("sweep_dir", nargs="?", help="a multirun/<date>/<time> folder (default: the newest under --root)")
    p.add_argument("--root", default="multirun", help="where to look for the newest sweep (default: multirun)")
    p.add_argument("--x-key", help="the swept key on the plots' x axis (default: the numeric one with most values)")
    p.add_argument("--wandb", choices=["offline", "online"], help="also log the report to W&B in this mode")
    p.add_argument("--project", help="W&B project (default: the sweep's logger.wandb.project)")
    p.add_argument("--entity", help="W&B entity (default: your default entity)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        report = build_report(args.sweep_dir, args.x_key, args.wandb, args.project, args.entity, args.root)
    except SafetunedError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(headline(report))
    for path in [*report.files.values(), *report.plots.values()]:
        print(f"  {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
