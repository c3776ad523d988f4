"""``pushcrawl preview SITE [URL] [--limit N]``: what the connector and the pipelines make of a few items.

A dry run through the real runner and every pipeline, presented per item: the index fields, the effective
permissions, metadata collected but not mapped to any field, mapping notes, and the reason of each drop;
then the drop counts from Scrapy's stats. Nothing is pushed, and the site's state is not read or written (a
throw-away state folder), so every item is shown as a first crawl would send it and no sweep is planned.

Two small Scrapy components do the work, enabled through the site's ``scrapy:`` settings for this run only:
``PreviewCollector`` (an extension listening to ``item_scraped``/``item_dropped``; it closes the spider after N
items) and ``SinglePage`` (a spider middleware that replaces the connector's start with one URL). A connector
chooses how one URL is fetched by defining ``preview_request(url) -> scrapy.Request``; otherwise its
``parse_page`` callback is used when it has one, else ``parse``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import ClassVar, TextIO

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from twisted.python.failure import Failure

from crawler import secrets
from crawler.commands import Subparsers
from crawler.config import load_settings
from crawler.errors import SettingsError
from crawler.model import Deletion, Document, Identity, Permissions
from crawler.pushapi.body import document_body
from crawler.scrapytypes import Output

LIMIT_REASON = "preview_limit"


def register(sub: Subparsers) -> None:
    p: argparse.ArgumentParser = sub.add_parser("preview", help="show what a site's items become; push nothing")
    p.add_argument("site", metavar="SITE", help="site name from settings.yaml")
    p.add_argument("url", nargs="?", metavar="URL", help="preview this one page instead of the connector's start")
    p.add_argument("--limit", type=int, help="stop after N items (default: 10; 1 with a URL)")
    p.add_argument("--json", action="store_true", help="also print each item's Push API JSON")
    p.add_argument(
        "--render", action="store_true", help="with URL: its main text fetched plainly and rendered, side by side"
    )
    p.add_argument("--settings", help="settings file (default: ./settings.yaml or $PUSHCRAWL_SETTINGS)")
    p.add_argument("-s", "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--log-level", default="ERROR", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    p.set_defaults(func=run)


class PreviewCollector:
    """Scrapy extension: prints each item as it leaves the pipelines (or is dropped) and enforces the limit."""

    last: ClassVar[PreviewCollector | None] = None  # one crawl per process: the command reads it afterwards

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.limit = int(crawler.settings.getint("PUSHCRAWL_PREVIEW_LIMIT", 10))
        self.show_json = crawler.settings.getbool("PUSHCRAWL_PREVIEW_JSON")
        self.out: TextIO = sys.stdout
        self.shown = 0
        self.dropped = 0
        self.reason = ""
        self.failures: list[str] = []
        PreviewCollector.last = self

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PreviewCollector:
        ext = cls(crawler)
        crawler.signals.connect(ext.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(ext.item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def _room(self) -> bool:
        return self.shown < self.limit

    def _counted(self) -> None:
        self.shown += 1
        if self.shown == self.limit:
            # kept on self so the task is not garbage-collected before it runs
            self._closing = asyncio.ensure_future(self.crawler.engine.close_spider_async(reason=LIMIT_REASON))

    def item_scraped(self, item: object) -> None:
        if not self._room():
            return
        self.out.write(secrets.redact(format_item(self.shown + 1, item, self.show_json)))
        self._counted()

    def item_dropped(self, item: object, exception: BaseException) -> None:
        if not self._room() or not isinstance(item, Document):
            return
        self.dropped += 1
        self.out.write(secrets.redact(format_item(self.shown + 1, item, False, dropped=str(exception))))
        self._counted()

    def spider_closed(self, reason: str) -> None:
        self.reason = reason


class SinglePage:
    """Spider middleware: replace the connector's start requests by one request for the previewed URL."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.url = crawler.settings.get("PUSHCRAWL_PREVIEW_URL")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SinglePage:
        return cls(crawler)

    async def process_start(self, start: AsyncIterator[Output]) -> AsyncIterator[Output]:
        if not self.url:
            async for obj in start:
                yield obj
            return
        assert self.crawler.spider is not None  # set before the engine asks for start requests
        request = request_for(self.crawler.spider, self.url)
        if request.errback is None:
            request = request.replace(errback=self.failed)
        yield request

    def failed(self, failure: Failure) -> None:
        """The previewed page could not be fetched: say why (status or network error), count an error."""
        error = failure.value
        response = getattr(error, "response", None)
        why = f"HTTP {response.status}" if response is not None else failure.getErrorMessage()
        self.crawler.stats.inc_value("pushcrawl/errors")
        if PreviewCollector.last is not None:
            PreviewCollector.last.failures.append(f"{self.url}: {why}")


def request_for(spider: scrapy.Spider, url: str) -> scrapy.Request:
    custom = getattr(spider, "preview_request", None)
    if callable(custom):
        request: scrapy.Request = custom(url)  # a connector's own hook (getattr: optional)
        return request
    callback = getattr(spider, "parse_page", None) or spider.parse
    return scrapy.Request(url, callback=callback, dont_filter=True)


def _permissions(perms: Permissions | None) -> list[str]:
    if perms is None:
        return ["(none)"]
    lines = []
    for lvl_no, level in enumerate(perms.levels, 1):
        for set_no, pset in enumerate(level.sets, 1):
            where = f"level {level.name or lvl_no}, set {pset.name or set_no}: " if len(perms.levels) > 1 else ""
            if pset.allow_anonymous and not pset.denied:
                lines.append(f"{where}everyone (anonymous)")
                continue
            allowed = ", ".join(f"{p.identity_type.value}:{p.identity}" for p in pset.allowed) or "nobody"
            text = f"{where}{'anonymous + ' if pset.allow_anonymous else ''}allowed {allowed}"
            if pset.denied:
                text += "; denied " + ", ".join(f"{p.identity_type.value}:{p.identity}" for p in pset.denied)
            lines.append(text)
    return lines or ["(empty: visible to nobody)"]


