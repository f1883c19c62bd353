"""Target 4: peak RSS per worker <= 1.5 GB for a 1280x720 clip of 300 frames.

A fresh child process plays a worker: it gets a local Dask worker's environment
(runner/cluster.py's malloc settings, 1 OpenMP thread), imports what a worker holds (torch,
distributed, the pipeline), limits torch to 1 thread, then generates and commits one shard holding one
1280x720 x 300-frame clip of the benchmark recipe (`pipeline.generate_shard`: frames are
rendered `output.chunk_frames` at a time and streamed to the encoder). It reports its peak
resident set size (VmHWM from /proc/self/status; ru_maxrss where /proc is missing) and its RSS
after the imports. ratio = 1.5 GB / peak (the target is met when the peak is within the budget).

    python benchmarks/bench_memory.py              # 1280x720, 300 frames (minutes on a CPU)
    python benchmarks/bench_memory.py --quick
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib

BUDGET_MB = 1.5 * 1000**3 / 2**20   # 1.5 GB, in MiB
TARGET = 1.0
# The environment runner/cluster.py's LocalCluster gives its worker processes.
WORKER_ENV = {"MALLOC_MMAP_THRESHOLD_": "16777216", "MALLOC_TRIM_THRESHOLD_": "33554432",
              "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
              "OPENBLAS_NUM_THREADS": "1"}


def child(args) -> None:
    import distributed  # noqa: F401 - a worker process holds it
    import torch  # noqa: F401

    from synthdata.pipeline import generate_shard
    from synthdata.plan import plan

    benchlib.set_threads(1)
    recipe, source = benchlib.bench_recipe(width=args.width, height=args.height, frames=args.frames,
                                           recipe=args.recipe,
                                           overrides=[f"output.chunk_frames={args.chunk}"] if args.chunk else ())
    base = benchlib.rss_now_mb()
    with tempfile.TemporaryDirectory(prefix="bench_memory-") as out:
        t0 = time.perf_counter()
        marker = generate_shard(recipe, plan(recipe)[0], out, device="cpu")
        wall = time.perf_counter() - t0
    print("MEMORY " + json.dumps({"peak_mb": benchlib.rss_peak_mb(), "base_mb": base, "wall_s": wall,
                                  "frames": marker["counts"]["frames"], "objects": marker["counts"]["objects"],
                                  "chunk_frames": recipe.output.frames_per_chunk, "source": source}), flush=True)


def main() -> None:
    p = benchlib.parser(__doc__.splitlines()[0])
    p.add_argument("--width", type=int, default=1280)
    p.add_argument("--height", type=int, default=720)
    p.add_argument("--frames", type=int, default=300)
    p.add_argument("--chunk", type=int, default=None, help="output.chunk_frames (default: the recipe's)")
    p.add_argument("--recipe", help="another recipe file (default recipes/parking_lot_day.yaml)")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.quick:
        args.width, args.height, args.frames = 128, 96, 6
    if args.child:
        child(args)
        return
    benchlib.print_machine()
    cmd = [sys.executable, os.path.abspath(__file__), "--child", "--width", str(args.width),
           "--height", str(args.height), "--frames", str(args.frames)]
    if args.chunk:
        cmd += ["--chunk", str(args.chunk)]
    if args.recipe:
        cmd += ["--recipe", args.recipe]
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **WORKER_ENV},
                          check=False)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("MEMORY ")]
    if proc.returncode or not lines:
        sys.stderr.write(proc.stderr[-4000:])
        raise SystemExit(f"the worker process failed (exit {proc.returncode})")
    m = json.loads(lines[-1][len("MEMORY "):])
    print(f"recipe: {m['source']}; 1 clip x {m['frames']} frames at {args.width}x{args.height}, "
          f"chunk_frames={m['chunk_frames']}, {m['objects']} object rows, generated in {m['wall_s']:.1f} s")
    print(f"worker environment: {' '.join(f'{k}={v}' for k, v in WORKER_ENV.items())}")
    print(f"RSS after imports: {m['base_mb']:7.0f} MiB")
    print(f"peak RSS         : {m['peak_mb']:7.0f} MiB  (budget {BUDGET_MB:.0f} MiB = 1.5 GB)")
    benchlib.result("memory", BUDGET_MB / m["peak_mb"], TARGET, f"peak={m['peak_mb']:.0f}MiB")


if __name__ == "__main__":
    main()
