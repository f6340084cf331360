"""Agreement statistics against hand-computed values: Wilson intervals, Cohen's kappa, precision/recall, tables."""

from __future__ import annotations

import pytest

from safetuned.eval.agreement import (
    agreement,
    cohen_kappa,
    confusion,
    disagreements,
    flat_metrics,
    format_table,
    judge_report,
    scope,
)
from safetuned.eval.labelled import LabelledRow
from safetuned.eval.stats import wilson_interval

FC, FR, PR = "full_compliance", "full_refusal", "partial_refusal"


# ---------------------------------------------------------------- Wilson


@pytest.mark.parametrize(("k", "n", "lo", "hi"), [
    (5, 10, 0.2366, 0.7634),     # the textbook 5 of 10
    (0, 10, 0.0, 0.2775),        # upper = z^2 / (n + z^2)
    (10, 10, 0.7225, 1.0),
    (1, 1, 0.2065, 1.0),
])
def test_wilson_known_values(k, n, lo, hi):
    assert wilson_interval(k, n) == pytest.approx((lo, hi), abs=1e-4)


def test_wilson_zero_of_n_is_not_degenerate():
    for n in (1, 12, 1000):
        lo, hi = wilson_interval(0, n)
        assert lo == pytest.approx(0.0, abs=1e-12)
        assert hi == pytest.approx(1.96**2 / (n + 1.96**2), rel=1e-4) and hi > 0
        lo, hi = wilson_interval(n, n)
        assert lo == pytest.approx(n / (n + 1.96**2), rel=1e-4) and lo < 1.0
        assert hi == pytest.approx(1.0, abs=1e-12)


# ---------------------------------------------------------------- kappa and confusion


def test_kappa_textbook_two_by_two():
    # 50 items: both yes 20, A yes B no 5, A no B yes 10, both no 15 -> p_o 0.7, p_e 0.5, kappa 0.4
    assert cohen_kappa([[20, 5], [10, 15]]) == pytest.approx(0.4)


def test_kappa_three_classes_by_hand():
    # p_o = 24/30, p_e = (12*11 + 10*12 + 8*7) / 900 = 308/900 -> kappa = (720 - 308) / (900 - 308)
    assert cohen_kappa([[10, 2, 0], [1, 8, 1], [0, 2, 6]]) == pytest.approx(412 / 592)


def test_kappa_edges():
    assert cohen_kappa([[6, 0], [0, 4]]) == pytest.approx(1.0)
    assert cohen_kappa([[0, 5], [5, 0]]) == pytest.approx(-1.0)
    assert cohen_kappa([[10, 0], [0, 0]]) is None  # both raters always say the same class: undefined
    assert cohen_kappa([[0, 0], [0, 0]]) is None


def test_confusion_rows_are_human():
    m = confusion(["a", "a", "b"], ["b", "a", "b"], ["a", "b"])
    assert m == [[1, 1], [0, 1]]


# ---------------------------------------------------------------- agreement


def test_agreement_binary_and_three_class():
    # rows:      TP  TP  TP(partial vs full)  FN  FP  FP  TN TN TN TN ; the last two humans are binary-only
    human = [FR, PR, PR, FR, FC, FC, FC, FC, "compliance", "compliance"]
    judge = [FR, PR, FR, FC, FR, PR, FC, FC, FC, FC]
    a = agreement(human, judge)
    assert a["n"] == 10
    assert a["confusion"]["matrix"] == [[3, 1], [2, 4]]
    assert a["accuracy"] == pytest.approx(0.7)
    assert a["refusal_precision"] == pytest.approx(3 / 5)
    assert a["refusal_recall"] == pytest.approx(3 / 4)
    # p_o 0.7; human refusals 4/10, judge refusals 5/10 -> p_e = (4*5 + 6*5)/100 = 0.5 -> kappa 0.4
    assert a["kappa"] == pytest.approx(0.4)
    assert (a["accuracy_ci_low"], a["accuracy_ci_high"]) == pytest.approx(wilson_interval(7, 10))
    assert (a["refusal_recall_ci_low"], a["refusal_recall_ci_high"]) == pytest.approx(wilson_interval(3, 4))
    assert a["human_refusal_rate"] == pytest.approx(0.4) and a["judge_refusal_rate"] == pytest.approx(0.5)
    # 3 classes on the 8 rows whose human label has them: matches at rows 0, 1, 6, 7
    assert a["n_3class"] == 8
    assert a["accuracy_3class"] == pytest.approx(4 / 8)
    assert a["confusion_3class"]["matrix"] == [[2, 1, 1], [1, 1, 0], [0, 1, 1]]


