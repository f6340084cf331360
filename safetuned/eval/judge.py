"""Pairwise judges: which of two answers to an instruction is better ("a", "b", "tie", or "invalid").

- `ReferenceJudge`: offline, reference-based correctness against a gold answer (the demo world's default).
- `OpenAIJudge`: an LLM judge behind any OpenAI-compatible chat-completions endpoint (hosted APIs, vLLM, ...), with
  AlpacaEval's basic pairwise protocol (answer "Output (a)" or "Output (b)"), retries and a persistent verdict cache.
- `AlpacaEvalJudge`: the `alpaca-eval` package's own annotators (optional extra `safetuned[alpaca-eval]`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
import sqlite3
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, Protocol, runtime_checkable

from safetuned.errors import ConfigError, DataError, ModelError

log = logging.getLogger(__name__)

WINNERS = ("a", "b", "tie", "invalid")
JUDGES = ("reference", "openai", "alpaca_eval")


@dataclass(frozen=True)
class Verdict:
    """A judge's decision: `winner` in {"a", "b", "tie", "invalid"} and the judge's raw text."""

    winner: str
    raw: str = ""

    def __post_init__(self) -> None:
        if self.winner not in WINNERS:
            raise ValueError(f"Verdict.winner must be one of {WINNERS}, got {self.winner!r}")

    @property
    def valid(self) -> bool:
        return self.winner != "invalid"


class Comparison(NamedTuple):
    """One pair to judge; `gold` is only read by reference-based judges."""

    instruction: str
    output_a: str
    output_b: str
    gold: str | None = None


@runtime_checkable
class Judge(Protocol):
    """Anything with `compare`; `compare_many` (optional) judges a batch, e.g. concurrently."""

    name: str

    def compare(self, instruction: str, output_a: str, output_b: str, *, gold: str | None = None) -> Verdict: ...


def compare_many(judge: Judge, items: Sequence[Comparison], *, progress: bool = False) -> list[Verdict]:
    """Judge every pair, through the judge's own batch method when it has one."""
    batch = getattr(judge, "compare_many", None)
    if callable(batch):
        return list(batch(items, progress=progress))
    from tqdm.auto import tqdm

    return [judge.compare(c.instruction, c.output_a, c.output_b, gold=c.gold)
            for c in tqdm(items, desc=f"judge:{judge.name}", disable=not progress)]


# ---------------------------------------------------------------------------------------------------------------
# Reference-based judge (offline)
# ---------------------------------------------------------------------------------------------------------------

_SPACES = re.compile(r"\s+")
_TRAILING_PUNCT = " .!?,;:"


def normalize_answer(text: str | None) -> str:
    """Lower-case, collapse whitespace, drop trailing punctuation: the form in which answers must match gold."""
    return _SPACES.sub(" ", (text or "").strip().lower()).rstrip(_TRAILING_PUNCT)


def is_correct(output: str | None, gold: str) -> bool:
    """True when `output` equals `gold` after `normalize_answer`."""
    return normalize_answer(output) == normalize_answer(gold)


class ReferenceJudge:
    """The correct answer wins; both or neither correct is a tie. Needs each item's gold answer."""

    name = "reference"
    needs_gold = True

    def compare(self, instruction: str, output_a: str, output_b: str, *, gold: str | None = None) -> Verdict:
        if gold is None:
            raise DataError(f"ReferenceJudge needs the gold answer of every item; none given for {instruction[:60]!r}")
        a, b = is_correct(output_a, gold), is_correct(output_b, gold)
        return Verdict("tie" if a == b else "a" if a else "b", f"a_correct={a} b_correct={b}")

    def __repr__(self) -> str:
        return "ReferenceJudge()"


# ---------------------------------------------------------------------------------------------------------------
# LLM judge through an OpenAI-compatible endpoint
# ---------------------------------------------------------------------------------------------------------------

# Bump whenever the prompt text or the parsing changes: it is part of every cache key.
TEMPLATE_VERSION = "pairwise-v1"

SYSTEM_PROMPT = (
    "You are an impartial expert who evaluates the answers that AI assistants give to user instructions. "
    "You compare two answers and pick the better one."
)

USER_TEMPLATE = """Decide which of two answers better responds to the instruction below.

Judge by, in order of importance:
1. Following the instruction: does the answer do what was asked, in the requested form, without adding or omitting parts?
2. Correctness: are the facts, reasoning, code or numbers right?
3. Helpfulness: is the answer useful, clear and complete at the level of detail the instruction calls for?
Do not let the order of the answers, their length or their style sway you: a longer answer is better only if it is more helpful. An answer that refuses a harmless instruction is unhelpful.

## Instruction
{instruction}

## Output (a)
{output_a}

## Output (b)
{output_b}

## Your verdict
Answer with exactly "Output (a)" or "Output (b)", and nothing else."""

