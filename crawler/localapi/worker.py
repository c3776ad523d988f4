"""The background worker that applies queued operations once they are due.

Push API writes only queue an operation (the HTTP answer means "queued", docs/push-api-contract.md, "What a 2xx
means"); this thread applies
them in (due time, arrival) order, each in its own transaction that also removes it from the queue, so a
restart resumes exactly where it stopped. Due times are wall-clock epoch seconds for the same reason.
A second thread brings the search index up to date (textindex.py): in chunks of a few thousand items while
operations are due, and whatever is left once the queue has nothing due.
"""

from __future__ import annotations

import json
import logging
import threading
import time

from crawler import malloc
from crawler.jsontypes import JSONObject
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
        self._busy = False  # operations are due: the indexer waits for whole chunks
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        self._stop = False
        self._threads = [
            threading.Thread(target=self._run, name="localapi-worker", daemon=True),
            threading.Thread(target=self._index_loop, name="localapi-indexer", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        with self.cond:
            self._stop = True
            self.cond.notify_all()
        for thread in self._threads:
            thread.join(timeout=30)

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
            self._busy = wait <= 0
            if wait > 0:
                with self.cond:
                    self.cond.notify_all()  # the indexer may flush what is left
                with self.cond:
                    if not self._stop:
                        self.cond.wait(min(wait, 1.0))
                if time.monotonic() - last_sweep > 60:
                    last_sweep = time.monotonic()
                    self.files.sweep()
                continue
            try:
                self.apply(dict(op))
                if op["kind"] == "batch":
                    malloc.trim()  # a batch's text and entries were freed: give the pages back (crawler.malloc)
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
            with self.cond:
                self.cond.notify_all()

    def _index_loop(self) -> None:
        """The indexer thread: tantivy's indexing runs outside the GIL, so it overlaps with the applying.
        While operations are due it indexes whole chunks only (fewer, larger commits); then the rest."""
        while True:
            with self.cond:
                if self._stop:
                    return
            try:
                done = self.store.index.sync(minimum=SYNC_CHUNK if self._busy else 1)
            except Exception:  # the outbox keeps the entries: the next round retries them
                log.exception("could not update the search index")
                done = 0
            if done:
                malloc.trim()  # the chunk's rows and tantivy's buffers were freed (crawler.malloc)
            with self.cond:
                if done:
                    self.cond.notify_all()
                elif not self._stop:
                    self.cond.wait(0.2)

    def apply(self, op: JSONObject) -> None:
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
