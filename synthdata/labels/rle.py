"""COCO run-length encoding (column-major), with pycocotools' compressed string form."""
from __future__ import annotations

import numpy as np


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
    out = bytearray()
    for i, x in enumerate(counts):
        x = int(x)
        if i > 2:
            x -= int(counts[i - 2])
        more = True
        while more:
            c = x & 0x1F
            x >>= 5
            more = (x != -1) if (c & 0x10) else (x != 0)
            if more:
                c |= 0x20
            out.append(c + 48)
    return out.decode("ascii")


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


def encode_window(instance: np.ndarray, track_id: int, x0: int, x1: int) -> dict:
    """COCO RLE of (instance == track_id) for a full (H, W) frame, reading only columns
    [x0, x1] (inclusive) where the object lies; -> {"size": [H, W], "counts": str}."""
    H, W = instance.shape
    sub = instance[:, x0:x1 + 1] == track_id
    counts = runs_column_major(sub)
    counts[0] += x0 * H
    tail = (W - 1 - x1) * H
    if tail:
        if len(counts) % 2 == 1:      # ends with a run of zeros
            counts[-1] += tail
        else:
            counts.append(tail)
    return {"size": [H, W], "counts": counts_to_string(counts)}


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
