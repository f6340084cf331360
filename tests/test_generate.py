"""Batched generation: identical to one-at-a-time greedy decoding, order and model/tokenizer state preserved."""

from __future__ import annotations

import pytest
import torch

import safetuned.eval.generate as gen
from safetuned.data.collate import encode
from safetuned.errors import ConfigError
from safetuned.eval import greedy
from safetuned.eval.generate import GenerationConfig, generate, generate_sequential
from safetuned.model.tiny import random_tiny_llama

CORPUS = [
    "Below is an instruction that describes a task. Write a response that appropriately completes the request.",
    "### Instruction:\nName the capital of France.\n\n### Response:\nParis",
    "The quick brown fox jumps over the lazy dog while the cat sleeps on the warm mat.",
    "Count from one to ten: one two three four five six seven eight nine ten.",
] * 10

# Very different lengths (3 to ~150 tokens), so a batch is mostly padding for the short prompts.
PROMPTS = [
    "Hi",
    "The quick brown fox jumps over the lazy dog. " * 8,
    "### Instruction:\nName the capital of France.\n\n### Response:\n",
    "Count from one to ten: one two",
    "cat",
    "Below is an instruction that describes a task. " * 3 + "### Response:\n",
    "seven eight nine",
]


TEMPLATE = ("Below is an instruction that describes a task. Write a response that appropriately completes the "
            "request.\n\n### Instruction:\n")
# Alpaca-like prompts: a long shared template, then instructions of different lengths.
TEMPLATED = [TEMPLATE + q + "\n\n### Response:\n" for q in
             ["Name the capital of France.", "Count from one to ten: one two three four five six seven eight nine",
              "Hi", "The quick brown fox jumps over the lazy dog. " * 3, "cat", "seven eight nine"]]


def _new_tokens(model, tok, prompts, max_new_tokens, eos):
    """The greedy loop's raw new tokens of one batch (EOS included)."""
    with torch.inference_mode():
        return greedy.greedy_batch(model.eval(), [encode(tok, p) for p in prompts], tok.pad_token_id,
                                 torch.tensor(eos), max_new_tokens, torch.device("cpu"))


def _all_three_ways(model, tok, prompts, cfg, monkeypatch):
    """Texts of the greedy loop, of batched HF `model.generate`, and of `generate_sequential`."""
    assert gen.uses_greedy_loop(model, cfg)
    loop = generate(model, tok, prompts, cfg, progress=False)
    with monkeypatch.context() as m:
        m.setattr(gen, "uses_greedy_loop", lambda *a: False)
        hf = generate(model, tok, prompts, cfg, progress=False)
    return loop, hf, generate_sequential(model, tok, prompts, cfg, progress=False)


def _count_generate_calls(model, monkeypatch) -> list[int]:
    calls, original = [0], model.generate

    def counted(*args, **kwargs):
        calls[0] += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(model, "generate", counted)
    return calls


def test_batched_greedy_equals_sequential(model, tok):
    cfg = GenerationConfig(max_new_tokens=16, batch_size=4)
    lengths = [len(tok(p)["input_ids"]) for p in PROMPTS]
    assert max(lengths) > 20 * min(lengths)  # the padding path is really exercised
    batched = generate(model, tok, PROMPTS, cfg, progress=False)
    sequential = generate_sequential(model, tok, PROMPTS, cfg, progress=False)
    assert batched == sequential
    assert len({b for b in batched if b}) >= 3  # not a degenerate all-empty comparison


@pytest.mark.parametrize("batch_size", [3, 7])
def test_greedy_loop_rows_finish_at_different_steps(model, tok, monkeypatch, batch_size):
    eos = tok.eos_token_id
    raw = _new_tokens(model, tok, PROMPTS, 16, [eos])
    # Extra stop ids (the model's EOS as a list): a token a row first writes late, another row's first token.
    late = next(t for row in raw for k, t in enumerate(row) if k >= 2 and t not in row[:k])
    early = next(row[0] for row in raw if row[0] != late)
    stops = [eos, late, early]
    lengths = [len(row) for row in _new_tokens(model, tok, PROMPTS, 16, stops)]
    assert len(set(lengths)) >= 3 and 1 in lengths and 16 in lengths  # EOS at step 1, later, never (max reached)
    monkeypatch.setattr(model.generation_config, "eos_token_id", stops)
    cfg = GenerationConfig(max_new_tokens=16, batch_size=batch_size)
    loop, hf, sequential = _all_three_ways(model, tok, PROMPTS, cfg, monkeypatch)
    assert loop == hf == sequential
    assert len(set(loop)) >= 3


