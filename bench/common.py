"""Shared bench plumbing: compose the shipped training config outside `hydra.main`, medians, RSS."""

from __future__ import annotations

import os
import resource
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path

from omegaconf import DictConfig

from safetuned.errors import ConfigError


def compose_train_cfg(overrides: Sequence[str], output_dir: str | Path, config_name: str = "train") -> DictConfig:
    """The `train` (or `config_name`) config as `hydra.main` composes it, its runtime output folder `output_dir`."""
    from hydra import compose, initialize_config_module
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.hydra_config import HydraConfig
    from hydra.errors import HydraException
    from omegaconf import open_dict
    from omegaconf.errors import OmegaConfBaseException

    GlobalHydra.instance().clear()
    try:
        with initialize_config_module(config_module="safetuned.conf", version_base="1.3"):
            cfg = compose(config_name=config_name, overrides=list(overrides), return_hydra_config=True)
    except (HydraException, OmegaConfBaseException) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ConfigError(f"bench overrides {list(overrides)}: {first}") from None
    with open_dict(cfg):
        cfg.hydra.runtime.output_dir = str(output_dir)
        cfg.hydra.runtime.cwd = os.getcwd()
        cfg.hydra.job.num = 0
    HydraConfig.instance().set_config(cfg)
    return cfg


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def self_peak_rss_mb() -> float:
    """Peak resident memory of this process since it started its program (Linux VmHWM; else ru_maxrss).

    ru_maxrss would also count the pages shared with the parent between fork and exec.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024
