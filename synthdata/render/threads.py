"""Threads a rendering thread keeps beside it (a chunk's last steps, a moving camera's poses).

`side_thread(name)` is the calling thread's single worker thread of that name: kept from chunk to
chunk and clip to clip, so the scratch it keeps (render/planes.py, per thread) is reused, and new
in a forked child (a thread does not survive a fork). Work submitted to it runs one task at a
time, in order.
"""
from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

_local = threading.local()


def side_thread(name: str) -> ThreadPoolExecutor:
    """The calling thread's worker thread `name` (threads named synthdata-<name>)."""
    pools = _local.__dict__.setdefault("pools", {})
    pid, pool = pools.get(name, (None, None))
    if pid != os.getpid():
        pool = ThreadPoolExecutor(1, thread_name_prefix=f"synthdata-{name}")
        pools[name] = (os.getpid(), pool)
    return pool
