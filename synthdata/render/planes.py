"""Large scratch planes kept for reuse, per thread, across chunks and clips.

Rendering a chunk needs planes of the whole chunk (z-buffer index and distance, a moving
camera's rays, instance ids, depth, motion vectors). A fresh plane costs a page fault on every
page when first written: the kernel zeroes each page first, and under transparent huge pages a
single write into a fresh 2 MiB region zeroes all of it. On a 2-core machine that was up to a
fifth of a shard's CPU time (system time 0.5-1.1 s of about 6 s for 4 clips of parking_lot_day). A plane
taken from here was faulted in by an earlier chunk or clip of the same thread and is only
written again.

`plane(name, shape, dtype, device)` returns a view of a kept buffer of at least that many
elements; the same name gives the same memory again, so a caller must be done with a plane before
asking for it again. The renderers of a thread share these planes, so each lives within one
Renderer.render call (or, for the instance and depth planes a recycling Renderer hands out, until
its caller's next call); what a renderer keeps from call to call is its own (`stack_into`).
Buffers are per thread (a Dask worker with several threads renders clips side by side) and grow
to the largest size asked; `release()` drops the calling thread's buffers. `kept(name, key, make)`
keeps whole sets of scratch a kernel leaves as it found them (motion blur's zeroed planes). A
moving camera's pose buffers (`pose_buffer`) are the process's: a pose rendered ahead on the pose
thread (render/pose_ahead.py) is given back by the thread that rendered its chunk.

A chunk's output frames leave the renderer: the shard writer's encoder thread reads them while the
next chunk renders. They come from the thread's `FramePool` instead (`frame_pool()`): a buffer
goes back to it only when its consumer says it is done with it (FrameChunk.done), and a consumer
that keeps its frames simply never gives them back. The planes the camera's passes read when the
renderer defers them (instance, depth, a moving camera's rays) come from a second pool
(`plane_pool()`) and go back once those passes are done.
"""
from __future__ import annotations

import math
import threading
import weakref
from collections import deque
from collections.abc import Callable

import numpy as np
import torch

_local = threading.local()
STORES = 4          # spare stores a thread keeps (one per camera of a several-camera clip)
POSE_KEEP = 64      # spare pose buffers kept of each shape (a chunk's poses)
_poses: dict[tuple, list[np.ndarray]] = {}
_poses_lock = threading.Lock()


def plane(name: str, shape: tuple[int, ...], dtype: torch.dtype, device: torch.device | str,
          fresh: bool = False) -> torch.Tensor:
    """A (shape) tensor of dtype on device, contents undefined, from the buffer kept as `name`
    (fresh: a new tensor instead)."""
    if fresh:
        return torch.empty(shape, dtype=dtype, device=device)
    pool: dict = _local.__dict__.setdefault("pool", {})
    key, n = (name, dtype, str(device)), math.prod(int(s) for s in shape)
    buf = pool.get(key)
    if buf is None or buf.numel() < n:
        buf = torch.empty(max(n, 1), dtype=dtype, device=device)
        pool[key] = buf
    return buf[:n].view(shape)


def stack_into(store: dict[str, torch.Tensor], name: str, parts: list[torch.Tensor]) -> torch.Tensor:
    """torch.stack(parts) into `stored(store, name, ...)`."""
    return torch.stack(parts, out=stored(store, name, (len(parts),) + tuple(parts[0].shape), parts[0].dtype,
                                          parts[0].device))


def stored(store: dict[str, torch.Tensor], name: str, shape: tuple[int, ...], dtype: torch.dtype,
           device: torch.device) -> torch.Tensor:
    """A (shape) tensor, contents undefined, from store[name], a buffer its owner keeps: made again
    only when it is too small or of another dtype or device (a moving camera's chunks of 32 and
    then 16 frames share one, instead of mapping fresh memory for each chunk)."""
    buf, n = store.get(name), math.prod(shape)
    if buf is None or buf.numel() < n or buf.dtype != dtype or buf.device != device:
        buf = store[name] = torch.empty(n, dtype=dtype, device=device)
    return buf[:n].view(shape)


