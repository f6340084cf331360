"""What the generative guard judges share (WildGuard, Llama Guard 3, the HarmBench classifiers): loading, fitting
inputs to a length budget, batched greedy generation with token probabilities, and the judge skeleton.

Each judge renders one prompt text per item in its model card's format and parses the answer; this module does the
rest, the same way for all three:

- Loading: `AutoTokenizer` and `AutoModelForCausalLM` from `hub.judge_source(model)`; on CUDA in bf16 when a GPU is
  there and `device` is unset (or names cuda), else on the CPU in fp32.
- Overlong inputs: only the response is cut, from its end, until the whole prompt fits `max_length` tokens; the
  card's fixed text, the request and the answer cue ("Answers: [/INST]", "Answer: [/INST]", the assistant header)
  stay whole. A tokenizer with `truncation_side="left"` (as in the HarmBench notebook) would cut the instructions
  instead. A prompt still over budget with an empty response is kept whole; the verdict says `truncated`.
- Batches: prompts sorted longest first (similar lengths share a batch; an out-of-memory shows at once), left-padded
  so every row ends where generation continues, greedy `model.generate`, answers put back in input order.
- Probabilities: a logits processor records, at every generated step, the softmax over the whole vocabulary of a
  few watched token ids (greedy with repetition_penalty 1: no other processor changes the logits first).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from safetuned.errors import ConfigError, ModelError, first_line
from safetuned.eval.scorers.base import Item, Scorer
from safetuned.eval.scorers.hub import judge_source, load_judge_config, local_fingerprint

log = logging.getLogger(__name__)

RAW_CHARS = 500  # the judge's raw answer kept with each verdict


@dataclass
class Generation:
    """A judge's answer to one prompt: the text, each new token alone, and the watched probabilities per step."""

    text: str  # the new tokens decoded, special tokens skipped
    pieces: list[str] = field(default_factory=list)  # each new token decoded alone, special tokens kept
    watched: list[list[float]] = field(default_factory=list)  # per step: probability of each watched token id


def pick_device(device: str | None) -> tuple[str, Any]:
    """(device, dtype): the GPU in bf16 when there is one and none is named, else the named device (fp32 off CUDA)."""
    import torch

    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    return device, (torch.bfloat16 if device.startswith("cuda") else torch.float32)


def load_tokenizer(name: str, revision: str | None, key: str):
    """The judge's tokenizer, or a one-line ModelError naming `key`."""
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(judge_source(name), revision=revision)
    except (OSError, ValueError, TypeError) as e:
        raise ModelError(f"{key}: cannot load the tokenizer of {name!r} ({first_line(e)})") from None


def load_model(name: str, revision: str | None, key: str, device: str | None):
    """The judge's causal LM in eval mode on `pick_device(device)`, or a one-line ModelError naming `key`."""
    from transformers import AutoModelForCausalLM

    device, dtype = pick_device(device)
    kwargs: dict[str, Any] = {"dtype": dtype, "revision": revision}
    if device.startswith("cuda"):
        kwargs["device_map"] = device  # straight onto the GPU: a 13B judge need not fit in host memory first
    try:
        model = AutoModelForCausalLM.from_pretrained(judge_source(name), **kwargs)
    except OSError as e:
        raise ModelError(f"{key}: cannot load the weights of {name!r} ({first_line(e)})") from None
    if not device.startswith("cuda"):
        model.to(device)
    log.info("judge %s loaded on %s (%s)", name, device, str(dtype).removeprefix("torch."))
    return model.eval()


def pad_id(tokenizer) -> int:
    """The id left padding uses: the pad token, else end-of-sequence, else 0 (as the Llama Guard cards pass)."""
    for tid in (tokenizer.pad_token_id, tokenizer.eos_token_id):
        if tid is not None:
            return tid
    return 0


def single_token_id(tokenizer, word: str) -> int | None:
    """The id of `word` when the tokenizer writes it as one token (no special tokens added), else None."""
    ids = tokenizer.encode(word, add_special_tokens=False)
    return ids[0] if len(ids) == 1 else None


