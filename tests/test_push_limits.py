"""Contract checks and encoding of items (crawler.pushapi.limits), spooled batches, the literal-key refusal."""

from __future__ import annotations

import base64
import json
import random
import zlib
from pathlib import Path

import pytest

from crawler import defaults, identities
from crawler.config import PushConfig, load_settings
from crawler.errors import SettingsError
from crawler.model import Document, Identity, IdentityRef, PermissionIdentity, Permissions
from crawler.pushapi import endpoints
from crawler.pushapi.batch import IDENTITY_SECTIONS, ITEM_SECTIONS, SpooledBatch
from crawler.pushapi.limits import CONTAINER_LIMIT, INLINE_LIMIT, Rejected, prepare, with_file_id

MB = 1024 * 1024


def doc(**kw: object) -> Document:
    kw.setdefault("document_id", "https://cms.example/p/1")
    fields = kw.pop("fields", {"title": "T"})
    d = Document(**kw)  # type: ignore[arg-type]
    d.fields = dict(fields)  # type: ignore[call-overload]  # pipelines assign fields without validation
    return d


def test_real_limits_are_the_contracts() -> None:
    assert CONTAINER_LIMIT == 256 * MB == defaults.CONTAINER_LIMIT_BYTES
    assert INLINE_LIMIT == 5 * MB
    assert PushConfig().container_max_bytes == 256 * MB
    assert PushConfig().batch_max_bytes < 256 * MB // 4  # well under the container limit
    with pytest.raises(ValueError):
        PushConfig(container_max_bytes=256 * MB + 1)


def test_text_goes_inline_and_big_text_is_compressed() -> None:
    small = prepare(doc(text="hello"))
    assert json.loads(small.encoded or b"")["data"] == "hello"
    big_text = "word " * (INLINE_LIMIT // 5 + 10)  # over 5 MB of text, compresses to a few KB
    big = prepare(doc(text=big_text))
    body = json.loads(big.encoded or b"")
    assert "data" not in body and body["compressionType"] == "ZLIB"
    assert zlib.decompress(base64.b64decode(body["compressedBinaryData"])).decode() == big_text


def test_large_binary_goes_to_its_own_container_and_over_the_cap_is_rejected() -> None:
    blob = random.Random(1).randbytes(6 * MB)  # incompressible: base64 over 5 MB
    item = prepare(doc(binary=blob, file_extension=".pdf"))
    assert item.encoded is None and item.content_file is not None
    item.content_file.seek(0)
    assert zlib.decompress(item.content_file.read()) == blob
    entry = json.loads(with_file_id(item, "f-1"))
    assert entry["compressedBinaryDataFileId"] == "f-1" and entry["fileExtension"] == ".pdf"
    assert "compressedBinaryData" not in entry
    with pytest.raises(Rejected) as info:
        prepare(doc(binary=blob, file_extension=".pdf"), container_max=5 * MB)
    assert info.value.reason == "too_large" and "file container limit" in str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"document_id": "not a uri"}, "invalid_document_id"),
        ({"fields": {"Title": "a", "title": "b"}}, "invalid_metadata"),
        ({"fields": {"score": float("nan")}}, "invalid_metadata"),
        ({"fields": {"nested": {"a": 1}}}, "invalid_metadata"),
        ({"binary": b"x", "file_extension": "pdf"}, "invalid_file_extension"),
    ],
)
def test_items_the_service_would_refuse_are_rejected_with_a_reason(kwargs: dict, reason: str) -> None:
    with pytest.raises(Rejected) as info:
        prepare(doc(**kwargs))
    assert info.value.reason == reason


def test_permission_count_limit() -> None:
    many = [PermissionIdentity(identity=f"u{i}") for i in range(5001)]
    d = doc(text="x")
    d.effective_permissions = Permissions.single_set(many)
    with pytest.raises(Rejected, match="5001 permissions"):
        prepare(d)


def test_spooled_batch_size_is_exact_and_json_valid() -> None:
    batch = SpooledBatch(ITEM_SECTIONS)
    for i in range(50):
        entry = json.dumps({"documentId": f"x://{i}", "data": "é" * i}, ensure_ascii=False).encode()
        batch.add(entry, (f"x://{i}", "fp"))
    payload = batch.seal().read()
    assert len(payload) == batch.size
    assert len(json.loads(payload)["addOrUpdate"]) == 50 == len(batch.keys)
    batch.close()


def test_identity_entries_form_a_batch_identity_body() -> None:
    batch = SpooledBatch(IDENTITY_SECTIONS)
    items = [
        Identity(name="g", type="GROUP", members=[IdentityRef(name="u1")], granted=[IdentityRef(name="all")]),
        Identity(name="u1", mappings=[IdentityRef(name="u1@x.com", provider="Email Security Provider")]),
        Identity(name="old", disabled=True),
    ]
    for item in items:
        for section, entry in identities.entries(item):
            batch.add(entry, section=section)
    body = json.loads(batch.seal().read())
    assert [m["identity"]["name"] for m in body["members"]] == ["g", "u1"]
    assert body["members"][0]["members"][0]["name"] == "u1"
    assert body["members"][0]["wellKnowns"][0]["name"] == "all"
    assert body["mappings"][0]["mappings"][0]["provider"] == "Email Security Provider"
    assert body["deleted"] == [{"identity": {"name": "old", "type": "USER", "additionalInfo": {}}}]


def test_regions_map_to_push_and_platform_hosts() -> None:
    assert endpoints.push_base("eu") == "https://api-eu.cloud.coveo.com/push/v1"
    assert endpoints.platform_base("hipaa") == "https://platformhipaa.cloud.coveo.com/rest"
    assert endpoints.push_base("us", "http://127.0.0.1:8090") == "http://127.0.0.1:8090/push/v1"


def _coveo_settings(tmp_path: Path, key: str) -> Path:
    path = tmp_path / "settings.yaml"
    path.write_text(f"target: p\ntargets:\n  p: {{kind: coveo, organization_id: o, source: s, api_key: '{key}'}}\n")
    return path


def test_literal_api_key_refused_env_reference_accepted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(SettingsError, match=r"targets\.p\.api_key.*\$\{COVEO_API_KEY\}") as info:
        load_settings(str(_coveo_settings(tmp_path, "abcd-1234-literal")))
    assert "abcd-1234-literal" not in str(info.value)
    monkeypatch.setenv("MY_KEY", "from-the-environment")
    settings = load_settings(str(_coveo_settings(tmp_path, "${MY_KEY}")))
    assert settings.targets["p"].api_key.get_secret_value() == "from-the-environment"  # type: ignore[union-attr]
