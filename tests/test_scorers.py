"""The scorer registry: names and options from eval.scorers, cached verdicts, primary and namespaced metrics,
judge agreement."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from safetuned.errors import ConfigError
from safetuned.eval.runner import EvalPlan
from safetuned.eval.scorers import Item, Scorer, build_scorer, build_scorers, known_scorers
from safetuned.eval.scorers.cache import ScoreCache
from safetuned.eval.suite_metrics import judge_agreement


class KeywordJudge(Scorer):
    """A judge for tests: harmful when the answer contains `word`; refuses when it starts with "No"."""

    name = "keyword"
    measures = ("harmful_response", "refusal")

    def __init__(self, word: str = "bomb", abstain_on: str | None = None):
        self.word, self.abstain_on, self.calls = word, abstain_on, 0

    def _score(self, items, *, progress=True):
        self.calls += len(items)
        return [{"harmful": None if self.abstain_on and self.abstain_on in it.response else self.word in it.response,
                 "refused": it.response.startswith("No")} for it in items]


KW = f"{__name__}:KeywordJudge"


def test_the_package_registers_its_scorers():
    assert {"refusal", "harmfulness", "moderation"} <= set(known_scorers())


def test_unknown_scorer_and_option_are_one_line_errors():
    with pytest.raises(ConfigError, match=r"eval.scorers.harmfulnes: unknown scorer 'harmfulnes' \(did you mean "
                                          r"'harmfulness'\?\)") as e:
        build_scorers({"harmfulnes": {"model": "x"}})
    assert "\n" not in str(e.value)
    with pytest.raises(ConfigError, match=r"unknown option\(s\) \['wrod'\] for scorer 'keyword'; allowed: "
                                          r"\['abstain_on', 'word'\]"):
        build_scorer("kw", {"scorer": KW, "wrod": "x"})
    with pytest.raises(ConfigError, match="cannot import scorer"):
        build_scorer("kw", {"scorer": "no_such_module:Judge"})
    with pytest.raises(ConfigError, match="not a safetuned Scorer"):
        build_scorer("kw", {"scorer": "json:dumps"})


def test_off_entries_and_two_labels_of_one_scorer():
    scorers = build_scorers({"a": {"scorer": KW}, "off": None, "b": {"scorer": KW, "word": "gun"}})
    assert [(s.label, s.word) for s in scorers] == [("a", "bomb"), ("b", "gun")]


def test_cached_verdicts_are_not_recomputed(tmp_path):
    cache = ScoreCache(tmp_path / "scores.sqlite")
    judge = build_scorer("kw", {"scorer": KW}, cache=cache)
    items = [Item("q", "a bomb"), Item("q", "fine"), Item("q", "No.")]
    first = judge.score(items, progress=False)
    assert judge.calls == 3 and len(cache) == 3
    again = build_scorer("kw", {"scorer": KW}, cache=ScoreCache(tmp_path / "scores.sqlite"))
    assert again.score([*items, Item("q", "another bomb")], progress=False)[:3] == first
    assert again.calls == 1  # only the new answer was judged
    other = build_scorer("kw2", {"scorer": KW}, cache=cache)  # another label: its own verdicts
    other.score(items[:1], progress=False)
    assert other.calls == 1


def test_judge_agreement_counts_only_answers_both_judged():
    a = [{"harmful": True}, {"harmful": False}, {"harmful": True}, {"harmful": None}]
    b = [{"harmful": True}, {"harmful": True}, {"harmful": True}, {"harmful": False}]
    (row,) = judge_agreement({"x": a, "y": b}, "harmful")
    assert (row["a"], row["b"], row["n"]) == ("x", "y", 3)
    assert row["agreement"] == pytest.approx(2 / 3) and row["a_rate"] == pytest.approx(2 / 3)
    assert row["b_rate"] == 1.0 and row["kappa"] == pytest.approx(0.0)
    assert row["agreement_ci_low"] < 2 / 3 < row["agreement_ci_high"]


def _suite(responses):
    n = len(responses)
    return SimpleNamespace(name="hb", kind="harmful", prompts=[f"p{i}" for i in range(n)], inputs=[""] * n,
                           references=[None] * n, ids=[f"hb:{i}" for i in range(n)], categories=["cyber"] * n,
                           contexts=[None] * n)


def test_first_judge_of_a_measure_is_primary_the_others_are_namespaced():
    plan = EvalPlan(True, scorers=build_scorers({"refusal": True, "kw": {"scorer": KW},
                                                 "kw_gun": {"scorer": KW, "word": "gun", "abstain_on": "?"}}))
    responses = ["Sure, a bomb.", "No. I won't.", "a gun?", "Here is a gun."]
    metrics: dict[str, float] = {}
    rows, verdicts = plan.score_suite(_suite(responses), responses, responses, metrics, progress=False)
    assert plan.primary() == {"refusal_rate": "refusal", "harmful_rate": "kw"}
    assert metrics["eval/hb/harmful_rate"] == pytest.approx(0.25)  # kw: only the bomb
    assert metrics["eval/hb/kw_gun/harmful_rate"] == pytest.approx(1 / 3)  # one abstention left out
    assert metrics["eval/hb/kw_gun/n_no_verdict_harmful_rate"] == 1.0
    assert metrics["eval/hb/kw/refusal_rate"] == pytest.approx(0.25)  # the detector owns eval/hb/refusal_rate
    assert "eval/hb/refusal_rate" in metrics and "eval/hb/compliance_rate" in metrics
    assert [r["harmful"] for r in rows] == [True, False, False, False]
    assert rows[2]["scores"]["kw_gun"]["harmful"] is None and rows[0]["category"] == "cyber"
    assert rows[1]["outcome"] == "refusal" and set(verdicts) == {"refusal", "kw", "kw_gun"}
    json.dumps(rows)  # what generations/*.jsonl holds
