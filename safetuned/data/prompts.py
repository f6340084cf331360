"""Prompt styles: how an (instruction, input) pair becomes the text a model completes, saved beside each adapter."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from safetuned.errors import ConfigError, DataError
from safetuned.utils.io import read_json, write_json_atomic

PROMPT_FILE = "prompt.json"

# The Stanford Alpaca templates (tatsu-lab/stanford_alpaca), used verbatim by the paper.
ALPACA_WITH_INPUT = (
    "Below is an instruction that describes a task, paired with an input that provides further context. "
    "Write a response that appropriately completes the request.\n\n"
    "### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:\n"
)
ALPACA_NO_INPUT = (
    "Below is an instruction that describes a task. "
    "Write a response that appropriately completes the request.\n\n"
    "### Instruction:\n{instruction}\n\n### Response:\n"
)


class PromptStyle(ABC):
    """Renders the whole prompt, up to and including the response marker, ready for generation.

    Styles are registered by name (`@register_style`): a new style is one class here or in any module, with
    `create` (from the config's name and the model's tokenizer) and `from_dict` (from the saved prompt.json).
    """

    name: str

    @classmethod
    def create(cls, tokenizer=None) -> PromptStyle:
        """The style for a model (`prompt.name=<name>`); `tokenizer` is the model's, for styles that read it."""
        return cls()

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PromptStyle:
        """The style that `to_dict()` described."""
        return cls()

    @abstractmethod
    def render(self, instruction: str, input: str = "") -> str:
        """The prompt text for one example."""

    @abstractmethod
    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable description that `style_from_dict` turns back into an identical style."""


_STYLES: dict[str, type[PromptStyle]] = {}


def register_style(cls: type[PromptStyle]) -> type[PromptStyle]:
    """Class decorator: make a prompt style available as `prompt.name=<its name>`."""
    _STYLES[cls.name] = cls
    return cls


@register_style
@dataclass(frozen=True)
class AlpacaStyle(PromptStyle):
    """The Stanford Alpaca template (with-input and no-input variants)."""

    name: str = "alpaca"

    def render(self, instruction: str, input: str = "") -> str:
        if input:
            return ALPACA_WITH_INPUT.format(instruction=instruction, input=input)
        return ALPACA_NO_INPUT.format(instruction=instruction)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name}


@register_style
@dataclass(frozen=True)
class ChatStyle(PromptStyle):
    """A tokenizer's chat template with one user turn and the generation prompt appended."""

    template: str
    special_tokens: dict[str, str] = field(default_factory=dict)
    name: str = "chat"

    @classmethod
    def create(cls, tokenizer=None) -> ChatStyle:
        if tokenizer is None:
            raise ConfigError("prompt.name=chat needs the model's tokenizer to read its chat template")
        template = getattr(tokenizer, "chat_template", None)
        if isinstance(template, dict):  # several named templates: the default one is what chat models use
            template = template.get("default")
        if not template:
            raise ConfigError(
                "prompt.name=chat but the tokenizer has no chat template; use prompt=alpaca (allowed: alpaca, chat)"
            )
        specials = {k: str(v) for k, v in tokenizer.special_tokens_map.items() if isinstance(v, str)}
        return cls(template=template, special_tokens=specials)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ChatStyle:
        if not isinstance(d.get("template"), str):
            raise DataError("prompt.json: a chat style needs its 'template' string")
        return cls(template=d["template"], special_tokens=dict(d.get("special_tokens") or {}))

    def render(self, instruction: str, input: str = "") -> str:
        from transformers.utils.chat_template_utils import render_jinja_template

        content = f"{instruction}\n\n{input}" if input else instruction
        rendered, _ = render_jinja_template(
            [[{"role": "user", "content": content}]],
            chat_template=self.template,
            add_generation_prompt=True,
            **self.special_tokens,
        )
        return rendered[0]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "template": self.template, "special_tokens": dict(self.special_tokens)}


def known_styles() -> list[str]:
    return sorted(_STYLES)


def get_prompt_style(name: str, tokenizer=None) -> PromptStyle:
    """The registered style called `name`, made for the model's `tokenizer` (`chat` reads its template)."""
    if name not in _STYLES:
        raise ConfigError(f"prompt.name={name!r} is not a known prompt style (allowed: {', '.join(sorted(_STYLES))})")
    return _STYLES[name].create(tokenizer)


def style_from_dict(d: dict[str, Any]) -> PromptStyle:
    """Rebuild a style from `to_dict()` output."""
    name = d.get("name")
    if name not in _STYLES:
        raise DataError(f"prompt.json: unknown prompt style {name!r} (allowed: {', '.join(sorted(_STYLES))})")
    return _STYLES[name].from_dict(d)


def save_prompt_style(style: PromptStyle, folder: str | Path) -> Path:
    """Write `folder/prompt.json`."""
    path = Path(folder) / PROMPT_FILE
    write_json_atomic(path, style.to_dict())
    return path


def load_prompt_style(folder: str | Path, tokenizer=None) -> PromptStyle:
    """Read `folder/prompt.json`; the saved template wins over the tokenizer's so renders stay identical."""
    path = Path(folder) / PROMPT_FILE
    if not path.exists():
        raise DataError(f"{path} is missing: the adapter folder has no saved prompt style")
    try:
        data = read_json(path)
    except ValueError as e:
        raise DataError(f"{path} is not valid JSON ({e})") from None
    if not isinstance(data, dict):
        raise DataError(f"{path} must hold a JSON object with a 'name' key")
    return style_from_dict(data)
