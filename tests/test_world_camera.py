"""Camera: projection round trips (pinhole, radial distortion, fisheye) and recipe placement."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from synthdata.recipe.schema import Recipe
from synthdata.world.geometry.camera import Camera, look_rotation
from synthdata.world.sample import sample_clip
from synthdata.world.simulate import make_camera

LENSES = [("pinhole", 0.0, 0.0, 60.0), ("pinhole", -0.25, 0.06, 70.0), ("pinhole", 0.1, 0.0, 50.0),
          ("fisheye", 0.0, 0.0, 150.0), ("fisheye", -0.05, 0.01, 120.0)]


@pytest.mark.parametrize("model,k1,k2,hfov", LENSES)
def test_ground_point_and_project_are_inverse(model, k1, k2, hfov):
    cam = Camera.from_pose(160, 120, position=(1.0, -2.0, 6.0), pan_deg=10, tilt_deg=40, roll_deg=3,
                           hfov_deg=hfov, k1=k1, k2=k2, model=model)
    u, v = np.meshgrid(np.linspace(5, 155, 13), np.linspace(60, 115, 9))
    uv = np.stack([u, v], -1).reshape(-1, 2)
    g = cam.ground_point(uv)
    ok = np.isfinite(g).all(1)
    assert ok.mean() > 0.9 and np.allclose(g[ok, 2], 0.0, atol=1e-9)
    back, depth = cam.project(g[ok], 0)
    assert np.all(depth > 0)
    assert np.abs(back - uv[ok]).max() < 1e-4
    # and the other way: ground -> pixel -> ground
    pts = g[ok][::3]
    again = cam.ground_point(cam.project(pts, 0)[0])
    assert np.abs(again - pts).max() < 1e-6 * max(1.0, np.abs(pts).max())


def test_points_behind_the_camera_do_not_project():
    cam = Camera.from_pose(64, 48, position=(0, 0, 5), pan_deg=0, tilt_deg=20, hfov_deg=60)
    uv, depth = cam.project(np.array([[0.0, -10.0, 0.0]]), 0)
    assert depth[0] < 0 and np.isnan(uv).all()


def _recipe(layout: str, **camera) -> Recipe:
    return Recipe.model_validate({
        "name": "t", "seed": 1, "output": {"clips": 1, "frames_per_clip": 5, "fps": 10, "resolution": [160, 120]},
        "scene": {"layout": {"type": layout}, "camera": camera}, "actors": []})


def _ground_share(spec, cam) -> float:
    """Share of pixels that see the layout's own ground."""
    W, D = spec.layout.size_m
    u, v = np.meshgrid(np.arange(4, 160, 8) + 0.5, np.arange(4, 120, 8) + 0.5)
    g = cam.ground_point(np.stack([u, v], -1))
    with np.errstate(invalid="ignore"):
        inside = (np.abs(g[..., 0]) <= W / 2) & (g[..., 1] >= 0) & (g[..., 1] <= D)
    return float(inside.mean())


@pytest.mark.parametrize("layout", ["parking_lot", "street", "indoor"])
@pytest.mark.parametrize("placement", ["edge", "corner"])
def test_camera_looks_into_the_layout_from_its_edge(layout, placement):
    for seed in range(4):
        spec = sample_clip(_recipe(layout, placement=placement), 0, seed=seed, clip_id="t")
        cam = make_camera(spec.camera, spec.width, spec.height)
        x, y, z = spec.camera.position
        W, D = spec.layout.size_m
        assert abs(x) <= W / 2 + 1e-9 and z == pytest.approx(6.0 if layout != "indoor" else min(6.0, spec.layout.ceiling_m - 0.15))
        if layout == "indoor":
            assert 0 < y < 1.0 and z < spec.layout.ceiling_m
        else:
            assert y == pytest.approx(-2.0)
        if placement == "corner":
            assert abs(x) > 0.4 * W
        centre = cam.ground_point(np.array([80.0, 60.0]))
        assert abs(centre[0]) < W / 2 and 0 < centre[1] < D
        assert _ground_share(spec, cam) > 0.5


