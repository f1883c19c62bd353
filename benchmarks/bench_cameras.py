"""Several cameras over one scene: the World is simulated once per clip, rendering costs in
proportion to the cameras.

recipes/plaza_multicam.yaml (four cameras) at 640x480: one clip generated with all its cameras
(`pipeline.generate_clip`: sample, simulate, then every camera's chunks rendered and labelled),
against the same simulated World rendered and labelled by each camera alone (a World holding that
one camera, `pipeline.clip_from_world`). Counted: calls of `world.simulate.simulate`; timed:
sampling + simulation, and render + label, best of N.

    python benchmarks/bench_cameras.py              # 640x480, 24 frames, best of 2
    python benchmarks/bench_cameras.py --quick      # seconds (smoke test)

RESULT cameras ratio = (render + label seconds of the cameras one at a time, summed) / (render +
label seconds of all cameras in one clip): 1 when rendering is proportional to the cameras;
target 0.8. The run fails when a clip with several cameras simulates its World more than once.
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib

TARGET = 0.8
RECIPE = benchlib.ROOT / "recipes" / "plaza_multicam.yaml"


def generate(recipe) -> tuple[dict[str, float], object]:
    """Generate clip 0 of `recipe`, consuming every camera's chunks: (seconds per stage, the
    number of simulate calls, cameras and frames; the clip's World)."""
    import synthdata.world.simulate as sim
    from synthdata.pipeline import generate_clip

    calls = []
    real = sim.simulate

    def counted(spec):
        calls.append(1)
        return real(spec)

    sim.simulate = counted
    try:
        clip = generate_clip(recipe, 0, device="cpu")
        views = [clip] + clip.views
        frames = sum(len(chunk.frames) for v in views for chunk in v.chunks)
    finally:
        sim.simulate = real
    work = sum(v.timings.get("render", 0.0) + v.timings.get("label", 0.0) for v in views)
    return {"simulate": clip.timings.get("simulate", 0.0), "render_label": work, "simulations": len(calls),
            "cameras": len(views), "frames": frames}, clip.world


def render_alone(world, recipe) -> dict[str, float]:
    """Render and label `world` as its own camera alone sees it (a World without further views)."""
    import dataclasses

    import torch

    from synthdata.pipeline import clip_from_world

    clip = clip_from_world(dataclasses.replace(world, more_views=[]), "alone", 0, 0, {}, recipe, torch.device("cpu"))
    frames = sum(len(chunk.frames) for chunk in clip.chunks)
    return {"render_label": clip.timings["render"] + clip.timings["label"], "frames": frames}


def main() -> None:
    args = benchlib.parser(__doc__.splitlines()[0]).parse_args()
    benchlib.set_threads(1)
    w, h, frames = (160, 120, 3) if args.quick else (640, 480, 24)
    reps = benchlib.repeats(args, 2)
    recipe, where = benchlib.bench_recipe(width=w, height=h, frames=frames, recipe=str(RECIPE))
    benchlib.print_machine()
    print(f"recipe: {where} at {w}x{h}, {frames} frames, cameras "
          f"{', '.join(c.name for c in recipe.scene.cameras)}; best of {reps}")
    generate(recipe)                                     # warm-up: kernels, caches
    _, _, (together, world) = benchlib.best_of(reps, lambda: generate(recipe))
    alone = {name: benchlib.best_of(reps, lambda v=view: render_alone(v, recipe))[2]
             for name, view in world.camera_worlds()}
    print(f"{'run':<26}{'render+label s':>16}{'frames':>8}")
    for name, r in alone.items():
        print(f"{name + ' alone':<26}{r['render_label']:>16.3f}{r['frames']:>8}")
    summed = sum(r["render_label"] for r in alone.values())
    print(f"{'sum of the cameras alone':<26}{summed:>16.3f}{sum(r['frames'] for r in alone.values()):>8}")
    print(f"{'all cameras in one clip':<26}{together['render_label']:>16.3f}{together['frames']:>8}")
    print(f"sample + simulate: {together['simulate']:.3f} s, {together['simulations']} simulation(s) for "
          f"{together['cameras']} cameras (one clip per camera would simulate {together['cameras']} times)")
    once = together["simulations"] == 1
    ratio = summed / together["render_label"] if together["render_label"] else 0.0
    if not once:
        print(f"FAIL: {together['simulations']} simulations for one clip (expected 1)")
    benchlib.result("cameras", ratio if once else 0.0, TARGET,
                    f"({together['cameras']} cameras, simulated {together['simulations']}x)")


if __name__ == "__main__":
    main()
