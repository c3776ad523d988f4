"""The background worker that applies queued operations once they are due.

Push API writes only queue an operation (the HTTP answer means "queued", CONTRACT.md §2); this thread applies
them in (due time, arrival) order, each in its own transaction that also removes it from the queue, so a
restart resumes exactly where it stopped. Due times are wall-clock epoch seconds for the same reason.
Between operations it brings the search index up to date (textindex.py): when the queue has nothing due,
and every few thousand applied items during a long queue.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any

from crawler.localapi.apply_items import ItemApplier
from crawler.localapi.files import FileContainers
from crawler.localapi.identities import IdentityApplier
from crawler.localapi.store import Store
from crawler.localapi.textindex import SYNC_CHUNK

log = logging.getLogger(__name__)


class Worker:
    def __init__(self, store: Store, files: FileContainers) -> None:
        self.store = store
        self.files = files
        self.items = ItemApplier(store, files)
        self.identities = IdentityApplier(store, files)
        self.cond = threading.Condition()
        self._stop = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="localapi-worker", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self.cond:
            self._stop = True
            self.cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def poke(self) -> None:
        with self.cond:
            self.cond.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self.cond:
            while self.store.pending():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(min(left, 0.05))
        return True

    def _run(self) -> None:
        last_sweep = 0.0
        while True:
            with self.cond:
                if self._stop:
                    return
            with self.store.read() as db:
                op = db.execute("SELECT * FROM queue ORDER BY due, id LIMIT 1").fetchone()
            wait = 1.0 if op is None else op["due"] - time.time()
            if wait > 0:
                if self._index():
                    continue  # the index caught up with what was applied; look at the queue again
                with self.cond:
                    if not self._stop:
                        self.cond.wait(min(wait, 1.0))
                if time.monotonic() - last_sweep > 60:
                    last_sweep = time.monotonic()
                    self.files.sweep()
                continue
            try:
                self.apply(dict(op))
            except Exception:  # never lose the worker: log, drop the poisonous operation, go on
                log.exception("could not apply queued operation %s", op["id"])
                with self.store.write() as db:
                    db.execute("DELETE FROM queue WHERE id = ?", (op["id"],))
                    self.store.log(
                        db,
                        op["target"],
                        op["kind"].upper(),
                        "ERROR",
                        ordering_id=op["ordering_id"],
                        detail="internal error while applying; see the server log",
                        task="INDEXING",
                    )
            if self.store.unindexed() >= SYNC_CHUNK:
                self._index()  # a long queue still becomes searchable chunk by chunk
            with self.cond:
                self.cond.notify_all()

    def _index(self) -> bool:
        """Bring the search index up to date with the store; True when there was something to index."""
        try:
            done = self.store.index.sync()
        except Exception:  # the outbox keeps the entries: the next round retries them
            log.exception("could not update the search index")
            return False
        if done:
            with self.cond:
                self.cond.notify_all()
        return done > 0

    def apply(self, op: dict[str, Any]) -> None:
        payload = json.loads(op["payload"])
        kind, target, oid = op["kind"], op["target"], op["ordering_id"]
        source = self.store.source(target)
        if kind == "batch" and source is not None:
            # Applied in chunks (its own transactions); the queued operation goes with the last chunk.
            self.items.batch(
                source,
                payload["fileId"],
                oid,
                lambda db: db.execute("DELETE FROM queue WHERE id = ?", (op["id"],)),
            )
            return
        with self.store.write() as db:
            db.execute("DELETE FROM queue WHERE id = ?", (op["id"],))
            if kind.startswith("identity"):
                if kind == "identity":
                    self.identities.upsert(db, target, payload, oid, mapping=False)
                elif kind == "identity_mapping":
                    self.identities.upsert(db, target, payload, oid, mapping=True)
                elif kind == "identity_disable":
                    self.identities.disable(db, target, payload["identity"], oid)
                elif kind == "identity_batch":
                    self.identities.batch(db, target, payload["fileId"], oid)
                elif kind == "identity_olderthan":
                    self.identities.older_than(db, target, oid)
                return
            if source is None:
                self.store.log(db, target, kind.upper(), "ERROR", ordering_id=oid, detail="the source was deleted")
                return
            if kind == "document":
                self.items.document(db, source, payload, oid)
            elif kind == "delete":
                self.items.delete(db, source, payload["documentId"], payload["deleteChildren"], oid)
            elif kind == "olderthan":
                self.items.older_than(db, source, oid)
