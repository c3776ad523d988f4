"""Apply queued item operations to the index: add/update, delete (with children), delete-older-than, batch.

Runs on the worker thread inside one write transaction per queued operation. Ordering rules
(docs/push-api-contract.md, "Ordering and sweeps"):
an operation whose orderingId is lower than the last one applied to the same item is dropped and logged
``OUT_OF_SEQUENCE_OPERATION``; once an ``olderthan`` threshold was applied, operations below it are
rejected. Every outcome lands in the activity log.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from crawler.jsontypes import JSONData, JSONObject
from crawler.localapi import batchfile, content, fastjson, languages, security, validate
from crawler.localapi.apierror import ApiError
from crawler.localapi.files import FileContainers
from crawler.localapi.store import Store, now_ms

#: batch entries applied per transaction (a few hundred ms of work at most)
BATCH_CHUNK = 500


class ItemApplier:
    def __init__(self, store: Store, files: FileContainers) -> None:
        self.store = store
        self.files = files
        self.refuse: Callable[[], bool] = lambda: False  # fault injection (faults.py, kind ``refuse``)

    def _admissible(self, db: sqlite3.Connection, source: JSONObject, doc_id: str, oid: int, op: str) -> bool:
        if oid < source["threshold"]:
            self.store.log(
                db,
                source["id"],
                op,
                "REJECTED",
                document_id=doc_id,
                ordering_id=oid,
                detail=f"orderingId below the olderthan threshold {source['threshold']}",
                task="CONSUMING",
            )
            return False
        row = db.execute(
            "SELECT ordering_id FROM seqs WHERE source_id=? AND document_id=?", (source["id"], doc_id)
        ).fetchone()
        if row is not None and oid < row[0]:
            self.store.log(
                db,
                source["id"],
                op,
                "OUT_OF_SEQUENCE_OPERATION",
                document_id=doc_id,
                ordering_id=oid,
                detail=f"a later operation ({row[0]}) was already applied",
                task="CONSUMING",
            )
            return False
        return True

    def _seq(self, db: sqlite3.Connection, source_id: str, doc_id: str, oid: int) -> None:
        db.execute(
            "INSERT INTO seqs VALUES (?,?,?) ON CONFLICT(source_id, document_id) DO UPDATE SET"
            " ordering_id = excluded.ordering_id",
            (source_id, doc_id, oid),
        )

    def _content(self, doc: JSONObject) -> content.Extracted:
        spec = doc["content"]
        if spec is None:
            return content.Extracted("", None, 0)
        if spec["kind"] == "data":
            return content.extract(spec["value"], doc["fileExtension"] or ".txt")
        if spec["kind"] == "binary":
            raw = content.inline_bytes(spec["value"], spec["compressionType"])
        else:
            if self.files.state(spec["value"]) != "ready":
                raise ValueError(f"file container {spec['value']} is unknown, empty or already consumed")
            raw = content.decompress(self.files.path(spec["value"]).read_bytes(), spec["compressionType"])
            self.files.discard(spec["value"])
        return content.extract(raw, doc["fileExtension"])

    def document(
        self, db: sqlite3.Connection, source: JSONObject, doc: JSONObject, oid: int, known: set[str] | None = None
    ) -> None:
        """Apply one validated document; ``known`` is the field names when the caller read them for this
        transaction already (a batch chunk reads them once, not once per item)."""
        doc_id = doc["documentId"]
        if not self._admissible(db, source, doc_id, oid, "ADD_OR_UPDATE"):
            return
        try:
            extracted = self._content(doc)
        except Exception as exc:  # bad base64/compression/file: this item fails alone, as in Coveo's pipeline
            self.store.log(
                db,
                source["id"],
                "ADD_OR_UPDATE",
                "ERROR",
                document_id=doc_id,
                ordering_id=oid,
                detail=f"cannot read the item's content: {exc}",
                task="PROCESSING",
            )
            return
        if known is None:
            known = self.store.field_names(db)
        fields: JSONObject = {}
        collected: JSONObject = {}
        for key, value in doc["metadata"].items():
            if value is None:
                continue
            if key.lower() in known:  # auto-mapping: metadata populates the field of the same name
                fields[key.lower()] = value
            else:
                collected[key] = value
        ext = doc["fileExtension"]
        fields.setdefault("title", extracted.title or doc_id.rstrip("/").rsplit("/", 1)[-1] or doc_id)
        fields.setdefault("clickableuri", doc_id)
        fields.setdefault("date", now_ms())
        fields.update({"uri": doc_id, "source": source["name"], "sourcetype": "Push", "size": extracted.size})
        if ext:  # metadata named filetype (auto-mapped above) wins over the converter's guess from the extension
            fields.setdefault("filetype", ext.lstrip(".").lower())
        if doc["parentId"]:
            fields["parentid"] = doc["parentId"]
        levels = doc["permissions"]
        public = security.evaluate(levels, None)
        row = db.execute("SELECT rid FROM items WHERE source_id=? AND document_id=?", (source["id"], doc_id)).fetchone()
        perm_body = fastjson.encode(levels) if levels is not None else None
        values = (
            oid,
            doc["parentId"],
            fastjson.encode(fields),
            fastjson.encode(collected) if collected else "{}",
            perm_body,
            self.store.perm_id(db, perm_body),
            int(public),
            now_ms(),
        )
        if row is None:
            cur = db.execute(
                "INSERT INTO items(ordering_id, parent_id, fields, collected, permissions, perm_id, public,"
                " updated_ms, source_id, document_id) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (*values, source["id"], doc_id),
            )
            rid = cur.lastrowid
            outcome = "ADDED"
        else:
            rid = row[0]
            db.execute(
                "UPDATE items SET ordering_id=?, parent_id=?, fields=?, collected=?, permissions=?,"
                " perm_id=?, public=?, updated_ms=? WHERE rid=?",
                (*values, rid),
            )
            outcome = "UPDATED"
        title = fields["title"]
        title_text = " ".join(map(str, title)) if isinstance(title, list) else str(title)
        db.execute(
            "INSERT OR REPLACE INTO texts(rid, lang, title, body) VALUES (?,?,?,?)",
            (rid, languages.code(fields.get("language")), title_text, extracted.text),
        )
        db.execute("INSERT INTO search_outbox(rid) VALUES (?)", (rid,))  # same transaction: never missed
        self._seq(db, source["id"], doc_id, oid)
        self.store.log(
            db,
            source["id"],
            "ADD_OR_UPDATE",
            outcome,
            document_id=doc_id,
            ordering_id=oid,
            detail=extracted.warning,
            task="INDEXING",
        )

    def _remove(self, db: sqlite3.Connection, rid: int) -> None:
        db.execute("DELETE FROM items WHERE rid=?", (rid,))
        db.execute("DELETE FROM texts WHERE rid=?", (rid,))
        db.execute("INSERT INTO search_outbox(rid) VALUES (?)", (rid,))

    def delete(self, db: sqlite3.Connection, source: JSONObject, doc_id: str, children: bool, oid: int) -> None:
        if not self._admissible(db, source, doc_id, oid, "DELETE"):
            return
        row = db.execute("SELECT rid FROM items WHERE source_id=? AND document_id=?", (source["id"], doc_id)).fetchone()
        if row is not None:
            self._remove(db, row[0])
        self._seq(db, source["id"], doc_id, oid)
        detail = "" if row is not None else "the item did not exist"
        if children:
            # A URI-prefix rule (docs/push-api-contract.md, "Items"): everything under "<documentId>/", not parentId
            # links.
            prefix = doc_id.rstrip("/") + "/"
            kids = db.execute(
                "SELECT rid, document_id, ordering_id FROM items WHERE source_id=? AND substr(document_id, 1, ?) = ?",
                (source["id"], len(prefix), prefix),
            ).fetchall()
            removed = 0
            for kid in kids:
                if kid["ordering_id"] <= oid:  # a child updated after this delete was sent survives
                    self._remove(db, kid["rid"])
                    self._seq(db, source["id"], kid["document_id"], oid)
                    removed += 1
            detail = f"{detail}; {removed} child item(s) deleted".lstrip("; ")
        self.store.log(
            db, source["id"], "DELETE", "DELETED", document_id=doc_id, ordering_id=oid, detail=detail, task="INDEXING"
        )

    def older_than(self, db: sqlite3.Connection, source: JSONObject, threshold: int) -> None:
        rows = db.execute(
            "SELECT rid FROM items WHERE source_id=? AND ordering_id < ?", (source["id"], threshold)
        ).fetchall()
        for row in rows:
            self._remove(db, row[0])
        db.execute("UPDATE sources SET threshold = max(threshold, ?) WHERE id = ?", (threshold, source["id"]))
        self.store.log(
            db,
            source["id"],
            "DELETE_OLDER_THAN",
            "DELETED",
            ordering_id=threshold,
            detail=f"{len(rows)} item(s) deleted",
            task="INDEXING",
        )

    def batch(self, source: JSONObject, file_id: str, oid: int, done: Callable[[sqlite3.Connection], object]) -> None:
        """Apply a batch file in chunks, each its own transaction, so pushes arriving meanwhile wait for one
        chunk, not the whole batch. ``done`` (which removes the queued operation) runs with the last chunk;
        after a crash the batch is applied again from the start, which is harmless: same orderingId."""
        try:
            # checked whole, then decoded one chunk at a time (batchfile: a batch's entries are never all held)
            text, entries = batchfile.scan(self.files.path(file_id).read_bytes())
        except (OSError, ApiError, batchfile.NotAnObject) as exc:
            with self.store.write() as db:
                self.store.log(
                    db,
                    source["id"],
                    "BATCH",
                    "ERROR",
                    ordering_id=oid,
                    detail=f"file {file_id}: {exc}",
                    task="CONSUMING_BATCH",
                )
                done(db)
                self.files.discard(file_id)
            return
        for start in range(0, max(len(entries), 1), BATCH_CHUNK):
            with self.store.write() as db:
                known = self.store.field_names(db)  # fields change only between transactions
                for item in entries[start : start + BATCH_CHUNK]:
                    if item.add:
                        self._batch_add(db, source, batchfile.entry(text, item), oid, known)
                    else:
                        self._batch_delete(db, source, batchfile.entry(text, item), oid)
                if start + BATCH_CHUNK >= len(entries):
                    done(db)
                    self.files.discard(file_id)

    def _batch_add(
        self, db: sqlite3.Connection, source: JSONObject, entry: JSONData, oid: int, known: set[str]
    ) -> None:
        try:
            doc = validate.document(entry)
            if self.refuse():
                raise ApiError(400, "INVALID_DOCUMENT", "Injected fault: the pipeline's validation refused the item.")
        except ApiError as exc:
            doc_id = validate.ci(entry, "documentId") if isinstance(entry, dict) else None
            self.store.log(
                db,
                source["id"],
                "ADD_OR_UPDATE",
                "REJECTED",
                document_id=doc_id,
                ordering_id=oid,
                detail=f"{exc.code}: {exc.message}",
                task="VALIDATION",
            )
            return
        # One orderingId covers the batch; an item's own body orderingId wins (lenient reading).
        self.document(db, source, doc, doc["orderingId"] if doc["orderingId"] is not None else oid, known)

    def _batch_delete(self, db: sqlite3.Connection, source: JSONObject, entry: JSONData, oid: int) -> None:
        doc_id = validate.ci(entry, "documentId") if isinstance(entry, dict) else None
        if not isinstance(doc_id, str) or not doc_id:
            self.store.log(
                db,
                source["id"],
                "DELETE",
                "REJECTED",
                ordering_id=oid,
                detail=f"delete entry without documentId: {entry!r}",
                task="VALIDATION",
            )
            return
        self.delete(db, source, doc_id, bool(validate.ci(entry, "deleteChildren", False)), oid)
