"""The local Push API in a child process: a crawl's embedded target, ingesting off the crawl's GIL.

With the server in a thread of the crawl, its HTTP handling, batch apply and search indexing share one
interpreter lock with Scrapy: about a sixth of a sitemap crawl's samples were the target's, time the crawl
could not spend fetching. In a real deployment that work is Coveo's, on another machine; here it is a child
process, on another core. ``LocalAPIProcess`` has the surface the crawl uses of ``LocalPushAPI``
(``start``, ``base_url``, ``wait_idle``, ``stop``), and the client reaches it over HTTP exactly as before.

Nothing about safety changes: a 202 still means the operation is in the child's SQLite queue (the same
server code answers it), ``wait_idle`` asks the child's worker, and ``stop`` waits for the child to stop its
server and worker and exit. The pipes are the whole protocol, one JSON object a line:

- parent → child (stdin): the configuration first (the API key travels here: never on argv or in the
  environment), then ``{"idle": seconds}`` requests; end of file means stop (so a crawl that dies, even by
  SIGKILL, stops its child too);
- child → parent (stdout): ``{"port": N}`` once listening (or ``{"error": "..."}``), ``{"idle": bool}`` answers,
  and ``{"log": [level, logger, message]}`` for the child's log records, re-emitted in the crawl's log.

The child ignores SIGINT and SIGTERM: a ^C on the terminal reaches the whole process group, and the crawl,
stopping gracefully, still pushes and then closes the pipe; the child stops at that end of file.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO

from crawler.jsontypes import JSONData, JSONObject

log = logging.getLogger("crawler.localproc")  # the same name when run as ``python -m``

#: seconds for the child to import, open its store and listen (a cold start is ~0.5 s)
START_TIMEOUT_S = 60.0
#: seconds ``gone`` waits for the child to be reaped before saying it is alive (a connection error's own cause)
GONE_WAIT_S = 1.0
#: seconds ``stop`` waits for the child's own stop (server shutdown, then its worker's threads: 30 s each)
STOP_TIMEOUT_S = 90.0
_ROOT = Path(__file__).resolve().parent.parent  # the folder holding the ``crawler`` package


class LocalAPIProcess:
    """Start, query and stop ``python -m crawler.localproc`` serving ``data_dir`` on 127.0.0.1."""

    def __init__(self, data_dir: Path, org_id: str, api_keys: list[str]) -> None:
        self.data_dir = Path(data_dir)
        self.org_id = org_id
        self.port = 0
        self._keys = api_keys
        self._proc: subprocess.Popen[str] | None = None
        self._replies: queue.Queue[JSONObject | None] = queue.Queue()
        self._reader: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def start(self) -> None:
        env = dict(os.environ)
        # the child imports ``crawler`` from where this one came, installed or not
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_ROOT), env.get("PYTHONPATH", "")) if p)
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "crawler.localproc"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            env=env,
        )
        assert self._proc.stdin is not None and self._proc.stdout is not None  # both are pipes
        self._reader = threading.Thread(
            target=self._read, args=(self._proc.stdout,), name="localapi-child-reader", daemon=True
        )
        self._reader.start()
        level = logging.getLogger("crawler.localapi").getEffectiveLevel()
        config = {"data_dir": str(self.data_dir), "org_id": self.org_id, "api_keys": self._keys, "level": level}
        first = self._ask(config, START_TIMEOUT_S)
        if first is None or "port" not in first:
            self.stop()
            why = first.get("error") if first else "it exited or did not answer"
            raise OSError(f"the local Push API (child process) did not start: {why}")
        self.port = int(str(first["port"]))
        log.info("local Push API in child process %s listening on %s", self._proc.pid, self.base_url)

    def gone(self) -> str | None:
        """Why the child can no longer answer (it exited without being stopped), else None: what the crawl's
        Push API client asks on a connection error, so that it stops at once instead of retrying."""
        proc = self._proc
        if proc is None:
            return None
        try:
            # asked on a connection error only: a child being killed closes its sockets just before it can be
            # reaped, so the error can come first; a child that is alive answers None after the wait
            code = proc.wait(GONE_WAIT_S)
        except subprocess.TimeoutExpired:
            return None
        return f"the local Push API child process {proc.pid} exited (status {code})"

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """True once the child applied every queued operation; False on timeout or when the child is gone."""
        answer = self._ask({"idle": timeout}, timeout + 30.0)
        return bool(answer and answer.get("idle"))

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            if proc.stdin is not None:
                proc.stdin.close()  # end of file: the child stops its server and worker, then exits
        except OSError:
            pass  # already gone
        try:
            proc.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            log.warning("the local Push API child %s did not stop in %ss: killed", proc.pid, STOP_TIMEOUT_S)
            proc.kill()
            proc.wait()
        if self._reader is not None:
            self._reader.join(timeout=10)
        if proc.returncode:
            log.warning("the local Push API child %s exited with status %s", proc.pid, proc.returncode)

    def _ask(self, message: JSONObject, timeout: float) -> JSONObject | None:
        with self._lock:
            proc = self._proc
            if proc is None or proc.stdin is None:
                return None
            try:
                proc.stdin.write(json.dumps(message) + "\n")
                proc.stdin.flush()
                return self._replies.get(timeout=timeout)
            except (OSError, queue.Empty):
                return None

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            try:
                msg = json.loads(line)
            except ValueError:  # something in the child printed: keep it, as a log line
                log.info("local Push API child: %s", line.rstrip())
                continue
            if "log" in msg:
                level, name, text = msg["log"]
                logging.getLogger(name).log(level, "%s", text)
            else:
                self._replies.put(msg)
        self._replies.put(None)  # the child is gone: whoever waits gets no answer
        proc = self._proc
        if proc is not None and self.port:  # not stopped by us: nothing more can be pushed or applied
            log.error(
                "the local Push API child %s exited (status %s) while the crawl still needed it: what was not "
                "acknowledged is not sent, and the run will not count as complete",
                proc.pid,
                proc.wait(),
            )


class _Out:
    """The child's stdout: one JSON object a line, from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def send(self, message: dict[str, JSONData]) -> None:
        with self._lock:
            sys.stdout.write(json.dumps(message) + "\n")
            sys.stdout.flush()


