"""A fetched page → Document: HTML is handed to the extract pipeline, binary files go as they are."""

from __future__ import annotations

import mimetypes
from datetime import datetime
from pathlib import PurePosixPath
from urllib.parse import unquote, urlparse

from scrapy.http import Response, TextResponse

from crawler.model import Document

#: binary types the index converts itself (sent as binary with their extension)
BINARY_EXTENSIONS = frozenset({".pdf", ".doc", ".docx", ".xls", ".xlsx", ".ppt", ".pptx", ".odt", ".rtf"})


def _content_type(response: Response) -> str:
    raw = response.headers.get("Content-Type")
    if raw:
        return raw.decode("latin-1").split(";")[0].strip().lower()
    guessed, _ = mimetypes.guess_type(urlparse(response.url).path)
    return guessed or ""


def page_document(response: Response, lastmod: datetime | None = None) -> Document | None:
    path = unquote(urlparse(response.url).path)
    extension = PurePosixPath(path).suffix.lower()
    ctype = _content_type(response)
    if extension in BINARY_EXTENSIONS or ctype == "application/pdf":
        ext = extension if extension in BINARY_EXTENSIONS else ".pdf"
        return Document(
            document_id=response.url,
            title=PurePosixPath(path).name or None,
            binary=response.body,
            file_extension=ext,
            modified=lastmod,
        )
    if isinstance(response, TextResponse) and ("html" in ctype or extension in (".html", ".htm", "")):
        return Document(document_id=response.url, html=response.text, file_extension=".html", modified=lastmod)
    if isinstance(response, TextResponse) and ctype.startswith("text/"):
        return Document(document_id=response.url, text=response.text, file_extension=".txt", modified=lastmod)
    return None
