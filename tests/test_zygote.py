"""The test zygote (tests/fixtures/zygote.py) gives each command a process of its own: the command's working
directory, exactly its environment, its exit code, and a kill when it outlives its timeout."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.fixtures import zygote


def test_a_command_runs_in_its_directory_with_exactly_its_environment(tmp_path: Path) -> None:
    (tmp_path / "settings.yaml").write_text("sites:\n  s:\n    connector: ${ZYGOTE_TEST_CONNECTOR}\n")
    env = {k: v for k, v in os.environ.items() if k != "ZYGOTE_TEST_CONNECTOR"}
    # settings.yaml is found in the command's directory; the variable is unset there: named, exit code 1
    missing = zygote.run(["check"], cwd=tmp_path, env=env)
    assert missing.returncode == 1, missing.stderr
    assert "environment variable ZYGOTE_TEST_CONNECTOR is not set" in missing.stdout
    # the same command with the variable set in its environment reads it
    given = zygote.run(["check"], cwd=tmp_path, env={**env, "ZYGOTE_TEST_CONNECTOR": "nosuch"})
    assert given.returncode == 1 and "unknown connector 'nosuch'" in given.stdout


def test_a_command_past_its_timeout_is_killed(tmp_path: Path) -> None:
    start = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired):
        zygote.run(["serve", "--port", "0", "--data", str(tmp_path / "data")], cwd=tmp_path, timeout=1)
    assert time.monotonic() - start < 60
    # the zygote still serves the next command
    assert zygote.run(["--version"], cwd=tmp_path).returncode == 0
