"""The connector contract: what every content-system spider must and may do.

A connector is a ``scrapy.Spider`` subclass, ``Connector[ItsOptions]``, with a typed ``Options`` model,
capability flags, a ``ping`` class method it must implement (an abstract method: the registry refuses a
connector that does not say how it proves reachability), and a crawl that yields ``Document``, ``Deletion``
and ``Identity`` items. The runner drives a fixed lifecycle: validate options → ping → crawl → close. The
crawl is one of two named methods, dispatched in one place (``start``, Scrapy's entry point, which
subclasses do not override): ``start_full()`` lists everything the content system holds;
``start_incremental(since)`` lists what changed since the previous successful run's cursor, and is called
only for a connector that declares ``supports_incremental`` and has a cursor (the registry refuses a
connector whose flag and methods disagree). ``ping`` takes the connector's own options type; ``start_full``
and ``start_incremental`` are typed here too, so mypy checks every subclass keeps the signatures and no
``isinstance`` re-check is needed.

Run context a connector receives (set by the runner, read-only for the connector):
    ``self.options``  the validated Options instance
    ``self.mode``     "full" or "incremental" (an incremental run without a cursor — the first — is crawled
                      by ``start_full``, but the pipelines still skip unchanged items)
    ``self.since``    the previous successful run's cursor (None on a first or full run); also the argument
                      of ``start_incremental``
    ``self.site``     the site's name in settings.yaml
    ``self.known_ids`` ids indexed before for this site — passed (incremental runs) only to connectors that
                      declare ``uses_known_ids``; an empty set otherwise

What a connector reports back (read by the pipelines and the runner at close):
    ``self.advance_cursor(value)``     the newest change seen; committed only if the run succeeds
    ``self.listing_failed(reason)``    a listing page could not be fetched: the run is not provably complete,
                                       so no sweep and no id-listing deletions happen
    ``self.list_id(document_id)``      for ``lists_all_ids`` connectors: an id present in a complete listing;
                                       ids in the state store but not listed are deleted at the end (guarded)

Connectors know nothing about Coveo or the index: no field names, no Push API.
"""

from __future__ import annotations

import inspect
import logging
from abc import ABCMeta, abstractmethod
from collections.abc import AsyncIterator, Iterable
from typing import Any, ClassVar, Generic, Literal, TypeVar, cast, final

import scrapy
from pydantic import BaseModel, ConfigDict, Field
from scrapy.http import Response
from twisted.python.failure import Failure

from connectors.failures import describe
from crawler import signals as pushcrawl_signals
from crawler.scrapytypes import Output

logger = logging.getLogger(__name__)


class ConnectorOptions(BaseModel):
    """Base of every connector's ``Options``; unknown keys are errors so typos are caught."""

    model_config = ConfigDict(extra="forbid")


class RevalidateOptions(ConnectorOptions):
    """Options of a connector that declares ``revalidates``."""

    revalidate: bool = Field(
        True, description="incremental runs ask with If-None-Match/If-Modified-Since; a 304 is not downloaded"
    )


OptionsT = TypeVar("OptionsT", bound=ConnectorOptions)
#: a full crawl lists everything; an incremental one only what changed since the cursor
CrawlMode = Literal["full", "incremental"]


