"""Render the plate examples' contact sheet (docs/plate_examples.png): for each shipped plate
(examples/plates/, derived stills of "Intel IoT devkit sample videos, CC BY 4.0"), the plate,
the fitted ground grid, the sketch over the plate, and a frame of its recipe with labels drawn.

    python docs/make_plate_sheet.py [--out docs/plate_examples.png] [--width 320]

Run from the repository root (the recipes name their plate folders relative to it).
"""
from __future__ import annotations

import argparse

import cv2
import numpy as np

from synthdata.pipeline import generate_clip
from synthdata.recipe import load_recipe
from synthdata.render.preview import draw_labels

EXAMPLES = [("car_park", "sketch.json", 20), ("lobby", "sketch.png", 30)]
CREDIT = "plates: derived stills of Intel IoT devkit sample videos, CC BY 4.0"


def sketch_overlay(plate: np.ndarray, folder: str, sketch: str) -> np.ndarray:
    from synthdata.plate.sketch import read_sketch
    s = read_sketch(f"{folder}/{sketch}", (plate.shape[1], plate.shape[0]))
    out = plate.copy()
    layer = out.copy()
    for q in s.walkable:
        cv2.fillPoly(layer, [q.astype(np.int32)], (0, 200, 0))
    for q in s.no_go:
        cv2.fillPoly(layer, [q.astype(np.int32)], (220, 0, 220))
    for z in s.zones:
        cv2.fillPoly(layer, [np.asarray(z["points"]).astype(np.int32)], (230, 0, 0))
    for o in s.occluders:
        cv2.fillPoly(layer, [np.asarray(o["region"]).astype(np.int32)], (255, 128, 0))
    out = cv2.addWeighted(layer, 0.4, out, 0.6, 0)
    for o in s.occluders:
        cv2.polylines(out, [np.asarray(o["contact"]).astype(np.int32)], False, (255, 255, 255), 3)
    for t in s.tripwires:
        p = np.asarray(t["points"]).astype(np.int32)
        cv2.arrowedLine(out, tuple(p[0]), tuple(p[-1]), (0, 0, 255), 4, tipLength=0.1)
    for ln in s.lanes:
        p = np.asarray(ln["points"]).astype(np.int32)
        cv2.arrowedLine(out, tuple(p[0]), tuple(p[-1]), (255, 255, 255), 2, tipLength=0.05)
    for e in s.entries:
        cv2.circle(out, tuple(int(x) for x in e), 10, (255, 255, 0), -1)
    return out


def frame_of(name: str, frame: int) -> np.ndarray:
    rec = load_recipe(f"recipes/plate_{name}.yaml", [f"output.frames_per_clip={frame + 1}"])
    clip = generate_clip(rec, 0, device="cpu")
    last = None
    for chunk in clip.chunks:
        last = chunk
    rgb = last.frames[-1].cpu().numpy()
    rows = [dict(zip(last.objects, v)) for v in zip(*last.objects.values())]
    return np.asarray(draw_labels(rgb, [r for r in rows if r["frame"] == frame]).convert("RGB"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="docs/plate_examples.png")
    ap.add_argument("--width", type=int, default=320)
    args = ap.parse_args()
    rows = []
    for name, sketch, frame in EXAMPLES:
        folder = f"examples/plates/{name}"
        plate = cv2.imread(f"{folder}/plate.png")[..., ::-1]
        grid = cv2.imread(f"{folder}/grid.png")[..., ::-1]
        tiles = [plate, grid, sketch_overlay(plate, folder, sketch), frame_of(name, frame)]
        w = args.width
        h = round(w * plate.shape[0] / plate.shape[1])
        rows.append(np.concatenate([cv2.resize(t, (w, h), interpolation=cv2.INTER_AREA) for t in tiles], 1))
    sheet = np.concatenate(rows, 0)
    band = np.zeros((18, sheet.shape[1], 3), np.uint8)
    cv2.putText(band, CREDIT, (6, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255), 1, cv2.LINE_AA)
    sheet = np.concatenate([sheet, band], 0)
    cv2.imwrite(args.out, np.ascontiguousarray(sheet[..., ::-1]), [cv2.IMWRITE_PNG_COMPRESSION, 9])
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
