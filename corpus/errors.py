"""Errors that are the user's to fix (one line, exit code 2), and how any other error is shown.

The CLI (``corpus.cli.main``) prints a :class:`UserError` as ``error: <message>``. Anything
else is a bug or an environment failure: it prints one line with the error and the path of a
file holding the full traceback (``--debug`` prints the traceback instead), never a wall of
frames by default.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
import traceback
from pathlib import Path

MAX_LINE = 300
"""Characters of an error message shown on the one line (Java messages can be pages long)."""

_NOISE = re.compile(r"^(An error occurred while calling [\w.$]+\.?|Traceback \(most recent call last\):)$")
_JAVA_PACKAGE = re.compile(r"^(?:[a-z_$][\w$]*\.)+(?=[A-Z][\w$]*(?:Exception|Error):)")


class UserError(Exception):
    """A mistake the user can fix (bad path, missing model, unwritable output): one clear line."""


def first_line(message: object, limit: int = MAX_LINE) -> str:
    """The first meaningful line of an error message, at most ``limit`` characters.

    Skips blank lines and py4j's "An error occurred while calling o42.load." preamble, drops
    the package of a Java exception (``: org.apache.spark.SparkException:`` ->
    ``SparkException:``) and, for an error a Python worker raised (the message carries its
    traceback), takes the traceback's exception line. So DuckDB's ``Parser Error: syntax
    error at or near "form"`` and Spark's first cause stay readable on one line.
    """
    raw = str(message).splitlines()
    for i, text in enumerate(raw):
        if text.strip().startswith("Traceback (most recent call last):"):
            after = [t for t in raw[i + 1 :] if t.strip() and not t[:1].isspace()]
            if after:
                raw = after
            break
    for text in raw:
        line = text.strip().lstrip(":").strip()
        if not line or _NOISE.match(line):
            continue
        line = _JAVA_PACKAGE.sub("", line)
        return line if len(line) <= limit else line[: limit - 1] + "…"
    return ""


def describe(exc: BaseException) -> str:
    """``TypeName: first line of the message`` (the type alone when the message is empty)."""
    line = first_line(exc)
    return f"{type(exc).__name__}: {line}" if line else type(exc).__name__


def write_traceback(exc: BaseException, folder: str | None = None) -> Path:
    """Write the full traceback of ``exc`` to a new file under ``folder`` (default: the temp
    dir) and return its path; the name carries the time and the process id."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = Path(folder or tempfile.gettempdir()) / f"corpus-error-{stamp}-{os.getpid()}.txt"
    path.write_text("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
    return path