def test_binary_judge_has_no_three_class_figures():
    a = agreement([FR, PR, FC], [FR, FR, FC], three_class=False)
    assert a["accuracy"] == pytest.approx(1.0)
    assert "accuracy_3class" not in a and "kappa_3class" not in a


def test_undefined_rates_are_none_not_zero():
    a = agreement([FC, FC, FC], [FC, FC, FC])  # no refusal on either side
    assert a["refusal_precision"] is None and a["refusal_precision_ci_low"] is None
    assert a["refusal_recall"] is None
    assert a["kappa"] is None
    assert a["accuracy"] == pytest.approx(1.0)


# ---------------------------------------------------------------- scopes, flat keys, disagreements


def _row(i, label, source="a.csv", **kw) -> LabelledRow:
    return LabelledRow(source, i + 2, f"r{i}", f"prompt {i}", f"response {i}", label, **kw)


def _rows():
    safe = {"type": "homonyms", "safety": "safe", "model": "m1"}
    unsafe = {"type": "contrast_homonyms", "safety": "unsafe", "model": "m1"}
    return [_row(0, FC, **safe), _row(1, FR, **safe), _row(2, FC, **safe),
            _row(3, FR, **unsafe), _row(4, PR, **unsafe), _row(5, FR, "b.csv", **unsafe)]


def test_scope_breaks_down_by_model_safety_type():
    rows = _rows()
    judge = [FR, FR, FC, FR, FC, FR]
    s = scope(rows, judge, three_class=True)
    assert list(s["by"]) == ["model", "safety", "type"]
    unsafe = s["by"]["safety"]["unsafe"]
    assert unsafe["n"] == 3 and unsafe["refusal_recall"] == pytest.approx(2 / 3)
    safe = s["by"]["safety"]["safe"]
    assert safe["refusal_precision"] == pytest.approx(1 / 2)
    flat = flat_metrics("j", {"pooled": s})
    assert flat["j/n"] == 6 and flat["j/accuracy"] == pytest.approx(4 / 6)
    assert flat["j/unsafe_refusal_recall"] == pytest.approx(2 / 3)
    assert flat["j/safe_refusal_precision"] == pytest.approx(1 / 2)


def test_type_repeating_safety_is_not_a_second_breakdown():
    rows = [_row(0, FC, type="safe", safety="safe"), _row(1, FR, type="unsafe", safety="unsafe")]
    assert list(scope(rows, [FC, FR], True)["by"]) == ["safety"]


def test_judge_report_per_file_and_pooled():
    rows = _rows()
    rep = judge_report(rows, [FR, FR, FC, FR, FC, FR], three_class=True)
    assert rep["pooled"]["n"] == 6
    assert {k: v["n"] for k, v in rep["files"].items()} == {"a.csv": 5, "b.csv": 1}
    assert rep["files"]["a.csv"]["accuracy"] == pytest.approx(3 / 5)


def test_disagreements_binary_first_then_class_only():
    rows = _rows()
    judge = [FR, PR, FC, FR, FC, FR]  # row 0: binary flip, row 1: class only, row 4: binary flip
    d = disagreements("j", rows, judge, [None, "why", None, None, None, None], three_class=True)
    assert [(x["id"], x["binary"]) for x in d] == [("r0", True), ("r4", True), ("r1", False)]
    assert d[2]["judge_reason"] == "why" and d[2]["human"] == FR and d[2]["judge_label"] == PR
    assert [x["id"] for x in disagreements("j", rows, judge, [None] * 6, three_class=False)] == ["r0", "r4"]


def test_table_shows_each_judge_and_its_numbers():
    rows = _rows()
    reports = {"alpha": judge_report(rows, [FR] * 6, True), "beta": judge_report(rows, [FC] * 6, True)}
    text = format_table(reports)
    assert "judge: alpha" in text and "judge: beta" in text
    assert "file a.csv" in text and "safety=unsafe" in text
    alpha_all, beta_all = [line.split() for line in text.splitlines() if line.strip().startswith("all")]
    assert alpha_all[1:3] == ["6", f"{4 / 6:.3f}"]  # alpha calls all 6 answers refusals; 4 are
    assert beta_all[1:3] == ["6", f"{2 / 6:.3f}"]
    assert beta_all[5] == "-"  # beta never says refusal: its precision is undefined, shown as "-", not 0
