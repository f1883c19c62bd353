"""The sim-to-real refiner (refine/): cost per frame, domain gap before/after, temporal flicker.

In one run, with a refiner checkpoint (default: the shipped examples/refiners/car_park.pt):
  cost     ms to refine one 640x480 frame on the CPU with 1 thread (as in a render worker), against
           rendering the same frame (render.Renderer, 1 thread) in this run
  gap      synthetic frames of recipes/plate_car_park.yaml (clips with seeds the refiner never saw)
           against real frames of the car-park reference clip that training did not use (frames
           250-376 of car-detection.mp4; the shipped refiner saw frames 0-249):
           - accuracy of a small real-vs-synthetic CNN trained from scratch on half of the frames
             and scored on the other half (closer to 50 % is better), renders vs refined;
           - Fréchet distance between features of a fixed randomly initialised conv net (seeded,
             no pretrained weights), renders vs refined
  flicker  mean |frame t - frame t+1 warped back through the exact flow| (0..255 levels), renders
           vs refined: what the refiner adds that does not move with the surfaces
  actors   each labelled object's contrast to a ring around it (refine/metrics.py actor_contrast),
           summed, refined over renders: a refiner that fades people into the plate (which fools a
           discriminator shown footage with few people, and lowers the distance) keeps little of it

    python benchmarks/bench_refiner.py                   # needs ../shared/data/reference (or --real)
    python benchmarks/bench_refiner.py --quick           # seconds; the plate stands in for real frames

RESULT refiner ratio = feature distance of the renders / that of the refined frames (to the real
frames), target 1.1: refined frames are measurably closer to the real camera; 0 when the refined
actors keep less than ACTORS_KEPT of their contrast (closer by erasing what is labelled).
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib

TARGET = 1.1
ACTORS_KEPT = 0.8      # refined actors keep at least this share of their contrast to their surroundings
ROOT = benchlib.ROOT
REFINER = ROOT / "examples" / "refiners" / "car_park.pt"
PLATE_RECIPE = ROOT / "recipes" / "plate_car_park.yaml"
REFERENCE = ROOT.parent / "shared" / "data" / "reference" / "car-detection.mp4"
HELD_OUT = 250          # the shipped refiner was trained on frames [0, 250) of the reference clip


def real_frames(path: Path | None, quick: bool) -> tuple[list[np.ndarray], str]:
    from synthdata.plate.footage import read_image

    if path is not None and path.is_file() and not quick:
        import cv2

        cap, frames, i = cv2.VideoCapture(str(path)), [], 0
        while True:
            ok, f = cap.read()
            if not ok:
                break
            if i >= HELD_OUT:
                frames.append(np.ascontiguousarray(f[..., ::-1]))
            i += 1
        return frames, f"{path.name} frames {HELD_OUT}-{i - 1} (held out from training)"
    plate = read_image(ROOT / "examples" / "plates" / "car_park" / "plate.png")
    return [plate], "the car-park plate (a still of the reference clip; stand-in)"


def synthetic(clips: int, frames: int, size: tuple[int, int]) -> list:
    from synthdata.pipeline import render_clip
    from synthdata.recipe.loader import load_recipe

    recipe = load_recipe(str(PLATE_RECIPE), [f"output.clips={clips}", f"output.frames_per_clip={frames}",
                                             f"output.resolution=[{size[0]}, {size[1]}]", "seed=9001",
                                             "output.modalities=[rgb, flow, instances]"])
    return [render_clip(recipe, i, device="cpu") for i in range(clips)]


def main() -> None:
    p = benchlib.parser(__doc__.splitlines()[0])
    p.add_argument("--refiner", default=str(REFINER))
    p.add_argument("--real", default=str(REFERENCE), help="the car-park reference clip")
    p.add_argument("--clips", type=int, default=4)
    p.add_argument("--frames", type=int, default=24)
    p.add_argument("--precision", default="auto", choices=("auto", "float32"),
                   help="the recipe's postprocess.precision (auto: bfloat16 where the CPU has it)")
    args = p.parse_args()
    benchlib.set_threads(1)
    benchlib.print_machine()
    import torch

    from synthdata.refine.apply import load_refiner, refine_frames
    from synthdata.refine.losses import flicker
    from synthdata.refine.metrics import actor_contrast, classifier_accuracy, feature_distance
    from synthdata.render.renderer import Renderer

    refiner = load_refiner(args.refiner, "cpu", args.precision)
    n = benchlib.repeats(args, 3)
    # --- cost per 640x480 frame, against rendering it -------------------------------------------
    recipe, where = benchlib.bench_recipe(width=640, height=480, frames=2)
    from synthdata.world.sample import sample_clip
    from synthdata.world.simulate import simulate
    world = simulate(sample_clip(recipe, 0, seed=1, clip_id="bench"))
    renderer = Renderer(world, "cpu")
    renderer.render(0, 1)
    render_s, _, batch = benchlib.best_of(n, lambda: renderer.render(0, 1))
    refine_frames(batch.rgb, refiner)
    refine_s, times, _ = benchlib.best_of(n, lambda: refine_frames(batch.rgb, refiner))
    print(f"cost ({where}, 640x480, 1 thread, refiner in {'bfloat16' if refiner.low is not None else 'float32'}): "
          f"render {render_s * 1e3:.0f} ms/frame, refine {refine_s * 1e3:.0f} "
          f"ms/frame ({refine_s / render_s:.2f} x rendering); refine runs {benchlib.fmt_times(times)}")
    if torch.cuda.is_available():
        gpu_rgb = batch.rgb.cuda()
        gpu = load_refiner(args.refiner, "cuda")

        def on_gpu():
            refine_frames(gpu_rgb, gpu)
            torch.cuda.synchronize()
        on_gpu()
        gpu_s, _, _ = benchlib.best_of(max(n, 5), on_gpu)
        print(f"cost on {torch.cuda.get_device_name()}: refine {gpu_s * 1e3:.1f} ms/frame")
    else:
        print("cost on a GPU: no CUDA device here")
    # --- domain gap and flicker on the plate recipe ---------------------------------------------
    quick = args.quick
    size = (192, 108) if quick else (768, 432)
    clips, frames = (2, 3) if quick else (args.clips, args.frames)
    real, real_name = real_frames(Path(args.real), quick)
    if quick:
        real = [real[0][y:y + 108, x:x + 192] for y in (0, 100, 200, 300) for x in (0, 200, 400, 560)]
    t0 = time.perf_counter()
    rendered = synthetic(clips, frames, size)
    print(f"synthetic: {clips} clips x {frames} frames at {size[0]}x{size[1]} of {PLATE_RECIPE.name} (seed 9001) "
          f"in {time.perf_counter() - t0:.0f} s; real: {len(real)} frames, {real_name}")
    raw = [c.frames for c in rendered]
    ref = [refine_frames(torch.from_numpy(c.frames), refiner).numpy() for c in rendered]
    half_r = len(real) // 2
    steps, crop = (20, 32) if quick else (300, 64)
    rows = {}
    for name, sets in (("renders", raw), ("refined", ref)):
        train = [f for c in sets[: max(1, len(sets) // 2)] for f in c]
        test = [f for c in sets[max(1, len(sets) // 2):] for f in c] or train
        acc = classifier_accuracy(real[:half_r] or real, train, real[half_r:] or real, test, steps=steps, crop=crop)
        fd = feature_distance(real, [f for c in sets for f in c])
        fl = np.mean([flicker(torch.from_numpy(fr).permute(0, 3, 1, 2).float() / 255,
                              torch.from_numpy(c.dense["flow"][:-1]).permute(0, 3, 1, 2)) for fr, c in zip(sets, rendered)])
        ac = sum(actor_contrast(fr, c.dense["instances"]) for fr, c in zip(sets, rendered))
        rows[name] = (acc, fd, fl, ac)
    print(f"{'':10s}{'classifier acc':>16s}{'feature dist':>14s}{'flicker':>10s}{'actor contrast':>16s}")
    for name, (acc, fd, fl, ac) in rows.items():
        print(f"{name:10s}{acc * 100:15.1f}%{fd:14.3f}{fl:10.2f}{ac / rows['renders'][3] * 100:15.1f}%")
    ratio = rows["renders"][1] / max(rows["refined"][1], 1e-9)
    kept = rows["refined"][3] / max(rows["renders"][3], 1e-9)
    if kept < ACTORS_KEPT:
        print(f"the refined actors keep {kept:.0%} of their contrast to their surroundings (under "
              f"{ACTORS_KEPT:.0%}): the refiner fades them into the background; the distance ratio does not count")
        ratio = 0.0
    benchlib.result("refiner", ratio, TARGET, f"acc {rows['renders'][0]:.2f}->{rows['refined'][0]:.2f} "
                    f"flicker {rows['renders'][2]:.2f}->{rows['refined'][2]:.2f} actors kept {kept:.2f}")


if __name__ == "__main__":
    main()
