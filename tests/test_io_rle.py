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


def test_window_encoding_is_the_whole_frame_encoding():
    """labels/rle.py `encode_window` reads only the object's columns and rows (its visible box,
    or any box around it): the string is pycocotools' for the whole frame, whatever the box,
    including objects on the frame's edges and ids that also appear outside the box's rows."""
    from synthdata.labels.rle import encode_window

    rng = np.random.default_rng(5)
    for k in range(300):
        h, w = (int(v) for v in rng.integers(1, 30, 2))
        inst = rng.integers(0, 4, (h, w)).astype(np.int32) * (rng.random((h, w)) < 0.5)
        tid = int(rng.integers(1, 4))
        m = (inst == tid).astype(np.uint8)
        want = mask_utils.encode(np.asfortranarray(m))["counts"].decode()
        if m.any():
            ys, xs = np.nonzero(m)
            boxes = [(xs.min(), xs.max(), ys.min(), ys.max()), (0, w - 1, 0, h - 1),
                     (max(xs.min() - 1, 0), xs.max(), ys.min(), min(ys.max() + 2, h - 1))]
        else:
            boxes = [(0, w - 1, 0, h - 1)]
        for x0, x1, y0, y1 in boxes:
            assert encode_window(inst, tid, int(x0), int(x1), int(y0), int(y1))["counts"] == want, (k, x0, x1, y0, y1)
        assert encode_window(inst, tid, int(boxes[0][0]), int(boxes[0][1]))["counts"] == want   # all rows
