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


def test_render_is_deterministic():
    a = Renderer(random_world(3), "cpu").render(0, 4)
    b = Renderer(random_world(3), "cpu").render(0, 4)
    assert torch.equal(a.rgb, b.rgb) and torch.equal(a.instance, b.instance) and torch.equal(a.depth, b.depth)


def test_chunked_render_equals_whole_render():
    w = random_world(5, T=6)
    r = Renderer(w, "cpu")
    whole = r.render(0, 6)
    parts = [r.render(0, 2), r.render(2, 5), r.render(5, 6)]
    assert torch.equal(whole.rgb, torch.cat([p.rgb for p in parts]))
    assert torch.equal(whole.instance, torch.cat([p.instance for p in parts]))


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


def test_sun_shadows_skip_by_body_without_changing_a_pixel():
    """The CPU kernel skips a body's primitives where the sun line misses a sphere around the whole
    body: grouping the same primitives as one body, as the actors, or one body per primitive
    shadows exactly the same pixels and swaps in the same colours."""
    from synthdata.render import kernels
    from synthdata.render.packing import Bodies
    from synthdata.render.shadow_windows import shadow_windows

    w = random_world(4, T=2, n_people=5, n_boxes=2, width=120, height=90, cones=True)
    r = Renderer(w, "cpu")
    r.render(0, 1)
    pts = (r._bg.point + torch.tensor([0, 0, 0.01])).numpy()[None]
    receiver = r._bg.receiver.numpy()[None]
    H, W = w.height, w.width
    shapes = [a.shapes.frames(0, 2) for a in w.actors]
    body = Bodies.build(shapes, [shadow_windows(s, r.sun, w.camera) for s in shapes], [a.track_id for a in w.actors], 2)
    shade = np.random.default_rng(0).integers(0, 255, (1, H, W, 3), dtype=np.uint8)
    results = []
    for first in (body.first, np.zeros(1, np.int64), np.arange(body.num_prims, dtype=np.int64)):
        shadowed, rgb = np.zeros((2, H, W), np.uint8), np.zeros((2, H, W, 3), np.uint8)
        kernels.sun_shadows(body.prm, body.kinds, body.win, r.sun, np.zeros(2, np.int64), pts, receiver,
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
    from synthdata.render.renderer import antialias

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


def test_a_camera_holding_its_pose_renders_its_background_once_per_pose(monkeypatch):
    """A PTZ-like camera (dwell, slew, dwell): the background is rendered once per run of equal
    poses, and the frames equal those rendered with a fresh background every frame."""
    import dataclasses

    import synthdata.render.renderer as renderer_module
    from synthdata.world.geometry.camera import Camera, look_rotation

    w = random_world(5, T=6)
    c = w.camera
    R = np.repeat(c.R[:1], 6, 0)
    R[3:5] = look_rotation(6, 30) @ np.linalg.inv(look_rotation(0, 30)) @ c.R[0]
    R[5] = look_rotation(-5, 30) @ np.linalg.inv(look_rotation(0, 30)) @ c.R[0]
    cam = Camera(c.width, c.height, np.repeat(c.fx[:1], 6), np.repeat(c.fy[:1], 6), c.cx, c.cy, R,
                 np.repeat(c.C[:1], 6, 0), c.k1, c.k2, c.model)
    w = dataclasses.replace(w, camera=cam)
    calls = []
    real = renderer_module.render_background
    monkeypatch.setattr(renderer_module, "render_background", lambda *a, **k: calls.append(1) or real(*a, **k))
    held = Renderer(w, "cpu")
    frames = [held.render(0, 4), held.render(4, 6)]
    assert len(calls) == 3
    fresh = Renderer(w, "cpu")
    fresh._runs = np.arange(6)               # every frame its own pose run
    again = [fresh.render(0, 4), fresh.render(4, 6)]
    assert len(calls) == 9
    for a, b in zip(frames, again):
        assert torch.equal(a.rgb, b.rgb) and torch.equal(a.instance, b.instance)


def test_renderer_reusing_label_extents_draws_the_same_pixels():
    """The pipeline hands the renderer the primitive bounds labels/extents.py already projected."""
    w = random_world(4, T=5)
    plain = Renderer(w, "cpu").render(1, 5)
    reused = Renderer(w, "cpu", part_bounds=track_extents(w).parts).render(1, 5)
    assert torch.equal(plain.rgb, reused.rgb) and torch.equal(plain.instance, reused.instance)


def test_renderer_without_parts_draws_the_same_and_leaves_part_out():
    """Only dense ground truth reads FrameBatch.part; the pipeline asks for it only then."""
    w = random_world(6, T=4)
    with_parts, without = Renderer(w, "cpu").render(0, 4), Renderer(w, "cpu", parts=False).render(0, 4)
    assert with_parts.part is not None and (with_parts.part >= 0).any() and without.part is None
    for name in ("rgb", "instance", "depth", "amodal_pixels"):
        assert torch.equal(getattr(with_parts, name), getattr(without, name)), name


def test_recycling_renderer_draws_the_same_chunks():
    """With recycle the instance and depth planes are kept buffers (render/planes.py) that the next
    render call overwrites; each chunk, read before the next call, is what a fresh render gives."""
    w = random_world(7, T=6)
    fresh, kept = Renderer(w, "cpu"), Renderer(w, "cpu", recycle=True)
    first = kept.render(0, 3)
    inst0 = first.instance.clone()
    for a, b in ((0, 3), (3, 6), (1, 4)):
        want, got = fresh.render(a, b), kept.render(a, b)
        for name in ("rgb", "instance", "depth", "amodal_pixels", "part"):
            assert torch.equal(getattr(want, name), getattr(got, name)), (a, name)
    assert first.instance.data_ptr() == got.instance.data_ptr() and not torch.equal(first.instance, inst0)


def test_renderers_taking_turns_in_one_thread_draw_what_each_draws_alone():
    """Kept planes are shared by a thread's renderers (render/planes.py); what one renderer keeps
    from chunk to chunk (its shadow receivers) must not be such a shared plane."""
    wa, wb = random_world(8, T=6), random_world(9, T=6)
    alone = [Renderer(wa, "cpu").render(a, a + 2).rgb for a in (0, 2, 4)]
    ra, rb = Renderer(wa, "cpu"), Renderer(wb, "cpu")
    for i, a in enumerate((0, 2, 4)):
        assert torch.equal(ra.render(a, a + 2).rgb, alone[i]), a
        rb.render(a, a + 2)


def test_kept_planes_are_per_name_and_per_thread():
    import threading

    from synthdata.render.planes import plane, release

    a = plane("test.a", (4, 5), torch.float32, "cpu")
    assert plane("test.a", (2, 3), torch.float32, "cpu").data_ptr() == a.data_ptr()      # smaller: same memory
    assert plane("test.b", (4, 5), torch.float32, "cpu").data_ptr() != a.data_ptr()
    assert plane("test.a", (4, 5), torch.int32, "cpu").data_ptr() != a.data_ptr()
    assert plane("test.a", (9, 9), torch.float32, "cpu").shape == (9, 9)                  # grows
    other = []
    t = threading.Thread(target=lambda: other.append(plane("test.a", (4, 5), torch.float32, "cpu").data_ptr()))
    t.start()
    t.join()
    assert other[0] != plane("test.a", (4, 5), torch.float32, "cpu").data_ptr()
    assert plane("test.a", (2,), torch.float32, "cpu", fresh=True).data_ptr() != a.data_ptr()
    release()


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


@pytest.mark.parametrize("seed", [0, 5])
def test_still_bodies_drawn_once_a_chunk_give_the_same_frames(seed, monkeypatch):
    """Bodies that hold still through a chunk (parked vehicles, a person standing stock-still) are
    rastered, shadowed and shaded once for it and copied; moving people pass in front of and
    behind them. Every buffer equals drawing each frame whole."""
    w = random_world(seed, T=6, n_people=5, n_boxes=3)
    for a in w.actors[5:] + w.actors[:1]:          # the vehicles and one person hold still
        for name in ("center", "end", "axes", "size"):
            x = getattr(a.shapes, name)
            x[:] = x[:1]
    fast = Renderer(w, "cpu")
    still = fast._still([a.shapes for a in w.actors], [np.ones(6, bool)] * len(w.actors), 0, 6)
    assert still.tolist() == [True, False, False, False, False, True, True, True]
    got = [fast.render(0, 3), fast.render(3, 6)]
    monkeypatch.setattr(Renderer, "_still", lambda self, shapes, presence, start, stop: np.zeros(len(shapes), bool))
    slow = Renderer(w, "cpu")
    want = [slow.render(0, 3), slow.render(3, 6)]
    for g, x in zip(got, want):
        for name in ("rgb", "instance", "depth", "amodal_pixels", "part"):
            assert torch.equal(getattr(g, name), getattr(x, name)), name
    assert (got[0].instance[:, :, :] == w.actors[0].track_id).any()


def test_a_moving_body_keeps_its_ties_with_a_still_body_drawn_ahead(monkeypatch):
    """A still body is drawn before the moving ones; where a moving body that comes earlier in
    compositing order meets it at exactly the same depth, the earlier body still takes the pixel,
    as when every body is drawn in order (pixel.zbuffer_hit)."""
    import copy

    w = random_world(1, T=4, n_people=2, n_boxes=1)
    car = w.actors[2]
    for name in ("center", "end", "axes", "size"):
        x = getattr(car.shapes, name)
        x[:] = x[:1]
    twin = copy.deepcopy(car.shapes)       # the same box as the parked car, for track 1 ...
    twin.center[0, :, 0] += 3.0            # ... which drives into its place after frame 0
    twin.color = np.full_like(twin.color, 0.9)
    w.actors[0].shapes = twin
    fast = Renderer(w, "cpu").render(0, 4)
    assert (fast.instance[1:] == w.actors[0].track_id).sum() > 100
    assert not (fast.instance[1:] == car.track_id).any()      # every tie went to the earlier body
    monkeypatch.setattr(Renderer, "_still", lambda self, shapes, presence, start, stop: np.zeros(len(shapes), bool))
    slow = Renderer(w, "cpu").render(0, 4)
    for name in ("rgb", "instance", "depth", "amodal_pixels", "part"):
        assert torch.equal(getattr(fast, name), getattr(slow, name)), name
