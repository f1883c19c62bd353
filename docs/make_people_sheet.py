"""Render the people contact sheet (docs/people_variety.png): close-range crops of sampled people
showing the variety of bodies, clothing, hair, fabrics and actions.

    python docs/make_people_sheet.py [--out docs/people_variety.png] [--count 48]

Each tile is one person's visible box (from the objects table) in a street-level clip of the
recipe below, cropped with a small margin and scaled to the tile height; tiles are sorted by
track so reruns give the same sheet.
"""
from __future__ import annotations

import argparse

import numpy as np
from PIL import Image, ImageDraw

from synthdata.pipeline import render_clip
from synthdata.recipe.loader import load_recipe

RECIPE = """
name: people_sheet
seed: 18
output: {clips: 40, frames_per_clip: 1, fps: 10, resolution: [800, 600], masks: false}
scene:
  layout: {type: street, size_m: [26, 22], trees: 0, light_poles: 0}
  camera: {height_m: {uniform: [1.8, 2.6]}, tilt_deg: {uniform: [4, 10]}, hfov_deg: 48, distance_m: 0,
           lateral: {uniform: [-0.3, 0.3]}}
  lighting: {time_of_day: day, sun_elevation_deg: {uniform: [35, 60]}, cloud_cover: {uniform: [0.2, 0.7]}}
  sensor: {shutter: 0.0, overlay: {enabled: false}, vignetting: 0.0}
actors:
  - {type: person, count: 10, behavior: {choice: {walk: 0.5, stand: 0.5}}, enters: false, leaves: false,
     carries_bag: {bernoulli: 0.25}}
"""
TILE_W, TILE_H = 96, 192


def crops(count: int) -> list[tuple[Image.Image, str]]:
    recipe = load_recipe(RECIPE, [], source="<people sheet>")
    out = []
    for i in range(recipe.output.clips):
        clip = render_clip(recipe, i, device="cpu")
        o = clip.objects
        frame = clip.frames[0]
        for k in range(len(o["frame"])):
            if o["category"][k] != "person" or o["w"][k] is None or o["h"][k] < 120 or o["visibility"][k] < 0.9:
                continue
            x, y, w, h = (int(o[c][k]) for c in ("x", "y", "w", "h"))
            m = int(0.06 * h)
            box = (max(x - m, 0), max(y - m, 0), min(x + w + m, frame.shape[1]), min(y + h + m, frame.shape[0]))
            img = Image.fromarray(frame[box[1]:box[3], box[0]:box[2]])
            scale = TILE_H / img.height
            img = img.resize((max(1, int(img.width * scale)), TILE_H), Image.LANCZOS)
            tile = Image.new("RGB", (TILE_W, TILE_H), (40, 40, 40))
            tile.paste(img, ((TILE_W - img.width) // 2, 0))
            out.append((tile, str(o["action"][k])))
            if len(out) >= count:
                return out
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="docs/people_variety.png")
    p.add_argument("--count", type=int, default=48)
    p.add_argument("--columns", type=int, default=12)
    args = p.parse_args()
    tiles = crops(args.count)
    rows = -(-len(tiles) // args.columns)
    sheet = Image.new("RGB", (args.columns * TILE_W, rows * (TILE_H + 12)), (20, 20, 20))
    draw = ImageDraw.Draw(sheet)
    for n, (tile, action) in enumerate(tiles):
        x, y = (n % args.columns) * TILE_W, (n // args.columns) * (TILE_H + 12)
        sheet.paste(tile, (x, y))
        draw.text((x + 2, y + TILE_H), action[:15], fill=(220, 220, 220))
    sheet.save(args.out, optimize=True)
    print(f"{args.out}: {len(tiles)} people")


if __name__ == "__main__":
    main()
