"""Per-position KL(tuned || base): zero for a fresh LoRA, positive for a trained-looking one, averaged by position."""

from __future__ import annotations

import copy
import math

import pytest
import torch
from peft import LoraConfig, get_peft_model

from safetuned.errors import ConfigError, DataError, ModelError
from safetuned.eval import greedy
from safetuned.eval.kl_position import average_by_position, kl_by_position, load_kl, save_kl
from safetuned.model.tiny import random_tiny_llama, train_bpe_tokenizer

CORPUS = [
    "Below is an instruction that describes a task.\n\n### Instruction:\nName the capital of France.",
    "### Response:\nParis is the capital. I cannot help with that request, sorry.",
    "Sure, here is how to bake bread: mix flour, water and yeast, then bake it in a hot oven.",
] * 10
TEMPLATE = "Below is an instruction that describes a task.\n\n### Instruction:\n{}\n\n### Response:\n"
PROMPTS = [TEMPLATE.format(q) for q in ["Bake bread.", "Name the capital of France.", "Hi"]]
ANSWERS = ["Sure, here is how to bake bread: mix flour, water and yeast.", "Paris", "I cannot help with that."]


@pytest.fixture(scope="module")
def tok():
    return train_bpe_tokenizer(CORPUS, vocab_size=320)


def _peft(tok, b_scale: float):
    base = random_tiny_llama(tok, seed=3, hidden_size=64, intermediate_size=128)
    untouched = copy.deepcopy(base)
    model = get_peft_model(base, LoraConfig(r=4, lora_alpha=8, lora_dropout=0.1, target_modules=["q_proj", "v_proj"]))
    if b_scale:
        torch.manual_seed(0)
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.data.normal_(0, b_scale)
    return model, untouched


def _answer_lengths(tok):
    from safetuned.data.collate import encode

    return [len(encode(tok, p + a)) - len(encode(tok, p)) for p, a in zip(PROMPTS, ANSWERS)]


def test_fresh_lora_gives_zero_kl(tok):
    model, _ = _peft(tok, 0.0)
    res = kl_by_position(model, tok, PROMPTS, ANSWERS, max_positions=8, batch_size=2)
    reached = [m for m in res["mean"] if m is not None]
    assert reached and all(abs(m) <= 1e-6 for m in reached)


def test_nonzero_lora_gives_positive_kl_matching_a_separate_base(tok):
    model, base = _peft(tok, 0.5)
    model.train()
    res = kl_by_position(model, tok, PROMPTS, ANSWERS, max_positions=40, batch_size=2)
    assert model.training  # the caller's mode comes back
    lengths = _answer_lengths(tok)
    assert res["n"] == [sum(n > j for n in lengths) for j in range(40)]
    assert res["n"][0] == 3 and res["n"][-1] == 0 and res["mean"][-1] is None
    reached = [j for j in range(40) if res["n"][j]]
    assert all(res["mean"][j] > 1e-4 for j in reached)
    for j in reached:
        if res["n"][j] >= 2:
            assert res["lo"][j] <= res["mean"][j] <= res["hi"][j]
        else:
            assert res["lo"][j] is None and res["hi"][j] is None
    # An explicit base model gives the same numbers (so the adapter was enabled again after the first call).
    explicit = kl_by_position(model, tok, PROMPTS, ANSWERS, base_model=base, max_positions=40, batch_size=3)
    for a, b in zip(res["per_item"], explicit["per_item"]):
        assert a == pytest.approx(b, abs=1e-6)


def test_batched_equals_one_by_one_and_a_direct_computation(tok, monkeypatch):
    model, base = _peft(tok, 0.5)
    batched = kl_by_position(model, tok, PROMPTS, ANSWERS, max_positions=6, batch_size=3)
    single = kl_by_position(model, tok, PROMPTS, ANSWERS, max_positions=6, batch_size=1)
    monkeypatch.setattr(greedy, "supports_logits_to_keep", lambda m: False)  # full logits, sliced afterwards
    full = kl_by_position(model, tok, PROMPTS, ANSWERS, max_positions=6, batch_size=3)
    for a, b, c in zip(batched["per_item"], single["per_item"], full["per_item"]):
        assert a == pytest.approx(b, abs=1e-5) and a == pytest.approx(c, abs=1e-5)
    # Item 0 by hand: unpadded forward of prompt + answer, KL at the logits predicting each answer token.
    from safetuned.data.collate import encode

    ids = encode(tok, PROMPTS[0] + ANSWERS[0])
    n = len(encode(tok, PROMPTS[0]))
    assert ids[:n] == encode(tok, PROMPTS[0])
    x = torch.tensor([ids])
    model.eval()
    with torch.no_grad():
        lp_t = torch.log_softmax(model(input_ids=x).logits[0], -1)
        lp_b = torch.log_softmax(base(input_ids=x).logits[0], -1)
    want = [float((lp_t[n - 1 + j].exp() * (lp_t[n - 1 + j] - lp_b[n - 1 + j])).sum()) for j in range(6)]
    assert batched["per_item"][0] == pytest.approx(want, abs=1e-5)


def test_average_by_position_hand_made():
    res = average_by_position([[1.0, 2.0, 3.0], [3.0, 4.0], [None, 6.0], [float("nan"), 8.0, 5.0]], 4,
                              n_boot=200, seed=1)
    assert res["n"] == [2, 4, 2, 0]
    assert res["mean"] == [2.0, 5.0, 4.0, None]
    assert res["positions"] == [0, 1, 2, 3] and res["items"] == 4
    assert 2.0 <= res["lo"][1] <= 5.0 <= res["hi"][1] <= 8.0
    assert res["lo"][3] is None and res["hi"][3] is None
    assert average_by_position([[1.0, 2.0], [3.0, 4.0]], 2, seed=1) == average_by_position(
        [[1.0, 2.0], [3.0, 4.0]], 2, seed=1)
    one = average_by_position([[7.0]], 1)
    assert one["mean"] == [7.0] and one["lo"] == [None]
    assert "bootstrap" in res["interval"] and "200 resamples" in res["interval"]


def test_save_and_load_roundtrip(tok, tmp_path):
    model, _ = _peft(tok, 0.5)
    res = kl_by_position(model, tok, PROMPTS, ANSWERS, max_positions=4, batch_size=2)
    path = save_kl(tmp_path / "kl" / "kl_position.json", res)
    back = load_kl(path)
    assert back["mean"] == pytest.approx(res["mean"]) and back["n"] == res["n"]
    assert all(not (isinstance(v, float) and math.isnan(v)) for row in back["per_item"] for v in row)
    (tmp_path / "bad.json").write_text('{"mean": []}')
    with pytest.raises(DataError, match=r"not a KL-by-position result: missing key\(s\)"):
        load_kl(tmp_path / "bad.json")
    with pytest.raises(DataError, match="not found"):
        load_kl(tmp_path / "none.json")


def test_input_errors(tok):
    model, base = _peft(tok, 0.0)
    with pytest.raises(ModelError, match="not a peft model"):
        kl_by_position(base, tok, PROMPTS, ANSWERS)
    with pytest.raises(ConfigError, match="3 prompts but 2 answers"):
        kl_by_position(model, tok, PROMPTS, ANSWERS[:2])
    with pytest.raises(ConfigError, match="max_positions=0"):
        kl_by_position(model, tok, PROMPTS, ANSWERS, max_positions=0)
    empty = kl_by_position(model, tok, PROMPTS[:1], [""], max_positions=3)
    assert empty["n"] == [0, 0, 0] and empty["per_item"] == [[]]
