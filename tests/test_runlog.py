"""crawler.runlog: one log file per run, pruned per site without touching other sites' logs."""

from __future__ import annotations

import logging
from pathlib import Path

from crawler import defaults
from crawler.runlog import open_run_log, run_log_path


def test_run_log_keeps_the_newest_per_site_only(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    for run_id in range(1, defaults.RUN_LOGS_KEPT + 6):
        (logs / f"demo-{run_id}.log").write_text("old", encoding="utf-8")
    (logs / "demo-x-3.log").write_text("another site", encoding="utf-8")
    log = open_run_log(tmp_path, "demo", defaults.RUN_LOGS_KEPT + 10, "quiet")
    try:
        logging.getLogger("pushcrawl.test").warning("written to the file")
    finally:
        log.close()
    kept = sorted(int(p.stem.rsplit("-", 1)[1]) for p in logs.glob("demo-[0-9]*.log"))
    assert len(kept) == defaults.RUN_LOGS_KEPT
    every = [*range(1, defaults.RUN_LOGS_KEPT + 6), defaults.RUN_LOGS_KEPT + 10]
    assert kept == every[-defaults.RUN_LOGS_KEPT :]  # the newest by run id, the current run's included
    assert (logs / "demo-x-3.log").exists()
    assert "written to the file" in run_log_path(tmp_path, "demo", defaults.RUN_LOGS_KEPT + 10).read_text()
    assert not any(h in logging.getLogger().handlers for h in log.handlers)  # closed: nothing left installed
