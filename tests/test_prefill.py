"""Prefill attacks: the forced prefix is the first k target tokens, and generation continues in normal batches."""

from __future__ import annotations

import pytest

import safetuned.eval.generate as gen
from safetuned.errors import ConfigError, DataError
from safetuned.eval.generate import GenerationConfig, generate
from safetuned.eval.prefill import (
    PrefillConfig,
    check_suite,
    first_tokens,
    generate_prefilled,
    join_answer,
    prefill_prefixes,
    run_prefill,
)

CORPUS = [
    "Below is an instruction that describes a task. Write a response that appropriately completes the request.",
    "### Instruction:\nName the capital of France.\n\n### Response:\nParis",
    "Sure, here is how to bake bread: mix flour, water and yeast, then bake it in a hot oven.",
    "Sure, here is a poem about the quick brown fox and the lazy dog.",
] * 10

TEMPLATE = "Below is an instruction that describes a task.\n\n### Instruction:\n{}\n\n### Response:\n"
PROMPTS = [TEMPLATE.format(q) for q in ["Bake bread.", "Write a poem about a fox.", "Name the capital of France.",
                                        "Hi", "Count from one to ten: one two three four five six"]]
TARGETS = ["Sure, here is how to bake bread: mix flour, water and yeast",
           "Sure, here is a poem about the quick brown fox", None, "Sure", None]
CFG = GenerationConfig(max_new_tokens=12, batch_size=4)


def _ids(tok, text):
    return tok(text, add_special_tokens=False)["input_ids"]


def test_prefix_is_first_k_target_tokens(tok):
    target = TARGETS[0]
    ids = _ids(tok, target)
    assert len(ids) > 6
    for k in (1, 3, 6):
        prefix = first_tokens(tok, target, k)
        assert target.startswith(prefix) and _ids(tok, prefix) == ids[:k]
    assert first_tokens(tok, target, len(ids)) == target
    assert first_tokens(tok, target, len(ids) + 50) == target  # k larger than the target: the whole target
    assert first_tokens(tok, target, 0) == ""


def test_prefixes_fall_back_to_the_opening(tok):
    prefixes = prefill_prefixes(tok, TARGETS, 3, "Sure, here is")
    assert prefixes[0] == first_tokens(tok, TARGETS[0], 3)
    assert prefixes[2] == prefixes[4] == first_tokens(tok, "Sure, here is", 3)
    assert prefixes[3] == "Sure"  # a one-token target, k above its length
    assert prefill_prefixes(tok, TARGETS, 0, None) == [""] * 5
    assert prefill_prefixes(tok, [" ", None], 50, "Sure, here is") == ["Sure, here is"] * 2  # blank = absent
    with pytest.raises(DataError, match="2 of 5 prompts have no target and eval.prefill.opening is empty"):
        prefill_prefixes(tok, TARGETS, 3, "")


def test_check_suite_fails_in_one_line_before_generation(tok, model, monkeypatch):
    check_suite(TARGETS, "Sure, here is")
    check_suite(["a", "b"], "")
    with pytest.raises(DataError) as e:
        check_suite([None, None], None, where="jbb")
    assert "prefill on jbb: 2 of 2 prompts" in str(e.value) and "\n" not in str(e.value)
    calls = []
    monkeypatch.setattr(gen, "generate", lambda *a, **k: calls.append(1) or [])
    with pytest.raises(DataError):
        run_prefill(model, tok, PROMPTS[:2], [None, None], PrefillConfig(opening=""), CFG, progress=False)
    assert calls == []


