"""Every schedule of the run as a pure function of tokens seen.

Tokens seen count whole rows (``rows x seq_len``, padding included), the same unit as the
stage budgets. The stage table is cumulative: stage *i* owns tokens
``[sum(budgets[:i]), sum(budgets[:i+1]))``; a step that overshoots a boundary is simply
followed by the next stage, whose end stays where the table puts it, so the run ends at the
planned total and the one LR curve spans all stages. Batch warmup, balance-bias rate and MTP
weight switch at fractions of ``milestone_total`` (the pre-training tokens by default).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from corpus.train.config import TrainConfig


@dataclass(frozen=True)
class Schedule:
    cfg: TrainConfig

    @property
    def total(self) -> int:
        return self.cfg.total_tokens

    def stage_ends(self) -> list[int]:
        ends, acc = [], 0
        for s in self.cfg.stages:
            acc += s.tokens
            ends.append(acc)
        return ends

    def stage_index(self, tokens: int) -> int:
        """The stage that owns ``tokens``; past the end, the last one."""
        for i, end in enumerate(self.stage_ends()):
            if tokens < end:
                return i
        return len(self.cfg.stages) - 1

    def rope_theta(self, tokens: int) -> float:
        return self.cfg.stages[self.stage_index(tokens)].rope_theta

    def seq_len(self, tokens: int) -> int:
        return self.cfg.stages[self.stage_index(tokens)].seq_len

    def micro_rows(self, tokens: int) -> int:
        """Rows per forward pass: ``micro_tokens`` worth of the current stage's rows."""
        return max(1, self.cfg.batch.micro_tokens // self.seq_len(tokens))

    @property
    def milestone_total(self) -> int:
        """What the milestone fractions are fractions of (``milestones.basis``; see config.py)."""
        return self.cfg.milestone_tokens

    def lr(self, tokens: int) -> float:
        """Linear warmup 0 -> lr, then one cosine to min_lr at the end of the last stage."""
        o = self.cfg.optim
        warm = o.warmup_frac * self.total
        if tokens < warm:
            return o.lr * tokens / warm
        progress = min(1.0, (tokens - warm) / max(1.0, self.total - warm))
        return o.min_lr + 0.5 * (o.lr - o.min_lr) * (1.0 + math.cos(math.pi * progress))

    def step_lr(self, tokens: int) -> float:
        """The LR of the step that starts at ``tokens``: the curve at the step's end (tokens plus
        the step's batch), so step 0 already moves (> 0) and the last step lands on min_lr."""
        return self.lr(min(self.total, tokens + self.batch_rows(tokens) * self.seq_len(tokens)))

    def batch_tokens(self, tokens: int) -> float:
        """Batch-size warmup: ``warmup_start x full`` -> full, linear over the first ``warmup_frac``
        of the milestone tokens."""
        b = self.cfg.batch
        warm = b.warmup_frac * self.milestone_total
        if tokens >= warm:
            return float(b.global_tokens)
        return b.global_tokens * (b.warmup_start + (1.0 - b.warmup_start) * tokens / warm)

    def batch_rows(self, tokens: int) -> int:
        """Global rows of the step at ``tokens``: the batch in rows of the current stage's length,
        rounded down to a multiple of ``lanes x micro_rows`` (at least one). The unit does not
        depend on the world size, so any world size dividing ``lanes`` trains on the same batches."""
        unit = self.cfg.data.lanes * self.micro_rows(tokens)
        rows = int(self.batch_tokens(tokens) // self.seq_len(tokens))
        return max(unit, rows // unit * unit)

    def bias_rate(self, tokens: int) -> float:
        bal = self.cfg.balance
        return bal.bias_rate if tokens < bal.bias_until_frac * self.milestone_total else 0.0

    def mtp_weight(self, tokens: int) -> float:
        m = self.cfg.mtp
        return m.weight if tokens < m.switch_frac * self.milestone_total else m.weight_after
