"""H.264 clips in MP4: deterministic incremental encoding and frame-exact decoding (PyAV/libx264).

Frames are RGB uint8, 0-based; frame i is shown at time i / fps. The same frames and settings give
byte-identical MP4 files on every run (x264 runs single-threaded on a fixed instruction set, the
container carries no creation time), so shards hash the same after any retry.
"""
from __future__ import annotations

import ctypes
import functools
import io
import os
import platform
import weakref
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from fractions import Fraction
from typing import Any

import numpy as np

PIX_FMT = "yuv420p"
# swscale's threads for every conversion here: one (`sws`). PyAV 18.1.1 scales with a pool of slice
# threads by default and keeps it, so a process forked after a conversion (a DataLoader worker, a
# pool's child) hung on its first conversion, waiting for threads the fork did not copy. One thread
# gives the same bytes (a test forks after converting).
SWS_THREADS = 1

# x264 on x86-64 is held to the baseline instruction set (SSE2): its AVX-512 routines gave
# different bytes from run to run for the same frames (x264 core 165), while the baseline gave
# the same bytes as x264's plain C code, at the speed of auto-detection (720p, veryfast).
# Other architectures keep x264's own choice.
_X86_64 = platform.machine().lower() in ("x86_64", "amd64")
X264_PARAMS = {"x264-params": "asm=MMX2,SSE,SSE2"} if _X86_64 else {}


def fps_fraction(fps: float) -> Fraction:
    """Frame rate as an exact fraction: 12.5 -> 25/2, 29.97 -> 2997/100, 30000/1001 stays."""
    if not fps > 0:
        raise ValueError(f"fps must be positive, got {fps}")
    return Fraction(fps).limit_denominator(1001)


def gop_frames(gop: int, fps: float) -> int:
    """Keyframe interval in frames; 0 means two seconds."""
    return gop if gop > 0 else max(1, round(2 * fps))


def to_numpy_frames(frames: Any) -> np.ndarray:
    """(t, H, W, 3) uint8 frames as a C-contiguous numpy array; a torch tensor (any device) is
    moved to the CPU once."""
    if hasattr(frames, "detach"):  # torch.Tensor, without importing torch here
        frames = frames.detach().to("cpu").contiguous().numpy()
    arr = np.ascontiguousarray(frames)
    if arr.dtype != np.uint8 or arr.ndim != 4 or arr.shape[-1] != 3:
        raise ValueError(f"frames must be (t, H, W, 3) uint8 RGB, got {arr.dtype} {arr.shape}")
    return arr


