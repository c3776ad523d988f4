"""Change detection for Wagtail images and documents, whose API gives no modification time.

A file replaced in place keeps its id and, usually, its download URL, so the page cursor cannot see it.
Each file gets a *validator*, recorded when it is downloaded and compared on the next incremental run:

- ``{"sha1": …}`` — the ``file_hash`` field, when the site adds it to the images/documents endpoint (stock
  Wagtail keeps it on both models but does not expose it). Costs nothing: it arrives with the listing, and an
  unchanged file is not requested at all.
- ``{"etag": …, "modified": …}`` — the ``ETag`` / ``Last-Modified`` headers of the previous download, sent
  back as ``If-None-Match`` / ``If-Modified-Since``; the server answers ``304 Not Modified`` without a body.
  Wagtail's document view sets the ETag from ``file_hash`` (an empty ``""`` when the hash is blank: ignored);
  media servers and object stores set both.
- nothing — a server with neither header: the file is downloaded every run and the fingerprint of the
  mapped item decides whether it is pushed again.

Validators live in the connector's cursor, next to the pages' publication time, as
``{"pages": "<time>", "files": {"<download url>": {...}}}``. The cursor is committed only after a run that
was proven complete (no listing error, no failed fetch, every batch acknowledged), so a validator never
outlives the content it describes in the index; a run that fails leaves the previous validators in place and
the next run asks again. A file the pipelines refused (any drop but "unchanged") keeps no validator, so it
is fetched again. A cursor written by an older version (a bare time) reads as "no validators yet".
"""

from __future__ import annotations

import json

from scrapy.http import Response

from crawler.jsontypes import JSONObject

Validator = dict[str, str]


def load_cursor(since: str | None) -> tuple[str | None, dict[str, Validator]]:
    """The stored cursor → (pages cursor, validators by download URL); tolerant of older or odd values."""
    if not since:
        return None, {}
    if not since.lstrip().startswith("{"):
        return since, {}  # a cursor from before file validators: the pages' time only
    try:
        data = json.loads(since)
    except ValueError:
        return None, {}
    if not isinstance(data, dict):
        return None, {}
    pages, raw = data.get("pages"), data.get("files")
    pages = pages if isinstance(pages, str) else None
    raw = raw if isinstance(raw, dict) else {}
    files = {
        url: {k: v for k, v in val.items() if isinstance(v, str)}
        for url, val in raw.items()
        if isinstance(url, str) and isinstance(val, dict)
    }
    return pages, {url: val for url, val in files.items() if val}


def dump_cursor(pages: str | None, files: dict[str, Validator]) -> str:
    # sorted and compact: the cursor holds one entry per file, so it stays small and diffable
    return json.dumps({"pages": pages, "files": dict(sorted(files.items()))}, separators=(",", ":"))


def api_validator(item: JSONObject) -> Validator | None:
    """The file's SHA-1 from the API item, when the endpoint exposes ``file_hash``."""
    value = item.get("file_hash")
    return {"sha1": value} if isinstance(value, str) and value else None


#: ETags that name no version: Wagtail's document view sends ``ETag: ""`` for a document whose ``file_hash``
#: is blank (one created by code rather than uploaded in the admin), and answers 304 to ``If-None-Match: ""``
#: even after the file was replaced; such a tag is no validator
EMPTY_ETAGS = ('""', 'W/""')


def response_validator(response: Response) -> Validator:
    """The HTTP validators a download carried (empty when the server sends none, or an empty ETag)."""
    out: Validator = {}
    for header, key in ((b"ETag", "etag"), (b"Last-Modified", "modified")):
        value = (response.headers.get(header) or b"").decode("latin-1").strip()
        if value and value not in EMPTY_ETAGS:
            out[key] = value
    return out


def conditional_headers(validator: Validator | None) -> dict[str, str]:
    """Request headers that make the server answer 304 when the file is still the one recorded."""
    if not validator:
        return {}
    headers = {}
    if "etag" in validator:
        headers["If-None-Match"] = validator["etag"]
    if "modified" in validator:
        headers["If-Modified-Since"] = validator["modified"]
    return headers
