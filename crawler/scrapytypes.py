"""Scrapy's dynamic shapes, named once so that a bare ``Any`` elsewhere stands out.

Scrapy types its settings, a request's ``meta`` and a request's keyword arguments with ``Any``: they carry
values of every type (numbers, dotted paths, dicts of priorities, middlewares' own objects). These aliases keep
that one decision here; what a connector yields is typed exactly (``Output``).
"""

from __future__ import annotations

from typing import Any, TypeAlias

import scrapy

from crawler.model import Item

#: Scrapy settings as a plain dict. Any: a setting may hold a value of any type (Scrapy's ``Settings`` and
#: ``Crawler`` take ``dict[str, Any]`` themselves)
SettingsDict: TypeAlias = dict[str, Any]

#: a request's ``meta`` or ``cb_kwargs``. Any: ``scrapy.Request`` types both ``dict[str, Any]``; middlewares and
#: callbacks put their own objects there (a Playwright page method, a listing's offset)
Meta: TypeAlias = dict[str, Any]

#: what a connector's ``start()`` and callbacks yield: requests to follow and pushcrawl items
Output: TypeAlias = scrapy.Request | Item
