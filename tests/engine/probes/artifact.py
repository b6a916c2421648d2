"""``probe_artifact``: commits ``model/weights.txt`` and ``card.json``, no rows."""

from __future__ import annotations

import json
import time

from corpus.engine import fs
from corpus.stages.base import StageContext, StageOutput, StageParams

INPUTS: dict = {}


class Params(StageParams):
    content: str = "weights"
    hold_s: float = 0.0
    """Sleep this long after writing the files (the SIGKILL test kills the run then)."""


def run(ctx: StageContext, params: Params) -> StageOutput:
    fs.makedirs(fs.join(ctx.artifacts_dir, "model"))
    with fs.open_binary_write(fs.join(ctx.artifacts_dir, "model", "weights.txt")) as f:
        f.write(params.content.encode())
    with fs.open_binary_write(fs.join(ctx.artifacts_dir, "card.json")) as f:
        f.write(json.dumps({"content_chars": len(params.content)}, sort_keys=True).encode())
    time.sleep(params.hold_s)
    return StageOutput(rows=None, metrics={"wrote": 2})