def test_greedy_loop_shares_the_template_prefix(tok, monkeypatch):
    from peft import LoraConfig, get_peft_model

    base = random_tiny_llama(tok, seed=3, hidden_size=64, intermediate_size=128)
    model = get_peft_model(base, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"]))
    torch.manual_seed(1)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 2.0)  # a strong adapter: varied texts from this random model
    batch = [encode(tok, p) for p in TEMPLATED]
    assert greedy.shared_prefix(model, batch) >= 10
    assert len({len(ids) for ids in batch}) >= 4  # padding between the prefix and the rest
    loop, hf, sequential = _all_three_ways(model, tok, TEMPLATED, GenerationConfig(12, batch_size=8), monkeypatch)
    assert loop == hf == sequential
    assert len(set(loop)) >= 3
    loop, hf, sequential = _all_three_ways(model, tok, TEMPLATED, GenerationConfig(3, batch_size=4), monkeypatch)
    assert loop == hf == sequential
    assert greedy.shared_prefix(model, batch[:1]) == 0
    monkeypatch.setattr(model.config, "sliding_window", 16, raising=False)  # windows count cache slots: no sharing
    assert greedy.shared_prefix(model, batch) == 0


def test_only_plain_greedy_takes_the_loop(model, tok, monkeypatch):
    calls = _count_generate_calls(model, monkeypatch)
    greedy = GenerationConfig(max_new_tokens=4, batch_size=3)
    generate(model, tok, PROMPTS, greedy, progress=False)
    assert calls[0] == 0
    configs = [GenerationConfig(max_new_tokens=4, batch_size=3, num_beams=4),
               GenerationConfig(max_new_tokens=4, batch_size=3, do_sample=True, top_k=5),
               GenerationConfig(max_new_tokens=4, batch_size=3, repetition_penalty=1.3)]
    for cfg in configs:
        assert not gen.uses_greedy_loop(model, cfg)
        calls[0] = 0
        generate(model, tok, PROMPTS, cfg, progress=False)
        assert calls[0] == 3  # one model.generate call per batch
    # A model default that HF greedy applies (here no_repeat_ngram_size) sends greedy to model.generate too.
    monkeypatch.setattr(model.generation_config, "no_repeat_ngram_size", 2)
    assert not gen.uses_greedy_loop(model, greedy)
    calls[0] = 0
    assert generate(model, tok, PROMPTS, greedy, progress=False) == generate_sequential(
        model, tok, PROMPTS, greedy, progress=False)
    assert calls[0] == 3 + len(PROMPTS)


def test_batched_beam_search_equals_sequential(model, tok):
    cfg = GenerationConfig.paper()
    cfg.max_new_tokens, cfg.batch_size = 8, 3
    assert generate(model, tok, PROMPTS[:5], cfg, progress=False) == generate_sequential(
        model, tok, PROMPTS[:5], cfg, progress=False
    )


def test_order_restored_and_batch_size_irrelevant(model, tok):
    cfg = GenerationConfig(max_new_tokens=6, batch_size=2)
    full = generate(model, tok, PROMPTS, cfg, progress=False)
    one_by_one = [generate(model, tok, [p], cfg, progress=False)[0] for p in PROMPTS]
    assert full == one_by_one
    reversed_out = generate(model, tok, PROMPTS[::-1], cfg, progress=False)
    assert reversed_out == full[::-1]
    assert generate(model, tok, [], cfg, progress=False) == []


def test_training_mode_and_padding_side_restored(model, tok):
    cfg = GenerationConfig(max_new_tokens=4, batch_size=8)
    tok.padding_side = "right"
    model.train()
    try:
        generate(model, tok, PROMPTS[:3], cfg, progress=False)
        assert model.training
        assert tok.padding_side == "right"
        model.eval()
        generate(model, tok, PROMPTS[:3], cfg, progress=False)
        assert not model.training
    finally:
        model.eval()


