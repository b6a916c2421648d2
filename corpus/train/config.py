"""The train YAML schema (pydantic, unknown keys rejected): what ``corpus train FILE.yaml`` reads.

Every token milestone of the GLM-4.5 recipe — batch warmup over the first 500B tokens, bias
rate 0.001 -> 0 and MTP weight 0.3 -> 0.1 at 15T — is a *fraction*, so a tiny run keeps the
recipe's shape. The report counts those milestones within its 23T pre-training tokens, so by
default (``milestones.basis: pretrain``) a fraction is of the **pre-training** tokens: the sum of
the budgets of the stages with ``phase: pretrain`` (15/23 and 500/23000 then reproduce 15T and
500B exactly, whatever mid-training adds). ``basis: total`` measures them against every stage.
The LR warmup and the one cosine span the whole table (GLM-4.5 decays to its minimum "by the
end of mid-training").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RunCfg(_Strict):
    name: str = "train"
    output: str = Field("out/train", description="run folder; relative paths resolve against the working dir")
    seed: int = 0
    precision: Literal["fp32", "bf16"] = Field(
        "fp32", description="bf16 autocast (CUDA); fp32 for CPU and tests"
    )
    threads: int | None = Field(
        None,
        gt=0,
        description="torch intra-op threads per process (1 avoids thrashing on a busy small machine)",
    )
    activation_checkpointing: bool = Field(
        False, description="recompute each decoder block in backward (less memory, ~1/3 more compute)"
    )
    compile: bool = Field(False, description="torch.compile each decoder block (see the README figures)")
    peak_tflops: float | None = Field(
        None,
        gt=0,
        description="dense bf16 peak of one device for MFU; default: known CUDA devices, none on CPU",
    )


class StageCfg(_Strict):
    """One row of the stage table: its length, budget, RoPE base and token streams."""

    name: str
    seq_len: int = Field(gt=1)
    tokens: int = Field(gt=0, description="token budget of the stage (rows x seq_len, padding included)")
    rope_theta: float = Field(gt=0)
    streams: list[str] = Field(min_length=1, description="token-stream folders; their rows are pooled")
    packing: Literal["truncate", "best_fit"] = Field(
        "truncate", description="how the streams were built (recorded; the streams are checked)"
    )
    phase: Literal["pretrain", "midtrain"] = Field(
        "pretrain", description="pre-training stages come first; milestones count their tokens"
    )


class OptimCfg(_Strict):
    lr: float = 2.5e-4
    min_lr: float = 2.5e-5
    warmup_frac: float = Field(0.01, ge=0, lt=1, description="LR warmup, fraction of the planned tokens")
    weight_decay: float = 0.1
    momentum: float = 0.95
    nesterov: bool = True
    ns_steps: int = 5
    ns_dtype: Literal["float32", "bfloat16"] = "bfloat16"
    muon_rms: float = Field(0.2, description="Moonlight: Muon update scaled by rms*sqrt(max(A,B))")
    adam_betas: tuple[float, float] = (0.9, 0.95)
    adam_eps: float = 1e-8
    head: Literal["muon", "adamw"] = "muon"
    grad_clip: float | None = Field(1.0, description="global grad-norm clip; null disables")


class BatchCfg(_Strict):
    global_tokens: int = Field(gt=0, description="full global batch in tokens (GLM-4.5: 64M)")
    micro_tokens: int = Field(
        8192, gt=0, description="tokens per forward pass on one rank: max(1, micro_tokens // seq_len) rows"
    )
    warmup_start: float = Field(0.25, gt=0, le=1, description="batch warmup starts at this fraction")
    warmup_frac: float = Field(
        500 / 23000, ge=0, lt=1, description="... and reaches full at this run fraction"
    )


class BalanceCfg(_Strict):
    bias_rate: float = 0.001
    bias_until_frac: float = Field(15 / 23, ge=0, le=1)
    aux_weight: float = 1e-4


class MtpCfg(_Strict):
    weight: float = 0.3
    weight_after: float = 0.1
    switch_frac: float = Field(15 / 23, ge=0, le=1)


class DataCfg(_Strict):
    lanes: int = Field(
        8, gt=0, description="fixed read lanes; any world size dividing it gives the same batches"
    )
    shuffle_tokens: int = Field(
        1 << 22,
        gt=0,
        description="shuffle window (buffer) per lane in tokens: max(1, shuffle_tokens // seq_len) rows, "
        "held in memory as int32",
    )


class MilestonesCfg(_Strict):
    basis: Literal["pretrain", "total"] = Field(
        "pretrain",
        description="what batch.warmup_frac, balance.bias_until_frac and mtp.switch_frac are fractions "
        "of: the pre-training stages' tokens (GLM-4.5's 15T / 500B of 23T) or all stages'",
    )


class EvalCfg(_Strict):
    holdout: float = Field(
        0.0,
        ge=0,
        lt=1,
        description="share of documents held out by id hash (needs streams with doc_ids); 0 = no eval",
    )
    every_steps: int = Field(50, gt=0, description="also at the end of every stage")
    rows: int = Field(64, gt=0, description="validation rows per stage (the first ones in stream order)")


class CheckpointCfg(_Strict):
    every_steps: int = Field(100, gt=0)
    keep_last: int = Field(3, gt=0)


class LogCfg(_Strict):
    every_steps: int = Field(1, gt=0)


class TrainConfig(_Strict):
    run: RunCfg = RunCfg()
    model: dict[str, Any] = Field(
        description="corpus.train.model.ModelConfig fields, or `preset:` (corpus.train.shapes) + overrides"
    )
    stages: list[StageCfg] = Field(min_length=1)
    optim: OptimCfg = OptimCfg()
    batch: BatchCfg
    balance: BalanceCfg = BalanceCfg()
    mtp: MtpCfg = MtpCfg()
    data: DataCfg = DataCfg()
    milestones: MilestonesCfg = MilestonesCfg()
    eval: EvalCfg = EvalCfg()
    checkpoint: CheckpointCfg = CheckpointCfg()
    log: LogCfg = LogCfg()

    @model_validator(mode="after")
    def _stage_table(self) -> TrainConfig:
        names = [s.name for s in self.stages]
        if len(set(names)) != len(names):
            raise ValueError(f"stage names must be unique, got {names}")
        phases = [s.phase for s in self.stages]
        if "pretrain" not in phases:
            raise ValueError("the stage table needs at least one `phase: pretrain` stage")
        if phases != sorted(phases, key=lambda p: p != "pretrain"):
            raise ValueError(f"pre-training stages must come before mid-training ones, got {phases}")
        return self

    @property
    def total_tokens(self) -> int:
        return sum(s.tokens for s in self.stages)

    @property
    def pretrain_tokens(self) -> int:
        return sum(s.tokens for s in self.stages if s.phase == "pretrain")

    @property
    def milestone_tokens(self) -> int:
        """The token count milestone fractions refer to (``milestones.basis``)."""
        return self.pretrain_tokens if self.milestones.basis == "pretrain" else self.total_tokens


# GLM-4.5 switches the RoPE base from 1e4 to 1e6 when it extends the context to 32K.
LONG_CONTEXT_THETA = 1_000_000.0


def config_warnings(cfg: TrainConfig) -> list[str]:
    """Recipe deviations worth a line at load (not errors: a user may mean them)."""
    out = []
    for s in cfg.stages:
        if s.phase == "midtrain" and s.rope_theta < LONG_CONTEXT_THETA:
            out.append(
                f"stage {s.name}: mid-training (seq_len {s.seq_len}) with RoPE theta {s.rope_theta:g}; "
                f"GLM-4.5 uses {LONG_CONTEXT_THETA:g} from its 32K extension on"
            )
    return out


class ConfigError(ValueError):
    """A user mistake in the train YAML: the message names the file and the field."""


def load_config(path: str | Path) -> TrainConfig:
    """Parse and validate a train YAML; errors name the file and each bad field."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise ConfigError(f"{path}: {e}") from e
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    try:
        cfg = TrainConfig.model_validate(raw)
    except ValidationError as e:
        lines = [f"{path}: invalid train config"]
        for err in e.errors():
            loc = ".".join(str(p) for p in err["loc"])
            lines.append(f"  {loc}: {err['msg']}")
        raise ConfigError("\n".join(lines)) from e
    from corpus.train.shapes import model_config

    try:
        model_config(cfg.model)
    except (TypeError, ValueError) as e:
        raise ConfigError(f"{path}: invalid model: {e}") from e
    return cfg
