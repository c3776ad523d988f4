"""A source page's summary (count, facets, collected metadata) comes from index aggregations and is cached
(browse/sources.py); the cache must follow the index, which lags the store: a page shown while the index
is behind must not keep its counts once the index has caught up."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from crawler.localapi import LocalPushAPI
from tests.localapi.conftest import Client

PUBLIC = [{"allowAnonymous": True, "allowedPermissions": [], "deniedPermissions": []}]


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[LocalPushAPI, Client, str]]:
    server = LocalPushAPI(tmp_path / "data", queue_delay_scale=0.01)
    server.start()
    client = Client(server, "dev")
    src = client.create_source("docs", "SECURED")
    yield server, client, src
    server.stop()


def _push(client: Client, src: str, n: int) -> None:
    doc = {"data": "walrus", "filetype": "pdf", "permissions": PUBLIC}
    assert client.put_doc(src, f"https://kb.test/{n}", doc).status_code == 202


def _facet_line(client: Client, src: str) -> str:
    r = requests.get(f"{client.base}/browse/sources/{src}", timeout=30)
    assert r.status_code == 200, r.text[:300]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", r.text))


def test_summary_cached_while_the_index_lagged_is_replaced_once_it_catches_up(
    site: tuple[LocalPushAPI, Client, str],
) -> None:
    server, client, src = site
    _push(client, src, 1)
    client.idle()
    assert "filetype pdf 1" in _facet_line(client, src)
    with server.store.index._lock:  # the indexer cannot commit: the store moves ahead of the index
        _push(client, src, 2)
        deadline = time.monotonic() + 30
        while server.store.pending() > server.store.unindexed() and time.monotonic() < deadline:
            time.sleep(0.02)  # wait until the item is applied (its activity row moves the page's stamp)
        assert server.store.unindexed() >= 1
        assert "filetype pdf 1" in _facet_line(client, src)  # the index's answer, computed and cached now
    client.idle()
    assert "filetype pdf 2" in _facet_line(client, src)
