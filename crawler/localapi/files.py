"""File containers: the local stand-in for the S3 buckets behind ``POST /files`` (docs/push-api-contract.md, "Calls
pushcrawl makes").

A container is a row in ``files`` plus one file on disk. The upload URL is served by this server and signed
with an HMAC so a forged or edited URL is refused like S3 refuses one (403). The upload must replay the
``requiredHeaders`` exactly; containers expire after ``ttl`` and are deleted once their content is consumed
by a batch or an item (single use).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
import uuid
from pathlib import Path

from werkzeug.wrappers import Request, Response

from crawler.jsontypes import JSONObject
from crawler.localapi.store import Store

MAX_CONTAINER = 256 * 1024 * 1024
REQUIRED_HEADERS = {"x-amz-server-side-encryption": "AES256", "Content-Type": "application/octet-stream"}


def s3_error(status: int, code: str, message: str) -> Response:
    body = f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>'
    return Response(body, status=status, mimetype="application/xml")


class FileContainers:
    def __init__(self, store: Store, root: Path, ttl: float) -> None:
        self.store = store
        self.root = root
        self.ttl = ttl
        self.root.mkdir(parents=True, exist_ok=True)
        # The signing key lives in the data directory so upload URLs survive a restart, like S3's would.
        key_file = root.parent / "upload.key"
        if not key_file.exists():
            key_file.write_bytes(os.urandom(32))
        self._secret = key_file.read_bytes()

    def path(self, file_id: str) -> Path:
        return self.root / file_id

    def _sign(self, file_id: str, expires: int) -> str:
        return hmac.new(self._secret, f"{file_id}:{expires}".encode(), hashlib.sha256).hexdigest()[:32]

    def create(self, base_url: str) -> JSONObject:
        file_id = str(uuid.uuid4())
        now = time.time()
        # Milliseconds in the URL: whole seconds would round short TTLs (tests use fractions of a second).
        expires = int((now + self.ttl) * 1000)
        with self.store.write() as db:
            db.execute("INSERT INTO files(id, created, expires) VALUES (?,?,?)", (file_id, now, now + self.ttl))
        uri = f"{base_url}/upload/{file_id}?X-Expires={expires}&X-Signature={self._sign(file_id, expires)}"
        return {"uploadUri": uri, "fileId": file_id, "requiredHeaders": dict(REQUIRED_HEADERS)}

    def upload(self, request: Request, file_id: str) -> Response:
        """``PUT <uploadUri>``: 200 with an empty body, or an S3-style XML error."""
        expires = request.args.get("X-Expires", "")
        signature = request.args.get("X-Signature", "")
        if not expires.isdigit() or not hmac.compare_digest(signature, self._sign(file_id, int(expires))):
            return s3_error(403, "SignatureDoesNotMatch", "The request signature we calculated does not match.")
        if time.time() * 1000 > int(expires):
            return s3_error(403, "AccessDenied", "Request has expired")
        for name, value in REQUIRED_HEADERS.items():
            if request.headers.get(name) != value:
                return s3_error(403, "AccessDenied", f"Missing or wrong signed header {name} (expected {value}).")
        with self.store.read() as db:
            row = db.execute("SELECT consumed FROM files WHERE id = ?", (file_id,)).fetchone()
        if row is None or row["consumed"]:
            return s3_error(404, "NoSuchKey", "The container does not exist or was already consumed.")
        if (request.content_length or 0) > MAX_CONTAINER:
            return s3_error(413, "EntityTooLarge", f"Your proposed upload exceeds {MAX_CONTAINER} bytes.")
        size = 0
        tmp = self.path(file_id).with_suffix(".part")
        with tmp.open("wb") as out:
            while chunk := request.stream.read(1 << 20):
                size += len(chunk)
                if size > MAX_CONTAINER:
                    out.close()
                    tmp.unlink()
                    return s3_error(413, "EntityTooLarge", f"Your upload exceeds {MAX_CONTAINER} bytes.")
                out.write(chunk)
        tmp.replace(self.path(file_id))
        with self.store.write() as db:
            db.execute("UPDATE files SET uploaded = 1, size = ? WHERE id = ?", (size, file_id))
        return Response(b"", status=200)

    def state(self, file_id: str) -> str:
        """'ready', 'missing' (unknown or consumed), 'empty' (nothing uploaded) or 'expired'."""
        with self.store.read() as db:
            row = db.execute("SELECT * FROM files WHERE id = ?", (file_id,)).fetchone()
        if row is None or row["consumed"]:
            return "missing"
        if not row["uploaded"]:
            return "expired" if time.time() > row["expires"] else "empty"
        return "ready"

    def consume(self, file_id: str) -> None:
        with self.store.write() as db:
            db.execute("UPDATE files SET consumed = 1 WHERE id = ?", (file_id,))

    def discard(self, file_id: str) -> None:
        self.consume(file_id)
        self.path(file_id).unlink(missing_ok=True)

    def sweep(self, grace: float = 86400.0) -> None:
        """S3 lifecycle stand-in: forget containers never uploaded once expired; a day after expiry, delete
        uploaded content nobody consumed and forget consumed containers (their files are already gone)."""
        now = time.time()
        with self.store.write() as db:
            db.execute("DELETE FROM files WHERE uploaded = 0 AND expires < ?", (now,))
            stale = db.execute("SELECT id FROM files WHERE expires < ?", (now - grace,)).fetchall()
            for (file_id,) in stale:
                self.path(file_id).unlink(missing_ok=True)
            db.execute("DELETE FROM files WHERE expires < ?", (now - grace,))
