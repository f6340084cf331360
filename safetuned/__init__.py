"""safetuned: safety-tune instruction-following LMs with LoRA and measure what it costs."""

__version__ = "0.1.0"
