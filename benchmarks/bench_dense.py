"""Dense ground truth (output.modalities): cost to make, bytes per frame, read speed, codec choice.

One clip of the benchmark recipe (parking lot, 640x480) is simulated and rendered once (RGB,
instance, depth and part buffers). Then, per modality, in this run:
  make    seconds per frame to compute the maps from the buffers (labels/dense.py)
  encode  seconds per frame to quantise and write the PNGs (io/dense.py) / the H.264 video for rgb
  bytes   per frame as stored in the shard tar (PNG data; the MP4 for rgb)
  read    seconds per frame for Dataset.read_clip(modalities=[m]) from a committed shard
and the storage options compared on the same maps: the chosen one-PNG-per-frame (KITTI layouts,
PyAV's PNG encoder) against FFV1 in Matroska (one lossless 16-bit video stream per modality),
bytes and encode/decode time per frame.

    python benchmarks/bench_dense.py               # 640x480, 8 frames
    python benchmarks/bench_dense.py --quick       # seconds (smoke test)

RESULT dense ratio = render seconds / (make + encode seconds of all five dense modalities):
target 1, i.e. all the dense ground truth together costs no more than rendering the RGB.
"""
from __future__ import annotations

import io
import os
import shutil
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib

DENSE = ("depth", "flow", "backflow", "instances", "classes")
TARGET = 1.0
FFV1_PIX = {"gray16": ("gray16le", "gray16le"), "gray8": ("gray", "gray"), "flow": ("rgb48le", "gbrp16le")}


def ffv1_bytes(frames: np.ndarray, kind: str, fps: float) -> bytes:
    import av

    from synthdata.io.video import sws

    src, pix = FFV1_PIX[kind]
    buf = io.BytesIO()
    with av.open(buf, "w", format="matroska", options={"fflags": "+bitexact"}) as c:
        s = c.add_stream("ffv1", rate=int(round(fps)))
        s.width, s.height, s.pix_fmt = frames.shape[2], frames.shape[1], pix
        s.codec_context.thread_count = 1
        s.codec_context.options = {"level": "3", "g": "1", "coder": "range_def", "context": "1"}
        for f in frames:
            vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(f), format=src)
            for p in s.encode(vf if src == pix else vf.reformat(format=pix, **sws())):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return buf.getvalue()


def ffv1_decode(data: bytes, kind: str) -> np.ndarray:
    import av

    from synthdata.io.video import sws

    with av.open(io.BytesIO(data)) as c:
        return np.stack([f.to_ndarray(format=FFV1_PIX[kind][0], **sws()) for f in c.decode(video=0)])


