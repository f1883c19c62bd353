"""Render the appearance contact sheet (docs/appearance_variations.png): one parking-lot clip
under each lighting, weather and camera setting of recipe sections scene.weather / scene.sensor.

    python docs/make_appearance_sheet.py [--out docs/appearance_variations.png] [--width 256]

Each tile is frame FRAME of the same sampled clip; only World.appearance, the lighting and the
camera change, exactly as sample_appearance / apply_camera_motion would set them.
"""
from __future__ import annotations

import argparse
import copy
import dataclasses
import os

import numpy as np

from synthdata.recipe import load_recipe
from synthdata.render.overlay import block_mask
from synthdata.render.renderer import Renderer
from synthdata.world.geometry.camera_motion import apply_camera_motion
from synthdata.world.layouts.registry import build_layout
from synthdata.world.lighting import make_lighting
from synthdata.world.sample import sample_clip
from synthdata.world.simulate import simulate

FRAME = 8
RECIPE = """
name: sheet
seed: 11
output: {{clips: 1, frames_per_clip: 12, fps: 10, resolution: [{w}, {h}]}}
scene:
  layout: {{type: parking_lot, size_m: [40, 36], light_poles: 4, trees: 3, bay_rows: 2, buildings: 2}}
  camera: {{height_m: 5.5, tilt_deg: 22, hfov_deg: 70, distance_m: 1, pan_deg: 0}}
  lighting: {{time_of_day: day, sun_elevation_deg: 35, sun_azimuth_deg: 220, cloud_cover: 0.1}}
actors:
  - {{type: person, count: 7, behavior: walk, enters: false, leaves: false}}
  - {{type: vehicle, count: 3, behavior: drive, enters: false, speed_mps: 4}}
"""
BASE = {"sensor_gain": 1.5, "shutter": 0.5, "effects_seed": 7}

# (caption, time of day, appearance, camera changes); "sun" sets the sun elevation, "crf" encodes
VARIANTS = [
    ("DAY", "day", {}, {}),
    ("LOW SUN 12 DEG", "day", {}, {"sun": 12.0}),
    ("DUSK", "dusk", {"vehicle_lights": True, "sensor_gain": 4.0}, {"sun": 6.0}),
    ("NIGHT COLOUR", "night", {"vehicle_lights": True, "sensor_gain": 10.0}, {}),
    ("NIGHT NIR", "night", {"vehicle_lights": True, "nir": True, "ir_range_m": 22.0, "sensor_gain": 6.0}, {}),
    ("RAIN", "day", {"weather": "rain", "rain_intensity": 0.9, "wetness": 0.9, "puddles": 0.45, "overcast": 0.9,
                     "raindrops": 10, "wind_deg": 12.0}, {}),
    ("NIGHT RAIN", "night", {"weather": "rain", "rain_intensity": 0.7, "wetness": 1.0, "puddles": 0.5,
                             "vehicle_lights": True, "sensor_gain": 10.0}, {}),
    ("SNOW", "day", {"weather": "snow", "snow_intensity": 0.8, "snow_cover": 0.8, "overcast": 0.8}, {}),
    ("FOG 70 M", "day", {"weather": "fog", "fog_visibility_m": 70.0, "overcast": 0.8}, {}),
    ("GAIN 48 VIGNETTE DIRT", "dusk", {"sensor_gain": 48.0, "vignetting": 0.6, "lens_dirt": 0.8}, {"sun": 6.0}),
    ("DEFOCUS", "day", {"defocus_px": 4.0, "focus_m": 6.0}, {}),
    ("LIGHTS ON +2 STOPS", "day", {"light_schedule": [[FRAME - 1, 2.0]], "auto_exposure_s": 1.0}, {}),
    ("FISHEYE", "day", {}, {"model": "fisheye", "hfov": 150.0}),
    ("PTZ ZOOM SHAKE", "day", {"ptz": True, "ptz_patrol": [[6.0, -4.0, 2.2], [-6.0, 0.0, 1.5]], "ptz_dwell_s": 5.0,
                               "ptz_speed_deg_s": 30.0, "shake_deg": 0.4, "rolling_shutter_ms": 30.0,
                               "overlay": True, "camera_name": "GATE 2", "overlay_start": "2024-05-17 09:41:07"}, {}),
    ("SHUTTER 1 BLUR", "day", {"shutter": 1.0}, {"zoom": 2.5}),
    ("H264 CRF 42", "day", {}, {"crf": 42}),
]


