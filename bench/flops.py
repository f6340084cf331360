"""Training FLOPs of a LoRA model per batch, and the machine's measured matmul peak, for FLOP/s and MFU figures.

Counted are model FLOPs (as MFU counts them): every Linear's forward matmul, its input gradient when that input
needs one, and its weight gradient when the weight trains (LoRA), plus attention's two matmuls forward and twice
that backward, over the full L x L square as torch's FLOP counter counts them. Not counted: padding, activation
recomputation (gradient checkpointing), elementwise work. Which Linears get which gradient is read from one traced
forward pass, so frozen layers whose input needs no gradient (the first block's projections) count forward only.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

import torch

PEAK_SIZES = (1024, 2048)


@dataclass(frozen=True)
class FlopModel:
    """FLOPs of one training step as `per_token * sum(L) + per_square * sum(L^2)` over the sequences of a batch."""

    per_token: float  # all Linear layers, forward + backward, per token
    per_square: float  # attention, forward + backward, per (query, key) pair, all layers

    def batch(self, lengths: Iterable[int]) -> float:
        lengths = list(lengths)
        return self.per_token * sum(lengths) + self.per_square * sum(n * n for n in lengths)


def attention_width(config) -> int:
    """Query heads x head dim (the width of QK^T and AV per token)."""
    heads = int(config.num_attention_heads)
    head_dim = getattr(config, "head_dim", None) or int(config.hidden_size) // heads
    return heads * int(head_dim)


def flop_model(model, vocab_size: int | None = None) -> FlopModel:
    """Trace one short training-mode forward to see which Linears need input and weight gradients."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    config = base.config
    calls: dict[str, float] = {}

    def hook(name):
        def record(module, inputs, output):
            x = inputs[0]
            passes = 1 + int(x.requires_grad) + int(module.weight.requires_grad)
            calls[name] = 2.0 * module.in_features * module.out_features * passes
        return record

    handles = [m.register_forward_hook(hook(n)) for n, m in model.named_modules() if isinstance(m, torch.nn.Linear)]
    was_training = model.training
    device = next(model.parameters()).device
    ids = torch.randint(0, vocab_size or int(config.vocab_size), (1, 4), device=device)
    try:
        model.train()
        with torch.enable_grad():
            model(input_ids=ids)
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    per_square = 3 * 4.0 * attention_width(config) * int(config.num_hidden_layers)
    return FlopModel(per_token=sum(calls.values()), per_square=per_square)


def row_lengths(batch: dict[str, torch.Tensor]) -> list[int]:
    """Sequence lengths of a batch: rows of its attention mask, or the segments of a packed batch."""
    mask = batch["attention_mask"]
    if "position_ids" not in batch:
        return [int(n) for n in mask.sum(-1).tolist()]
    lengths: list[int] = []
    for pos, m in zip(batch["position_ids"].tolist(), mask.tolist()):
        for p, keep in zip(pos, m):
            if not keep:
                continue
            if p == 0 or not lengths:
                lengths.append(0)
            lengths[-1] += 1
    return lengths


def matmul_gflops(dtype: torch.dtype, n: int, seconds: float = 0.2, device: str = "cpu") -> float:
    """Best GFLOP/s of an n x n x n matmul over three timed windows of at least `seconds` each."""
    a = torch.randn(n, n, device=device).to(dtype)
    b = torch.randn(n, n, device=device).to(dtype)
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    torch.mm(a, b)
    sync()
    best = 0.0
    for _ in range(3):
        count, started = 0, time.perf_counter()
        while True:
            torch.mm(a, b)
            count += 1
            if count % 4 == 0 or n >= 2048:
                sync()
                elapsed = time.perf_counter() - started
                if elapsed >= seconds:
                    break
        best = max(best, 2.0 * n**3 * count / elapsed / 1e9)
    return best


def matmul_peak(dtype: torch.dtype, sizes: Iterable[int] = PEAK_SIZES, seconds: float = 0.2,
                device: str = "cpu") -> float:
    """The machine's measured matmul peak in GFLOP/s for `dtype`: the best over square sizes."""
    return max(matmul_gflops(dtype, n, seconds, device) for n in sizes)
