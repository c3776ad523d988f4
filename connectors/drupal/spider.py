"""The Drupal spider: JSON:API node listings paged by ``links.next``, a ``changed`` filter, identities.

A full run lists ids from the content it reads. An incremental run reads only nodes changed since the
cursor (``filter[changed][value]`` with operator ``>``) plus a sparse-fieldset listing of every node id.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from connectors.base import Connector
from connectors.drupal import client, mapping
from connectors.drupal.client import DrupalOptions
from connectors.failures import describe
from connectors.http import json_body, polite_settings
from crawler.jsontypes import JSONObject
from crawler.scrapytypes import Output


def utc_iso(value: str | None) -> str | None:
    """Cursors compare as strings, so every ``changed`` value is normalised to UTC first."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value).astimezone(UTC).isoformat()
    except ValueError:
        return None


class DrupalConnector(Connector[DrupalOptions]):
    name = "drupal"
    Options = DrupalOptions
    supports_incremental = True
    supports_permissions = True
    lists_all_ids = True
    custom_settings = polite_settings()

    # Any: passed through to scrapy.Spider, which takes arbitrary arguments (``scrapy crawl -a key=value``)
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.users: list[JSONObject] = []

    @classmethod
    def ping(cls, options: DrupalOptions) -> None:
        client.ping(options)

    # Any: the callback's keyword arguments, Scrapy's cb_kwargs (typed dict[str, Any])
    def _get(
        self,
        url: str,
        callback: Callable[..., object],
        errback: Callable[[Failure], object] | None = None,
        **cb_kwargs: Any,
    ) -> scrapy.Request:
        return scrapy.Request(
            url,
            headers=client.headers(self.options),
            callback=callback,
            errback=errback or self.listing_errback,
            cb_kwargs=cb_kwargs,
            dont_filter=True,
        )

    async def start_full(self) -> AsyncIterator[Output]:
        for request in self._start_requests(None):
            yield request

    async def start_incremental(self, since: str) -> AsyncIterator[Output]:
        # listings of what was modified after the cursor, plus id-only listings to find deletions; later pages
        # of a listing keep the filter through ``self.since`` (the same cursor)
        for request in self._start_requests(since):
            yield request

    def _start_requests(self, since: str | None) -> Iterator[scrapy.Request]:
        if since:
            self.advance_cursor(since)  # never move the cursor back when nothing changed
        if self.options.auth is not None and self.options.include_unpublished:
            yield self._get(client.users_url(self.options), self.parse_users, self._identity_errback)
        for bundle in self.options.content_types:
            yield self._get(client.nodes_url(self.options, bundle, since), self.parse_nodes, bundle=bundle)
            if since:
                yield self._get(client.nodes_url(self.options, bundle, ids_only=True), self.parse_ids)

    def _document(self, response: Response) -> JSONObject:
        """The JSON:API document of a listing; ValueError naming the URL (and the Content-Type) otherwise."""
        doc = json_body(response, client.JSONAPI_TYPE)
        if not isinstance(doc, dict) or not isinstance(doc.get("data"), list):
            raise ValueError(f"{response.url}: not a JSON:API document")
        return doc

    def _next(self, doc: JSONObject) -> str | None:
        link = (doc.get("links") or {}).get("next")
        href = link.get("href") if isinstance(link, dict) else link
        return str(href) if href else None

    def parse_nodes(self, response: Response, bundle: str) -> Iterator[Output]:
        try:
            doc = self._document(response)
        except ValueError as exc:
            self.listing_failed(str(exc))
            return
        if nxt := self._next(doc):
            yield self._get(nxt, self.parse_nodes, bundle=bundle)
        included = mapping.index_included(doc.get("included") or [])
        taxonomy = self.options.taxonomy_fields.get(bundle, [])
        for node in doc["data"]:
            try:
                item = mapping.map_node(node, included, self.options.root, taxonomy, self.options.unpublished_roles)
            except (KeyError, TypeError, ValueError) as exc:
                self.logger.warning("cannot map node %s: %s", node.get("id") if isinstance(node, dict) else "?", exc)
                self.crawler.stats.inc_value("pushcrawl/drupal/malformed")
                continue
            self.advance_cursor(utc_iso(node["attributes"].get("changed")))
            if not self.since:
                self.list_id(item.document_id)
            yield item

    def parse_ids(self, response: Response) -> Iterator[Output]:
        try:
            doc = self._document(response)
        except ValueError as exc:
            self.listing_failed(str(exc))
            return
        if nxt := self._next(doc):
            yield self._get(nxt, self.parse_ids)
        for node in doc["data"]:
            try:
                self.list_id(mapping.canonical_url(self.options.root, node))
            except (KeyError, TypeError):
                self.listing_failed(f"{response.url}: a node without drupal_internal__nid")

    def parse_users(self, response: Response) -> Iterator[Output]:
        try:
            doc = self._document(response)
        except ValueError as exc:
            self.logger.warning("user listing: %s; identities not pushed", exc)
            return
        self.users.extend(u for u in doc["data"] if isinstance(u, dict))
        if nxt := self._next(doc):
            yield self._get(nxt, self.parse_users, self._identity_errback)
        else:
            yield from mapping.map_identities(self.users, self.options.unpublished_roles)

    def _identity_errback(self, failure: Failure) -> None:
        self.logger.warning(
            "cannot list users (%s): identities are not pushed; the account needs 'administer users'",
            describe(failure),
        )
        self.crawler.stats.inc_value("pushcrawl/identity_errors")
