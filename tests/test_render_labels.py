"""Labels match pixels: boxes, masks, visibility and keypoint flags against the render buffers."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from pycocotools import mask as mask_utils

from synthdata.labels.extents import track_extents
from synthdata.labels.rows import KEYPOINT_MARGIN_M, label_chunk
from synthdata.render.renderer import Renderer
from synthdata.world.types import World
from tests.scenes import random_world


def render_and_label(world: World):
    batch = Renderer(world, "cpu").render(0, world.num_frames)
    ext = track_extents(world)
    return batch, ext, label_chunk(world, batch, "clip", ext)


def rows_of(cols: dict) -> list[dict]:
    return [dict(zip(cols, vals)) for vals in zip(*cols.values())]


def dome_world(seed: int) -> World:
    """The random scene seen by a 190-degree fisheye dome looking straight down from 6 m."""
    from synthdata.world.geometry.camera import Camera

    world = random_world(seed)
    world.camera = Camera.from_pose(160, 120, position=(0, 4, 6), pan_deg=0, tilt_deg=90, hfov_deg=190,
                                    model="fisheye")
    return world


@pytest.mark.parametrize("seed", range(7))
def test_visible_box_and_mask_are_the_instance_pixels(seed):
    world = random_world(seed, k1=0.08 if seed % 3 == 2 else 0.0, cones=seed in (1, 4)) if seed < 6 else dome_world(seed)
    batch, _, cols = render_and_label(world)
    inst = batch.instance.numpy()
    rows = rows_of(cols)
    assert rows, "scene produced no rows"
    seen = set()
    for r in rows:
        m = inst[r["frame"]] == r["track_id"]
        seen.add((r["frame"], r["track_id"]))
        if not m.any():
            assert r["visibility"] == 0 and r["x"] is None and r["mask"] is None
            continue
        ys, xs = np.nonzero(m)
        assert (r["x"], r["y"], r["w"], r["h"]) == (xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1)
        rle = {"size": r["mask"]["size"], "counts": r["mask"]["counts"].encode()}
        assert np.array_equal(mask_utils.decode(rle).astype(bool), m)
        assert r["visible_pixels"] == m.sum()
    # every object that has pixels got a row
    for t in range(inst.shape[0]):
        for tid in np.unique(inst[t]):
            if tid:
                assert (t, tid) in seen


@pytest.mark.parametrize("seed", range(4))
def test_amodal_box_contains_visible_box_and_alone_render_matches_amodal_pixels(seed):
    world = random_world(seed, n_people=3, n_boxes=2)
    batch, ext, cols = render_and_label(world)
    for r in rows_of(cols):
        assert 0.0 <= r["visibility"] <= 1.0
        assert 0.0 <= r["truncation"] <= 1.0
        if r["x"] is None:
            continue
        assert r["x"] >= r["ax"] - 1 and r["y"] >= r["ay"] - 1
        assert r["x"] + r["w"] <= r["ax"] + r["aw"] + 1 and r["y"] + r["h"] <= r["ay"] + r["ah"] + 1
    # each actor rendered alone covers exactly its amodal pixel count
    for i, a in enumerate(world.actors):
        alone = World(world.num_frames, world.fps, world.camera, world.static.__class__.empty(), world.ground,
                      world.lighting, [a])
        b = Renderer(alone, "cpu").render(0, world.num_frames)
        counts = (b.instance == a.track_id).sum((1, 2))
        assert torch.equal(counts, batch.amodal_pixels[i]), a.track_id


@pytest.mark.parametrize("seed", range(4))
def test_keypoint_flags_agree_with_depth_buffer(seed):
    world = random_world(seed, n_people=5, n_boxes=2)
    batch, _, cols = render_and_label(world)
    depth = batch.depth.numpy()
    n_occluded = n_visible = 0
    for r in rows_of(cols):
        if r["keypoints"] is None:
            continue
        kp = np.asarray(r["keypoints"]).reshape(17, 3)
        actor = world.actor(r["track_id"])
        joints = actor.keypoints[r["frame"]]
        uv, z = world.camera.project(joints, r["frame"])
        for j in range(17):
            x, y, v = kp[j]
            inside = 0 <= uv[j, 0] < world.width and 0 <= uv[j, 1] < world.height and z[j] > 0
            if not inside:
                assert v == 0 and x == 0 and y == 0
                continue
            assert np.allclose([x, y], uv[j])
            d = depth[r["frame"], int(np.floor(y)), int(np.floor(x))]
            expect = 2 if d >= z[j] - actor.keypoint_radius[j] - KEYPOINT_MARGIN_M else 1
            assert v == expect
            n_occluded += v == 1
            n_visible += v == 2
    assert n_visible > 0 and n_occluded > 0      # both branches of the flag were exercised


def test_hidden_object_keeps_its_row_with_zero_visibility():
    world = random_world(0, n_people=1, n_boxes=0)
    person = world.actors[0]
    # a wall between the camera and the person hides it completely
    from tests.scenes import box_body
    pos = person.position[0]
    cam = world.camera.C[0]
    mid = cam + 0.3 * (pos + [0, 0, 1] - cam)
    wall = box_body(world.num_frames, [mid[0], mid[1], mid[2] - 3], [0, 0, 0], half=(6, 0.3, 3))
    world.static = wall.at(0)
    batch, _, cols = render_and_label(world)
    rows = rows_of(cols)
    assert rows and all(r["visibility"] == 0 and r["x"] is None and r["mask"] is None for r in rows)
    assert all(r["aw"] > 0 for r in rows)
    flags = [v for r in rows for v in r["keypoints"][2::3] if v]
    assert len(flags) >= 17 and set(flags) == {1}   # joints in the image, every one occluded


def test_analytic_shadows_match_ray_cast_shadows():
    """The analytic shadow test (kernels.sun_shadows) marks the same receiver pixels as casting a
    ray from each receiver towards the sun (pixel.hit_primitive, run here as plain Python)."""
    from synthdata.render import kernels
    from synthdata.render.shadow_windows import shadow_windows
    from synthdata.render.packing import pack_shapes
    from synthdata.render.pixel import INF, hit_primitive

    w = random_world(2, T=3, n_people=4, n_boxes=2, width=96, height=72)
    r = Renderer(w, "cpu")
    r.render(0, 1)
    pts = (r._bg.point + torch.tensor([0, 0, 0.01])).numpy()[None]
    sun = r.sun
    H, W = w.height, w.width
    receiver = r._bg.receiver.numpy()[None]
    for a in w.actors:
        sh = a.shapes.at(0)
        prm, win = pack_shapes(sh), shadow_windows(sh, sun, w.camera)
        fast = np.zeros((1, H, W), np.uint8)
        kernels.sun_shadows(prm, sh.kind.astype(np.int64), win, sun, np.zeros(1, np.int64), pts, receiver,
                            np.zeros((1, H, W), np.int32), fast, np.zeros((0, 1, 1, 3), np.uint8),
                            np.zeros((0, 1, 1, 3), np.uint8), np.zeros(1, np.int64))
        ref = np.zeros_like(fast)
        for p in range(sh.num_shapes):
            x0, y0, x1, y1 = win[0, p]
            for y in range(y0, y1):
                for x in range(x0, x1):
                    o = pts[0, y, x]
                    if receiver[0, y, x] and hit_primitive(int(sh.kind[p]), *map(float, o), *sun, prm[0, p]) < INF:
                        ref[0, y, x] = 1
        assert ref.sum() > 0
        # identical but for pixels grazing a silhouette (float rounding)
        assert (fast ^ ref).sum() <= max(2, int(0.01 * ref.sum()))


def _two_frame_bodies(seed: int, width: int, height: int, sun: np.ndarray | None, n_people: int = 4):
    """A random world's actors over 2 frames packed as bodies with their shadow windows for `sun`
    (None: the world's own), its background's lifted receiving points and receiver mask, and the
    sun used."""
    from synthdata.render.packing import Bodies
    from synthdata.render.shadow_windows import shadow_windows

    w = random_world(seed, T=2, n_people=n_people, n_boxes=2, width=width, height=height, cones=True)
    r = Renderer(w, "cpu")
    r.render(0, 1)
    sun = r.sun if sun is None else sun
    pts = (r._bg.point + torch.tensor([0, 0, 0.01])).numpy()[None]
    shapes = [a.shapes.frames(0, 2) for a in w.actors]
    body = Bodies.build(shapes, [shadow_windows(x, sun, w.camera) for x in shapes], [a.track_id for a in w.actors], 2)
    return w, body, pts, r._bg.receiver.numpy()[None], sun


@pytest.mark.parametrize("sun", [(0.3, -0.2, 0.93), (-0.5, 0.6, 0.62), (0.8, 0.55, 0.12)])
def test_sun_shadow_culling_keeps_every_shadowed_pixel(sun):
    """The CPU kernel culls in the plane orthogonal to the sun (each primitive's bounding disc,
    each body's square around them): it marks exactly the pixels that the analytic test
    (pixel.in_shadow, run here as plain Python) marks for every primitive whose window holds the
    pixel, for a high sun (the other basis of `sun_basis`), a middle one and a grazing one."""
    from synthdata.render import kernels
    from synthdata.render.pixel import in_shadow, shadow_form, sun_basis

    s = np.asarray(sun, float) / np.linalg.norm(sun)
    w, body, pts, receiver, _ = _two_frame_bodies(5, 80, 60, s)
    H, W = w.height, w.width
    fast = np.zeros((2, H, W), np.uint8)
    kernels.sun_shadows(body.prm, body.kinds, body.win, s, np.zeros(2, np.int64), pts, receiver,
                        np.zeros((2, H, W), np.int32), fast, np.zeros((0, 1, 1, 3), np.uint8),
                        np.zeros((0, 1, 1, 3), np.uint8), body.first)
    basis = sun_basis(*s)
    ref = np.zeros_like(fast)
    for t in range(2):
        for p in range(body.num_prims):
            prm = body.prm[t if body.prm.shape[0] > 1 else 0, p]
            form = shadow_form(prm, *s, *basis) if body.kinds[p] == 0 else (0.0, 0.0, 0.0)
            x0, y0, x1, y1 = body.win[t, p]
            for y in range(y0, y1):
                for x in range(x0, x1):
                    if receiver[0, y, x] and in_shadow(int(body.kinds[p]), *map(float, pts[0, y, x]), prm, *s, *basis,
                                                       *form):
                        ref[t, y, x] = 1
    assert ref.sum() > 30
    assert np.array_equal(fast, ref)


def _frames_with_shadow_windows(recipe_name: str, overrides: list[str], clips: tuple[int, ...], widen, monkeypatch):
    """Frames of `clips` of a shipped recipe rendered with the renderer's shadow windows and again
    with each window replaced by widen(window (..., 4), camera) (monkeypatch kept for the test)."""
    from pathlib import Path

    from synthdata.pipeline import render_clip
    from synthdata.recipe.loader import load_recipe
    import synthdata.render.renderer as renderer_module

    recipe = load_recipe(str(Path(__file__).resolve().parents[1] / "recipes" / recipe_name), overrides)
    render = lambda: [np.asarray(render_clip(recipe, i, device="cpu").frames) for i in clips]  # noqa: E731
    fast = render()
    windows = renderer_module.shadow_windows
    monkeypatch.setattr(renderer_module, "shadow_windows",
                        lambda shapes, sun, camera, elevated=None: widen(windows(shapes, sun, camera, elevated), camera))
    return fast, render()


def test_shadow_windows_hold_every_shadowed_pixel_under_a_low_sun(monkeypatch):
    """Shadow rays start 1 cm above their surface (shadow_windows.SHADOW_LIFT), so under a low sun
    a shadow lies nearer its caster than its cast onto the ground: 15 cm at the 4 degrees of
    elevation of people_randomized's clip 1, pixels past the edge of a window cast onto the
    ground. The windows are cast onto that height, and their rings of points around a bounding
    sphere's shadow circumscribe it (clip 2 needs that once the windows' margin is half a pixel):
    the frames are those of shadow windows 20 pixels wider."""
    def grown(out, camera):         # 20 pixels wider on every side (the whole image: a minute)
        some = (out[..., 2] > out[..., 0]) & (out[..., 3] > out[..., 1])
        lo, hi = np.maximum(out[..., :2] - 20, 0), np.minimum(out[..., 2:] + 20, [camera.width, camera.height])
        out[some] = np.concatenate([lo, hi], -1)[some]
        return out

    fast, slow = _frames_with_shadow_windows(
        "people_randomized.yaml", ["output.frames_per_clip=18", "output.resolution=[640,480]", "output.clips=3"],
        (1, 2), grown, monkeypatch)
    for i, a, b in zip((1, 2), fast, slow):
        assert np.array_equal(a, b), i


def test_shadow_windows_reach_as_far_as_a_sun_just_above_the_horizon_casts(monkeypatch):
    """Shadows are drawn for a sun above z = 0.02 of its direction (about 1.1 degrees); at 2 degrees
    a person's shadow is 28 times their height. The windows cast as far as the sun does (they
    cast no further than a sun at z = 0.05 would, and cut 874 shadow pixels off these 3 frames)."""
    def whole(out, camera):
        out[..., :2], out[..., 2], out[..., 3] = 0, camera.width, camera.height
        return out

    fast, slow = _frames_with_shadow_windows(
        "parking_lot_day.yaml", ["output.frames_per_clip=3", "output.resolution=[320,240]",
                                 "scene.lighting.sun_elevation_deg=2"], (0,), whole, monkeypatch)
    assert np.array_equal(fast[0], slow[0])


def test_sun_shadows_skip_by_body_without_changing_a_pixel():
    """The CPU kernel skips a body's primitives where the sun line misses the square around the
    whole body's bounding discs: grouping the same primitives as one body, as the actors, or one
    body per primitive shadows exactly the same pixels and swaps in the same colours."""
    from synthdata.render import kernels

    w, body, pts, receiver, sun = _two_frame_bodies(4, 120, 90, None, n_people=5)
    H, W = w.height, w.width
    shade = np.random.default_rng(0).integers(0, 255, (1, H, W, 3), dtype=np.uint8)
    results = []
    for first in (body.first, np.zeros(1, np.int64), np.arange(body.num_prims, dtype=np.int64)):
        shadowed, rgb = np.zeros((2, H, W), np.uint8), np.zeros((2, H, W, 3), np.uint8)
        kernels.sun_shadows(body.prm, body.kinds, body.win, sun, np.zeros(2, np.int64), pts, receiver,
                            np.zeros((2, H, W), np.int32), shadowed, rgb, shade, first)
        results.append((shadowed, rgb))
    assert results[0][0].sum() > 50
    for shadowed, rgb in results[1:]:
        assert np.array_equal(shadowed, results[0][0]) and np.array_equal(rgb, results[0][1])


def test_ground_only_shadow_windows_draw_the_same_shadows(monkeypatch):
    """Windows with no raised receiver shrink to the ground ellipse: the frames are unchanged."""
    import synthdata.render.renderer as renderer_module
    from synthdata.render.background import elevated_table
    from synthdata.render.shadow_windows import shadow_windows

    w = random_world(2, T=4, n_people=5, n_boxes=3)
    tight = Renderer(w, "cpu")
    assert tight.shadows
    fast = tight.render(0, 4)
    table = elevated_table(tight._bg)
    assert table[-1, -1] > 0                     # the boxes are raised receivers in view

    def area(a, elevated=None) -> int:
        v = shadow_windows(a.shapes, tight.sun, w.camera, elevated)
        return int((np.clip(v[..., 2] - v[..., 0], 0, None) * np.clip(v[..., 3] - v[..., 1], 0, None)).sum())

    assert sum(area(a, table) for a in w.actors) < 0.85 * sum(area(a) for a in w.actors)
    monkeypatch.setattr(renderer_module, "shadow_windows", lambda s, sun, cam, elevated: shadow_windows(s, sun, cam))
    full = Renderer(w, "cpu").render(0, 4)
    assert torch.equal(fast.rgb, full.rgb) and torch.equal(fast.instance, full.instance)


def _antialias_whole_frame(rgb: torch.Tensor, inst: torch.Tensor) -> None:
    """Reference: every pixel differing from a 4-neighbour takes half its 3x3 average."""
    T, H, W = inst.shape
    edge = torch.zeros_like(inst, dtype=torch.bool)
    edge[:, :, 1:] |= inst[:, :, 1:] != inst[:, :, :-1]
    edge[:, :, :-1] |= inst[:, :, 1:] != inst[:, :, :-1]
    edge[:, 1:, :] |= inst[:, 1:, :] != inst[:, :-1, :]
    edge[:, :-1, :] |= inst[:, 1:, :] != inst[:, :-1, :]
    t, y, x = edge.nonzero(as_tuple=True)
    acc = torch.zeros((len(t), 3))
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            acc += rgb[t, (y + dy).clamp(0, H - 1), (x + dx).clamp(0, W - 1)].float()
    rgb[t, y, x] = (0.5 * rgb[t, y, x].float() + 0.5 * acc / 9 + 0.5).to(torch.uint8)


def test_antialias_in_object_boxes_equals_the_whole_frame_search():
    from synthdata.render.backend import antialias

    gen = torch.Generator().manual_seed(3)
    T, H, W = 3, 40, 56
    inst = torch.zeros((T, H, W), dtype=torch.int32)
    boxes = []
    for t in range(T):
        for k in range(1, 6):    # overlapping blobs, some cut by the image border
            cy, cx = torch.randint(-4, H + 4, (2,), generator=gen).tolist()
            ry, rx = torch.randint(2, 12, (2,), generator=gen).tolist()
            yy, xx = torch.meshgrid(torch.arange(H), torch.arange(W), indexing="ij")
            inst[t][((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1] = k
        for k in inst[t].unique().tolist():
            if k:
                ys, xs = (inst[t] == k).nonzero(as_tuple=True)
                boxes.append([t, int(ys.min()), int(xs.min()), int(ys.max()) + 1, int(xs.max()) + 1])
    boxes += [[0, 0, W + 2, 5, W + 2], [1, 3, W - 1, 9, W], [2, 0, 0, H, 1]]   # off the frame, its last and first columns
    rgb = torch.randint(0, 256, (T, H, W, 3), generator=gen, dtype=torch.uint8)
    fast, ref = rgb.clone(), rgb.clone()
    antialias(fast, inst, torch.tensor(boxes))
    _antialias_whole_frame(ref, inst)
    assert not torch.equal(ref, rgb) and torch.equal(fast, ref)


def test_windows_of_hulls_behind_or_across_the_camera_plane_stay_bounded():
    from synthdata.render.shadow_windows import hull_windows
    from synthdata.world.geometry.camera import Camera

    cam = Camera.from_pose(160, 120, position=(0, 0, 6), pan_deg=0, tilt_deg=35, roll_deg=0, hfov_deg=70)
    fwd = cam.R[0][2]
    rng = np.random.default_rng(0)
    # a long box from behind the camera to in front of it (crossing its plane), one wholly
    # behind it, one well in front
    across = np.array([[x, y, z] for x in (-2, 2) for y in (-8, 6) for z in (0, 1.5)], float)
    behind = across - 16 * np.array([fwd[0], fwd[1], 0]) / np.hypot(fwd[0], fwd[1])
    ahead = across + [0, 22, 0]
    assert cam.project(across)[1].min() < 0 < cam.project(across)[1].max() and cam.project(behind)[1].max() < 0
    win = hull_windows(np.stack([across, behind, ahead]), cam)
    area = np.clip(win[:, 2] - win[:, 0], 0, None) * np.clip(win[:, 3] - win[:, 1], 0, None)
    assert area[1] == 0 and 0 < area[0] < 160 * 120 and 0 < area[2]
    for k, box in ((0, across), (2, ahead)):     # every visible point of the box is inside
        lo, hi = box.min(0), box.max(0)
        uv, z = cam.project(lo + rng.random((4000, 3)) * (hi - lo))
        inside = (z > 1e-3) & (uv[:, 0] >= 0) & (uv[:, 0] < 160) & (uv[:, 1] >= 0) & (uv[:, 1] < 120)
        u, v = uv[inside].T
        assert inside.any() and np.all((u >= win[k, 0]) & (u <= win[k, 2]) & (v >= win[k, 1]) & (v <= win[k, 3]))


def test_compiled_visible_extents_match_torch_reductions():
    """The CPU pass over the instance buffer gives the counts and boxes the torch path gives."""
    import torch

    from synthdata.labels.rows import extents_by_torch, visible_extents

    rng = np.random.default_rng(2)
    inst = torch.from_numpy(rng.integers(0, 4, (3, 17, 23), dtype=np.int32) * (rng.random((3, 17, 23)) > 0.6))
    inst[1] = 0                                      # a frame with nobody in it
    inst[2, 5:9, 11:14] = 6                          # track 6 only here; 4 and 5 nowhere
    a, b = visible_extents(inst, 6), extents_by_torch(inst, 6)
    assert set(a) == set(b)
    for k in a:
        assert np.array_equal(a[k], b[k]), k
    assert a["count"][2, 6] == 12 and (a["x0"][2, 6], a["x1"][2, 6], a["y0"][2, 6], a["y1"][2, 6]) == (11, 13, 5, 8)
