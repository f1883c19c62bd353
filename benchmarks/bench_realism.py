"""Realism as a detector trained on real photos sees it: OpenCV's HOG people detector on the
shipped recipes, AP50 per recipe.

    python benchmarks/bench_realism.py [--frames 100] [--recipe recipes/street_plaza.yaml ...]
    python benchmarks/bench_realism.py --quick          # a smoke test: street_plaza, 6 frames
    python benchmarks/bench_realism.py --cost-against /work/main   # + render cost vs another checkout
    python benchmarks/bench_realism.py --steady         # + AP50 averaged over upscales x0.9, x1, x1.1 (AP50~)

Protocol (issue 18): `cv2.HOGDescriptor_getDefaultPeopleDetector()` with `detectMultiScale`
(winStride 8, padding 8, scale 1.05, hitThreshold -0.5 so the whole precision/recall curve is
seen); each detection's box is shrunk as OpenCV's peopledetect sample draws it (15 % off each side,
5 % off top and bottom). Targets are persons with visibility >= 0.5 and a visible box >= 48 px
tall; other persons are "ignore" regions (a detection no target takes and lying in one by at
least half of its own area counts neither way, as the Caltech benchmark matches them). Frames
are upscaled so the median target is about 128 px tall. AP50 = area under the interpolated
precision/recall curve at IoU 0.5 (VOC all-point), pooled over a recipe's frames.

Frames come from `--clips` clips (default 20) of frames/clips frames each (the first frames of
each clip; many short clips give more varied scenes than a few long ones); the recipe is
otherwise unchanged (its frame rate, shutter and every effect included). Each recipe gets an
AP50 over all its frames and one over its daylight frames (clips lit as day or indoor), which is
what the target of 0.75 is stated for.

Diagnostics (not the target): "upright" is the daylight AP50 with targets restricted to people
whose shoulders-to-ankles line is within UPRIGHT_DEG of the image vertical (the rest ignored):
HOG was trained on upright pedestrians, and an elevated wide-angle camera shows people off the
image centre leaning by perspective (vertical lines converge towards the nadir), a real effect
that costs HOG as much on real footage; `upright%` is the share of targets that are upright.
"front" is the daylight AP50 with the people the camera sees side-on ignored (facing more than 45
degrees from both towards and away from it; `side%` their share): HOG scores our side-on people
lowest (benchmarks/README.md), so the two columns show how much of the gap they hold.
`found%` is the share of targets a positive-score detection overlaps at IoU >= 0.5, `near%` at
0.3-0.5 (the detector fired on the person at the wrong scale or offset: a miss for AP50), and
`det h` the median height of those detections over the target's visible height. `reach%` is
the share of targets at least 96 px tall after upscaling: HOG's window is 128 px with a person of
about 96 px in it, and its smallest box (shrunk as above) is 115 px tall, so a target much
shorter than 96 px cannot reach IoU 0.5 however person-like it looks (a recipe with a wide spread
of sizes, e.g. a deep indoor scene, has many). `AP41` is the AP50 with every box (targets,
ignored and detections) given width 0.41 x its height about its centre, as the Caltech
pedestrian benchmark standardises boxes (Dollar et al., PAMI 2012): synthdata's visible boxes are
pixel-tight, so a slim side-on person (width 0.28 x height) meets HOG's fixed-aspect box at IoU
about 0.5 even when the detector fires at the right place and scale.
`--clip-frames N` renders each clip N frames long and takes its frames evenly across it, instead
of rendering clips as short as the frames taken (the issue's protocol: each clip's first frames,
5 of them by default, half a second): where people come in from out of view, the first half
second holds them at the frame's edge. `inAP50` is the AP50 with targets cut by the frame's edge (box within 2 px of it) ignored, as
the real reference below must do (it cannot tell how much of a person is out of frame), and
`in%` the share of targets left: the like-for-like number beside the real row.

A real reference in the same run: the same protocol on real people, in every 5th frame of the
shipped real indoor clip (`../shared/data/reference/one-by-one-person-detection.mp4`, Intel IoT
devkit sample videos, CC BY 4.0; the camera of `plate_lobby`). That clip has no labels: a person's
box is the largest blob where a frame differs from the clip's clean plate
(examples/plates/lobby/plate.png, made by `synthdata plate init`), a blob touching the frame's
edge is an ignored region, and a frame without a blob has no targets. Without the clip the row is
skipped. `--no-real` leaves it out.

`--matched` asks how the detector sees our people where geometry cannot explain the difference:
its SVM score on a window fitted to each person (where and at the scale its search would look
best) for the real clip's people and for `plate_lobby`'s people (our people in that camera, on its
plate) who stand as the real ones do, upright (within 6 degrees), nearly whole (visibility >= 0.9),
inside the frame and at least as tall as the shortest tenth of the real people. What is left
between the two is how our people look.

`--border F` grows every frame (recipes and the real clip alike) by F of its height above and
below before detecting, edge pixels repeated. A window is 4/3 of its person's height, so without
it a person taller than about 3/4 of the frame (close people: the real clip's are 87 % of it), or
near the frame's top or bottom, has no window that holds them. The default 0 is the issue's protocol.

The RESULT ratio is the lowest daylight AP50 over the recipes measured, target 0.75. With
--cost-against DIR the script also times rendering one scene with this checkout and with the
package at DIR (alternating subprocesses, best of N each) and prints the cost ratio.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib  # noqa: E402
from hog_people import (MEDIAN_H, MIN_H, MIN_VIS, REAL_CLIP, REAL_PLATE, average_precision, box_summary,  # noqa: E402
                        crop, detect, matched_windows, real_frames, recipe_frames, window_of, window_scores)

ROOT = benchlib.ROOT
TARGET = 0.75
UPRIGHT_DEG = 8.0
STEADY_FACTORS = (0.9, 1.1)                 # --steady: the neighbouring upscales, beside x1
MATCH_CLIPS = {False: (160, 100, 10), True: (4, 20, 5)}   # --matched: clips, frames, every n-th frame


def hog_detector():
    import cv2

    if not hasattr(cv2, "HOGDescriptor_getDefaultPeopleDetector"):
        benchlib.skip("realism", TARGET, f"OpenCV {cv2.__version__} has no HOG people detector (needs 4.x)")
    hog = cv2.HOGDescriptor()
    hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
    return hog


def evaluate_real(path: Path, plate: Path, hog, limit: int | None = None, border: float = 0.0) -> dict:
    """The protocol on real people (`real_frames`): AP50, AP41, found, near and det h."""
    t0 = time.perf_counter()
    data = real_frames(path, plate, limit)
    heights = np.concatenate([d[1][:, 3] for d in data])
    scale = float(np.clip(MEDIAN_H / np.median(heights), 1.0, 4.0)) if len(heights) else 1.0
    scored = [(*detect(hog, img, scale, border), tgt, ign) for img, tgt, ign in data]
    ap, n_t, n_d = average_precision(scored)
    return {"recipe": f"real: {path.stem}", "ap50": ap, "targets": n_t, "detections": n_d, "frames": len(data),
            **box_summary(scored, heights, scale), "scale": scale, "seconds": time.perf_counter() - t0}


def matched(real: Path, quick: bool) -> str:
    """The `--matched` line: window scores of the real clip's people and of plate_lobby's people
    standing as they do (see the module docstring), also as one score a person (their median)."""
    import cv2

    weights = cv2.HOGDescriptor_getDefaultPeopleDetector().reshape(-1)
    data = real_frames(real, REAL_PLATE, 12 if quick else None, step=10)
    boxes = [(img, b) for img, tgt, _ in data for b in tgt]
    theirs = window_scores(weights, [crop(img, window_of(b)) for img, b in boxes])
    low = float(np.percentile([b[3] for _, b in boxes], 10)) if boxes else 0.0
    wins, who = matched_windows(ROOT / "recipes" / "plate_lobby.yaml", *MATCH_CLIPS[quick], low)
    ours = window_scores(weights, wins)
    by_person: dict = {}
    for score, person in zip(ours, who):
        by_person.setdefault(person, []).append(score)
    people = np.array([np.median(s) for s in by_person.values()])

    def summary(s: np.ndarray, unit: str) -> str:
        return f"median {np.median(s):.2f}, {100 * np.mean(s > 0):.0f} % above 0 of {len(s)} {unit}" if len(s) else \
            f"no {unit}"
    return (f"matched geometry, HOG score on a window fitted to each person: real people {summary(theirs, 'windows')}; "
            f"plate_lobby's, upright, whole, >= {low:.0f} px {summary(ours, 'windows')}, "
            f"{summary(people, 'people')}")


def evaluate(path: Path, frames: int, clips: int, hog, border: float = 0.0, steady: bool = False,
             clip_frames: int | None = None) -> dict:
    t0 = time.perf_counter()
    data = recipe_frames(path, frames, clips, clip_frames)
    t1 = time.perf_counter()
    heights = np.concatenate([d[1][:, 3] for d in data]) if data else np.zeros(0)
    scale = float(np.clip(MEDIAN_H / np.median(heights), 1.0, 4.0)) if len(heights) else 1.0
    scored, day, upright, inside, front = [], [], [], [], []
    for img, tgt, ign, daylight, lean, side in data:
        det, score = detect(hog, img, scale, border)
        scored.append((det, score, tgt, ign))
        day.append(daylight)
        up = lean < UPRIGHT_DEG                 # the others become ignore regions
        upright.append((det, score, tgt[up], np.concatenate([ign, tgt[~up]])))
        front.append((det, score, tgt[~side], np.concatenate([ign, tgt[side]])))   # side-on people ignored
        cut = cut_by_edge(tgt, img.shape[1], img.shape[0])    # as the real clip's protocol ignores them
        inside.append((det, score, tgt[~cut], np.concatenate([ign, tgt[cut]])))
    ap, n_t, n_d = average_precision(scored)
    steady_ap = float("nan")
    if steady:                                  # the same frames at the neighbouring upscales too
        aps = [ap] + [average_precision([(*detect(hog, img, scale * f, border), tgt, ign)
                                         for img, tgt, ign, *_ in data])[0] for f in STEADY_FACTORS]
        steady_ap = float(np.mean(aps))
    ap_day, n_day, _ = average_precision([s for s, d in zip(scored, day) if d])
    ap_up, n_up, _ = average_precision([s for s, d in zip(upright, day) if d])
    ap_front, n_front, _ = average_precision([s for s, d in zip(front, day) if d])
    ap_in, n_in, _ = average_precision(inside)
    return {"recipe": path.stem, "ap50": ap, "targets": n_t, "detections": n_d, "frames": len(data),
            **box_summary(scored, heights, scale),
            "ap50_day": ap_day, "day_targets": n_day, "day_frames": int(sum(day)),
            "ap50_upright": ap_up, "upright_share": n_up / n_day if n_day else float("nan"),
            "ap50_front": ap_front, "side_share": 1 - n_front / n_day if n_day else float("nan"),
            "ap50_inside": ap_in, "inside_share": n_in / n_t if n_t else float("nan"),
            "scale": scale, "ap50_steady": steady_ap, "render_s": t1 - t0, "detect_s": time.perf_counter() - t1}


COST_SNIPPET = """
import sys, time, torch
torch.set_num_threads(1)
from synthdata.pipeline import render_clip
best = 1e9
for _ in range({repeat}):
    t0 = time.perf_counter()
    render_clip({recipe!r}, 0, device="cpu", overrides=["output.clips=1", "output.frames_per_clip={frames}",
                "output.masks=false"])
    best = min(best, time.perf_counter() - t0)
