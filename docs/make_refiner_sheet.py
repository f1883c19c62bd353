"""Before/after pictures of the shipped car-park refiner for the README (docs/refiner_car_park.png).

Renders frames of recipes/plate_car_park.yaml, refines them with examples/refiners/car_park.pt
(as `postprocess.refiner` does in a run), and lays out per row: the render, the refined frame,
their difference (x4), and a zoom on the part with the most edges, an actor (render | refined). The last row is a real
frame of the camera for comparison: the plate (examples/plates/car_park/plate.png) or, with
--real, a frame of a clip of it. Footage: Intel IoT devkit sample videos, CC BY 4.0.

    python docs/make_refiner_sheet.py [--real ../shared/data/reference/car-detection.mp4]
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "docs" / "refiner_car_park.png"))
    ap.add_argument("--refiner", default=str(ROOT / "examples" / "refiners" / "car_park.pt"))
    ap.add_argument("--real", default=None, help="a video of the camera: its frame 300 is shown as 'real'")
    ap.add_argument("--clips", type=int, default=2)
    args = ap.parse_args()
    import torch

    torch.set_num_threads(1)
    from synthdata.pipeline import render_clip
    from synthdata.plate.footage import read_image
    from synthdata.recipe.loader import load_recipe
    from synthdata.refine.apply import load_refiner, refine_frames

    refiner = load_refiner(args.refiner)
    recipe = load_recipe(str(ROOT / "recipes" / "plate_car_park.yaml"), ["output.frames_per_clip=12", "seed=77"])
    tile_w = 384
    rows: list[list[tuple[np.ndarray, str]]] = []
    for i in range(args.clips):
        clip = render_clip(recipe, i, device="cpu")
        t = len(clip.frames) - 1
        a = clip.frames[t]
        b = refine_frames(torch.from_numpy(a)[None], refiner)[0].numpy()
        d = np.clip(np.abs(a.astype(int) - b.astype(int)) * 4, 0, 255).astype(np.uint8)
        lum = a.astype(int).sum(-1)[48:]        # below the burned-in overlay
        y, x = _busiest(np.abs(np.diff(lum, axis=0))[:, :-1] + np.abs(np.diff(lum, axis=1))[:-1], 96)  # an actor
        y += 48
        za, zb = (np.kron(im[y:y + 96, x:x + 96], np.ones((2, 2, 1), np.uint8)) for im in (a, b))
        rows.append([(a, f"render {clip.clip_id} frame {t}"), (b, "refined"), (d, "|difference| x4"),
                     (np.concatenate([za, zb], 1), "zoom: render | refined")])
    real = _real_frame(args.real) if args.real else read_image(ROOT / "examples" / "plates" / "car_park" / "plate.png")
    rows.append([(real, "real camera (Intel IoT devkit sample videos, CC BY 4.0)")])
    _sheet(rows, tile_w).save(args.out)
    print(f"wrote {args.out}")


def _busiest(diff: np.ndarray, s: int) -> tuple[int, int]:
    h, w = diff.shape
    best, at = -1.0, (0, 0)
    for y in range(0, h - s + 1, s // 2):
        for x in range(0, w - s + 1, s // 2):
            v = float(diff[y:y + s, x:x + s].sum())
            if v > best:
                best, at = v, (y, x)
    return at


def _real_frame(path: str) -> np.ndarray:
    import cv2

    cap = cv2.VideoCapture(path)
    cap.set(cv2.CAP_PROP_POS_FRAMES, 300)
    ok, f = cap.read()
    if not ok:
        raise SystemExit(f"{path}: cannot read frame 300")
    return np.ascontiguousarray(f[..., ::-1])


def _sheet(rows: list[list[tuple[np.ndarray, str]]], tile_w: int) -> Image.Image:
    tiles = []
    for row in rows:
        out = []
        for img, label in row:
            im = Image.fromarray(img)
            scale = tile_w / im.width if im.width > tile_w else 1.0
            im = im.resize((int(im.width * scale), int(im.height * scale)))
            ImageDraw.Draw(im).text((4, 4), label, fill=(255, 255, 0))
            out.append(im)
        tiles.append(out)
    h = max(im.height for r in tiles for im in r)
    w = max(sum(im.width for im in r) + 4 * (len(r) - 1) for r in tiles)
    sheet = Image.new("RGB", (w, len(tiles) * (h + 4) - 4), (16, 16, 16))
    for r, row in enumerate(tiles):
        x = 0
        for im in row:
            sheet.paste(im, (x, r * (h + 4)))
            x += im.width + 4
    return sheet


if __name__ == "__main__":
    main()
