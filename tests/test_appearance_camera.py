"""Camera shake, PTZ patrols and rolling shutter move the geometry, so labels follow exactly."""
from __future__ import annotations

import numpy as np
import pytest
from pycocotools import mask as mask_utils

from synthdata.labels.rows import KEYPOINT_MARGIN_M
from synthdata.world.appearance import Appearance
from synthdata.world.geometry.camera import Camera, look_rotation
from synthdata.world.geometry.camera_motion import (
    apply_camera_motion,
    pose_angles,
    ptz_schedule,
    rolling_shutter,
    shake_angles,
)
from tests.scenes import random_world
from tests.test_render_labels import render_and_label, rows_of


@pytest.mark.parametrize("angles", [(0, 30, 0), (-40, 10, 2), (135, 60, -5), (-170, 5, 1)])
def test_pose_angles_invert_look_rotation(angles):
    assert np.allclose(pose_angles(look_rotation(*angles)), angles, atol=1e-9)


def test_ptz_patrol_dwells_at_presets_and_slews_no_faster_than_its_speed():
    patrol = [[0, 0, 1.0], [20, -5, 2.0], [-10, 3, 1.5]]
    fps, speed = 10.0, 25.0
    s = ptz_schedule(200, fps, patrol, dwell_s=2.0, speed_deg_s=speed)
    assert np.allclose(s[:20], [0, 0, 1.0])                       # dwelling at the first preset
    for p in patrol:                                              # every preset is visited and held
        assert np.any(np.all(np.isclose(s, p), axis=1))
    step = np.abs(np.diff(s[:, :2], axis=0)).max()
    assert 0 < step <= 1.5 * speed / fps + 1e-9                   # eased slew peaks at 1.5x the mean speed
    assert s[:, 2].min() >= 1.0 and s[:, 2].max() <= 2.0
    assert np.allclose(ptz_schedule(200, fps, patrol, 2.0, speed, phase_s=3.0)[0],
                       ptz_schedule(200, fps, patrol, 2.0, speed)[30])


def test_shake_is_seeded_bounded_and_moving():
    a = shake_angles(50, 25.0, 0.5, 3.0, seed=4)
    assert np.array_equal(a, shake_angles(50, 25.0, 0.5, 3.0, seed=4))
    assert not np.array_equal(a, shake_angles(50, 25.0, 0.5, 3.0, seed=5))
    assert 0.2 < np.abs(a[:, 0]).max() <= 1.0 and np.abs(a[:, 2]).max() < np.abs(a[:, 0]).max()
    assert not shake_angles(50, 25.0, 0.0, 3.0, seed=4).any()


def test_rolling_shutter_shears_against_the_pan_and_vanishes_when_still():
    fx = fy = np.full(5, 100.0)
    skew, fy2 = rolling_shutter(fx, fy, np.arange(5) * 1.0, np.zeros(5), 25.0, 0.03, 64)
    assert np.all(skew < 0) and np.allclose(fy2, fy)                # panning right shears lower rows left
    skew, fy2 = rolling_shutter(fx, fy, np.zeros(5), np.arange(5) * 1.0, 25.0, 0.03, 64)
    assert np.allclose(skew, 0) and np.all(fy2 < fy)                # tilting down squashes rows
    skew, _ = rolling_shutter(fx, fy, np.zeros(5), np.zeros(5), 25.0, 0.03, 64)
    assert not skew.any()


def test_skewed_camera_rays_and_projection_agree():
    cam = Camera.from_pose(96, 64, position=(0, -10, 6), pan_deg=5, tilt_deg=30, hfov_deg=60, k1=-0.05)
    cam.skew = np.array([7.5])
    uv = np.array([[3.2, 5.1], [48.0, 32.0], [90.5, 60.2]])
    pts = cam.C[0] + cam.pixel_rays(0, uv) * 9.0
    back, z = cam.project(pts, 0)
    assert np.allclose(back, uv, atol=1e-5) and np.all(z > 0)


