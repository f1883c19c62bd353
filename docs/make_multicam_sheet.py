"""Render the multi-camera picture (docs/multicam_views.png): one frame of clip 0 of
recipes/plaza_multicam.yaml as each of its four cameras saw it, with boxes and global track ids
drawn (a person has the same id and colour in every view), and a plan of the plaza from above:
each camera's position and the ground it sees (up to 30 m away), and every person at that instant.

    python docs/make_multicam_sheet.py [--out docs/multicam_views.png] [--width 320] [--frame 20]

Run from the repository root.
"""
from __future__ import annotations

import argparse

import numpy as np
from PIL import Image, ImageDraw

from synthdata.pipeline import render_clip
from synthdata.render.preview import draw_labels, track_color

CAMERA_COLOURS = [(255, 255, 255), (255, 200, 0), (0, 220, 255), (255, 90, 90)]


def view_tile(view, frame: int, width: int) -> Image.Image:
    rows = [r for r in view.objects_in_frame(frame)]
    img = draw_labels(view.frames[frame], rows, amodal=False).convert("RGB")
    img = img.resize((width, round(width * img.height / img.width)), Image.LANCZOS)
    d = ImageDraw.Draw(img)
    d.rectangle([0, img.height - 16, 8 + 7 * len(view.camera), img.height], fill=(0, 0, 0))
    d.text((4, img.height - 14), view.camera, fill=(255, 255, 255))
    return img


def ground_footprint(world, samples: int = 24, reach: float = 30.0) -> np.ndarray:
    """Ground points (N, 2) where the camera's image border meets the ground (within `reach` m)."""
    cam = world.camera
    W, H = cam.width, cam.height
    edge = ([(u, H - 1) for u in np.linspace(0, W - 1, samples)] + [(W - 1, v) for v in np.linspace(H - 1, 0, samples)]
            + [(u, 0) for u in np.linspace(W - 1, 0, samples)] + [(0, v) for v in np.linspace(0, H - 1, samples)])
    R, C = cam.R[0], cam.C[0]
    pts = []
    for u, v in edge:
        d = R.T @ np.array([(u + 0.5 - cam.cx) / cam.fx[0], (v + 0.5 - cam.cy) / cam.fy[0], 1.0])
        s = -C[2] / d[2] if d[2] < -1e-6 else np.inf
        p = C + min(s, reach / max(np.linalg.norm(d[:2]), 1e-6)) * d
        pts.append(p[:2])
    return np.array(pts)


def plan_tile(clip, frame: int, size: int) -> Image.Image:
    world = clip.world
    views = [(v.camera, v.world) for v in [clip] + clip.views]
    xs = np.concatenate([ground_footprint(w)[:, 0] for _, w in views] + [[w.camera.C[0][0] for _, w in views]])
    ys = np.concatenate([ground_footprint(w)[:, 1] for _, w in views] + [[w.camera.C[0][1] for _, w in views]])
    lo, hi = np.array([xs.min(), ys.min()]) - 2, np.array([xs.max(), ys.max()]) + 2
    scale = (size - 20) / max(hi - lo)

    def px(p):
        return (10 + (p[0] - lo[0]) * scale, size - 10 - (p[1] - lo[1]) * scale)

    img = Image.new("RGB", (size, size), (40, 44, 48))
    d = ImageDraw.Draw(img, "RGBA")
    for k, (name, w) in enumerate(views):
        col = CAMERA_COLOURS[k % len(CAMERA_COLOURS)]
        d.polygon([px(p) for p in ground_footprint(w)], fill=col + (40,), outline=col + (200,))
    for k, (name, w) in enumerate(views):
        col = CAMERA_COLOURS[k % len(CAMERA_COLOURS)]
        x, y = px(w.camera.C[0])
        d.rectangle([x - 4, y - 4, x + 4, y + 4], fill=col)
        d.text((x + 6, y - 12), name, fill=col)
    for a in world.actors:
        if a.category != "person" or not a.present[frame]:
            continue
        x, y = px(a.position[frame])
        col = track_color(a.track_id)
        d.ellipse([x - 3, y - 3, x + 3, y + 3], fill=col)
        d.text((x + 4, y - 5), str(a.track_id), fill=col)
    d.text((6, 4), "plan (x right, y into the scene)", fill=(220, 220, 220))
    return img


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="docs/multicam_views.png")
    ap.add_argument("--width", type=int, default=320)
    ap.add_argument("--frame", type=int, default=20)
    args = ap.parse_args()
    clip = render_clip("recipes/plaza_multicam.yaml", 0, device="cpu",
                       overrides=[f"output.frames_per_clip={args.frame + 1}", "output.resolution=[640, 480]"])
    views = [clip] + clip.views                       # each view's `world`: the one World as that camera sees it
    tiles = [view_tile(v, args.frame, args.width) for v in views]
    th = tiles[0].height
    plan = plan_tile(clip, args.frame, 2 * th)
    sheet = Image.new("RGB", (2 * args.width + plan.width, 2 * th))
    for k, t in enumerate(tiles[:4]):
        sheet.paste(t, ((k % 2) * args.width, (k // 2) * th))
    sheet.paste(plan, (2 * args.width, 0))
    sheet.save(args.out, optimize=True)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
