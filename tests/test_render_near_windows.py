"""Primitives that reach behind the camera: their screen windows come from the rays that can meet
them (render/raster.py `cone_windows`), not the whole image, and they render the same pixels."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import synthdata.render.raster as raster_module
from synthdata.render.raster import cone_windows
from synthdata.render.renderer import Renderer
from synthdata.world.geometry.camera import Camera
from synthdata.world.geometry.projection import screen_bounds
from synthdata.world.types import Actor, Shapes
from tests.scenes import box_body, random_world

CAMERAS = [dict(), dict(k1=-0.1), dict(model="fisheye")]


def passing_truck(world, T: int) -> Shapes:
    """A 12 m truck of three 4 m boxes driving across just below the camera: its far end behind
    the camera's plane."""
    C = world.camera.C[0]
    return Shapes.concat([box_body(T, [C[0] - 3, C[1] + dy, 0], [2.0, 0, 0], half=(2, 1.2, 1.5), yaw=np.pi / 2)
                          for dy in (-4, 0, 4)])


def panning(camera: Camera, T: int) -> Camera:
    """The camera turning 2 degrees a frame on its mount."""
    from synthdata.world.geometry.camera import look_rotation

    R = np.stack([look_rotation(2 * t, 30) @ np.linalg.inv(look_rotation(0, 30)) @ camera.R[0] for t in range(T)])
    return Camera(camera.width, camera.height, np.repeat(camera.fx[:1], T), np.repeat(camera.fy[:1], T), camera.cx,
                  camera.cy, R, np.repeat(camera.C[:1], T, 0), camera.k1, camera.k2, camera.model)


def whole_image(win, ok, centre, radius, camera) -> None:
    """cone_windows switched off: unknown extents keep the whole image (the old behaviour)."""


@pytest.mark.parametrize("seed,lens,turning", [(s, c, s == 2) for s in range(3) for c in CAMERAS])
def test_a_truck_across_the_camera_plane_renders_the_same_pixels_in_its_cone_windows(seed, lens, turning, monkeypatch):
    T = 4
    world = random_world(seed, T=T, **lens)
    if turning:
        world.camera = panning(world.camera, T)
    truck = passing_truck(world, T)
    assert not screen_bounds(truck, world.camera)[1].all(axis=1).any()   # no projected extent in any frame
    world.actors.append(Actor(99, "car", truck, np.zeros((T, 3)), np.zeros(T), np.ones(T, bool)))
    wall = box_body(1, world.camera.C[0] + [4, 0, -world.camera.C[0][2]], [0, 0, 0], half=(0.2, 5, 3))
    world.static = Shapes.concat([world.static, wall])            # a static wall beside the camera, too
    assert not screen_bounds(wall, world.camera)[1].all()

    seen = []
    real = raster_module.cone_windows

    def record(win, ok, *rest):
        before = win.copy()
        real(win, ok, *rest)
        bad = ~np.broadcast_to(ok, win.shape[:2])
        area = lambda w: (np.clip(w[..., 2] - w[..., 0], 0, None) * np.clip(w[..., 3] - w[..., 1], 0, None))[bad]
        if win.shape[0] == T:       # the actors' windows (the static scene's have one frame)
            seen.append((area(before).sum(), area(win).sum()))

    monkeypatch.setattr(raster_module, "cone_windows", record)
    fast = Renderer(world, "cpu").render(0, T)
    assert seen and all(after < 0.5 * before for before, after in seen)
    assert all((fast.instance[t] == 99).sum() > 100 for t in range(T))

    monkeypatch.setattr(raster_module, "cone_windows", whole_image)
    slow = Renderer(world, "cpu").render(0, T)
    for name in ("rgb", "instance", "depth", "amodal_pixels", "part"):
        assert torch.equal(getattr(fast, name), getattr(slow, name)), name


