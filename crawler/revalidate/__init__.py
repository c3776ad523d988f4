"""HTTP revalidation: cheap incremental runs for connectors that fetch pages (``revalidates``: web, sitemap).

A page fetched by an earlier run is asked for again with ``If-None-Match`` / ``If-Modified-Since`` (the
validators it came with); a ``304 Not Modified`` costs the server no rendering and the crawl no download.
Built on Scrapy's HTTP cache middleware, not beside it: the stored response (body included) is handed to
the spider on a 304, so the web connector still follows the page's links, and the pipelines still map the
page and compare its fingerprint. That keeps the one rule that decides a skip — an acknowledged fingerprint
equal to the page's as mapped *now* (crawler.state, pipelines.changes) — so a page whose push was not
acknowledged is pushed again from its stored body, and a change of ``fields:`` or ``security:`` re-pushes
pages the server says are unchanged. Storing validators and outlinks alone would lose both.

Parts: ``policy`` (which responses are kept, which validators are trusted, when a 304 is believed),
``middleware`` (Scrapy's, without its stale-if-error fallbacks; counts ``pushcrawl/http/*``), ``storage``
(one SQLite file per scope under ``<state_dir>/httpcache/``, removed by ``pushcrawl purge``).

Run modes: an incremental run revalidates; a full run (``--full``) fetches every page in full, as a full
reindex promises to re-read the source, and stores afresh what it fetched; a dry run reads but stores nothing.
This module stays free of Scrapy imports: the runner and ``purge`` use it.
"""

from __future__ import annotations

import re
from pathlib import Path

from crawler.scrapytypes import SettingsDict

MIDDLEWARE = "crawler.revalidate.middleware.RevalidateMiddleware"
#: Scrapy's own entry in DOWNLOADER_MIDDLEWARES_BASE (900), replaced by ours at the same place
SCRAPY_MIDDLEWARE = "scrapy.downloadermiddlewares.httpcache.HttpCacheMiddleware"


def enabled(connector: type, options: object) -> bool:
    """Whether a run of this connector with these options revalidates: the class declares ``revalidates``
    (connectors.base) and the site's ``revalidate`` option is on."""
    return bool(getattr(connector, "revalidates", False) and getattr(options, "revalidate", False))


def cache_file(state_dir: Path, scope: str) -> Path:
    """The stored responses of one scope ("<target>/<site>"), next to the state file."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", scope.replace("/", "__"))
    return state_dir / "httpcache" / f"{safe}.sqlite"


def forget(state_dir: Path, scope: str) -> None:
    """Remove a scope's stored responses (with SQLite's WAL files): its state was forgotten (purge)."""
    path = cache_file(state_dir, scope)
    for extra in ("", "-wal", "-shm"):
        Path(f"{path}{extra}").unlink(missing_ok=True)


def scrapy_settings(state_dir: Path, scope: str, mode: str, dry_run: bool, middlewares: SettingsDict) -> SettingsDict:
    """The Scrapy settings that turn revalidation on for one run (``middlewares``: the crawler's current
    DOWNLOADER_MIDDLEWARES, to which ours is added in place of Scrapy's cache middleware)."""
    return {
        "HTTPCACHE_ENABLED": True,
        "HTTPCACHE_POLICY": "crawler.revalidate.policy.RevalidatePolicy",
        "HTTPCACHE_STORAGE": "crawler.revalidate.storage.SqliteCacheStorage",
        "PUSHCRAWL_HTTPCACHE_FILE": str(cache_file(state_dir, scope)),
        # a full reindex re-reads the source: no conditional requests, but what it fetches is stored
        "PUSHCRAWL_HTTPCACHE_LOOKUP": mode != "full",
        # a dry run commits nothing, and may run beside a real run of the same site
        "PUSHCRAWL_HTTPCACHE_STORE": not dry_run,
        "DOWNLOADER_MIDDLEWARES": {**middlewares, SCRAPY_MIDDLEWARE: None, MIDDLEWARE: 900},
    }
