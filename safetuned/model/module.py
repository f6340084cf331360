"""The LightningModule: a peft LoRA causal LM trained with AdamW + warmup; checkpoints hold adapter weights only."""

from __future__ import annotations

from functools import partial
from typing import Any

import lightning as L
import torch
from peft import PeftModel, get_peft_model_state_dict


class LoRACausalLM(L.LightningModule):
    """Train the LoRA adapters of `model`; `val/loss` is the token-weighted mean over the validation set."""

    def __init__(
        self,
        model: PeftModel,
        optimizer: partial,
        scheduler: partial | None = None,
        seed: int = 0,
        total_steps: int | None = None,
    ) -> None:
        super().__init__()
        self.model = model
        # from_pretrained returns eval mode and Lightning keeps module modes as found: LoRA dropout must be on.
        self.model.train()
        self.optimizer_factory = optimizer
        self.scheduler_factory = scheduler
        # Checkpoints carry only the adapter; the frozen base weights come from the model source.
        self.strict_loading = False
        self.tokens_seen = 0
        self.seed = seed
        self.total_steps = total_steps

    def forward(self, **batch: torch.Tensor) -> Any:
        return self.model(**batch)

    def _loss_and_tokens(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, int]:
        inputs = {"input_ids": batch["input_ids"], "labels": batch["labels"]}
        if "position_ids" in batch:  # packed rows (PackedCollator): positions restart per example, no mask
            inputs["position_ids"] = batch["position_ids"]
        else:
            inputs["attention_mask"] = batch["attention_mask"]
        # No KV cache while training: it is never read, and with one HF ignores packed position_ids.
        out = self.model(**inputs, use_cache=False)
        n_target = int((batch["labels"][:, 1:] != -100).sum())
        return out.loss, n_target

    def on_train_batch_start(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        # Dropout masks become a pure function of (seed, epoch, batch): a resumed run retraces the original,
        # whatever else drew random numbers in between (data loader iterators, restarts).
        torch.manual_seed((self.seed * 1_000_003 + self.current_epoch * 100_003 + batch_idx * 101 + self.global_rank) % 2**63)

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        loss, n_target = self._loss_and_tokens(batch)
        self.tokens_seen += int(batch["attention_mask"].sum())
        self.log("train/loss", loss, prog_bar=True, batch_size=max(n_target, 1))
        self.log("train/tokens", float(self.tokens_seen), reduce_fx="max")
        return loss

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        loss, n_target = self._loss_and_tokens(batch)
        self.log("val/loss", loss, prog_bar=True, batch_size=max(n_target, 1), sync_dist=True)

    def configure_optimizers(self) -> Any:
        params = [p for p in self.model.parameters() if p.requires_grad]
        optimizer = self.optimizer_factory(params)
        if self.scheduler_factory is None:
            return optimizer
        # The job's planned step count, when known: asking the trainer (estimated_stepping_batches) builds the
        # train loader before a checkpoint's loader state is restored, which would break mid-epoch resume.
        steps = self.total_steps or int(self.trainer.estimated_stepping_batches)
        scheduler = self.scheduler_factory(optimizer=optimizer, num_training_steps=steps)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        trainable = {n for n, p in self.named_parameters() if p.requires_grad}
        checkpoint["state_dict"] = {k: v for k, v in checkpoint["state_dict"].items() if k in trainable}
        checkpoint["tokens_seen"] = self.tokens_seen

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        self.tokens_seen = int(checkpoint.get("tokens_seen", 0))

    def adapter_state_dict(self) -> dict[str, torch.Tensor]:
        """The trainable adapter weights, as peft names them in `adapter_model.safetensors`."""
        return {k: v.detach().cpu() for k, v in get_peft_model_state_dict(self.model).items()}

    def load_adapter_checkpoint(self, path: str) -> None:
        """Put the adapter weights of a (best) checkpoint back into the model."""
        state = torch.load(path, map_location="cpu", weights_only=True)["state_dict"]
        result = self.load_state_dict(state, strict=False)
        if result.unexpected_keys or not state:
            raise RuntimeError(f"{path} does not hold this model's adapter (unexpected: {result.unexpected_keys[:3]})")
