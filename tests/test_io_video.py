"""H.264 clips: identical bytes on every run, exact frame count, frame i decodes as frame i."""
from __future__ import annotations

import io
from fractions import Fraction

import av
import numpy as np
import pytest
import torch

from synthdata.io.video import VideoClip, VideoEncoder, encode_video, fps_fraction, gop_frames

W, H, T = 64, 48, 15


def patterned_frames(n: int = T, w: int = W, h: int = H) -> np.ndarray:
    """Frames that differ from each other clearly: bars whose position and colour encode i."""
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([(40 + xx) % 256, (60 + yy) % 256, 100 + 0 * xx], -1).astype(np.uint8)
    frames = np.repeat(base[None], n, 0)
    for i in range(n):
        x = (i * 4) % (w - 4)
        frames[i, :, x:x + 4] = (255, 40 + 12 * i, 0)
        frames[i, (i * 3) % (h - 3):(i * 3) % (h - 3) + 3, :] = (0, 0, 255)
    return frames


def encode(tmp_path, frames, name="c.mp4", chunks=(5,), **kw) -> bytes:
    path = str(tmp_path / name)
    enc = VideoEncoder(path, width=frames.shape[2], height=frames.shape[1], fps=kw.pop("fps", 12.5), **kw)
    start, sizes = 0, list(chunks)
    while start < len(frames):
        step = sizes[0] if len(sizes) == 1 else sizes.pop(0)
        enc.add(torch.from_numpy(frames[start:start + step]))
        start += step
    assert enc.close() == len(frames)
    return open(path, "rb").read()


def test_same_frames_give_identical_bytes_whatever_the_chunking(tmp_path):
    # 160x128: the size at which x264's AVX-512 routines most often varied from run to run
    frames = patterned_frames(w=160, h=128)
    runs = [encode(tmp_path, frames, f"{i}.mp4", chunks=chunks)
            for i, chunks in enumerate([(5,), (1, 7, 3, 4), (15,), (1,)] * 2)]
    assert len(set(runs)) == 1
    assert b"creation_time" not in runs[0]
    assert b"threads=1" in runs[0]   # x264 settings recorded in the stream: single-threaded


def test_decodes_exact_frame_count_in_order(tmp_path):
    frames = patterned_frames()
    data = encode(tmp_path, frames, gop=4)
    decoded = VideoClip(data).decode()
    assert decoded.shape == (T, H, W, 3)
    dist = np.abs(decoded[:, None].astype(np.int32) - frames[None].astype(np.int32)).mean(axis=(2, 3, 4))
    assert (dist.argmin(axis=1) == np.arange(T)).all(), dist.round(1)
    assert dist.diagonal().max() < 6


def test_timestamps_follow_a_fractional_frame_rate(tmp_path):
    data = encode(tmp_path, patterned_frames(), fps=12.5)
    with av.open(io.BytesIO(data)) as c:
        s = c.streams.video[0]
        assert s.average_rate == Fraction(25, 2)
        times = [float(f.pts * s.time_base) for f in c.decode(s)]
    assert times == pytest.approx([i / 12.5 for i in range(T)])
    assert fps_fraction(29.97) == Fraction(2997, 100)
    assert fps_fraction(30000 / 1001) == Fraction(30000, 1001)
    assert gop_frames(0, 12.5) == 25 and gop_frames(7, 12.5) == 7


def test_window_after_seek_equals_full_decode(tmp_path):
    data = encode(tmp_path, patterned_frames(), gop=4)
    clip = VideoClip(data)
    full = clip.decode()
    assert clip.num_frames == T and 0 in clip.keyframes and len(clip.keyframes) >= 3
    for start, stop in ((0, 3), (5, 9), (9, 10), (12, 15)):
        assert np.array_equal(clip.frames(start, stop), full[start:stop])
    s0, s1 = clip.segment(10)
    assert s0 <= 10 < s1 and s0 in clip.keyframes
    with pytest.raises(IndexError):
        clip.frames(14, 16)


def test_planar_and_threaded_reads_give_the_same_frames(tmp_path):
    data = encode(tmp_path, patterned_frames(), gop=4)
    full = VideoClip(data).decode()
    clip = VideoClip(data)
    assert np.array_equal(clip.frames(0, T, channels_first=True), full.transpose(0, 3, 1, 2))
    for start, stop in ((2, 7), (7, 8), (8, 12), (1, 3)):   # in order, one frame, then back
        assert np.array_equal(clip.frames(start, stop, threads=2), full[start:stop])
    assert clip.next_frame == 3
    clip.close()
    assert clip.next_frame is None


