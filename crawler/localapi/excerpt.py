"""Coveo-shaped excerpts: a short passage around the first query match, with the matched words' offsets.

A search result carries ``excerpt`` and ``excerptHighlights`` (``[{"offset", "length"}]`` into the excerpt),
and ``titleHighlights`` likewise into the title. Matching uses the document's own analyser, so a query for
"shoe" highlights "Shoes" in an English item and "chaussures" matches "chaussure" in a French one.
"""

from __future__ import annotations

import tantivy

EXCERPT_CHARS = 200
#: how much of a long body is scanned for the first match (bounded work per result)
SCAN_CHARS = 100_000
ELLIPSIS = "… "


def _hits(text: str, analyzer: tantivy.TextAnalyzer, terms: set[str]) -> list[tuple[int, int]]:
    if not terms or not text:
        return []
    return [(t.char_offset_from, t.char_offset_to) for t in analyzer.pre_tokenize(text).tokens if t.text in terms]


def terms(analyzer: tantivy.TextAnalyzer, words: list[str]) -> set[str]:
    """The index terms of the query words, in one document's language."""
    return {t for w in words for t in analyzer.analyze(w)}


def highlights(text: str, analyzer: tantivy.TextAnalyzer, wanted: set[str]) -> list[dict[str, int]]:
    return [{"offset": a, "length": b - a} for a, b in _hits(text, analyzer, wanted)]


def excerpt(text: str, analyzer: tantivy.TextAnalyzer, wanted: set[str]) -> tuple[str, list[dict[str, int]]]:
    """(excerpt, highlights): up to ~200 characters starting a little before the first match."""
    scanned = text[:SCAN_CHARS]
    hits = _hits(scanned, analyzer, wanted)
    start = 0
    if hits and hits[0][1] > EXCERPT_CHARS:
        start = max(0, hits[0][0] - 40)
        space = scanned.find(" ", start)
        if 0 <= space < hits[0][0]:  # start on a word boundary
            start = space + 1
    end = min(len(scanned), start + EXCERPT_CHARS)
    if end < len(scanned):
        space = scanned.rfind(" ", start, end)
        if space > start + EXCERPT_CHARS // 2:
            end = space
    body = scanned[start:end]
    prefix = ELLIPSIS if start > 0 else ""
    shown = [{"offset": len(prefix) + a - start, "length": b - a} for a, b in hits if a >= start and b <= end]
    return prefix + body, shown