class FramePool:
    """Buffers for output frames that a consumer, maybe on another thread, gives back when done."""

    def __init__(self, keep: int = 3):
        self.keep = keep        # a chunk rendering and two at the encoder (io/video.py holds at most two)
        self._free: deque[torch.Tensor] = deque()
        self._lock = threading.Lock()

    def take(self, shape: tuple[int, ...], dtype: torch.dtype, device: torch.device | str
             ) -> tuple[torch.Tensor, Callable[[], None]]:
        """A (shape) tensor, contents undefined, and the function that gives its memory back once
        nothing reads or writes the tensor any more (a second call does nothing)."""
        n, dev = math.prod(int(s) for s in shape), torch.device(device)
        with self._lock:        # the smallest that fits: larger ones stay free for larger chunks
            fits = [i for i, b in enumerate(self._free) if b.dtype == dtype and b.device == dev and b.numel() >= n]
            buf = None
            if fits:
                i = min(fits, key=lambda i: self._free[i].numel())
                buf = self._free[i]
                del self._free[i]
        buf = buf if buf is not None else torch.empty(max(n, 1), dtype=dtype, device=dev)
        given = []
        return buf[:n].view(shape), lambda: self._give(buf, given)

    def _give(self, buf: torch.Tensor, given: list) -> None:
        with self._lock:
            if given:           # given back already: a second call must not put it in line twice
                return
            given.append(True)
            self._free.append(buf)
            while len(self._free) > self.keep:      # the smallest goes: a larger one serves its sizes too
                del self._free[min(range(len(self._free)), key=lambda i: self._free[i].numel())]


def own_store(owner: object) -> dict[str, torch.Tensor]:
    """A store for `stack_into` that `owner` keeps from call to call, taken from the calling
    thread's spare stores and handed back to them when the owner is collected. Its buffers were
    faulted in by an earlier owner (the clip before), so a new clip does not map and fault in fresh
    memory for them: under transparent huge pages a fresh 118 MB buffer took 0.35-1.3 s."""
    spare = _local.__dict__.setdefault("stores", [])
    store = spare.pop() if spare else {}
    weakref.finalize(owner, _give_store, spare, store)
    return store


def _give_store(spare: list, store: dict) -> None:
    if len(spare) < STORES:
        spare.append(store)


def frame_pool() -> FramePool:
    """The calling thread's FramePool."""
    return _local.__dict__.setdefault("frames", FramePool())


def plane_pool() -> FramePool:
    """The calling thread's FramePool for the planes a deferred camera pass reads after the
    renderer returns (render/renderer.py defer): instance, depth and a moving camera's rays of
    each chunk queued at the encoder or rendering."""
    return _local.__dict__.setdefault("planes", FramePool(keep=9))


def kept(name: str, key: tuple, make: Callable[[], object]) -> object:
    """The calling thread's object kept as `name`, made again by `make()` when `key` (what its
    sizes depend on) changes: scratch that a compiled kernel leaves as it found it (zeros stay
    zeros), so it is made, faulted in and cleared once, not on every call."""
    store: dict = _local.__dict__.setdefault("kept", {})
    got = store.get(name)
    if got is None or got[0] != key:
        got = store[name] = (key, make())
    return got[1]


def pose_buffer(shape: tuple[int, ...], dtype: type) -> np.ndarray:
    """A (shape) numpy array of dtype, contents undefined, for one pose's background of a moving
    camera: from the arrays of that shape given back by `give_back_pose`, else new. A turning
    camera renders a background for every pose, about 7 MB at 640x480 in arrays below the sizes
    numpy and torch map on huge pages; fresh ones cost a page fault every 4 KiB, a third of such a
    pose's CPU time. The arrays are the process's, not a thread's: a pose rendered ahead on
    another thread (render/pose_ahead.py) is given back by the thread that rendered its chunk."""
    with _poses_lock:
        free = _poses.get((tuple(shape), np.dtype(dtype)))
        got = free.pop() if free else None
    return np.empty(shape, dtype) if got is None else got


def give_back_pose(*arrays: np.ndarray) -> None:
    """Hand `pose_buffer` arrays back once nothing reads or writes them (at most POSE_KEEP of a
    shape are kept: a chunk's poses)."""
    with _poses_lock:
        for a in arrays:
            free = _poses.setdefault((a.shape, a.dtype), [])
            if len(free) < POSE_KEEP:
                free.append(a)


def release() -> None:
    """Drop the calling thread's kept buffers and the spare pose buffers (their memory goes back
    once nothing views them)."""
    with _poses_lock:
        _poses.clear()
    _local.__dict__.pop("pool", None)
    _local.__dict__.pop("kept", None)
    _local.__dict__.pop("frames", None)
    _local.__dict__.pop("stores", None)
