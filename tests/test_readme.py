"""The README works as written: every command in its ```bash blocks runs, in a shell with the
venv activated as the README says, on the demo output, and exits 0.

The commands come from README.md itself, so an edited README is what gets tested. The demo
output is built once, the way ``make demo`` builds it (the bundled sample, then the README's
own ``corpus run pipelines/web.yaml``), in a scratch folder with copies of the checkout's
pipelines and manifests and links to its code and venv. Commands long by nature (training, benchmarks, torchrun, a
cluster URL) are on SKIP below with the reason, and printed when skipped.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
VENV = Path(sys.prefix)

SKIP: list[tuple[str, str]] = [
    (
        r"^make (demo|test)\b",
        "sets up the venv / runs the whole suite; the fixture builds the demo the same way",
    ),
    (r"^make (train-demo|bench|train-full-lengths)\b", "training or benchmarks: long by nature"),
    (r"^make\b", "make targets start with `make setup` (pip install into the venv this test runs in)"),
    (r"^corpus train\b", "training (export needs the training run's checkpoint)"),
    (r"^torchrun\b", "distributed training"),
    (r"spark://|spark-submit|--master\s+(?!local)", "needs a Spark cluster"),
    (r"^python3? -m tests\.cluster\b|tests/cluster\.py", "starts a Spark cluster"),
    (
        r"^corpus run pipelines/tokens\.yaml\b",
        "trains a tokenizer, builds three token streams: long by nature",
    ),
    (r"\bout/(tokens|train)\b", "reads the token streams or training run the skipped commands make"),
    (
        r"^corpus run pipelines/(multilingual|mathsci)\.yaml\b",
        "annotates with SmolLM2 in-process on CPU (~2 s a document, 4 min each on the sample); "
        "tests/service and tests/scoring run its stages, test_every_pipeline_validates the file",
    ),
    (
        r"^corpus run pipelines/midtrain(_demo)?\.yaml\b",
        "mid-training streams from tests/data (not in the scratch copy); tests/midtrain runs it scaled down",
    ),
]
"""(regex over the command, why it is not run here)."""

COPY = ("pipelines", "manifests", "classifiers")
"""Copied: paths inside them resolve from where they are, and must stay in the scratch folder
(the README rebuilds a shipped classifier in place: it must not rewrite the checkout's)."""
LINK = ("corpus", "pyproject.toml", "Makefile", "scripts")


def readme_commands(text: str) -> list[str]:
    """The commands of every ```bash block: comment-only lines dropped, trailing comments kept
    (bash ignores them), backslash continuations joined."""
    commands = []
    for block in re.findall(r"^```(?:bash|sh|shell|console)\n(.*?)^```", text, flags=re.M | re.S):
        pending = ""
        for line in block.splitlines():
            if not pending and (not line.strip() or line.lstrip().startswith("#")):
                continue
            if line.rstrip().endswith("\\"):
                pending += line.rstrip()[:-1] + " "
                continue
            command = (pending + line).strip().removeprefix("$ ")
            pending = ""
            commands.append(command)
    return commands


def skip_reason(command: str) -> str | None:
    for pattern, why in SKIP:
        if re.search(pattern, command):
            return why
    return None


def test_readme_commands_are_found():
    commands = readme_commands((ROOT / "README.md").read_text())
    assert "corpus validate pipelines/web.yaml" in [c.split("#")[0].strip() for c in commands]
    assert any(c.startswith("duckdb ") for c in commands)
    assert readme_commands("```bash\n# only a comment\nls -a \\\n  /tmp   # list\n```\n") == [
        "ls -a    /tmp   # list"
    ]


def _shell(command: str, cwd: Path, timeout: int = 1200) -> subprocess.CompletedProcess:
    """``command`` in bash after ``source .venv/bin/activate``, as the README instructs."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["PATH"] = "/usr/local/bin:/usr/bin:/bin"  # nothing of the test's own venv on PATH
    env["HF_HUB_OFFLINE"] = "1"
    script = f"source .venv/bin/activate && {command}"
    return subprocess.run(
        ["bash", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """A scratch checkout: links to the code and the venv, its own data/ and out/."""
    work = tmp_path_factory.mktemp("readme")
    for name in COPY:
        shutil.copytree(ROOT / name, work / name)
    for name in LINK:
        if (ROOT / name).exists():
            (work / name).symlink_to(ROOT / name)
    (work / ".venv").symlink_to(VENV)
    res = _shell("python -m corpus.sample --out data/sample/sample.warc.gz", work)
    assert res.returncode == 0, res.stderr[-3000:]
    return work


@pytest.mark.slow
def test_every_readme_command_runs(workdir, capsys):
    commands = readme_commands((ROOT / "README.md").read_text())
    ran, skipped, failures = [], [], []
    for command in commands:
        why = skip_reason(command)
        if why:
            skipped.append(f"{command.split('  #')[0].strip()}   [{why}]")
            continue
        started = time.monotonic()
        res = _shell(command, workdir)
        ran.append(f"{time.monotonic() - started:6.1f} s  {command.split('  #')[0].strip()}")
        if res.returncode != 0:
            failures.append(f"$ {command}\nexit {res.returncode}\n{res.stderr[-2000:]}")
        elif re.match(r"corpus run pipelines/web\.yaml\s*(#|$)", command):
            # the demo build itself: no noise a user cannot act on
            for noise in ("WARN", "Warning:", "UserWarning", "DeprecationWarning", "Setting default log"):
                assert noise not in res.stderr, f"{command}: {noise!r} on stderr:\n{res.stderr[-3000:]}"
    with capsys.disabled():
        print(f"\nREADME: ran {len(ran)} commands:")
        for line in ran:
            print(f"  {line}")
        print(f"skipped {len(skipped)}:")
        for line in skipped:
            print(f"  skipped: {line}")
    assert not failures, "\n\n".join(failures)
    assert any(shlex.split(c.split(" s  ", 1)[1])[:2] == ["corpus", "inspect"] for c in ran)


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "pipelines").glob("*.yaml")))
def test_every_pipeline_validates(name):
    """Every shipped pipeline file parses and binds (kinds, params, roles), including those the
    walk above skips as long by nature; train.yaml is the trainer's config."""
    if name == "train.yaml":
        from corpus.train.config import load_config

        assert load_config(ROOT / "pipelines" / name).stages
        return
    from corpus.spec import load_pipeline

    assert load_pipeline(ROOT / "pipelines" / name).stages
