"""WordPress REST objects → pushcrawl items. Pure functions: no network, testable from saved samples.

Posts need the ``_embed=author,wp:term`` form of the REST response so that author and term names are
resolved without one request per reference. Users need ``context=edit`` (e-mail and roles).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from datetime import datetime
from pathlib import PurePosixPath
from typing import Literal
from urllib.parse import urlsplit

from crawler.jsontypes import JSONObject
from crawler.model import Document, Identity, IdentityRef, IdentityType, PermissionIdentity, Permissions

ProtectedMode = Literal["skip", "title_only", "full"]
_TAGS = re.compile(r"<[^>]+>")
# WordPress renders these before private and protected titles; they are markers, not part of the title.
_TITLE_MARKERS = ("Private: ", "Protected: ")


def role_group(role: str) -> str:
    """The group identity a WordPress role is pushed as."""
    return f"role:{role}"


def rendered(obj: JSONObject, key: str) -> str:
    value = obj.get(key)
    if isinstance(value, dict):
        return str(value.get("rendered") or "")
    return str(value or "")


def plain(text: str) -> str:
    """Titles come HTML-escaped and may hold inline tags; fields want plain text."""
    return html.unescape(_TAGS.sub("", text)).strip()


def gmt(value: str | None) -> datetime | None:
    """WordPress ``*_gmt`` values carry no zone; they are UTC."""
    if not value:
        return None
    return datetime.fromisoformat(value.removesuffix("Z") + "+00:00")


def embedded_author(post: JSONObject) -> JSONObject | None:
    authors = post.get("_embedded", {}).get("author") or []
    first = authors[0] if authors else None
    # An author the reader may not see is embedded as an error object ({"code": ..., "message": ...}).
    return first if isinstance(first, dict) and "id" in first else None


def terms(post: JSONObject) -> dict[str, list[str]]:
    """Embedded term names grouped by taxonomy (``category``, ``post_tag``, custom ones)."""
    out: dict[str, list[str]] = {}
    for group in post.get("_embedded", {}).get("wp:term") or []:
        for term in group or []:
            if isinstance(term, dict) and "taxonomy" in term:
                out.setdefault(term["taxonomy"], []).append(plain(str(term.get("name", ""))))
    return out


def is_protected(post: JSONObject) -> bool:
    content = post.get("content")
    return bool(isinstance(content, dict) and content.get("protected"))


def post_permissions(post: JSONObject, private_roles: Iterable[str]) -> Permissions:
    """Published → everyone; anything else (private, draft, pending, future) → its author and the roles."""
    if post.get("status") == "publish":
        return Permissions.everyone()
    allowed = [PermissionIdentity(identity=role_group(r), identity_type=IdentityType.GROUP) for r in private_roles]
    author = embedded_author(post)
    if author and author.get("slug"):
        allowed.insert(0, PermissionIdentity(identity=str(author["slug"]), identity_type=IdentityType.USER))
    return Permissions.single_set(allowed)


def map_post(post: JSONObject, private_roles: Iterable[str] = (), protected: ProtectedMode = "skip") -> Document | None:
    """One post, page or custom-type object (``_embed`` form) → Document; None when it must not be indexed."""
    if is_protected(post) and protected == "skip":
        return None
    title = plain(rendered(post, "title"))
    if post.get("status") == "private" or is_protected(post):
        title = next((title.removeprefix(m) for m in _TITLE_MARKERS if title.startswith(m)), title)
    found = terms(post)
    metadata: JSONObject = {
        "post_type": str(post.get("type", "")),
        "slug": str(post.get("slug", "")),
        "status": str(post.get("status", "")),
        "wp_id": int(post["id"]),
        "categories": found.pop("category", []),
        "tags": found.pop("post_tag", []),
    }
    metadata.update({f"taxonomy_{name}": values for name, values in found.items()})
    if post.get("sticky"):
        metadata["sticky"] = True
    author = embedded_author(post)
    body: str | None = rendered(post, "content")
    if is_protected(post):
        metadata["password_protected"] = True
        if protected == "title_only":
            body = None
    else:
        excerpt = plain(rendered(post, "excerpt"))
        if excerpt:
            metadata["excerpt"] = excerpt
    link = str(post["link"])
    return Document(
        document_id=link,
        clickable_uri=link,
        title=title,
        author=str(author["name"]) if author and author.get("name") else None,
        date=gmt(post.get("date_gmt")),
        modified=gmt(post.get("modified_gmt")),
        html=body or None,
        text=title if body is None else None,
        metadata={k: v for k, v in metadata.items() if v not in ("", [])},
        permissions=post_permissions(post, private_roles),
    )


def media_extension(media: JSONObject) -> str | None:
    suffix = PurePosixPath(urlsplit(str(media.get("source_url", ""))).path).suffix.lower()
    return suffix or None


def map_media(media: JSONObject, body: bytes, parent_id: str | None, permissions: Permissions) -> Document:
    """A media attachment and its downloaded bytes → a binary Document, child of its parent post."""
    link = str(media.get("link") or media["source_url"])
    metadata: JSONObject = {
        "post_type": "attachment",
        "slug": str(media.get("slug", "")),
        "mime_type": str(media.get("mime_type", "")),
        "wp_id": int(media["id"]),
        "alt_text": str(media.get("alt_text") or ""),
        "caption": plain(rendered(media, "caption")),
        "source_url": str(media.get("source_url", "")),
    }
    return Document(
        document_id=link,
        clickable_uri=str(media.get("source_url") or link),
        title=plain(rendered(media, "title")) or None,
        date=gmt(media.get("date_gmt")),
        modified=gmt(media.get("modified_gmt")),
        binary=body,
        file_extension=media_extension(media),
        parent_id=parent_id,
        metadata={k: v for k, v in metadata.items() if v != ""},
        permissions=permissions,
    )


def map_identities(users: Iterable[JSONObject], roles: Iterable[str]) -> list[Identity]:
    """Users (``context=edit``) → user identities aliased to their e-mail, then one group per role."""
    items: list[Identity] = []
    members: dict[str, list[IdentityRef]] = {r: [] for r in roles}
    for user in users:
        slug = str(user.get("slug") or user.get("username") or "")
        if not slug:
            continue
        email = user.get("email")
        items.append(Identity(name=slug, type=IdentityType.USER, email=str(email) if email else None))
        for role in user.get("roles") or []:
            if role in members:
                members[role].append(IdentityRef(name=slug, type=IdentityType.USER))
    items.extend(Identity(name=role_group(r), type=IdentityType.GROUP, members=m) for r, m in members.items())
    return items