class _ToParent(logging.Handler):
    def __init__(self, out: _Out) -> None:
        super().__init__()
        self.out = out

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:  # the redacting filter may have left only this (crawler.secrets)
            text += "\n" + record.exc_text
        self.out.send({"log": [record.levelno, record.name, text]})


def main() -> int:
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)  # the crawl stops us by closing the pipe (module docstring)
    from crawler import malloc, secrets

    malloc.tune()  # as the CLI does, before any thread starts
    out = _Out()
    config = json.loads(sys.stdin.readline() or "{}")
    for key in config.get("api_keys", []):
        secrets.register(key)
    root = logging.getLogger()
    root.addHandler(_ToParent(out))
    root.setLevel(int(config.get("level", logging.INFO)))
    secrets.install_log_filter()
    from crawler.localapi import LocalPushAPI

    try:
        # no one browses a crawl's local API (its key is this run's): the Content Browser loads only if asked for
        server = LocalPushAPI(
            Path(config["data_dir"]), org_id=config["org_id"], api_keys=config["api_keys"], warm_browser=False
        )
        server.start()
    except Exception as exc:  # any failure to start is told to the parent, which raises it
        out.send({"error": f"{type(exc).__name__}: {exc}"})
        return 1
    out.send({"port": server.port})
    try:
        for line in sys.stdin:
            request = json.loads(line)
            if "idle" in request:
                out.send({"idle": server.wait_idle(float(request["idle"]))})
    finally:
        server.stop()
        log.info("local Push API child %s stopped: %s", os.getpid(), _usage())
    return 0


def _usage() -> str:
    """Its peak RSS and CPU, for the crawl's log (this process's cost is no longer in the crawl's own figures).
    VmHWM, not ru_maxrss: Linux carries the forking parent's size into an exec'd child's ru_maxrss."""
    cpu = os.times()
    try:
        status = Path("/proc/self/status").read_text()
        peak = next(int(ln.split()[1]) // 1024 for ln in status.splitlines() if ln.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return f"{cpu.user + cpu.system:.1f} CPU-s"
    return f"peak RSS {peak} MB, {cpu.user + cpu.system:.1f} CPU-s"


if __name__ == "__main__":
    sys.exit(main())
