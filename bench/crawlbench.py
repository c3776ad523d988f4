"""Shared pieces of the crawl benchmarks (bench/web_crawl.py, bench/sitemap_crawl.py): timed children, machine.

Each measured process is a child of the benchmark, reaped with ``os.wait4``: its own CPU time and peak RSS
(``ru_maxrss``) come from the kernel, exact and unaffected by the other children (the file server).
"""

from __future__ import annotations

import os
import platform
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Run:
    seconds: float
    cpu_s: float
    peak_mb: float
    status: int
    stderr: str


def timed(argv: list[str], env: dict[str, str] | None = None, cwd: Path = ROOT) -> Run:
    """Wall time, CPU seconds and peak RSS of one child process (stderr kept in a file: no pipe to drain)."""
    with tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: tell Popen so it does not wait again
        err.seek(0)
        text = err.read().decode(errors="replace")
    return Run(elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, proc.returncode, text)


def bare_script(work: Path, source: str) -> str:
    """The bare spider as a file: Scrapy reads its callbacks' source (``python -c`` code has none)."""
    path = work / "bare_spider.py"
    path.write_text(source)
    return str(path)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


def machine() -> str:
    cpu = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        ),
        platform.processor(),
    )
    mem = next(ln.split()[1] for ln in Path("/proc/meminfo").read_text().splitlines() if ln.startswith("MemTotal"))
    load = Path("/proc/loadavg").read_text().split()[:3]
    return (
        f"machine: {os.cpu_count()} CPU ({cpu}), {int(mem) // 1024 // 1024} GB RAM, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}; load average {' '.join(load)}"
    )


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


HEADER = f"{'round':>5} {'crawler':10} {'pages':>6} {'s':>7} {'pages/s':>8} {'CPU s':>7} {'peak MB':>8}  load"


def row(n: int, who: str, pages: int, seconds: float, cpu_s: float, peak_mb: float) -> str:
    return f"{n:>5} {who:10} {pages:>6} {seconds:>7.1f} {pages / seconds:>8.1f} {cpu_s:>7.1f} {peak_mb:>8.0f}  {load()}"
