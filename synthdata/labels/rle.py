"""COCO run-length encoding (column-major), with pycocotools' compressed string form."""
from __future__ import annotations

import numpy as np
from numba import njit


def runs_column_major(mask: np.ndarray) -> list[int]:
    """Alternating run lengths (starting with zeros) of a 2D bool mask read column by column."""
    flat = np.ascontiguousarray(mask.T).reshape(-1).astype(np.int8)
    return runs_of(flat)


def runs_of(flat: np.ndarray) -> list[int]:
    """Alternating run lengths of a flat 0/1 array, starting with a (possibly empty) run of 0s."""
    n = flat.shape[0]
    if n == 0:
        return [0]
    change = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    edges = np.concatenate([[0], change, [n]])
    counts = np.diff(edges).tolist()
    if flat[0]:
        counts = [0] + counts
    return counts


def counts_to_string(counts: list[int]) -> str:
    """pycocotools' rleToString: LEB128-like, 5 bits a char, deltas from the run two before."""
    arr = np.asarray(counts, np.int64)
    return _chars(arr, arr.shape[0]).tobytes().decode("ascii")


def string_to_counts(s: str) -> list[int]:
    """Inverse of counts_to_string (pycocotools' rleFrString)."""
    counts: list[int] = []
    p = 0
    data = s.encode("ascii")
    while p < len(data):
        x, k, more = 0, 0, True
        while more:
            c = data[p] - 48
            x |= (c & 0x1F) << (5 * k)
            more = bool(c & 0x20)
            p += 1
            k += 1
            if not more and (c & 0x10):
                x |= -1 << (5 * k)
        if len(counts) > 2:
            x += counts[-2]
        counts.append(x)
    return counts


def encode_window(instance: np.ndarray, track_id: int, x0: int, x1: int, y0: int = 0, y1: int = -1) -> dict:
    """COCO RLE of (instance == track_id) for a full (H, W) frame, reading only columns
    [x0, x1] and rows [y0, y1] (inclusive; y1 < 0: to the last row) where the object lies;
    -> {"size": [H, W], "counts": str}. Compiled (numba): runs and the compressed string in one
    pass over the window."""
    H, W = instance.shape
    y1 = H - 1 if y1 < 0 else y1
    chars = _window_string(np.ascontiguousarray(instance), int(track_id), int(x0), int(x1), int(y0), int(y1))
    return {"size": [H, W], "counts": chars.tobytes().decode("ascii")}


@njit(cache=True, nogil=True)
def _window_string(instance, track_id, x0, x1, y0, y1):
    """The pycocotools string (uint8 codes) of the column-major runs of instance == track_id,
    pixels outside columns [x0, x1] and rows [y0, y1] taken as zeros."""
    H, W = instance.shape
    counts = np.empty(2 * (y1 - y0 + 2) * (x1 - x0 + 1) + 3, np.int64)
    n, run, cur = 0, x0 * H, False
    above, below = y0, H - 1 - y1
    for x in range(x0, x1 + 1):
        if above:               # zeros above the window
            if cur:
                counts[n] = run
                n += 1
                run, cur = 0, False
            run += above
        for y in range(y0, y1 + 1):
            v = instance[y, x] == track_id
            if v != cur:
                counts[n] = run
                n += 1
                run, cur = 0, v
            run += 1
        if below:               # and below it
            if cur:
                counts[n] = run
                n += 1
                run, cur = 0, False
            run += below
    tail = (W - 1 - x1) * H       # zeros right of the window
    if cur:                       # ends in ones: close them; the tail is a run of its own
        counts[n] = run
        n += 1
        run = 0
    if run + tail > 0 or n == 0:
        counts[n] = run + tail
        n += 1
    return _chars(counts, n)


@njit(cache=True, nogil=True)
def _chars(counts, n):
    """The string codes (uint8) of run lengths counts[:n], as pycocotools writes them."""
    out = np.empty(n * 13 + 1, np.uint8)
    m = 0
    for i in range(n):
        v = counts[i] - (counts[i - 2] if i > 2 else 0)
        more = True
        while more:
            c = v & 0x1F
            v >>= 5
            more = (v != -1) if (c & 0x10) else (v != 0)
            if more:
                c |= 0x20
            out[m] = c + 48
            m += 1
    return out[:m]


def decode(rle: dict) -> np.ndarray:
    """RLE dict -> (H, W) bool mask."""
    h, w = rle["size"]
    counts = rle["counts"]
    if isinstance(counts, str):
        counts = string_to_counts(counts)
    flat = np.zeros(h * w, bool)
    pos, val = 0, False
    for c in counts:
        if val:
            flat[pos:pos + c] = True
        pos += c
        val = not val
    return flat.reshape(w, h).T
