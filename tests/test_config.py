"""Every shipped config composes, resolves, and each `_target_` imports and accepts its arguments."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
from hydra._internal.utils import _locate
from omegaconf import DictConfig, ListConfig, OmegaConf

from tests.conftest import REPO, compose_cfg

CONF = Path(__file__).resolve().parents[1] / "conf"
META_KEYS = {"_target_", "_partial_", "_convert_", "_recursive_", "_args_"}
# Values a user must supply for some presets (their configs say so with ???).
REQUIRED = {
    "model/local": ["model.pretrained=/models/some-llama"],
    "data/saferpaca": ["data.dir=/data/training"],
    "data/alpaca-hub": ["data.safety.instructions=/data/safety_only_data_Instructions.json"],
    "data/premixed": ["data.premixed=/data/saferpaca_Instructions_500.json"],
    "experiment/paper": ["data.dir=/data/training", "eval.paper_dir=/data/evaluation"],
    "experiment/paper-format": ["data.dir=/data/training", "eval.paper_dir=/data/evaluation",
                                "data.safety.questions=/data/safety_only_data_Questions.json"],
    "eval/paper": ["eval.paper_dir=/data/evaluation"],
    "eval/harmbench": ["eval.benchmarks_dir=tests/fixtures/benchmarks"],
    "eval/safety-suite": ["eval.benchmarks_dir=tests/fixtures/benchmarks"],
    "eval/over-refusal": ["eval.benchmarks_dir=tests/fixtures/benchmarks"],
}


def group_options() -> list[tuple[str, str]]:
    """(group, option) for every YAML in a config group folder of conf/ (nested groups included)."""
    out = []
    for path in sorted(CONF.rglob("*.yaml")):
        rel = path.relative_to(CONF)
        if len(rel.parts) > 1 and not rel.stem.startswith("_"):  # _base.yaml, _hf.yaml: bases the presets extend
            out.append(("/".join(rel.parts[:-1]), rel.stem))
    return out


def check_targets(node, where: str = "") -> int:
    """Import every `_target_` and bind its arguments to the callable's signature; returns how many."""
    count = 0
    if isinstance(node, DictConfig):
        if "_target_" in node:
            target = _locate(node._target_)
            kwargs = {k: v for k, v in node.items() if k not in META_KEYS}
            sig = inspect.signature(target)
            if not any(p.kind == p.VAR_KEYWORD for p in sig.parameters.values()):
                unknown = set(kwargs) - set(sig.parameters)
                assert not unknown, f"{where}: {node._target_} takes no {sorted(unknown)}"
            count += 1
        for k, v in node.items():
            count += check_targets(v, f"{where}.{k}")
    elif isinstance(node, ListConfig):
        for i, v in enumerate(node):
            count += check_targets(v, f"{where}[{i}]")
    return count


def compose_and_check(config: str, overrides: list[str], tmp_path, cache_dir) -> DictConfig:
    cfg = compose_cfg(config, overrides, tmp_path / "job", cache_dir)
    job = {k: v for k, v in cfg.items() if k != "hydra"}
    OmegaConf.to_container(OmegaConf.create(job), resolve=True, throw_on_missing=True)
    return cfg


@pytest.mark.parametrize("config", ["train", "evaluate"])
def test_primary_configs_compose(config, tmp_path, cache_dir):
    cfg = compose_and_check(config, [], tmp_path, cache_dir)
    job = OmegaConf.create({k: v for k, v in cfg.items() if k != "hydra"})
    assert check_targets(job) >= (5 if config == "train" else 1)


@pytest.mark.parametrize(("group", "option"), group_options(), ids=lambda x: str(x))
def test_every_group_option_composes(group, option, tmp_path, cache_dir):
    if group == "hydra":
        pytest.skip("hydra/default is composed by every other case")
    overrides = [f"{group}={option}", *REQUIRED.get(f"{group}/{option}", [])]
    cfg = compose_and_check("train", overrides, tmp_path, cache_dir)
    job = OmegaConf.create({k: v for k, v in cfg.items() if k != "hydra"})
    check_targets(job, "cfg")
    check_targets(cfg.hydra.callbacks, "hydra.callbacks")
    if group == "hydra/launcher":
        assert check_targets(cfg.hydra.launcher, "hydra.launcher") == 1