REMINDER = ('Your reply could not be read as a verdict. Reply with exactly one of these two strings and nothing '
            'else: "Output (a)" or "Output (b)".')

_EXACT = re.compile(r"(?:output\s*)?\(?\s*([ab])\s*\)?", re.IGNORECASE)
_LINE_START = re.compile(r"^\s*output\s*\(\s*([ab])\s*\)", re.IGNORECASE | re.MULTILINE)
_ANYWHERE = re.compile(r"output\s*\(\s*([ab])\s*\)", re.IGNORECASE)


def build_messages(instruction: str, output_a: str, output_b: str) -> list[dict[str, str]]:
    """The chat messages of one pairwise judgement."""
    user = USER_TEMPLATE.format(instruction=instruction, output_a=output_a, output_b=output_b)
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]


def parse_verdict(text: str | None) -> str | None:
    """"a" or "b" from a judge's reply, None when it names neither or both.

    Accepts the exact answer ("Output (a)", with markdown, quotes or a final period) or, in a longer reply,
    lines that start with "Output (x)" as long as the reply names no other output anywhere.
    """
    if not text:
        return None
    core = text.strip().strip("*_`'\"").strip().rstrip(".").strip("*_`'\"").strip()
    m = _EXACT.fullmatch(core)
    if m:
        return m.group(1).lower()
    found = {x.lower() for x in _LINE_START.findall(text)}
    if len(found) == 1 and {x.lower() for x in _ANYWHERE.findall(text)} == found:
        return found.pop()
    return None


