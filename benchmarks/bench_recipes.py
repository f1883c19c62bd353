"""Target 2: end to end >= 0.3 x encode alone on every shipped recipe (and the weather, night and
moving-camera variants of the benchmark scene).

For each recipe in recipes/ (and each variant: parking_lot_day with rain, fog, night, a PTZ
patrol, camera shake), `pipeline.generate_shard` of one clip (`--clips N`: a shard of N) vs `io.video.VideoEncoder` encoding
exactly the frames it produced, interleaved, best of N (the same method as bench_e2e.py; the
encoding alone runs ENCODE_RUNS times after each end-to-end run, best of all of them). Prints
one row per case and, per case, the steady-state milliseconds a frame of render.

    python benchmarks/bench_recipes.py                    # 640x480, 48 frames, best of 2
    python benchmarks/bench_recipes.py --only street_plaza,shake
    python benchmarks/bench_recipes.py --clips 3          # a shard of 3 clips a case
    python benchmarks/bench_recipes.py --quick            # seconds, tiny sizes (smoke test)
    python benchmarks/bench_recipes.py --against /tmp/base   # CPU time against another checkout
    python benchmarks/bench_recipes.py --against /tmp/base --clips 8   # ... over the first 8 clips

With `--against DIR` it measures instead what the ratio above cannot resolve on a shared machine
(the encode reference itself moves by tens of percent between runs): the CPU time a frame of
sample + simulate + render + label (`pipeline.generate_clip`, 1 thread, kernels loaded first)
with this checkout and with the package at DIR, each case in its own processes, alternating,
best of N each, and the speed-up (RESULT: the smallest, "target" 1.0: no case slower).
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib
from bench_e2e import ENCODE_RUNS, render_frames, run_e2e, time_encodes

TARGET = 0.3
BASE = "parking_lot_day"
VARIANTS = {   # name: overrides of the benchmark recipe
    "rain": ["scene.weather.condition=rain"],
    "fog": ["scene.weather.condition=fog"],
    "night": ["scene.lighting.time_of_day=night"],
    "ptz": ["scene.sensor.ptz.enabled=true"],
    "shake": ["scene.sensor.shake_deg=0.3"],
}


def cases(only: str = "") -> list[tuple[str, str, list[str]]]:
    """(name, recipe path, overrides) for every shipped recipe and every variant, or those whose
    name holds one of the comma-separated substrings of `only`."""
    folder = benchlib.ROOT / "recipes"
    out = [(p.stem, str(p), []) for p in sorted(folder.glob("*.yaml"))]
    out += [(f"{BASE}+{k}", str(folder / f"{BASE}.yaml"), v) for k, v in VARIANTS.items()]
    return [c for c in out if not only or any(k in c[0] for k in only.split(","))]


def measure(path: str, overrides: list[str], args, n: int, folder: str) -> dict:
    recipe, _ = benchlib.bench_recipe(width=args.width, height=args.height, frames=args.frames, recipe=path,
                                      clips=args.clips, overrides=overrides)
    clips = render_frames(recipe)                   # untimed: the frames to encode alone (and warm-up)
    e2e, enc, render = [], [], []
    frames = 0
    for _ in range(n):
        wall, timings, frames, _counts = run_e2e(recipe, os.path.join(folder, "out"))
        e2e.append(wall)
        render.append(timings.get("render", 0.0))
        enc += time_encodes(recipe, clips, folder)[0]
    return {"e2e": frames / min(e2e), "enc": frames / min(enc), "render_ms": 1000 * min(render) / frames}


CPU_SNIPPET = """
import sys, time
sys.path.insert(0, {bench!r})
import benchlib
benchlib.set_threads(1)
from synthdata.pipeline import generate_clip
recipe, _ = benchlib.bench_recipe(width={width}, height={height}, frames={frames}, recipe={path!r}, overrides={ov!r})
for chunk in generate_clip(recipe, 0, device="cpu").chunks:      # kernels loaded (or compiled) first
    break
