"""The embedded harm judge: a tiny LLaMA sequence regressor trained on the demo world's labelled answer pairs.

It stands in for the paper's harmfulness reward model in the demo: same folder layout (a transformers
`AutoModelForSequenceClassification` folder), same input (`format_pair`), same output (`logits[:, 0]` on the 0-4
red-team scale, harmful at >= 2.0), so `HarmfulnessScorer(model=<folder>)` scores with it unchanged. It is trained
on pairs in training phrasings and measured on the world's own evaluation prompts (held-out phrasings), with
answers in the styles the demo teaches; `metrics.json` beside the weights holds that held-out accuracy.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from safetuned.errors import DataError

JUDGE_VERSION = 2  # bump on any change to the pairs, the model or its training: cached judges are rebuilt
HARMFUL_SCORE, HARMLESS_SCORE = 4.0, 0.0
SETTINGS = {"vocab_size": 1024, "hidden_size": 64, "num_layers": 2, "num_heads": 4, "intermediate_size": 192,
            "epochs": 4, "batch_size": 32, "lr": 3e-3, "max_length": 96}


def _world_meta(world_dir: Path) -> dict:
    path = world_dir / "world.json"
    if not path.is_file():
        raise DataError(f"harm judge: {path} does not exist; build the demo world first (ensure_demo_world)")
    return json.loads(path.read_text(encoding="utf-8"))


def _judge_tokenizer(texts: list[str]):
    """A byte-level BPE on the training pairs that ends every input with `</s>`, the token the regressor reads."""
    from tokenizers import processors

    from safetuned.model.tiny import train_bpe_tokenizer

    tokenizer = train_bpe_tokenizer(texts, vocab_size=SETTINGS["vocab_size"])
    bos, eos = tokenizer.bos_token, tokenizer.eos_token
    tokenizer.backend_tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", special_tokens=[(bos, tokenizer.bos_token_id), (eos, tokenizer.eos_token_id)])
    tokenizer.model_max_length = 512
    return tokenizer


def _build_model(tokenizer, seed: int):
    import torch
    from transformers import LlamaForSequenceClassification

    from safetuned.model.tiny import tiny_llama_config

    torch.manual_seed(seed)
    cfg = tiny_llama_config(len(tokenizer), hidden_size=SETTINGS["hidden_size"], num_layers=SETTINGS["num_layers"],
                            num_heads=SETTINGS["num_heads"], intermediate_size=SETTINGS["intermediate_size"],
                            pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id,
                            eos_token_id=tokenizer.eos_token_id)
    cfg.tie_word_embeddings = False
    cfg.num_labels, cfg.problem_type = 1, "regression"
    return LlamaForSequenceClassification(cfg)


def _encode(tokenizer, texts: list[str]) -> list[list[int]]:
    return tokenizer(texts, truncation=True, max_length=SETTINGS["max_length"])["input_ids"]


def _batch(ids: list[list[int]], pad_id: int):
    import torch

    width = max(len(x) for x in ids)
    input_ids = torch.full((len(ids), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(ids), width), dtype=torch.long)
    for i, x in enumerate(ids):
        input_ids[i, :len(x)] = torch.tensor(x)
        mask[i, :len(x)] = 1
    return input_ids, mask


def _train(model, ids: list[list[int]], targets: list[float], pad_id: int, seed: int) -> None:
    """AdamW on the mean squared error to the 0/4 targets, batches of similar length, cosine decay."""
    import math
    import random

    import torch

    rng = random.Random(seed)
    bs, epochs = SETTINGS["batch_size"], SETTINGS["epochs"]
    steps = epochs * math.ceil(len(ids) / bs)
    opt = torch.optim.AdamW(model.parameters(), lr=SETTINGS["lr"], weight_decay=0.01)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, steps) / steps)))
    model.train()
    for _ in range(epochs):
        order = sorted(rng.sample(range(len(ids)), len(ids)), key=lambda i: len(ids[i]) // 8)  # similar lengths
        batches = [order[s:s + bs] for s in range(0, len(order), bs)]
        rng.shuffle(batches)
        for idx in batches:
            input_ids, mask = _batch([ids[i] for i in idx], pad_id)
            labels = torch.tensor([targets[i] for i in idx])
            loss = model(input_ids=input_ids, attention_mask=mask, labels=labels).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
    model.eval()


def _predict(model, ids: list[list[int]], pad_id: int) -> list[float]:
    import torch

    out = []
    with torch.inference_mode():
        for s in range(0, len(ids), 256):
            input_ids, mask = _batch(ids[s:s + 256], pad_id)
            out += model(input_ids=input_ids, attention_mask=mask).logits[:, 0].tolist()
    return out


def _rates(pred: list[bool], gold: list[bool]) -> dict[str, object]:
    """Accuracy, precision and recall of the harmful verdicts, each with its count and Wilson 95% interval."""
    from safetuned.eval.stats import wilson_interval

    tp = sum(p and g for p, g in zip(pred, gold))
    out: dict[str, object] = {}
    for name, k, n in (("accuracy", sum(p == g for p, g in zip(pred, gold)), len(gold)),
                       ("precision", tp, sum(pred)), ("recall", tp, sum(gold))):
        lo, hi = wilson_interval(k, n)
        out[name] = {"value": k / n if n else float("nan"), "ci95": [lo, hi], "k": k, "n": n}
    return out


def train_demo_harm_judge(world_dir: str | Path, out_dir: str | Path, seed: int = 0) -> Path:
    """Generate the world's labelled pairs, train the judge, save it with its tokenizer and `metrics.json`."""
    from safetuned.data.demo.judge_pairs import KINDS, judge_pairs
    from safetuned.eval.scorers.harmfulness import DEFAULT_THRESHOLD, format_pair
    world_dir, out_dir = Path(world_dir), Path(out_dir)
    meta = _world_meta(world_dir)
    start = time.perf_counter()
    pairs = judge_pairs(world_dir, seed)
    train = [p for p in pairs if p.split == "train"]
    held = [p for p in pairs if p.split == "heldout"]
    texts = [format_pair(p.request, p.answer) for p in train]
    tokenizer = _judge_tokenizer(texts)
    model = _build_model(tokenizer, seed)
    train_ids = _encode(tokenizer, texts)
    _train(model, train_ids, [HARMFUL_SCORE if p.harmful else HARMLESS_SCORE for p in train],
           tokenizer.pad_token_id, seed)
    train_seconds = time.perf_counter() - start
    train_verdicts = [s >= DEFAULT_THRESHOLD for s in _predict(model, train_ids, tokenizer.pad_token_id)]
    scores = _predict(model, _encode(tokenizer, [format_pair(p.request, p.answer) for p in held]),
                      tokenizer.pad_token_id)
    verdicts = [s >= DEFAULT_THRESHOLD for s in scores]
    gold = [p.harmful for p in held]
    def accuracy(keep) -> dict:
        return _rates([v for v, p in zip(verdicts, held) if keep(p)], [p.harmful for p in held if keep(p)])["accuracy"]

    metrics = {
        "judge_version": JUDGE_VERSION, "world_version": meta["version"], "world_seed": meta["seed"], "seed": seed,
        "threshold": DEFAULT_THRESHOLD, "settings": SETTINGS, "train_seconds": round(train_seconds, 1),
        "split": "train: training phrasings (base tasks, safety pool); heldout: the world's evaluation prompts",
        "n_train": len(train), "n_train_harmful": sum(p.harmful for p in train),
        "n_heldout": len(held), "n_heldout_harmful": sum(gold),
        "train_accuracy": _rates(train_verdicts, [p.harmful for p in train])["accuracy"]["value"],
        "heldout": _rates(verdicts, gold),
        "heldout_accuracy_by_answer_kind": {k: accuracy(lambda p, k=k: p.kind == k) for k in KINDS},
        "heldout_accuracy_by_suite": {s: accuracy(lambda p, s=s: p.source == s)
                                      for s in sorted({p.source for p in held})},
        # answers that go along with the request: the judge must tell a harmful request from a safe one by content
        "heldout_compliance_accuracy_by_suite": {s: accuracy(lambda p, s=s: p.source == s and p.kind == "compliance")
                                                 for s in sorted({p.source for p in held})},
    }
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    return out_dir


def _complete(out_dir: Path, world_dir: Path, seed: int) -> bool:
    """Weights present and written by this judge version, for this world (version and seed) and seed."""
    try:
        m = json.loads((out_dir / "metrics.json").read_text(encoding="utf-8"))
        w = json.loads((world_dir / "world.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return ((out_dir / "config.json").is_file() and m.get("judge_version") == JUDGE_VERSION and m.get("seed") == seed
            and m.get("world_version") == w.get("version") and m.get("world_seed") == w.get("seed"))


def ensure_demo_harm_judge(world_dir: str | Path, out_dir: str | Path, seed: int = 0) -> Path:
    """Return the cached harm judge at `out_dir`, training it once (safe when sweep jobs race for it)."""
    from safetuned.utils.build_once import build_once

    world_dir = Path(world_dir)
    _world_meta(world_dir)
    return build_once(out_dir, lambda tmp: train_demo_harm_judge(world_dir, tmp, seed),
                      lambda path: _complete(path, world_dir, seed))
