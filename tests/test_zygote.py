"""The test zygote (tests/fixtures/zygote.py) gives each command a process of its own: the command's working
directory, exactly its environment, its exit code, and a kill when it outlives its timeout."""

from __future__ import annotations

import os
import signal
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


def test_a_started_command_runs_until_signalled_and_reports_the_signal(tmp_path: Path) -> None:
    serve = zygote.start(["serve", "--port", "0", "--data", str(tmp_path / "data")], cwd=tmp_path, merge=True)
    assert serve.pid != os.getpid() and serve.poll() is None  # running in a process of its own
    with pytest.raises(subprocess.TimeoutExpired):
        serve.wait(0.2)
    serve.kill()
    assert serve.wait(30) == -signal.SIGKILL == serve.returncode  # as subprocess reports a signal
    refused = zygote.start(["crawl", "nosuch"], cwd=tmp_path, merge=True)  # no settings.yaml here: an error
    assert refused.wait(60) == 2
    out, err = refused.communicate()
    assert err is None and "pushcrawl: error" in out  # stderr went into stdout, as with stderr=STDOUT
