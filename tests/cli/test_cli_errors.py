"""Every command-line mistake ends in the usage line and one ``error:`` line (or the help),
exit code 2, never a traceback; other failures are one line plus a traceback file.

The commands are discovered from the Typer app, so a new command or sub-command is covered
without touching this file.
"""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
import typing
from pathlib import Path

import pytest
import typer

from corpus import cli
from corpus.errors import UserError, first_line

FRAME_MARKS = ("Traceback", "╭", "│ /", 'File "', "site-packages")


def _root() -> typer.core.TyperGroup:
    cli._mount_subapps()
    return typer.main.get_command(cli.app)


def _paths(cmd, prefix=()) -> list[tuple[tuple[str, ...], object]]:
    """(argv prefix, click command) for every command and group under the root."""
    found = [(prefix, cmd)]
    for name, sub in getattr(cmd, "commands", {}).items():
        found += _paths(sub, (*prefix, name))
    return found


COMMANDS = _paths(_root())
LEAVES = [(p, c) for p, c in COMMANDS if not hasattr(c, "commands")]
GROUPS = [(p, c) for p, c in COMMANDS if hasattr(c, "commands")]


def _hints(cmd) -> dict[str, object]:
    return typing.get_type_hints(inspect.unwrap(cmd.callback)) if cmd.callback else {}


def _is_number(hint) -> bool:
    return hint in (int, float) or any(a in (int, float) for a in typing.get_args(hint))


def _long(param) -> str:
    return max((o for o in param.opts if o.startswith("--")), key=len)


def _required_args(cmd) -> list[str]:
    """Placeholders for the command's required arguments and options, so that the one
    mistake a case makes is the only error."""
    hints, argv = _hints(cmd), []
    for p in cmd.params:
        if not p.required:
            continue
        value = "1" if _is_number(hints.get(p.name)) else "placeholder"
        argv += [value] if p.param_type_name == "argument" else [_long(p), value]
    return argv


def _cases() -> list[tuple[str, list[str], str | None]]:
    """(id, argv, text the error must name): no arguments, an unknown option, and a value of
    the wrong type (a word for a number, a value for a flag) for every command."""
    cases = []
    for path, cmd in COMMANDS:
        name = " ".join(path) or "corpus"
        needs_args = hasattr(cmd, "commands") or any(p.required for p in cmd.params)
        if needs_args:
            cases.append((f"{name}: no arguments", list(path), None))
        if hasattr(cmd, "commands"):
            cases.append((f"{name}: unknown command", [*path, "no-such-command"], "no-such-command"))
            continue
        base = [*path, *_required_args(cmd)]
        cases.append((f"{name}: unknown option", [*base, "--no-such-option"], "--no-such-option"))
        hints = _hints(cmd)
        for p in cmd.params:
            if p.param_type_name != "option":
                continue
            if _is_number(hints.get(p.name)) and not p.required:
                cases.append((f"{name}: {_long(p)} word", [*base, _long(p), "many"], _long(p)))
            elif getattr(p, "is_flag", False) or hints.get(p.name) is bool:
                cases.append((f"{name}: {_long(p)}=value", [*base, f"{_long(p)}=yes"], _long(p)))
        cases.append((f"{name}: --help=value", [*base, "--help=3"], "--help"))
    return cases


def _run_main(argv: list[str], capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    captured = capsys.readouterr()
    return exit_info.value.code, captured.out, captured.err


def _assert_short(err: str) -> None:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) <= 3, err
    for mark in FRAME_MARKS:
        assert mark not in err, err


@pytest.mark.parametrize(("argv", "names"), [(a, n) for _, a, n in _cases()], ids=[i for i, _, _ in _cases()])
def test_command_line_mistakes_exit_2_with_one_line(argv, names, capsys):
    code, out, err = _run_main(argv, capsys)
    assert code == 2, (argv, out, err)
    _assert_short(err)
    if names is None:  # no arguments: the usage (help) or one error line
        assert "Usage:" in out + err
    else:
        assert names in err and err.splitlines()[-1].startswith("error: "), err


def test_every_command_is_covered():
    """The discovery above sees the sub-apps' commands (train, tokenizer) too."""
    names = {" ".join(p) for p, _ in COMMANDS}
    assert {"run", "inspect", "train", "train export", "tokenizer train"} <= names
    assert len(LEAVES) >= 8 and len(GROUPS) >= 3