class Connector(scrapy.Spider, Generic[OptionsT], metaclass=ABCMeta):
    """Base class of every connector. Subclasses set ``name`` and ``Options``, implement ``ping`` and
    ``start_full``, and ``start_incremental`` when they declare ``supports_incremental``."""

    Options: ClassVar[type[ConnectorOptions]] = ConnectorOptions
    #: can crawl only what changed since a cursor (then it implements ``start_incremental``)
    supports_incremental: ClassVar[bool] = False
    #: supplies per-item ACLs (``security: {mode: content_system}``)
    supports_permissions: ClassVar[bool] = False
    #: can prove a complete listing of current ids (enables deletion by listing diff)
    lists_all_ids: ClassVar[bool] = False
    #: reads the ids indexed before (connectors.recheck rechecks those the crawl did not reach; wagtail reuses
    #: saved file validators only for files indexed before): the runner passes ``known_ids`` only to
    #: connectors that say so, so the others never hold the site's id list in memory
    uses_known_ids: ClassVar[bool] = False
    #: fetches pages whose HTTP validators (ETag, Last-Modified) tell whether they changed: with the site's
    #: ``revalidate`` option on (``RevalidateOptions``), incremental runs ask with If-None-Match /
    #: If-Modified-Since and a 304 hands the spider the stored response (crawler.revalidate)
    revalidates: ClassVar[bool] = False

    def __init__(
        self,
        *args: Any,
        options: OptionsT | None = None,
        site: str = "",
        mode: CrawlMode = "full",
        since: str | None = None,
        known_ids: set[str] | None = None,
        # Any: scrapy.Spider takes arbitrary keyword arguments (``scrapy crawl -a key=value``)
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        # cast: ``Options`` is OptionsT's class, but a ClassVar cannot name a type variable
        self.options: OptionsT = options if options is not None else cast(OptionsT, self.Options())
        self.site = site or self.name
        self.mode: CrawlMode = mode
        self.since = since if mode == "incremental" else None
        self.known_ids: set[str] = known_ids or set()
        self.new_cursor: str | None = None
        self.listing_errors: list[str] = []
        self.listed_ids: set[str] = set()
        self._bind_callbacks()

    def _bind_callbacks(self) -> None:
        # One bound method per callback for the whole run, kept on the instance. Scrapy checks every callback and
        # errback for a generator that returns a value by reading and parsing its source (inspect.getsource +
        # ast.parse), and remembers the answer by weak reference to the callable: ``callback=self.parse_page``
        # makes a fresh bound method per request, which dies with its request and takes the cached answer along,
        # so the check re-parsed the connector's module ~200 times in 3,000 pages (and failed pages when the file
        # changed on disk mid-crawl). The instance attribute shadows the class function; same behaviour otherwise.
        for name in dir(type(self)):
            if not (name.startswith("parse") or name.endswith("errback")):
                continue
            if inspect.isfunction(inspect.getattr_static(type(self), name)):
                setattr(self, name, getattr(self, name))

    # ---- lifecycle hooks ----
    @classmethod
    @abstractmethod
    def ping(cls, options: OptionsT) -> None:
        """Check the content system is reachable and credentials work; raise ConnectorError otherwise.

        Called before the crawl starts, outside the reactor, so blocking I/O (requests) is fine here. A
        connector with nothing to reach (generated or local data) says so in a docstring and returns.
        """

    # ---- the crawl: full or incremental, dispatched here only ----
    # Any: a crawl yields Scrapy requests and pushcrawl items, and Scrapy's own ``start`` is typed with Any
    @final
    async def start(self) -> AsyncIterator[Output]:
        """Scrapy's entry point: a cursor means an incremental crawl, no cursor a full one.

        ``self.since`` is set only in an incremental run, and the runner passes a cursor only to a connector
        that declares ``supports_incremental`` (the registry checks such a connector has
        ``start_incremental``), so the one decision is whether there is a cursor to start from.
        """
        crawl = self.start_full() if self.since is None else self.start_incremental(self.since)
        async for request_or_item in crawl:
            yield request_or_item

    @abstractmethod
    def start_full(self) -> AsyncIterator[Output]:
        """List everything the content system holds (first requests, or items): a full run, or the first
        incremental run of a site (no cursor yet). Write it as ``async def`` with ``yield``."""

    def start_incremental(self, since: str) -> AsyncIterator[Output]:
        """List what changed since ``since``, the cursor the previous successful run committed
        (``advance_cursor``). Connectors that declare ``supports_incremental`` implement it; the base has
        none, and the runner never calls it on a connector that does not declare the capability."""
        raise NotImplementedError(f"{type(self).__name__} does not crawl incrementally")

    @classmethod
    def contract_errors(cls) -> list[str]:
        """What this class leaves out of the contract, for the registry to refuse it with (empty: none)."""
        errors = [f"does not implement {name}" for name in sorted(getattr(cls, "__abstractmethods__", ()))]
        has_incremental = cls.start_incremental is not Connector.start_incremental
        if cls.supports_incremental and not has_incremental:
            errors.append("declares supports_incremental but does not implement start_incremental")
        if has_incremental and not cls.supports_incremental:
            errors.append("implements start_incremental but does not declare supports_incremental (never called)")
        return errors

    # ---- reporting helpers for subclasses ----
    def advance_cursor(self, value: str | None) -> None:
        """Remember the newest change seen; the runner commits it only after a successful run."""
        if value is not None and (self.new_cursor is None or value > self.new_cursor):
            self.new_cursor = value

    def listing_failed(self, reason: str) -> None:
        """Record that part of a listing is missing, so the run cannot be proven complete."""
        self.listing_errors.append(reason)
        logger.warning("listing incomplete: %s", reason)
        crawler = getattr(self, "crawler", None)  # a spider built without from_crawler (unit tests) has none
        if crawler is not None:
            if crawler.stats is not None:
                crawler.stats.inc_value("pushcrawl/listing_errors")
            # the run ledger records it (crawler.completeness): no sweep for a run with an unread listing
            crawler.signals.send_catch_log(signal=pushcrawl_signals.listing_failed, where=self.site, reason=reason)

    def listing_errback(self, failure: Failure) -> None:
        """Errback for listing requests: a failed listing page makes the run incomplete."""
        request = getattr(failure, "request", None)
        url = request.url if request is not None else "?"
        self.listing_failed(f"{url}: {describe(failure)}")

    def list_id(self, document_id: str) -> None:
        self.listed_ids.add(document_id)

    @property
    def listing_complete(self) -> bool:
        return not self.listing_errors

    # Any: Scrapy passes a request's cb_kwargs, typed dict[str, Any]
    def parse(self, response: Response, **kwargs: Any) -> Iterable[Output]:
        raise NotImplementedError(f"{type(self).__name__} has no default callback")
