"""``pushcrawl schedule``'s engine: run each site on its cron ``schedule``, each run in its own process.

Each run is ``python -m crawler.cli crawl SITE --settings FILE`` in a new session (so a terminal's Ctrl-C reaches
the scheduler only, which then decides what the children get), with its output in
``<state_dir>/logs/<site>/<start>.log`` and its JSON report beside it.

Never two runs of one site at once, on two levels: the scheduler does not start a site whose previous run it
launched is still alive (it logs "skipped"), and the crawl process itself holds the site's flock
(crawler.runlock), which also keeps a manual ``pushcrawl crawl`` and a second scheduler out, and which the
kernel releases when a run dies — a crashed run never blocks the next one.

Stopping (SIGTERM or SIGINT): no new runs start; running children get SIGTERM, on which Scrapy closes the
spider gracefully (in-flight batches finish, nothing is swept, the cursor is not advanced); children still
alive after ``grace_s`` are killed. With ``on_stop="wait"`` the scheduler waits for them to finish instead.
Either way it logs which children it waited for, terminated or killed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import IO

from croniter import croniter

from crawler.runlock import LOCKED_EXIT

logger = logging.getLogger("pushcrawl.schedule")

EXIT_MEANING = {
    0: "finished",
    1: "failed",
    2: "error",
    3: "refused (data-safety rule)",
    LOCKED_EXIT: "skipped (locked)",
}
POLL_S = 0.5


@dataclass
class Child:
    site: str
    proc: subprocess.Popen[bytes]
    log_path: Path
    log_file: IO[bytes]
    started: float = field(default_factory=time.monotonic)


@dataclass
class Job:
    site: str
    cron: str
    next_at: float = 0.0

    def advance(self, after: float) -> None:
        self.next_at = croniter(self.cron, datetime.fromtimestamp(after)).get_next(float)


class Scheduler:
    def __init__(
        self,
        settings_file: Path,
        schedules: dict[str, str],
        log_dir: Path,
        *,
        on_stop: str = "terminate",
        grace_s: float = 60.0,
        extra_args: list[str] | None = None,
    ) -> None:
        self.settings_file = settings_file
        self.jobs = [Job(site, cron) for site, cron in sorted(schedules.items())]
        self.log_dir = log_dir
        self.on_stop = on_stop
        self.grace_s = grace_s
        self.extra_args = extra_args or []
        self.children: dict[str, Child] = {}
        self.stopping = False

    def request_stop(self, signum: int = signal.SIGTERM, frame: FrameType | None = None) -> None:
        if not self.stopping:
            logger.info("received %s: no new runs will start", signal.Signals(signum).name)
        self.stopping = True

    def run(self) -> int:
        """Loop until a stop signal; returns an exit status."""
        now = time.time()
        for job in self.jobs:
            job.advance(now)
            logger.info("%s: schedule %r, next run at %s", job.site, job.cron, _fmt(job.next_at))
        while not self.stopping:
            self._reap()
            now = time.time()
            for job in self.jobs:
                if now >= job.next_at:
                    self._launch(job.site)
                    job.advance(now)
            wake = min([j.next_at for j in self.jobs] + [now + POLL_S])
            time.sleep(max(0.05, min(POLL_S, wake - time.time())))
        self._shutdown()
        return 0

    def _launch(self, site: str) -> None:
        running = self.children.get(site)
        if running is not None and running.proc.poll() is None:
            logger.warning(
                "%s: skipped — the previous run (pid %d, started %.0fs ago) is still going",
                site,
                running.proc.pid,
                time.monotonic() - running.started,
            )
            return
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        folder = self.log_dir / site
        folder.mkdir(parents=True, exist_ok=True)
        log_path = folder / f"{stamp}.log"
        argv = [sys.executable, "-m", "crawler.cli", "crawl", site, "--settings", str(self.settings_file)]
        argv += ["--report", str(folder / f"{stamp}.json"), *self.extra_args]
        log_file = log_path.open("ab")
        proc = subprocess.Popen(
            argv, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
        self.children[site] = Child(site, proc, log_path, log_file)
        logger.info("%s: started run (pid %d), log %s", site, proc.pid, log_path)

    def _reap(self) -> None:
        for site, child in list(self.children.items()):
            code = child.proc.poll()
            if code is None:
                continue
            child.log_file.close()
            del self.children[site]
            meaning = EXIT_MEANING.get(code, f"killed by {signal.Signals(-code).name}" if code < 0 else "failed")
            log = logger.info if code == 0 else logger.warning
            log(
                "%s: run (pid %d) ended after %.1fs: exit %d, %s — log %s",
                site,
                child.proc.pid,
                time.monotonic() - child.started,
                code,
                meaning,
                child.log_path,
            )

    def _shutdown(self) -> None:
        self._reap()
        alive = list(self.children.values())
        if not alive:
            logger.info("stopped; no run was in progress")
            return
        names = ", ".join(f"{c.site} (pid {c.proc.pid})" for c in alive)
        if self.on_stop == "wait":
            logger.info("stopping: waiting for %d running crawl(s) to finish: %s", len(alive), names)
            for child in alive:
                child.proc.wait()
        else:
            logger.info(
                "stopping: sent SIGTERM to %d running crawl(s): %s; they stop gracefully (no sweep, cursor kept),"
                " killed after %.0fs",
                len(alive),
                names,
                self.grace_s,
            )
            for child in alive:
                _signal(child.proc, signal.SIGTERM)
            deadline = time.monotonic() + self.grace_s
            for child in alive:
                try:
                    child.proc.wait(timeout=max(0.0, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    logger.warning(
                        "%s (pid %d) still running after %.0fs: killed", child.site, child.proc.pid, self.grace_s
                    )
                    _signal(child.proc, signal.SIGKILL)
                    child.proc.wait()
        self._reap()
        logger.info("stopped")


def _signal(proc: subprocess.Popen[bytes], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(proc.pid, sig)


def _fmt(ts: float) -> str:
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")
