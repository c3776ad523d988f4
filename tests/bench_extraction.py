"""Measure main-content extraction on the demo pages (not a test; run ``python -m tests.bench_extraction``).

Reference: the words of each page's ``<article>``. For each method, the mean token recall and precision of
the extracted text against it, and how many pages leak boilerplate (skip link, sidebar, footer, search box),
on the pages as they are and with their ``<main>``/``<article>`` tags stripped (a page without semantic markup).
"""

from __future__ import annotations

import re
from pathlib import Path

import lxml.html

from pipelines.extract import main_text

DEMO = Path(__file__).resolve().parent.parent / "examples" / "demo"
BOILERPLATE = ("Skip to content", "Staff discount", "Page owner", "All rights reserved", "Search the intranet")


def _words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.lower()))


def main() -> None:
    pages = [p for p in sorted(DEMO.rglob("*.html")) if "<article" in p.read_text("utf-8")]
    for variant in ("as-is", "no-main/article"):
        for how in ("semantic", "trafilatura", "auto"):
            recall = precision = 0.0
            leaks = 0
            for page in pages:
                html = page.read_text("utf-8")
                ref = _words(lxml.html.document_fromstring(html).find(".//article").text_content())
                if variant != "as-is":
                    html = re.sub(r"</?(main|article)\b[^>]*>", "", html)
                text = main_text(lxml.html.document_fromstring(html), how)
                got = _words(text)
                recall += len(ref & got) / len(ref)
                precision += len(ref & got) / max(1, len(got))
                leaks += any(marker in text for marker in BOILERPLATE)
            n = len(pages)
            print(
                f"{variant:16} {how:12} recall {recall / n:.3f} precision {precision / n:.3f} boilerplate {leaks}/{n}"
            )


if __name__ == "__main__":
    main()
