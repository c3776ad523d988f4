"""Linked documents (PDF, Office files): which responses are documents, and the binary Document for one.

A response is a document when its Content-Type names one of the configured formats, or, failing a known
type, when its URL ends in a configured extension and it is not HTML (servers often send documents as
``application/octet-stream``). The Content-Type wins over the URL: a ``.doc`` link answering
``application/pdf`` holds PDF bytes, and the index's converter must be told ``.pdf``. Documents go to the
index as raw bytes with their ``file_extension``, like the sitemap connector's binary pages: the extract
pipeline passes them untouched and the index converts them.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

from scrapy.http import Response

from connectors.sitemap.mapping import BINARY_EXTENSIONS
from connectors.web.mapping import last_modified
from crawler.model import Document

#: the formats the sitemap connector already sends as binary: the ones the index turns into searchable text
DEFAULT_DOCUMENTS = sorted(ext.lstrip(".") for ext in BINARY_EXTENSIONS)

#: Content-Types of the common document formats → the extension the index's converter expects
CONTENT_TYPES = {
    "application/pdf": ".pdf",
    "application/x-pdf": ".pdf",
    "application/msword": ".doc",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.ms-excel": ".xls",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/vnd.ms-powerpoint": ".ppt",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": ".pptx",
    "application/vnd.oasis.opendocument.text": ".odt",
    "application/vnd.oasis.opendocument.spreadsheet": ".ods",
    "application/vnd.oasis.opendocument.presentation": ".odp",
    "application/rtf": ".rtf",
    "text/rtf": ".rtf",
}


def url_extension(url: str) -> str:
    """``.pdf`` for ``/a/Report.PDF?x=1``; empty when the last path segment has none."""
    return PurePosixPath(unquote(urlsplit(url).path)).suffix.lower()


def content_type(response: Response) -> str:
    raw = response.headers.get("Content-Type") or b""
    return raw.decode("latin-1").split(";")[0].strip().lower()


def document_extension(response: Response, extensions: frozenset[str]) -> str | None:
    """The extension to send (``.pdf``) when the response is a wanted document, else None."""
    ctype = content_type(response)
    if ctype in CONTENT_TYPES:
        return CONTENT_TYPES[ctype] if CONTENT_TYPES[ctype] in extensions else None
    if "html" in ctype:
        return None
    ext = url_extension(response.url)
    return ext if ext in extensions else None


def looks_like_document_link(response: Response, extensions: frozenset[str]) -> bool:
    """The URL asked for (before any redirect) or the one answering ends in a document extension."""
    urls = [*response.meta.get("redirect_urls", []), response.url] if response.request is not None else [response.url]
    return any(url_extension(url) in extensions for url in urls)


def file_title(link_text: str | None, url: str) -> str:
    """The text of the link that led here, else the file's name, else the URL."""
    text = " ".join((link_text or "").split())
    return text or PurePosixPath(unquote(urlsplit(url).path)).name or url


def binary_document(response: Response, document_id: str, extension: str, link_text: str | None) -> Document:
    return Document(
        document_id=document_id,
        clickable_uri=document_id,
        title=file_title(link_text, response.url),
        modified=last_modified(response),
        binary=response.body,
        file_extension=extension,
    )
