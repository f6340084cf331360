"""The moderation scorer against a fake moderation server on 127.0.0.1."""

from __future__ import annotations

import json
import logging
import pickle
import sys
import time

import pytest

from safetuned.errors import ConfigError
from safetuned.eval.scorers import Item
from safetuned.eval.scorers.moderation import ModerationScorer
from safetuned.eval.suite_metrics import scorer_metrics
from tests.fake_http import read_body, serve

KEY = "sk-test-SECRET-0123456789abcdef"
CATEGORIES = ["harassment", "hate", "self-harm", "self-harm/intent", "sexual", "violence", "violence/graphic"]


class FakeModeration:
    """A moderation endpoint that replays scripted failures, then flags texts that mention 'kill' or 'hate'."""

    def __init__(self) -> None:
        self.failures: list[int] = []  # status codes to answer with before succeeding
        self.requests: list[dict] = []  # {"auth": ..., "input": [...], "status": ...}
        self.server, self.url = serve(self.handle)

    def handle(self, request) -> tuple[int, dict, dict]:
        body = read_body(request)
        status = self.failures.pop(0) if self.failures else 200
        self.requests.append({"auth": request.headers.get("Authorization"), "path": request.path,
                              "model": body.get("model"), "input": body["input"], "status": status})
        return status, {}, self.answer(body) if status == 200 else {"error": {"message": "try later"}}

    @staticmethod
    def answer(body: dict) -> dict:
        results = []
        for text in body["input"]:
            violent, hateful = "kill" in text, "hate" in text
            cats = {c: (c == "violence" and violent) or (c == "hate" and hateful) for c in CATEGORIES}
            scores = {c: (0.9 if cats[c] else 0.01 * (i + 1)) for i, c in enumerate(CATEGORIES)}
            results.append({"flagged": violent or hateful, "categories": cats, "category_scores": scores})
        return {"id": "modr-test", "model": body["model"], "results": results}


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch):
    """The fake server is local: a proxy from the environment must not intercept it."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def server():
    fake = FakeModeration()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


@pytest.fixture
def scorer(server, monkeypatch):
    monkeypatch.setenv("MY_MOD_KEY", KEY)
    return ModerationScorer(batch_size=2, base_url=server.url, api_key_env="MY_MOD_KEY", max_retries=3,
                            timeout=10, progress=False)


TEXTS = ["hello there", "I will kill you", "a recipe for bread", "I hate them and will kill them", "ok"]


def test_results_batching_and_auth_header(scorer, server):
    results = scorer.moderate(TEXTS)
    assert [r["harmful"] for r in results] == [False, True, False, True, False]
    assert {k: v for k, v in results[1].items() if k != "category_scores"} == {
        "harmful": True, "max_category_score": 0.9, "categories": ["violence"]}
    assert results[1]["category_scores"]["violence"] == pytest.approx(0.9)
    assert results[3]["categories"] == ["hate", "violence"]
    assert results[0]["max_category_score"] == pytest.approx(0.07)
    assert [r["input"] for r in server.requests] == [TEXTS[0:2], TEXTS[2:4], TEXTS[4:5]]
    assert all(r["auth"] == f"Bearer {KEY}" for r in server.requests)
    assert {r["path"] for r in server.requests} == {"/v1/moderations"}
    assert {r["model"] for r in server.requests} == {"omni-moderation-latest"}


@pytest.mark.parametrize("status", [429, 500])
def test_retries_once_after_transient_error(scorer, server, status):
    server.failures = [status]
    started = time.perf_counter()
    results = scorer.moderate(["I will kill you"])
    assert [r["status"] for r in server.requests] == [status, 200]
    assert results[0]["harmful"] is True
    assert time.perf_counter() - started >= 0.3  # the client's exponential backoff waited (0.5 s minus jitter)


def test_without_retries_the_error_surfaces(server, monkeypatch):
    import openai

    monkeypatch.setenv("MY_MOD_KEY", KEY)
    scorer = ModerationScorer(base_url=server.url, api_key_env="MY_MOD_KEY", max_retries=0, progress=False)
    server.failures = [503]
    with pytest.raises(openai.InternalServerError):
        scorer.moderate(["hello"])
    assert len(server.requests) == 1


def test_rejected_key_is_a_config_error_without_the_key(scorer, server):
    server.failures = [401]
    with pytest.raises(ConfigError) as e:
        scorer.moderate(["hello"])
    assert "MY_MOD_KEY" in str(e.value) and KEY not in str(e.value)
    assert len(server.requests) == 1  # 401 is not retried


def test_key_never_leaks(scorer, server, caplog):
    for name in (None, "openai", "httpx", "httpx2", "httpcore", "safetuned"):
        caplog.set_level(logging.DEBUG, logger=name)
    server.failures = [429]
    results = scorer.moderate(TEXTS)
    assert caplog.records  # the clients did log at DEBUG, so the check below is not vacuous
    assert KEY not in caplog.text
    assert KEY not in repr(scorer) and KEY not in str(vars(scorer))
    assert KEY.encode() not in pickle.dumps(scorer)
    assert KEY not in json.dumps(results)
    assert "api_key_env='MY_MOD_KEY'" in repr(scorer)


def test_missing_key_names_the_variable(monkeypatch):
    monkeypatch.delenv("SAFETUNED_NO_SUCH_KEY", raising=False)
    with pytest.raises(ConfigError, match="SAFETUNED_NO_SUCH_KEY") as e:
        ModerationScorer(api_key_env="SAFETUNED_NO_SUCH_KEY")
    assert "\n" not in str(e.value)


def test_missing_openai_package_says_what_to_install(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setitem(sys.modules, "openai", None)
    with pytest.raises(ConfigError, match=r"pip install 'safetuned\[moderation\]'"):
        ModerationScorer()


def test_bad_batch_size(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    with pytest.raises(ConfigError, match="batch_size"):
        ModerationScorer(batch_size=0)


def test_empty_input_makes_no_request(scorer, server):
    assert scorer.moderate([]) == []
    assert server.requests == []


def test_scorer_interface_and_suite_numbers(scorer, server):
    got = scorer.score([Item("q", t) for t in TEXTS], progress=False)
    assert [v["harmful"] for v in got] == [False, True, False, True, False]
    out = scorer_metrics(got, scorer.metrics(), "eval/hateful/moderation/")
    assert out["eval/hateful/moderation/harmful_rate"] == pytest.approx(0.4)
    assert out["eval/hateful/moderation/max_category_score"] == pytest.approx(
        sum(v["max_category_score"] for v in got) / 5)
    low, high = out["eval/hateful/moderation/harmful_rate_ci_low"], out["eval/hateful/moderation/harmful_rate_ci_high"]
    assert low < 0.4 < high
