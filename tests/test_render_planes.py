"""Kept planes and frame buffers (render/planes.py): per name and per thread, handed from one
renderer to the next with their memory, and output frames given back by their consumer."""
from __future__ import annotations

import torch


def test_kept_planes_are_per_name_and_per_thread():
    import threading

    from synthdata.render.planes import plane, release

    a = plane("test.a", (4, 5), torch.float32, "cpu")
    assert plane("test.a", (2, 3), torch.float32, "cpu").data_ptr() == a.data_ptr()      # smaller: same memory
    assert plane("test.b", (4, 5), torch.float32, "cpu").data_ptr() != a.data_ptr()
    assert plane("test.a", (4, 5), torch.int32, "cpu").data_ptr() != a.data_ptr()
    assert plane("test.a", (9, 9), torch.float32, "cpu").shape == (9, 9)                  # grows
    other = []
    t = threading.Thread(target=lambda: other.append(plane("test.a", (4, 5), torch.float32, "cpu").data_ptr()))
    t.start()
    t.join()
    assert other[0] != plane("test.a", (4, 5), torch.float32, "cpu").data_ptr()
    assert plane("test.a", (2,), torch.float32, "cpu", fresh=True).data_ptr() != a.data_ptr()
    release()


def test_stack_stores_pass_to_the_next_owner_once_theirs_is_gone_and_keep_their_memory():
    """A renderer's stack_into store (what it keeps from chunk to chunk) is its own while it lives,
    then the thread's next renderer takes it, with buffers already faulted in; a shorter stack
    reuses a buffer, a longer one grows it."""
    import gc

    from synthdata.render.planes import own_store, release, stack_into

    class Owner:
        pass

    release()
    a, b = Owner(), Owner()
    store = own_store(a)
    assert own_store(b) is not store                      # a live owner's store is its own
    parts = [torch.full((3, 4), float(i)) for i in range(5)]
    full = stack_into(store, "x", parts)
    assert torch.equal(full, torch.stack(parts))
    short = stack_into(store, "x", parts[:2])              # a moving camera's shorter last chunk
    assert short.data_ptr() == full.data_ptr() and torch.equal(short, torch.stack(parts[:2]))
    assert torch.equal(stack_into(store, "x", parts * 2), torch.stack(parts * 2))     # grows
    assert stack_into(store, "x", [p.int() for p in parts]).dtype == torch.int32       # another dtype
    del a
    gc.collect()
    assert own_store(Owner()) is store                      # handed on once its owner is gone
    release()


def test_frame_pool_hands_out_buffers_given_back_and_no_others():
    import threading

    from synthdata.render.planes import FramePool

    pool = FramePool(keep=2)
    a, give_a = pool.take((4, 6, 8, 3), torch.uint8, "cpu")
    b, _ = pool.take((4, 6, 8, 3), torch.uint8, "cpu")
    assert a.data_ptr() != b.data_ptr()          # a buffer not given back is never handed out again
    t = threading.Thread(target=give_a)          # given back from another thread (the encoder's)
    t.start()
    t.join()
    give_a()                                     # a second call gives nothing more
    c, give_c = pool.take((3, 6, 8, 3), torch.uint8, "cpu")     # a shorter last chunk fits in it
    assert c.data_ptr() == a.data_ptr() and c.shape == (3, 6, 8, 3)
    assert pool.take((4, 6, 8, 3), torch.uint8, "cpu")[0].data_ptr() not in (a.data_ptr(), b.data_ptr())
    give_c()
    assert pool.take((5, 6, 8, 3), torch.uint8, "cpu")[0].data_ptr() != a.data_ptr()    # too small
    assert pool.take((4, 6, 8, 3), torch.float32, "cpu")[0].data_ptr() != a.data_ptr()
    other = FramePool()
    (small, give_small), (big, give_big) = (other.take((k, 6, 8, 3), torch.uint8, "cpu") for k in (2, 4))
    give_small()                                 # first in line, too small for the next take
    give_big()
    assert other.take((4, 6, 8, 3), torch.uint8, "cpu")[0].data_ptr() == big.data_ptr()
    assert other.take((2, 6, 8, 3), torch.uint8, "cpu")[0].data_ptr() == small.data_ptr()
    for give in [pool.take((1,), torch.uint8, "cpu")[1] for _ in range(4)]:
        give()
    assert len(pool._free) == 2                  # keeps at most `keep`


def test_frame_pool_keeps_its_largest_buffers_for_the_largest_chunks():
    """Clips of a long and a short chunk: a short chunk takes the smallest buffer that fits and the
    pool, when full, lets the smallest go, so a long chunk finds a long buffer (a fresh one is
    paged in again: 70 ms for 43 frames at 640x360)."""
    from synthdata.render.planes import FramePool

    pool = FramePool(keep=2)
    (big, give_big), (small, give_small) = (pool.take((k, 6, 8, 3), torch.uint8, "cpu") for k in (8, 2))
    give_big()
    give_small()
    short, give_short = pool.take((2, 6, 8, 3), torch.uint8, "cpu")
    assert short.data_ptr() == small.data_ptr()             # not the big one
    give_short()
    for _ in range(2):                                       # more short buffers given back: the big one stays
        pool._give(torch.empty(2 * 6 * 8 * 3, dtype=torch.uint8), [])
    assert len(pool._free) == 2 and pool.take((8, 6, 8, 3), torch.uint8, "cpu")[0].data_ptr() == big.data_ptr()