def _short(value: object, width: int = 100) -> str:
    text = json.dumps(value, ensure_ascii=False) if isinstance(value, list) else str(value).replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"


def format_item(number: int, item: object, show_json: bool, dropped: str = "") -> str:
    if isinstance(item, Deletion):
        return f"\n#{number} deletion  {item.document_id}  {item.reason}\n"
    if isinstance(item, Identity):
        members = ", ".join(m.name for m in item.members)
        return f"\n#{number} identity  {item.type} {item.name}  members: {members or '-'}\n"
    if not isinstance(item, Document):
        return f"\n#{number} {type(item).__name__}: {_short(item)}\n"
    lines = [f"\n#{number} {item.document_id}" + (f"  DROPPED: {dropped}" if dropped else "")]
    if item.title:
        lines.append(f"  title: {_short(item.title)}")
    content = item.text if item.text is not None else item.html
    if item.binary is not None:
        lines.append(f"  content: binary {item.file_extension or ''}, {len(item.binary)} bytes")
    elif content is not None:
        lines.append(f"  content: {len(content)} chars: {_short(content, 90)}")
    if item.fields:
        lines.append("  fields:")
        width = max(len(k) for k in item.fields)
        lines += [f"    {k:<{width}} = {_short(v)}" for k, v in sorted(item.fields.items())]
    elif item.metadata:
        lines.append("  metadata (not mapped yet): " + ", ".join(sorted(item.metadata)))
    if not dropped or item.effective_permissions is not None:
        lines.append("  permissions: " + "\n               ".join(_permissions(item.effective_permissions)))
    if item.collected_only:
        lines.append("  collected, not indexed (no field): " + ", ".join(sorted(item.collected_only)))
    lines += [f"  note: {note}" for note in item.notes]
    out = "\n".join(lines) + "\n"
    if show_json and not dropped:
        out += json.dumps(document_body(item), ensure_ascii=False, indent=2) + "\n"
    return out


def run(args: argparse.Namespace) -> int:
    from crawler.runner import run_site

    settings = load_settings(args.settings, args.overrides)
    if args.site not in settings.sites:
        known = ", ".join(sorted(settings.sites)) or "none"
        raise SettingsError(str(settings.source_file), f"sites.{args.site}", f"a site defined (known: {known})")
    if args.render:
        if not args.url:
            raise SettingsError("command line", "--render", "a URL to preview (pushcrawl preview SITE URL --render)")
        from crawler.commands.preview_render import render_options, show
        from crawler.config import connector_options

        _, options = connector_options(settings, args.site)
        return show(args.url, render_options(options), settings.sites[args.site].extract.main_content, sys.stdout)
    limit = args.limit if args.limit is not None else (1 if args.url else 10)
    if limit < 1:
        raise SettingsError("command line", "--limit", "a number of items of at least 1")
    site = settings.sites[args.site]
    scrapy_extra = dict(site.scrapy)
    scrapy_extra["EXTENSIONS"] = {**dict(site.scrapy.get("EXTENSIONS", {})), f"{__name__}.PreviewCollector": 0}
    scrapy_extra["SPIDER_MIDDLEWARES"] = {
        **dict(site.scrapy.get("SPIDER_MIDDLEWARES", {})),
        f"{__name__}.SinglePage": 0,
    }
    scrapy_extra.update(
        {
            "RETRY_ENABLED": False,  # interactive: show a failing page at once instead of retrying it
            # a few items need a few requests: do not fetch dozens of pages to show one
            "CONCURRENT_REQUESTS": max(1, min(limit, int(site.scrapy.get("CONCURRENT_REQUESTS", 16)))),
            "PUSHCRAWL_PREVIEW_LIMIT": limit,
            "PUSHCRAWL_PREVIEW_URL": args.url,
            "PUSHCRAWL_PREVIEW_JSON": args.json,
        }
    )
    site.scrapy = scrapy_extra
    state_dir = Path(tempfile.mkdtemp(prefix="pushcrawl-preview-"))
    settings.state_dir = state_dir  # a throw-away state: nothing known, nothing committed, nothing swept
    try:
        report = run_site(settings, args.site, full=True, dry_run=True, log_level=args.log_level)
    finally:
        shutil.rmtree(state_dir, ignore_errors=True)
    collector = PreviewCollector.last
    shown = collector.shown if collector else 0
    out = sys.stdout
    c = report.counts
    out.write(
        f"\npreview of {args.site}: {shown} item(s) shown"
        f" · fetched {c.get('fetched', 0)} · dropped {c.get('dropped', 0)} · errors {c.get('errors', 0)}"
        " · nothing was pushed\n"
    )
    if report.dropped_by_reason:
        out.write("dropped by reason: " + ", ".join(f"{k} {v}" for k, v in sorted(report.dropped_by_reason.items())))
        out.write("\n")
    limited = collector is not None and collector.reason == LIMIT_REASON
    failed = report.status != "finished" and not (limited and not c.get("errors"))
    for failure in collector.failures if collector else []:
        out.write(f"problem: could not fetch {failure}\n")
    if failed and report.message and not (collector and collector.failures):
        out.write(f"problem: {secrets.redact(report.message)}\n")
    if shown == 0 and not failed and not (collector and collector.failures):
        where = f"the page {args.url}" if args.url else "the connector"
        out.write(f"problem: no item came out of {where}; run with --log-level INFO to see what was fetched\n")
        return 1
    return 1 if failed else 0