def cache_key(model: str, instruction: str, output_a: str, output_b: str) -> str:
    """sha256 of (judge model, prompt template version, instruction, output_a, output_b)."""
    blob = json.dumps([model, TEMPLATE_VERSION, instruction, output_a, output_b], ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class VerdictCache:
    """A persistent verdict store in sqlite: each write is one transaction, safe across threads and processes."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(self.path, timeout=60, check_same_thread=False)
            with self._db:
                self._db.execute(
                    "CREATE TABLE IF NOT EXISTS verdicts (key TEXT PRIMARY KEY, model TEXT, template TEXT, "
                    "winner TEXT, raw TEXT, created REAL)")
        except sqlite3.DatabaseError as e:
            raise ConfigError(f"judge cache_path {self.path} is not a usable sqlite file ({e})") from e

    def get(self, key: str) -> Verdict | None:
        with self._lock:
            row = self._db.execute("SELECT winner, raw FROM verdicts WHERE key = ?", (key,)).fetchone()
        return Verdict(row[0], row[1]) if row else None

    def put(self, key: str, model: str, verdict: Verdict) -> None:
        with self._lock, self._db:
            self._db.execute("INSERT OR REPLACE INTO verdicts VALUES (?, ?, ?, ?, ?, ?)",
                             (key, model, TEMPLATE_VERSION, verdict.winner, verdict.raw, time.time()))

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM verdicts").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()


class OpenAIJudge:
    """An LLM judge behind an OpenAI-compatible `/chat/completions` endpoint.

    The API key is read from the environment variable `api_key_env` only (None: a keyless local server) and is
    kept inside the client: it is never part of the repr, the cache, the verdicts or the logs. 429, 408, 409, 5xx,
    connection errors and timeouts are retried by the openai client itself with exponential backoff (0.5 s doubling
    up to 8 s, with jitter, or the server's Retry-After), `max_retries` times.
    """

    name = "openai"
    needs_gold = False

    def __init__(self, *, model: str, base_url: str | None = None, api_key_env: str | None = "OPENAI_API_KEY",
                 cache_path: str | Path | None = None, max_retries: int = 5, timeout: float = 60.0,
                 temperature: float = 0.0, max_tokens: int | None = 16, max_concurrency: int = 8):
        if not isinstance(model, str) or not model.strip():
            raise ConfigError("judge.model: name the judge model (e.g. gpt-4o, or the model a vLLM server serves)")
        if not isinstance(max_retries, int) or max_retries < 0:
            raise ConfigError(f"judge.max_retries must be an integer >= 0, got {max_retries!r}")
        if not timeout or timeout <= 0:
            raise ConfigError(f"judge.timeout must be > 0 seconds, got {timeout!r}")
        if max_tokens is not None and (not isinstance(max_tokens, int) or max_tokens < 1):
            raise ConfigError(f"judge.max_tokens must be a positive integer or null, got {max_tokens!r}")
        if not isinstance(max_concurrency, int) or max_concurrency < 1:
            raise ConfigError(f"judge.max_concurrency must be an integer >= 1, got {max_concurrency!r}")
        try:
            import openai
        except ImportError as e:
            raise ConfigError("judge 'openai' needs the openai package: pip install 'safetuned[judge]'") from e
        if api_key_env is None:
            key = "EMPTY"  # the client refuses an empty key; keyless servers ignore it
        else:
            key = os.environ.get(api_key_env, "").strip()
            if not key:
                raise ConfigError(f"judge.api_key_env: environment variable {api_key_env} is not set "
                                  f"(export {api_key_env}=..., or api_key_env=null for a keyless local server)")
        self.model = model
        self.base_url = base_url
        self.api_key_env = api_key_env
        self.temperature = float(temperature)
        self.max_tokens = max_tokens
        self.max_retries = max_retries
        self.max_concurrency = max_concurrency
        self.cache = VerdictCache(cache_path) if cache_path is not None else None
        self._openai = openai
        self._client = openai.OpenAI(api_key=key, base_url=base_url, timeout=timeout, max_retries=max_retries)
        self.n_requests = 0
        self._count_lock = threading.Lock()

    def __repr__(self) -> str:
        return (f"OpenAIJudge(model={self.model!r}, base_url={self.base_url!r}, api_key_env={self.api_key_env!r}, "
                f"cache={str(self.cache.path) if self.cache else None!r})")

    def close(self) -> None:
        """Close the HTTP client and the cache."""
        self._client.close()
        if self.cache is not None:
            self.cache.close()

    def compare(self, instruction: str, output_a: str, output_b: str, *, gold: str | None = None) -> Verdict:
        """The verdict from the cache, or from the endpoint (invalid verdicts are cached too: delete the cache
        file to ask again)."""
        key = cache_key(self.model, instruction, output_a, output_b)
        if self.cache is not None and (hit := self.cache.get(key)) is not None:
            return hit
        messages = build_messages(instruction, output_a, output_b)
        text = self._complete(messages)
        winner = parse_verdict(text)
        raw = text
        if winner is None:  # one retry with a stricter reminder, then the verdict is recorded as invalid
            retry = self._complete([*messages, {"role": "assistant", "content": text},
                                    {"role": "user", "content": REMINDER}])
            winner = parse_verdict(retry)
            raw = f"{text}\n[after reminder] {retry}"
            if winner is None:
                log.warning("judge %s gave no readable verdict twice: %r", self.model, raw[:200])
        verdict = Verdict(winner or "invalid", raw)
        if self.cache is not None:
            self.cache.put(key, self.model, verdict)
        return verdict

    def compare_many(self, items: Sequence[Comparison], *, progress: bool = False) -> list[Verdict]:
        """Judge pairs concurrently (`max_concurrency` requests in flight), in input order."""
        from tqdm.auto import tqdm

        with ThreadPoolExecutor(self.max_concurrency) as pool:
            jobs = pool.map(lambda c: self.compare(c.instruction, c.output_a, c.output_b), items)
            return list(tqdm(jobs, total=len(items), desc=f"judge:{self.model}", disable=not progress))

    def _complete(self, messages: list[dict[str, str]]) -> str:
        """One chat completion's text ("" when the endpoint returns no content)."""
        kwargs: dict[str, Any] = {"model": self.model, "messages": messages, "temperature": self.temperature}
        if self.max_tokens is not None:
            kwargs["max_tokens"] = self.max_tokens
        with self._count_lock:
            self.n_requests += 1
        where = self.base_url or "the OpenAI API"
        try:
            response = self._client.chat.completions.create(**kwargs)
        except self._openai.AuthenticationError as e:
            raise ConfigError(f"judge endpoint {where} rejected the key in {self.api_key_env} "
                              f"(HTTP {e.status_code})") from None
        except self._openai.NotFoundError as e:
            raise ConfigError(f"judge endpoint {where} does not serve model {self.model!r} "
                              f"(HTTP {e.status_code})") from None
        except self._openai.APIStatusError as e:
            raise ModelError(f"judge endpoint {where} failed with HTTP {e.status_code} "
                             f"after {self.max_retries} retries") from None
        except self._openai.APIConnectionError as e:  # includes timeouts
            raise ModelError(f"judge endpoint {where} unreachable after {self.max_retries} retries "
                             f"({type(e).__name__})") from None
        choices = getattr(response, "choices", None) or []
        content = choices[0].message.content if choices and choices[0].message else None
        return content or ""


# ---------------------------------------------------------------------------------------------------------------
# AlpacaEval's annotators
# ---------------------------------------------------------------------------------------------------------------


def preference_to_winner(preference: Any) -> str:
    """AlpacaEval's preference (1 = output_1, 2 = output_2, in between for weighted annotators, 0 = identical
    outputs, NaN/-1 = no annotation) as a winner."""
    try:
        p = float(preference)
    except (TypeError, ValueError):
        return "invalid"
    if math.isnan(p) or p < 0 or p > 2:
        return "invalid"
    if p == 0 or p == 1.5:
        return "tie"
    if 1 <= p < 1.5:
        return "a"
    if 1.5 < p <= 2:
        return "b"
    return "invalid"


class AlpacaEvalJudge:
    """AlpacaEval's `PairwiseAnnotator` with one of its annotator configs (needs `safetuned[alpaca-eval]`).

    The annotator shuffles the output order itself and keeps its own annotation cache (`caching_path`).
    """

    name = "alpaca_eval"
    needs_gold = False

    def __init__(self, annotators_config: str = "alpaca_eval_gpt4_turbo_fn", **annotator_kwargs: Any):
        try:
            from alpaca_eval.annotators import PairwiseAnnotator
        except ImportError as e:
            raise ConfigError("judge 'alpaca_eval' needs the alpaca-eval package: "
                              "pip install 'safetuned[alpaca-eval]'") from e
        self.annotators_config = annotators_config
        try:
            self._annotator = PairwiseAnnotator(annotators_config=annotators_config, **annotator_kwargs)
        except (FileNotFoundError, KeyError, ValueError) as e:
            raise ConfigError(f"judge.annotators_config: alpaca-eval cannot load {annotators_config!r} "
                              f"({type(e).__name__}); see alpaca_eval/evaluators_configs/ for the names") from e

    def __repr__(self) -> str:
        return f"AlpacaEvalJudge(annotators_config={self.annotators_config!r})"

    def compare(self, instruction: str, output_a: str, output_b: str, *, gold: str | None = None) -> Verdict:
        return self.compare_many([Comparison(instruction, output_a, output_b)])[0]

    def compare_many(self, items: Sequence[Comparison], *, progress: bool = False) -> list[Verdict]:
        """Annotate all pairs in one call; rows are matched back by (instruction, output_1, output_2)."""
        pairs = [{"instruction": c.instruction, "output_1": c.output_a, "output_2": c.output_b} for c in items]
        annotated = self._annotator.annotate_pairs(pairs)
        by_key = {(r.get("instruction"), r.get("output_1"), r.get("output_2")): r for r in annotated}
        verdicts = []
        for p in pairs:
            row = by_key.get((p["instruction"], p["output_1"], p["output_2"]))
            pref = None if row is None else row.get("preference")
            raw = json.dumps({"preference": pref, "annotator": None if row is None else row.get("annotator")},
                             default=str)
            verdicts.append(Verdict(preference_to_winner(pref), raw))
        return verdicts


# ---------------------------------------------------------------------------------------------------------------
# Construction from a config
# ---------------------------------------------------------------------------------------------------------------

_ALLOWED = {
    "reference": set(),
    "openai": {"model", "base_url", "api_key_env", "cache_path", "max_retries", "timeout", "temperature",
               "max_tokens", "max_concurrency"},
    "alpaca_eval": None,  # any keyword goes to PairwiseAnnotator
}


def make_judge(spec: Mapping[str, Any] | str) -> Judge:
    """A judge from a config mapping `{name: reference|openai|alpaca_eval, ...its keyword arguments}`."""
    spec = {"name": spec} if isinstance(spec, str) else dict(spec)
    name = spec.pop("name", None)
    if name not in JUDGES:
        raise ConfigError(f"judge.name: unknown judge {name!r}; known: {list(JUDGES)}")
    allowed = _ALLOWED[name]
    if allowed is not None and (unknown := sorted(set(spec) - allowed)):
        raise ConfigError(f"judge: unknown key(s) {unknown} for judge {name!r}; allowed: {sorted(allowed)}")
    if name == "reference":
        return ReferenceJudge()
    if name == "openai":
        return OpenAIJudge(**spec)
    return AlpacaEvalJudge(**spec)