def clip_text(text: str, tokenizer, max_tokens: int) -> str:
    """`text` cut to its first `max_tokens` tokens (unchanged when it is that short)."""
    ids = tokenizer.encode(text, add_special_tokens=False)
    return text if len(ids) <= max_tokens else tokenizer.decode(ids[:max_tokens], skip_special_tokens=True)


def fit_prompt(render: Callable[[str], str], response: str, tokenizer, max_length: int, *,
               add_special_tokens: bool) -> tuple[list[int], bool]:
    """Token ids of `render(response)` with the response cut from its end until they fit `max_length`; and
    whether the response was cut."""
    ids = tokenizer.encode(render(response), add_special_tokens=add_special_tokens)
    if len(ids) <= max_length:
        return ids, False
    kept = tokenizer.encode(response, add_special_tokens=False)
    for _ in range(4):  # tokens can merge differently across the cut: a few passes settle the length
        kept = kept[:max(0, len(kept) - (len(ids) - max_length))]
        ids = tokenizer.encode(render(tokenizer.decode(kept, skip_special_tokens=True)),
                               add_special_tokens=add_special_tokens)
        if len(ids) <= max_length or not kept:
            break
    return ids, True


def _until_eos(tokens: list[int], eos_ids: set[int]) -> list[int]:
    """The generated tokens up to and including the first end-of-sequence (generate pads finished rows after it)."""
    for n, t in enumerate(tokens):
        if t in eos_ids:
            return tokens[:n + 1]
    return tokens


def generate(model, tokenizer, prompts: Sequence[list[int]], *, batch_size: int, max_new_tokens: int,
             watch: Sequence[int] = (), progress: bool = False, desc: str = "judge") -> list[Generation]:
    """Greedy answers to token-id prompts, in input order, with the probabilities of `watch` at every step."""
    import torch
    from tqdm.auto import tqdm
    from transformers import GenerationConfig, LogitsProcessor, LogitsProcessorList

    from safetuned.eval.greedy import left_pad

    watch = list(watch)

    class Recorder(LogitsProcessor):
        def __init__(self) -> None:
            self.steps: list[torch.Tensor] = []

        def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
            self.steps.append(scores.float().softmax(-1)[:, watch].cpu())
            return scores

    eos = model.generation_config.eos_token_id
    eos = tokenizer.eos_token_id if eos is None else eos
    eos_ids = {t for t in (eos if isinstance(eos, list) else [eos]) if t is not None}
    config = GenerationConfig(max_new_tokens=max_new_tokens, do_sample=False, num_beams=1, repetition_penalty=1.0,
                              pad_token_id=pad_id(tokenizer), eos_token_id=eos)
    order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]), reverse=True)
    batches = [order[s:s + batch_size] for s in range(0, len(order), batch_size)]
    out: list[Generation] = [Generation("")] * len(prompts)
    with torch.inference_mode():
        for idx in tqdm(batches, desc=desc, disable=not progress, leave=False):
            ids, mask = left_pad([prompts[i] for i in idx], config.pad_token_id, model.device)
            recorder = Recorder()
            seqs = model.generate(input_ids=ids, attention_mask=mask, generation_config=config,
                                  logits_processor=LogitsProcessorList([recorder] if watch else []))
            new = seqs[:, ids.shape[1]:].tolist()
            for row, i in enumerate(idx):
                tokens = _until_eos(new[row], eos_ids)
                out[i] = Generation(
                    text=tokenizer.decode(tokens, skip_special_tokens=True),
                    pieces=[tokenizer.decode([t]) for t in tokens],
                    watched=[step[row].tolist() for step in recorder.steps[:len(tokens)]],
                )
    return out


