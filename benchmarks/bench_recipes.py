"""Target 2: end to end >= 0.3 x encode alone on every shipped recipe (and the weather, night and
moving-camera variants of the benchmark scene).

For each recipe in recipes/ (and each variant: parking_lot_day with rain, fog, night, a PTZ
patrol, camera shake), `pipeline.generate_shard` of one clip vs `io.video.VideoEncoder` encoding
exactly the frames it produced, interleaved, best of N (the same method as bench_e2e.py). Prints
one row per case and, per case, the steady-state milliseconds a frame of render.

    python benchmarks/bench_recipes.py                    # 640x480, 48 frames, best of 2
    python benchmarks/bench_recipes.py --only street_plaza,shake
    python benchmarks/bench_recipes.py --quick            # seconds, tiny sizes (smoke test)
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib
from bench_e2e import encode_only, render_frames, run_e2e

TARGET = 0.3
BASE = "parking_lot_day"
VARIANTS = {   # name: overrides of the benchmark recipe
    "rain": ["scene.weather.condition=rain"],
    "fog": ["scene.weather.condition=fog"],
    "night": ["scene.lighting.time_of_day=night"],
    "ptz": ["scene.sensor.ptz.enabled=true"],
    "shake": ["scene.sensor.shake_deg=0.3"],
}


def cases() -> list[tuple[str, str, list[str]]]:
    """(name, recipe path, overrides) for every shipped recipe and every variant."""
    folder = benchlib.ROOT / "recipes"
    out = [(p.stem, str(p), []) for p in sorted(folder.glob("*.yaml"))]
    out += [(f"{BASE}+{k}", str(folder / f"{BASE}.yaml"), v) for k, v in VARIANTS.items()]
    return out


def measure(path: str, overrides: list[str], args, n: int, folder: str) -> dict:
    recipe, _ = benchlib.bench_recipe(width=args.width, height=args.height, frames=args.frames, recipe=path,
                                      overrides=overrides)
    clips = render_frames(recipe)                   # untimed: the frames to encode alone (and warm-up)
    e2e, enc, render = [], [], []
    frames = 0
    for _ in range(n):
        wall, timings, frames, _counts = run_e2e(recipe, os.path.join(folder, "out"))
        e2e.append(wall)
        render.append(timings.get("render", 0.0))
        t0 = time.perf_counter()
        encode_only(recipe, clips, folder)
        enc.append(time.perf_counter() - t0)
    return {"e2e": frames / min(e2e), "enc": frames / min(enc), "render_ms": 1000 * min(render) / frames}


def main() -> None:
    p = benchlib.parser(__doc__.splitlines()[0])
    p.add_argument("--width", type=int, default=640)
    p.add_argument("--height", type=int, default=480)
    p.add_argument("--frames", type=int, default=48)
    p.add_argument("--only", default="", help="comma-separated case names (substrings)")
    args = p.parse_args()
    if args.quick:
        args.width, args.height, args.frames = 96, 64, 4
    n = benchlib.repeats(args, 2)
    benchlib.set_threads(1)
    benchlib.print_machine()
    todo = [c for c in cases() if not args.only or any(k in c[0] for k in args.only.split(","))]
    if args.quick:
        todo = todo[:2]
    print(f"{len(todo)} cases, 1 clip x {args.frames} frames at {args.width}x{args.height}, best of {n}, "
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
