"""Win-rate arithmetic, position-bias cancelling, ReferenceJudge numbers and reference loading."""

from __future__ import annotations

import json

import pytest

from safetuned.errors import ConfigError, DataError
from safetuned.eval.helpfulness import evaluate_helpfulness, load_references, reference_key
from safetuned.eval.judges import ReferenceJudge, Verdict


class AlwaysA:
    """A maximally position-biased judge: the first answer always wins."""

    name = "always_a"

    def __init__(self):
        self.calls = []

    def compare(self, instruction, output_a, output_b, *, gold=None):
        self.calls.append((instruction, output_a, output_b))
        return Verdict("a", "Output (a)")


class Longer:
    """Prefers the longer answer; says "invalid" for instructions containing 'garbled'."""

    name = "longer"

    def __init__(self):
        self.calls = []

    def compare(self, instruction, output_a, output_b, *, gold=None):
        self.calls.append((instruction, output_a, output_b))
        if "garbled" in instruction:
            return Verdict("invalid", "I like both")
        if len(output_a) == len(output_b):
            return Verdict("tie")
        return Verdict("a" if len(output_a) > len(output_b) else "b")


INSTR = ["Name a fruit.", "Name a colour.", "Name a city.", "Name a planet."]


def test_position_biased_judge_gives_ties_in_both_orders():
    judge = AlwaysA()
    res = evaluate_helpfulness(INSTR, ["apple", "red", "Rome", "Mars"], ["pear", "blue", "Oslo", "Venus"], judge,
                               progress=False)
    assert res.metrics["win_rate"] == 0.5
    assert (res.metrics["win_rate_ci_low"], res.metrics["win_rate_ci_high"]) == (0.5, 0.5)
    assert res.metrics["n"] == 4 and res.metrics["n_invalid"] == 0 and res.metrics["n_missing"] == 0
    assert len(judge.calls) == 8
    assert all(r["outcome"] == "tie" and r["score"] == 0.5 for r in res.records)
    # every item was judged with the model's answer in each position
    for instr, out, ref in zip(INSTR, ["apple", "red", "Rome", "Mars"], ["pear", "blue", "Oslo", "Venus"]):
        assert (instr, out, ref) in judge.calls and (instr, ref, out) in judge.calls


def test_single_order_keeps_position_bias_and_uses_seed():
    outs, refs = ["apple", "red", "Rome", "Mars"] * 5, ["pear", "blue", "Oslo", "Venus"] * 5
    instr = [f"{s} ({i})" for i, s in enumerate(INSTR * 5)]
    judge = AlwaysA()
    res = evaluate_helpfulness(instr, outs, refs, judge, both_orders=False, seed=3, progress=False)
    assert len(judge.calls) == 20
    model_first = sum(out == a for (_, a, _), out in zip(judge.calls, outs))
    assert res.metrics["win_rate"] == pytest.approx(model_first / 20)
    assert {r["score"] for r in res.records} == {0.0, 1.0}  # no cancelling with one order
    again = evaluate_helpfulness(instr, outs, refs, AlwaysA(), both_orders=False, seed=3, progress=False)
    assert again.metrics == res.metrics


def test_win_rate_and_ci_with_unbiased_judge(tmp_path):
    outs = ["a green apple", "crimson", "Rome", "Jupiter"]
    refs = ["pear", "blue", "Reykjavik", "Mars"]
    res = evaluate_helpfulness(INSTR, outs, refs, Longer(), progress=False)
    assert [r["outcome"] for r in res.records] == ["win", "win", "loss", "win"]
    m = res.metrics
    assert m["win_rate"] == 0.75
    assert 0.0 <= m["win_rate_ci_low"] < m["win_rate"] < m["win_rate_ci_high"] <= 1.0
    assert res.prefixed()["eval/helpfulness/win_rate"] == 0.75
    res.save_records(tmp_path / "helpfulness.jsonl")
    saved = [json.loads(line) for line in (tmp_path / "helpfulness.jsonl").read_text().splitlines()]
    assert [r["score"] for r in saved] == [1.0, 1.0, 0.0, 1.0]
    assert set(res.prefixed()) >= {"eval/helpfulness/n", "eval/helpfulness/n_invalid",
                                   "eval/helpfulness/win_rate_ci_low", "eval/helpfulness/win_rate_ci_high"}


def test_invalid_verdicts_are_excluded_and_counted():
    instr = ["Name a fruit.", "garbled one", "Name a city."]
    res = evaluate_helpfulness(instr, ["apple", "x", "R"], ["fig", "y", "Oslo"], Longer(), progress=False)
    assert res.metrics["n_invalid"] == 1 and res.metrics["n"] == 2
    assert res.metrics["win_rate"] == 0.5  # one win, one loss
    assert res.records[1]["status"] == "invalid" and res.records[1]["score"] is None
    assert res.records[1]["verdicts"]["model_first"]["raw"] == "I like both"


