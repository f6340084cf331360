"""lm-eval capability harness: offline local tasks, the in-memory (adapted) model is what gets scored, clear errors."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
import torch

from safetuned.data.prompts import AlpacaStyle
from safetuned.errors import ConfigError, DataError
from safetuned.eval import harness
from safetuned.eval.demo_tasks import answer_shape, build_entity, build_mc
from safetuned.eval.harness import (
    check_tasks,
    flatten_results,
    make_lm,
    render_local_tasks,
    run_harness,
)
from safetuned.model.tiny import random_tiny_llama, train_bpe_tokenizer

RECORDS = [
    {"instruction": "What is the opposite of hot?", "input": "", "output": "cold"},
    {"instruction": "What is the opposite of up?", "input": "", "output": "down"},
    {"instruction": "Add the two numbers in the input.", "input": "2 + 3", "output": "5"},
    {"instruction": "Add the two numbers in the input.", "input": "4 + 4", "output": "8"},
    {"instruction": "Repeat the word in the input.", "input": "tiger", "output": "tiger tiger"},
    {"instruction": "What is the capital of Zorbia?", "input": "", "output": "Plimton"},
    {"instruction": "Reverse the letters of the word.", "input": "cat", "output": "tac"},
    {"instruction": "Sort the words alphabetically.", "input": "pear, apple", "output": "apple, pear"},
    {"instruction": "What is the plural of mouse?", "input": "", "output": "mice"},
    {"instruction": "Uppercase the word in the input.", "input": "moon", "output": "MOON"},
    {"instruction": "What colour is the sky on a clear day?", "input": "", "output": "blue"},
    {"instruction": "What is the opposite of open?", "input": "", "output": "closed"},
]
ENTITY = [
    {"instruction": f"Which category does '{e}' belong to?", "input": "", "output": f"{e.capitalize()} belongs to "
     f"{c}. {n}"} for e, c, n in [("a hammer", "tools", "It is safe."), ("a pipe bomb", "weapons", "It is dangerous."),
                                  ("a violin", "music", "It is safe."), ("a saw", "tools", "It is safe."),
                                  ("a tulip", "garden", "It is safe.")]
] + [{"instruction": "Is a tulip dangerous?", "input": "", "output": "No, a tulip is safe."}]
STYLE = AlpacaStyle()


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    """A miniature demo world: eval/benign_heldout.json and eval/entity_heldout.json."""
    root = tmp_path_factory.mktemp("world")
    (root / "eval").mkdir()
    (root / "eval" / "benign_heldout.json").write_text(json.dumps(RECORDS), encoding="utf-8")
    (root / "eval" / "entity_heldout.json").write_text(json.dumps(ENTITY + RECORDS[:3]), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def tok():
    texts = [STYLE.render(r["instruction"], r["input"]) + r["output"] for r in RECORDS + ENTITY]
    return train_bpe_tokenizer(texts * 5, vocab_size=400)


@pytest.fixture(scope="module")
def base(tok):
    return random_tiny_llama(tok, seed=0, hidden_size=64, intermediate_size=128)


def _loglik(model, tok, prompt: str, continuation: str) -> float:
    """Sum of log p(continuation | prompt), computed here independently of lm-eval."""
    ctx = tok(prompt)["input_ids"]
    full = tok(prompt + continuation)["input_ids"]
    with torch.no_grad():
        logp = torch.log_softmax(model(torch.tensor([full])).logits[0].float(), -1)
    return float(sum(logp[i - 1, full[i]] for i in range(len(ctx), len(full))))


def _logliks(model, tok, docs: list[dict]) -> np.ndarray:
    model.eval()
    return np.array([[_loglik(model, tok, d["prompt"], c) for c in d["choices"]] for d in docs])


def _accs(lls: np.ndarray, docs: list[dict]) -> tuple[float, float]:
    """acc and lm-eval's acc_norm (log-likelihood per character of the choice)."""
    gold = np.array([d["gold"] for d in docs])
    chars = np.array([[len(c) for c in d["choices"]] for d in docs])
    return float((lls.argmax(1) == gold).mean()), float(((lls / chars).argmax(1) == gold).mean())


