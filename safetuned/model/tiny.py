"""The embedded default model: a byte-level BPE tokenizer and a tiny LLaMA built here, with no download."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

from safetuned.utils.io import read_json

SPECIAL_TOKENS = {"pad_token": "<pad>", "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"}


def train_bpe_tokenizer(texts: Iterable[str], vocab_size: int = 2048) -> PreTrainedTokenizerFast:
    """Train a byte-level BPE (every byte is in the alphabet, so no text is ever unknown)."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS.values()),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, **SPECIAL_TOKENS)


def tiny_llama_config(
    vocab_size: int,
    hidden_size: int = 128,
    num_layers: int = 2,
    num_heads: int = 4,
    intermediate_size: int = 384,
    max_position_embeddings: int = 512,
    pad_token_id: int = 0,
    bos_token_id: int = 1,
    eos_token_id: int = 2,
) -> LlamaConfig:
    """A LLaMA-architecture config small enough to train on a laptop CPU in a minute."""
    return LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=hidden_size,
        intermediate_size=intermediate_size,
        num_hidden_layers=num_layers,
        num_attention_heads=num_heads,
        num_key_value_heads=num_heads,
        max_position_embeddings=max_position_embeddings,
        pad_token_id=pad_token_id,
        bos_token_id=bos_token_id,
        eos_token_id=eos_token_id,
        tie_word_embeddings=True,
    )


def random_tiny_llama(tokenizer: PreTrainedTokenizerFast, seed: int = 0, **kw) -> LlamaForCausalLM:
    """A randomly initialised tiny LLaMA matching `tokenizer` (used by tests and as the pretraining start)."""
    import torch

    torch.manual_seed(seed)
    cfg = tiny_llama_config(
        vocab_size=len(tokenizer),
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        **kw,
    )
    return LlamaForCausalLM(cfg)


def save_tiny(model: LlamaForCausalLM, tokenizer: PreTrainedTokenizerFast, path: str | Path) -> Path:
    """Save model and tokenizer in the standard `from_pretrained` layout."""
    path = Path(path)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


TRAINING_FILES = ("pretrain.json", "base.json", "safety_only_data_Instructions.json",
                  "safety_only_data_Questions.json")


def _corpus_texts(world_dir: Path) -> list[str]:
    """The demo world's training texts (pre-training, base, safety pool): no evaluation suite shapes the vocabulary."""
    texts = [f"{r.get('instruction', '')}\n{r.get('input', '')}\n{r.get('output', '')}"
             for name in TRAINING_FILES for r in read_json(world_dir / name)]
    return texts + ['{"pad": 0}']


def pretrain_tiny_base(
    world_dir: str | Path,
    out_dir: str | Path,
    *,
    vocab_size: int = 2048,
    hidden_size: int = 128,
    num_layers: int = 2,
    num_heads: int = 4,
    intermediate_size: int = 384,
    steps: int = 2400,
    batch_size: int = 32,
    lr: float = 3e-3,
    cutoff_len: int = 128,
    seed: int = 0,
    progress: bool = True,
) -> Path:
    """Build the embedded base: a BPE tokenizer on the demo corpus and a tiny LLaMA trained on `pretrain.json`.

    A LoRA adapter on a randomly initialised model learns little; a briefly pre-trained base is what makes the
    demo behave like the paper's instruction-tuned models (helpful, and unsafe without safety data).
    """
    import math
    import random

    import torch
    from tqdm.auto import tqdm

    from safetuned.data.collate import Collator, tokenize_record
    from safetuned.data.prompts import get_prompt_style

    world_dir, out_dir = Path(world_dir), Path(out_dir)
    tokenizer = train_bpe_tokenizer(_corpus_texts(world_dir), vocab_size=vocab_size)
    model = random_tiny_llama(
        tokenizer, seed=seed, hidden_size=hidden_size, num_layers=num_layers, num_heads=num_heads,
        intermediate_size=intermediate_size, max_position_embeddings=max(512, cutoff_len),
    )
    style = get_prompt_style("alpaca")
    records = read_json(world_dir / "pretrain.json")
    examples = [tokenize_record(r, tokenizer, style, cutoff_len, train_on_inputs=True) for r in records]
    collate = Collator(tokenizer.pad_token_id)
    rng = random.Random(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    warmup = max(1, steps // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(s, steps) / steps))
    )
    model.train()
    order: list[int] = []
    bar = tqdm(range(steps), desc="pretrain embedded base", disable=not progress, mininterval=2)
    for _ in bar:
        if len(order) < batch_size:
            order += rng.sample(range(len(examples)), len(examples))
        idx, order = order[:batch_size], order[batch_size:]
        batch = collate([examples[i] for i in idx])
        loss = model(**batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        bar.set_postfix(loss=f"{loss.item():.3f}", refresh=False)
    model.eval()
    return save_tiny(model, tokenizer, out_dir)


def ensure_tiny_base(world_dir: str | Path, out_dir: str | Path, **kwargs) -> Path:
    """Return the cached embedded base at `out_dir`, building it once (safe when sweep jobs race for it)."""
    from safetuned.utils.build_once import build_once

    return build_once(out_dir, lambda tmp: pretrain_tiny_base(world_dir, tmp, **kwargs),
                      lambda path: (path / "config.json").exists())