def test_camera_values_come_from_the_recipe():
    spec = sample_clip(_recipe("parking_lot", height_m=8.5, tilt_deg=31, pan_deg=7, roll_deg=2, hfov_deg=55,
                               k1=-0.1, k2=0.02, model="pinhole", distance_m=3), 0, seed=1, clip_id="t")
    c = spec.camera
    assert (c.position[1], c.position[2], c.tilt_deg, c.pan_deg, c.roll_deg, c.hfov_deg, c.k1, c.k2) == \
        (-3.0, 8.5, 31.0, 7.0, 2.0, 55.0, -0.1, 0.02)
    cam = make_camera(c, 160, 120)
    assert cam.num_frames == 1 and cam.k1 == -0.1
    forward = cam.R[0][2]
    assert forward[2] == pytest.approx(-np.sin(np.radians(31)))
    assert np.degrees(np.arctan2(forward[0], forward[1])) == pytest.approx(7.0)
    assert cam.fx[0] == pytest.approx(80 / np.tan(np.radians(27.5)))


def test_pose_runs_group_frames_that_hold_a_pose():
    cam = Camera.from_pose(64, 48, position=(0, 0, 5), pan_deg=0, tilt_deg=30, hfov_deg=60, num_frames=7)
    assert cam.pose_runs().tolist() == [0] * 7
    cam.R[2:5] = look_rotation(4, 30)       # a slew to a second preset and back
    cam.fx[6] *= 1.5                        # a zoom
    assert cam.pose_runs().tolist() == [0, 0, 2, 2, 2, 5, 6]
    assert Camera.from_pose(64, 48, position=(0, 0, 5), pan_deg=0, tilt_deg=30, hfov_deg=60).pose_runs().tolist() == [0]


def test_a_dome_fisheye_wider_than_180_degrees_looks_past_its_horizon():
    cam = Camera.from_pose(160, 120, position=(0, 0, 5), pan_deg=0, tilt_deg=90, hfov_deg=190, model="fisheye")
    d = cam.pixel_rays(0)
    assert d[60, 80, 2] < -0.999                                # the centre looks straight down
    edge = np.degrees(np.arccos(-d[60, [0, -1], 2]))            # angle off the axis at the side edges
    assert np.allclose(edge, 95 - 95 / 160, atol=0.05)           # pixel centres, 95 degrees at the border
    assert (d[..., 2] > 0).any()                                 # rays above the horizon: sky and walls
    inner = -d[..., 2] > np.cos(np.radians(80))
    uv, z = cam.project(cam.C[0] + 3 * d[inner])                # inside 80 degrees: project(ray) is its pixel
    vv, uu = np.nonzero(inner)
    assert np.all(z > 0) and np.allclose(uv, np.stack([uu + 0.5, vv + 0.5], -1), atol=1e-6)


@pytest.mark.parametrize("k1, k2, hfov", [(-0.2, 0.0, 150), (-0.15, -0.02, 170), (-0.25, 0.0, 190)])
def test_a_fisheye_reaching_past_its_fold_has_one_ray_a_pixel(k1, k2, hfov):
    """Past theta^2 = fold_sq the fisheye's polynomial folds back; the model holds its scale there
    (Camera.distort), and the inverse (Newton, then bisection) finds that model's angle, so every
    pixel's ray projects back to its pixel and angles grow outwards along a row."""
    from synthdata.world.geometry.camera import fold_sq

    cam = Camera.from_pose(160, 120, position=(0, 0, 5), pan_deg=0, tilt_deg=90, hfov_deg=hfov, model="fisheye")
    cam = dataclasses.replace(cam, k1=k1, k2=k2)
    th = np.arccos(np.clip(-cam.pixel_rays(0)[..., 2], -1, 1))          # angle off the axis
    assert np.isfinite(th).all()
    assert th.max() ** 2 > fold_sq(k1, k2)                              # the image reaches past the fold
    row = th[60, 80:]
    assert np.all(np.diff(row) > 0)                                     # no fold: the angle grows outwards
    d = cam.pixel_rays(0)
    inner = -d[..., 2] > np.cos(np.radians(85))
    uv, z = cam.project(cam.C[0] + 3 * d[inner])
    vv, uu = np.nonzero(inner)
    assert np.all(z > 0) and np.allclose(uv, np.stack([uu + 0.5, vv + 0.5], -1), atol=1e-6)


@pytest.mark.parametrize("camera, message", [
    ("{hfov_deg: 185, tilt_deg: 90}", "hfov_deg up to 185 needs model: fisheye"),
    ("{model: fisheye, hfov_deg: 190}", "fisheye wider than 180 degrees needs tilt_deg: 90"),
    ("{model: fisheye, hfov_deg: 201, tilt_deg: 90}", "scene.camera.hfov_deg: expected a number <= 200"),
])
def test_field_of_view_limits_are_located_recipe_errors(camera, message):
    from synthdata.errors import RecipeError
    from synthdata.recipe import load_recipe

    text = ("name: f\nseed: 1\noutput: {clips: 1, frames_per_clip: 2, fps: 5, resolution: [64, 48]}\n"
            f"scene:\n  camera: {camera}\n")
    assert load_recipe(text.replace(camera, "{model: fisheye, hfov_deg: 200, tilt_deg: 90}"))
    with pytest.raises(RecipeError) as e:
        load_recipe(text, source="r.yaml")
    assert str(e.value).startswith("r.yaml:5: scene.camera") and message in str(e.value)


