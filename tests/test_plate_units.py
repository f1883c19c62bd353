"""plate/: background extraction, calibration fits, sketches -> ground, and their bad input."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from synthdata.errors import BadInput
from synthdata.plate.calibrate import from_correspondences, from_people, from_values
from synthdata.plate.extract import blur_sigma, extract_plate, temporal_noise
from synthdata.plate.scene import compile_scene
from synthdata.plate.sketch import PALETTE, read_sketch
from synthdata.world.geometry.camera import Camera
from tests.plate_fixtures import OCCLUDER, H, W, make_plate


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(float) - b.astype(float)) ** 2))
    return 10 * math.log10(255 ** 2 / max(mse, 1e-12))


def test_calibration_from_correspondences_recovers_a_known_camera():
    cam = Camera.from_pose(W, H, position=(1.5, -4.0, 7.0), pan_deg=-8, tilt_deg=38, roll_deg=1.5, hfov_deg=58)
    g = np.array([[x, y, 0.0] for x in (-5, -1, 3, 7) for y in (6, 10, 16)])
    uv, _ = cam.project(g, 0)
    uv = uv + np.random.default_rng(1).normal(0, 0.3, uv.shape)
    cal = from_correspondences(uv, g[:, :2], (W, H))
    assert cal.position_m[2] == pytest.approx(7.0, abs=0.15)
    assert cal.tilt_deg == pytest.approx(38, abs=0.5)
    assert cal.hfov_deg == pytest.approx(58, abs=1.0)
    assert cal.pan_deg == pytest.approx(-8, abs=0.5) and cal.roll_deg == pytest.approx(1.5, abs=0.5)
    assert cal.reprojection_px < 0.6


def test_calibration_from_people_recovers_height_tilt_and_fov():
    cam = Camera.from_pose(W, H, position=(0, 0, 4.5), pan_deg=0, tilt_deg=28, roll_deg=-2, hfov_deg=70)
    feet = np.array([[-2, 7, 0], [1.5, 11, 0], [3, 16, 0], [-0.5, 9, 0], [2.5, 8, 0]], float)
    f_uv, _ = cam.project(feet, 0)
    h_uv, _ = cam.project(feet + [0, 0, 1.7], 0)
    cal = from_people(h_uv, f_uv, (W, H), 1.7)
    assert cal.position_m[2] == pytest.approx(4.5, abs=0.1)
    assert cal.tilt_deg == pytest.approx(28, abs=0.5)
    assert cal.roll_deg == pytest.approx(-2, abs=0.5)
    assert cal.hfov_deg == pytest.approx(70, abs=1.0)


@pytest.mark.parametrize("image, ground, says", [
    ([[10, 10], [50, 60], [90, 100]], [[0, 0], [1, 1], [2, 3]], "at least 4"),
    ([[10, 100], [50, 100], [90, 100], [130, 100]], [[0, 5], [1, 5], [2, 5], [3, 5]], "one line"),
])
def test_degenerate_correspondences_are_refused(image, ground, says):
    with pytest.raises(BadInput, match=says):
        from_correspondences(image, ground, (W, H), where="pts.yaml")


def test_correspondences_behind_the_camera_or_mirrored_are_refused():
    cam = Camera.from_pose(W, H, position=(0, 0, 6), pan_deg=0, tilt_deg=35, hfov_deg=60)
    g = np.array([[x, y, 0.0] for x in (-3, 0, 3) for y in (8, 14)])
    uv, _ = cam.project(g, 0)
    with pytest.raises(BadInput, match="pts.yaml"):
        from_correspondences(uv, g[:, :2] * [-1, 1], (W, H), where="pts.yaml")   # mirrored x: camera below ground


def test_typed_values_are_checked():
    with pytest.raises(BadInput, match="height"):
        from_values(-1, 30, 60)
    assert from_values(5, 30, 60).camera(W, H).C[0, 2] == 5


def test_extraction_removes_moving_things_and_reports_noise_and_blur():
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:90, 0:160]
    clean = np.stack([80 + 60 * np.sin(x / 9.0) ** 2, 90 + y * 0.6, 120 - y * 0.3], -1)
    frames = []
    for t in range(24):
        f = clean + rng.normal(0, 2.0, clean.shape)
        for k in range(3):                                   # moving blocks ("actors")
            x0 = (7 * t + 50 * k) % 140
            f[20 + 20 * k:45 + 20 * k, x0:x0 + 18] = (20 + 70 * k, 200, 30)
        frames.append(np.clip(f, 0, 255).round().astype(np.uint8))
    frames = np.stack(frames)
    plate, _, scores = extract_plate(frames)
    assert set(scores) == {"median", "mog2", "quiet_median"}
    assert psnr(plate, clean) > 38
    assert psnr(frames[0], clean) < 25                        # the frames themselves are far off
    assert temporal_noise(frames) == pytest.approx(2.0 * 0.668, rel=0.15)   # luminance of per-channel sigma 2
    import cv2
    step = np.where(x[:, :] > 80, 200.0, 50.0).astype(np.float32)
    assert blur_sigma(np.repeat(cv2.GaussianBlur(step, (0, 0), 2.0)[..., None], 3, -1)) == pytest.approx(2.0, rel=0.2)


def test_png_and_json_sketches_give_the_same_ground_shapes(tmp_path):
    import cv2
    plate = make_plate(tmp_path / "p")
    img = np.zeros((H, W, 3), np.uint8)
    g = tuple(int(PALETTE["walkable"][i:i + 2], 16) for i in (5, 3, 1))
    r = tuple(int(PALETTE["restricted"][i:i + 2], 16) for i in (5, 3, 1))
    cv2.rectangle(img, (20, 100), (300, 179), g, -1)
    cv2.rectangle(img, (60, 120), (120, 160), r, -1)
    cv2.imwrite(str(tmp_path / "s.png"), img)
    js = {"walkable": [[[20, 100], [301, 100], [301, 180], [20, 180]]],
          "zones": [{"name": "restricted_1", "points": [[60, 120], [121, 120], [121, 161], [60, 161]]}]}
    (tmp_path / "s.json").write_text(json.dumps(js))
    a, b = compile_scene(plate, tmp_path / "s.png"), compile_scene(plate, tmp_path / "s.json")
    za, zb = np.array(a["zones"][0]["points"]), np.array(b["zones"][0]["points"])
    assert np.allclose(np.sort(za, 0), np.sort(zb, 0), atol=0.05)
    assert a["zones"][0]["role"] == "restricted"


@pytest.mark.parametrize("content, says", [
    (b"not an image", "cannot read it as an image"),
    ("size", "is 100x50 but the plate is 320x180"),
    ("colour", "not palette colours"),
])
def test_bad_png_sketches_say_what_to_do(tmp_path, content, says):
    import cv2
    p = tmp_path / "s.png"
    if content == "size":
        cv2.imwrite(str(p), np.zeros((50, 100, 3), np.uint8))
    elif content == "colour":
        img = np.zeros((H, W, 3), np.uint8)
        img[10:20, 10:20] = (30, 140, 90)
        cv2.imwrite(str(p), img)
    else:
        p.write_bytes(content)
    with pytest.raises(BadInput, match=says) as e:
        read_sketch(p, (W, H))
    assert str(p) in str(e.value) and "\n" not in str(e.value)


def test_sketched_region_above_the_horizon_is_refused(tmp_path):
    plate = make_plate(tmp_path / "p", tilt=10.0,
                       sketch={"walkable": [[[0, 0], [320, 0], [320, 180], [0, 180]]]})
    with pytest.raises(BadInput, match="above the horizon"):
        compile_scene(plate, plate / "sketch.json")


def test_occluder_contact_line_goes_to_the_ground(tmp_path):
    plate = make_plate(tmp_path / "p", sketch={"occluders": [{"name": "pillar", "region": OCCLUDER,
                                                                "contact": [[140, 140], [180, 140]]}]})
    sc = compile_scene(plate, plate / "sketch.json")
    cam = Camera.from_pose(W, H, position=(0, 0, 6.0), pan_deg=0, tilt_deg=35, hfov_deg=60)
    uv, _ = cam.project(np.c_[np.array(sc["occluders"][0]["contact"]), np.zeros(2)], 0)
    assert np.allclose(uv, [[140, 140], [180, 140]], atol=1e-3)
