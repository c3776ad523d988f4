"""The bad-input cases: what each page is, and the outcome it must end in (indexed, or dropped with a reason).

``routes(base_url)`` gives the server's path → Body map, with ``/sitemap.xml`` listing the main site's cases
(one of them twice, one with an unreadable ``<lastmod>``) and ``/errors.xml`` the two cases that make a run
incomplete on purpose (a truncated page transfer, a truncated child sitemap).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from tests.badinput.server import Body

MB = 1024 * 1024
WORDS = [
    "alpha",
    "bravo",
    "charlie",
    "delta",
    "echo",
    "foxtrot",
    "golf",
    "hotel",
    "india",
    "juliet",
    "kilo",
    "lima",
    "mike",
]


@dataclass
class Case:
    name: str
    path: str
    body: Body
    outcome: str  # "indexed" | "dropped:<reason>" | "error:<words in the failure reason>"
    text: tuple[str, ...] = ()  # words the indexed body must contain
    title: str | None = None
    needs_extract: bool = False  # expected outcome arrives with engineer extract's branch (xfail until merged)
    lastmod: str | None = None
    meta: dict[str, str] = field(default_factory=dict)  # index field → value it must have


def _page(title: str, body: str, head: str = "") -> bytes:
    head = f"<head><title>{title}</title>{head}</head>"
    return f"<!doctype html><html>{head}<body><main>{body}</main></body></html>".encode()


def _words(n_bytes: int, seed: int) -> str:
    rnd = random.Random(seed)
    out, size = [], 0
    while size < n_bytes:
        para = " ".join(rnd.choice(WORDS) for _ in range(60))
        out.append(para)
        size += len(para) + 7
    return "</p><p>".join(out)


def cases() -> list[Case]:
    big = _words(20 * MB, 1)
    return [
        Case(
            "plain page",
            "/ok.html",
            Body(_page("Plain page", "<p>A perfectly ordinary paragraph.</p>")),
            "indexed",
            ("ordinary",),
            "Plain page",
        ),
        Case(
            "malformed HTML",
            "/malformed.html",
            Body(
                b"<html><head><title>Malformed</title><body><div><p>Unclosed <b>bold <i>italic</div></span>"
                b"</p></td><table><tr><td>cell words</table><p>after the table"
            ),
            "indexed",
            ("Unclosed", "cell", "after"),
            "Malformed",
        ),
        Case(
            "truncated HTML",
            "/truncated.html",
            Body(b'<html><head><title>Cut short</title></head><body><p>Cut here in the middle <a href="/x'),
            "indexed",
            ("middle",),
            "Cut short",
        ),
        Case(
            "windows-1252",
            "/cp1252.html",
            Body(
                _page("Caf\xe9 menu", "<p>\u201cCaf\xe9 cr\xe8me\u201d costs 3 \u20ac</p>").decode().encode("cp1252"),
                "text/html; charset=windows-1252",
            ),
            "indexed",
            ("Café", "crème", "€"),
            "Café menu",
        ),
        Case(
            "Shift_JIS",
            "/sjis.html",
            Body(
                _page("日本語のページ", "<p>東京の天気は晴れです</p>", '<meta charset="Shift_JIS">')
                .decode()
                .encode("shift_jis"),
                "text/html",
            ),
            "indexed",
            ("東京の天気は晴れです",),
            "日本語のページ",
        ),
        Case(
            "no charset (UTF-8 bytes)",
            "/nocharset.html",
            Body(_page("Naïve résumé", "<p>Déjà vu, naïve façade</p>"), "text/html"),
            "indexed",
            ("façade",),
            "Naïve résumé",
        ),
        Case(
            "NUL bytes",
            "/nul.html",
            Body(_page("Nul page", "<p>before\x00after and more\x00words</p>")),
            "indexed",
            ("more",),
            "Nul page",
        ),
        Case(
            "20 MB page",
            "/big.html",
            Body(_page("Twenty megabytes", f"<p>{big}</p><p>zuluend</p>")),
            "indexed",
            ("zuluend", "foxtrot"),
            "Twenty megabytes",
        ),
        Case(
            "huge text node (11 MB in one <p>)",
            "/hugenode.html",
            Body(_page("Huge node", "<p>" + _words(11 * MB, 2).replace("</p><p>", " ") + " yankeeend</p>")),
            "indexed",
            ("yankeeend",),
            "Huge node",
            needs_extract=True,
        ),
        Case(
            "binary served as text/html",
            "/binary.html",
            Body(random.Random(3).randbytes(200_000)),
            "dropped:binary_content",
            needs_extract=True,
        ),
        Case(
            "unclosed <title>",
            "/unclosedtitle.html",
            Body(b"<html><head><title>Open title<meta name=x content=y></head><body><p>Body words here</p>"),
            "indexed",
            ("Body words here",),
            "Open title",
            needs_extract=True,
        ),
        Case(
            "oversized file (300 MB, Content-Length)",
            "/oversized.pdf",
            Body(content_type="application/pdf", size=300 * MB),
            "dropped:too_large",
        ),
        Case(
            "oversized file (300 MB, no Content-Length)",
            "/streamed.pdf",
            Body(content_type="application/pdf", size=300 * MB, announce=-1),
            "dropped:too_large",
        ),
        Case(
            "date '14 March 2025'",
            "/date-human.html",
            Body(_page("Human date", "<p>dated page</p>", '<meta name="date" content="14 March 2025">')),
            "indexed",
            ("dated",),
            "Human date",
            meta={"date_day": "2025-03-14"},
        ),
        Case(
            "RFC 2822 date",
            "/date-rfc.html",
            Body(
                _page("RFC date", "<p>mailed page</p>", '<meta name="date" content="Fri, 14 Mar 2025 09:30:00 +0000">')
            ),
            "indexed",
            ("mailed",),
            "RFC date",
            meta={"date_day": "2025-03-14"},
        ),
        Case(
            "invalid date",
            "/date-bad.html",
            Body(_page("Bad date", "<p>undated page</p>", '<meta name="date" content="31 Febtember">')),
            "indexed",
            ("undated",),
            "Bad date",
        ),
        Case(
            "invalid <lastmod>",
            "/lastmod-bad.html",
            Body(_page("Bad lastmod", "<p>lastmod page</p>")),
            "indexed",
            ("lastmod",),
            "Bad lastmod",
            lastmod="yesterday-ish",
        ),
        Case(
            "illegal metadata names",
            "/meta-names.html",
            Body(
                _page(
                    "Odd names",
                    "<p>named page</p>",
                    '<meta name="Foo Bar!" content="fb"><meta name="123abc" content="num">'
                    '<meta name="déjà-vu" content="dv"><meta name="!!!" content="bang">',
                )
            ),
            "indexed",
            ("named",),
            "Odd names",
            meta={"foo_bar": "fb", "f_123abc": "num", "deja_vu": "dv"},
        ),
        Case("duplicate id (listed twice)", "/ok.html", Body(), "indexed", ("ordinary",), "Plain page"),
        Case(
            "noindex meta",
            "/noindex.html",
            Body(_page("Hidden", "<p>secret words</p>", '<meta name="robots" content="noindex, follow">')),
            "dropped:noindex",
        ),
        Case(
            "X-Robots-Tag noindex",
            "/noindex-header.html",
            Body(_page("Hidden header", "<p>header secret</p>"), headers={"X-Robots-Tag": "noindex"}),
            "dropped:noindex",
        ),
    ]


ERROR_CASES = [
    ("truncated transfer", "/dataloss.html", "error:truncated transfer"),
    ("truncated child sitemap", "/child-truncated.xml", "error:truncated transfer"),
]


def routes(base: str) -> dict[str, Body]:
    out: dict[str, Body] = {}
    urls = []
    for case in cases():
        if case.body.data or case.body.size:
            out[case.path] = case.body
        lastmod = f"<lastmod>{case.lastmod}</lastmod>" if case.lastmod else ""
        urls.append(f"<url><loc>{base}{case.path}</loc>{lastmod}</url>")
    xml = "application/xml"
    out["/sitemap.xml"] = Body(
        f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{"".join(urls)}</urlset>'.encode(),
        xml,
    )
    page = _page("Cut transfer", "<p>" + "lost words " * 500 + "</p>")
    out["/dataloss.html"] = Body(page[:400], announce=len(page))
    child = (
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        + f"<url><loc>{base}/ok.html</loc></url>" * 50
        + "</urlset>"
    ).encode()
    out["/child-truncated.xml"] = Body(child[:300], xml, announce=len(child))
    out["/errors.xml"] = Body(
        (
            f'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"<sitemap><loc>{base}/child-truncated.xml</loc></sitemap>"
            f"<sitemap><loc>{base}/errors-pages.xml</loc></sitemap></sitemapindex>"
        ).encode(),
        xml,
    )
    out["/errors-pages.xml"] = Body(
        (
            f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"<url><loc>{base}/dataloss.html</loc></url></urlset>"
        ).encode(),
        xml,
    )
    return out