@pytest.mark.parametrize("lens", CAMERAS)
def test_cone_windows_hold_every_pixel_whose_ray_meets_the_sphere(lens):
    rng = np.random.default_rng(7)
    H, W = 90, 124
    cam = Camera.from_pose(W, H, position=(0, 0, 5), pan_deg=10, tilt_deg=30, hfov_deg=75, **lens)
    rays = cam.pixel_rays(0, dtype=np.float32).astype(np.float64)
    rays /= np.linalg.norm(rays, axis=-1, keepdims=True)
    o = cam.C[0]
    fwd, right = cam.R[0][2], cam.R[0][0]
    centres = [o + fwd * rng.uniform(-1, 1.5) + right * rng.uniform(-4, 4) + rng.normal(0, 1, 3) for _ in range(40)]
    centres += [o - 6 * fwd, o + 0.1 * right]                  # wholly behind; around the camera
    radius = np.array([rng.uniform(0.3, 2.0) for _ in range(40)] + [1.0, 0.5])
    P = len(centres)
    win = np.tile(np.array([0, 0, W, H], np.int64), (1, P, 1))
    cone_windows(win, np.zeros((1, P), bool), np.array(centres)[None], radius[None], cam)
    shrunk = 0
    for p, (c, r) in enumerate(zip(centres, radius)):
        v = c - o
        along = rays @ v
        meets = (along > 0) & (np.sum(v * v) - along ** 2 <= r * r)
        x0, y0, x1, y1 = win[0, p]
        ys, xs = np.nonzero(meets)
        assert np.all((xs >= x0) & (xs < x1) & (ys >= y0) & (ys < y1)), p
        shrunk += (x1 - x0) * (y1 - y0) < 0.5 * W * H
    assert tuple(win[0, P - 2]) == (0, 0, 0, 0) and tuple(win[0, P - 1]) == (0, 0, W, H)
    assert shrunk > 20


def whole_frame(bounds, ok, width, height, pad=1):
    return np.broadcast_to(np.array([0, 0, width, height], np.int64), bounds.shape[:-1] + (4,)).copy()


@pytest.mark.parametrize("seed,lens", [(0, dict(k1=-0.09)), (1, dict(k1=-0.06, k2=-0.01)), (2, dict(model="fisheye")),
                                       (3, dict())])
def test_windows_under_lens_distortion_hold_every_pixel_a_primitive_covers(seed, lens, monkeypatch):
    """A long wall across the view (distortion bows its top edge outwards by pixels) and boxes far
    to the side, past where the distortion polynomial folds back: the windows draw exactly what
    testing every pixel draws, and the boxes off to the side get no window."""
    T = 2
    world = random_world(seed, T=T)
    world.camera = Camera.from_pose(160, 120, position=world.camera.C[0], pan_deg=5, tilt_deg=20, hfov_deg=100,
                                    **lens)
    C = world.camera.C[0]
    fwd = world.camera.R[0][2] * [1, 1, 0]
    fwd /= np.linalg.norm(fwd)
    side = np.cross(fwd, [0, 0, 1])
    wall = box_body(1, C + 14 * fwd - [0, 0, C[2]], [0, 0, 0], half=(9, 0.15, 2.5), yaw=np.arctan2(side[1], side[0]))
    aside = [box_body(T, C + 8 * s * side + 1.2 * fwd - [0, 0, C[2]], [0, 0.1, 0], half=(1.5, 0.8, 0.8))
             for s in (-1, 1)]
    world.static = Shapes.concat([world.static, wall])
    for i, sh in enumerate(aside):
        world.actors.append(Actor(90 + i, "car", sh, np.zeros((T, 3)), np.zeros(T), np.ones(T, bool)))
    b, ok = screen_bounds(Shapes.concat(aside), world.camera)
    assert ok.all()
    far = raster_module.windows(b, ok, world.width, world.height)
    area = np.clip(far[..., 2] - far[..., 0], 0, None) * np.clip(far[..., 3] - far[..., 1], 0, None)
    assert np.all(area < 0.1 * world.width * world.height)     # folded, their bounds spanned the image
    fast = Renderer(world, "cpu").render(0, T)
    monkeypatch.setattr(raster_module, "windows", whole_frame)
    monkeypatch.setattr(raster_module, "cone_windows", whole_image)
    slow = Renderer(world, "cpu").render(0, T)
    for name in ("rgb", "instance", "depth", "amodal_pixels"):
        assert torch.equal(getattr(fast, name), getattr(slow, name)), name


def test_points_past_the_distortion_fold_project_outside_the_image():
    """Brown k1 < 0 folds back past about 64 degrees off axis (k1 = -0.08) and turns negative past
    74: a point there used to land inside the image, on the wrong side. The scale now holds past
    the fold, so the mapping keeps growing."""
    cam = Camera.from_pose(640, 480, position=(0, 0, 2), pan_deg=0, tilt_deg=0, hfov_deg=70, k1=-0.08)
    angles = np.radians([30, 60, 66, 72, 78, 85])
    pts = np.stack([np.sin(angles) * 10, np.cos(angles) * 10, np.full(len(angles), 2.0)], 1)
    u = cam.project(pts)[0][:, 0]
    assert np.all(np.diff(u) > 0) and u[0] < 640 < u[2]
    xn = np.tan(angles)
    scale = cam.distort(xn, np.zeros_like(xn))[0] / xn
    assert np.all(scale > 0)
