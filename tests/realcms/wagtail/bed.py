"""The real Wagtail test bed: Wagtail 8 from PyPI, the small project in ``site/``, SQLite, Django's runserver.

    python tests/realcms/wagtail/bed.py start    # idempotent: install, migrate and seed once, then serve
    python tests/realcms/wagtail/bed.py stop     # stops the server named by its pid file
    python tests/realcms/wagtail/bed.py reset    # stop, then back to the freshly seeded database and media
    python tests/realcms/wagtail/bed.py wipe     # stop, then forget the data and the seed (not the venv)
    python tests/realcms/wagtail/bed.py manage … # any manage.py command against the bed's database

Everything it writes lives in ``${PUSHCRAWL_REALCMS_DIR:-/tmp/pushcrawl-realcms}/wagtail``: ``venv/`` (Wagtail
and its dependencies, kept apart from pushcrawl's own), ``data/`` (db.sqlite3, media, secret key),
``seed/`` (a copy of ``data/`` right after seeding, so ``reset`` takes seconds instead of migrating and
seeding again), ``server.pid``, ``port`` and ``server.log``. The server binds 127.0.0.1 on a free port (the
previous one when it is still free, so the Site's URLs stay put) and ``start`` prints its base URL. Standard
library only: the tests import it from pushcrawl's venv.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

SITE = Path(__file__).resolve().parent / "site"
#: the newest Wagtail 8 (the issue's "default-settings Wagtail 8 site")
REQUIREMENT = "wagtail>=8,<9"
START_TIMEOUT = 180.0  # a loaded 2-core machine takes ~20 s to import Wagtail and run its checks


def runtime_dir() -> Path:
    return Path(os.environ.get("PUSHCRAWL_REALCMS_DIR", "/tmp/pushcrawl-realcms")) / "wagtail"


@dataclass
class Bed:
    root: Path

    @property
    def python(self) -> Path:
        return self.root / "venv" / "bin" / "python"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def seed(self) -> Path:
        return self.root / "seed"

    @property
    def pid_file(self) -> Path:
        return self.root / "server.pid"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{(self.root / 'port').read_text().strip()}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHON"))}
        return {**env, "PUSHCRAWL_WAGTAIL_DATA": str(self.data), "DJANGO_SETTINGS_MODULE": "bedsite.settings"}

    def manage(self, *args: str) -> str:
        """Run ``manage.py ARGS`` in the bed's venv; its stdout, or RuntimeError with its stderr."""
        result = subprocess.run(
            [str(self.python), "manage.py", *args], cwd=SITE, env=self.env(), capture_output=True, text=True
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")
        return result.stdout

    def api(self, path: str) -> dict[str, object]:
        """GET an API v2 path (``pages/?limit=1``) as JSON, the way the docs tell a client to ask."""
        request = urllib.request.Request(f"{self.base_url}/api/v2/{path}", headers={"Accept": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return dict(json.load(response))

    # ---- lifecycle ----
    def running(self) -> bool:
        try:
            pid = int(self.pid_file.read_text())
            os.kill(pid, 0)
        except (OSError, ValueError):
            return False
        try:
            self.api("pages/?limit=1")
        except OSError:
            return False
        return True

    def install(self) -> None:
        if self.python.exists():
            return
        subprocess.run([sys.executable, "-m", "venv", str(self.root / "venv")], check=True)
        subprocess.run([str(self.python), "-m", "pip", "install", "-q", REQUIREMENT], check=True)

    def start(self) -> str:
        self.root.mkdir(parents=True, exist_ok=True)
        if self.running():
            return self.base_url
        self.stop()  # a stale pid file, or a server that stopped answering
        self.install()
        if not self.data.exists() and (self.seed / "seeded").exists():
            shutil.copytree(self.seed, self.data)
        self.data.mkdir(exist_ok=True)
        if not (self.data / "seeded").exists():
            self.manage("migrate", "--noinput", "-v0")
            self.manage("seed")
            (self.data / "seeded").touch()
            shutil.rmtree(self.seed, ignore_errors=True)
            shutil.copytree(self.data, self.seed)
        port = _free_port(self.root / "port")
        (self.root / "port").write_text(str(port))
        self.manage("bedsite", str(port))  # the Site record makes html_url; it must name the port we serve on
        with open(self.root / "server.log", "ab") as log:
            server = subprocess.Popen(
                [str(self.python), "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
                cwd=SITE,
                env=self.env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stop() ends it and only it
            )
        self.pid_file.write_text(str(server.pid))
        deadline = time.monotonic() + START_TIMEOUT
        while not self.running():
            if server.poll() is not None or time.monotonic() > deadline:
                self.stop()
                tail = (self.root / "server.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"the Wagtail bed did not start on port {port}:\n{tail}")
            time.sleep(0.5)
        return self.base_url

    def stop(self) -> None:
        try:
            pid = int(self.pid_file.read_text())
        except (OSError, ValueError):
            return
        try:
            os.killpg(pid, signal.SIGTERM)
            for _ in range(100):
                _reap(pid)
                os.kill(pid, 0)
                time.sleep(0.1)
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass  # gone already, or the pid was reused by a process that is not ours: leave it alone
        self.pid_file.unlink(missing_ok=True)

    def reset(self) -> None:
        """Back to the seeded content: the next ``start`` restores the seed copy (or seeds anew)."""
        self.stop()
        shutil.rmtree(self.data, ignore_errors=True)

    def wipe(self) -> None:
        self.reset()
        shutil.rmtree(self.seed, ignore_errors=True)


def _reap(pid: int) -> None:
    """Collect the server's exit status when this process started it (else a zombie looks alive)."""
    with contextlib.suppress(ChildProcessError):  # started by another process (the CLI): nothing to collect
        os.waitpid(pid, os.WNOHANG)


def _free_port(remembered: Path) -> int:
    """The port used last time when it is free again, else one the kernel picks."""
    candidates = [int(remembered.read_text())] if remembered.exists() else []
    for port in [*candidates, 0]:
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as runserver binds: TIME_WAIT is free
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise RuntimeError("no free port on 127.0.0.1")


def main(argv: list[str]) -> int:
    bed = Bed(runtime_dir())
    command = argv[0] if argv else ""
    if command == "start":
        print(bed.start())
    elif command == "stop":
        bed.stop()
    elif command == "reset":
        bed.reset()
    elif command == "wipe":
        bed.wipe()
    elif command == "manage":
        print(bed.manage(*argv[1:]), end="")
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
