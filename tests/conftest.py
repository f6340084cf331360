"""Shared fixtures: the real composed config, shrunk so a whole train + evaluate job runs in seconds on a CPU."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hydra import compose, initialize_config_module
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, open_dict

REPO = Path(__file__).resolve().parents[1]

# A model and run small enough for CI; the shapes and code paths are the real ones.
TINY_OVERRIDES = ["experiment=smoke", "logger=csv"]


@pytest.fixture(autouse=True)
def _job_env_restored(monkeypatch):
    """run_job points W&B's folders at its job through the environment (as a sweep process needs): a test that runs
    a job in-process must not leave them pointing there for the subprocesses of later tests."""
    from safetuned.runtime import wandb_job

    names = (*wandb_job.DIRS, "WANDB_DIR")
    for var in names:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(wandb_job, "_AT_START", dict.fromkeys(names))


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory) -> Path:
    """One cache per test session (demo world, tiny base model, tokenized data), shared by the tests."""
    path = tmp_path_factory.mktemp("safetuned-cache")
    os.environ["SAFETUNED_CACHE"] = str(path)
    return path


def compose_cfg(config_name: str, overrides: list[str], output_dir: Path, cache_dir: Path) -> DictConfig:
    """Compose a shipped config the way `hydra.main` does, with the runtime paths pointed at tmp folders."""
    GlobalHydra.instance().clear()
    with initialize_config_module(config_module="safetuned.conf", version_base="1.3"):
        cfg = compose(config_name=config_name, overrides=overrides, return_hydra_config=True)
    with open_dict(cfg):
        cfg.hydra.runtime.output_dir = str(output_dir)
        cfg.hydra.runtime.cwd = str(REPO)
        cfg.hydra.job.num = 0
        cfg.paths.cache_dir = str(cache_dir)
    HydraConfig.instance().set_config(cfg)
    return cfg


@pytest.fixture
def tiny_train_cfg(tmp_path, cache_dir) -> DictConfig:
    """The training config with TINY_OVERRIDES, writing into tmp_path/job."""
    return compose_cfg("train", TINY_OVERRIDES, tmp_path / "job", cache_dir)


def kill_after_first_checkpoint(cmd: list[str], last_ckpt: Path, env: dict, timeout: float = 900) -> None:
    """Run `cmd` (from the repo root) until `last_ckpt` appears, then SIGKILL its whole process group."""
    import signal
    import subprocess
    import time

    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.time() + timeout
    while not last_ckpt.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.2)
    assert last_ckpt.exists(), "no checkpoint appeared before the job ended"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def tiny_tok_and_model(corpus: list[str]):
    """A BPE tokenizer over `corpus` and a randomly initialised tiny LLaMA for it (generation tests)."""
    from safetuned.model.tiny import random_tiny_llama, train_bpe_tokenizer

    tok = train_bpe_tokenizer(corpus, vocab_size=320)
    return tok, random_tiny_llama(tok, seed=3, hidden_size=64, intermediate_size=128)


@pytest.fixture(scope="module")
def tok_and_model(request):
    """`tiny_tok_and_model` over the test module's CORPUS."""
    return tiny_tok_and_model(request.module.CORPUS)


@pytest.fixture(scope="module")
def tok(tok_and_model):
    return tok_and_model[0]


@pytest.fixture(scope="module")
def model(tok_and_model):
    return tok_and_model[1]
