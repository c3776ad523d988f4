"""``ping`` for the sitemap connector: the configured sitemaps are reachable and are sitemaps.

Local sitemaps (``file://``) are read from disk; remote ones with requests, outside the reactor. Ping fails
when no configured sitemap is usable (a wrong URL, a site without sitemaps). When only some fail it warns and
lets the crawl go on: those sitemaps make the run incomplete (so nothing is deleted) while the others still
bring their updates, instead of one broken child sitemap blocking every update.
"""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import unquote, urlparse

import requests

from connectors.auth.options import AuthOptions
from connectors.auth.ping import get_page
from connectors.sitemap.parse import parse_sitemap
from crawler.errors import ConnectorError

logger = logging.getLogger(__name__)


def read_sitemap(url: str, auth: AuthOptions | None = None, session: requests.Session | None = None) -> bytes:
    if url.startswith("file://"):
        path = Path(unquote(urlparse(url).path))
        if not path.is_file():
            raise ConnectorError(
                f"sitemap {path} does not exist; check sitemap_urls (local paths are relative to settings.yaml)"
            )
        return path.read_bytes()
    resp = get_page(
        url, auth, session, what="sitemap", hint="check sitemap_urls, and that the site publishes a sitemap there"
    )
    return resp.content


def check_sitemap(url: str, auth: AuthOptions | None = None, session: requests.Session | None = None) -> None:
    parsed = parse_sitemap(read_sitemap(url, auth, session), url)
    if not parsed.kind:
        raise ConnectorError(
            f"{url} is not a sitemap ({parsed.damaged}); sitemap_urls must point at a <urlset> or <sitemapindex>"
        )


def ping_sitemaps(urls: list[str], auth: AuthOptions | None = None, session: requests.Session | None = None) -> None:
    """``auth`` and ``session`` (connectors.auth.ping.session_for): the login the sitemaps are read with."""
    problems: list[ConnectorError] = []
    for url in urls:
        try:
            check_sitemap(url, auth, session)
        except ConnectorError as exc:
            problems.append(exc)
    if len(problems) == len(urls):
        raise problems[0]
    for problem in problems:
        logger.warning("%s (the run will be incomplete: nothing is deleted)", problem)
