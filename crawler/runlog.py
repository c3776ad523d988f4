"""Where a run's log goes: one file per run in the state directory, and what the terminal shows beside it.

Scrapy writes about 85 lines of its own internals at INFO for even a small crawl; a person watching a run wants
a progress line, the warnings and errors, and a summary. So the whole log goes to
``<state_dir>/logs/<site>-<run id>.log`` (its path is printed in the summary) and the terminal gets, by
verbosity:

    quiet    the closing summary only
    normal   the progress line, warnings and errors, the summary           (the default)
    verbose  the whole log live, as Scrapy prints it, then the summary

Scrapy is told not to install its own root handler (``CrawlerProcess(install_root_handler=False)``); this
module installs both handlers on the root logger, with the same format Scrapy uses, and the secrets filter on
each. Old run logs are pruned so a schedule running every few minutes does not fill the disk.
"""

from __future__ import annotations

import contextlib
import logging
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TextIO

from crawler import defaults, secrets

Verbosity = Literal["quiet", "normal", "verbose"]

#: Scrapy's default LOG_FORMAT, so a run log reads like any Scrapy log
FILE_FORMAT = "%(asctime)s [%(name)s] %(levelname)s: %(message)s"
#: the terminal in normal mode: warnings and errors only, without the timestamp noise
TERMINAL_FORMAT = "%(levelname)s: %(message)s"


@dataclass
class RunLog:
    """The handlers one run installed; ``close()`` removes them (a scheduler process runs many sites)."""

    path: Path | None
    verbosity: Verbosity
    handlers: list[logging.Handler] = field(default_factory=list)

    def close(self) -> None:
        root = logging.getLogger()
        for handler in self.handlers:
            root.removeHandler(handler)
            handler.close()
        self.handlers.clear()


def run_log_path(state_dir: Path, site: str, run_id: int) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", site)
    return state_dir / "logs" / f"{safe}-{run_id}.log"


def open_run_log(
    state_dir: Path | None,
    site: str,
    run_id: int,
    verbosity: Verbosity,
    level: str = "INFO",
    terminal: TextIO | None = None,
) -> RunLog:
    """Install the run's handlers on the root logger. ``state_dir`` None (a dry run may have none): no file."""
    root = logging.getLogger()
    numeric = logging.getLevelName(level)
    numeric = numeric if isinstance(numeric, int) else logging.INFO
    # the root logger must let the file's records through; each handler filters for its own audience
    root.setLevel(min(numeric, root.level) if root.level else numeric)
    log = RunLog(None, verbosity)
    if state_dir is not None:
        path = run_log_path(state_dir, site, run_id)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # append, not "w": Scrapy's dictConfig closes every handler when the crawler starts, and a closed
            # FileHandler reopens itself on the next record only in append mode (run ids never repeat)
            file_handler = logging.FileHandler(path, mode="a", encoding="utf-8")
        except OSError as exc:  # a full or read-only disk costs the log file, not the run
            print(f"pushcrawl: warning: cannot write the run log {path}: {exc}", file=terminal or sys.stderr)
        else:
            file_handler.setLevel(numeric)
            file_handler.setFormatter(logging.Formatter(FILE_FORMAT))
            log.path = path
            log.handlers.append(file_handler)
            _prune(path.parent, site, keep=defaults.RUN_LOGS_KEPT)
    if verbosity != "quiet":
        term = logging.StreamHandler(terminal or sys.stderr)
        if verbosity == "verbose":
            term.setLevel(numeric)
            term.setFormatter(logging.Formatter(FILE_FORMAT))
        else:
            term.setLevel(max(numeric, logging.WARNING))
            term.setFormatter(logging.Formatter(TERMINAL_FORMAT))
        log.handlers.append(term)
    for handler in log.handlers:
        root.addHandler(handler)
    secrets.install_log_filter()
    return log


def _prune(folder: Path, site: str, keep: int) -> None:
    """Keep the newest ``keep`` logs of this site (by run id, which only grows)."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", site)

    def run_id(p: Path) -> int:
        head, _, tail = p.stem.rpartition("-")
        return int(tail) if head == safe and tail.isdigit() else -1  # not another site's "demo-x-5.log"

    logs = sorted((p for p in folder.glob(f"{safe}-*.log") if run_id(p) >= 0), key=run_id)
    for old in logs[:-keep] if keep > 0 else []:
        with contextlib.suppress(OSError):  # another process pruning the same folder: nothing lost
            old.unlink()
