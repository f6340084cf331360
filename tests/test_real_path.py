"""The real path on local stand-ins: hub-style model folders (LLaMA and Falcon architectures, random weights)
trained and evaluated by path through the same code, and the offline hub error."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from transformers import FalconConfig, FalconForCausalLM

from safetuned.errors import ModelError
from safetuned.model.load import load_model_config
from safetuned.model.tiny import random_tiny_llama, train_bpe_tokenizer
from safetuned.pipeline.fit import train
from tests.conftest import REPO, TINY_OVERRIDES, compose_cfg


@pytest.fixture(scope="module")
def tokenizer():
    texts = ["Below is an instruction that describes a task. ### Instruction: ### Response:",
             "I cannot help with that request because it could hurt people."] * 20
    return train_bpe_tokenizer(texts, vocab_size=400)


def save_falcon(tok, path):
    cfg = FalconConfig(vocab_size=len(tok), hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                       new_decoder_architecture=False, multi_query=True, parallel_attn=True, bias=False,
                       bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
    FalconForCausalLM(cfg).save_pretrained(path)
    tok.save_pretrained(path)


def save_llama(tok, path):
    random_tiny_llama(tok, hidden_size=64, intermediate_size=128).save_pretrained(path)
    tok.save_pretrained(path)


@pytest.mark.parametrize(("arch", "targets"), [("llama", "[q_proj,v_proj]"), ("falcon", "[query_key_value]")])
def test_train_and_evaluate_a_local_model_by_path(arch, targets, tokenizer, tmp_path, cache_dir):
    model_dir = tmp_path / f"tiny-{arch}"
    (save_llama if arch == "llama" else save_falcon)(tokenizer, model_dir)
    overrides = [*TINY_OVERRIDES, "model=local", f"model.pretrained={model_dir}",
                 f"model.lora_target_modules={targets}", "trainer.max_epochs=1", "eval.harness=null",
                 "data.safety_n=50"]
    job = tmp_path / "job"
    metrics = train(compose_cfg("train", overrides, job, cache_dir), job)
    assert metrics["train/steps"] > 0 and metrics["val/loss"] > 0
    adapter = json.loads((job / "adapter" / "adapter_config.json").read_text())
    assert adapter["base_model_name_or_path"] == str(model_dir)
    assert set(adapter["target_modules"]) == set(targets.strip("[]").split(","))
    assert "eval/malicious/compliance_rate" in metrics


def test_wrong_lora_target_names_the_real_layers(tokenizer, tmp_path, cache_dir):
    model_dir = tmp_path / "tiny-falcon"
    save_falcon(tokenizer, model_dir)
    cmd = [sys.executable, "-m", "safetuned.train", *TINY_OVERRIDES, "model=local",
           f"model.pretrained={model_dir}", f"hydra.run.dir={tmp_path / 'job'}"]
    out = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=600, check=False,
                         env={**__import__("os").environ, "SAFETUNED_CACHE": str(cache_dir)})
    assert out.returncode != 0
    line = out.stderr.strip().splitlines()[-1]
    assert "lora.target_modules" in line and "query_key_value" in line, line
    assert not (tmp_path / "job" / "metrics.json").exists()


def test_hub_id_offline_is_one_clear_sentence(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelError) as e:
        load_model_config("huggyllama/llama-7b")
    msg = str(e.value)
    assert "\n" not in msg and "huggyllama/llama-7b" in msg and "model.pretrained" in msg
