"""Fewer glibc malloc arenas for the crawl process: memory freed by one thread is then reused by the others.

A crawl runs several threads that allocate in bursts: the push executor (``push.max_in_flight`` threads), and
with the embedded local target its HTTP server, worker and indexer threads. glibc gives each contending thread
its own arena (up to 8 per core); memory a batch's handling frees in one arena is not reused by a thread bound
to another, so each thread's largest burst stays resident and the bursts add up. bench/memory.py measured a
10,000-document crawl into the embedded target at 336 MB peak with glibc's default and 299 MB with two arenas,
about as fast (the threads spend most of their time in C code that does not allocate, or under the GIL).

``limit_arenas`` must run before those threads start (arenas are created as threads first contend). It does
nothing where the C library is not glibc, or when ``MALLOC_ARENA_MAX`` is already set in the environment (the
operator's choice wins).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

#: glibc's mallopt parameter number for the arena limit (malloc.h: #define M_ARENA_MAX -8)
M_ARENA_MAX = -8
ARENAS = 2


def limit_arenas(arenas: int = ARENAS) -> bool:
    """Cap glibc's malloc arenas at ``arenas``; True when the cap was set."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return False
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
    except OSError:
        return False
    if not hasattr(libc, "gnu_get_libc_version"):  # not glibc (musl, macOS): mallopt means something else
        return False
    mallopt = libc.mallopt
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_ARENA_MAX, arenas))