def main() -> None:
    p = benchlib.parser(__doc__.splitlines()[0])
    args = p.parse_args()
    reps = benchlib.repeats(args, 2)
    benchlib.set_threads(1)
    w, h, T = (160, 120, 3) if args.quick else (640, 480, 8)
    recipe, where = benchlib.bench_recipe(width=w, height=h, frames=T,
                                          overrides=[f"output.modalities=[{', '.join(DENSE)}]"])
    benchlib.print_machine()
    print(f"scene: {where}, {w}x{h}, {T} frames, torch threads 1, best of {reps}")

    from synthdata.io import dense as D
    from synthdata.io.video import VideoEncoder
    from synthdata.labels.dense import DenseLabeler
    from synthdata.plan import clip_id, clip_seed
    from synthdata.render.renderer import Renderer
    from synthdata.world.sample import sample_clip
    from synthdata.world.simulate import simulate

    spec = sample_clip(recipe, 0, seed=clip_seed(recipe.seed, 0), clip_id=clip_id(recipe, 0))
    world = simulate(spec)
    t_render, _, batch = benchlib.best_of(1, lambda: Renderer(world, "cpu").render(0, T))
    print(f"render: {t_render / T * 1000:.0f} ms/frame (RGB + instance + depth + part buffers)")

    for m in ("depth", "flow", "classes"):                   # warm up the codecs (first use loads them)
        D.decode_png(m, D.encode_png(m, D.quantise(m, np.zeros((8, 8, 2) if "flow" in m else (8, 8), np.float32))))
    maps, make, enc, size = {}, {}, {}, {}
    for m in DENSE:
        def run(m=m):
            lab = DenseLabeler(world, [m])
            out = lab.add(batch)[m]
            rest = lab.finish().get(m)
            return out if rest is None else np.concatenate([out, rest])
        make[m], _, maps[m] = benchlib.best_of(reps, run)

        def write(m=m):
            q = D.quantise(m, maps[m])
            return [D.encode_png(m, q[i]) for i in range(T)]
        enc[m], _, pngs = benchlib.best_of(reps, write)
        size[m] = sum(len(b) for b in pngs) / T
    with tempfile.TemporaryDirectory() as tmp:
        def mp4():
            e = VideoEncoder(f"{tmp}/c.mp4", width=w, height=h, fps=recipe.output.fps, crf=recipe.output.video.crf,
                             preset=recipe.output.video.preset)
            e.add(batch.rgb)
            e.close()
            return os.path.getsize(f"{tmp}/c.mp4")
        enc["rgb"], _, rgb_bytes = benchlib.best_of(reps, mp4)
    make["rgb"], size["rgb"] = t_render, rgb_bytes / T

    read = read_speeds(recipe, world, batch, maps, reps)
    print("\nper frame at %dx%d:" % (w, h))
    print(f"{'modality':<10} {'make ms':>8} {'encode ms':>10} {'KiB':>8} {'read ms':>8}")
    for m in ("rgb",) + DENSE:
        print(f"{m:<10} {make[m] / T * 1000:8.1f} {enc[m] / T * 1000:10.1f} {size[m] / 1024:8.1f} "
              f"{read[m] / T * 1000:8.1f}")
    dense_cost = sum(make[m] + enc[m] for m in DENSE)
    print(f"all dense: make + encode {dense_cost / T * 1000:.0f} ms/frame, {sum(size[m] for m in DENSE) / 1024:.1f} "
          f"KiB/frame; render {t_render / T * 1000:.0f} ms/frame, rgb {size['rgb'] / 1024:.1f} KiB/frame")

    print("\nstorage options on the same maps (per frame):")
    print(f"{'modality':<10} {'PNG KiB':>8} {'enc ms':>7} {'dec ms':>7} | {'FFV1 KiB':>8} {'enc ms':>7} {'dec ms':>7}")
    for m in ("depth", "flow", "instances", "classes"):
        q = D.quantise(m, maps[m])
        kind = D.FORMATS[m]
        te, _, pngs = benchlib.best_of(reps, lambda: [D.encode_png(m, q[i]) for i in range(T)])
        td, _, back = benchlib.best_of(reps, lambda: np.stack([D.decode_png(m, b) for b in pngs]))
        assert np.array_equal(back, q)
        fe, _, data = benchlib.best_of(reps, lambda: ffv1_bytes(q, kind, recipe.output.fps))
        fd, _, fback = benchlib.best_of(reps, lambda: ffv1_decode(data, kind))
        assert np.array_equal(fback, q), f"FFV1 {m} is not lossless here"
        print(f"{m:<10} {sum(map(len, pngs)) / T / 1024:8.1f} {te / T * 1000:7.1f} {td / T * 1000:7.1f} | "
              f"{len(data) / T / 1024:8.1f} {fe / T * 1000:7.1f} {fd / T * 1000:7.1f}")
    benchlib.result("dense", t_render / dense_cost, TARGET,
                    f"(render {t_render / T * 1000:.0f} ms/frame vs dense {dense_cost / T * 1000:.0f} ms/frame)")


def read_speeds(recipe, world, batch, maps: dict, reps: int) -> dict[str, float]:
    """Commit one shard holding the rendered clip and its maps, then time reading each modality
    back (a fresh reader each time: no cache)."""
    from synthdata.io.reader import open_dataset
    from synthdata.labels.extents import track_extents
    from synthdata.labels.rows import clip_row, event_rows, label_chunk, track_rows
    from synthdata.pipeline import ClipData, FrameChunk
    from synthdata.plan import plan

    spec = plan(recipe)[0]
    cid = f"{recipe.name}-000000"
    ext = track_extents(world)
    chunk = FrameChunk(0, batch.rgb, label_chunk(world, batch, cid, ext), dict(maps))
    clip = ClipData(clip_id=cid, clip_row=clip_row(world, cid, 0, "{}"), tracks=track_rows(world, cid, ext),
                    events=event_rows(world, cid), chunks=iter([chunk]), modalities=list(DENSE), index=0, world=world)
    tmp = tempfile.mkdtemp()
    try:
        marker = commit(tmp, spec, recipe, clip)
        finish(tmp, recipe, marker)
        out = {}
        for m in ("rgb",) + DENSE:
            out[m], _, _ = benchlib.best_of(reps, lambda m=m: open_dataset(tmp).read_clip(cid, modalities=[m]))
        return out
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def commit(out: str, spec, recipe, clip) -> dict:
    from synthdata.pipeline import shard_writer

    with shard_writer(out, spec, recipe) as writer:
        writer.add_clip(clip)
        return writer.commit()


def finish(out: str, recipe, marker: dict) -> None:
    from synthdata.pipeline import finalize_dataset

    finalize_dataset(out, recipe, [marker])


if __name__ == "__main__":
    t0 = time.perf_counter()
    main()
