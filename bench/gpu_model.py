"""What `bench.gpu_check` needs besides the checks: a local random-weight LLaMA, the device's peak, its memory."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch

# Dense bf16 tensor-core peaks (TFLOP/s) from the vendors' data sheets, most specific name first.
KNOWN_BF16_PEAKS = (
    ("H100 PCIE", 756.0), ("H100 NVL", 835.0), ("H100", 989.0), ("H200", 989.0), ("GH200", 989.0),
    ("B200", 2250.0), ("A100", 312.0), ("A800", 312.0), ("L40S", 362.0), ("L40", 181.0), ("L4", 121.0),
    ("A10G", 125.0), ("A10", 125.0), ("A6000", 155.0), ("RTX 4090", 165.0), ("RTX 3090", 71.0),
)
# LLaMA-architecture shapes: ~1.0B parameters with the check's ~8k-token tokenizer (TinyLlama-1.1B's layout), and a
# tiny one for the CPU dry run.
SIZES = {
    "1b": {"hidden_size": 2048, "intermediate_size": 5632, "num_hidden_layers": 22, "num_attention_heads": 32,
           "num_key_value_heads": 4, "vocab_size": 8192},
    "tiny": {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
             "num_key_value_heads": 2, "vocab_size": 512},
}


def bf16_peak_tflops(device_name: str) -> float | None:
    """The device's dense bf16 peak from KNOWN_BF16_PEAKS, or None for a device not in the table."""
    name = device_name.upper()
    return next((peak for key, peak in KNOWN_BF16_PEAKS if key.upper() in name), None)


def build_local_llama(out_dir: str | Path, world_dir: str | Path, size: str, dtype: torch.dtype,
                      device: str) -> tuple[Path, int]:
    """A random-weight LLaMA of `size` and a byte-level BPE tokenizer trained on the demo world, saved as a local
    transformers folder (no hub); returns the folder and the parameter count."""
    from transformers import LlamaConfig, LlamaForCausalLM

    from safetuned.model.tiny import _corpus_texts, train_bpe_tokenizer

    out_dir = Path(out_dir)
    shape = dict(SIZES[size])
    tokenizer = train_bpe_tokenizer(_corpus_texts(Path(world_dir)), vocab_size=shape.pop("vocab_size"))
    config = LlamaConfig(vocab_size=len(tokenizer), max_position_embeddings=2048, tie_word_embeddings=False,
                         pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id,
                         eos_token_id=tokenizer.eos_token_id, **shape)
    torch.manual_seed(0)
    with torch.device(device):
        model = LlamaForCausalLM(config).to(dtype)
    params = sum(p.numel() for p in model.parameters())
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    del model
    if device.startswith("cuda"):
        torch.cuda.empty_cache()
    return out_dir, params


class MemoryPoller:
    """Peak device memory in use (all processes, so a training subprocess counts) above the level at start."""

    def __init__(self, interval: float = 0.2):
        self.interval, self.peak_bytes = interval, 0
        self.start_used = self.used()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def used() -> int:
        if not torch.cuda.is_available():
            return 0
        free, total = torch.cuda.mem_get_info()
        return total - free

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_bytes = max(self.peak_bytes, self.used() - self.start_used)
            time.sleep(self.interval)

    @property
    def peak_gb(self) -> float:
        return self.peak_bytes / 2**30


@contextmanager
def poll_memory(interval: float = 0.2) -> Iterator[MemoryPoller]:
    """Poll device memory in a thread while the block runs (0 on a machine without CUDA)."""
    poller = MemoryPoller(interval)
    poller._thread.start()
    try:
        yield poller
    finally:
        poller._stop.set()
        poller._thread.join()
