"""Fixtures for the local Push API tests: a real server on 127.0.0.1:0 and a small HTTP helper."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from crawler.localapi import LocalPushAPI

KEY = "test-key"
ORG = "pushcrawl-local"


class Client:
    """Plain HTTP against the server, with the Bearer key and JSON content type a Push client sends."""

    def __init__(self, server: LocalPushAPI, key: str = KEY) -> None:
        self.server = server
        self.base = server.base_url
        self.key = key
        self.session = requests.Session()

    @property
    def push(self) -> str:
        return f"{self.base}/push/v1/organizations/{ORG}"

    @property
    def platform(self) -> str:
        return f"{self.base}/rest/organizations/{ORG}"

    def call(
        self,
        method: str,
        url: str,
        body: Any = None,
        *,
        key: str | None = None,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
        **params: Any,
    ) -> requests.Response:
        hdrs = {"Authorization": f"Bearer {key or self.key}", "Content-Type": "application/json"}
        hdrs.update(headers or {})
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        url = url if url.startswith("http") else self.base + url
        return self.session.request(method, url, data=data, headers=hdrs, params=params or None, timeout=30)

    def create_source(self, name: str = "docs", visibility: str = "SECURED") -> str:
        r = self.call(
            "POST",
            f"{self.platform}/sources",
            {"sourceType": "PUSH", "pushEnabled": True, "name": name, "sourceVisibility": visibility},
        )
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    def put_doc(self, source: str, doc_id: str, body: dict[str, Any], **params: Any) -> requests.Response:
        return self.call("PUT", f"{self.push}/sources/{source}/documents", body, documentId=doc_id, **params)

    def upload(self, content: bytes) -> str:
        r = self.call("POST", f"{self.push}/files")
        assert r.status_code == 201, r.text
        container = r.json()
        up = requests.put(container["uploadUri"], data=content, headers=container["requiredHeaders"], timeout=30)
        assert up.status_code == 200, up.text
        return str(container["fileId"])

    def batch(self, source: str, batch: dict[str, Any], **params: Any) -> requests.Response:
        file_id = self.upload(json.dumps(batch).encode())
        return self.call("PUT", f"{self.push}/sources/{source}/documents/batch", fileId=file_id, **params)

    def search(self, q: str = "", key: str | None = None, **extra: Any) -> dict[str, Any]:
        r = self.call("POST", "/rest/search/v2", {"q": q, **extra}, key=key)
        assert r.status_code == 200, r.text
        return dict(r.json())

    def token(self, name: str, provider: str = "Email Security Provider") -> str:
        r = self.call(
            "POST",
            "/rest/search/v2/token",
            {"userIds": [{"name": name, "provider": provider, "type": "User"}]},
        )
        assert r.status_code == 200, r.text
        return str(r.json()["token"])

    def idle(self) -> None:
        assert self.server.wait_idle(20)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LocalPushAPI]:
    srv = LocalPushAPI(
        tmp_path / "data", api_keys=[KEY, "ro:view", "pusher:push", "ids:identities"], queue_delay_scale=0.01
    )
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def client(server: LocalPushAPI) -> Client:
    return Client(server)


@pytest.fixture
def source(client: Client) -> str:
    return client.create_source("docs", "SECURED")
