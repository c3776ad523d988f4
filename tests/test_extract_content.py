"""Content extraction on the demo pages: main text without boilerplate, meta/OpenGraph/JSON-LD metadata,
language declared or detected, CSS/XPath selectors, binary documents left to the index."""

from __future__ import annotations

import re
from pathlib import Path

from crawler.fieldrules import ExtractConfig
from crawler.model import Document
from pipelines.extract import extract_html, main_text

DEMO = Path(__file__).resolve().parent.parent / "examples" / "demo"
SIDEBAR = "Staff discount week"
FOOTER = "Page owner"


def _doc(rel: str, html: str | None = None) -> Document:
    return Document(document_id=f"https://x.example/{rel}", html=html or (DEMO / rel).read_text(encoding="utf-8"))


def test_semantic_page_keeps_article_drops_boilerplate() -> None:
    doc = _doc("policies/salary-bands.html")
    extract_html(doc)
    text = doc.text or ""
    assert "Calibration meetings take place in March" in text and "Engineering 3" in text  # table kept
    assert SIDEBAR not in text and FOOTER not in text and "Search the intranet" not in text


def test_page_without_semantic_tags_goes_through_trafilatura() -> None:
    html = re.sub(r"</?(main|article)\b[^>]*>", "", (DEMO / "policies/salary-bands.html").read_text("utf-8"))
    doc = _doc("policies/salary-bands.html", html)
    extract_html(doc)
    assert "Calibration meetings take place in March" in (doc.text or "")
    assert SIDEBAR not in (doc.text or "") and FOOTER not in (doc.text or "")
    assert "Skip to content" not in (doc.text or "")
    # the tag heuristic alone leaks the skip link and breadcrumbs on such a page: the reason trafilatura is used
    plain = _doc("policies/salary-bands.html", html)
    extract_html(plain, ExtractConfig(main_content="semantic"))
    assert "Skip to content" in (plain.text or "")


def test_meta_opengraph_and_standard_attributes() -> None:
    doc = _doc("policies/salary-bands.html")
    extract_html(doc)
    md = doc.metadata
    assert md["confidentiality"] == "internal" and md["category"] == "HR"
    assert md["keywords"] == ["salary bands", "compensation", "pay review", "HR", "internal"]
    assert md["og_site_name"] == "Northwind Outfitters Intranet" and md["article_section"] == "HR"
    assert md["canonical_url"].endswith("/policies/salary-bands.html")
    assert "viewport" not in md and "robots" not in md and "author" not in md  # rendering / standard tags
    assert doc.title == "Salary Bands and Pay Review Process 2025" and doc.author == "People Team"
    assert doc.date is not None and doc.date.isoformat() == "2025-01-10T09:00:00+01:00"
    assert doc.language == "en"


def test_json_ld_metadata_and_fallbacks() -> None:
    html = """<html><head><script type="application/ld+json">
      {"@graph": [{"@type": "Organization", "name": "N"},
                  {"@type": "TechArticle", "headline": "Deploy it", "author": {"name": "Ada"},
                   "datePublished": "2025-02-01T10:00:00Z", "inLanguage": "de-DE", "keywords": ["a", "b"],
                   "publisher": {"name": "Northwind"}, "articleSection": "Ops"}]}
      </script><script type="application/ld+json">{not json</script></head>
      <body><main><p>Body text here.</p></main></body></html>"""
    doc = _doc("x.html", html)
    extract_html(doc)
    assert (doc.title, doc.author, doc.language) == ("Deploy it", "Ada", "de")
    assert doc.date is not None and doc.date.year == 2025
    md = doc.metadata
    assert md["jsonld_type"] == "TechArticle" and md["keywords"] == ["a", "b"] and md["publisher"] == "Northwind"
    assert md["jsonld_article_section"] == "Ops"
    assert any("JSON-LD block ignored" in n for n in doc.notes)


def test_language_detected_when_not_declared() -> None:
    html = (DEMO / "articles/monter-une-tente-par-grand-vent.html").read_text("utf-8")
    html = re.sub(r"<html[^>]*>", "<html>", html)
    html = re.sub(r'<meta property="og:locale"[^>]*>', "", html)
    html = re.sub(r'"inLanguage": "[^"]*",', "", html)
    doc = _doc("articles/monter-une-tente-par-grand-vent.html", html)
    extract_html(doc)
    assert doc.language == "fr"
    off = _doc("articles/monter-une-tente-par-grand-vent.html", html)
    extract_html(off, ExtractConfig(detect_language=False))
    assert off.language is None


def test_language_candidates_decide_between_close_languages() -> None:
    # a list of German product words: the full model says Luxembourgish, a German/English/French site says German
    words = "Produkt Service Garantie Information Kontakt Hotline Formular Download Katalog"
    html = f"<html><body><main><p>{words}</p></main></body></html>"
    free = _doc("p.html", html)
    extract_html(free)
    assert free.language == "lb"
    known = _doc("p.html", html)
    extract_html(known, ExtractConfig(languages=["de", "en", "fr"]))
    assert known.language == "de"


def test_selectors_override_extraction() -> None:
    cfg = ExtractConfig.model_validate(
        {
            "selectors": {
                "category": {"css": "div.breadcrumbs"},
                "headings": {"xpath": "//main//h2", "multi_value": True},
                "published": {"css": "time::attr(datetime)"},
            }
        }
    )
    doc = _doc("policies/salary-bands.html")
    extract_html(doc, cfg)
    assert doc.metadata["category"] == "Home \u203a Policies"  # the selector beats <meta name="category">
    assert doc.metadata["headings"] == [
        "How bands work",
        "Example bands (Norway, annual gross, NOK)",
        "Annual review timeline",
    ]
    assert doc.metadata["published"] == "2025-01-10T09:00:00+01:00"


def test_main_text_whole_page_keeps_navigation() -> None:
    import lxml.html

    tree = lxml.html.document_fromstring((DEMO / "policies/salary-bands.html").read_text("utf-8"))
    assert FOOTER in main_text(tree, "whole_page")