def test_config_validation():
    assert PrefillConfig().ks == (0, 5, 10, 20)
    assert PrefillConfig.from_dict({"ks": [0, 3]}).to_dict() == {"ks": [0, 3], "opening": "Sure, here is",
                                                                "use_targets": True}
    for bad in ([5, 0], [0, 5, 5], [-1, 2], [], [0, 2.5], [True], "05"):
        with pytest.raises(ConfigError, match=r"eval\.prefill\.ks=.* non-negative integers in increasing order"):
            PrefillConfig(ks=bad)
    with pytest.raises(ConfigError, match="eval.prefill.opening is empty but eval.prefill.use_targets=false"):
        PrefillConfig(opening="  ", use_targets=False)
    with pytest.raises(ConfigError, match=r"unknown key\(s\) \['k'\]"):
        PrefillConfig.from_dict({"k": [1]})
    assert PrefillConfig(opening=None).opening == ""
    assert PrefillConfig(use_targets=False).item_targets(TARGETS, 5) == [None] * 5
    with pytest.raises(DataError, match="4 targets for 5 prompts"):
        PrefillConfig().item_targets(TARGETS[:4], 5)


def test_join_answer():
    assert join_answer("Sure, here is", "how to bake") == "Sure, here is how to bake"
    assert join_answer("Sure, here is a list", ": one, two") == "Sure, here is a list: one, two"
    assert join_answer("Sure:\n", "1. Flour") == "Sure:\n1. Flour"
    assert join_answer("Sure", "") == "Sure"
    assert join_answer("", "I cannot help.") == "I cannot help."


def test_k0_is_normal_generation_byte_for_byte(tok, model):
    normal = generate(model, tok, PROMPTS, CFG, progress=False)
    (run,) = run_prefill(model, tok, PROMPTS, TARGETS, PrefillConfig(ks=(0,)), CFG, progress=False)
    assert run.k == 0 and run.prefixes == [""] * 5 and run.answers == normal


def test_prefix_starts_every_answer_and_the_model_continues_it(tok, model):
    prefixes = prefill_prefixes(tok, TARGETS, 4, "Sure, here is")
    answers = generate_prefilled(model, tok, PROMPTS, prefixes, CFG, progress=False)
    assert all(a.startswith(x) and len(a) > len(x) for a, x in zip(answers, prefixes))
    # The continuation is what the model writes after prompt + prefix, not its unforced answer.
    rest = generate(model, tok, [p + x for p, x in zip(PROMPTS, prefixes)], CFG, progress=False)
    assert answers == [join_answer(x, r) for x, r in zip(prefixes, rest)]
    normal = generate(model, tok, PROMPTS, CFG, progress=False)
    assert sum(a[len(x):].strip() != n for a, x, n in zip(answers, prefixes, normal)) >= 3


def test_batched_equals_one_by_one_and_one_generate_call_per_k(tok, model, monkeypatch):
    prefill = PrefillConfig(ks=(0, 2, 50))
    calls = []
    real = gen.generate

    def counted(*args, **kwargs):
        calls.append(len(args[2]))
        return real(*args, **kwargs)

    monkeypatch.setattr(gen, "generate", counted)
    runs = run_prefill(model, tok, PROMPTS, TARGETS, prefill, CFG, progress=False)
    assert calls == [5, 5, 5]  # each k is one batched generate over the whole suite
    monkeypatch.undo()
    one = GenerationConfig(max_new_tokens=12, batch_size=1)
    for run in runs[1:]:  # k=0 is plain `generate`, whose batching tests/test_generate.py holds to this
        singles = [generate_prefilled(model, tok, [p], [x], one, progress=False)[0]
                   for p, x in zip(PROMPTS, run.prefixes)]
        assert run.answers == singles
    k50 = runs[2]
    assert k50.prefixes[0] == TARGETS[0] and k50.prefixes[3] == "Sure" and k50.prefixes[2] == "Sure, here is"
    assert all(a.startswith(x) for a, x in zip(k50.answers, k50.prefixes))


def test_use_targets_false_forces_the_opening_everywhere(tok, model):
    (run,) = run_prefill(model, tok, PROMPTS, TARGETS, PrefillConfig(ks=(3,), opening="Sure, here is",
                                                                  use_targets=False), CFG, progress=False)
    assert set(run.prefixes) == {first_tokens(tok, "Sure, here is", 3)}


def test_length_mismatch_is_rejected(tok, model):
    with pytest.raises(ConfigError, match="2 prompts but 1 prefixes"):
        generate_prefilled(model, tok, PROMPTS[:2], ["Sure"], CFG, progress=False)
