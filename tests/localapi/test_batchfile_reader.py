"""crawler.localapi.batchfile reads a batch file as ``validate.parse_json`` + ``ci`` would, entry by entry."""

from __future__ import annotations

import json
from typing import Any

import pytest

from crawler.localapi import batchfile, validate
from crawler.localapi.apierror import ApiError


def old_way(raw: bytes) -> list[tuple[bool, Any]]:
    """What ItemApplier.batch did before: the whole file parsed, adds then deletes."""
    body = validate.parse_json(raw)
    return [(True, e) for e in validate.ci(body, "addOrUpdate") or []] + [
        (False, e) for e in validate.ci(body, "delete") or []
    ]


def new_way(raw: bytes) -> list[tuple[bool, Any]]:
    text, entries = batchfile.scan(raw)
    return [(e.add, batchfile.entry(text, e)) for e in entries]


@pytest.mark.parametrize(
    "body",
    [
        {"addOrUpdate": [{"documentId": "a", "data": "x"}, {"documentId": "b"}], "delete": [{"documentId": "c"}]},
        {"delete": [{"documentId": "c"}], "ADDORUPDATE": [{"documentId": "a", "n": [1, {"k": None}]}]},
        {"addOrUpdate": [], "other": {"nested": [1, 2]}},
        {},
        {"addOrUpdate": {"documentId": "a"}},  # not an array: iterated as before (its keys)
        {"addOrUpdate": None, "delete": "ab"},
        {"addOrUpdate": [{"documentId": "é — ☃ 😀", "data": '\u0000\n"'}]},
    ],
)
def test_same_entries_as_parsing_the_whole_file(body: dict[str, Any]) -> None:
    for raw in (json.dumps(body).encode(), json.dumps(body, indent=3, ensure_ascii=False).encode("utf-8-sig")):
        assert new_way(raw) == old_way(raw)


@pytest.mark.parametrize(
    "raw",
    [
        b'{"addOrUpdate": [{"documentId": "a"}, {"documentId": "b"]}',  # broken in the middle
        b'{"addOrUpdate": [{"documentId": "a"}]} trailing',
        b'{"addOrUpdate": [{"documentId": "a"},]}',
        b'{"addOrUpdate": [], "AddOrUpdate": []}',  # duplicate key, other case
        b'{"addOrUpdate": [{"documentId": "a", "DOCUMENTID": "b"}]}',  # duplicate inside an entry
        b'{"addOrUpdate": [] "delete": []}',
        b"\xff\xfe not utf-8",
        b"",
    ],
)
def test_bad_files_are_refused_whole_like_before(raw: bytes) -> None:
    with pytest.raises(ApiError) as old:
        old_way(raw)
    with pytest.raises(ApiError) as new:
        new_way(raw)
    assert new.value.status == old.value.status


@pytest.mark.parametrize("raw", [b"[]", b'"text"', b"3", b"null"])
def test_a_file_that_is_not_an_object_is_refused(raw: bytes) -> None:
    with pytest.raises(AttributeError):
        old_way(raw)
    with pytest.raises(batchfile.NotAnObject):
        new_way(raw)
