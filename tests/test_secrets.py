"""No secret from the environment reaches a job's files, the W&B offline run, the sweep report or the console."""

from __future__ import annotations

from pathlib import Path

from tests.test_sweep import BASE, job_dirs, train_cmd

SECRETS = {
    "OPENAI_API_KEY": "sk-test-PLANTEDopenai0a1b2c3d4e5f6a7b8c9d",
    "WANDB_API_KEY": "PLANTEDwandb0123456789abcdef0123456789abcd",
    "HF_TOKEN": "hf_PLANTEDhuggingface0123456789abcdef",
    "HUGGING_FACE_HUB_TOKEN": "hf_PLANTEDhubtoken0123456789abcdef",
}
MARKER = "visibletagQ7"  # not secret: passed as a W&B tag, so it must be found (the search reaches the files)


def files_containing(root: Path, needles: list[str]) -> dict[str, list[str]]:
    """needle -> files under root whose bytes contain it (binary .wandb records, checkpoints and all)."""
    hits: dict[str, list[str]] = {n: [] for n in needles}
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            for n in needles:
                if n.encode() in data:
                    hits[n].append(str(path.relative_to(root)))
    return hits


def test_planted_keys_appear_in_no_job_file(tmp_path, cache_dir):
    sweep = tmp_path / "sweep"
    home = tmp_path / "home"  # W&B keeps staging files and service logs in ~/.local/share and ~/.cache by default
    home.mkdir()
    r = train_cmd("-m", *[o for o in BASE if not o.startswith("logger=")], "logger=many",
                  f"logger.wandb.tags=[{MARKER}]", "data.safety_n=0", f"hydra.sweep.dir={sweep}",
                  cwd=tmp_path, cache=cache_dir, env={**SECRETS, "WANDB_MODE": "offline", "HOME": str(home)})
    assert r.returncode == 0, r.stderr[-3000:]
    (job,) = job_dirs(sweep)
    runs = list((job / "wandb").glob("offline-run-*/run-*.wandb"))
    assert len(runs) == 1, "the job's W&B offline run"
    assert (job / "csv" / "metrics.csv").is_file()
    assert not [p for p in home.rglob("*") if "wandb" in p.name], "W&B files left in the home folder"
    # staging and service files go under the job (which ones W&B writes varies by version and timing)
    assert (job / "wandb").is_dir() and (job / "wandb_run.json").is_file()

    hits = files_containing(tmp_path, [*SECRETS.values(), MARKER])
    assert any(h.endswith(".wandb") for h in hits[MARKER]), hits[MARKER]  # the search does read W&B records
    leaked = {name: hits[value] for name, value in SECRETS.items() if hits[value]}
    assert not leaked, f"secrets written to files: {leaked}"
    console = r.stdout + r.stderr
    assert not [name for name, value in SECRETS.items() if value in console]
    assert not [name for name in SECRETS if name in (job / ".hydra" / "config.yaml").read_text()]
