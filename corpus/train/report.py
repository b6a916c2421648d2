"""What a training run shows and leaves behind: a progress line per step, ``metrics.jsonl``,
``loss.png`` and a one-screen summary. Only rank 0 reports; other ranks get a disabled one."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from corpus.train.config import StageCfg, TrainConfig

METRICS, CURVE = "metrics.jsonl", "loss.png"


def _si(n: float) -> str:
    for unit, div in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= div:
            return f"{n / div:.2f}{unit}"
    return f"{n:.0f}"


def read_metrics(output: Path) -> list[dict[str, Any]]:
    path = output / METRICS
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def plot_loss(records: list[dict[str, Any]], path: Path, title: str) -> None:
    """LM and MTP losses against tokens seen, stage boundaries marked. (The total loss is not
    drawn: its MTP weight steps down mid-run, which would look like a loss drop.)"""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5))
    tokens = [r["tokens"] for r in records]
    for key, style in (("lm_loss", "-"), ("mtp_loss", ":")):
        ax.plot(tokens, [r[key] for r in records], style, label=key)
    val = [r for r in records if r.get("val_loss") is not None]
    if val:
        ax.plot(
            [r["tokens"] for r in val], [r["val_loss"] for r in val], "o--", ms=4, label="val_loss (held out)"
        )
    for prev, cur in zip(records, records[1:], strict=False):
        if cur["stage"] != prev["stage"]:
            ax.axvline(prev["tokens"], color="grey", lw=0.8)
            ax.text(prev["tokens"], ax.get_ylim()[1], f" {cur['stage']}", va="top", fontsize=8, color="grey")
    ax.set_xlabel("tokens seen")
    ax.set_ylabel("loss (nats/token)")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


class Reporter:
    def __init__(self, output: Path, cfg: TrainConfig, *, enabled: bool, quiet: bool = False) -> None:
        self.output, self.cfg, self.enabled = output, cfg, enabled
        self.console = Console(quiet=quiet or not enabled, highlight=False, soft_wrap=True)
        self.t0 = time.perf_counter()
        self.data_epoch: dict[str, int] = {}
        if enabled:
            output.mkdir(parents=True, exist_ok=True)

    def reset(self) -> None:
        (self.output / METRICS).unlink(missing_ok=True)
        (self.output / CURVE).unlink(missing_ok=True)

    def resumed(self, path: Path, step: int, world: int = 1) -> None:
        """Drop metrics logged after the checkpoint (they will be logged again)."""
        if not self.enabled:
            return
        kept = [r for r in read_metrics(self.output) if r["step"] <= step]
        (self.output / METRICS).write_text("".join(json.dumps(r) + "\n" for r in kept), encoding="utf-8")
        self.console.print(f"[bold]resumed[/] from {path} (step {step}, written by world {world})")

    def warn(self, msg: str) -> None:
        self.console.print(f"[yellow]warning:[/] {msg}")

    def start(self, world: int, total: int) -> None:
        self.t0 = time.perf_counter()
        stages = " -> ".join(f"{s.name}({s.seq_len}, {_si(s.tokens)} tok)" for s in self.cfg.stages)
        self.console.print(
            f"[bold]train[/] {self.cfg.run.name}: {stages}; {_si(total)} tokens; world {world}"
        )

    def stage(self, stage: StageCfg, tokens: int, rows: int) -> None:
        self.console.print(
            f"[bold cyan]stage {stage.name}[/] at {_si(tokens)} tokens: seq_len {stage.seq_len}, "
            f"RoPE theta {stage.rope_theta:g}, {rows} rows in {len(stage.streams)} stream(s)"
        )

    def step(self, r: dict[str, Any]) -> None:
        if not self.enabled:
            return
        with open(self.output / METRICS, "a", encoding="utf-8") as f:
            f.write(json.dumps(r) + "\n")
        if r["data_epoch"] > self.data_epoch.get(r["stage"], 0):
            self.warn(
                f"stage {r['stage']}: its streams are exhausted, repeating them (epoch {r['data_epoch'] + 1})"
            )
        self.data_epoch[r["stage"]] = r["data_epoch"]
        if r["step"] % self.cfg.log.every_steps:
            return
        total = self.cfg.total_tokens
        mfu = f" MFU {100 * r['mfu']:.1f}%" if r.get("mfu") is not None else ""
        val = ""
        if r.get("val_loss") is not None:
            bpb = f" {r['val_bpb']:.3f} bpb" if r.get("val_bpb") is not None else ""
            val = f" | val {r['val_loss']:.4f}{bpb}"
        self.console.print(
            f"{r['stage']:>14} step {r['step']:>5} | {_si(r['tokens'])}/{_si(total)} tok "
            f"({100 * r['tokens'] / total:4.1f}%) | loss {r['loss']:.4f} (lm {r['lm_loss']:.4f} "
            f"mtp {r['mtp_loss']:.4f}){val} | lr {r['lr']:.2e} | {_si(r['tokens_per_s'])} tok/s "
            f"{_si(r.get('model_flops', 0) / r['step_s'])}FLOP/s{mfu} | "
            f"load max/mean {r['expert_load']:.2f} (worst {r['expert_load_worst']:.2f})"
        )

    def saved(self, path: Path) -> None:
        self.console.print(f"[dim]checkpoint {path}[/]")

    def plot(self) -> None:
        records = read_metrics(self.output)
        if records:
            plot_loss(records, self.output / CURVE, self.cfg.run.name)

    def finish(self, complete: bool) -> dict[str, Any]:
        """Summary table per stage; also returned (rank 0) for callers and tests."""
        records = read_metrics(self.output) if self.enabled else []
        summary: dict[str, Any] = {"complete": complete, "steps": records[-1]["step"] if records else 0}
        summary["tokens"] = records[-1]["tokens"] if records else 0
        summary["final_loss"] = records[-1]["loss"] if records else None
        summary["wall_s"] = time.perf_counter() - self.t0
        summary["stages"] = {}
        table = Table(title=f"{self.cfg.run.name}: {'done' if complete else 'stopped'}")
        for col in ("stage", "steps", "tokens", "first loss", "last loss", "val loss", "val bpb", "tok/s"):
            table.add_column(col, justify="right")
        for s in self.cfg.stages:
            rs = [r for r in records if r["stage"] == s.name]
            if not rs:
                continue
            stage_tokens = sum(r["seq_len"] * r["batch_rows"] for r in rs)  # this stage's own
            tok_s = stage_tokens / sum(r["step_s"] for r in rs)
            val = [r for r in rs if r.get("val_loss") is not None]
            last_val = val[-1] if val else {}
            summary["stages"][s.name] = {
                "steps": len(rs),
                "tokens": stage_tokens,
                "first_loss": rs[0]["loss"],
                "last_loss": rs[-1]["loss"],
                "val_loss": last_val.get("val_loss"),
                "val_bpb": last_val.get("val_bpb"),
            }
            table.add_row(
                s.name,
                str(len(rs)),
                _si(stage_tokens),
                f"{rs[0]['loss']:.4f}",
                f"{rs[-1]['loss']:.4f}",
                f"{last_val['val_loss']:.4f}" if val else "-",
                f"{last_val['val_bpb']:.3f}" if val and last_val.get("val_bpb") is not None else "-",
                _si(tok_s),
            )
        if self.enabled and records:
            self.plot()
            self.console.print(table)
            self.console.print(
                f"{summary['steps']} steps, {_si(summary['tokens'])} tokens in {summary['wall_s']:.1f}s; "
                f"metrics {self.output / METRICS}, curve {self.output / CURVE}"
            )
        return summary