def variant_world(base, spec, tod: str, appearance: dict, cam: dict):
    from synthdata.world.appearance import Appearance
    from synthdata.world.geometry.camera import Camera

    world = copy.copy(base)
    lp = dataclasses.replace(spec.lighting, time_of_day=tod, exposure=1.0,
                             sun_elevation_deg=cam.get("sun", spec.lighting.sun_elevation_deg))
    world.lighting = make_lighting(lp, build_layout(spec.layout).lamps)
    world.appearance = Appearance().with_values(**{**BASE, **appearance})
    camera = base.camera
    c = spec.camera
    if "model" in cam:
        camera = Camera.from_pose(base.width, base.height, position=tuple(c.position), pan_deg=c.pan_deg,
                                  tilt_deg=c.tilt_deg + 14, roll_deg=c.roll_deg, hfov_deg=cam["hfov"], model=cam["model"])
    if "zoom" in cam:
        camera = Camera.from_pose(base.width, base.height, position=tuple(c.position), pan_deg=c.pan_deg,
                                  tilt_deg=c.tilt_deg, roll_deg=c.roll_deg, hfov_deg=c.hfov_deg / cam["zoom"])
    world.camera = apply_camera_motion(camera, world.appearance, world.num_frames, world.fps)
    return world


def render_tile(world, cam: dict) -> np.ndarray:
    if "crf" not in cam:
        return Renderer(world, "cpu").render(FRAME, FRAME + 1).rgb[0].numpy().copy()
    import tempfile

    from synthdata.io.video import VideoClip, encode_video
    frames = Renderer(world, "cpu").render(0, FRAME + 1).rgb.numpy()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "clip.mp4")
        encode_video(frames, path, fps=world.fps, crf=int(cam["crf"]), preset="veryfast")
        with open(path, "rb") as f:
            return VideoClip(f.read()).decode()[FRAME].copy()


def caption(tile: np.ndarray, text: str) -> None:
    ink, edge = block_mask([text], 1)
    h, w = ink.shape
    y0, x0 = tile.shape[0] - h - 2, 2
    region = tile[y0:y0 + h, x0:x0 + w]
    region[edge] = (0, 0, 0)
    region[ink] = (255, 230, 80)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "appearance_variations.png"))
    ap.add_argument("--width", type=int, default=256)
    ap.add_argument("--cols", type=int, default=4)
    args = ap.parse_args()
    w = args.width
    h = (w * 5 // 8) // 2 * 2
    recipe = load_recipe(RECIPE.format(w=w, h=h))
    spec = sample_clip(recipe, 0, seed=recipe.seed, clip_id="sheet")
    base = simulate(spec)
    tiles = []
    for name, tod, app, cam in VARIANTS:
        world = variant_world(base, spec, tod, app, cam)
        tile = render_tile(world, cam)
        caption(tile, name)
        tiles.append(tile)
        print(name, flush=True)
    rows = [np.concatenate(tiles[i:i + args.cols], 1) for i in range(0, len(tiles), args.cols)]
    sheet = np.concatenate(rows, 0)
    from PIL import Image
    # a 256-colour palette keeps the file small enough for the repository (~0.4 MB)
    Image.fromarray(sheet).quantize(256, Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(args.out, optimize=True)
    print(args.out, sheet.shape)


if __name__ == "__main__":
    main()
