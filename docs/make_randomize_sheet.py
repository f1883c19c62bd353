"""Render the domain randomisation sheet (docs/randomize_examples.png): the first frame of clips of
recipes/people_randomized.yaml with each `scene.randomize` option alone, all of them, and none.

    python docs/make_randomize_sheet.py [--out docs/randomize_examples.png]

Each column is one option set (its p = 1, the others 0); each row one clip index, so a row shows
the same scene (same people, vehicles, camera and light) under each option.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from synthdata.pipeline import render_clip
from synthdata.recipe.loader import load_recipe

RECIPE = Path(__file__).resolve().parent.parent / "recipes" / "people_randomized.yaml"
OPTIONS = ("textures", "distractors", "color_cast", "lights")
COLUMNS = (("none", ()), ("textures", ("textures",)), ("distractors", ("distractors",)),
           ("colour cast + lights", ("color_cast", "lights")), ("all", OPTIONS))


def frame(index: int, on: tuple[str, ...]) -> np.ndarray:
    block = ", ".join(f"{o}: {{p: {1 if o in on else 0}}}" for o in OPTIONS)
    r = load_recipe(RECIPE, ["output.frames_per_clip=1", "output.masks=false", "scene.sensor.overlay.enabled=false",
                             f"scene.randomize={{{block}}}", "scene.lighting.time_of_day=day"])
    return render_clip(r, index, device="cpu").frames[0]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="docs/randomize_examples.png")
    ap.add_argument("--clips", default="1,2,6")
    args = ap.parse_args()
    rows = [int(c) for c in args.clips.split(",")]
    tw, th = 320, 240
    sheet = Image.new("RGB", (tw * len(COLUMNS), th * len(rows)))
    draw = ImageDraw.Draw(sheet)
    for j, index in enumerate(rows):
        for i, (title, on) in enumerate(COLUMNS):
            tile = Image.fromarray(frame(index, on)).resize((tw, th), Image.LANCZOS)
            sheet.paste(tile, (i * tw, j * th))
            if j == 0:
                draw.rectangle([i * tw, 0, i * tw + 8 * len(title) + 8, 16], fill=(0, 0, 0))
                draw.text((i * tw + 4, 2), title, fill=(255, 255, 255))
    sheet.save(args.out, optimize=True)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
