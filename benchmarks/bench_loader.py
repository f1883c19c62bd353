"""Target 3: the torch per-frame dataset delivers >= 0.8 x raw PyAV decode frames/s of the
same clips, annotations included.

A small dataset is generated first (untimed) with the benchmark recipe, or an existing one is
read with --dataset. Raw: for every clip, its MP4 byte range is read from the shard tar and
decoded with plain PyAV to (H, W, 3) uint8 RGB arrays, with as many decoder threads as the
dataset's decoder gets (torch's thread count: one, as in DataLoader workers; --threads).
Dataset: `synthdata.datasets.FrameDataset` read front to back, `ds[i]` giving the
(3, H, W) uint8 image and its target dict (boxes, labels, track ids, visibility, keypoints).
Best of N, interleaved; a fresh FrameDataset per run (no cache carried over); torch runs 1
thread, as in DataLoader worker processes (--threads).

    python benchmarks/bench_loader.py              # 2 clips x 64 frames, 640x480
    python benchmarks/bench_loader.py --dataset out/parking_lot_day
    python benchmarks/bench_loader.py --quick
"""
from __future__ import annotations

import io
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib

TARGET = 0.8


def make_dataset(recipe, out: str) -> None:
    from synthdata.runner.progress import Progress
    from synthdata.runner.submit import run_dataset

    run_dataset(recipe, out, client=None, device="cpu", progress=Progress())


def clip_ranges(out: str) -> list[tuple[str, int, int]]:
    """(tar path, byte offset, byte size) of every clip, from the clips table."""
    import pyarrow.dataset as pads

    rows = pads.dataset(os.path.join(out, "tables", "clips"), format="parquet").to_table(
        columns=["clip_id", "shard", "video_offset", "video_size"]).to_pylist()
    rows.sort(key=lambda r: r["clip_id"])
    return [(os.path.join(out, "videos", f"shard-{r['shard']:06d}.tar"), r["video_offset"], r["video_size"])
            for r in rows]


def raw_decode(ranges: list[tuple[str, int, int]], threads: int) -> int:
    """Plain PyAV: read each clip's bytes, decode every frame to RGB; returns frames."""
    import av

    from synthdata.io.video import sws

    n = 0
    for path, offset, size in ranges:
        with open(path, "rb") as f:
            f.seek(offset)
            data = f.read(size)
        with av.open(io.BytesIO(data)) as c:
            s = c.streams.video[0]
            s.thread_count = threads
            if threads > 1:
                s.thread_type = "FRAME"
            for frame in c.decode(s):
                frame.to_ndarray(format="rgb24", **sws())
                n += 1
    return n


def dataset_read(out: str) -> tuple[int, int]:
    """FrameDataset front to back; returns (frames, objects delivered)."""
    from synthdata.datasets import FrameDataset

    ds = FrameDataset(out)
    objects = 0
    for i in range(len(ds)):
        _, target = ds[i]
        objects += int(target["boxes"].shape[0])
    return len(ds), objects


def main() -> None:
    p = benchlib.parser(__doc__.splitlines()[0])
    p.add_argument("--dataset", help="read this finished dataset instead of generating one")
    p.add_argument("--width", type=int, default=640)
    p.add_argument("--height", type=int, default=480)
    p.add_argument("--frames", type=int, default=64)
    p.add_argument("--clips", type=int, default=2)
    p.add_argument("--recipe", help="another recipe file (default recipes/parking_lot_day.yaml)")
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads while reading (DataLoader workers run 1)")
    args = p.parse_args()
    if args.quick:
        args.width, args.height, args.frames, args.clips = 96, 64, 6, 1
    n = benchlib.repeats(args, 7)
    benchlib.set_threads(args.threads)
    benchlib.print_machine()
    folder = tempfile.mkdtemp(prefix="bench_loader-")
    try:
        out = args.dataset
        if out is None:
            recipe, source = benchlib.bench_recipe(width=args.width, height=args.height, frames=args.frames,
                                                   clips=args.clips, recipe=args.recipe)
            out = os.path.join(folder, "data")
            t0 = time.perf_counter()
            make_dataset(recipe, out)
            print(f"dataset: {source}; {args.clips} clip(s) x {args.frames} frames at {args.width}x{args.height}"
                  f" (generated in {time.perf_counter() - t0:.1f} s, untimed)")
        else:
            print(f"dataset: {out}")
        ranges = clip_ranges(out)
        raw, ds = [], []
        frames = objects = 0
        for _ in range(n):
            t0 = time.perf_counter()
            raw_frames = raw_decode(ranges, args.threads)
            raw.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            frames, objects = dataset_read(out)
            ds.append(time.perf_counter() - t0)
        if raw_frames != frames:
            raise SystemExit(f"raw decode gave {raw_frames} frames, the dataset {frames}")
        raw_fps, ds_fps = frames / min(raw), frames / min(ds)
        print(f"{frames} frames, {objects} objects ({objects / max(frames, 1):.1f} per frame)")
        print(f"raw PyAV decode: {raw_fps:8.1f} frames/s  runs {benchlib.fmt_times(raw)}")
        print(f"FrameDataset   : {ds_fps:8.1f} frames/s  runs {benchlib.fmt_times(ds)}")
        print(f"(best of {n} each, interleaved; load average now {benchlib.load_average()})")
        benchlib.result("loader", ds_fps / raw_fps, TARGET)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