class GuardJudge(Scorer):
    """A causal-LM guard judge: each item rendered in its card's format, answered greedily, the answer parsed.

    Subclasses set `name`, `measures`, `default_model`, `prompt_version` and implement `render` and `parse`.
    """

    default_model: ClassVar[str] = ""
    prompt_version: ClassVar[int] = 1  # bump when the prompt or the parser changes (cached verdicts are keyed on it)
    add_special_tokens: ClassVar[bool] = True  # whether the tokenizer adds its BOS to the rendered text

    def __init__(self, *, model: str, batch_size: int, device: str | None, max_length: int, max_new_tokens: int,
                 revision: str | None) -> None:
        where = f"eval.scorers.{self.name}"
        if not isinstance(model, str) or not model.strip():
            raise ConfigError(f"{where}.model: expected a hub id or a local folder, got {model!r}")
        for opt, value, low in (("batch_size", batch_size, 1), ("max_length", max_length, 64),
                                ("max_new_tokens", max_new_tokens, 1)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ConfigError(f"{where}.{opt}: expected an integer >= {low}, got {value!r}")
        if device is not None and not (isinstance(device, str) and re.fullmatch(r"cpu|mps|cuda(:\d+)?", device)):
            raise ConfigError(f"{where}.device: expected null (the GPU when there is one), cpu, cuda or cuda:N, "
                              f"got {device!r}")
        if revision is not None and not (isinstance(revision, str) and revision.strip()):
            raise ConfigError(f"{where}.revision: expected null or a branch, tag or commit, got {revision!r}")
        self.model_name = model
        self.batch_size = batch_size
        self.device = device
        self.max_length = max_length
        self.max_new_tokens = max_new_tokens
        self.model_revision = revision
        self.model = None
        self.tokenizer = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model={self.model_name!r}, batch_size={self.batch_size}, device={self.device!r})"

    def key(self, option: str) -> str:
        """The config key of one of this scorer's options, for error messages."""
        return f"eval.scorers.{self.label or self.name}.{option}"

    def check(self):
        """A named CUDA device must exist, and the model's config must load and name a `*ForCausalLM`; returns
        the config."""
        import torch

        if (self.device or "").startswith("cuda") and not torch.cuda.is_available():
            raise ConfigError(f"{self.key('device')}: {self.device!r} but torch sees no CUDA GPU here; "
                              "leave it null to use the GPU when there is one, else the CPU")
        return load_judge_config(self.model_name, self.key("model"), architectures=("ForCausalLM",),
                                 example=self.default_model, revision=self.model_revision)

    def revision(self) -> str:
        model = f"{self.model_name}{local_fingerprint(self.model_name)}@{self.model_revision or 'main'}"
        return "|".join([model, f"prompt-v{self.prompt_version}",
                         f"max_length={self.max_length}", f"max_new_tokens={self.max_new_tokens}",
                         *self.revision_extras()])

    def revision_extras(self) -> list[str]:
        """Further options that change verdicts, for `revision()`."""
        return []

    def load(self) -> GuardJudge:
        """Check, then load tokenizer and model once."""
        if self.model is None:
            self.check()
            if self.tokenizer is None:
                self.tokenizer = load_tokenizer(self.model_name, self.model_revision, self.key("model"))
            self.model = load_model(self.model_name, self.model_revision, self.key("model"), self.device)
        return self

    def watch_ids(self) -> list[int]:
        """Token ids whose probabilities `parse` reads (none by default)."""
        return []

    def render(self, item: Item) -> str:
        """The judge's input text for one item, in its card's format."""
        raise NotImplementedError

    def parse(self, gen: Generation) -> dict[str, Any]:
        """The verdict fields read from one answer, with `parse_error`."""
        raise NotImplementedError

    def fit(self, item: Item) -> tuple[list[int], bool]:
        """The token ids of the rendered item within `max_length`, and whether the response was cut."""
        return fit_prompt(lambda r: self.render(item._replace(response=r)), item.response, self.tokenizer,
                          self.max_length, add_special_tokens=self.add_special_tokens)

    def _score(self, items: list[Item], *, progress: bool = True) -> list[dict[str, Any]]:
        if not items:
            return []
        self.load()
        fitted = [self.fit(it) for it in items]
        answers = generate(self.model, self.tokenizer, [ids for ids, _ in fitted], batch_size=self.batch_size,
                           max_new_tokens=self.max_new_tokens, watch=self.watch_ids(), progress=progress,
                           desc=self.label or self.name)
        return [{**self.parse(a), "raw": a.text[:RAW_CHARS], "truncated": cut} for a, (_, cut) in zip(answers, fitted)]

    def release(self) -> None:
        """Drop the weights and give their GPU memory back (the tokenizer stays: it is small)."""
        if self.model is None:
            return
        import gc

        import torch

        self.model = None
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