def test_a_forked_child_reads_without_touching_the_parents_threaded_decoder(tmp_path):
    import multiprocessing

    data = encode(tmp_path, patterned_frames(), gop=4)
    clip = VideoClip(data)
    clip.frames(0, 2, threads=2)                 # the parent keeps a threaded decoder open
    ctx = multiprocessing.get_context("fork")
    results = ctx.Queue()
    child = ctx.Process(target=_read_and_drop, args=(clip, results))   # inherited, not pickled
    child.start()
    frames = results.get(timeout=60)
    child.join(timeout=60)
    if child.is_alive():
        child.kill()
    assert child.exitcode == 0                   # it finished: freeing the clip did not hang
    full = VideoClip(data).decode()
    assert np.array_equal(frames, full[1:4])
    assert np.array_equal(clip.frames(2, 3, threads=2), full[2:3])     # the parent's goes on


def _read_and_drop(clip: VideoClip, results) -> None:
    import gc
    import sys

    frames = clip.frames(1, 4, threads=2)
    del clip
    gc.collect()
    results.put(frames)
    sys.exit(0)


def test_rejects_wrong_frames(tmp_path):
    with pytest.raises(ValueError, match="even"):
        VideoEncoder(str(tmp_path / "x.mp4"), width=63, height=48, fps=10)
    with pytest.raises(ValueError, match="uint8"):
        encode_video(np.zeros((2, H, W, 3), np.float32), str(tmp_path / "y.mp4"), fps=10)
    enc = VideoEncoder(str(tmp_path / "z.mp4"), width=W, height=H, fps=10)
    with pytest.raises(ValueError, match="32x48"):
        enc.add(np.zeros((1, H, 32, 3), np.uint8))
    enc.abort()


def test_background_encoding_gives_the_same_bytes_and_owns_its_frames(tmp_path):
    frames = patterned_frames(w=160, h=128)
    plain = encode(tmp_path, frames, "plain.mp4", chunks=(1, 7, 3, 4))
    # the caller overwrites its buffer right after each add: the queued chunk must be a copy
    path = str(tmp_path / "bg.mp4")
    enc = VideoEncoder(path, width=160, height=128, fps=12.5, background=True)
    buf = np.empty((5, 128, 160, 3), np.uint8)
    for start in range(0, T, 5):
        buf[:] = frames[start:start + 5]
        enc.add(buf)
        buf[:] = 0
    assert enc.close() == T
    assert open(path, "rb").read() == encode(tmp_path, frames, "plain5.mp4", chunks=(5,)) == plain
    handed = VideoEncoder(str(tmp_path / "own.mp4"), width=160, height=128, fps=12.5, background=True)
    for start in range(0, T, 5):        # copy=False: a new buffer a chunk, left alone (as shards do)
        handed.add(frames[start:start + 5].copy(), copy=False)
    assert handed.close() == T and (tmp_path / "own.mp4").read_bytes() == plain


@pytest.mark.parametrize("background,copy", [(False, False), (True, True), (True, False)])
def test_done_is_called_once_a_chunks_frames_are_no_longer_read(tmp_path, background, copy):
    """`done` hands a chunk's buffer back to its maker: only after its encoding (or its copy), once a
    chunk; a maker that then overwrites the buffer (as FramePool's next take does) changes nothing."""
    frames = patterned_frames(w=160, h=128)
    plain = encode(tmp_path, frames, "plain.mp4", chunks=(5,))
    enc = VideoEncoder(str(tmp_path / "d.mp4"), width=160, height=128, fps=12.5, background=background)
    encoded, calls = [], []
    real = enc._encode

    def tracked(arr, first, done=None, prepare=None):
        encoded.append(first)       # from here on this chunk is the encoder's
        real(arr, first, done, prepare)

    enc._encode = tracked

    def done_with(buf, first):
        def done():
            assert copy or first in encoded, "given back before the encoder took it"
            calls.append(first)
            buf[:] = 0          # the maker writes the next chunk into it
        return done

    for start in range(0, T, 5):
        buf = frames[start:start + 5].copy()
        enc.add(buf, copy=copy, done=done_with(buf, start))
    assert enc.close() == T and (tmp_path / "d.mp4").read_bytes() == plain
    assert sorted(calls) == [0, 5, 10]


