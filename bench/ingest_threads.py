"""CPU seconds per thread of the local Push API's ingest: where bench/localapi_ingest.py's CPU goes.

    .venv/bin/python bench/ingest_threads.py [--items 20000]
    PYTHONPATH=/tmp/old .venv/bin/python bench/ingest_threads.py   # an export of another commit, as
                                                                   # bench/search_compare.py makes them

Runs localapi_ingest.py's ingest in this process (no searches) while a sampler reads every thread's CPU from
/proc every 20 ms, so threads that end before the ingest does (HTTP request threads, tantivy's indexing
threads, which end at each commit) are counted too, up to their last sample. Prints CPU by thread name
(Python's name, else the kernel's: ``thrd-tantivy-in`` is tantivy's indexing) and the process total.
On a shared machine this is the figure to compare: it follows the code, the wall clock follows the load.
Linux only.
"""

from __future__ import annotations

import collections
import importlib.util
import os
import sys
import threading
import time
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")
seen: dict[int, tuple[str, float]] = {}


def _sample() -> None:
    while True:
        names = {t.native_id: t.name for t in threading.enumerate()}
        for tid in os.listdir("/proc/self/task"):
            try:
                stat = Path(f"/proc/self/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()
                comm = Path(f"/proc/self/task/{tid}/comm").read_text().strip()
            except OSError:  # the thread ended meanwhile: its last sample stands
                continue
            name = names.get(int(tid)) or seen.get(int(tid), (comm, 0.0))[0]
            seen[int(tid)] = (name, (int(stat[11]) + int(stat[12])) / TICK)
        time.sleep(0.02)


def main() -> None:
    spec = importlib.util.spec_from_file_location("ingest", Path(__file__).with_name("localapi_ingest.py"))
    assert spec is not None and spec.loader is not None
    ingest = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ingest)
    from crawler.localapi import server

    report: list[str] = []
    wait_idle = server.LocalPushAPI.wait_idle

    def timed_wait(self: server.LocalPushAPI, timeout: float = 60.0) -> bool:
        ok = wait_idle(self, timeout)
        time.sleep(0.05)  # one more sample
        total = time.process_time()
        by_name: collections.Counter[str] = collections.Counter()
        for name, cpu in seen.values():
            by_name[name if name.startswith("sampler") else name.split(" (")[0]] += cpu
        report.extend(f"{cpu:7.2f}  {name}" for name, cpu in by_name.most_common() if cpu >= 0.01)
        report.append(f"{total:7.2f}  process total (time.process_time, start-up included)")
        return ok

    server.LocalPushAPI.wait_idle = timed_wait  # type: ignore[method-assign]
    threading.Thread(target=_sample, name="sampler (this script)", daemon=True).start()
    sys.argv = [sys.argv[0], *sys.argv[1:], "--searches", "1"]
    ingest.main()
    print("CPU seconds by thread, until every item was applied and searchable:")
    print("\n".join(report))


if __name__ == "__main__":
    main()
