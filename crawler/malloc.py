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

A third: **free memory inside the heap is kept**. glibc gives back only the top of its heap; a batch's
medium-sized blocks (a document's 2 KB text, tantivy's buffers, under the mmap threshold) freed below a block
still in use stay resident, so the heap crept up by ~1 MB per 5,000 documents of a 200,000-document run.
``trim`` (glibc's ``malloc_trim``: free pages anywhere in the heap are returned) is called by the embedded
local Push API once a batch was applied or indexed — a few milliseconds per batch.

``tune`` must run before those threads start (arenas are created as threads first contend). It does nothing
where the C library is not glibc, and leaves alone what the environment already sets (``MALLOC_ARENA_MAX``,
``MALLOC_MMAP_THRESHOLD_``: the operator's choice wins).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os

#: glibc's mallopt parameter numbers (malloc.h)
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
ARENAS = 2
MMAP_THRESHOLD = 1024 * 1024


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
    except OSError:
        return None
    if not hasattr(libc, "gnu_get_libc_version"):  # not glibc (musl, macOS): mallopt means something else
        return None
    libc.malloc_trim.argtypes, libc.malloc_trim.restype = [ctypes.c_size_t], ctypes.c_int
    return libc


def trim() -> bool:
    """Return the heap's free pages to the system (glibc only); True when some were."""
    libc = _glibc()
    return bool(libc.malloc_trim(0)) if libc is not None else False


def tune() -> list[str]:
    """Set what the environment does not; the names of the parameters set."""
    libc = _glibc()
    if libc is None:
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
