"""SpooledBatch: a batch JSON written to a temporary file as it grows, never assembled in memory.

A batch file is one JSON object of arrays: ``{"addOrUpdate": [...], "delete": [...]}`` for items,
``{"members": [...], "mappings": [...], "deleted": [...]}`` for identities (docs/push-api-contract.md). Entries of
the first array are appended straight to the output file; entries of the other arrays (rare: aliases,
disabled identities) go to side files copied in when the batch is sealed. ``size`` is exact at all times, so
the caller can flush before an entry would pass the byte cap. Temporary files vanish when closed, and with the
process if it dies.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from typing import IO

ITEM_SECTIONS = ("addOrUpdate", "delete")
IDENTITY_SECTIONS = ("members", "mappings", "deleted")


def _spool() -> IO[bytes]:
    return tempfile.TemporaryFile(prefix="pushcrawl-batch-")


class SpooledBatch:
    def __init__(self, sections: tuple[str, ...] = ITEM_SECTIONS) -> None:
        self.sections = sections
        self._out: IO[bytes] | None = None
        self._side: dict[str, IO[bytes]] = {}
        self._counts = dict.fromkeys(sections, 0)
        self.keys: list[tuple[str, str]] = []  # (id, fingerprint) of what the batch carries
        self.size = len(json.dumps({key: [] for key in sections}, separators=(",", ":")))

    def __len__(self) -> int:
        return sum(self._counts.values())

    def cost(self, entry: bytes, section: str | None = None) -> int:
        """Bytes the batch grows by when ``entry`` is added to ``section``."""
        return len(entry) + (1 if self._counts[section or self.sections[0]] else 0)

    def add(self, entry: bytes, key: tuple[str, str] | None = None, section: str | None = None) -> None:
        section = section or self.sections[0]
        if section == self.sections[0]:
            if self._out is None:
                self._out = _spool()
                self._out.write(f'{{"{section}":['.encode())
            target = self._out
        else:
            target = self._side.get(section) or self._side.setdefault(section, _spool())
        self.size += self.cost(entry, section)
        if self._counts[section]:
            target.write(b",")
        target.write(entry)
        self._counts[section] += 1
        if key is not None:
            self.keys.append(key)

    def seal(self) -> IO[bytes]:
        """Close the JSON and return the file, rewound; the batch must not be added to afterwards."""
        out = self._out
        if out is None:
            out = self._out = _spool()
            out.write(f'{{"{self.sections[0]}":['.encode())
        for section in self.sections[1:]:
            out.write(f'],"{section}":['.encode())
            side = self._side.pop(section, None)
            if side is not None:
                side.seek(0)
                shutil.copyfileobj(side, out)
                side.close()
        out.write(b"]}")
        out.flush()
        out.seek(0)
        return out

    def close(self) -> None:
        for f in [self._out, *self._side.values()]:
            if f is not None:
                f.close()
        self._out = None
        self._side.clear()
