"""How render/gpu.py's CUDA kernels are launched: host arrays they read sent to the GPU once while
they stay the same, scratch kept, grids over frames of pixels.

numba copies every numpy argument of a CUDA kernel to the device before the launch and back after
it. The copy back waits for the kernel, so each launch that took a host table (primitive rows,
windows, light tables) stalled the host until the GPU finished. With the same tables passed to
several kernels of a chunk, that was about five copies per launch (render/gpu.py).

`Uploads` sends a host array that a kernel only reads once, and hands back the same device copy for
as long as the argument is the same array object holding the same bytes. Each later use compares
the array with the copy it sent (a memory compare, about 0.1 ms a megabyte), so an array changed in
place is sent again and no kernel ever reads stale data. A copy is dropped when its array is
garbage-collected. Arrays that a kernel writes are not passed here: they keep numba's copy there
and back.

On a GPU the copies go through torch (`queued_sender`): numba's own copy waits for every kernel
queued before it, torch's is queued behind them, so the host goes on with the chunk.

`Launcher` puts that together for kernels with one thread a pixel of one frame (BLOCK threads a
block, one block layer a frame).
"""
from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

_WORDS = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


def _words(a: np.ndarray) -> np.ndarray:
    """The bytes of a C-contiguous array as unsigned words of its item size (a bitwise compare:
    NaN equals NaN, -0.0 differs from 0.0)."""
    return a.reshape(-1).view(_WORDS.get(a.itemsize, np.uint8))


class Uploads:
    """Device copies of host arrays, each made once while its array is unchanged.

    to_device: makes the device copy of a C-contiguous numpy array (numba's `cuda.to_device`)."""

    def __init__(self, to_device: Callable[[np.ndarray], Any]):
        self._to_device = to_device
        self._held: dict[int, tuple[weakref.ref, np.ndarray, Any]] = {}
        self.sent = 0           # arrays copied to the device, for tests and profiles

    def __call__(self, a: np.ndarray) -> Any:
        if not a.flags.c_contiguous:       # rare: numba's own copy, which keeps the strides
            self.sent += 1
            return self._to_device(a)
        key = id(a)
        held = self._held.get(key)
        if held is not None and held[0]() is a and held[1].shape == a.shape and held[1].dtype == a.dtype \
                and np.array_equal(_words(held[1]), _words(a)):
            return held[2]
        kept = a.copy()
        device = self._to_device(kept)
        self._held[key] = (weakref.ref(a, lambda ref, key=key: self._forget(key, ref)), kept, device)
        self.sent += 1
        return device

    def _forget(self, key: int, ref: weakref.ref) -> None:
        held = self._held.get(key)
        if held is not None and held[0] is ref:        # not a newer array that took the same id
            del self._held[key]

    def __len__(self) -> int:
        return len(self._held)


BLOCK = (16, 16, 1)


def grid(shape: tuple) -> tuple:
    """The launch configuration over (T, H, W) pixels."""
    T, H, W = shape[0], shape[1], shape[2]
    return ((W + BLOCK[0] - 1) // BLOCK[0], (H + BLOCK[1] - 1) // BLOCK[1], max(T, 1)), BLOCK


def queued_sender(cuda: Any) -> Callable[[np.ndarray], Any]:
    """A device copy of a host array made through torch, for `Uploads` on a GPU. numba's
    `cuda.to_device` copies synchronously (cuMemcpyHtoD: the driver first waits for every kernel
    queued before it) into memory from cuMemAlloc (whose frees wait for the GPU as well). torch
    queues the copy on the same default stream (from pageable memory the driver stages the bytes
    at once and waits for nothing) into its caching allocator, so kernels launched before it keep
    running while the host goes on. The device array holds its tensor."""
    import torch

    def send(a: np.ndarray) -> Any:
        return cuda.as_cuda_array(torch.from_numpy(np.ascontiguousarray(a)).to("cuda", non_blocking=True))
    return send


class Launcher:
    """Launchers of CUDA kernels with the arguments of the CPU kernels. cuda: numba's CUDA module
    (numba's simulator swaps in its own); send: how host arrays reach the device (`Uploads`;
    default numba's `cuda.to_device`)."""

    def __init__(self, cuda: Any, send: Callable[[np.ndarray], Any] | None = None):
        self.cuda = cuda
        self.send = send or cuda.to_device
        self.uploads = Uploads(self.send)
        self._kept: dict = {}

    def scratch(self, a: Any) -> Any:
        """A device array shaped like `a`, kept between calls (a fresh one each call cost an
        allocation, which also waits for the GPU)."""
        return self._scratch(tuple(a.shape), a.dtype)

    def copy(self, a: Any) -> Any:
        """A copy of device array `a` in kept scratch (under the simulator, a numpy copy)."""
        if isinstance(a, np.ndarray):
            return a.copy()
        out = self.scratch(a)
        out.copy_to_device(a)
        return out

    def _scratch(self, shape: tuple, dtype: Any) -> Any:
        key = (shape, np.dtype(dtype).str)
        if key not in self._kept:
            self._kept[key] = self.cuda.device_array(shape, dtype)
        return self._kept[key]

    def on_device(self, args: tuple, outs: tuple, unused: tuple = ()) -> list:
        """The kernel's arguments with the host arrays it only reads uploaded once (`Uploads`);
        the host arrays it writes (`outs`) keep numba's copy there and back; `unused` ones (the
        CPU kernel's scratch) are not sent at all."""
        out = list(args)
        for i, a in enumerate(args):
            if isinstance(a, np.ndarray) and i not in outs:
                out[i] = self._scratch((1,) * a.ndim, a.dtype) if i in unused else self.uploads(a)
        return out

    def frames(self, kernel: Any, ref: int, outs: tuple, unused: tuple = ()) -> Callable:
        """A launcher over the (T, H, W) pixels of args[ref]."""
        def run(*args: Any) -> None:
            shape = args[ref].shape
            if shape[0] and shape[1] and shape[2]:
                kernel[grid(shape)](*self.on_device(args, outs, unused))
        return run

    def image(self, kernel: Any, ref: int, outs: tuple) -> Callable:
        """A launcher over the pixels of one (H, W) image (args[ref])."""
        def run(*args: Any) -> None:
            H, W = args[ref].shape[:2]
            if H and W:
                kernel[grid((1, H, W))](*self.on_device(args, outs))
        return run
