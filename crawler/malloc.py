"""glibc malloc tuned for the crawl process: memory a batch's handling frees goes back, or gets reused.

A crawl runs several threads that allocate in bursts: the push executor (``push.max_in_flight`` threads), and
with the embedded local target its HTTP server, worker and indexer threads; a batch of 5,000 items means
buffers of ~12 MB each time (the batch file's text, the index's chunk). Two glibc defaults keep those bursts
resident:

- **one arena per contending thread** (up to 8 per core): memory freed in one arena is not reused by a thread
  bound to another, so each thread's largest burst stays and the bursts add up. Capped at 2 arenas.
- **a sliding mmap threshold**: a block over 128 KB is mmap'ed and returned to the system when freed, but
  each such free raises the threshold (up to 32 MB), so the next 12 MB buffer comes from the heap, where it
  stays once freed (fragmented, not trimmed). Fixed at 1 MiB: large buffers always go back.

bench/memory.py measured a 10,000-document crawl into the embedded target (bench/RESULTS.md): 336 MB peak with
glibc's defaults, 299 MB with two arenas; at 6,000 documents a fixed threshold took another 22 MB off.

``tune`` must run before those threads start (arenas are created as threads first contend). It does nothing
where the C library is not glibc, and leaves alone what the environment already sets (``MALLOC_ARENA_MAX``,
``MALLOC_MMAP_THRESHOLD_``: the operator's choice wins).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

#: glibc's mallopt parameter numbers (malloc.h)
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
ARENAS = 2
MMAP_THRESHOLD = 1024 * 1024


def tune() -> list[str]:
    """Set what the environment does not; the names of the parameters set."""
    name = ctypes.util.find_library("c")
    if name is None:
        return []
    try:
        libc = ctypes.CDLL(name)
    except OSError:
        return []
    if not hasattr(libc, "gnu_get_libc_version"):  # not glibc (musl, macOS): mallopt means something else
        return []
    mallopt = libc.mallopt
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    done = []
    for env, param, value in (
        ("MALLOC_ARENA_MAX", M_ARENA_MAX, ARENAS),
        ("MALLOC_MMAP_THRESHOLD_", M_MMAP_THRESHOLD, MMAP_THRESHOLD),
    ):
        if env not in os.environ and mallopt(param, value):
            done.append(env)
    return done
