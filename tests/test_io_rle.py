"""COCO RLE strings: ours are pycocotools' bytes, and extents match pycocotools' boxes."""
from __future__ import annotations

import numpy as np
from pycocotools import mask as mask_utils

from synthdata.io import rle


def random_masks(n: int = 150):
    rng = np.random.default_rng(3)
    for k in range(n):
        h, w = (int(v) for v in rng.integers(1, 40, 2))
        if k % 2:
            m = (rng.random((h, w)) < rng.random() * 0.3).astype(np.uint8)
        else:   # one rectangle, as most object masks are
            m = np.zeros((h, w), np.uint8)
            y, x = rng.integers(0, h), rng.integers(0, w)
            m[y:y + rng.integers(1, 12), x:x + rng.integers(1, 12)] = 1
        yield m


def test_encode_matches_pycocotools_and_round_trips():
    for m in random_masks():
        ref = mask_utils.encode(np.asfortranarray(m))
        ours = rle.encode(m)
        assert ours["size"] == list(ref["size"])
        assert ours["counts"] == ref["counts"].decode()
        assert np.array_equal(rle.decode(ours), m)
        assert np.array_equal(mask_utils.decode({"size": ours["size"], "counts": ours["counts"].encode()}), m)


def test_extent_is_the_bounding_box_of_the_ones():
    for m in random_masks():
        ext = rle.extent(rle.encode(m))
        if not m.any():
            assert ext is None
            continue
        ys, xs = np.nonzero(m)
        assert ext == (xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1)


def test_large_counts_survive_the_delta_coding():
    counts = [0, 5000, 3, 70000, 1, 2]
    assert rle.decode_counts(rle.encode_counts(counts)) == counts