def test_no_motion_leaves_the_camera_alone():
    cam = random_world(0, T=2, width=96, height=64).camera
    assert apply_camera_motion(cam, Appearance(), 2, 10) is cam


MOTION = {
    "ptz": {"ptz": True, "ptz_patrol": [[0, 0, 1.0], [8, 4, 1.8]], "ptz_dwell_s": 0.1, "ptz_speed_deg_s": 30.0},
    "shake+rolling shutter": {"shake_deg": 2.0, "shake_hz": 5.0, "rolling_shutter_ms": 50.0},
    "fisheye ptz": {"ptz": True, "ptz_patrol": [[0, 0, 1.0], [-10, 3, 1.5]], "ptz_dwell_s": 0.1,
                    "ptz_speed_deg_s": 40.0, "rolling_shutter_ms": 20.0},
    "distortion shake overlay": {"shake_deg": 0.8, "overlay": True},
    "fast slew rolling shutter": {"ptz": True, "ptz_patrol": [[-12, 0, 1.0], [12, 0, 1.0]], "ptz_dwell_s": 0.1,
                                  "ptz_speed_deg_s": 120.0, "rolling_shutter_ms": 60.0},
}


@pytest.mark.parametrize("case", list(MOTION))
def test_labels_follow_the_moving_camera(case):
    seed = list(MOTION).index(case) + 4
    world = random_world(seed, T=4, width=128, height=96, n_people=4, n_boxes=2,
                         k1=0.08 if "distortion" in case else 0.0, model="fisheye" if "fisheye" in case else "pinhole")
    world.appearance = Appearance().with_values(**MOTION[case], effects_seed=9)
    world.camera = apply_camera_motion(world.camera, world.appearance, world.num_frames, world.fps)
    assert not world.camera.is_static
    if "fast slew" in case:
        assert np.abs(world.camera.skew).max() > 5       # a shear of several pixels across the image
    batch, _, cols = render_and_label(world)
    inst, depth = batch.instance.numpy(), batch.depth.numpy()
    rows = rows_of(cols)
    assert sum(r["x"] is not None for r in rows) >= 12
    on_own_pixels = visible = 0
    for r in rows:
        m = inst[r["frame"]] == r["track_id"]
        if not m.any():
            assert r["x"] is None and r["mask"] is None
            continue
        ys, xs = np.nonzero(m)
        assert (r["x"], r["y"], r["w"], r["h"]) == (xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1)
        # the amodal box (projected geometry) contains the rendered pixels
        assert r["x"] >= np.floor(r["ax"]) - 1 and r["x"] + r["w"] <= np.ceil(r["ax"] + r["aw"]) + 1
        assert r["y"] >= np.floor(r["ay"]) - 1 and r["y"] + r["h"] <= np.ceil(r["ay"] + r["ah"]) + 1
        rle = {"size": r["mask"]["size"], "counts": r["mask"]["counts"].encode()}
        assert np.array_equal(mask_utils.decode(rle).astype(bool), m)
        if r["keypoints"] is None:
            continue
        actor = world.actor(r["track_id"])
        uv, z = world.camera.project(actor.keypoints[r["frame"]], r["frame"])
        kp = np.asarray(r["keypoints"]).reshape(17, 3)
        for j in range(17):
            x, y, v = kp[j]
            if v == 0:
                continue
            assert np.allclose([x, y], uv[j])
            d = depth[r["frame"], int(y), int(x)]
            assert v == (2 if d >= z[j] - actor.keypoint_radius[j] - KEYPOINT_MARGIN_M else 1)
            if v == 2:
                visible += 1
                y0, x0 = int(y), int(x)
                on_own_pixels += bool((inst[r["frame"], max(y0 - 1, 0):y0 + 2, max(x0 - 1, 0):x0 + 2] == r["track_id"]).any())
    # visible joints sit on their person's pixels: the moved camera drew them where labels say
    assert visible >= 40 and on_own_pixels >= 0.9 * visible
