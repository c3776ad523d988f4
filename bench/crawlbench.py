"""Shared pieces of the crawl benchmarks (web_crawl, sitemap_crawl, rerun_cost): timed children, nginx, machine.

Each measured process is a child of the benchmark, reaped with ``os.wait4``: its own CPU time and peak RSS
(``ru_maxrss``) come from the kernel, exact and unaffected by the other children (the file server). The CPU
time includes the processes it started and reaped (pushcrawl's local Push API child); ``child_cpu_s`` is their
share, sampled from /proc while they run (their last ~0.2 s may be missed, which counts against the parent).
"""

from __future__ import annotations

import os
import platform
import shutil
import socket
import subprocess
import tempfile
import threading
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
    child_cpu_s: float = 0.0  # of the processes it started (included in cpu_s)
    child_peak_mb: float = 0.0  # the sum of their peak RSS (not in peak_mb, which is the largest one process's)


def proc_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a running process, from /proc (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_peak_mb(pid: int) -> float:
    """Peak RSS (VmHWM) of a running process, from /proc (0 once it is gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    return next((int(ln.split()[1]) / 1024 for ln in status.splitlines() if ln.startswith("VmHWM:")), 0.0)


def _children(pid: int, seen: dict[int, tuple[float, float]], stop: threading.Event) -> None:
    while not stop.wait(0.2):
        own = proc_peak_mb(pid)
        seen[-1] = (0.0, max(seen.get(-1, (0.0, 0.0))[1], own))  # -1: the measured process itself
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    continue
                if ppid == pid:
                    child = int(entry.name)
                    cpu, peak = seen.get(child, (0.0, 0.0))
                    seen[child] = (max(cpu, proc_cpu_s(child)), max(peak, proc_peak_mb(child)))


def timed(argv: list[str], env: dict[str, str] | None = None, cwd: Path = ROOT) -> Run:
    """Wall time, CPU seconds and peak RSS of one child process (stderr kept in a file: no pipe to drain)."""
    with tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=err)
        seen: dict[int, tuple[float, float]] = {}
        stop = threading.Event()
        sampler = threading.Thread(target=_children, args=(proc.pid, seen, stop), daemon=True)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - started
        stop.set()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: tell Popen so it does not wait again
        err.seek(0)
        text = err.read().decode(errors="replace")
    cpu = usage.ru_utime + usage.ru_stime
    own_peak = seen.pop(-1, (0.0, 0.0))[1]
    children = (sum(c for c, _ in seen.values()), sum(p for _, p in seen.values()))
    peak = usage.ru_maxrss / 1024  # the largest of the process and its reaped children
    if children[1] and peak <= max(p for _, p in seen.values()):  # a child's: take the process's own, sampled
        peak = own_peak
    return Run(elapsed, cpu, peak, proc.returncode, text, *children)


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


NGINX = """
daemon off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/tmp; proxy_temp_path {prefix}/tmp; fastcgi_temp_path {prefix}/tmp;
    uwsgi_temp_path {prefix}/tmp; scgi_temp_path {prefix}/tmp;
    types {{ text/html html; application/xml xml; }}
    server {{ listen 127.0.0.1:{port}; root {site}; index index.html; }}
}}
"""


def start_nginx(prefix: Path, port: int, site: Path) -> subprocess.Popen[bytes]:
    """Our own nginx (Debian's nginx-light) serving ``site`` on 127.0.0.1:``port``, its files under ``prefix``.

    The caller waits for the port, and stops it by this pid (``terminate``: the master stops its worker)."""
    (prefix / "tmp").mkdir(parents=True, exist_ok=True)
    conf = prefix / "nginx.conf"
    conf.write_text(NGINX.format(prefix=prefix, port=port, site=site))
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    return subprocess.Popen([binary, "-c", str(conf), "-p", str(prefix)], stderr=subprocess.DEVNULL)
