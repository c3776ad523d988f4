"""Drupal JSON:API resources → pushcrawl items. Pure functions over parsed JSON:API documents."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from crawler.jsontypes import JSONObject
from crawler.model import Document, Identity, IdentityRef, IdentityType, PermissionIdentity, Permissions

Resource = JSONObject


def role_group(role: str) -> str:
    """The group identity a Drupal role is pushed as."""
    return f"role:{role}"


def index_included(included: Iterable[Resource]) -> dict[tuple[str, str], Resource]:
    return {(r["type"], r["id"]): r for r in included if isinstance(r, dict) and "type" in r and "id" in r}


def canonical_url(base_url: str, node: Resource) -> str:
    """The node's public URL: its path alias, else ``/node/{nid}`` (JSON:API has no canonical link)."""
    attrs = node.get("attributes", {})
    alias = (attrs.get("path") or {}).get("alias")
    path = alias if alias else f"/node/{attrs['drupal_internal__nid']}"
    return base_url.rstrip("/") + path


def related(node: Resource, field: str, included: dict[tuple[str, str], Resource]) -> list[Resource]:
    data = (node.get("relationships", {}).get(field) or {}).get("data")
    refs = data if isinstance(data, list) else [data] if isinstance(data, dict) else []
    return [included[(r["type"], r["id"])] for r in refs if (r.get("type"), r.get("id")) in included]


def when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def node_permissions(node: Resource, unpublished_roles: Iterable[str]) -> Permissions:
    """Published → everyone; unpublished → the configured roles only (as groups)."""
    if node.get("attributes", {}).get("status"):
        return Permissions.everyone()
    groups = [PermissionIdentity(identity=role_group(r), identity_type=IdentityType.GROUP) for r in unpublished_roles]
    return Permissions.single_set(groups)


def map_node(
    node: Resource,
    included: dict[tuple[str, str], Resource],
    base_url: str,
    taxonomy_fields: Iterable[str] = (),
    unpublished_roles: Iterable[str] = (),
) -> Document:
    """One ``node--<type>`` resource → Document; authors and terms come from the ``included`` index."""
    attrs = node["attributes"]
    url = canonical_url(base_url, node)
    metadata: JSONObject = {
        "content_type": str(node["type"]).removeprefix("node--"),
        "nid": int(attrs["drupal_internal__nid"]),
        "uuid": str(node["id"]),
        "status": "published" if attrs.get("status") else "unpublished",
    }
    if attrs.get("promote"):
        metadata["promoted"] = True
    if attrs.get("sticky"):
        metadata["sticky"] = True
    for field in taxonomy_fields:
        for term in related(node, field, included):
            vocab = str(term["type"]).removeprefix("taxonomy_term--")
            key = "tags" if vocab == "tags" else f"taxonomy_{vocab}"
            metadata.setdefault(key, []).append(str(term["attributes"]["name"]))
    body = attrs.get("body") or {}
    if body.get("summary"):
        metadata["summary"] = str(body["summary"])
    authors = related(node, "uid", included)
    author = authors[0]["attributes"].get("display_name") or authors[0]["attributes"].get("name") if authors else None
    return Document(
        document_id=url,
        clickable_uri=url,
        title=str(attrs.get("title") or ""),
        author=str(author) if author else None,
        date=when(attrs.get("created")),
        modified=when(attrs.get("changed")),
        language=attrs.get("langcode") or None,
        html=body.get("processed") or body.get("value") or None,
        text=None if body.get("processed") or body.get("value") else str(attrs.get("title") or ""),
        metadata=metadata,
        permissions=node_permissions(node, unpublished_roles),
    )


def map_identities(users: Iterable[Resource], roles: Iterable[str]) -> list[Identity]:
    """``user--user`` resources → users aliased to their e-mail, then one group per role with its members."""
    items: list[Identity] = []
    members: dict[str, list[IdentityRef]] = {r: [] for r in roles}
    for user in users:
        attrs = user.get("attributes", {})
        name = attrs.get("name")
        if not name:
            continue  # the anonymous user, or a user whose name we may not see
        mail = attrs.get("mail")
        email = str(mail) if mail else None
        items.append(
            Identity(name=str(name), type=IdentityType.USER, email=email, disabled=attrs.get("status") is False)
        )
        for ref in (user.get("relationships", {}).get("roles") or {}).get("data") or []:
            role = (ref.get("meta") or {}).get("drupal_internal__target_id")
            if role in members:
                members[role].append(IdentityRef(name=str(name), type=IdentityType.USER))
    items.extend(Identity(name=role_group(r), type=IdentityType.GROUP, members=m) for r, m in members.items())
    return items
