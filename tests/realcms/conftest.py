"""Shared helpers of the real-CMS beds and their end-to-end tests.

- where a bed keeps its runtime state (``$PUSHCRAWL_REALCMS_DIR``, default ``/tmp/pushcrawl-realcms``; never
  inside the work tree), a free loopback port, stopping a process by its pid file;
- ``require``: skip when a bed's Debian package is not installed, but fail under ``CI=true`` (CI installs them);
- ``Index``: a tmp settings.yaml with one site and a local target, the real ``pushcrawl`` CLI to crawl it,
  and the index read back through ``pushcrawl search`` (anonymous or ``--as`` an identity), or, for many
  queries in a row, through ``Index.reader()``: the same local Push API started in this process on the same
  data, with the same client and token look-up the CLI uses (one CLI call costs seconds on a loaded machine).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from crawler.config import LocalTarget, load_settings
from crawler.identities import provider_id
from crawler.pushapi.client import PushApiClient
from crawler.targets import source_name_for, start_local
from tests.conftest import read_report, run_cli


def realcms_dir(cms: str) -> Path:
    """The runtime directory of one bed (created); outside the work tree so a bed survives a checkout."""
    path = Path(os.environ.get("PUSHCRAWL_REALCMS_DIR", "/tmp/pushcrawl-realcms")) / cms
    path.mkdir(parents=True, exist_ok=True)
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def require(paths: list[str], package: str) -> None:
    """Skip the bed's tests when ``package`` is missing; under CI a missing package is a failure."""
    missing = [p for p in paths if not Path(p).exists()]
    if not missing:
        return
    message = f"{package} is not installed ({', '.join(missing)} missing): apt-get install {package}"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def pid_alive(pid_file: Path) -> bool:
    try:
        os.kill(int(pid_file.read_text().strip()), 0)
    except (FileNotFoundError, ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


def stop_pid(pid_file: Path, expect: str = "", timeout: float = 20) -> None:
    """Stop the one process named by ``pid_file`` (SIGTERM, then SIGKILL), never anything found by name.

    ``expect``: a word of its command line; a stale pid file whose pid now belongs to another program is only
    removed (pids are reused after a crash or a reboot)."""
    try:
        pid = int(pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        cmdline = ""
    if expect and expect not in cmdline:
        pid_file.unlink(missing_ok=True)
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        else:
            continue
        break
    pid_file.unlink(missing_ok=True)


class Index:
    """One site crawled by the real CLI into the local Push API kept in ``workdir``."""

    def __init__(
        self,
        workdir: Path,
        connector: str,
        options: dict[str, Any],
        security: str = "everyone",
        env: dict[str, str] | None = None,
    ) -> None:
        """``env``: the variables the settings reference (secrets), given to every CLI call."""
        self.workdir = workdir
        self.env = env or {}
        self.settings = workdir / "settings.yaml"
        self.settings.write_text(
            "target: local\n"
            "targets:\n  local: {kind: local, data_dir: local-index}\n"
            f"state_dir: state\nsites:\n  cms:\n    connector: {connector}\n"
            f"    options: {json.dumps(options)}\n    security: {{mode: {security}}}\n",
            encoding="utf-8",
        )
        self.runs = 0

    def crawl(self, *extra: str, ok: bool = True) -> dict[str, Any]:
        """``pushcrawl crawl cms``; returns the JSON run report (asserted finished without errors if ``ok``)."""
        self.runs += 1
        report = self.workdir / f"report-{self.runs}.json"
        result = run_cli(
            "crawl", "cms", "--settings", str(self.settings), "--report", str(report), *extra, env=self.env, timeout=600
        )
        data = read_report(report) if report.exists() else {}
        if ok:
            assert result.returncode == 0, (result.stdout + result.stderr)[-6000:]
            assert data["status"] == "finished" and data["counts"]["errors"] == 0, data
        data["_log"] = result.stdout + result.stderr
        return data

    def search(self, query: str = "", identity: str | None = None, count: int = 1000) -> list[dict[str, Any]]:
        """``pushcrawl search`` (``--as identity``): the results, after everything queued is applied."""
        args = ["search", query, "--json", "-n", str(count), "--settings", str(self.settings)]
        if identity:
            args += ["--as", identity]
        result = run_cli(*args, env=self.env)
        assert result.returncode == 0, result.stderr[-3000:]
        return list(json.loads(result.stdout).get("results", []))

    def uris(self, query: str = "", identity: str | None = None) -> set[str]:
        return {str(hit.get("uri") or hit.get("clickUri")) for hit in self.search(query, identity)}

    @contextmanager
    def reader(self) -> Iterator[Reader]:
        """The local index of this site served in-process for a series of searches."""
        saved = {k: os.environ.get(k) for k in self.env}
        os.environ.update(self.env)  # the settings' ${VAR} references, as the CLI would see them
        try:
            settings = load_settings(str(self.settings))
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        _, target = settings.target_for(None, None)
        assert isinstance(target, LocalTarget)
        providers = tuple(
            sorted({provider_id(settings, target, source_name_for(settings, s, target)) for s in settings.sites})
        )
        server, client = start_local(settings, target)
        try:
            yield Reader(client, providers)
        finally:
            server.stop()


class Reader:
    """Searches of one local index, as ``pushcrawl search [--as IDENTITY]`` makes them."""

    def __init__(self, client: PushApiClient, providers: tuple[str, ...]) -> None:
        self.client = client
        self.providers = providers

    def search(self, query: str = "", identity: str | None = None, count: int = 1000) -> list[dict[str, Any]]:
        token = self.client.search_token(identity, None, also_in=self.providers) if identity else None
        return list(self.client.search(query, token=token, count=count).get("results", []))

    def uris(self, query: str = "", identity: str | None = None) -> set[str]:
        return {str(hit.get("uri") or hit.get("clickUri")) for hit in self.search(query, identity)}
