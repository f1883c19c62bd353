"""COCO run-length masks (the `mask` column) for readers: masks, extents, without pycocotools.

A mask is {"size": [h, w], "counts": str}: runs over the column-major flattened mask, starting
with a run of zeros, in the compressed string form of pycocotools (`maskApi.c` rleToString /
rleFrString). The string codec itself is labels/rle.py's, which writes the column.
"""
from __future__ import annotations

import numpy as np

from synthdata.labels.rle import counts_to_string as encode_counts
from synthdata.labels.rle import runs_column_major
from synthdata.labels.rle import string_to_counts as decode_counts

__all__ = ["decode", "decode_counts", "encode", "encode_counts", "extent"]


def encode(mask: np.ndarray) -> dict:
    """(h, w) bool/uint8 mask -> {"size": [h, w], "counts": str}."""
    h, w = mask.shape
    return {"size": [int(h), int(w)], "counts": encode_counts(runs_column_major(np.asarray(mask, bool)))}


def decode(rle: dict) -> np.ndarray:
    """{"size": [h, w], "counts": str} -> (h, w) uint8 mask of 0/1."""
    h, w = (int(v) for v in rle["size"])
    runs = np.asarray(decode_counts(rle["counts"]), np.int64)
    values = np.arange(len(runs)) % 2
    flat = np.repeat(values.astype(np.uint8), runs)
    if flat.size != h * w:
        raise ValueError(f"RLE counts cover {flat.size} pixels, size {h}x{w} has {h * w}")
    return flat.reshape(w, h).T.copy()


def extent(rle: dict) -> tuple[int, int, int, int] | None:
    """Pixel extent (x, y, w, h) of the mask's ones, top-left origin, w = max_col - min_col + 1;
    None for an empty mask. Computed from the runs, without building the mask."""
    h = int(rle["size"][0])
    pos, xmin, ymin, xmax, ymax = 0, 1 << 62, 1 << 62, -1, -1
    for i, run in enumerate(decode_counts(rle["counts"])):
        if i % 2 and run > 0:
            first, last = pos, pos + run - 1
            x0, x1 = first // h, last // h
            xmin, xmax = min(xmin, x0), max(xmax, x1)
            if x1 > x0:                 # a run crossing a column covers rows 0..h-1 there
                ymin, ymax = 0, h - 1
            else:
                ymin, ymax = min(ymin, first % h), max(ymax, last % h)
        pos += run
    if xmax < 0:
        return None
    return xmin, ymin, xmax - xmin + 1, ymax - ymin + 1
