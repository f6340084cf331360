"""An LLM pairwise judge behind an OpenAI-compatible endpoint, with AlpacaEval's basic pairwise protocol (answer
"Output (a)" or "Output (b)"), one reminder on an unreadable reply and a persistent verdict cache."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path

from safetuned.eval.judges.base import Comparison, Verdict, register_judge
from safetuned.eval.judges.openai_client import ChatClient

log = logging.getLogger(__name__)

# Bump whenever the prompt text or the parsing changes: it is part of every cache key.
TEMPLATE_VERSION = "pairwise-v1"

SYSTEM_PROMPT = (
    "You are an impartial expert who evaluates the answers that AI assistants give to user instructions. "
    "You compare two answers and pick the better one."
)

USER_TEMPLATE = """Decide which of two answers better responds to the instruction below.

Judge by, in order of importance:
1. Following the instruction: does the answer do what was asked, in the requested form, without adding or \
omitting parts?
2. Correctness: are the facts, reasoning, code or numbers right?
3. Helpfulness: is the answer useful, clear and complete at the level of detail the instruction calls for?
Do not let the order of the answers, their length or their style sway you: a longer answer is better only \
if it is more helpful. An answer that refuses a harmless instruction is unhelpful.

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
    from safetuned.eval.scorers.cache import ScoreCache

    return ScoreCache.key(model, TEMPLATE_VERSION, (instruction, output_a, output_b))


@register_judge
class OpenAIJudge:
    """A pairwise LLM judge through `ChatClient` (key from `api_key_env` only; retries, timeouts and errors as
    there); verdicts are cached in `cache_path` when given."""

    name = "openai"
    needs_gold = False

    def __init__(self, *, model: str, base_url: str | None = None, api_key_env: str | None = "OPENAI_API_KEY",
                 cache_path: str | Path | None = None, max_retries: int = 5, timeout: float = 60.0,
                 temperature: float = 0.0, max_tokens: int | None = 16, max_concurrency: int = 8):
        self.client = ChatClient(model=model, base_url=base_url, api_key_env=api_key_env, max_retries=max_retries,
                                 timeout=timeout, temperature=temperature, max_tokens=max_tokens,
                                 max_concurrency=max_concurrency, where="judge")
        self.model = model
        self.cache = None
        if cache_path is not None:  # the same verdict store as the scorers' (safetuned.eval.scorers.cache)
            from safetuned.eval.scorers.cache import ScoreCache

            self.cache = ScoreCache(cache_path, key_name="judge.cache_path")

    def __repr__(self) -> str:
        c = self.client
        return (f"OpenAIJudge(model={c.model!r}, base_url={c.base_url!r}, api_key_env={c.api_key_env!r}, "
                f"cache={str(self.cache.path) if self.cache else None!r})")

    def close(self) -> None:
        """Close the HTTP client and the cache."""
        self.client.close()
        if self.cache is not None:
            self.cache.close()

    def compare(self, instruction: str, output_a: str, output_b: str, *, gold: str | None = None) -> Verdict:
        """The verdict from the cache, or from the endpoint (invalid verdicts are cached too: delete the cache
        file to ask again)."""
        key = cache_key(self.model, instruction, output_a, output_b)
        if self.cache is not None and (hit := self.cache.get_many([key]).get(key)) is not None:
            return Verdict(hit["winner"], hit["raw"])
        messages = build_messages(instruction, output_a, output_b)
        text = self.client.complete(messages)
        winner = parse_verdict(text)
        raw = text
        if winner is None:  # one retry with a stricter reminder, then the verdict is recorded as invalid
            retry = self.client.complete([*messages, {"role": "assistant", "content": text},
                                          {"role": "user", "content": REMINDER}])
            winner = parse_verdict(retry)
            raw = f"{text}\n[after reminder] {retry}"
            if winner is None:
                log.warning("judge %s gave no readable verdict twice: %r", self.model, raw[:200])
        verdict = Verdict(winner or "invalid", raw)
        if self.cache is not None:
            self.cache.put_many({key: {"winner": verdict.winner, "raw": verdict.raw}}, self.model, TEMPLATE_VERSION)
        return verdict

    def compare_many(self, items: Sequence[Comparison], *, progress: bool = False) -> list[Verdict]:
        """Judge pairs concurrently (the client's `max_concurrency` in flight), in input order."""
        return self.client.map(lambda c: self.compare(c.instruction, c.output_a, c.output_b), items,
                               progress=progress, desc=f"judge:{self.model}")