@pytest.mark.parametrize("background", [False, True])
def test_finish_flushes_on_the_thread_and_close_waits_for_it(tmp_path, background):
    frames = patterned_frames(w=160, h=128)
    plain = encode(tmp_path, frames, "plain.mp4", chunks=(5,))
    path = tmp_path / "f.mp4"
    enc = VideoEncoder(str(path), width=160, height=128, fps=12.5, background=background)
    for start in range(0, T, 5):
        enc.add(frames[start:start + 5])
    enc.finish()
    with pytest.raises(RuntimeError, match="after finish"):
        enc.add(frames[:1])
    enc.finish()                # a second call changes nothing
    assert enc.close() == T and path.read_bytes() == plain
    for wait in (False, True):
        late = VideoEncoder(str(tmp_path / "a.mp4"), width=160, height=128, fps=12.5, background=background)
        late.add(frames[:5])
        late.finish()
        if wait and background:
            late._queued[-1].result()       # the flush has run
        late.abort()                # before the flush ran or after it: no error, nothing left open
        assert late._container is None and late._pool is None


def test_background_encoding_raises_the_threads_error_and_aborts(tmp_path, monkeypatch):
    enc = VideoEncoder(str(tmp_path / "e.mp4"), width=W, height=H, fps=10, background=True)

    def broken(arr, first, done=None, prepare=None):
        raise RuntimeError(f"encoder broke at frame {first}")

    monkeypatch.setattr(enc, "_encode", broken)
    enc.add(patterned_frames(3))
    with pytest.raises(RuntimeError, match="broke at frame 0"):
        for _ in range(4):      # the error surfaces on a later add (or on close)
            enc.add(patterned_frames(3))
        enc.close()
    enc.abort()                 # ends the thread and closes the container without a flush
    assert enc._pool is None and enc._container is None


@pytest.mark.parametrize("background,copy", [(False, False), (True, True), (True, False)])
def test_prepare_runs_a_chunks_last_steps_before_it_is_encoded(tmp_path, background, copy):
    """FrameChunk.prepare: the frames' last steps, run once before encoding (on the encoder's
    thread when it may, while the caller goes on), in place or giving new frames; the video is
    that of the prepared frames."""
    import threading

    frames = patterned_frames(w=160, h=128)
    plain = encode(tmp_path, frames, "plain.mp4", chunks=(5,))
    enc = VideoEncoder(str(tmp_path / "p.mp4"), width=160, height=128, fps=12.5, background=background)
    ran = []

    def steps(buf, start):
        def prepare():
            ran.append((start, threading.current_thread() is threading.main_thread()))
            if start == 5:
                return torch.from_numpy(frames[5:10].copy())     # new frames
            buf[:] = frames[start:start + 5]                       # in place
            return buf
        return prepare

    for start in range(0, T, 5):
        buf = np.zeros((5, 128, 160, 3), np.uint8)      # not final until prepared
        enc.add(buf, copy=copy, prepare=steps(buf, start))
    assert enc.close() == T and (tmp_path / "p.mp4").read_bytes() == plain
    assert [r[0] for r in ran] == [0, 5, 10]
    assert all(main == (not background or copy) for _, main in ran)    # off the caller's thread when it can
    bad = VideoEncoder(str(tmp_path / "b.mp4"), width=160, height=128, fps=12.5, background=True)
    bad.add(np.zeros((5, 128, 160, 3), np.uint8), copy=False, prepare=lambda: frames[:4])
    with pytest.raises(ValueError, match="prepared frames are"):
        bad.close()
    bad.abort()


def test_conversions_run_on_one_swscale_thread_and_give_the_same_bytes():
    """PyAV 18.1.1 keeps a pool of swscale threads that a forked child cannot use (it hung): every
    conversion here asks for one thread where PyAV takes the option, with the same bytes."""
    import av

    from synthdata.io.video import SWS_THREADS, sws

    rgb = np.random.default_rng(2).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
    try:
        frame.reformat(format="gray", threads=2)
    except TypeError:
        assert sws() == {}                          # an older PyAV: no pool, no option
        return
    assert sws() == {"threads": SWS_THREADS} == {"threads": 1}
    yuv, yuv1 = frame.reformat(format="yuv420p"), frame.reformat(format="yuv420p", **sws())
    assert np.array_equal(yuv.to_ndarray(), yuv1.to_ndarray())        # the planes' pixels, not their padding
    assert np.array_equal(yuv.to_ndarray(format="rgb24"), yuv1.to_ndarray(format="rgb24", **sws()))
