"""crawler.offline: Scrapy's cookie middleware splits domains without downloading the Public Suffix List."""

from __future__ import annotations

import socket

import pytest
from scrapy.downloadermiddlewares import cookies

from crawler.offline import no_network_lookups


def test_cookie_domains_split_with_no_network(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    assert hasattr(cookies, "_split_domain")  # the hook still exists in this Scrapy
    # an empty cache folder: nothing cached from an earlier download can hide a lookup
    monkeypatch.setenv("TLDEXTRACT_CACHE", str(tmp_path))
    no_network_lookups()
    assert cookies._split_domain.suffix_list_urls == ()  # the bundled snapshot only

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a network connection was attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    parts = cookies._split_domain("intranet.example.co.uk")
    assert (parts.domain, parts.suffix) == ("example", "co.uk")
    assert cookies._is_public_domain("co.uk")
