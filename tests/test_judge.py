"""OpenAIJudge against a fake OpenAI-compatible chat server on 127.0.0.1; verdict parsing; the judge registry."""

from __future__ import annotations

import importlib.util
import json
import logging
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler

import pytest

from safetuned.errors import ConfigError, ModelError
from safetuned.eval.helpfulness import evaluate_helpfulness
from safetuned.eval.judges import OpenAIJudge, ReferenceJudge, Verdict, make_judge, register_judge
from safetuned.eval.judges import openai as judge_mod
from safetuned.eval.judges.alpaca_eval import preference_to_winner
from safetuned.eval.judges.openai import cache_key, parse_verdict
from tests.fake_http import Servers, chat_completion

SECRET = "sk-test-Zq81SECRETkey"
KEY_ENV = "SAFETUNED_TEST_JUDGE_KEY"


class FakeChat:
    """A scripted `POST /v1/chat/completions`: answers by a quality table of known answers, records every request."""

    def __init__(self, quality: dict[str, int], *, biased=(), malformed_once=(), always_malformed=(),
                 fail_first: int = 0, fail_status: int = 429, sleep_first: float = 0.0):
        self.quality, self.biased = quality, set(biased)
        self.malformed_once, self.always_malformed = set(malformed_once), set(always_malformed)
        self.fail_first, self.fail_status, self.sleep_first = fail_first, fail_status, sleep_first
        self.requests: list[dict] = []
        self.lock = threading.Lock()

    def verdict(self, messages: list[dict]) -> str:
        user = messages[1]["content"]
        instr = next((i for i in self.biased | self.malformed_once | self.always_malformed if i in user), None)
        if instr in self.always_malformed:
            return "I like both"
        if len(messages) == 2 and instr in self.malformed_once:
            self.malformed_once.discard(instr)  # only the first request for this instruction
            return "I like both"
        if instr in self.biased:
            return "Output (a)"
        first, second = sorted((a for a in self.quality if a in user), key=user.find)
        return "Output (a)" if self.quality[first] > self.quality[second] else "Output (b)"

    def handle(self, handler: BaseHTTPRequestHandler) -> tuple[int, dict, dict]:
        body = json.loads(handler.rfile.read(int(handler.headers["Content-Length"])))
        with self.lock:
            n = len(self.requests)
            headers = {k.lower(): v for k, v in handler.headers.items()}
            self.requests.append({"path": handler.path, "headers": headers, "body": body})
            if n < self.fail_first:
                return self.fail_status, {"retry-after-ms": "5"}, {"error": {"message": "slow down"}}
            text = self.verdict(body["messages"])
        if n == 0 and self.sleep_first:
            time.sleep(self.sleep_first)
        return 200, {}, chat_completion(n, body["model"], text)


@pytest.fixture
def server(monkeypatch):
    """Start a FakeChat server: `server(fake) -> base_url` (only /v1/chat/completions answers)."""
    monkeypatch.setenv(KEY_ENV, SECRET)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    servers = Servers()

    def start(fake: FakeChat) -> str:
        return servers.start(lambda request: fake.handle(request) if request.path == "/v1/chat/completions"
                             else (404, {}, {"error": {"message": "not found"}}))

    yield start
    servers.close()


def make(url: str, cache_path=None, **kw) -> OpenAIJudge:
    return OpenAIJudge(model="fake-judge", base_url=url, api_key_env=KEY_ENV, cache_path=cache_path,
                       max_retries=kw.pop("max_retries", 3), **kw)


# Items: model better (win), model better (win), model worse (loss), position-biased judge (tie),
# malformed first reply then valid (win) => win rate (1 + 1 + 0 + 0.5 + 1) / 5 = 0.7
INSTR = ["Q1 name a fruit", "Q2 name a colour", "Q3 name a city", "Q4 biased item", "Q5 malformed item"]
MODEL = ["ANS-m1", "ANS-m2", "ANS-m3", "ANS-m4", "ANS-m5"]
REFS = ["ANS-r1", "ANS-r2", "ANS-r3", "ANS-r4", "ANS-r5"]
QUALITY = {"ANS-m1": 2, "ANS-r1": 1, "ANS-m2": 5, "ANS-r2": 3, "ANS-m3": 1, "ANS-r3": 4,
           "ANS-m4": 1, "ANS-r4": 1, "ANS-m5": 3, "ANS-r5": 2}


