"""The typed schema of the `train` and `evaluate` configs: types, ranges and choices of every key a user sets.

Groups a job reads key by key are closed (an unknown key is an error); `_target_` groups (trainer, lora, optim,
callbacks, loggers) type the keys the project relies on and bind the others to the target's signature. Applied by
safetuned.pipeline.check, which turns every finding into one line.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

MISSING = "???"
META_KEYS = {"_target_", "_partial_", "_convert_", "_recursive_", "_args_"}
# Trainer arguments the job computes (from data.batch_size and val_every_n_steps) or passes itself.
RESERVED_TRAINER_KEYS = {"callbacks": "callbacks.<name>", "logger": "logger=<option>",
                         "accumulate_grad_batches": "data.batch_size", "val_check_interval": "val_every_n_steps"}

PosInt = Annotated[int, Field(ge=1)]
NonNegInt = Annotated[int, Field(ge=0)]
PosFloat = Annotated[float, Field(gt=0)]
NonNegFloat = Annotated[float, Field(ge=0)]
Text = Annotated[str, Field(min_length=1)]


def _rule(check, allowed: str, allow_bool: bool = False):
    """A validator for values a plain type cannot state: `check(v)` true, else the error says what is allowed."""

    def run(v: Any) -> Any:
        if (isinstance(v, bool) and not allow_bool) or not check(v):
            raise ValueError(f"must be {allowed}")
        return v

    return AfterValidator(run)


def _is_modules(v: Any) -> bool:
    return (isinstance(v, str) and v.strip() != "") or (
        isinstance(v, list) and len(v) > 0 and all(isinstance(x, str) and x.strip() for x in v))


def _is_val_size(v: Any) -> bool:
    return (isinstance(v, float) and 0 <= v < 1) or (isinstance(v, int) and v >= 0)


def _is_devices(v: Any) -> bool:
    if isinstance(v, int):
        return v >= 1 or v == -1
    if isinstance(v, str):
        parts = [p.strip() for p in v.split(",") if p.strip()]
        return v.strip() == "auto" or (bool(parts) and all(p.lstrip("-").isdigit() for p in parts))
    return isinstance(v, list) and len(v) > 0 and all(isinstance(x, int) and not isinstance(x, bool) and x >= 0
                                                      for x in v)


PRECISIONS = ("64-true", "64", "32-true", "32", "16-mixed", "16", "bf16-mixed", "bf16", "16-true", "bf16-true",
              "transformer-engine", "transformer-engine-float16")
ATTENTION = ("eager", "sdpa", "flash_attention_2", "flash_attention_3", "flex_attention")


def _is_attention(v: Any) -> bool:
    return v is None or v in ATTENTION or (isinstance(v, str) and "/" in v)


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)


class _Open(BaseModel):
    """A `_target_` node: the listed keys are typed, any other is bound to the target's signature."""

    model_config = ConfigDict(extra="allow", strict=True, populate_by_name=True)
    target: Text = Field(alias="_target_")


class EmbeddedModel(_Closed):
    """The embedded tiny LLaMA; its keys are required only when `model.pretrained` is null."""

    path: Text | None = None
    vocab_size: Annotated[int, Field(ge=300)] | None = None
    hidden_size: PosInt | None = None
    num_layers: PosInt | None = None
    num_heads: PosInt | None = None
    intermediate_size: PosInt | None = None
    steps: NonNegInt | None = None
    batch_size: PosInt | None = None
    lr: PosFloat | None = None
    seed: NonNegInt | None = None
    world_seed: NonNegInt | None = None
    world_dir: Text | None = None

    def problems(self) -> list[str]:
        unset = [k for k, v in self if v is None and k != "path"]
        if unset:
            return [f"model.embedded.{k} is not set: the embedded model (model.pretrained=null) needs it"
                    for k in unset]
        if self.hidden_size % self.num_heads:
            return [(f"model.embedded.hidden_size={self.hidden_size} must be a multiple of "
                     f"model.embedded.num_heads={self.num_heads}")]
        return []


class ModelGroup(_Closed):
    name: Text
    pretrained: Text | None = None
    dtype: Literal["float32", "fp32", "bfloat16", "bf16", "float16", "fp16", "auto"]
    trust_remote_code: bool
    quantization: Literal["8bit", "4bit"] | None = None
    gradient_checkpointing: bool
    attn_implementation: Annotated[Any, _rule(_is_attention, f"null, one of {', '.join(ATTENTION)} or a hub kernel id")
                                   ] = None
    lora_target_modules: Annotated[Any, _rule(_is_modules, "a non-empty list of module names or one name/regex")]
    embedded: EmbeddedModel | None = None

    @model_validator(mode="after")
    def _embedded_when_no_pretrained(self) -> ModelGroup:
        if self.pretrained is None:
            problems = self.embedded.problems() if self.embedded else [
                "model.pretrained is null (the embedded model) but model.embedded is not set"]
            if problems:
                raise ValueError("; ".join(problems))
        return self


class BaseData(_Closed):
    source: Text
    split: Text = "train"
    n: NonNegInt | None = None


class SafetyPools(_Closed):
    instructions: Text | None = None
    questions: Text | None = None


