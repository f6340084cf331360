"""Per-token KL divergence between a tuned model and its base along the tuned model's own answers, by position.

Qi et al. (ICLR 2025) found that alignment changes the next-token distributions mostly at the first answer tokens.
Here both models read prompt + the tuned model's answer (teacher forcing) and, at answer position j (0 = the first
answer token), KL(tuned || base) = sum_v p_tuned(v) (log p_tuned(v) - log p_base(v)) in nats, over the distribution
that predicts answer token j. Prompt + answer are encoded as one string, as training encodes them; the answer's
tokens are those after the longest token prefix the joint encoding shares with the prompt's. No EOS is appended.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from safetuned.errors import ConfigError, DataError, ModelError

INTERVAL = "95% percentile bootstrap over items, each position separately"


def _answer_span(tokenizer, prompt: str, answer: str, max_positions: int) -> tuple[list[int], int, int]:
    """(ids to run, index of the first answer token, answer positions scored) of one item."""
    from safetuned.data.collate import encode

    ids, prompt_ids = encode(tokenizer, prompt + answer), encode(tokenizer, prompt)
    n = 0
    for a, b in zip(prompt_ids, ids):
        if a != b:
            break
        n += 1
    m = min(len(ids) - n, max_positions)
    # The logits at index i predict token i + 1: the scored positions need ids up to index n + m - 2.
    return ids[:max(n + m - 1, 0)], n, m


def _logits(model, input_ids, mask, keep):
    """The logits at sequence indices `keep`, computed only there when the model's forward allows it."""
    from safetuned.eval.greedy import supports_logits_to_keep

    if supports_logits_to_keep(model):
        return model(input_ids=input_ids, attention_mask=mask, logits_to_keep=keep).logits
    return model(input_ids=input_ids, attention_mask=mask).logits[:, keep]


def kl_by_position(
    model, tokenizer, prompts: Sequence[str], answers: Sequence[str], *, base_model=None, max_positions: int = 32,
    batch_size: int = 8, n_boot: int = 1000, seed: int = 0,
) -> dict[str, Any]:
    """Mean KL(tuned || base) per answer position 0..max_positions-1, with its count and 95% interval.

    The base is `base_model` when given, else `model` (a peft model) inside `model.disable_adapter()`. Items are
    right-padded into batches of `batch_size`, longest first. See `average_by_position` for the returned dict; it
    also holds `per_item`, each item's KL values by position (for paired comparisons between adapters).
    """
    import torch

    from safetuned.eval.generate import eval_mode, model_device

    if len(prompts) != len(answers):
        raise ConfigError(f"kl_by_position(): {len(prompts)} prompts but {len(answers)} answers")
    if max_positions < 1 or batch_size < 1:
        raise ConfigError(f"kl_by_position(): max_positions={max_positions} and batch_size={batch_size} must be >= 1")
    if base_model is None and not hasattr(model, "disable_adapter"):
        raise ModelError("kl_by_position(): the model has no adapter to disable (not a peft model); pass base_model")
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    items = [_answer_span(tokenizer, p, a, max_positions) for p, a in zip(prompts, answers)]
    per_item: list[list[float]] = [[] for _ in items]
    order = sorted(range(len(items)), key=lambda i: -len(items[i][0]))
    device = model_device(model)
    with eval_mode(model), torch.inference_mode():
        for b in range(0, len(order), batch_size):
            idx = [i for i in order[b:b + batch_size] if items[i][2] > 0 and len(items[i][0]) > 0]
            if not idx:
                continue
            width = max(len(items[i][0]) for i in idx)
            input_ids = torch.full((len(idx), width), pad, dtype=torch.long)
            mask = torch.zeros((len(idx), width), dtype=torch.long)
            for r, i in enumerate(idx):
                ids = items[i][0]
                input_ids[r, :len(ids)] = torch.as_tensor(ids)
                mask[r, :len(ids)] = 1
            input_ids, mask = input_ids.to(device), mask.to(device)
            # Only the logits predicting scored answer tokens: index n - 1 + j for position j.
            lo = min(max(items[i][1] - 1, 0) for i in idx)
            hi = max(items[i][1] - 1 + items[i][2] for i in idx)
            keep = torch.arange(lo, hi, device=device)
            tuned = _logits(model, input_ids, mask, keep)
            if base_model is None:
                with model.disable_adapter():
                    base = _logits(model, input_ids, mask, keep)
            else:
                base = _logits(base_model, input_ids, mask, keep)
            lp_t = torch.log_softmax(tuned.float(), -1)
            lp_b = torch.log_softmax(base.to(lp_t.device).float(), -1)
            kl = (lp_t.exp() * (lp_t - lp_b)).sum(-1).cpu()  # (rows, hi - lo)
            for r, i in enumerate(idx):
                n, m = items[i][1], items[i][2]
                first = 1 if n == 0 else 0  # with no prompt token (no BOS) nothing predicts answer token 0
                per_item[i] = [float("nan")] * first + [float(kl[r, n - 1 + j - lo]) for j in range(first, m)]
    result = average_by_position(per_item, max_positions, n_boot=n_boot, seed=seed)
    result["per_item"] = [[None if np.isnan(v) else v for v in row] for row in per_item]
    return result


def average_by_position(
    per_item: Sequence[Sequence[float]], max_positions: int, n_boot: int = 1000, seed: int = 0,
) -> dict[str, Any]:
    """Mean, count and 95% bootstrap interval of each position's values across items (NaN/None values skipped).

    The interval resamples the items that reach a position (`n_boot` times, seeded); it is None below 2 items and
    the mean is None at a position no item reaches. It treats items as independent draws from the prompt set.
    """
    rng = np.random.default_rng(seed)
    mean, lo, hi, count = [], [], [], []
    for j in range(max_positions):
        vals = np.array([row[j] for row in per_item if len(row) > j and row[j] is not None], dtype=float)
        vals = vals[~np.isnan(vals)]
        count.append(len(vals))
        mean.append(float(vals.mean()) if len(vals) else None)
        if len(vals) >= 2:
            boots = vals[rng.integers(0, len(vals), (n_boot, len(vals)))].mean(1)
            lo.append(float(np.percentile(boots, 2.5)))
            hi.append(float(np.percentile(boots, 97.5)))
        else:
            lo.append(None)
            hi.append(None)
    return {
        "measure": "KL(tuned || base) in nats of the distribution predicting answer token j",
        "interval": f"{INTERVAL} ({n_boot} resamples, seed {seed})",
        "items": len(per_item), "max_positions": max_positions, "positions": list(range(max_positions)),
        "mean": mean, "lo": lo, "hi": hi, "n": count,
    }


def save_kl(path: str | Path, result: dict[str, Any]) -> Path:
    """Write a `kl_by_position` result as JSON, atomically."""
    from safetuned.utils.io import write_json_atomic

    write_json_atomic(path, result)
    return Path(path)


def load_kl(path: str | Path) -> dict[str, Any]:
    """Read a result written by `save_kl` (one-line DataError when missing or malformed)."""
    import json

    from safetuned.utils.io import read_json

    path = Path(path)
    if not path.is_file():
        raise DataError(f"KL result not found: {path}")
    try:
        data = read_json(path)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise DataError(f"{path} is not valid JSON ({e})") from None
    missing = [k for k in ("positions", "mean", "lo", "hi", "n") if not isinstance(data, dict) or k not in data]
    if missing:
        raise DataError(f"{path} is not a KL-by-position result: missing key(s) {missing}")
    return data