def test_reference_judge_numbers_on_hand_built_set():
    gold = ["Paris", "4", "blue", "Tokyo", "7"]
    outs = ["paris.", "  4 ", "red", "Kyoto", "7!"]  # correct: yes yes no no yes
    refs = ["Paris", "5", "Blue", "Tokyo", "7"]  # correct: yes no yes yes yes
    instr = ["Capital of France?", "2+2?", "Sky colour?", "Capital of Japan?", "3+4?"]
    res = evaluate_helpfulness(instr, outs, refs, ReferenceJudge(), gold=gold, progress=False)
    assert [r["outcome"] for r in res.records] == ["tie", "win", "loss", "loss", "tie"]
    assert [r["correct"] for r in res.records] == [True, True, False, False, True]
    m = res.metrics
    assert m["win_rate"] == pytest.approx(0.4)
    assert m["correct_rate"] == pytest.approx(0.6)
    assert m["correct_rate_ci_low"] <= 0.6 <= m["correct_rate_ci_high"]
    assert m["win_rate_ci_low"] < 0.4 < m["win_rate_ci_high"]


def test_reference_judge_verdicts():
    j = ReferenceJudge()
    assert j.compare("q", "The Answer. ", "no", gold="the   answer").winner == "a"
    assert j.compare("q", "no", "THE ANSWER?", gold="the answer").winner == "b"
    assert j.compare("q", "x", "y", gold="z").winner == "tie"
    assert j.compare("q", "z", "z", gold="z").winner == "tie"
    with pytest.raises(DataError):
        j.compare("q", "a", "b")


def test_reference_judge_without_gold_fails_before_judging():
    with pytest.raises(DataError, match="gold"):
        evaluate_helpfulness(["q"], ["a"], ["b"], ReferenceJudge(), progress=False)


def test_missing_references_are_skipped_and_counted():
    judge = Longer()
    refs = {reference_key("Name a fruit."): "fig", reference_key("Name a city."): "Oslo"}
    res = evaluate_helpfulness(INSTR[:3], ["apple", "red", "Rome, Italy"], refs, judge, progress=False)
    assert res.metrics["n_missing"] == 1 and res.metrics["n"] == 2
    assert res.records[1]["status"] == "missing_reference"
    assert len(judge.calls) == 4
    assert res.metrics["win_rate"] == 1.0


def test_no_reference_at_all_raises_before_judging():
    judge = Longer()
    with pytest.raises(DataError, match="none of the 2 items"):
        evaluate_helpfulness(INSTR[:2], ["a", "b"], {"other": "x"}, judge, progress=False)
    assert judge.calls == []


def test_length_mismatch_raises():
    with pytest.raises(DataError, match="outputs has 1 items"):
        evaluate_helpfulness(INSTR[:2], ["a"], ["x", "y"], Longer(), progress=False)
    with pytest.raises(DataError, match="empty|no instructions"):
        evaluate_helpfulness([], [], [], Longer(), progress=False)


# ---------------------------------------------------------------------------------------------- references


def test_load_references_from_json_and_jsonl(tmp_path):
    rows = [{"instruction": "Translate to French.", "input": "cat", "output": "chat", "generator": "gpt4"},
            {"instruction": "Say hi.", "output": "Hi!"},
            {"instruction": "Say hi.", "output": "Hello!"}]  # a repeat: the first answer wins
    (tmp_path / "refs.json").write_text(json.dumps(rows))
    (tmp_path / "refs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    for name in ("refs.json", "refs.jsonl"):
        refs = load_references(tmp_path / name)
        assert refs == {reference_key("Translate to French.", "cat"): "chat", reference_key("Say hi."): "Hi!"}
    # AlpacaEval merges instruction and input with a blank line: the same key
    assert reference_key("Translate to French.\n\ncat") == reference_key("Translate to French.", "cat")


def test_load_references_from_job_folder(tmp_path):
    job = tmp_path / "data.safety_n=0"
    (job / "generations").mkdir(parents=True)
    rows = [{"id": "b1", "prompt": "### Instruction:\nAdd.\n\n### Input:\n2 3", "instruction": "Add.",
             "input": "2 3", "response": "5", "refused": False},
            {"id": "b2", "prompt": "...", "instruction": "Name a colour.", "input": "", "response": "blue"}]
    (job / "generations" / "benign.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (job / "generations" / "malicious.jsonl").write_text(json.dumps(rows[1]) + "\n")
    refs = load_references(job, suite="benign")
    assert refs == {reference_key("Add.", "2 3"): "5", reference_key("Name a colour."): "blue"}
    with pytest.raises(ConfigError, match="several suites"):
        load_references(job)
    with pytest.raises(DataError, match=r"available: \['benign', 'malicious'\]"):
        load_references(job, suite="alpaca")
    # end to end: the N=0 job's answers as references, keyed on instruction + input
    judge = Longer()
    res = evaluate_helpfulness(["Add.", "Name a colour.", "Unseen."], ["five", "bleu", "?"], refs, judge,
                               inputs=["2 3", "", ""], progress=False)
    assert [r["outcome"] for r in res.records] == ["win", "tie", None]
    assert res.metrics["win_rate"] == 0.75 and res.metrics["n_missing"] == 1
    assert ("Add.\n\n2 3", "five", "5") in judge.calls


def test_load_references_errors(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_references(tmp_path / "nope.json")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"instruction": "a", "output": "b"}\n{"instruction": "c"}\n')
    with pytest.raises(DataError, match="record 1 has no string 'output'"):
        load_references(bad)
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"instruction": "a", "output": "b"}\n{oops\n')
    with pytest.raises(DataError, match="broken.jsonl line 2 is invalid JSON"):
        load_references(broken)
    (tmp_path / "empty_job" / "generations").mkdir(parents=True)
    with pytest.raises(DataError, match="no generations"):
        load_references(tmp_path / "empty_job")