def test_user_error_is_one_line(capsys, tmp_path):
    code, _, err = _run_main(["validate", str(tmp_path / "missing.yaml")], capsys)
    assert code == 2 and err.startswith("error: ") and "missing.yaml" in err
    _assert_short(err)


@pytest.fixture()
def failing_command():
    """A command that fails the way a bug does (a stand-in for any unexpected error)."""

    def explode() -> None:
        raise RuntimeError("disk on fire\n\nsecond line of detail")

    cli.app.command("explode-for-test")(explode)
    yield
    cli.app.registered_commands[:] = [c for c in cli.app.registered_commands if c.callback is not explode]


def test_unexpected_error_is_one_line_and_a_traceback_file(failing_command, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # re-read TMPDIR
    code, _, err = _run_main(["explode-for-test"], capsys)
    assert code == 1
    assert err.startswith("error: RuntimeError: disk on fire") and "second line" not in err
    _assert_short(err)
    (written,) = tmp_path.glob("corpus-error-*.txt")
    assert str(written) in err
    text = written.read_text()
    assert "Traceback" in text and "explode" in text and "second line of detail" in text


@pytest.mark.parametrize("where", ["first", "last"])
def test_debug_prints_the_traceback(failing_command, capsys, where):
    argv = ["--debug", "explode-for-test"] if where == "first" else ["explode-for-test", "--debug"]
    code, _, err = _run_main(argv, capsys)
    assert code == 1 and "Traceback" in err and "disk on fire" in err


def test_interrupt_is_one_line(capsys):
    def interrupted() -> None:
        raise KeyboardInterrupt

    cli.app.command("interrupt-for-test")(interrupted)
    try:
        code, _, err = _run_main(["interrupt-for-test"], capsys)
    finally:
        cli.app.registered_commands[:] = [
            c for c in cli.app.registered_commands if c.callback is not interrupted
        ]
    assert code == 130 and err.strip() in ("", "interrupted")


def test_first_line_of_long_messages():
    java = (
        "An error occurred while calling o31.load.\n"
        "org.apache.spark.SparkException: Could not connect to master\n\tat org.apache..."
    )
    assert first_line(java) == "SparkException: Could not connect to master"
    assert first_line('\nParser Error: syntax error at or near "form"\n\nLINE 1: ...') == (
        'Parser Error: syntax error at or near "form"'
    )
    assert len(first_line("x" * 1000)) == 300
    py4j = "An error occurred while calling o7.save.\n: org.apache.spark.SparkException: Job aborted\n\tat x"
    assert first_line(py4j) == "SparkException: Job aborted"
    worker = (
        "\n  An exception was thrown from the Python worker. Please see the stack trace below.\n"
        'Traceback (most recent call last):\n  File "w.py", line 3, in f\n    g()\nValueError: bad row\n'
    )
    assert first_line(worker) == "ValueError: bad row"
    assert str(UserError("a")) == "a"


def _corpus_bin() -> str:
    return str(Path(sys.executable).with_name("corpus"))


@pytest.mark.parametrize("argv", [[], ["run", "--bogus"], ["train"], ["inspect", "x", "--limit", "-1"]])
def test_installed_entry_point(argv):
    """The console script, as a user runs it (not a terminal, rich installed): same result."""
    env = {**os.environ, "COLUMNS": "200"}
    res = subprocess.run([_corpus_bin(), *argv], capture_output=True, text=True, env=env, timeout=120)
    assert res.returncode == 2, res
    _assert_short(res.stderr)
    assert "Usage:" in res.stdout + res.stderr


def test_debug_from_the_environment(failing_command, capsys, monkeypatch):
    monkeypatch.setenv("CORPUS_DEBUG", "1")
    code, _, err = _run_main(["explode-for-test"], capsys)
    assert code == 1 and "Traceback" in err


def test_exit_with_a_message_is_not_success(capsys):
    def leave() -> None:
        sys.exit("cannot go on")

    cli.app.command("exit-for-test")(leave)
    try:
        code, _, err = _run_main(["exit-for-test"], capsys)
    finally:
        cli.app.registered_commands[:] = [c for c in cli.app.registered_commands if c.callback is not leave]
    assert code == 1 and err.strip() == "cannot go on"
