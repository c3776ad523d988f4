"""``LocalPushAPI``: the embeddable local Push API server (werkzeug threaded server + worker thread)."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from crawler.localapi.app import App
from crawler.localapi.auth import Auth
from crawler.localapi.browse.sortindex import ensure_indexes
from crawler.localapi.context import Context
from crawler.localapi.faults import Faults
from crawler.localapi.files import FileContainers
from crawler.localapi.hosts import HostCheck, is_loopback
from crawler.localapi.store import Store
from crawler.localapi.worker import Worker

log = logging.getLogger(__name__)


class _QuietHandler(WSGIRequestHandler):
    """Request lines go to the ``crawler.localapi.http`` logger at DEBUG instead of stderr."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        logging.getLogger("crawler.localapi.http").debug("%s %s", self.requestline, code)

    def log(self, type: str, message: str, *args: object) -> None:
        logging.getLogger("crawler.localapi.http").debug(message, *args)


class LocalPushAPI:
    """An offline twin of Coveo's Push API (plus the Platform/Search subsets a Push source needs).

    ``api_keys`` empty or None is lenient dev mode: any non-empty Bearer is accepted. ``queue_delay_scale`` is
    the number of seconds one minute of ``queueDelay`` lasts (tests use ~0.01). ``faults`` see faults.py.

    Listening on a non-loopback address is refused without API keys (anyone on the network could read and
    write the index) and logged as a warning with them. ``allowed_hosts``: Host names besides loopback ones
    the server answers (hosts.py). ``state_db``: the crawler's state.sqlite, shown as run pages.
    ``warm_browser``: compute the Content Browser's first views at start (``pushcrawl serve``); the embedded
    target of a crawl, which no one browses, passes False and so never loads the pages or Jinja2.
    """

    def __init__(
        self,
        data_dir: Path,
        host: str = "127.0.0.1",
        port: int = 0,
        org_id: str = "pushcrawl-local",
        api_keys: list[str] | None = None,
        processing_delay: float = 0.0,
        queue_delay_scale: float = 60.0,
        container_ttl_s: float = 3600.0,
        faults: str | None = None,
        allowed_hosts: list[str] | None = None,
        state_db: Path | None = None,
        warm_browser: bool = True,
    ) -> None:
        if not is_loopback(host):
            if not api_keys:
                raise ValueError(
                    f"refusing to listen on {host!r} without an API key: anyone who can reach it could read "
                    "and change the index; pass --api-key (or listen on 127.0.0.1)"
                )
            log.warning("the local Push API listens on %s, reachable beyond this machine", host)
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.host = host
        self.port = port
        self.org_id = org_id
        self.store = Store(self.data_dir / "localapi.sqlite3")
        ensure_indexes(self.store)  # the Content Browser's sort indexes
        self.files = FileContainers(self.store, self.data_dir / "files", container_ttl_s)
        self.worker = Worker(self.store, self.files)
        self.ctx = Context(
            self.store,
            self.files,
            self.worker,
            Auth(api_keys),
            org_id,
            processing_delay,
            queue_delay_scale,
            lambda: self.base_url,
            state_db,
        )
        self.app = App(self.ctx, Faults.parse(faults), HostCheck(host, allowed_hosts))
        self.worker.items.refuse = lambda: self.app.faults.refuses_item()  # the ``refuse`` fault (faults.py)
        self.warm_browser = warm_browser
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> None:
        """Listen and serve in a background thread; returns once the socket is listening."""
        self._server = make_server(self.host, self.port, self.app, threaded=True, request_handler=_QuietHandler)
        self.port = self._server.server_port
        self.worker.start()
        server = self._server
        # A short poll interval keeps stop() fast (shutdown waits for the next poll).
        self._thread = threading.Thread(
            target=lambda: server.serve_forever(poll_interval=0.05), name="localapi-http", daemon=True
        )
        self._thread.start()
        if self.warm_browser:
            from crawler.localapi.browse import warm  # the pages and Jinja2: for a server someone browses

            warm.start(self.ctx)  # the Content Browser's first views, computed before anyone asks
        log.info("local Push API listening on %s (org %s)", self.base_url, self.org_id)

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """True once every queued operation has been applied (False when ``timeout`` passes first)."""
        return self.worker.wait_idle(timeout)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self.worker.stop()
        self.store.close()

    def __enter__(self) -> LocalPushAPI:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
