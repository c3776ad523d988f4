"""What every route handler needs: storage, file containers, the worker, auth and the server's settings."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from werkzeug.wrappers import Request

from crawler.jsontypes import JSONData, JSONObject
from crawler.localapi.apierror import ApiError, too_large
from crawler.localapi.auth import Auth
from crawler.localapi.files import FileContainers
from crawler.localapi.store import Store
from crawler.localapi.validate import parse_json
from crawler.localapi.worker import Worker

MAX_REQUEST = 6 * 1024 * 1024


@dataclass
class Context:
    store: Store
    files: FileContainers
    worker: Worker
    auth: Auth
    org_id: str
    processing_delay: float
    queue_delay_scale: float
    base_url: Callable[[], str]
    state_db: Path | None = None  # the crawler's state.sqlite, for the Content Browser's run pages

    def check_org(self, org: str) -> None:
        if org != self.org_id:
            raise ApiError(404, "ORGANIZATION_NOT_FOUND", f"The organization '{org}' does not exist.")

    def enqueue(self, kind: str, target: str, ordering_id: int, payload: JSONObject, delay: float = 0.0) -> None:
        self.store.enqueue(kind, target, ordering_id, payload, time.time() + self.processing_delay + delay)
        self.worker.poke()

    def token_user(self, token: str) -> list[JSONObject] | None:
        """The userIds a search token was made for, or None when ``token`` is not a search token."""
        with self.store.read() as db:
            row = db.execute("SELECT user_ids FROM tokens WHERE token = ?", (token,)).fetchone()
        return json.loads(row[0]) if row else None


def json_body(request: Request, *, limit: int = MAX_REQUEST, require_type: bool = True) -> JSONData:
    """The request's JSON body: 415 on a non-JSON content type, 413 past ``limit``, 400 if malformed."""
    ctype = request.mimetype
    # Lenient: a missing Content-Type is accepted; a present, non-JSON one is refused as Coveo does.
    if require_type and ctype and ctype != "application/json":
        raise ApiError(415, "UNSUPPORTED_MEDIA_TYPE", f"Content-Type must be application/json, not {ctype}.")
    if (request.content_length or 0) > limit:
        raise too_large("The request body", limit)
    raw = request.get_data(cache=True)
    if len(raw) > limit:
        raise too_large("The request body", limit)
    return parse_json(raw)
