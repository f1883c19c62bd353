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


def test_a_launch_sends_what_a_kernel_reads_keeps_what_it_writes_on_the_host_and_skips_cpu_scratch():
    """Launcher.on_device: host arrays a kernel only reads are uploaded (once), the ones it writes
    stay host arrays (numba copies those there and back), the CPU kernel's unused scratch becomes a
    kept one-element device array, and everything else passes through."""
    from types import SimpleNamespace

    from synthdata.render.uploads import BLOCK, Launcher, grid

    made = []
    fake = SimpleNamespace(to_device=lambda a: ("up", a.copy()),
                           device_array=lambda shape, dtype: made.append((shape, dtype)) or ("scratch", shape))
    go = Launcher(fake)
    table, out, stamp, dev = np.arange(6.0), np.zeros(4), np.empty((48, 64), np.int32), object()
    args = go.on_device((table, out, stamp, dev, 2.5), outs=(1,), unused=(2,))
    assert args[0][0] == "up" and args[1] is out and args[2] == ("scratch", (1, 1)) and args[3] is dev
    assert args[4] == 2.5
    go.on_device((table, out, stamp, dev, 2.5), outs=(1,), unused=(2,))
    assert go.uploads.sent == 1 and len(made) == 1      # the table once, the scratch kept
    assert grid((3, 40, 33)) == ((3, 3, 3), BLOCK)      # ceil(33 / 16), ceil(40 / 16), one layer a frame
