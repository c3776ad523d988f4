"""Turn an item's content (``data``, inline ``compressedBinaryData``, a file container) into searchable text.

Decompression follows docs/push-api-contract.md, "Items" (UNCOMPRESSED/DEFLATE/GZIP/LZMA/ZLIB). PDFs go through
pypdf, HTML through lxml; anything else is decoded as text. Extraction is best effort, like Coveo's converter: a file
it cannot read still becomes an item, with an empty body and a note in the activity log.
"""

from __future__ import annotations

import base64
import gzip
import io
import logging
import lzma
import zlib
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass
class Extracted:
    text: str
    title: str | None
    size: int
    warning: str = ""


def decompress(raw: bytes, ctype: str) -> bytes:
    if ctype == "UNCOMPRESSED":
        return raw
    if ctype == "ZLIB":
        return zlib.decompress(raw)
    if ctype == "DEFLATE":
        return zlib.decompress(raw, -15)
    if ctype == "GZIP":
        return gzip.decompress(raw)
    if ctype == "LZMA":
        return lzma.decompress(raw)
    raise ValueError(f"unknown compressionType {ctype}")


def inline_bytes(b64: str, ctype: str) -> bytes:
    return decompress(base64.b64decode(b64), ctype)


def _html(raw: bytes | str) -> tuple[str, str | None]:
    import lxml.html

    try:
        tree = lxml.html.document_fromstring(raw)
    except Exception:  # lxml raises several types on empty or odd input; fall back to the raw text
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        return text, None
    for bad in tree.xpath("//script|//style|//noscript"):
        bad.drop_tree()
    title_el = tree.find(".//title")
    title = title_el.text_content().strip() if title_el is not None else None
    body = tree.find("body")
    text = (body if body is not None else tree).text_content()
    return " ".join(text.split()), title or None


def _pdf(raw: bytes) -> tuple[str, str | None]:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(raw))
    text = "\n".join((page.extract_text() or "") for page in reader.pages)
    meta_title = reader.metadata.title if reader.metadata else None
    return " ".join(text.split()), (str(meta_title) if meta_title else None)


def extract(raw: bytes | str, file_extension: str | None) -> Extracted:
    """Text and a title hint of one item's content; ``str`` input is the plain ``data`` key."""
    ext = (file_extension or "").lower()
    size = len(raw.encode() if isinstance(raw, str) else raw)
    try:
        if isinstance(raw, bytes) and (raw.startswith(b"%PDF") or ext == ".pdf"):
            text, title = _pdf(raw)
            return Extracted(text, title, size)
        head = raw[:512].lower() if isinstance(raw, bytes) else raw[:512].lower().encode()
        if ext in (".html", ".htm", ".xhtml") or b"<html" in head or b"<!doctype html" in head:
            text, title = _html(raw)
            return Extracted(text, title, size)
    except Exception as exc:  # a broken file must not fail the whole batch; it is logged with the item
        log.info("could not extract text (%s): %s", ext or "no extension", exc)
        return Extracted("", None, size, warning=f"text extraction failed: {exc}")
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    return Extracted(text, None, size)
