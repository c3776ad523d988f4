"""Shared fixtures: temporary settings files, and running the real CLI in a subprocess or in this process."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures import zygote

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "examples" / "demo"
SAMPLES = Path(__file__).resolve().parent / "sample_data"


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """``-n auto`` (pyproject.toml) means one worker per core, except for the real-CMS beds: each starts a
    real CMS from Debian's shared installation, so ``pytest -m realcms`` runs them one after the other."""
    markexpr = str(config.getoption("markexpr", "") or "")
    if "realcms" in markexpr and "not realcms" not in markexpr:
        return 0
    return None  # xdist's own count


@pytest.fixture
def write_settings(tmp_path: Path) -> Callable[[str], Path]:
    """Write a settings.yaml (dedented) into tmp_path and return its path."""

    def write(text: str, name: str = "settings.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write


def run_cli(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """Run ``pushcrawl`` for real, in its own process (Scrapy's reactor runs once per process), forked from
    the test process's zygote so that it does not import everything again (tests/fixtures/zygote.py)."""
    return zygote.run(list(args), cwd=cwd or ROOT, env={**os.environ, **(env or {})}, timeout=timeout)


def cli_in_process(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``pushcrawl`` through ``crawler.cli.main`` in this process, for commands that start no crawl
    (``search``, ``fields``…), where a process start would only add seconds: the same parser, command and
    exit code, stdout and stderr captured. Crawls stay in ``run_cli``: Scrapy's reactor is per process."""
    from crawler import secrets
    from crawler.cli import main

    out, err = io.StringIO(), io.StringIO()
    registered = set(secrets._secrets)
    with _environ(env or {}), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse errors and --help exit
            code = exc.code if isinstance(exc.code, int) else 1
        finally:
            # forget the secrets the command registered, as its process would have: a later test must not
            # see a value masked only because an earlier one loaded it
            with secrets._lock:
                secrets._secrets.intersection_update(registered)
    return subprocess.CompletedProcess(["pushcrawl", *args], code, out.getvalue(), err.getvalue())


@contextlib.contextmanager
def _environ(extra: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in extra}
    os.environ.update(extra)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def read_report(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_text(encoding="utf-8")))


def demo_settings(tmp_path: Path) -> Path:
    """A settings.yaml for the bundled demo site, with state and the local index under ``tmp_path``."""
    path = tmp_path / "settings.yaml"
    path.write_text(
        f"""
state_dir: state
targets:
  local: {{kind: local, data_dir: local-index}}
target: local
sites:
  demo:
    connector: sitemap
    options: {{sitemap_urls: ["{DEMO / "sitemap.xml"}"]}}
""",
        encoding="utf-8",
    )
    return path