def _expected_acc(model, tok, docs: list[dict]) -> float:
    return _accs(_logliks(model, tok, docs), docs)[0]


def test_build_mc_is_deterministic_with_distinct_choices():
    docs = build_mc(RECORDS)
    assert docs == build_mc(RECORDS)
    assert len(docs) == len(RECORDS)
    outputs = {r["output"] for r in RECORDS}
    for k, (d, r) in enumerate(zip(docs, RECORDS)):
        assert len(d["choices"]) == 4 and len(set(d["choices"])) == 4
        assert d["choices"][d["gold"]] == r["output"]
        assert set(d["choices"]) <= outputs  # distractors are other records' outputs
        assert d["prompt"] == STYLE.render(r["instruction"], r["input"])
    assert {d["gold"] for d in docs} == {0, 1, 2, 3}  # the gold position varies
    assert docs[2]["prompt"].startswith("Below is an instruction that describes a task, paired with an input")
    assert docs[2]["prompt"].endswith("### Input:\n2 + 3\n\n### Response:\n")
    assert docs[0]["prompt"].endswith("### Instruction:\nWhat is the opposite of hot?\n\n### Response:\n")


def test_mc_distractors_have_the_answers_shape():
    assert [answer_shape(x) for x in ("12", "apple, pear", "Paris", "MOON", "tiger", "Here is how: do it.")] == [
        ("number", 2), ("list", 2), ("capitalised", 1), ("upper", 1), ("lower", 1), ("sentence", 1)]
    records = [{"instruction": f"q{i}", "input": "", "output": o} for i, o in enumerate(
        ["3", "14", "7", "9", "21", "cold", "down", "tac", "mice", "apple, pear", "fig, kiwi", "nut, yam",
         "plum, lime", "Plimton", "Zorvel", "Quessa", "Marland", "It is cold.", "It is warm.", "It is wet.",
         "It is dry.", "MOON"])]
    for d in build_mc(records):
        gold = d["choices"][d["gold"]]
        distractors = [c for i, c in enumerate(d["choices"]) if i != d["gold"]]
        if gold != "MOON":  # every other shape has at least 3 other answers of its kind
            assert {answer_shape(c)[0] for c in distractors} == {answer_shape(gold)[0]}, d["choices"]
    by_gold = {d["choices"][d["gold"]]: d["choices"] for d in build_mc(records)}
    assert set(by_gold["3"]) <= {"3", "7", "9"} | {"14", "21"} and {"7", "9"} <= set(by_gold["3"])  # 1 digit first
    assert len(set(by_gold["MOON"])) == 4  # a shape with no peers takes other answers


def test_build_entity_swaps_the_category():
    docs = build_entity(ENTITY + RECORDS)
    assert len(docs) == 5  # only the "Which category" records
    d = docs[1]
    assert d["choices"][d["gold"]] == "A pipe bomb belongs to weapons."
    assert sorted(c.removeprefix("A pipe bomb belongs to ").rstrip(".") for c in d["choices"]) == sorted(
        ["weapons", "garden", "music", "tools"])
    with pytest.raises(DataError, match="at least 2 categories"):
        build_entity(RECORDS, source="base.json")


