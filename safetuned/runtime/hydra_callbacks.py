"""Hydra callbacks: build the sweep report when a multirun ends (registered in conf/hydra/default.yaml)."""

from __future__ import annotations

import logging
import sys
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from safetuned.pipeline.layout import summary_lines, sweep_states

log = logging.getLogger(__name__)


class ReportOnMultirunEnd(Callback):
    """Write `report.{csv,md,html}` and plots into the sweep folder after the last job; never fails the sweep.

    `wandb`: "auto" logs the report to W&B when the sweep's config has a `logger.wandb` section (same project,
    entity and offline setting as the jobs), true/false force it on/off; its files stay in the sweep folder (or
    $WANDB_DIR). `x_key` picks the plots' x axis.
    """

    def __init__(self, wandb: bool | str = "auto", x_key: str | None = None) -> None:
        self.wandb = wandb
        self.x_key = x_key
        self.sweep_dir: str | None = None
        self.report: Any = None

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        # Read the sweep folder now: `${now:...}` in it is resolved (and cached) at the sweep's start.
        try:
            self.sweep_dir = str(config.hydra.sweep.dir)
        except Exception:  # noqa: BLE001 - resolved again at the end
            self.sweep_dir = None

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        try:
            from safetuned.reporting.tables import summarize_sweep
            from safetuned.reporting.wandb import log_report_to_wandb

            sweep_dir = self.sweep_dir or str(config.hydra.sweep.dir)
            self.report = summarize_sweep(sweep_dir, x_key=self.x_key)
            log.info("sweep report: %s", self.report.files.get("html"))
            settings = self._wandb_settings(config)
            if settings is not None:
                from safetuned.runtime import wandb_job

                wandb_job.use_job_dirs(sweep_dir)  # staging, cache and logs of the report run stay in the sweep
                log_report_to_wandb(self.report, **settings)
                wandb_job.close()
        except Exception as e:  # noqa: BLE001 - a report problem must not fail a finished sweep
            log.warning("could not build the sweep report (%s: %s); run `python -m safetuned.report %s`",
                        type(e).__name__, e, self.sweep_dir or "<sweep folder>")

    def _wandb_settings(self, config: DictConfig) -> dict[str, Any] | None:
        """project/entity/mode for the report run, from the jobs' `logger.wandb` config; None = don't log."""
        from safetuned.reporting.wandb import wandb_settings

        if self.wandb is False or str(self.wandb).lower() in ("false", "off", "none"):
            return None
        return wandb_settings(config, force=self.wandb != "auto")


class SweepExitCode(Callback):
    """Exit with `exit_code` when any job folder of the sweep failed or is unfinished (after the report)."""

    def __init__(self, exit_code: int = 1) -> None:
        self.exit_code = int(exit_code)
        self.sweep_dir: str | None = None

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        self.sweep_dir = str(config.hydra.sweep.dir)  # `${now:...}` resolved once, as the jobs see it
        names = list(OmegaConf.select(config, "hydra.callbacks", default={}) or {})
        mine = [n for n in names if "SweepExitCode" in str(config.hydra.callbacks[n].get("_target_", ""))]
        if mine and names[0] != mine[0]:
            log.warning("hydra.callbacks.%s should be registered first: on_multirun_end runs callbacks in reverse "
                        "order, so %s would be skipped by its exit", mine[0], ", ".join(names[: names.index(mine[0])]))

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = self.sweep_dir or str(config.hydra.sweep.dir)
        states = sweep_states(sweep_dir)
        lines = summary_lines(sweep_dir, states)
        for line in lines:
            print(line, file=sys.stderr, flush=True)
        if any(s.status != "completed" for s in states):
            raise SystemExit(self.exit_code)