class VideoEncoder:
    """Encodes one clip to an MP4 file frame chunk by frame chunk.

    `add(frames)` takes (t, H, W, 3) uint8 RGB (numpy or torch on any device); `close()` flushes
    and returns the number of frames written. Width and height must be even (yuv420p).

    With `background=True` one thread of its own converts and encodes each chunk while the caller
    goes on (rendering the next one): x264 and swscale release the GIL, so on a spare core the
    encoding costs the caller only what `add` waits. `add` hands the frames over (a copy unless
    told otherwise), waiting while one chunk is still queued behind the one being encoded (so at
    most two chunks are held); frames are encoded in the order they were added, so the file is
    the same bytes as without the thread. An error in the thread is raised by a later `add` or by
    `close`.
    """

    def __init__(self, path: str, *, width: int, height: int, fps: float, crf: int = 23,
                 preset: str = "veryfast", gop: int = 0, background: bool = False):
        import av

        if width % 2 or height % 2:
            raise ValueError(f"H.264 yuv420p needs even width and height, got {width}x{height}")
        self.path, self.width, self.height = path, width, height
        rate = fps_fraction(fps)
        # +faststart puts the index first so players can stream a clip cut from the tar
        self._container = av.open(path, mode="w", format="mp4", options={"movflags": "+faststart"})
        stream = self._container.add_stream("libx264", rate=rate)
        stream.width, stream.height, stream.pix_fmt = width, height, PIX_FMT
        stream.time_base = 1 / rate
        ctx = stream.codec_context
        ctx.thread_count = 1  # x264's output depends on its thread count: fix it for identical bytes
        ctx.gop_size = gop_frames(gop, float(rate))
        ctx.options = {"crf": str(crf), "preset": preset, **X264_PARAMS}
        # tag what swscale makes (BT.601, limited range) so players convert back the same way
        ctx.color_range, ctx.colorspace, ctx.color_primaries, ctx.color_trc = 1, 6, 6, 6
        self._stream = stream
        self.frames_written = 0     # frames handed to the encoder (with background, some may be queued)
        self._pool: ThreadPoolExecutor | None = (
            ThreadPoolExecutor(1, thread_name_prefix="synthdata-encode") if background else None)
        self._queued: deque[Future] = deque()      # chunks handed to the pool, oldest first
        self._finishing = False     # `finish` was called: no more frames
        self._flushed = False       # the encoder is flushed and the file closed (by `_flush`)

    def add(self, frames: Any, *, copy: bool = True, done: Callable[[], None] | None = None,
            prepare: Callable[[], Any] | None = None) -> None:
        """Append (t, H, W, 3) uint8 RGB frames (numpy, or torch on any device). With background
        encoding the thread gets a copy, or with `copy=False` the caller's own buffer, which the
        caller must then leave unchanged (a pipeline that makes a new buffer for every chunk).
        `done` (optional) is called, from whichever thread, once the encoder holds no view of
        `frames`: after the copy, or after the chunk is encoded (not if encoding stops on an error
        or `abort`), so their maker may reuse that memory. `prepare` (optional, FrameChunk.prepare):
        the frames' last steps, run just before they are encoded (with background encoding on the
        encoder's thread, unless copying), returning the frames to encode."""
        if self._finishing:
            raise RuntimeError(f"{self.path}: frames added after finish()")
        if prepare is not None and (self._pool is None or copy):
            frames, prepare = prepare(), None
        arr = to_numpy_frames(frames) if prepare is None else frames    # converted once prepared
        self._check(arr)
        if self._pool is None:
            self._encode(arr, self.frames_written, done)
        else:
            if len(self._queued) == 2:     # one being encoded, one waiting: wait for the older
                self._queued.popleft().result()
            if copy:
                arr = np.array(arr)
                if done is not None:
                    done()
                    done = None
            self._queued.append(self._pool.submit(self._encode, arr, self.frames_written, done, prepare))
        self.frames_written += len(arr)

    def _check(self, frames: Any) -> None:
        shape = tuple(frames.shape)
        if len(shape) != 4 or shape[-1] != 3:
            raise ValueError(f"frames must be (t, H, W, 3) uint8 RGB, got {shape}")
        if shape[1:3] != (self.height, self.width):
            raise ValueError(f"frames are {shape[2]}x{shape[1]}, the clip is {self.width}x{self.height}")

    def _encode(self, arr: np.ndarray, first: int, done: Callable[[], None] | None = None,
                prepare: Callable[[], Any] | None = None) -> None:
        import av

        if prepare is not None:
            ready = to_numpy_frames(prepare())
            if ready.shape != tuple(arr.shape):
                raise ValueError(f"{self.path}: prepared frames are {ready.shape}, expected {tuple(arr.shape)}")
            arr = ready
        for k, img in enumerate(arr):
            # swscale's RGB -> BT.601 limited-range yuv420p, read in place (no copy of the RGB),
            # done here so x264 gets a frame it owns
            frame = av.VideoFrame.from_numpy_buffer(img, format="rgb24")
            frame = frame.reformat(format=PIX_FMT, **sws())
            frame.pts = first + k
            self._container.mux(self._stream.encode(frame))
        if done is not None:
            done()

    def finish(self) -> None:
        """No more frames. With background encoding the thread then flushes the encoder and closes
        the file after the chunks queued before it, while the caller goes on; `close` waits for
        that. Without it, `close` does the work."""
        if self._pool is not None and not self._finishing:
            self._queued.append(self._pool.submit(self._flush))
        self._finishing = True

    def _flush(self) -> None:
        self._container.mux(self._stream.encode(None))
        self._container.close()
        self._flushed = True

    def close(self) -> int:
        if self._container is not None:
            while self._queued:             # raises what the thread met; abort() then cleans up
                self._queued.popleft().result()
            if self._pool is not None:
                self._pool.shutdown()
                self._pool = None
            if not self._flushed:
                self._flush()
            self._container = None
        return self.frames_written

    def abort(self) -> None:
        """Stop without finishing the file (it is left for the caller to delete)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)    # after the chunk it is on
            self._pool, self._queued = None, deque()
        if self._container is not None and not self._flushed:     # (a flush closed it already)
            try:
                self._container.close()
            except Exception:  # noqa: BLE001 - the file is being thrown away anyway
                pass
        self._container = None


def encode_video(frames: Any, path: str, *, fps: float, **settings: Any) -> int:
    """Encode all of `frames` ((T, H, W, 3) uint8) to `path`; returns the frame count."""
    arr = to_numpy_frames(frames)
    enc = VideoEncoder(path, width=arr.shape[2], height=arr.shape[1], fps=fps, **settings)
    try:
        enc.add(arr)
    except BaseException:
        enc.abort()
        raise
    return enc.close()


@functools.lru_cache(maxsize=1)
def sws() -> dict[str, int]:
    """Keyword arguments for PyAV's `reformat` and `to_ndarray`: threads=SWS_THREADS where this
    PyAV takes them (newer ones); older ones scale on the calling thread anyway."""
    import av

    try:
        av.VideoFrame(2, 2, "rgb24").reformat(format="gray", threads=SWS_THREADS)
    except TypeError:
        return {}
    return {"threads": SWS_THREADS}


_OPEN: weakref.WeakSet[VideoClip] = weakref.WeakSet()  # clips holding an open decoder


def _after_fork_in_child() -> None:
    for clip in list(_OPEN):
        clip._forget_inherited()
    _OPEN.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _rgb_into(frame: Any, out: np.ndarray, channels_first: bool) -> None:
    """Convert a decoded frame to RGB (swscale, as `to_ndarray(format="rgb24")` does) straight into
    `out`: (H, W, 3) packed, or (3, H, W) from swscale's planar G, B, R (the same values)."""
    H, W = frame.height, frame.width
    if channels_first:
        planar = frame.reformat(format="gbrp", **sws())
        for channel, plane in zip((1, 2, 0), planar.planes):
            out[channel] = np.frombuffer(plane, np.uint8).reshape(H, plane.line_size)[:, :W]
    else:
        plane = frame.reformat(format="rgb24", **sws()).planes[0]
        out[...] = np.frombuffer(plane, np.uint8).reshape(H, plane.line_size)[:, :3 * W].reshape(H, W, 3)