class DataGroup(_Closed):
    demo_seed: NonNegInt | None = None
    dir: Text | None = None
    base: BaseData | None = None
    safety: SafetyPools | None = None
    premixed: Text | None = None
    safety_n: NonNegInt
    safety_format: Literal["instructions", "questions", "mixed"]
    val_size: Annotated[Any, _rule(_is_val_size, "a fraction in [0, 1) or a count >= 0")]
    cutoff_len: Annotated[int, Field(ge=8)]
    train_on_inputs: bool
    micro_batch_size: PosInt
    batch_size: PosInt
    eval_batch_size: PosInt
    group_by_length: bool
    num_workers: NonNegInt

    @model_validator(mode="after")
    def _consistent(self) -> DataGroup:
        if self.premixed is None and self.base is None:
            raise ValueError("data.base.source is not set and no data.premixed file is given: set one")
        if self.batch_size % self.micro_batch_size:
            raise ValueError(f"data.batch_size={self.batch_size} must be a multiple of "
                             f"data.micro_batch_size={self.micro_batch_size}")
        return self


class PromptGroup(_Closed):
    name: Text


class LoraGroup(_Open):
    r: PosInt
    lora_alpha: PosFloat
    lora_dropout: Annotated[float, Field(ge=0, lt=1)]
    target_modules: Annotated[Any, _rule(_is_modules, "a non-empty list of module names or one name/regex")]
    bias: Literal["none", "all", "lora_only"] = "none"
    task_type: Literal["CAUSAL_LM"] = "CAUSAL_LM"


class Optimizer(_Open):
    lr: PosFloat
    weight_decay: NonNegFloat = 0.0
    betas: Annotated[list[Annotated[float, Field(ge=0, lt=1)]], Field(min_length=2, max_length=2)] | None = None


class Scheduler(_Open):
    name: Text | None = None
    num_warmup_steps: NonNegInt = 0


class OptimGroup(_Closed):
    optimizer: Optimizer
    scheduler: Scheduler | None = None


class TrainerGroup(_Open):
    accelerator: Literal["auto", "cpu", "gpu", "cuda", "mps", "tpu", "hpu"] = "auto"
    devices: Annotated[Any, _rule(_is_devices, "an int >= 1, -1, auto, ids like '0,1' or a list of ids")] = "auto"
    num_nodes: PosInt = 1
    precision: Annotated[Any, _rule(lambda v: str(v) in PRECISIONS, f"one of {', '.join(PRECISIONS)}")] = "32-true"
    max_epochs: int
    max_steps: int = -1
    gradient_clip_val: NonNegFloat | None = None
    log_every_n_steps: PosInt = 50
    num_sanity_val_steps: Annotated[int, Field(ge=-1)] = 0
    use_distributed_sampler: bool = False
    check_val_every_n_epoch: PosInt | None = None
    enable_progress_bar: bool = True
    enable_model_summary: bool = True
    deterministic: Annotated[Any, _rule(lambda v: isinstance(v, bool) or v == "warn", "true, false or warn",
                                         allow_bool=True)] = False
    default_root_dir: Text | None = None

    @model_validator(mode="after")
    def _bounded(self) -> TrainerGroup:
        if self.max_steps != -1 and self.max_steps < 1:
            raise ValueError(f"trainer.max_steps={self.max_steps} must be -1 (no limit) or >= 1")
        if self.max_epochs == -1 and self.max_steps < 1:
            raise ValueError("trainer.max_epochs=-1 would train until killed: use an int >= 1, or set "
                             "trainer.max_steps >= 1 to bound training by steps")
        if self.max_epochs < 1 and self.max_epochs != -1:
            raise ValueError(f"trainer.max_epochs={self.max_epochs} must be >= 1 (or -1 with trainer.max_steps)")
        return self


class Generation(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    max_new_tokens: PosInt = 64
    num_beams: PosInt = 1
    do_sample: bool = False
    temperature: PosFloat = 1.0
    top_p: Annotated[float, Field(gt=0, le=1)] = 1.0
    top_k: NonNegInt = 50
    repetition_penalty: PosFloat = 1.0
    batch_size: PosInt = 32


class DuringTraining(_Closed):
    every_n_validations: NonNegInt = 0
    limit: NonNegInt = 32


class Harness(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)
    tasks: list[Text] | None = None
    include_defaults: bool = False
    limit: NonNegInt | None = None
    batch_size: PosInt = 32


class EvalGroup(BaseModel):
    """Top-level eval keys; suites, scorers and judges are checked by the eval plan (before any weights load)."""

    model_config = ConfigDict(extra="allow", strict=True)
    enabled: bool = True
    limit: NonNegInt | None = None
    generation: Generation | None = None
    harness: Harness | None = None
    during_training: DuringTraining | None = None
    log_samples: NonNegInt = 20


class _Job(_Closed):
    task_name: Text
    seed: NonNegInt
    paths: dict[str, Text]
    model: ModelGroup
    prompt: PromptGroup
    eval: EvalGroup
    logger: dict[str, _Open | None] | None = None


class TrainConfig(_Job):
    data: DataGroup
    lora: LoraGroup
    optim: OptimGroup
    trainer: TrainerGroup
    callbacks: dict[str, _Open | None] | None = None
    val_every_n_steps: PosInt
    resume: Text
    num_threads: PosInt | None = None


class EvaluateData(_Closed):
    demo_seed: NonNegInt | None = None


class EvaluateConfig(_Job):
    data: EvaluateData
    adapter: Text | None = None


class AttackSettings(_Closed):
    kind: Literal["harmful", "benign"]
    n: NonNegInt
    init: Literal["continue", "fresh"]
    seed: NonNegInt
    data: Text | None = None
    val_size: PosInt
    epochs: PosInt
    lr: PosFloat
    batch_size: PosInt
    micro_batch_size: PosInt | None = None


class AttackConfig(TrainConfig):
    source: Text
    attack: AttackSettings


SCHEMAS: dict[str, type[BaseModel]] = {"train": TrainConfig, "evaluate": EvaluateConfig, "attack": AttackConfig}