@pytest.mark.parametrize("seed", range(4))
def test_compiled_screen_bounds_equal_the_numpy_reference(seed):
    """world/geometry/camera_rows.py `bounds_kernel` projects the same contour points as
    projection.shape_points + Camera.project: every kind (tapered capsules and frustums too),
    lens distortion and a fisheye dome, a primitive the camera is inside."""
    import dataclasses

    from synthdata.world.geometry.camera import Camera
    from synthdata.world.geometry.projection import screen_bounds, screen_bounds_reference
    from tests.scenes import random_world

    world = random_world(seed, k1=0.08 if seed % 2 else 0.0, cones=seed < 2)
    if seed == 3:
        world.camera = Camera.from_pose(160, 120, position=(0, 4, 6), pan_deg=0, tilt_deg=90, hfov_deg=190,
                                        model="fisheye")
    shapes = [a.shapes for a in world.actors] + [world.static]
    inside = dataclasses.replace(world.static, center=np.broadcast_to(world.camera.C[0], world.static.center.shape).copy())
    shapes.append(inside)
    checked = 0
    for sh in shapes:
        got, ok = screen_bounds(sh, world.camera)
        with np.errstate(invalid="ignore", divide="ignore"):       # the camera inside: nan in numpy
            ref, ok_ref = screen_bounds_reference(sh, world.camera)
        assert np.array_equal(ok, ok_ref)
        assert np.array_equal(np.isnan(got), np.isnan(ref))
        assert np.allclose(got[ok], ref[ok], rtol=0, atol=1e-9)
        checked += ok.sum()
    assert checked > 20 and not screen_bounds(inside, world.camera)[1].all()


@pytest.mark.parametrize("size", [(64, 48), (65, 49)])
@pytest.mark.parametrize("model, k1, k2, hfov", [("pinhole", 0.0, 0.0, 70), ("pinhole", -0.2, 0.05, 70),
                                                 ("pinhole", -0.4, 0.0, 120), ("fisheye", 0.01, -0.002, 190)])
def test_every_pixel_ray_is_computed_per_pixel_or_mirrored_to_the_same_bits(size, model, k1, k2, hfov):
    """pixel_rays undistorts one quadrant and mirrors it (a centred principal point, no skew), then
    turns and normalises each ray in one compiled pass: the same rays as undistorting every pixel
    and turning them with numpy, for even and odd sizes, with the Brown model's compiled grid and
    where the image reaches past the distortion's fold (solved by bisection)."""
    W, H = size
    cam = Camera.from_pose(W, H, position=(1, 2, 6), pan_deg=20, tilt_deg=90 if model == "fisheye" else 30,
                           roll_deg=3, hfov_deg=hfov, k1=k1, k2=k2, model=model)
    uu, vv = np.meshgrid(np.arange(W) + 0.5, np.arange(H) + 0.5)
    every = cam._camera_rays(0, uu, vv)
    assert np.array_equal(cam._all_camera_rays(0, 0.0), every)
    turned = every @ cam.R[0]
    turned /= np.linalg.norm(turned, axis=-1, keepdims=True)
    rays = cam.pixel_rays(0)
    assert np.abs(rays - turned).max() < 1e-15
    assert np.array_equal(cam.pixel_rays(0, dtype=np.float32), rays.astype(np.float32))
    assert np.abs(cam.pixel_rays(0, np.stack([uu, vv], -1)[5:9, 3:7]) - turned[5:9, 3:7]).max() < 1e-15
    cam.skew = np.array([0.7])                  # sheared: no mirror symmetry, every pixel computed
    sheared = cam._camera_rays(0, uu, vv)
    assert not np.array_equal(sheared, every) and np.array_equal(cam._all_camera_rays(0, 0.7), sheared)
    cam.skew, cam.cx = None, W / 2 + 3.3          # the principal point off centre: every pixel computed
    shifted = cam._camera_rays(0, uu, vv)
    assert not np.array_equal(shifted, every) and np.array_equal(cam._all_camera_rays(0, 0.0), shifted)
