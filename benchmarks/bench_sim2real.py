"""Sim-to-real detection: a person detector trained only on synthdata frames, tested on real people.

    python benchmarks/bench_sim2real.py                  # three training sets (about 12 minutes on 2 cores)
    python benchmarks/bench_sim2real.py --train recipes/people_randomized.yaml --frames 400
    python benchmarks/bench_sim2real.py --train recipes/plate_lobby_detector.yaml --draws 3   # steadier: 3 draws
    python benchmarks/bench_sim2real.py --quick          # a smoke test: a few frames

The detector is Dalal and Triggs' (CVPR 2005): OpenCV's HOG features of a 64x128 window with a
person 96 px tall in it, and a linear SVM. It is trained from scratch here on synthdata output
alone, per training set (by default people_general_mix, then the same with people_randomized,
the domain-randomised recipe, taking half of the frames, then plate_lobby_detector: our people on
the real camera's own clean plate in half of its clips, domain randomisation in the other half,
what a user training a detector for their own camera would make):
- positives: every person at least 48 px tall, at least half visible and whole in the frame (at
  most MAX_TRUNCATION of the amodal box outside it, the objects table's `truncation`), its window
  centred on its visible box, and the mirror image. A person cut by the frame's edge is ignored
  (neither positive nor negative), as the real test ignores the people the edge cuts: taken as a
  positive, a window on the part in view is a torso or a pair of legs scaled up as a whole person,
  and the detector learns to fire on parts of large people (it did: 0.053 -> 0.086 AP50);
- negatives: random windows that overlap no person, windows on each person at the wrong scale or
  place (1.5x, 0.6x, shifted), then two rounds of hard negatives (the model's detections on the
  training frames that overlap no person's window at IoU 0.5);
- the SVM (squared hinge loss, L2, both classes weighted equally) is fitted by L-BFGS in torch.

It is tested on real people: every 10th frame of the shipped real indoor clip
(`../shared/data/reference/one-by-one-person-detection.mp4`, Intel IoT devkit sample videos,
CC BY 4.0; the camera of `plate_lobby`), boxed against its clean plate as bench_realism.py does.
The reference is OpenCV's own people detector (`HOGDescriptor_getDefaultPeopleDetector`): the same
features and model, trained on the INRIA person photos. Both detectors run on the same frames,
grown by BORDER of their height above and below (the clip's people are 87 % of the frame tall and
a window is 4/3 of its person), with `detectMultiScale` alike (stride 8, padding 8, scale 1.05,
every window scoring above -0.5). Both windows become a box the same way: the middle 75 % of the
window's height (where a training person stands), 0.41 x that height wide; targets are
standardised to width 0.41 x height too (Caltech pedestrian benchmark, Dollar et al., PAMI 2012).
AP50 as bench_realism.py computes it (a detection lying by half its area in an ignored person's box,
such as one the frame's edge cuts, counts neither way, as that benchmark's evaluation has it).

RESULT sim2real ratio = AP50 of the best synthdata-trained detector / AP50 of the detector trained
on real photos, target 1.0 (synthdata trains as good a detector for this camera as real photos).
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib  # noqa: E402
import hog_people as hp  # noqa: E402
from hog_people import PERSON, WIN_H, crop, features, window_of  # noqa: E402

TARGET = 1.0
ROOT = benchlib.ROOT
TRAINING_SETS = [("people_general_mix",), ("people_general_mix", "people_randomized"), ("plate_lobby_detector",)]
REAL_STEP = 10                              # every 10th frame of the real clip
NEG_PER_FRAME = 12
HARD_MAX = 8000
C_REG = 1e-3                                # L2 weight of the SVM (per sample loss is mean)
MINING_ROUNDS = 2
BORDER = 0.2                                # frames grown by this share of their height above and below
MAX_TRUNCATION = 0.02                       # positives: at most this share of the amodal box outside the frame


def person_boxes(det: np.ndarray) -> np.ndarray:
    """detectMultiScale windows (x, y, w, h) -> person boxes: the window's middle PERSON of
    height, 0.41 x that wide, same centre."""
    if not len(det):
        return np.zeros((0, 4))
    d = np.asarray(det, float)
    cx, cy, h = d[:, 0] + d[:, 2] / 2, d[:, 1] + d[:, 3] / 2, d[:, 3] * PERSON
    return np.stack([cx - 0.205 * h, cy - h / 2, 0.41 * h, h], 1)


def detect_windows(hog, img: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """detectMultiScale windows (x, y, w, h in img's pixels) and scores on the frame grown by BORDER
    (hog_people.grown_detections: edge pixels repeated, as training crops are), so that a person
    too tall for a window inside the frame can still be seen whole."""
    return hp.grown_detections(hog, img[..., ::-1], BORDER)


def random_negatives(img: np.ndarray, avoid: np.ndarray, n: int, rng: np.random.Generator) -> list[np.ndarray]:
    """n windows of random size and place whose IoU with every window in `avoid` is under 0.2."""
    H, W = img.shape[:2]
    out, tries = [], 0
    while len(out) < n and tries < 20 * n:
        tries += 1
        h = rng.uniform(WIN_H * 0.75, H)
        w = h / 2
        if w >= W:
            continue
        win = np.array([[rng.uniform(0, W - w), rng.uniform(0, H - h), w, h]])
        if len(avoid) and hp.iou(win, avoid).max() >= 0.2:
            continue
        out.append(crop(img, tuple(win[0])))
    return out


def train_svm(X: np.ndarray, y: np.ndarray, reg: float = C_REG) -> np.ndarray:
    """Linear SVM (squared hinge, L2, classes weighted equally) by L-BFGS -> (3781,) w and bias,
    the layout HOGDescriptor.setSVMDetector takes."""
    import torch

    Xt, yt = torch.from_numpy(X).double(), torch.from_numpy(y).double()
    wt = torch.where(yt > 0, 0.5 / (yt > 0).sum(), 0.5 / (yt < 0).sum())
    w = torch.zeros(X.shape[1] + 1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([w], lr=1, max_iter=400, history_size=20, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        margin = 1 - yt * (Xt @ w[:-1] + w[-1])
        loss = (wt * margin.clamp_min(0) ** 2).sum() + reg * (w[:-1] ** 2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return w.detach().numpy().astype(np.float32)


def off_windows(box: np.ndarray) -> list[tuple[float, float, float, float]]:
    """Windows on a person at the wrong scale or place (negatives that teach where the window
    belongs): 1.5x and 0.6x as large, half a window to either side, 0.3 of one up or down."""
    x0, y0, w, h = window_of(box)
    out = []
    for f, dx, dy in ((1.5, 0, 0), (0.6, 0, 0), (1, 0.5, 0), (1, -0.5, 0), (1, 0, 0.3), (1, 0, -0.3)):
        out.append((x0 + w / 2 - w * f / 2 + dx * w, y0 + h / 2 - h * f / 2 + dy * h, w * f, h * f))
    return out


def train_detector(frames: list, rng: np.random.Generator, log, rounds: int = MINING_ROUNDS) -> np.ndarray:
    """The SVM detector trained on synthetic frames [(rgb, targets, ignored), ...]."""
    import cv2

    hog = cv2.HOGDescriptor()
    pos, neg = [], []
    for img, tgt, ign in frames:
        for b in tgt:
            c = crop(img, window_of(b))
            pos += [c, c[:, ::-1]]
            neg += [crop(img, win) for win in off_windows(b)]
        people = np.array([window_of(b) for b in np.concatenate([tgt, ign])]).reshape(-1, 4)
        neg += random_negatives(img, people, NEG_PER_FRAME, rng)
    Xp, Xn = features(hog, pos), features(hog, neg)
    log(f"  positives {len(Xp)} (with mirror images), negatives {len(Xn)} (random, and off-place windows on people)")
    t0 = time.perf_counter()
    w = train_svm(np.concatenate([Xp, Xn]), np.concatenate([np.ones(len(Xp)), -np.ones(len(Xn))]))
    log(f"  SVM fitted in {time.perf_counter() - t0:.1f} s")
    for r in range(rounds):                      # hard negatives: the model's false positives
        hog.setSVMDetector(w)
        hard = []
        for img, tgt, ign in frames:
            det, score = detect_windows(hog, img)
            if not len(det):
                continue
            people = np.array([window_of(b) for b in np.concatenate([tgt, ign])]).reshape(-1, 4)
            clear = hp.iou(det, people).max(1) < 0.5 if len(people) else np.ones(len(det), bool)
            hard += [crop(img, tuple(d)) for d in det[clear]]
            if len(hard) >= HARD_MAX:
                break
        Xn = np.concatenate([Xn, features(hog, hard)])
        t0 = time.perf_counter()
        w = train_svm(np.concatenate([Xp, Xn]), np.concatenate([np.ones(len(Xp)), -np.ones(len(Xn))]))
        log(f"  round {r + 1}: {len(hard)} hard negatives, SVM fitted in {time.perf_counter() - t0:.1f} s")
    return w


def real_ap(weights: np.ndarray, data: list) -> tuple[float, float, float]:
    """(AP50, found, near) of a detector (3781,) on real frames [(rgb, targets, ignored)], boxes
    as described in the module docstring."""
    import cv2

    hog = cv2.HOGDescriptor()
    hog.setSVMDetector(np.asarray(weights, np.float32))
    scored = []
    for img, tgt, ign in data:
        det, score = detect_windows(hog, img)
        scored.append((person_boxes(det), score, hp.caltech_boxes(tgt), hp.caltech_boxes(ign)))
    found, near, _ = hp.localisation(scored)
    return hp.average_precision(scored)[0], found, near


def main() -> None:
    p = benchlib.parser(__doc__.splitlines()[0])
    p.add_argument("--frames", type=int, default=None, help="synthetic training frames a set (default 400, quick 12)")
    p.add_argument("--clips", type=int, default=None, help="clips they come from (default 80, quick 3)")
    p.add_argument("--train", action="append", default=None,
                   help="a training set: recipe paths joined by commas, frames split evenly (repeatable); default: "
                   + "; ".join(",".join(t) for t in TRAINING_SETS))
    p.add_argument("--draws", type=int, default=1,
                   help="train each set this many times on different clips (draw d: clips d x clips ...) and "
                        "report the mean AP50 and its range: one draw's AP50 moves by about 2x between draws")
    p.add_argument("--real", default=str(hp.REAL_CLIP), help="the real indoor reference clip")
    args = p.parse_args()
    frames = args.frames or (12 if args.quick else 400)
    clips = args.clips or (3 if args.quick else 80)
    sets = [[Path(q) for q in t.split(",")] for t in args.train] if args.train else \
        [[ROOT / "recipes" / f"{r}.yaml" for r in t] for t in TRAINING_SETS[:1 if args.quick else None]]
    benchlib.set_threads(max(1, os.cpu_count() or 1))
    import cv2

    if not hasattr(cv2, "HOGDescriptor_getDefaultPeopleDetector"):
        benchlib.skip("sim2real", TARGET, f"OpenCV {cv2.__version__} has no HOG people detector (needs 4.x)")
    if not (Path(args.real).is_file() and hp.REAL_PLATE.is_file()):
        benchlib.skip("sim2real", TARGET, f"the real clip ({args.real}) or its plate is not here")
    benchlib.print_machine()
    real = hp.real_frames(Path(args.real), hp.REAL_PLATE, step=REAL_STEP)
    if args.quick:
        real = [r for r in real if len(r[1])][:6]
    print(f"real frames: {len(real)} with {sum(len(t) for _, t, _ in real)} people ({Path(args.real).name}, "
          f"every {REAL_STEP}th frame)", flush=True)
    rows = []
    for paths in sets:
        name = " + ".join(q.stem for q in paths)
        runs = []
        for draw in range(max(1, args.draws)):
            rng = np.random.default_rng(20261130)
            t0 = time.perf_counter()
            synth = []
            for path in paths:
                per, n = frames // len(paths), max(1, clips // len(paths))
                got = hp.recipe_frames(path, per, n, max_truncation=MAX_TRUNCATION, first_clip=draw * n)
                synth += [(img, tgt, ign) for img, tgt, ign, *_ in got]
            print(f"training on {name}" + (f" (draw {draw + 1})" if args.draws > 1 else "") + f": {len(synth)} "
                  f"frames, {sum(len(t) for _, t, _ in synth)} people ({time.perf_counter() - t0:.0f} s to render)",
                  flush=True)
            t0 = time.perf_counter()
            weights = train_detector(synth, rng, lambda s: print(s, flush=True))
            runs.append(real_ap(weights, real))
            print(f"  trained in {time.perf_counter() - t0:.0f} s; AP50 {runs[-1][0]:.3f}", flush=True)
        rows.append((f"synthdata: {name}", tuple(np.mean(runs, 0)), [r[0] for r in runs]))
    inria = real_ap(cv2.HOGDescriptor_getDefaultPeopleDetector().reshape(-1), real)
    rows.append(("real photos (INRIA, OpenCV's)", inria, [inria[0]]))
    print(f"{'detector trained on':44s} {'AP50':>6s} {'found%':>6s} {'near%':>5s}"
          + ("  (the mean of the draws; each draw's AP50)" if args.draws > 1 else ""))
    for name, (ap, found, near), each in rows:
        print(f"{name:44s} {ap:6.3f} {100 * found:5.0f}% {100 * near:4.0f}%"
              + (f"  {' '.join(f'{a:.3f}' for a in each)}" if len(each) > 1 else ""))
    inria = rows[-1][1][0]
    best = max(r[1][0] for r in rows[:-1])     # (with --draws: the best mean)
    if not inria > 0:
        benchlib.skip("sim2real", TARGET, "the reference detector found nothing to compare with")
    benchlib.result("sim2real", best / inria, TARGET,
                    "(AP50 on real people: best detector trained on synthdata / the one trained on real photos)")


if __name__ == "__main__":
    main()
