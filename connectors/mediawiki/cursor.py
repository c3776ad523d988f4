"""The MediaWiki connector's cursor: the newest change seen, plus the log ids met at that very second.

``list=recentchanges&rcstart=T`` and ``list=logevents&lestart=T`` include entries stamped exactly ``T`` (they
must: a change made later in the same second as the previous run's newest one would otherwise be missed).
With a bare timestamp as the cursor, the entries of that last second came back on every following run: an
edit was re-fetched (and skipped as unchanged), but a deletion was reported again, and an already-deleted id
was deleted once more by each run. So the cursor also names the entries already handled at its second
(``rc:`` recentchanges ids, ``log:`` logevents ids), and the next run skips exactly those.

Text form: ``2026-12-02T05:00:00Z`` (older cursors, still read) or ``2026-12-02T05:00:00Z rc:12,13 log:7``.
The timestamp comes first, so comparing two cursors as strings still orders them by time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from crawler.jsontypes import JSONObject


@dataclass
class ChangeCursor:
    timestamp: str
    #: entries stamped ``timestamp`` that a run already handled, as ``rc:ID`` / ``log:ID``
    handled: set[str] = field(default_factory=set)

    @classmethod
    def parse(cls, text: str) -> ChangeCursor:
        stamp, *parts = text.split()
        handled: set[str] = set()
        for part in parts:
            kind, _, ids = part.partition(":")
            handled.update(f"{kind}:{i}" for i in ids.split(",") if i)
        return cls(stamp, handled)

    def dump(self) -> str:
        groups: dict[str, list[str]] = {}
        for key in sorted(self.handled, key=lambda k: (k.partition(":")[0], int(k.partition(":")[2] or 0))):
            kind, _, ident = key.partition(":")
            groups.setdefault(kind, []).append(ident)
        return " ".join([self.timestamp, *(f"{kind}:{','.join(ids)}" for kind, ids in sorted(groups.items()))])

    def already_handled(self, key: str | None, timestamp: str) -> bool:
        return key is not None and timestamp == self.timestamp and key in self.handled

    def advance(self, key: str | None, timestamp: str) -> None:
        """Take in one entry just handled: a newer second starts a new set, the same second adds to it."""
        if timestamp > self.timestamp:
            self.timestamp, self.handled = timestamp, set()
        if timestamp == self.timestamp and key is not None:
            self.handled.add(key)


def entry_key(kind: str, entry: JSONObject) -> str | None:
    """``rc:ID`` for a recentchanges entry, ``log:ID`` for a logevents one; None when the wiki gives no id."""
    ident = entry.get("rcid") if kind == "recentchanges" else entry.get("logid")
    if ident is None:
        return None
    return f"{'rc' if kind == 'recentchanges' else 'log'}:{int(ident)}"
