"""A document's body is built once, when the changes pipeline fingerprints it, and that body is what the limits
check and the sink sends: an edit to the item after fingerprinting cannot make what was sent differ from what
was fingerprinted (issue 12: the body used to be built twice, once per side)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crawler.model import Document, IdentityType, PermissionIdentity, PermissionLevel, Permissions, PermissionSet
from crawler.wire.body import Built, built_of
from crawler.wire.limits import Rejected, prepare
from crawler.wire.vocabulary import MAX_PERMISSIONS
from pipelines.changes import ChangesPipeline
from tests.helpers.runs import pipeline_crawler


def _changes(tmp_path: Path) -> ChangesPipeline:
    return ChangesPipeline(pipeline_crawler(tmp_path, dry_run=False))


def _users(n: int) -> Permissions:
    allowed = [PermissionIdentity(identity=f"u{i}@x.org", identity_type=IdentityType.USER) for i in range(n)]
    return Permissions(levels=[PermissionLevel(sets=[PermissionSet(allowed=allowed)])])


def _sent(doc: Document) -> Built:
    """What the sink would send for ``doc``, read back from its encoded batch entry."""
    entry = json.loads(prepare(doc).encoded or b"{}")
    content = entry.pop("data", None)
    ext = entry.pop("fileExtension", None)
    return Built(entry, content, ext)


def test_what_is_sent_is_what_was_fingerprinted_even_if_the_item_changes_after(tmp_path: Path) -> None:
    doc = Document(
        document_id="https://x.org/a", text="the page", fields={"title": "A"}, effective_permissions=_users(1)
    )
    item = _changes(tmp_path).process_item(doc)
    fingerprinted = item.fingerprint
    # a user's pipeline after the changes pipeline (400) edits the item
    item.fields["title"] = "edited later"
    item.fields["late"] = "added later"
    item.text = "other text"
    item.effective_permissions = None
    sent = _sent(item)
    assert sent.metadata["title"] == "A" and "late" not in sent.metadata
    assert sent.content == "the page" and sent.metadata["permissions"]
    assert sent.fingerprint() == fingerprinted


def test_the_limits_are_checked_on_the_built_body(tmp_path: Path) -> None:
    # built with too many permissions: refused, whatever the item says afterwards
    crowded = Document(document_id="https://x.org/b", text="b", effective_permissions=_users(MAX_PERMISSIONS + 1))
    _changes(tmp_path / "b").process_item(crowded)
    crowded.effective_permissions = _users(1)
    with pytest.raises(Rejected) as refused:
        prepare(crowded)
    assert refused.value.reason == "too_many_permissions"
    # built valid: a NaN set on the item afterwards is neither sent nor a reason to refuse what is sent
    fine = Document(document_id="https://x.org/c", text="c", fields={"score": 1.5})
    _changes(tmp_path / "c").process_item(fine)
    fine.fields["score"] = float("nan")
    assert _sent(fine).metadata["score"] == 1.5


def test_a_document_that_skipped_the_changes_pipeline_is_built_when_sent() -> None:
    # preview and runs without the changes pipeline: the body is built from the item as it is then
    doc = Document(document_id="https://x.org/d", text="d", fields={"title": "D"})
    assert built_of(doc) is not built_of(doc)  # nothing kept: each call builds
    assert _sent(doc).metadata["title"] == "D"
