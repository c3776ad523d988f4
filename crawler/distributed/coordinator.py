"""``pushcrawl crawl SITE --workers N``: the coordinator of a run spread over worker processes.

The coordinator is the ordinary run of crawler.runner — scope lock, run row, orderingId, ping, open target,
source status, the end-of-run steps, the history — with two parts swapped in (``run_site(scale_out=…)``):
the run ledger is Redis's (crawler.distributed.ledger), and the crawl phase is ``crawl`` below:

1. mirror the fingerprints workers compare with into Redis, publish the run (``run:info``, then ``current``);
2. start N local workers (``pushcrawl worker SITE`` subprocesses); more may join from other machines;
3. wait: the crawl is done when, in one MULTI/EXEC snapshot, the connector's start requests are in
   (``seeded``), the frontier is empty and every living worker is idle — then ``done`` is set, each worker
   closes its spider (flushing its pushes) and leaves its ``final`` record;
4. merge every acknowledged item into the SQLite state, sum the workers' stats, and hand the runner one
   ``CrawlOutcome``: the end-of-run steps then run once, over the whole run.

Before anything it takes the site's lock in Redis too, so a second coordinator on another machine (another
state directory, another flock) is refused before it touches the target.

A worker that dies (SIGKILL, a lost machine) or stops heartbeating for ``worker_timeout_s`` makes the run not
proven complete: it is named as an error, so nothing is swept and no cursor is committed. scrapy-redis pops a
request from the queue when a worker takes it, so what the dead worker held is gone from the frontier: rather
than guess which requests those were, the run is marked incomplete and the next run fetches them again (a
full run resumes its lineage; an incremental run starts again from the old cursor).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import redis

from connectors.base import Connector
from crawler import secrets
from crawler.config import CoveoTarget, Settings
from crawler.context import Run
from crawler.deletions import Listing
from crawler.distributed import shared
from crawler.distributed.config import DistributedConfig
from crawler.distributed.frontier import DONE, IDLE
from crawler.distributed.keys import Keys, SharedLock, connect
from crawler.distributed.ledger import RedisLedger
from crawler.distributed.runinfo import RunInfo, distributed_config, settings_digest
from crawler.errors import PushcrawlError, SettingsError, TargetError
from crawler.finish import CrawlOutcome
from crawler.jsontypes import JSONObject
from crawler.report import RunReport
from crawler.runlog import Verbosity
from crawler.state import StateStore

logger = logging.getLogger(__name__)

#: how often the coordinator looks at the run (seconds); the progress line is printed every PROGRESS_S
POLL_S, PROGRESS_S = 0.25, 5.0


class Coordinator:
    def __init__(
        self,
        settings: Settings,
        site: str,
        workers: int,
        *,
        target_override: str | None = None,
        overrides: list[str] | None = None,
        log_level: str = "INFO",
        verbosity: Verbosity = "normal",
    ) -> None:
        self.settings, self.site, self.workers = settings, site, workers
        self.target_override, self.overrides = target_override, list(overrides or [])
        self.log_level, self.verbosity = log_level, verbosity
        self.cfg: DistributedConfig = distributed_config(settings, site)
        self.target_name, target = settings.target_for(site, target_override)
        if not isinstance(target, CoveoTarget):
            raise TargetError(
                f"--workers needs a target every worker process can reach over HTTP: target {self.target_name!r}"
                " is the embedded local Push API of one process. Use a `kind: coveo` target (Coveo, or "
                "`pushcrawl serve` reached with base_url/platform_url)"
            )
        self.scope = f"{self.target_name}/{site}"
        self.client: redis.Redis | None = None
        self.keys = Keys(self.scope)
        self.procs: list[subprocess.Popen[bytes]] = []
        self.per_worker: dict[str, JSONObject] = {}

    # ---- the run ----
    def run(self, *, full: bool, allow_mass_deletion: bool) -> RunReport:
        from crawler.runner import run_site  # the runner imports this module's type only

        self.client = connect(self.cfg)
        holder = f"coordinator on {socket.gethostname()} pid {os.getpid()}"
        lock = SharedLock(self.client, self.keys, holder, max(30.0, self.cfg.worker_timeout_s * 2))
        lock.acquire()
        try:
            report = run_site(
                self.settings,
                self.site,
                full=full,
                target_override=self.target_override,
                allow_mass_deletion=allow_mass_deletion,
                log_level=self.log_level,
                verbosity=self.verbosity,
                scale_out=self,
            )
            report.extra["workers"] = self.per_worker
            self._record_workers(report)
            return report
        finally:
            self._stop_local_workers()
            self._drop_run_keys()
            lock.release()

    def _record_workers(self, report: RunReport) -> None:
        """Each worker's counts into the run's history row too, for ``pushcrawl runs``."""
        if not self.per_worker or not self.keys.run_id:
            return
        state = StateStore(self.settings.resolve_path(self.settings.state_dir) / "state.sqlite")
        try:
            counts = {**report.counts, "workers": self.per_worker}
            state.finish_run(self.keys.run_id, report.status, counts, secrets.redact(report.message))
        finally:
            state.close()

    def ledger(self, run_id: int) -> RedisLedger:
        assert self.client is not None
        self.keys = Keys(self.scope, run_id)
        self._drop_run_keys()  # a run id reused after a state file was reset must not inherit old facts
        return RedisLedger(self.client, self.keys)

    def crawl(self, run: Run, cls: type[Connector[Any]], since: str | None) -> CrawlOutcome:
        # Any: a connector loaded by name; its options type is known at run time
        client, keys = self.client, self.keys
        assert client is not None and run.source_id is not None
        try:
            mirrored = shared.mirror(
                client,
                keys,
                run.state,
                run.mode,
                run.sweep_from if run.sweep_from < run.ordering_id else 0,
                run.provider_id,
            )
            info = RunInfo(
                run.run_id,
                run.ordering_id,
                run.mode,
                run.sweep_from,
                since,
                run.source_id,
                run.provider_id,
                self.target_name,
                f"{socket.gethostname()} pid {os.getpid()}",
                settings_digest(self.settings, self.site, self.target_name),
            )
            client.set(keys.run("info"), info.dumps())
            client.set(keys.current, str(run.run_id))
            logger.info(
                "run %s of %s: %d fingerprint(s) shared, starting %d worker(s)",
                run.run_id,
                self.scope,
                mirrored,
                self.workers,
            )
            self._start_local_workers(run.run_id)
            reason, dead = self._wait(client, keys)
            merged, pending = shared.merge(client, keys, run.state, run.ordering_id, run.provider_id)
            logger.info("%d acknowledged item(s) committed from the workers", merged)
            return self._outcome(client, keys, run, cls, reason, dead, pending)
        except redis.RedisError as exc:
            raise PushcrawlError(
                f"lost Redis at {self.cfg.redis_url} during the run ({exc}): the run failed and nothing was swept;"
                " items acknowledged so far are pushed again by the next run"
            ) from None

    # ---- workers ----
    def _start_local_workers(self, run_id: int) -> None:
        state_dir = self.settings.resolve_path(self.settings.state_dir)
        (state_dir / "logs").mkdir(parents=True, exist_ok=True)
        for n in range(1, self.workers + 1):
            wid = f"{socket.gethostname()}-{os.getpid()}-{n}"
            argv = [
                sys.executable,
                "-m",
                "crawler.cli",
                "worker",
                self.site,
                "--settings",
                str(self.settings.source_file),
                "--worker-id",
                wid,
                "--quiet",
                "--log-level",
                self.log_level,
            ]
            if self.target_override:
                argv += ["--target", self.target_override]
            for override in self.overrides:
                argv += ["-s", override]
            with Path(state_dir / "logs" / f"{self.site}-{run_id}-worker-{n}.out").open("wb") as out:
                self.procs.append(subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT))

    def _stop_local_workers(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)

    def _wait(self, client: redis.Redis, keys: Keys) -> tuple[str, set[str]]:
        """Until every worker that joined has left its final record or died; returns (reason, dead workers)."""
        join_by = time.monotonic() + self.cfg.join_timeout_s
        shown = 0.0
        declared = False
        silence = Silence(self.cfg.worker_timeout_s)
        while True:
            pipe = client.pipeline(transaction=True)  # MULTI/EXEC: one consistent picture of the run
            pipe.zcard(keys.run("requests"))
            pipe.hgetall(keys.run("status"))
            pipe.get(keys.run("seeded"))
            pipe.hkeys(keys.run("final"))
            queued, status, seeded, finals = pipe.execute()
            registered = set(status)
            working = sorted(registered - set(finals))
            pipe = client.pipeline(transaction=False)
            for w in working:
                pipe.exists(keys.worker("hb", w))
            beating = {w for w, alive in zip(working, pipe.execute(), strict=True) if alive}
            dead = silence.dead(set(working), beating) | self._exited_without_final(registered, set(finals))
            living = registered - dead
            gave_up = bool(self.procs) and all(proc.poll() is not None for proc in self.procs)  # all exited
            if not registered and (time.monotonic() > join_by or gave_up):
                client.set(keys.run("done"), "no worker")
                return "no_worker_joined", set()
            if (
                not declared
                and registered
                and (
                    not living - set(finals)  # nobody left working: every worker finished or died
                    or (seeded and not queued and all(status[w] in (IDLE, DONE) for w in living))
                )
            ):
                client.set(keys.run("done"), "1")
                declared = True
            if declared and living <= set(finals):
                return ("finished" if not dead else "worker_died"), dead
            if self.verbosity != "quiet" and time.monotonic() - shown >= PROGRESS_S:
                shown = time.monotonic()
                self._progress(client, keys, len(living - set(finals)), len(registered), int(queued))
            time.sleep(POLL_S)

    def _exited_without_final(self, registered: set[str], finals: set[str]) -> set[str]:
        """Local workers whose process ended without a final record: dead now, not after the heartbeat lapses."""
        out = set()
        for n, proc in enumerate(self.procs, 1):
            wid = f"{socket.gethostname()}-{os.getpid()}-{n}"
            if proc.poll() is not None and wid in registered and wid not in finals:
                out.add(wid)
        return out

    def _progress(self, client: redis.Redis, keys: Keys, alive: int, joined: int, queued: int) -> None:
        totals: dict[str, int] = {}
        for raw in client.hvals(keys.run("progress")):
            for k, v in json.loads(raw).items():
                totals[k] = totals.get(k, 0) + int(v)
        print(
            f"pushcrawl: workers alive {alive}/{joined} · frontier {queued} · fetched "
            f"{totals.get('downloader/response_count', 0)} · pushed {totals.get('pushcrawl/pushed', 0)} · "
            f"unchanged {totals.get('pushcrawl/unchanged', 0)} · errors {totals.get('pushcrawl/errors', 0)}",
            file=sys.stderr,
            flush=True,
        )

    # ---- the one outcome ----
    def _outcome(
        self,
        client: redis.Redis,
        keys: Keys,
        run: Run,
        cls: type[Connector[Any]],  # Any: a connector loaded by name; its options type is known at run time
        reason: str,
        dead: set[str],
        pending: int,
    ) -> CrawlOutcome:
        stats: JSONObject = {}
        cursors: list[str] = []
        reasons = []
        for wid, raw in sorted(client.hgetall(keys.run("final")).items()):
            final = json.loads(raw)
            reasons.append(final["reason"])
            for k, v in final["stats"].items():
                stats[k] = stats.get(k, 0) + v
            if final.get("cursor"):
                cursors.append(final["cursor"])
            self.per_worker[str(wid)] = {"reason": final["reason"], **_counts(final["stats"])}
        for wid in sorted(dead):
            self.per_worker[str(wid)] = {"reason": "died"}
            run.ledger.record_error(
                f"worker {wid}",
                "died or stopped heartbeating: the requests it had taken from the frontier are lost, so the run is"
                " not proven complete (nothing swept, no cursor) and the next run fetches them again",
            )
        if pending:
            run.ledger.record_error("journal", f"{pending} batch(es) sent but never acknowledged")
        stats["pushcrawl/errors"] = stats.get("pushcrawl/errors", 0) + len(dead) + (1 if pending else 0)
        not_finished = [r for r in reasons if r != "finished"]
        if reason == "finished" and not_finished:
            reason = not_finished[0]
        listing = Listing(frozenset(str(i) for i in client.smembers(keys.run("listed")))) if cls.lists_all_ids else None
        cursor = max(cursors) if cursors and reason == "finished" else None
        return CrawlOutcome(reason, stats, cursor, listing)

    def _drop_run_keys(self) -> None:
        if self.client is None or not self.keys.run_id:
            return
        try:
            if self.client.get(self.keys.current) == str(self.keys.run_id):
                self.client.delete(self.keys.current)
            batch = list(self.client.scan_iter(match=self.keys.run_prefix + "*", count=1000))
            for start in range(0, len(batch), 1000):
                self.client.delete(*batch[start : start + 1000])
        except redis.RedisError as exc:
            logger.warning("could not remove the run's keys from Redis (%s); they do no harm", exc)


class Silence:
    """Which workers are dead by silence: only one whose heartbeat the coordinator saw and then saw lapse (its
    key expires ``worker_timeout_s`` after its last beat), or one registered for ``worker_timeout_s`` of the
    coordinator's own time without ever showing a heartbeat. A worker registered a moment before its first beat
    reached Redis — or a worker whose start is slow — is not dead. Dead is for good: what it held is lost."""

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self.seen: dict[str, float] = {}  # worker → when the coordinator first saw it registered (monotonic)
        self.beat: set[str] = set()  # workers whose heartbeat the coordinator has seen
        self.gone: set[str] = set()

    def dead(self, working: set[str], beating: set[str]) -> set[str]:
        now = time.monotonic()
        self.beat |= beating
        for w in working - beating:
            first = self.seen.setdefault(w, now)
            if w in self.beat or now - first >= self.timeout_s:
                self.gone.add(w)
        return set(self.gone)


def _counts(stats: JSONObject) -> dict[str, int]:
    return {
        "fetched": int(stats.get("downloader/response_count", 0)),
        "documents": int(stats.get("pushcrawl/documents", 0)),
        "pushed": int(stats.get("pushcrawl/pushed", 0)),
        "unchanged": int(stats.get("pushcrawl/unchanged", 0)),
        "errors": int(stats.get("pushcrawl/errors", 0)),
    }


def refuse_dry_run() -> None:
    raise SettingsError("command line", "--workers", "a real run: --dry-run runs in one process (drop --workers)")
