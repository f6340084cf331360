"""One OpenAI-compatible chat-completions client for every LLM judge (hosted APIs, vLLM, llama.cpp servers, ...).

The API key is read from the environment variable `api_key_env` only (None: a keyless local server) and is kept
inside the openai client: it is never part of a repr, a cache, a verdict or a log line. 408, 409, 429, 5xx,
connection errors and timeouts are retried by the openai client itself with exponential backoff (0.5 s doubling up
to 8 s, with jitter, or the server's Retry-After), `max_retries` times. Failures become one-line errors naming the
config key (`where`): a rejected key or an unknown model is a ConfigError, an endpoint that keeps failing a
ModelError.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from safetuned.errors import ConfigError, ModelError

T = TypeVar("T")
R = TypeVar("R")
Messages = list[dict[str, str]]


class ChatClient:
    """`complete(messages) -> str` against one model of one endpoint; `map` runs calls `max_concurrency` at a time."""

    def __init__(self, *, model: str | None, base_url: str | None = None,
                 api_key_env: str | None = "OPENAI_API_KEY", max_retries: int = 5, timeout: float = 60.0,
                 temperature: float = 0.0, max_tokens: int | None = None, max_concurrency: int = 8,
                 where: str = "judge"):
        if not isinstance(model, str) or not model.strip():
            raise ConfigError(f"{where}.model: name the judge model (e.g. gpt-4o, or the model a vLLM server "
                              f"serves), got {model!r}")
        if not isinstance(max_retries, int) or isinstance(max_retries, bool) or max_retries < 0:
            raise ConfigError(f"{where}.max_retries must be an integer >= 0, got {max_retries!r}")
        if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or timeout <= 0:
            raise ConfigError(f"{where}.timeout must be > 0 seconds, got {timeout!r}")
        if not isinstance(temperature, (int, float)) or isinstance(temperature, bool) or temperature < 0:
            raise ConfigError(f"{where}.temperature must be a number >= 0, got {temperature!r}")
        if max_tokens is not None and (not isinstance(max_tokens, int) or isinstance(max_tokens, bool)
                                       or max_tokens < 1):
            raise ConfigError(f"{where}.max_tokens must be a positive integer or null, got {max_tokens!r}")
        if not isinstance(max_concurrency, int) or isinstance(max_concurrency, bool) or max_concurrency < 1:
            raise ConfigError(f"{where}.max_concurrency must be an integer >= 1, got {max_concurrency!r}")
        if api_key_env is not None and (not isinstance(api_key_env, str) or not api_key_env.strip()):
            raise ConfigError(f"{where}.api_key_env: name an environment variable, or null for a keyless server")
        try:
            import openai
        except ImportError:
            raise ConfigError(f"{where}: an OpenAI-compatible judge needs the openai package: "
                              "pip install 'safetuned[judge]'") from None
        self.model = model
        self.base_url = base_url
        self.api_key_env = api_key_env
        self.max_retries = max_retries
        self.temperature = float(temperature)
        self.max_tokens = max_tokens
        self.max_concurrency = max_concurrency
        self.where = where
        self._openai = openai
        self._client = openai.OpenAI(api_key=self._key(), base_url=base_url, timeout=float(timeout),
                                     max_retries=max_retries)
        self.n_requests = 0
        self._count_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"ChatClient(model={self.model!r}, base_url={self.base_url!r}, api_key_env={self.api_key_env!r})"

    def _key(self) -> str:
        if self.api_key_env is None:
            return "EMPTY"  # the openai client refuses an empty key; keyless servers ignore it
        key = os.environ.get(self.api_key_env, "").strip()
        if not key:
            raise ConfigError(f"{self.where}.api_key_env: environment variable {self.api_key_env} is not set "
                              f"(export {self.api_key_env}=..., or api_key_env=null for a keyless local server)")
        return key

    def check(self) -> None:
        """Fail fast (one line) when the key's environment variable has been unset since construction."""
        self._key()

    def close(self) -> None:
        self._client.close()

    def complete(self, messages: Messages) -> str:
        """One chat completion's text ("" when the endpoint returns no content)."""
        kwargs: dict[str, Any] = {"model": self.model, "messages": messages, "temperature": self.temperature}
        if self.max_tokens is not None:
            kwargs["max_tokens"] = self.max_tokens
        with self._count_lock:
            self.n_requests += 1
        openai, url = self._openai, self.base_url or "the OpenAI API"
        try:
            response = self._client.chat.completions.create(**kwargs)
        except (openai.AuthenticationError, openai.PermissionDeniedError) as e:
            whose = f"the key in {self.api_key_env}" if self.api_key_env else "the request (api_key_env=null)"
            raise ConfigError(f"{self.where}.api_key_env: endpoint {url} rejected {whose} "
                              f"(HTTP {e.status_code})") from None
        except openai.NotFoundError as e:
            raise ConfigError(f"{self.where}.model: endpoint {url} does not serve model {self.model!r} "
                              f"(HTTP {e.status_code})") from None
        except openai.APIStatusError as e:
            code = e.status_code
            if code in (408, 409, 429) or code >= 500:
                raise ModelError(f"{self.where}: endpoint {url} failed with HTTP {code} "
                                 f"after {self.max_retries} retries") from None
            detail = " ".join(str(getattr(e, "message", "") or "").split())[:200]
            raise ModelError(f"{self.where}: endpoint {url} refused the request with HTTP {code} ({detail})") from None
        except openai.APIConnectionError as e:  # includes timeouts
            raise ModelError(f"{self.where}: endpoint {url} unreachable after {self.max_retries} retries "
                             f"({type(e).__name__})") from None
        choices = getattr(response, "choices", None) or []
        content = choices[0].message.content if choices and choices[0].message else None
        return content or ""

    def map(self, fn: Callable[[T], R], items: Sequence[T], *, progress: bool = False,
            desc: str | None = None) -> list[R]:
        """`fn` over `items` with `max_concurrency` calls in flight, results in input order."""
        from tqdm.auto import tqdm

        if not items:
            return []
        with ThreadPoolExecutor(min(self.max_concurrency, len(items))) as pool:
            jobs = pool.map(fn, items)
            return list(tqdm(jobs, total=len(items), desc=desc or f"judge:{self.model}", disable=not progress))

    def complete_many(self, conversations: Sequence[Messages], *, progress: bool = False,
                      desc: str | None = None) -> list[str]:
        """`complete` of every conversation, concurrently, in input order."""
        return self.map(self.complete, conversations, progress=progress, desc=desc)
