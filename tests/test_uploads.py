"""Host tables reach the GPU once while unchanged (render/uploads.py); a change is always sent."""
from __future__ import annotations

import gc

import numpy as np

from synthdata.render.uploads import Uploads


def uploads() -> tuple[Uploads, list]:
    sent: list = []

    def to_device(a):
        sent.append(a)
        return ("device", len(sent), a.copy())
    return Uploads(to_device), sent


def test_an_unchanged_array_is_sent_once_and_a_changed_one_again():
    up, sent = uploads()
    a = np.arange(12.0).reshape(3, 4)
    first = up(a)
    assert up(a) is first and len(sent) == 1
    a[1, 2] = -5.0                              # changed in place: the same object, new bytes
    second = up(a)
    assert second is not first and len(sent) == 2 and second[2][1, 2] == -5.0
    assert up(a) is second and len(sent) == 2


def test_equal_bytes_in_another_array_are_sent_again_and_nan_counts_as_unchanged():
    up, sent = uploads()
    a = np.array([1.0, np.nan, 3.0])
    up(a)
    up(a)
    assert len(sent) == 1                       # NaN compares as its bits
    up(a.copy())
    assert len(sent) == 2                       # another object: its own copy
    b = np.zeros(3, np.float32)
    up(b)
    up(b.view(np.int32))                        # a view is another object too
    assert len(sent) == 4


def test_shape_or_dtype_changes_are_sent_again():
    up, sent = uploads()
    a = np.zeros(8, np.int64)
    up(a)
    up(a.reshape(2, 4))
    assert len(sent) == 2


def test_copies_are_dropped_with_their_arrays_and_strided_arrays_are_not_kept():
    up, sent = uploads()
    a = np.ones((4, 4))
    up(a)
    assert len(up) == 1
    del a
    gc.collect()
    assert len(up) == 0
    s = np.ones((4, 4))[:, ::2]                 # not C-contiguous: sent as it is, every time
    up(s)
    up(s)
    assert len(sent) == 3 and len(up) == 0 and up.sent == 3


def test_the_sent_copy_does_not_follow_later_changes():
    up, _ = uploads()
    a = np.arange(4)
    dev = up(a)
    a[0] = 99
    assert dev[2][0] == 0                       # what the device got is what a held then
