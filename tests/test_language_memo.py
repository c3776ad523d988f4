"""The language memo (pipelines/langmemo.py): an unchanged text is not detected again, a changed one always is.

The memo answers only when the digest of what detection reads (the text's window, the candidate languages,
the model) is the one it stored for that document, so its answer is detection's own. The unit tests check
each part of that digest against real detection; the end-to-end test crawls a small site three times with
the ``web`` connector (which fetches every page on every run) into the embedded target: a first run detects
every page, a no-change rerun detects none and pushes nothing, and a page rewritten in French, with the
same title, is pushed with ``fr``.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from crawler.state import StateStore
from pipelines import language
from pipelines.langmemo import LanguageMemo
from tests.conftest import read_report, run_cli
from tests.fixtures.base import FixtureServer, Reply, Request

ENGLISH = "The campsite opens in spring; bring a warm sleeping bag, since the nights by the lake stay cold."
ENGLISH_2 = "Boil the water for one minute before drinking it, or use a filter that removes bacteria and dirt."
HTML = "text/html; charset=utf-8"
FRENCH = "Le camping ouvre au printemps ; apportez un sac de couchage chaud, car les nuits au bord du lac sont froides."


def _rows(path: Path) -> dict[str, str]:
    with sqlite3.connect(path) as db:
        return dict(db.execute("SELECT document_id, language FROM language_memo"))


def test_the_same_text_is_answered_from_the_memo_and_a_new_one_is_detected(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    first = LanguageMemo(state, "local/site")
    assert first.detect("doc", ENGLISH, ()) == language.detect(ENGLISH) == "en"
    first.close()
    again = LanguageMemo(state, "local/site")  # the next run: a new process, the same state file
    assert again.detect("doc", ENGLISH, ()) == "en"
    assert (again.reused, again.detected) == (1, 0)
    # the same document with another text is detected, whatever the memo held for it
    assert again.detect("doc", FRENCH, ()) == language.detect(FRENCH) == "fr"
    assert again.detect("doc", ENGLISH_2, ()) == "en"
    assert (again.reused, again.detected) == (1, 2)
    again.close()
    assert _rows(state) == {"doc": "en"}


def test_other_candidates_are_detected_again_and_scopes_do_not_share_answers(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    memo = LanguageMemo(state, "local/a")
    memo.detect("doc", FRENCH, ())
    memo.flush()
    # the site now restricts detection: the earlier answer was chosen among other languages
    assert memo.detect("doc", FRENCH, ("en", "de")) == language.detect(FRENCH, ("en", "de"))
    assert memo.detected == 2
    other = LanguageMemo(state, "local/b")
    other.detect("doc", FRENCH, ())
    assert (other.reused, other.detected) == (0, 1)
    memo.close()
    other.close()


def test_a_dry_run_reads_the_memo_but_writes_nothing_and_short_texts_are_not_looked_up(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    dry = LanguageMemo(state, "local/site", write=False)
    assert dry.detect("doc", ENGLISH, ()) == "en"
    assert dry.detect("short", "Too short to tell.", ()) is None
    dry.close()
    assert _rows(state) == {}


def test_a_full_run_forgets_the_documents_the_state_no_longer_holds(tmp_path: Path) -> None:
    state_path = tmp_path / "state.sqlite"
    state = StateStore(state_path)
    state.commit_items("local/site", 1, 1, [("kept", "fingerprint")])
    memo = LanguageMemo(state_path, "local/site")
    for doc in ("kept", "deleted"):
        memo.detect(doc, ENGLISH, ())
    memo.flush()
    other = LanguageMemo(state_path, "local/other")  # another site's rows are its own business
    other.detect("elsewhere", ENGLISH, ())
    other.close()
    memo.prune()
    memo.close()
    state.close()
    assert _rows(state_path) == {"kept": "en", "elsewhere": "en"}


class Camp(FixtureServer):
    """``/`` links two guides; ``texts`` holds their paragraphs, edited between runs."""

    def __init__(self) -> None:
        super().__init__()
        self.texts = {"/tents.html": ENGLISH, "/water.html": ENGLISH_2}

    def handle(self, request: Request) -> Reply:
        if request.path == "/":
            links = "".join(f'<a href="{path}">{path}</a> ' for path in self.texts)
            return Reply(200, f"<html><head><title>Camp</title></head><body><main>{links}</main></body></html>", HTML)
        if request.path not in self.texts:
            return Reply(404, "<html><body>Not found</body></html>", HTML)
        page = f"<html><head><title>{request.path}</title></head><body><main><p>{self.texts[request.path]}</p></main>"
        return Reply(200, page + "</body></html>", HTML)


def _crawl(tmp_path: Path, name: str, *extra: str) -> tuple[dict[str, int], str]:
    settings, report = str(tmp_path / "settings.yaml"), str(tmp_path / name)
    result = run_cli("crawl", "camp", "--settings", settings, "--report", report, *extra, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    report = read_report(tmp_path / name)
    log = (tmp_path / str(report["log_file"])).read_text(encoding="utf-8")
    return dict(report["counts"]), log


def _stat(log: str, name: str) -> int:
    found = re.search(rf"'pushcrawl/language/{name}': (\d+)", log)
    return int(found.group(1)) if found else 0


def _indexed_languages(tmp_path: Path) -> dict[str, str | None]:
    with sqlite3.connect(tmp_path / "index" / "localapi.sqlite3") as db:
        rows = db.execute("SELECT document_id, json_extract(fields, '$.language') FROM items").fetchall()
    return {doc.rsplit("/", 1)[-1]: lang for doc, lang in rows if not doc.endswith("/")}


@pytest.mark.integration
def test_a_rerun_detects_no_unchanged_page_and_a_page_rewritten_in_french_is_pushed_as_french(tmp_path: Path) -> None:
    with Camp() as site:
        (tmp_path / "settings.yaml").write_text(
            "target: local\ntargets:\n  local: {kind: local, data_dir: index}\nstate_dir: state\n"
            f"sites:\n  camp:\n    connector: web\n    options: {{start_urls: ['{site.base_url}/'], max_depth: 1}}\n",
            encoding="utf-8",
        )
        counts, log = _crawl(tmp_path, "first.json")
        assert counts["pushed"] == 3  # the home page (too short to detect) and the two guides
        assert (_stat(log, "detected"), _stat(log, "reused")) == (2, 0)
        assert _indexed_languages(tmp_path) == {"tents.html": "en", "water.html": "en"}

        counts, log = _crawl(tmp_path, "rerun.json")  # every page fetched again, none changed
        assert (counts["pushed"], counts["unchanged"]) == (0, 3)
        assert (_stat(log, "detected"), _stat(log, "reused")) == (0, 2)

        site.texts["/tents.html"] = FRENCH  # the same page, title and links: only its text changed
        counts, log = _crawl(tmp_path, "changed.json")
        assert (counts["pushed"], counts["unchanged"]) == (1, 2)
        assert (_stat(log, "detected"), _stat(log, "reused")) == (1, 1)

        counts, log = _crawl(tmp_path, "off.json", "-s", "PUSHCRAWL_LANGUAGE_MEMO=false")  # the bench's "before"
        assert (counts["pushed"], counts["unchanged"]) == (0, 3)
        assert "pushcrawl/language/" not in log  # no memo: every text detected, as before it
    assert _indexed_languages(tmp_path) == {"tents.html": "fr", "water.html": "en"}
    assert _rows(tmp_path / "state" / "state.sqlite") == {
        f"{site.base_url}/tents.html": "fr",
        f"{site.base_url}/water.html": "en",
    }
