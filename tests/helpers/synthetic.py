"""SyntheticConnector: a connector that yields N generated documents (and optional identities), no network.

Used by the push tests and benchmarks as ``"tests.helpers.synthetic:SyntheticConnector"``: every document is
``synthetic://doc/<i>`` with ``size`` bytes of text; ``version`` changes every document's content (so a rerun
pushes everything again); ``binary_sizes`` adds binary items (``synthetic://bin/<n>``) of those raw sizes,
filled with incompressible bytes so that they keep their size through zlib; ``identities`` adds that many
users plus one group holding them all, and makes every document readable by the group only.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Iterator
from typing import Any, ClassVar

import scrapy
from pydantic import Field

from connectors.base import Connector, ConnectorOptions
from crawler.model import Document, Identity, IdentityRef, IdentityType, PermissionIdentity, Permissions

WORDS = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliett", "kilo")
_POOL: list[str] = []  # one pseudo-random text, sliced per document (generating 100,000 texts must be cheap)


class SyntheticOptions(ConnectorOptions):
    count: int = Field(100, ge=0)
    size: int = Field(5000, ge=0)  # bytes of text per document
    version: int = 0
    binary_sizes: list[int] = Field(default_factory=list)
    identities: int = Field(0, ge=0)
    user_prefix: str = "user"  # identities are <user_prefix><n>@example.com, members of ``group``
    group: str = "everyone-synthetic"
    acl_users: int = Field(0, ge=0)  # > 0: each document allows that many users directly (no group)


def text_of(i: int, size: int, version: int) -> str:
    if not _POOL:
        rng = random.Random(42)
        _POOL.append(" ".join(rng.choice(WORDS) for _ in range(200_000)))
    pool = _POOL[0]
    start = (i * 7919 + version * 104_729) % (len(pool) - size) if size < len(pool) else 0
    return f"document {i} version {version} " + pool[start : start + size]


def incompressible(size: int, seed: int) -> bytes:
    return b"%PDF-1.4\n" + random.Random(seed).randbytes(max(0, size - 9))


class SyntheticConnector(Connector[SyntheticOptions]):
    name = "synthetic"
    Options = SyntheticOptions
    supports_permissions: ClassVar[bool] = True

    @classmethod
    def ping(cls, options: SyntheticOptions) -> None:
        """Nothing to reach: the documents are generated."""

    async def start_full(self) -> AsyncIterator[Any]:
        # Items come from a callback, as in real connectors (Scrapy only re-checks whether a closing spider is
        # idle after a response, so items yielded straight from start() can stall a close mid-run).
        yield scrapy.Request("data:,synthetic", callback=self.generate, dont_filter=True)

    def generate(self, response: Any) -> Iterator[Any]:
        opts = self.options
        perms = None
        if opts.identities:
            users = [f"{opts.user_prefix}{u}@example.com" for u in range(opts.identities)]
            for user in users:
                yield Identity(
                    name=user, type="USER", mappings=[IdentityRef(name=user, provider="Email Security Provider")]
                )
            yield Identity(name=opts.group, type="GROUP", members=[IdentityRef(name=u) for u in users])
            perms = Permissions.single_set([PermissionIdentity(identity=opts.group, identity_type=IdentityType.GROUP)])
        if opts.acl_users:
            allowed = [f"{opts.user_prefix}{u}@example.com" for u in range(opts.acl_users)]
            perms = Permissions.single_set([PermissionIdentity(identity=u) for u in allowed])
        for i in range(opts.count):
            yield Document(
                document_id=f"synthetic://doc/{i}",
                title=f"Synthetic {i}",
                text=text_of(i, opts.size, opts.version),
                metadata={"n": i},
                permissions=perms,
            )
        for n, size in enumerate(opts.binary_sizes):
            yield Document(
                document_id=f"synthetic://bin/{n}",
                title=f"Binary {n}",
                file_extension=".pdf",
                binary=incompressible(size, n + opts.version),
                permissions=perms,
            )