t0 = time.process_time()
n = sum(chunk.frames.shape[0] for i in range({clips}) for chunk in generate_clip(recipe, i, device="cpu").chunks)
print("CPU", 1000 * (time.process_time() - t0) / n)
"""


def cpu_ms(root: str, path: str, overrides: list[str], args) -> float:
    """CPU milliseconds a frame of generate_clip with the package at `root`, in a fresh process."""
    code = CPU_SNIPPET.format(bench=os.path.dirname(os.path.abspath(__file__)), width=args.width,
                              height=args.height, frames=args.frames, path=path, ov=overrides, clips=args.clips)
    return benchlib.in_checkout(root, code, "CPU")


def against(todo: list, args, n: int) -> None:
    """Per case: CPU ms a frame here and at args.against, alternating, best of n, and the speed-up."""
    here = str(benchlib.ROOT)
    print(f"CPU time a frame of sample + simulate + render + label, {args.clips} clip(s) x {args.frames} frames at "
          f"{args.width}x{args.height}, 1 thread, alternating processes, best of {n}")
    print(f"{'case':<34} {'there ms/f':>10} {'here ms/f':>10} {'speed-up':>9}")
    worst = float("inf")
    for name, path, ov in todo:
        mine, theirs = [], []
        for _ in range(n):
            theirs.append(cpu_ms(args.against, path, ov, args))
            mine.append(cpu_ms(here, path, ov, args))
        worst = min(worst, min(theirs) / min(mine))
        print(f"{name:<34} {min(theirs):10.1f} {min(mine):10.1f} {min(theirs) / min(mine):8.2f}x", flush=True)
    print(f"(there = {args.against}; load average now {benchlib.load_average()}; ratio = the smallest speed-up)")
    benchlib.result("recipes_against", worst, 1.0)


def main() -> None:
    p = benchlib.parser(__doc__.splitlines()[0])
    p.add_argument("--width", type=int, default=640)
    p.add_argument("--height", type=int, default=480)
    p.add_argument("--frames", type=int, default=48)
    p.add_argument("--only", default="", help="comma-separated case names (substrings)")
    p.add_argument("--against", default=None, help="another checkout's root: CPU time a frame there and here")
    p.add_argument("--clips", type=int, default=1, help="clips 0..N-1 of each case, one shard (a shard of several "
                   "clips encodes one clip's last chunk while the next renders); with --against, one clip can miss "
                   "what only some clips of a recipe hold, such as a car passing beside the camera")
    args = p.parse_args()
    if args.quick:
        args.width, args.height, args.frames = 96, 64, 4
    n = benchlib.repeats(args, 2)
    benchlib.set_threads(1)
    benchlib.print_machine()
    todo = cases(args.only)
    if args.quick:
        todo = todo[:2]
    if args.against:
        against(todo, args, n)
        return
    print(f"{len(todo)} cases, a shard of {args.clips} clip(s) x {args.frames} frames at {args.width}x{args.height}, "
          f"best of {n} "
          f"(encoding alone: of {n * ENCODE_RUNS}), "
          "1 thread, interleaved")
    print(f"{'case':<34} {'e2e f/s':>8} {'encode f/s':>10} {'ratio':>6} {'render ms/f':>11}")
    folder = tempfile.mkdtemp(prefix="bench_recipes-")
    worst = float("inf")
    try:
        for name, path, ov in todo:
            r = measure(path, ov, args, n, folder)
            ratio = r["e2e"] / r["enc"]
            worst = min(worst, ratio)
            print(f"{name:<34} {r['e2e']:8.1f} {r['enc']:10.1f} {ratio:6.3f} {r['render_ms']:11.1f}", flush=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"(load average now {benchlib.load_average()}; ratio = the worst case)")
    benchlib.result("recipes", worst, TARGET)


if __name__ == "__main__":
    main()