def test_win_rate_retries_key_hygiene_and_cache(server, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    fake = FakeChat(QUALITY, biased=["Q4 biased"], malformed_once=["Q5 malformed"], fail_first=1)
    url = server(fake)
    cache = tmp_path / "judge" / "verdicts.sqlite"
    judge = make(url, cache)
    res = evaluate_helpfulness(INSTR, MODEL, REFS, judge, progress=False)

    assert [r["outcome"] for r in res.records] == ["win", "win", "loss", "tie", "win"]
    assert res.metrics["win_rate"] == pytest.approx(0.7)
    assert res.metrics["n"] == 5 and res.metrics["n_invalid"] == 0
    assert res.metrics["win_rate_ci_low"] <= 0.7 <= res.metrics["win_rate_ci_high"]
    # 10 judgements + one 429 retried by the client + one malformed reply retried with the reminder
    assert len(fake.requests) == 12
    assert sum(len(r["body"]["messages"]) == 4 for r in fake.requests) == 1
    assert "[after reminder]" in res.records[4]["verdicts"]["model_first"]["raw"] + \
        res.records[4]["verdicts"]["reference_first"]["raw"]
    # (i) every item judged in both orders
    users = [r["body"]["messages"][1]["content"] for r in fake.requests]
    for m, ref in zip(MODEL, REFS):
        orders = {u.find(m) < u.find(ref) for u in users if m in u}
        assert orders == {True, False}
    # (ii) the key travels in the Authorization header and nowhere else
    for r in fake.requests:
        assert r["path"] == "/v1/chat/completions"
        assert r["headers"]["authorization"] == f"Bearer {SECRET}"
        assert SECRET not in json.dumps(r["body"])
        assert not any(SECRET in v for k, v in r["headers"].items() if k != "authorization")
        assert r["body"]["model"] == "fake-judge" and r["body"]["temperature"] == 0.0
    assert cache.exists() and SECRET.encode() not in cache.read_bytes()
    assert SECRET not in json.dumps(res.records) + json.dumps(res.metrics) + repr(judge)
    assert "Retrying request" in caplog.text  # the client's own backoff on the 429 was logged ...
    assert SECRET not in caplog.text  # ... and the key was not
    # (iii) a cached re-run, with a fresh judge on the same cache file, makes zero requests
    again = evaluate_helpfulness(INSTR, MODEL, REFS, make(url, cache), progress=False)
    assert len(fake.requests) == 12
    assert again.metrics == res.metrics
    judge.close()


def test_malformed_twice_is_invalid_and_cached(server, tmp_path):
    fake = FakeChat({"ANS-x": 1, "ANS-y": 2}, always_malformed=["Q broken"])
    judge = make(server(fake), tmp_path / "c.sqlite", max_concurrency=1)
    v = judge.compare("Q broken", "ANS-x", "ANS-y")
    assert v == Verdict("invalid", "I like both\n[after reminder] I like both")
    assert len(fake.requests) == 2
    retry = fake.requests[1]["body"]["messages"]
    assert [m["role"] for m in retry] == ["system", "user", "assistant", "user"]
    assert retry[2]["content"] == "I like both" and '"Output (a)" or "Output (b)"' in retry[3]["content"]
    assert judge.compare("Q broken", "ANS-x", "ANS-y") == v and len(fake.requests) == 2
    res = evaluate_helpfulness(["Q broken", "Q fine"], ["ANS-x", "ANS-y"], ["ANS-y", "ANS-x"], judge,
                               progress=False)
    assert res.metrics["n_invalid"] == 1 and res.metrics["n"] == 1 and res.metrics["win_rate"] == 1.0


def test_timeout_is_retried(server):
    fake = FakeChat({"ANS-x": 1, "ANS-y": 2}, sleep_first=1.5)
    judge = make(server(fake), timeout=0.3, max_retries=2)
    assert judge.compare("Q slow", "ANS-x", "ANS-y").winner == "b"
    assert len(fake.requests) == 2


def test_persistent_server_errors_raise_model_error(server):
    fake = FakeChat({"ANS-x": 1, "ANS-y": 2}, fail_first=100, fail_status=503)
    judge = make(server(fake), max_retries=2)
    with pytest.raises(ModelError, match="HTTP 503 after 2 retries"):
        judge.compare("Q", "ANS-x", "ANS-y")
    assert len(fake.requests) == 3


def test_rejected_key_is_a_config_error_without_the_key(server):
    fake = FakeChat({"ANS-x": 1, "ANS-y": 2}, fail_first=100, fail_status=401)
    judge = make(server(fake))
    with pytest.raises(ConfigError, match=KEY_ENV) as err:
        judge.compare("Q", "ANS-x", "ANS-y")
    assert SECRET not in str(err.value) and len(fake.requests) == 1  # 401 is not retried


def test_missing_key_and_keyless_server(server, monkeypatch):
    url = server(FakeChat({"ANS-x": 1, "ANS-y": 2}))
    monkeypatch.delenv(KEY_ENV)
    with pytest.raises(ConfigError, match=f"environment variable {KEY_ENV} is not set"):
        make(url)
    fake = FakeChat({"ANS-x": 1, "ANS-y": 2})
    keyless = OpenAIJudge(model="fake-judge", base_url=server(fake), api_key_env=None)
    assert keyless.compare("Q", "ANS-y", "ANS-x").winner == "a"
    assert fake.requests[0]["headers"]["authorization"] == "Bearer EMPTY"


def test_cache_key_depends_on_model_template_and_pair(server, tmp_path, monkeypatch):
    k = cache_key("m", "i", "a", "b")
    assert len({k, cache_key("m2", "i", "a", "b"), cache_key("m", "i", "b", "a"), cache_key("m", "j", "a", "b")}) == 4
    monkeypatch.setattr(judge_mod, "TEMPLATE_VERSION", "pairwise-v999")
    assert cache_key("m", "i", "a", "b") != k
    monkeypatch.undo()
    monkeypatch.setenv(KEY_ENV, SECRET)
    fake = FakeChat({"ANS-x": 1, "ANS-y": 2})
    url = server(fake)
    make(url, tmp_path / "c.sqlite").compare("Q", "ANS-x", "ANS-y")
    other = OpenAIJudge(model="other-judge", base_url=url, api_key_env=KEY_ENV, cache_path=tmp_path / "c.sqlite")
    other.compare("Q", "ANS-x", "ANS-y")
    assert len(fake.requests) == 2  # another judge model does not reuse the verdict


def test_openai_missing_gives_install_hint(monkeypatch):
    monkeypatch.setenv(KEY_ENV, SECRET)
    monkeypatch.setitem(sys.modules, "openai", None)
    with pytest.raises(ConfigError, match=r"pip install 'safetuned\[judge\]'"):
        OpenAIJudge(model="m", api_key_env=KEY_ENV)


def test_bad_judge_settings(monkeypatch):
    monkeypatch.setenv(KEY_ENV, SECRET)
    with pytest.raises(ConfigError, match="judge.model"):
        OpenAIJudge(model=" ", api_key_env=KEY_ENV)
    with pytest.raises(ConfigError, match="judge.max_retries"):
        OpenAIJudge(model="m", api_key_env=KEY_ENV, max_retries=-1)
    with pytest.raises(ConfigError, match="judge.max_tokens"):
        OpenAIJudge(model="m", api_key_env=KEY_ENV, max_tokens=0)


@pytest.mark.parametrize("text, winner", [
    ("Output (a)", "a"), ("Output (b)", "b"), ("output (B).", "b"), ("**Output (a)**", "a"), ('"Output (b)"', "b"),
    ("  Output(a)\n", "a"), ("(b)", "b"), ("a", "a"),
    ("Both are fine, but overall:\nOutput (b)", "b"),
    ("I like both", None), ("", None), (None, None), ("Output (a) or Output (b)", None),
    ("Output (a)\nOutput (b)", None), ("Output (b) is better than Output (a)", None), ("Output (c)", None),
    ("The answer is (a) maybe", None),
])
def test_parse_verdict(text, winner):
    assert parse_verdict(text) == winner


def test_verdict_rejects_unknown_winner():
    with pytest.raises(ValueError):
        Verdict("c")
    assert not Verdict("invalid").valid and Verdict("tie").valid


@pytest.mark.parametrize("pref, winner", [
    (1, "a"), (2, "b"), (1.2, "a"), (1.8, "b"), (1.5, "tie"), (0, "tie"), (-1, "invalid"), (float("nan"), "invalid"),
    (None, "invalid"), ("x", "invalid"),
])
def test_alpaca_eval_preference_mapping(pref, winner):
    assert preference_to_winner(pref) == winner


@pytest.mark.skipif(importlib.util.find_spec("alpaca_eval") is not None, reason="alpaca-eval is installed")
def test_alpaca_eval_missing_gives_install_hint():
    with pytest.raises(ConfigError, match=r"pip install 'safetuned\[alpaca-eval\]'"):
        make_judge({"name": "alpaca_eval"})


def test_make_judge(monkeypatch, tmp_path):
    assert isinstance(make_judge({"name": "reference"}), ReferenceJudge)
    assert isinstance(make_judge("reference"), ReferenceJudge)
    with pytest.raises(ConfigError, match=r"unknown judge 'gpt'; known: alpaca_eval, openai, reference"):
        make_judge({"name": "gpt"})
    with pytest.raises(ConfigError, match=r"unknown option\(s\) \['modle'\]"):
        make_judge({"name": "openai", "modle": "gpt-4o"})
    monkeypatch.setenv(KEY_ENV, SECRET)
    j = make_judge({"name": "openai", "model": "gpt-4o", "api_key_env": KEY_ENV, "cache_path": tmp_path / "c.db"})
    assert isinstance(j, OpenAIJudge) and j.cache is not None and SECRET not in repr(j)


def test_registry_builds_a_new_judge_from_its_module_and_checks_its_options():
    @register_judge
    class LengthJudge:
        name = "test_length"

        def __init__(self, *, prefer: str = "longer"):
            self.prefer = prefer

        def compare(self, instruction, output_a, output_b, *, gold=None):
            return Verdict("a" if (len(output_a) > len(output_b)) == (self.prefer == "longer") else "b")

    try:
        j = make_judge({"name": "test_length", "prefer": "shorter"})
        assert j.compare("q", "long answer", "short").winner == "b"
        with pytest.raises(ConfigError, match=r"unknown option\(s\) \['prefr'\] for judge 'test_length'; "
                                              r"allowed: \['prefer'\]"):
            make_judge({"name": "test_length", "prefr": "x"})
        with pytest.raises(ConfigError, match="unknown judge None"):
            make_judge({})
    finally:
        from safetuned.eval.judges import base

        base.REGISTRY.classes.pop("test_length")
    with pytest.raises(ConfigError, match=r"^judge: .*model") as err:  # a required option left out
        make_judge({"name": "openai"})
    assert "\n" not in str(err.value)


def test_keyless_rejection_and_unknown_model_are_one_line_config_errors(server):
    fake = FakeChat({"ANS-x": 1, "ANS-y": 2}, fail_first=100, fail_status=401)
    keyless = OpenAIJudge(model="fake-judge", base_url=server(fake), api_key_env=None)
    with pytest.raises(ConfigError, match=r"judge.api_key_env: .* rejected the request \(api_key_env=null\)"):
        keyless.compare("Q", "ANS-x", "ANS-y")
    lost = OpenAIJudge(model="fake-judge", base_url=server(FakeChat({}, fail_first=100, fail_status=404)),
                       api_key_env=KEY_ENV)
    with pytest.raises(ConfigError, match=r"judge.model: .* does not serve model 'fake-judge' \(HTTP 404\)"):
        lost.compare("Q", "ANS-x", "ANS-y")
    bad = make(server(FakeChat({}, fail_first=100, fail_status=400)))
    with pytest.raises(ModelError, match=r"refused the request with HTTP 400 \(.*slow down\)$"):
        bad.compare("Q", "ANS-x", "ANS-y")
