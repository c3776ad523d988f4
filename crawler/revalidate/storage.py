"""Stored responses for revalidation: one SQLite file per scope, ``<state_dir>/httpcache/<scope>.sqlite``.

Scrapy's HTTPCACHE_STORAGE interface. Its own storages do not fit a site's state: the filesystem one writes
a directory of six files per page (a 200,000-page intranet is 1.2 million files) and the DBM one depends on
which dbm module the system has. SQLite is already the state store's engine: one file, removed with the
site's state (``pushcrawl purge``, crawler.revalidate.forget), bodies compressed with zlib.

What it holds stays the site's current pages: a URL that answers 404/410 loses its stored page, and a full
run (which looks nothing up) empties the file first and stores what it fetches.

``Set-Cookie`` is not stored: a stored page handed back on a 304 would otherwise replay a session cookie
from the day it was stored over the current one (CookiesMiddleware reads the response after this).
Writes happen on the reactor thread, one small transaction per stored page, like Scrapy's own storages:
local disk, not the index (DESIGN rule 6 is about push I/O).
"""

from __future__ import annotations

import sqlite3
import time
import zlib
from pathlib import Path

from scrapy import Spider
from scrapy.http import Headers, Request, Response
from scrapy.responsetypes import responsetypes
from scrapy.settings import BaseSettings
from w3lib.http import headers_dict_to_raw, headers_raw_to_dict

_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key BLOB PRIMARY KEY, url TEXT NOT NULL, status INTEGER NOT NULL, headers BLOB NOT NULL,
    body BLOB NOT NULL, stored_at REAL NOT NULL
) WITHOUT ROWID;
"""
_NOT_STORED = (b"Set-Cookie", b"Set-Cookie2")


class SqliteCacheStorage:
    def __init__(self, settings: BaseSettings) -> None:
        self.path = Path(settings["PUSHCRAWL_HTTPCACHE_FILE"])
        self.lookup = settings.getbool("PUSHCRAWL_HTTPCACHE_LOOKUP", True)
        self.store = settings.getbool("PUSHCRAWL_HTTPCACHE_STORE", True)
        self._db: sqlite3.Connection | None = None

    def open_spider(self, spider: Spider) -> None:
        assert spider.crawler is not None  # a running spider has its crawler
        self._fingerprint = spider.crawler.request_fingerprinter.fingerprint
        if not self.store and not self.path.exists():
            return  # a dry run of a site never crawled: nothing to read, and nothing to create
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(self.path), timeout=30, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        if self.store and not self.lookup:
            # a full run re-reads the site and stores what it fetched: the store then holds the pages the site
            # has now, not every URL it ever had (if the run stops early, the rest is fetched in full next time)
            self._db.execute("DELETE FROM responses")

    def close_spider(self, spider: Spider) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def retrieve_response(self, spider: Spider, request: Request) -> Response | None:
        if not self.lookup or self._db is None:
            return None
        row = self._db.execute(
            "SELECT url, status, headers, body FROM responses WHERE key=?", (self._fingerprint(request),)
        ).fetchone()
        if row is None:
            return None
        url, status, raw_headers, body = row
        headers = Headers(headers_raw_to_dict(raw_headers))
        body = zlib.decompress(body)
        cls = responsetypes.from_args(headers=headers, url=url, body=body)
        return cls(url=url, status=status, headers=headers, body=body)

    def forget(self, request: Request) -> None:
        """The URL answered 404/410: its stored page is gone too."""
        if self.store and self._db is not None:
            self._db.execute("DELETE FROM responses WHERE key=?", (self._fingerprint(request),))

    def store_response(self, spider: Spider, request: Request, response: Response) -> None:
        if not self.store or self._db is None:
            return
        headers = {k: v for k, v in response.headers.items() if k not in _NOT_STORED}
        self._db.execute(
            "INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?, ?, ?)",
            (
                self._fingerprint(request),
                response.url,
                response.status,
                headers_dict_to_raw(headers),
                zlib.compress(response.body, 1),  # level 1: most of the gain on HTML for little CPU
                time.time(),
            ),
        )