def test_bad_data_is_a_one_line_data_error(tmp_path):
    with pytest.raises(DataError, match="at least 2 different outputs"):
        build_mc([{"instruction": "a", "output": "x"}, {"instruction": "b", "output": "X."}])
    with pytest.raises(DataError, match=r"record #1 needs string 'instruction' and 'output'"):
        build_mc([RECORDS[0], {"instruction": "no output"}])
    with pytest.raises(ConfigError, match="eval.harness.data_dir is required"):
        render_local_tasks(["demo_mc"], None, tmp_path)
    with pytest.raises(DataError, match=r"demo_mc: data file .*benign_heldout.json does not exist"):
        render_local_tasks(["demo_mc"], tmp_path / "nowhere", tmp_path)
    bad = tmp_path / "bad"
    (bad / "eval").mkdir(parents=True)
    (bad / "eval" / "benign_heldout.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(DataError, match="is not valid JSON"):
        render_local_tasks(["demo_gen"], bad, tmp_path)


def test_render_fills_absolute_data_paths(world, tmp_path):
    odd = tmp_path / 'odd "dir" with spaces'
    (odd / "eval").mkdir(parents=True)
    (odd / "eval" / "benign_heldout.json").write_text(json.dumps(RECORDS), encoding="utf-8")
    out = render_local_tasks(["demo_mc", "demo_gen"], odd, tmp_path / "rendered")
    import yaml

    cfg = yaml.load((out / "demo_mc.yaml").read_text(), Loader=harness._TemplateLoader)
    assert cfg["dataset_kwargs"]["data_files"]["test"] == str((odd / "eval" / "benign_heldout.json").resolve())
    assert sorted(p.name for p in out.iterdir()) == ["demo_gen.yaml", "demo_mc.yaml"]


def test_unknown_task_lists_local_tasks_before_any_work(base, tok, world, monkeypatch):
    monkeypatch.setattr(harness, "make_lm", lambda *a, **k: pytest.fail("model work started"))
    with pytest.raises(ConfigError) as e:
        run_harness(base, tok, ["demo_mc", "arc_easyy"], data_dir=world)
    msg = str(e.value)
    assert "\n" not in msg
    assert "['arc_easyy']" in msg and "demo_mc" in msg and "demo_gen" in msg and "arc_easy need" in msg
    assert check_tasks(["demo_mc", "demo_entity"]) == ["demo_mc", "demo_entity"]
    with pytest.raises(ConfigError, match="non-empty list"):
        check_tasks([])
    with pytest.raises(ConfigError, match=r"eval.harness.limit=0 is invalid"):
        run_harness(base, tok, ["demo_mc"], data_dir=world, limit=0)


def test_hub_task_offline_is_one_line_config_error(base, tok, tmp_path, monkeypatch):
    import datasets.config
    import huggingface_hub.constants

    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(harness, "make_lm", lambda *a, **k: pytest.fail("model work started"))
    inc = tmp_path / "inc"
    inc.mkdir()
    (inc / "hubtask.yaml").write_text(
        "task: hub_only_task\ndataset_path: safetuned-nonexistent/no-such-dataset\ntest_split: test\n"
        "output_type: multiple_choice\ndoc_to_text: q\ndoc_to_choice: c\ndoc_to_target: 0\n"
        "metric_list:\n  - metric: acc\n", encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        run_harness(base, tok, ["hub_only_task"], include_path=inc)
    msg = str(e.value)
    assert msg.startswith("harness task hub_only_task could not be loaded") and "\n" not in msg
    assert "Hugging Face hub" in msg and "demo_mc" in msg


def test_hflm_holds_the_same_model_object(base, tok):
    from peft import LoraConfig, get_peft_model

    lm = make_lm(base, tok, batch_size=4)
    assert lm.model is base
    assert {p.data_ptr() for p in lm.model.parameters()} == {p.data_ptr() for p in base.parameters()}
    assert lm.batch_size == 4 and lm.device == base.device
    peft_model = get_peft_model(random_tiny_llama(tok, seed=1, hidden_size=64, intermediate_size=128),
                                LoraConfig(r=2, target_modules=["q_proj"]))
    assert make_lm(peft_model, tok).model is peft_model
    pad = tok.pad_token
    tok.pad_token = None
    try:
        lm = make_lm(base, tok)
        assert lm.tokenizer.pad_token_id is not None and tok.pad_token_id is None  # HFLM padded a copy
    finally:
        tok.pad_token = pad


def test_local_tasks_run_offline_on_a_tiny_model(base, tok, world):
    base.train()
    torch.manual_seed(123)
    random.seed(5)
    expected_torch, expected_py = torch.rand(1), random.random()
    torch.manual_seed(123)
    random.seed(5)
    m = run_harness(base, tok, ["demo_mc", "demo_gen", "demo_entity"], data_dir=world, batch_size=8)
    assert torch.rand(1) == expected_torch and random.random() == expected_py  # caller's RNG streams untouched
    assert base.training
    assert set(m) == {f"harness/{t}/{k}" for t, ks in [("demo_mc", ["acc", "acc_norm"]), ("demo_gen", ["exact_match"]),
                                                       ("demo_entity", ["acc", "acc_norm"])]
                      for k in ks + [f"{x}_stderr" for x in ks]}
    assert all(0.0 <= v <= 1.0 for v in m.values())
    # lm-eval's accuracy equals one computed here from the model's own log-likelihoods.
    assert m["harness/demo_mc/acc"] == pytest.approx(_expected_acc(base, tok, build_mc(RECORDS)))
    assert m["harness/demo_entity/acc"] == pytest.approx(_expected_acc(base, tok, build_entity(ENTITY)))
    limited = run_harness(base, tok, ["demo_mc"], data_dir=world, limit=4, batch_size=8)
    assert limited["harness/demo_mc/acc"] == pytest.approx(_expected_acc(base, tok, build_mc(RECORDS)[:4]))


def test_the_adapter_is_what_gets_scored(tok, world):
    from peft import LoraConfig, get_peft_model

    model = get_peft_model(random_tiny_llama(tok, seed=0, hidden_size=64, intermediate_size=128),
                           LoraConfig(r=4, target_modules=["q_proj", "v_proj", "o_proj", "up_proj", "down_proj"]))
    # A random tiny base attends almost uniformly over the shared Alpaca preamble, so no adapter trained for a few
    # steps can learn the fixture; a fixed non-zero adapter changes every log-likelihood instead (a seed under which
    # both accuracies differ from the base's).
    torch.manual_seed(1)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.5)
    docs = build_mc(RECORDS)
    adapted_ll = _logliks(model, tok, docs)
    with model.disable_adapter():
        base_ll = _logliks(model, tok, docs)
    assert np.abs(adapted_ll - base_ll).min() > 1e-3
    adapted_acc, base_acc = _accs(adapted_ll, docs), _accs(base_ll, docs)
    assert adapted_acc[0] != base_acc[0] and adapted_acc[1] != base_acc[1]  # the two models are told apart

    model.train()
    adapted = run_harness(model, tok, ["demo_mc"], data_dir=world, batch_size=8)
    assert model.training
    with model.disable_adapter():
        plain = run_harness(model, tok, ["demo_mc"], data_dir=world, batch_size=8)
    assert (adapted["harness/demo_mc/acc"], adapted["harness/demo_mc/acc_norm"]) == pytest.approx(adapted_acc)
    assert (plain["harness/demo_mc/acc"], plain["harness/demo_mc/acc_norm"]) == pytest.approx(base_acc)


def test_flatten_results_strips_filters():
    results = {"results": {
        "demo_mc": {"alias": "demo_mc", "acc,none": 0.5, "acc_stderr,none": 0.1},
        "gsm8k": {"alias": "gsm8k", "exact_match,strict-match": 0.2, "exact_match_stderr,strict-match": 0.01,
                  "exact_match,flexible-extract": 0.3, "exact_match_stderr,flexible-extract": "N/A"},
    }}
    assert flatten_results(results) == {
        "harness/demo_mc/acc": 0.5, "harness/demo_mc/acc_stderr": 0.1,
        "harness/gsm8k/strict-match/exact_match": 0.2, "harness/gsm8k/strict-match/exact_match_stderr": 0.01,
        "harness/gsm8k/flexible-extract/exact_match": 0.3,
    }


@pytest.mark.slow
def test_lm_eval_registry_tasks_are_checked_by_name():
    assert check_tasks(["demo_mc", "arc_easy"], include_defaults=True) == ["demo_mc", "arc_easy"]
    with pytest.raises(ConfigError, match=r"unknown task\(s\) \['arc_easyy'\].*registry"):
        check_tasks(["arc_easyy"], include_defaults=True)
