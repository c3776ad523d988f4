"""Store.perm_id remembers each permission body's pid (items of a batch share a few bodies): a pid inserted by a
transaction that then fails must be forgotten, because SQLite gives the next new body that same pid, and
an item pointing at it would be filtered by another body's permissions."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.localapi.store import Store

A = '[{"name": null, "permissionSets": [{"allowAnonymous": false, "allowedPermissions": ["a"]}]}]'
B = '[{"name": null, "permissionSets": [{"allowAnonymous": true, "allowedPermissions": []}]}]'


def _body(store: Store, pid: int | None) -> str:
    with store.read() as db:
        return str(db.execute("SELECT body FROM perms WHERE pid = ?", (pid,)).fetchone()[0])


def test_a_pid_from_a_rolled_back_transaction_is_not_reused_for_its_body(tmp_path: Path) -> None:
    store = Store(tmp_path / "localapi.sqlite3")
    try:
        with pytest.raises(RuntimeError), store.write() as db:
            store.perm_id(db, A)
            raise RuntimeError("the item failed after its permissions were stored")
        with store.write() as db:
            pid_b = store.perm_id(db, B)  # SQLite hands B the rolled-back pid
        with store.write() as db:
            pid_a = store.perm_id(db, A)
        assert pid_a != pid_b
        assert (_body(store, pid_a), _body(store, pid_b)) == (A, B)
    finally:
        store.close()


def test_the_same_body_keeps_its_pid_across_transactions(tmp_path: Path) -> None:
    store = Store(tmp_path / "localapi.sqlite3")
    try:
        with store.write() as db:
            first = store.perm_id(db, A)
        with store.write() as db:
            assert store.perm_id(db, A) == first
            assert store.perm_id(db, None) is None
        with store.read() as db:
            assert db.execute("SELECT COUNT(*) FROM perms").fetchone()[0] == 1
    finally:
        store.close()
