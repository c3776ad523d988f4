"""Items that connectors yield and pipelines consume: Document, Deletion, Identity, and the permission model.

Connectors fill the *source* side of a Document (content, title, metadata, connector ACLs). The pipelines fill
the *mapped* side (``fields``, ``collected_only``, ``permissions`` after the site's security mode, and the
``fingerprint``); the push pipeline turns the mapped side into a Push API DocumentBody. Keeping both sides on
one object lets ``preview`` and ``--dry-run`` show what came in next to what would go out.

Permission classes mirror the Push API's permission model (docs/push-api-contract.md, "Permissions":
levels of sets); the simplified model is a single level. One identity type, ``IdentityType``
(``User``/``Group``/``VirtualGroup``/``Unknown``), serves permissions and identity items alike; how the Push
API spells it in each place is crawler.wire.vocabulary's business.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from lxml.html import HtmlElement
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr

Scalar = str | int | float | bool
MetadataValue = Scalar | list[Scalar]


class IdentityType(StrEnum):
    USER = "User"
    GROUP = "Group"
    VIRTUAL_GROUP = "VirtualGroup"
    UNKNOWN = "Unknown"


class _Item(BaseModel):
    # Pipelines mutate items in place; validation happens where connectors construct them.
    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)


class PermissionIdentity(_Item):
    """One identity referenced by an item's permissions (it must be defined in an identity provider)."""

    identity: str
    identity_type: IdentityType = IdentityType.USER
    security_provider: str | None = None

    def key(self) -> tuple[str, str, str | None]:
        return (self.identity, self.identity_type.value, self.security_provider)


class PermissionSet(_Item):
    """Allowed and denied identities; deny beats allow; ``allow_anonymous`` makes the set public."""

    name: str | None = None
    allow_anonymous: bool = False
    allowed: list[PermissionIdentity] = Field(default_factory=list)
    denied: list[PermissionIdentity] = Field(default_factory=list)


class PermissionLevel(_Item):
    """Sets that must all pass; levels are evaluated in order, the first that decides wins."""

    name: str | None = None
    sets: list[PermissionSet] = Field(default_factory=list)


class Permissions(_Item):
    """An item's access rules, complete model (one level for the simplified model)."""

    levels: list[PermissionLevel] = Field(default_factory=list)

    @classmethod
    def everyone(cls) -> Permissions:
        return cls(levels=[PermissionLevel(sets=[PermissionSet(allow_anonymous=True)])])

    @classmethod
    def single_set(
        cls,
        allowed: list[PermissionIdentity],
        denied: list[PermissionIdentity] | None = None,
        allow_anonymous: bool = False,
    ) -> Permissions:
        pset = PermissionSet(allow_anonymous=allow_anonymous, allowed=allowed, denied=denied or [])
        return cls(levels=[PermissionLevel(sets=[pset])])

    def identity_count(self) -> int:
        return sum(len(s.allowed) + len(s.denied) for lvl in self.levels for s in lvl.sets)

    def is_empty(self) -> bool:
        """True when nothing is granted to anyone (such an item would be visible to nobody)."""
        return not any(s.allow_anonymous or s.allowed for lvl in self.levels for s in lvl.sets)


class Document(_Item):
    """One item to index. ``document_id`` is a URI unique in the source."""

    kind: Literal["document"] = "document"
    document_id: str
    clickable_uri: str | None = None
    title: str | None = None
    author: str | None = None
    date: datetime | None = None
    modified: datetime | None = None
    language: str | None = None
    # Content: one of text, html or binary. html is reduced to text by the extract pipeline unless the
    # site asks to send the HTML itself (the index converts it then).
    text: str | None = None
    html: str | None = None
    binary: bytes | None = None
    file_extension: str | None = None  # with leading dot: ".pdf"
    parent_id: str | None = None
    metadata: dict[str, MetadataValue] = Field(default_factory=dict)
    # ACLs supplied by the connector (content_system mode); None = the connector supplied none.
    permissions: Permissions | None = None

    # ---- filled by the pipelines ----
    fields: dict[str, MetadataValue] = Field(default_factory=dict)
    collected_only: list[str] = Field(default_factory=list)  # metadata with no declared field
    effective_permissions: Permissions | None = None
    fingerprint: str | None = None
    notes: list[str] = Field(default_factory=list)  # renames and other mapping remarks for preview/dry-run
    # the lxml tree a connector already parsed from ``html`` (pipelines.htmlparse): one parse per page
    _tree: tuple[HtmlElement, str | None] | None = PrivateAttr(default=None)  # (tree, the html it parsed)
    # the body built once when the changes pipeline fingerprinted the item (crawler.wire.body.freeze; typed
    # there, as object here: naming crawler.wire.body's Built would make the two modules import each other)
    _built: object = PrivateAttr(default=None)

    def content_size(self) -> int:
        if self.binary is not None:
            return len(self.binary)
        return len((self.text or self.html or "").encode("utf-8"))


class Deletion(_Item):
    """A document the content system positively reports gone."""

    kind: Literal["deletion"] = "deletion"
    document_id: str
    delete_children: bool = False
    reason: str = ""


def _any_spelling(value: object) -> object:
    """Accept the identity-batch spelling too (``VIRTUAL_GROUP``), which connectors used before."""
    if isinstance(value, str) and value.isupper():
        return {"USER": "User", "GROUP": "Group", "VIRTUAL_GROUP": "VirtualGroup", "UNKNOWN": "Unknown"}.get(
            value, value
        )
    return value


AnyIdentityType = Annotated[IdentityType, BeforeValidator(_any_spelling)]


class IdentityRef(_Item):
    """A reference to an identity inside an Identity item (member, alias or granted identity)."""

    name: str
    type: AnyIdentityType = IdentityType.USER
    provider: str | None = None  # for aliases: the cascading provider holding that identity
    additional_info: dict[str, str] = Field(default_factory=dict)


class Identity(_Item):
    """A user, group or virtual group of the content system, pushed to the source's identity provider."""

    kind: Literal["identity"] = "identity"
    name: str
    type: AnyIdentityType = IdentityType.USER
    #: the user's e-mail address: sent as an alias in the e-mail provider (crawler.wire.vocabulary)
    email: str | None = None
    members: list[IdentityRef] = Field(default_factory=list)
    mappings: list[IdentityRef] = Field(default_factory=list)  # other aliases, in a named provider
    granted: list[IdentityRef] = Field(default_factory=list)  # "wellKnowns" on the wire
    additional_info: dict[str, str] = Field(default_factory=dict)
    disabled: bool = False


Item = Document | Deletion | Identity


def is_item(obj: object) -> bool:
    return isinstance(obj, Document | Deletion | Identity)
