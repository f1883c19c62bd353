"""Frames where a primitive and the camera hold still reuse the previous frame's screen bounds and
shadow window (world/geometry/camera_rows.py `unchanged`): the same values as working each frame
out alone."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from synthdata.pipeline import clip_seed
from synthdata.recipe.loader import load_recipe
from synthdata.render.shadow_windows import shadow_windows
from synthdata.world.geometry.projection import screen_bounds
from synthdata.world.sample import sample_clip
from synthdata.world.simulate import simulate
from synthdata.world.types import Shapes

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("overrides", [[], ["scene.sensor.ptz.enabled=true"]], ids=["fixed", "ptz"])
def test_held_frames_give_what_each_frame_gives_alone(overrides):
    rec = load_recipe(ROOT / "recipes" / "security_parking_illegal.yaml",
                      ["output.resolution=[160, 120]", "output.frames_per_clip=24", *overrides])
    w = simulate(sample_clip(rec, 0, seed=clip_seed(rec.seed, 0), clip_id="c"))
    T = 24
    cam = w.camera.frames(0, T)
    shapes = Shapes.concat([a.shapes.frames(0, T) for a in w.actors])
    held = np.ones((T - 1, shapes.num_shapes), bool)
    for x in (shapes.center, shapes.end, shapes.axes, shapes.size):
        held &= (x[1:] == x[:-1]).reshape(T - 1, shapes.num_shapes, -1).all(-1)
    assert 0.2 < held.mean() < 1            # parked cars hold still, people walk
    sun = np.asarray(w.lighting.sun_direction, float)
    sun = sun / np.linalg.norm(sun)
    bounds, ok = screen_bounds(shapes, cam)
    windows = shadow_windows(shapes, sun, cam)
    for t in range(T):
        one = shapes.frames(t, t + 1)
        b1, ok1 = screen_bounds(one, cam.frames(t, t + 1) if cam.num_frames > 1 else cam)
        assert np.array_equal(b1[0], bounds[t], equal_nan=True) and np.array_equal(ok1[0], ok[t])
        w1 = shadow_windows(one, sun, cam.frames(t, t + 1) if cam.num_frames > 1 else cam)
        assert np.array_equal(w1[0], windows[t])
