"""The base of LLM judges behind an OpenAI-compatible endpoint (`xstest_llm`, `strongreject`): one client with
retries and a key read from the environment, one request per answer, `max_concurrency` in flight."""

from __future__ import annotations

from typing import Any, ClassVar

from safetuned.eval.judges.openai_client import ChatClient
from safetuned.eval.scorers.base import Item, Scorer


class ChatJudge(Scorer):
    """Subclasses set `name`, `measures`, `prompt_version`, `default_max_tokens` and implement `_judge(item)`."""

    prompt_version: ClassVar[str] = ""
    default_max_tokens: ClassVar[int | None] = 32

    def __init__(self, *, model: str | None = None, base_url: str | None = None,
                 api_key_env: str | None = "OPENAI_API_KEY", max_retries: int = 5, timeout: float = 60.0,
                 max_concurrency: int = 8, temperature: float = 0.0, max_tokens: int | None | str = "default"):
        self.client = ChatClient(model=model, base_url=base_url, api_key_env=api_key_env, max_retries=max_retries,
                                 timeout=timeout, temperature=temperature,
                                 max_tokens=self.default_max_tokens if max_tokens == "default" else max_tokens,
                                 max_concurrency=max_concurrency, where=f"eval.scorers.{self.name}")

    def __repr__(self) -> str:
        c = self.client
        return f"{type(self).__name__}(model={c.model!r}, base_url={c.base_url!r}, api_key_env={c.api_key_env!r})"

    def check(self) -> None:
        """The key's environment variable is set (the model and options were checked at construction)."""
        self.client.where = f"eval.scorers.{self.label or self.name}"
        self.client.check()

    def revision(self) -> str:
        return f"{self.client.model}|t={self.client.temperature}|{self.prompt_version}"

    def _judge(self, item: Item) -> dict[str, Any]:
        raise NotImplementedError

    def _score(self, items: list[Item], *, progress: bool = True) -> list[dict[str, Any]]:
        self.client.where = f"eval.scorers.{self.label or self.name}"  # errors name the label the user wrote
        return self.client.map(self._judge, items, progress=progress, desc=self.label or self.name)

    def close(self) -> None:
        self.client.close()