print("BEST", best / {frames})
"""


def cut_by_edge(boxes: np.ndarray, W: int, H: int) -> np.ndarray:
    """Which person boxes x y w h touch the frame's edge (within 2 px): the real clip's protocol
    (`real_frames`) makes such people ignored regions, as it cannot tell how much of them is out."""
    x, y, w, h = boxes.T
    return (x <= 2) | (y <= 2) | (x + w >= W - 2) | (y + h >= H - 2)


def render_cost(root: str, recipe: str, frames: int, repeat: int) -> float:
    """Seconds per frame (sample + simulate + render + label) with the package at `root`."""
    return benchlib.in_checkout(root, COST_SNIPPET.format(repeat=repeat, recipe=recipe, frames=frames), "BEST")


def main() -> None:
    p = benchlib.parser(__doc__.splitlines()[0])
    p.add_argument("--frames", type=int, default=None, help="frames per recipe (default 100, quick 6)")
    p.add_argument("--clips", type=int, default=None, help="clips per recipe (default 20, quick 2)")
    p.add_argument("--recipe", action="append", default=None, help="a recipe path (repeatable); default: all shipped")
    p.add_argument("--cost-against", default=None, help="another checkout's root: compare render cost per frame")
    p.add_argument("--real", default=str(REAL_CLIP), help="the real indoor reference clip (one person at a time)")
    p.add_argument("--no-real", action="store_true", help="leave out the real reference row")
    p.add_argument("--border", type=float, default=0.0,
                   help="grow every frame by this share of its height above and below before detecting "
                        "(0, the default, is the issue's protocol; 0.2 lets close people be seen whole)")
    p.add_argument("--clip-frames", type=int, default=None,
                   help="render clips this long and take each clip's frames evenly across it (default: its first frames)")
    p.add_argument("--matched", action="store_true",
                   help="also the detector's score on our people in the real clip's camera standing as its "
                        "people do, against the real people's (about 4 minutes)")
    p.add_argument("--steady", action="store_true",
                   help="also AP50 averaged over the upscales x0.9, x1 and x1.1 (column AP50~): steadier "
                        "when comparing two versions, at three times the HOG time")
    args = p.parse_args()
    frames = args.frames or (6 if args.quick else 100)
    clips = args.clips or (2 if args.quick else 20)
    if args.recipe:
        paths = [Path(r) for r in args.recipe]
    else:
        paths = sorted((ROOT / "recipes").glob("*.yaml"))
        if args.quick:
            paths = [q for q in paths if q.stem == "street_plaza"]
    hog = hog_detector()
    benchlib.set_threads(max(1, os.cpu_count() or 1))
    benchlib.print_machine()
    print(f"HOG people detector, AP50; targets: person, visibility >= {MIN_VIS}, visible height >= {MIN_H} px; "
          f"{frames} frames per recipe from {clips} clips"
          + (f"; clips {args.clip_frames} frames long, frames taken evenly across each" if args.clip_frames else "")
          + (f"; frames grown by {args.border:g} of their height above and below" if args.border else ""))
    print(f"{'recipe':28s} {'AP50':>6s} {'targets':>7s} {'dets':>6s} {'frames':>6s} {'dayAP50':>7s} {'daytgt':>6s} "
          f"{'dayfr':>5s} {'upright':>7s} {'upright%':>8s} {'front':>6s} {'side%':>5s} {'found%':>6s} {'near%':>5s} {'det h':>5s} {'AP41':>5s} "
          f"{'reach%':>6s} {'scale':>5s} {'inAP50':>6s} {'in%':>4s} " + (f"{'AP50~':>6s} " if args.steady else "")
          + f"{'render s':>8s} {'hog s':>6s}")
    rows = []
    for path in paths:
        r = evaluate(path, frames, clips, hog, args.border, args.steady, args.clip_frames)
        rows.append(r)
        print(f"{r['recipe']:28s} {r['ap50']:6.3f} {r['targets']:7d} {r['detections']:6d} {r['frames']:6d} "
              f"{r['ap50_day']:7.3f} {r['day_targets']:6d} {r['day_frames']:5d} {r['ap50_upright']:7.3f} "
              f"{100 * r['upright_share']:7.0f}% {r['ap50_front']:6.3f} {100 * r['side_share']:4.0f}% "
              f"{100 * r['found']:5.0f}% {100 * r['near']:4.0f}% {r['h_ratio']:5.2f} "
              f"{r['ap41']:5.3f} {100 * r['reach']:5.0f}% "
              f"{r['scale']:5.2f} {r['ap50_inside']:6.3f} {100 * r['inside_share']:3.0f}% "
              + (f"{r['ap50_steady']:6.3f} " if args.steady else "")
              + f"{r['render_s']:8.1f} "
              f"{r['detect_s']:6.1f}", flush=True)
    if not args.no_real:
        if Path(args.real).is_file() and REAL_PLATE.is_file():
            r = evaluate_real(Path(args.real), REAL_PLATE, hog, 24 if args.quick else None, args.border)
            print(f"{r['recipe']:28s} {r['ap50']:6.3f} {r['targets']:7d} {r['detections']:6d} {r['frames']:6d} "
                  f"{'':7s} {'':6s} {'':5s} {'':7s} {'':8s} {'':6s} {'':5s} {100 * r['found']:5.0f}% {100 * r['near']:4.0f}% "
                  f"{r['h_ratio']:5.2f} {r['ap41']:5.3f} {100 * r['reach']:5.0f}% {r['scale']:5.2f} {r['ap50']:6.3f} "
                  f"{'':4s} {'':8s} "
                  f"{r['seconds']:6.1f}  (real people, boxes from the clean plate; the camera of plate_lobby)")
            if args.matched:
                print(matched(Path(args.real), args.quick), flush=True)
        else:
            print(f"real reference: skipped ({args.real} or {REAL_PLATE} not found)")
    if args.cost_against:
        recipe = str(ROOT / "recipes" / "parking_lot_day.yaml")
        n = benchlib.repeats(args, 3)
        nf = 4 if args.quick else 12
        mine, theirs = [], []
        for _ in range(n):                  # alternate so load changes hit both alike
            theirs.append(render_cost(args.cost_against, recipe, nf, 1))
            mine.append(render_cost(str(ROOT), recipe, nf, 1))
        print(f"render cost per frame (parking_lot_day clip 0, {nf} frames, 1 thread): this checkout "
              f"{min(mine):.3f} s, {args.cost_against} {min(theirs):.3f} s, ratio {min(mine) / min(theirs):.2f} "
              f"(target <= 1.3)")
    day = [r["ap50_day"] for r in rows if np.isfinite(r["ap50_day"])]
    worst = min(day) if day else float("nan")
    if not day:
        benchlib.skip("realism", TARGET, "no daytime recipe with targets measured")
    print(f"daytime recipes: mean AP50 {np.mean(day):.3f}, lowest {worst:.3f}")
    benchlib.result("realism", worst, TARGET, "(lowest daytime AP50)")


if __name__ == "__main__":
    main()