def test_demo_defaults_match_the_readme(tmp_path, cache_dir):
    """The default job is the embedded demo: tiny model, demo data, Alpaca prompt, offline W&B."""
    cfg = compose_and_check("train", [], tmp_path, cache_dir)
    assert cfg.model.pretrained is None and cfg.data.demo_seed == 0
    assert cfg.prompt.name == "alpaca" and cfg.data.train_on_inputs is True
    assert cfg.logger.wandb.offline is True
    assert cfg.callbacks.model_checkpoint.monitor == "val/loss" and cfg.callbacks.model_checkpoint.mode == "min"
    assert cfg.hydra.sweep.dir.startswith("multirun/") and cfg.hydra.job.config.override_dirname.kv_sep == "="


@pytest.mark.parametrize("value", ["", "unset", "/tmp/elsewhere"])
def test_cache_dir_follows_safetuned_cache_and_an_empty_value_counts_as_unset(value, monkeypatch, tmp_path):
    import safetuned  # noqa: F401  (registers the env_or resolver)

    raw = OmegaConf.to_container(OmegaConf.load(REPO / "conf" / "paths" / "default.yaml"))["cache_dir"]
    if value == "unset":
        monkeypatch.delenv("SAFETUNED_CACHE", raising=False)
    else:
        monkeypatch.setenv("SAFETUNED_CACHE", value)
    cfg = OmegaConf.create({"paths": {"root_dir": str(tmp_path), "cache_dir": raw}})
    want = value if value.startswith("/") else f"{tmp_path}/.cache"
    assert cfg.paths.cache_dir == want


@pytest.mark.parametrize("group, base", [("data", "_base"), ("model", "_hf")])
def test_presets_extend_their_base_and_repeat_none_of_its_values(group, base):
    """Each preset of the group lists the base in its defaults and sets only keys whose value differs."""
    base_cfg = OmegaConf.load(CONF / group / f"{base}.yaml")
    presets = [p for p in sorted((CONF / group).glob("*.yaml")) if not p.stem.startswith("_")]
    extending = 0
    for path in presets:
        raw = OmegaConf.load(path)
        if base not in list(raw.get("defaults") or []):
            continue
        extending += 1
        for key in raw:
            if key == "defaults" or key not in base_cfg or OmegaConf.is_missing(raw, key) \
                    or OmegaConf.is_missing(base_cfg, key):
                continue
            assert raw[key] != base_cfg[key], f"{path.name} repeats {key}: {raw[key]} from {base}.yaml"
    assert extending >= 4


def test_paper_preset_matches_the_papers_scripts(tmp_path, cache_dir):
    """experiment=paper: the training and generation values of the paper's own scripts (see the preset header)."""
    cfg = compose_cfg("train", ["experiment=paper", "data.dir=/data/training", "eval.paper_dir=/data/evaluation"],
                      tmp_path / "job", cache_dir)
    assert cfg.optim.scheduler.num_warmup_steps == 10 and cfg.data.group_by_length is False
    assert cfg.data.val_size == 2000 and cfg.val_every_n_steps == 50
    assert cfg.eval.generation.max_new_tokens == 128 and cfg.eval.generation.num_beams == 4
    assert cfg.eval.xstest_csv.endswith("/xstest_prompts.csv")  # the file XSTest's repository ships


def test_probes_switch_on_from_the_command_line(tmp_path, cache_dir):
    """`eval.prefill={ks: [...]}` and `eval.kl_position={}` (defaults) as a user types them."""
    from safetuned.eval.probes import check_kl, check_prefill

    cfg = compose_cfg("train", ["eval.prefill={ks: [0, 5], opening: Sure}", "eval.kl_position={}"],
                      tmp_path / "job", cache_dir)
    suites = [type("S", (), {"kind": "harmful", "name": "m", "prompts": ["p"], "targets": [None]})()]
    assert check_prefill(OmegaConf.to_container(cfg.eval.prefill), suites).ks == (0, 5)
    assert check_kl(OmegaConf.to_container(cfg.eval.kl_position)) == {}
    off = compose_cfg("train", [], tmp_path / "job2", cache_dir)
    assert check_prefill(off.eval.prefill, suites) is None and check_kl(off.eval.kl_position) is None