def test_generation_stops_at_eos(tok):
    m = random_tiny_llama(tok, seed=1, hidden_size=64, intermediate_size=128)
    head = torch.nn.Linear(m.config.hidden_size, m.config.vocab_size, bias=True)
    with torch.no_grad():
        head.weight.copy_(m.lm_head.weight)
        head.bias.zero_()
        head.bias[tok.eos_token_id] = 1e4
    m.lm_head = head
    cfg = GenerationConfig(max_new_tokens=12, batch_size=4)
    assert generate(m, tok, PROMPTS, cfg, progress=False) == [""] * len(PROMPTS)
    # It stops right after EOS: the sequence holds exactly one new token.
    ids = torch.tensor([tok("cat")["input_ids"]])
    out = m.generate(input_ids=ids, attention_mask=torch.ones_like(ids), **cfg.generate_kwargs(m, tok))
    assert out.shape[1] == ids.shape[1] + 1


def test_pad_falls_back_to_eos(model, tok):
    cfg = GenerationConfig(max_new_tokens=8, batch_size=8)
    expected = generate_sequential(model, tok, PROMPTS, cfg, progress=False)
    pad, pad_id = tok.pad_token, tok.pad_token_id
    tok.pad_token = None
    try:
        assert tok.pad_token_id is None
        assert cfg.generate_kwargs(model, tok)["pad_token_id"] == tok.eos_token_id
        assert generate(model, tok, PROMPTS, cfg, progress=False) == expected
    finally:
        tok.pad_token = pad
    assert tok.pad_token_id == pad_id


def test_peft_lora_model(tok):
    from peft import LoraConfig, get_peft_model

    base = random_tiny_llama(tok, seed=4, hidden_size=64, intermediate_size=128)
    cfg = GenerationConfig(max_new_tokens=12, batch_size=4)
    before = generate(base, tok, PROMPTS, cfg, progress=False)
    peft_model = get_peft_model(base, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"]))
    torch.manual_seed(0)
    with torch.no_grad():
        for name, p in peft_model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.5)  # a non-zero adapter, so the adapted model really differs
    peft_model.train()
    adapted = generate(peft_model, tok, PROMPTS, cfg, progress=False)
    assert peft_model.training
    assert adapted == generate_sequential(peft_model, tok, PROMPTS, cfg, progress=False)
    assert adapted != before
    with peft_model.disable_adapter():
        assert generate(peft_model, tok, PROMPTS, cfg, progress=False) == before


def test_paper_preset_and_kwargs(model, tok):
    cfg = GenerationConfig.paper()
    assert (cfg.num_beams, cfg.max_new_tokens, cfg.temperature, cfg.top_p, cfg.top_k) == (4, 256, 0.1, 0.75, 40)
    assert cfg.do_sample is False
    kw = cfg.generate_kwargs(model, tok)
    # Beam search without sampling: the sampling knobs are passed as their inert values.
    assert kw == {"max_new_tokens": 256, "num_beams": 4, "do_sample": False, "repetition_penalty": 1.0,
                  "use_cache": True, "pad_token_id": tok.pad_token_id, "eos_token_id": tok.eos_token_id,
                  "temperature": 1.0, "top_p": 1.0, "top_k": 50}
    sampled = GenerationConfig(do_sample=True, temperature=0.7, top_p=0.9, top_k=10).generate_kwargs(model, tok)
    assert (sampled["temperature"], sampled["top_p"], sampled["top_k"]) == (0.7, 0.9, 10)


def test_bad_config_is_one_line_config_error():
    with pytest.raises(ConfigError, match=r"eval\.generation\.num_beams=0 .*>= 1"):
        GenerationConfig(num_beams=0)
    with pytest.raises(ConfigError, match=r"top_p"):
        GenerationConfig(top_p=1.5)
    with pytest.raises(ConfigError, match=r"unknown key\(s\) \['beams'\]"):
        GenerationConfig.from_dict({"beams": 4})
    assert GenerationConfig.from_dict({"num_beams": 2}).num_beams == 2


def test_bad_prompts(model, tok):
    with pytest.raises(ConfigError, match="not one string"):
        generate(model, tok, "hello", GenerationConfig(), progress=False)
    with pytest.raises(ConfigError, match="prompt #1"):
        generate(model, tok, ["a", 3], GenerationConfig(), progress=False)
