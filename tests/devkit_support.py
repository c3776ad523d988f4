"""Helpers for the development-kit tests (check, preview, tutorial): a scaffolded project and its fixture CMS.

A project is scaffolded in-process (fast, no reactor), and its fixture server is started as a real process,
as a user would (``python -m <pkg>.fixture --port P``). Commands run through the real CLI in a subprocess.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from crawler import scaffold
from tests.fixtures import zygote


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Project:
    root: Path
    package: str

    @property
    def env_var(self) -> str:
        return f"{self.package.upper()}_URL"

    def cli(
        self, *args: str, env: dict[str, str] | None = None, timeout: float = 180
    ) -> subprocess.CompletedProcess[str]:
        return zygote.run(list(args), cwd=self.root, env={**os.environ, **(env or {})}, timeout=timeout)


def new_project(parent: Path, package: str = "intranet") -> Project:
    return Project(scaffold.create(package, parent), package)


@contextmanager
def fixture_cms(project: Project, api_key: str | None = None) -> Iterator[str]:
    """Run the project's fixture CMS on a free port; yields its base URL."""
    port = free_port()
    argv = [sys.executable, "-m", f"{project.package}.fixture", "--port", str(port)]
    if api_key:
        argv += ["--api-key", api_key]
    proc = subprocess.Popen(argv, cwd=project.root, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "serving" in line, line
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)
