"""The browser's CPU priority: below the crawl's, so a render uses what the crawl leaves.

Why: in ``render: {mode: auto}`` nine pages in ten are plain, and the crawl process parsing and extracting them
is the run's critical path; the renders can wait. Playwright starts Chromium in a session of its own
(``detached``, so it can kill the whole process group), and on Linux a new session is a new *autogroup*: the
scheduler shares the CPU fairly between autogroups first, then between the threads of each. So Chromium's four
renderers, browser and GPU processes got half the machine as one group, and the crawl process shared the other
half with Playwright's driver and the local Push API. Measured on 2 cores (docs site, bench/render.py): the
crawl's main thread waited 5.6 s on the run queue in a 23 s crawl. ``nice`` on Chromium's processes alone
changes nothing across autogroups (tried: medians 24.7 and 25.3 s against 25.3 s); the autogroup's own nice
(``/proc/PID/autogroup``) is what counts, and any process may lower its own group's priority. With it (nice 10),
six alternated rounds of the same bench: the crawl's run-queue wait 6.1 → 1.1 s in one traced pair, and `auto`
crawls took a median of 20.2 s against 22.3 s.

``lower_browser`` sets both: the autogroup's nice of the browser's session (where the kernel has autogroups),
and each Chromium process's own nice (where it has not: then process priorities compete directly; renderers
started later inherit it from the zygote that forks them). It only ever lowers a priority, which needs no
privilege, and a failure leaves the browser as it was (counted nowhere: the crawl is the same, only slower).
"""

from __future__ import annotations

import contextlib
import os

import psutil

from connectors.render.browser import _browser_processes


def _chromium(procs: list[psutil.Process]) -> list[psutil.Process]:
    out = []
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            if "chrom" in proc.name():
                out.append(proc)
    return out


def _autogroup(pid: int) -> tuple[str, int] | None:
    """(name, nice) of ``pid``'s autogroup ("/autogroup-123 nice 0"); None without autogroups."""
    try:
        with open(f"/proc/{pid}/autogroup", encoding="ascii") as fh:
            name, _, nice = fh.read().split()
        return name, int(nice)
    except (OSError, ValueError):
        return None


def lower_browser(nice: int) -> bool:
    """Lower the CPU priority of the browser's processes by ``nice``; False when no Chromium process was found."""
    chromium = _chromium(_browser_processes())
    if not chromium:
        return False
    ours = _autogroup(os.getpid())
    done: set[str] = set()
    for proc in chromium:
        with contextlib.suppress(OSError, psutil.Error):
            if proc.nice() < nice:
                proc.nice(nice)
        group = _autogroup(proc.pid)
        # not the crawl's own group (a browser that shares it would lower the crawl too), and only ever lower
        if group is None or group[0] in done or (ours is not None and group[0] == ours[0]) or group[1] >= nice:
            continue
        done.add(group[0])
        with contextlib.suppress(OSError), open(f"/proc/{proc.pid}/autogroup", "w", encoding="ascii") as fh:
            fh.write(str(nice))
    return True


def autogroup_nice(pid: int) -> int | None:
    """The nice of ``pid``'s autogroup; None without autogroups."""
    group = _autogroup(pid)
    return None if group is None else group[1]
