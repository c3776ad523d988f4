"""Fault injection for Push API routes and uploads, to exercise clients' retry and backoff code.

Spec: comma-separated ``KIND=VALUE[@ROUTE]``. Kinds: ``429`` (probability; half of them carry
``Retry-After: 1``), ``limit`` (probability of a 412 ``DOCUMENT_LIMIT_EXCEEDED``), ``5xx`` (probability
of a 500/503/504), ``reset`` (probability of dropping the connection without any response), ``latency``
(milliseconds added to every request), ``lost`` (probability of handling the request — the batch is
applied — and then dropping the connection without the answer: the lost 202 a client must survive without
applying twice), ``refuse`` (probability that the pipeline refuses an item of a batch after the 202:
``REJECTED`` at ``VALIDATION`` in the Source Logs API, as Coveo does with a body its validation refuses;
no route), ``seed`` (integer, for repeatable runs). ``@ROUTE`` limits a kind
to one route: status, document, delete, olderthan, files, upload, batch, identity, or logs (the Source
Logs API, faulted only when named, so a spec written for pushes does not change it).
Example: ``429=0.1,5xx=0.05,reset=0.05@batch,latency=20``.
"""

from __future__ import annotations

import random
import socket
import time
from dataclasses import dataclass, field

from werkzeug.wrappers import Request, Response

from crawler.localapi.apierror import ApiError

KINDS = {"429", "limit", "5xx", "reset", "latency", "lost", "refuse"}
ROUTES = {"status", "document", "delete", "olderthan", "files", "upload", "batch", "identity", "logs"}


class ConnectionReset(Exception):
    """Raised after the socket was shut down; the dispatcher then returns nothing."""


@dataclass
class Fault:
    kind: str
    value: float
    route: str | None


@dataclass
class Faults:
    faults: list[Fault] = field(default_factory=list)
    rng: random.Random = field(default_factory=random.Random)

    @classmethod
    def parse(cls, spec: str | None) -> Faults:
        out = cls()
        for part in (spec or "").split(","):
            part = part.strip()
            if not part:
                continue
            key, sep, raw = part.partition("=")
            value, _, route = raw.partition("@")
            if not sep:
                raise ValueError(f"fault {part!r}: expected KIND=VALUE[@ROUTE]")
            if key == "seed":
                out.rng.seed(int(value))
                continue
            if key not in KINDS:
                raise ValueError(f"fault {part!r}: kind must be one of {sorted(KINDS)} or seed")
            if route and route not in ROUTES:
                raise ValueError(f"fault {part!r}: route must be one of {sorted(ROUTES)}")
            number = float(value)
            if key != "latency" and not 0 <= number <= 1:
                raise ValueError(f"fault {part!r}: a probability must be between 0 and 1")
            out.faults.append(Fault(key, number, route or None))
        return out

    def inject(self, request: Request, route: str, named_only: bool = False) -> Response | None:
        """Sleep, raise a 429/5xx ApiError, or reset the connection; None means no fault this time.
        ``named_only``: only faults that name ``route`` apply."""
        for fault in self.faults:
            if fault.kind in ("lost", "refuse"):  # not answers of this request: loses_answer, refuses_item
                continue
            if fault.route not in (None, route) or (named_only and fault.route is None):
                continue
            if fault.kind == "latency":
                time.sleep(fault.value / 1000)
            elif self.rng.random() < fault.value:
                request.get_data()  # read the body first so the client sees our answer, not a broken pipe
                if fault.kind == "429":
                    code = self.rng.choice(["TOO_MANY_REQUESTS", "TOO_MANY_DOCUMENTS_DAILY"])
                    headers = {"Retry-After": "1"} if self.rng.random() < 0.5 else {}
                    raise ApiError(429, code, "Injected fault: too many requests.", headers)
                if fault.kind == "limit":
                    raise ApiError(412, "DOCUMENT_LIMIT_EXCEEDED", "Injected fault: the index item limit is reached.")
                if fault.kind == "5xx":
                    status = self.rng.choice([500, 503, 504])
                    raise ApiError(
                        status,
                        "INTERNAL_ERROR" if status == 500 else "SERVICE_UNAVAILABLE",
                        "Injected fault: transient server error.",
                    )
                if fault.kind == "reset":
                    sock = request.environ.get("werkzeug.socket")
                    if isinstance(sock, socket.socket):
                        sock.shutdown(socket.SHUT_RDWR)
                    raise ConnectionReset()
        return None

    def loses_answer(self, route: str) -> bool:
        """Whether this request is handled and then its answer dropped (kind ``lost``)."""
        return any(f.kind == "lost" and f.route in (None, route) and self.rng.random() < f.value for f in self.faults)

    def refuses_item(self) -> bool:
        """Whether the pipeline refuses the next batch item (kind ``refuse``; the worker asks per item)."""
        return any(f.kind == "refuse" and self.rng.random() < f.value for f in self.faults)


def drop_answer(request: Request) -> ConnectionReset:
    """Shut the client's socket after the request was handled; raise the result to send nothing."""
    sock = request.environ.get("werkzeug.socket")
    if isinstance(sock, socket.socket):
        sock.shutdown(socket.SHUT_RDWR)
    return ConnectionReset()
