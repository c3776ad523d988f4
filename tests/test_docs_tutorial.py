"""docs/writing-a-connector.md runs: its blocks are executed in order in a temporary folder.

Executed blocks:
    ```console           lines ``$ command``; the lines after a command (up to the next ``$``) must appear in
                         its output (stdout + stderr), compared with runs of whitespace collapsed; the command
                         must exit 0. ``cd DIR`` moves; ``command &`` runs in the background until the end
                         (its first output line is awaited and checked). ``pushcrawl`` and ``python`` are this
                         interpreter.
    ```python file=PATH  written to PATH (relative to the current folder), replacing what was there.
Blocks of any other kind (```yaml, ```sh) are illustrations and are not run.

The fixture port 8765 of the text is replaced by a free port, and the site's ``${INTRANET_URL}`` is set to it,
so that the test never collides with something listening on 8765.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.devkit_support import free_port

pytestmark = pytest.mark.integration

DOC = Path(__file__).resolve().parents[1] / "docs" / "writing-a-connector.md"
FENCE = re.compile(r"^```(\w*)([^\n]*)\n(.*?)^```[ \t]*$", re.M | re.S)


def _norm(text: str) -> str:
    return " ".join(text.split())


def _argv(command: str) -> list[str]:
    argv = shlex.split(command)
    if argv[0] == "pushcrawl":
        return [sys.executable, "-m", "crawler.cli", *argv[1:]]
    if argv[0] == "python":
        return [sys.executable, *argv[1:]]
    return argv


def _console_steps(body: str) -> list[tuple[str, list[str]]]:
    steps: list[tuple[str, list[str]]] = []
    for line in body.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:].strip(), []))
        elif line.strip() and steps:
            steps[-1][1].append(line.strip())
    return steps


@pytest.mark.heavy
def test_tutorial_blocks_run_in_order(tmp_path: Path) -> None:
    port = str(free_port())
    text = DOC.read_text(encoding="utf-8").replace("8765", port)
    env = {**os.environ, "INTRANET_URL": f"http://127.0.0.1:{port}"}
    cwd = tmp_path
    background: list[subprocess.Popen[str]] = []
    ran = 0
    try:
        for match in FENCE.finditer(text):
            lang, info, body = match.group(1), match.group(2).strip(), match.group(3)
            if lang == "python" and info.startswith("file="):
                path = cwd / info.removeprefix("file=")
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(body, encoding="utf-8")
                ran += 1
                continue
            if lang != "console":
                continue
            for command, expected in _console_steps(body):
                ran += 1
                if command.startswith("cd "):
                    cwd = (cwd / command[3:].strip()).resolve()
                    continue
                if command.endswith("&"):
                    proc = subprocess.Popen(_argv(command[:-1]), cwd=cwd, env=env, stdout=subprocess.PIPE, text=True)
                    background.append(proc)
                    assert proc.stdout is not None
                    first = proc.stdout.readline()
                    for line in expected:
                        assert _norm(line) in _norm(first), f"{command!r}: expected {line!r}, got {first!r}"
                    continue
                if command.startswith("pushcrawl "):  # a real process, forked from the zygote (tests/conftest.py)
                    done = run_cli(*shlex.split(command)[1:], cwd=cwd, env=env, timeout=300)
                else:
                    done = subprocess.run(_argv(command), cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
                output = done.stdout + done.stderr
                assert done.returncode == 0, f"{command!r} exited {done.returncode}:\n{output[-3000:]}"
                for line in expected:
                    assert _norm(line) in _norm(output), f"{command!r}: expected {line!r} in:\n{output[-3000:]}"
    finally:
        for proc in background:
            proc.terminate()
            proc.wait(10)
    assert ran >= 12  # the tutorial did not silently lose its blocks