def _frame_index(pts: int, time_base: Fraction, rate: Fraction) -> int:
    return round(pts * time_base * rate)


class VideoClip:
    """Frame-exact access to one MP4 clip held in memory.

    `decode()` returns every frame; `frames(start, stop)` seeks to the keyframe at or before
    `start` and decodes forward, so reading a window costs at most one keyframe interval extra.
    Frame i is the frame whose timestamp is i / fps.
    """

    def __init__(self, data: bytes):
        self.data = data
        self._live: list | None = None     # [container, stream, decoder, next frame, threads]
        c = self._open()  # one open: stream facts, the keyframes from the packets, then decoding
        s = c.streams.video[0]
        self.width, self.height = s.codec_context.width, s.codec_context.height
        self.rate = Fraction(s.average_rate) if s.average_rate else None
        self.num_frames = s.frames
        self._keyframes: list[int] = sorted(_frame_index(p.pts, s.time_base, self.rate)
                                            for p in c.demux(s) if p.size and p.is_keyframe) if self.rate else []
        self._spare: Any = c  # this container, demuxed to the end: the first decoder seeks it back

    def _open(self) -> Any:
        import av

        return av.open(io.BytesIO(self.data), mode="r")

    def _index(self, frame: Any, tb: Fraction) -> int:
        return _frame_index(frame.pts, tb, self.rate) if self.rate else -1

    def iter_frames(self) -> Iterator[np.ndarray]:
        """Every frame in display order, (H, W, 3) uint8 RGB."""
        with self._open() as c:
            s = c.streams.video[0]
            s.thread_type = "AUTO"
            for fr in c.decode(s):
                yield fr.to_ndarray(format="rgb24", **sws())

    def decode(self) -> np.ndarray:
        """All frames as (T, H, W, 3) uint8."""
        frames = list(self.iter_frames())
        if not frames:
            return np.zeros((0, self.height, self.width, 3), np.uint8)
        return np.stack(frames)

    @property
    def keyframes(self) -> list[int]:
        """Frame indices of the keyframes (read from the packets when the clip was opened)."""
        return self._keyframes

    def frames(self, start: int, stop: int, *, channels_first: bool = False, threads: int = 1) -> np.ndarray:
        """Frames [start, stop) as (stop - start, H, W, 3) uint8, or (stop - start, 3, H, W) with
        `channels_first` (converted straight to planar RGB: no transposing copy afterwards).

        Reads in order are served by one decoder kept open between calls (no re-open, no seek);
        a jump backwards or past the next keyframe seeks to the nearest keyframe before `start`.
        `threads` > 1 decodes with FFmpeg frame threads (same frames, more cores)."""
        if not 0 <= start < stop or (self.num_frames and stop > self.num_frames):
            raise IndexError(f"frames [{start}, {stop}) outside the clip's {self.num_frames} frames")
        shape = (3, self.height, self.width) if channels_first else (self.height, self.width, 3)
        out = np.empty((stop - start, *shape), np.uint8)
        key = max((k for k in self.keyframes if k <= start), default=0)
        live = self._live
        threads = max(1, int(threads))
        if live is None or not (key <= live[3] <= start) or live[4] != threads:
            self._close_live()
            reused = self._spare is not None
            c, self._spare = self._spare or self._open(), None
            s = c.streams.video[0]
            s.thread_count = threads
            if threads > 1:
                s.thread_type = "FRAME"
            if key > 0 or reused:
                target = round(key / (s.time_base * self.rate)) if key > 0 else 0
                c.seek(target, stream=s, backward=True, any_frame=False)
            live = [c, s, c.decode(s), 0, threads]
            _OPEN.add(self)
        c, s, it = live[:3]
        got = 0
        for fr in it:
            i = self._index(fr, s.time_base)
            if i < start:
                continue
            if i >= stop:        # only after a seek landed late; never in sequential reads
                c.close()
                self._live = None
                break
            _rgb_into(fr, out[i - start], channels_first)
            got += 1
            if i == stop - 1:
                live[3] = stop
                self._live = live
                break
        else:
            c.close()
            self._live = None
        if got != stop - start:
            self.close()
            raise ValueError(f"decoded {got} of frames [{start}, {stop}) from the clip")
        return out

    @property
    def next_frame(self) -> int | None:
        """The frame the open decoder gives next (a read from here needs no seek), or None."""
        return self._live[3] if self._live is not None else None

    def close(self) -> None:
        """Close the decoder kept open for sequential reads (reopened on demand)."""
        if self._spare is not None:
            self._spare.close()
            self._spare = None
        self._close_live()

    def _close_live(self) -> None:
        if self._live is not None:
            self._live[0].close()
            self._live = None
        _OPEN.discard(self)

    def _forget_inherited(self) -> None:
        """In a forked child: drop the parent's open decoder without closing or freeing it.
        Its FFmpeg worker threads exist only in the parent, so freeing it here would wait on
        them forever; the reference is leaked on purpose and the child opens its own."""
        if self._live is not None:
            for obj in self._live[:3]:
                ctypes.pythonapi.Py_IncRef(ctypes.py_object(obj))
            self._live = None

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_live"] = state["_spare"] = None
        return state

    def segment(self, frame: int) -> tuple[int, int]:
        """[start, stop) of the keyframe interval holding `frame` (a unit worth decoding whole)."""
        keys = self.keyframes or [0]
        start = max((k for k in keys if k <= frame), default=0)
        stop = min((k for k in keys if k > frame), default=self.num_frames)
        return start, stop
