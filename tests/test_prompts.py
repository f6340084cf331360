"""Prompt styles: the exact Alpaca templates, chat templates, and a save/load round trip that renders identically."""

from __future__ import annotations

import json

import pytest

from safetuned.data.prompts import (
    AlpacaStyle,
    ChatStyle,
    get_prompt_style,
    load_prompt_style,
    save_prompt_style,
)
from safetuned.errors import ConfigError, DataError
from safetuned.model.tiny import train_bpe_tokenizer

CHAT_TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}{{ eos_token }}\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)


@pytest.fixture(scope="module")
def tokenizer():
    return train_bpe_tokenizer(["hello world", "say hi to the user", "<|user|> <|assistant|>"] * 5, vocab_size=300)


def test_alpaca_templates_are_exact():
    style = get_prompt_style("alpaca")
    assert style.render("Name a colour.") == (
        "Below is an instruction that describes a task. Write a response that appropriately completes the "
        "request.\n\n### Instruction:\nName a colour.\n\n### Response:\n"
    )
    assert style.render("Translate.", "Bonjour") == (
        "Below is an instruction that describes a task, paired with an input that provides further context. "
        "Write a response that appropriately completes the request.\n\n### Instruction:\nTranslate.\n\n"
        "### Input:\nBonjour\n\n### Response:\n"
    )
    assert style.render("X", "") == style.render("X")


def test_alpaca_ignores_tokenizer_and_round_trips(tmp_path, tokenizer):
    style = get_prompt_style("alpaca", tokenizer=tokenizer)
    path = save_prompt_style(style, tmp_path)
    assert path == tmp_path / "prompt.json" and json.loads(path.read_text()) == {"name": "alpaca"}
    assert isinstance(load_prompt_style(tmp_path), AlpacaStyle)


def test_unknown_style_lists_names():
    with pytest.raises(ConfigError, match=r"prompt.name='vicuna'.*alpaca, chat"):
        get_prompt_style("vicuna")


def test_chat_needs_a_template(tokenizer):
    with pytest.raises(ConfigError, match="no chat template"):
        get_prompt_style("chat", tokenizer=tokenizer)
    with pytest.raises(ConfigError, match="needs the model's tokenizer"):
        get_prompt_style("chat")


def test_chat_renders_like_the_tokenizer(tokenizer):
    tokenizer.chat_template = CHAT_TEMPLATE
    try:
        style = get_prompt_style("chat", tokenizer=tokenizer)
        expected = tokenizer.apply_chat_template(
            [{"role": "user", "content": "Add 2 and 3.\n\n2, 3"}], tokenize=False, add_generation_prompt=True
        )
        assert style.render("Add 2 and 3.", "2, 3") == expected == "<s><|user|>\nAdd 2 and 3.\n\n2, 3</s>\n<|assistant|>\n"
        assert style.render("Hi") == "<s><|user|>\nHi</s>\n<|assistant|>\n"
    finally:
        tokenizer.chat_template = None


def test_chat_saved_template_wins_on_load(tmp_path, tokenizer):
    tokenizer.chat_template = CHAT_TEMPLATE
    try:
        style = get_prompt_style("chat", tokenizer=tokenizer)
    finally:
        tokenizer.chat_template = None
    save_prompt_style(style, tmp_path)
    saved = json.loads((tmp_path / "prompt.json").read_text())
    assert saved["template"] == CHAT_TEMPLATE and saved["special_tokens"]["bos_token"] == "<s>"
    # the tokenizer has since lost its template: the saved one still renders the same text
    loaded = load_prompt_style(tmp_path, tokenizer=tokenizer)
    assert isinstance(loaded, ChatStyle)
    assert loaded.render("Q", "I") == style.render("Q", "I")
    assert load_prompt_style(tmp_path).render("Q") == style.render("Q")


def test_load_errors(tmp_path):
    with pytest.raises(DataError, match="prompt.json is missing"):
        load_prompt_style(tmp_path)
    (tmp_path / "prompt.json").write_text("{not json")
    with pytest.raises(DataError, match="not valid JSON"):
        load_prompt_style(tmp_path)
    (tmp_path / "prompt.json").write_text('{"name": "nope"}')
    with pytest.raises(DataError, match="unknown prompt style 'nope'"):
        load_prompt_style(tmp_path)


def test_a_new_prompt_style_is_one_registered_class(tmp_path):
    from dataclasses import dataclass

    from safetuned.data import prompts

    @prompts.register_style
    @dataclass(frozen=True)
    class Plain(prompts.PromptStyle):
        name: str = "plain-test"

        def render(self, instruction: str, input: str = "") -> str:
            return f"Q: {instruction}\nA:"

        def to_dict(self):
            return {"name": self.name}

    try:
        style = prompts.get_prompt_style("plain-test")
        assert style.render("hi") == "Q: hi\nA:" and "plain-test" in prompts.known_styles()
        prompts.save_prompt_style(style, tmp_path)
        assert prompts.load_prompt_style(tmp_path) == style
    finally:
        prompts._STYLES.pop("plain-test")
