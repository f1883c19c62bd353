"""A new user's first run: `synthdata run` (or `synthdata preview`) of a shipped recipe on a
machine whose numba cache is empty, so every CPU kernel compiles first (synthdata/precompile.py
compiles them on every core at once; before it, one after another in the driver).

Each run starts a fresh process with NUMBA_CACHE_DIR pointing at an empty folder, and times it
as a user's shell would (wall seconds, the process's start and imports included). The ratio is
the wall time of the same command held to one core (the process's CPU affinity: kernels then
compile one after another, as they all did before) over its wall time on every core, alternating,
best of each; with `--against DIR` instead the package at DIR on every core. Then the same
command again in a cache already filled: what a run costs once nothing compiles. A first run
takes minutes here, so the default is one run each.

    python benchmarks/bench_first_run.py                          # synthdata run, parking_lot_day
    python benchmarks/bench_first_run.py --against /tmp/prev      # against another checkout
    python benchmarks/bench_first_run.py --preview --recipe recipes/people_randomized.yaml
    python benchmarks/bench_first_run.py --quick                  # seconds: kernels as cached, 4 small frames
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib

CLI = "import sys; from synthdata.cli import main; sys.argv[0] = 'synthdata'; sys.exit(main())"


def first_run(root: Path, recipe: str, preview: bool, cache: str | None = None, one_core: bool = False,
              quick: bool = False) -> tuple[float, str]:
    """Wall seconds of one command with the package at `root` and numba's cache at `cache` (a new
    empty folder when None), held to one core if asked; and its "compiled in" line. quick: in the
    cache the environment names, 4 frames at 128x96 (the script's plumbing, in seconds)."""
    folder = tempfile.mkdtemp(prefix="bench_first_run-")
    try:
        out = os.path.join(folder, "out.png" if preview else "out")
        small = ["output.frames_per_clip=4", "output.resolution=[128,96]"] if quick else []
        args = (["preview", recipe, "--out", out, *small] if preview else
                ["run", recipe, "--out", out, "--workers", "0", "output.clips=1", "output.clips_per_shard=1", *small])
        env = dict(benchlib.START_ENV, PYTHONPATH=str(root))
        if not quick:
            env["NUMBA_CACHE_DIR"] = cache or os.path.join(folder, "numba")
        t0 = time.perf_counter()
        pin = (lambda: os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})) if one_core else None
        done = subprocess.run([sys.executable, "-c", CLI, *args], env=env, capture_output=True, text=True, cwd=root,
                              preexec_fn=pin)
        wall = time.perf_counter() - t0
        if done.returncode != 0:
            raise SystemExit(f"{root}: exit {done.returncode}: {done.stderr.strip()[-2000:]}")
        lines = [x for x in done.stderr.splitlines() if "compiled in" in x] or [""]
        return wall, lines[-1]
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    p = benchlib.parser(__doc__.splitlines()[0])
    p.add_argument("--recipe", default=str(benchlib.RECIPE), help="a shipped recipe (default parking_lot_day)")
    p.add_argument("--preview", action="store_true", help="time `synthdata preview` instead of `synthdata run`")
    p.add_argument("--against", default=None, help="another checkout's root: its first run, alternating")
    args = p.parse_args()
    n = benchlib.repeats(args, 1)
    benchlib.print_machine()
    recipe = str(Path(args.recipe).resolve())
    what = "preview" if args.preview else "run --workers 0, one clip"
    cache_is = "numba's cache as it is, 4 frames at 128x96 (--quick)" if args.quick else "an empty numba cache"
    print(f"synthdata {what} of {Path(recipe).name} with {cache_is}, best of {n}")
    here, there = [], []
    label = "there" if args.against else "1 core"
    cache = tempfile.mkdtemp(prefix="bench_first_run-cache-")     # the first run here fills it
    try:
        for i in range(n):
            wall, line = first_run(benchlib.ROOT, recipe, args.preview, cache if i == 0 else None, quick=args.quick)
            here.append(wall)
            print(f"  here   {wall:7.1f} s  {line}", flush=True)
            wall, line = first_run(Path(args.against or benchlib.ROOT), recipe, args.preview,
                                   one_core=not args.against, quick=args.quick)
            there.append(wall)
            print(f"  {label:6s} {wall:7.1f} s  {line}", flush=True)
        warm, _ = first_run(benchlib.ROOT, recipe, args.preview, cache, quick=args.quick)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    print(f"  here, with the kernels cached: {warm:.1f} s")
    benchlib.result("first_run_against" if args.against else "first_run", min(there) / min(here), 1.0,
                    f"({label} / here)")


if __name__ == "__main__":
    main()
