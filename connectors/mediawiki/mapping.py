"""MediaWiki API objects → Document / Deletion items, and wikitext → plain text (pure, offline-testable).

Document ids are built from the wiki's own ``server`` + ``articlepath`` (siteinfo) and the normalized title,
the way MediaWiki builds canonical URLs, so that a deletion known only by title gets the same id as the page
it removes. Categories become the multi-value ``categories`` field (names without the namespace prefix).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote, urlsplit

from crawler.jsontypes import JSONObject
from crawler.model import Deletion, Document, MetadataValue


@dataclass(frozen=True)
class Site:
    server: str  # "https://wiki.example.org" (siteinfo may give "//host": resolved against the API URL)
    articlepath: str  # "/wiki/$1"
    namespaces: dict[int, str]

    @classmethod
    def from_siteinfo(cls, data: JSONObject, api_url: str) -> Site:
        query = data.get("query") or {}
        general = query.get("general") or {}
        server = str(general.get("server") or "")
        if server.startswith("//"):
            server = f"{urlsplit(api_url).scheme}:{server}"
        if not server or "articlepath" not in general:
            raise ValueError("siteinfo without general.server/articlepath: is this a MediaWiki api.php?")
        names = {int(k): str(v.get("name", "")) for k, v in (query.get("namespaces") or {}).items()}
        return cls(server.rstrip("/"), str(general["articlepath"]), names)

    def page_url(self, title: str) -> str:
        # MediaWiki's wfUrlencode: spaces as underscores, these characters left as they are
        path = quote(title.replace(" ", "_"), safe=";@$!*(),/~:")
        return self.server + self.articlepath.replace("$1", path)


def parse_time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def category_names(page: JSONObject) -> list[str]:
    names = [str(c.get("title", "")).partition(":")[2] for c in page.get("categories") or []]
    return sorted({n for n in names if n})


def main_revision(page: JSONObject) -> JSONObject:
    revisions = page.get("revisions") or []
    return revisions[0] if revisions else {}


def revision_text(revision: JSONObject) -> str | None:
    slot = ((revision.get("slots") or {}).get("main")) or revision  # rvslots=main, or pre-1.32 wikis
    content = slot.get("content")
    return content if isinstance(content, str) else None


def page_document(page: JSONObject, site: Site, html: str | None = None) -> Document | None:
    """A page from ``prop=revisions|categories|info`` → Document; None when it has no readable content."""
    revision = main_revision(page)
    title = str(page["title"])
    text = None if html is not None else revision_text(revision)
    if html is None and text is None:
        return None
    ns = int(page.get("ns", 0))
    metadata: dict[str, MetadataValue] = {
        # ignore: a list[str] is a valid list[Scalar] value; list invariance refuses it
        "categories": category_names(page),  # type: ignore[dict-item]
        "namespace": site.namespaces.get(ns, str(ns)) or "Main",
        "pageid": int(page.get("pageid", 0)),
    }
    if revision.get("revid"):
        metadata["revid"] = int(revision["revid"])
    url = site.page_url(title)
    return Document(
        document_id=url,
        clickable_uri=url,
        title=title,
        author=revision.get("user") or None,
        modified=parse_time(revision.get("timestamp") or page.get("touched")),
        html=html,
        text=None if html is not None else wikitext_to_text(text or ""),
        metadata=metadata,
    )


def gone(page: JSONObject) -> bool:
    """True when the wiki positively says this title holds no page we index (deleted, or now a redirect)."""
    return bool(page.get("missing")) or bool(page.get("redirect"))


def deletion(title: str, site: Site, reason: str) -> Deletion:
    return Deletion(document_id=site.page_url(title), reason=reason)


_COMMENT = re.compile(r"<!--.*?-->", re.S)
_REF = re.compile(r"<ref[^>/]*/>|<ref[^>]*>.*?</ref>", re.S | re.I)
_TEMPLATE = re.compile(r"\{\{[^{}]*\}\}")
_MEDIA_LINK = re.compile(r"\[\[(?:File|Image|Category|Media)\s*:[^\[\]]*(?:\[\[[^\]]*\]\][^\[\]]*)*\]\]", re.I)
_LINK = re.compile(r"\[\[(?:[^|\]]*\|)?([^\]]*)\]\]")
_EXT_LINK = re.compile(r"\[(?:https?:)?//[^\s\]]+(?:\s+([^\]]*))?\]")
_HEADING = re.compile(r"^(=+)\s*(.*?)\s*\1\s*$", re.M)
_TAG = re.compile(r"</?[a-zA-Z][^>]*>")
_MAGIC = re.compile(r"__[A-Z]+__")


def wikitext_to_text(text: str) -> str:
    """Readable text from wikitext: markup, templates, references and media links removed (not a renderer)."""
    text = _COMMENT.sub("", text)
    text = _REF.sub("", text)
    previous = None
    while previous != text:  # templates nest: strip the innermost until none is left
        previous, text = text, _TEMPLATE.sub("", text)
    text = _MEDIA_LINK.sub("", text)
    text = _LINK.sub(lambda m: m.group(1), text)
    text = _EXT_LINK.sub(lambda m: m.group(1) or "", text)
    text = _HEADING.sub(lambda m: m.group(2), text)
    text = _MAGIC.sub("", _TAG.sub("", text)).replace("'''", "").replace("''", "")
    lines = []
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith(("{|", "|}", "|-")):
            continue
        line = re.sub(r"^[*#:;!|]+\s*", "", line).replace("||", " ").replace("!!", " ")
        lines.append(line)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
