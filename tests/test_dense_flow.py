"""Dense ground truth from the render buffers: part buffer, depth, exact flow (labels/flow.py)."""
from __future__ import annotations

import numpy as np
import pytest

from synthdata.labels.dense import DenseLabeler, flow_pair
from synthdata.labels.flow import FrameBuffers, SceneFlow, part_motion
from synthdata.render.renderer import Renderer
from synthdata.world.geometry.camera_motion import apply_camera_motion
from tests.scenes import box_body, random_world


def render(world):
    world.appearance = world.appearance.with_values(sensor_gain=0.0)    # camera effects off
    return Renderer(world, "cpu").render(0, world.num_frames)


def forward_warp_check(world, batch, t):
    """Forward-warp frame t by its flow onto t + 1: (instance agreement of valid object pixels,
    mean |RGB| error of valid object pixels, of all valid pixels, share of object pixels valid)."""
    f, valid = flow_pair(world, batch, t, batch, t + 1)
    assert np.array_equal(np.isfinite(f).all(-1), valid)
    src = batch.instance[t].numpy()
    ys, xs = np.nonzero(valid)
    qy = np.floor(ys + 0.5 + f[ys, xs, 1]).astype(int)
    qx = np.floor(xs + 0.5 + f[ys, xs, 0]).astype(int)
    obj = src[ys, xs] > 0
    same = batch.instance[t + 1].numpy()[qy, qx] == src[ys, xs]
    rgb = batch.rgb.numpy().astype(np.float32)
    err = np.abs(rgb[t + 1][qy, qx] - rgb[t][ys, xs]).mean(-1)
    return same[obj].mean(), err[obj].mean(), err.mean(), obj.sum() / max((src > 0).sum(), 1)


@pytest.mark.parametrize("seed,k1,model", [(0, 0.0, "pinhole"), (1, 0.0, "pinhole"), (2, 0.08, "pinhole"),
                                           (4, 0.0, "fisheye")])
def test_forward_warp_lands_on_the_same_object_and_reproduces_rgb(seed, k1, model):
    world = random_world(seed, T=3, width=160, height=120, k1=k1, model=model)
    batch = render(world)
    for t in range(2):
        same, err_obj, err_all, kept = forward_warp_check(world, batch, t)
        assert same >= 0.99
        assert kept > 0.8                     # most object pixels stay visible one frame later
        assert err_obj < 8 and err_all < 2    # uint8 levels: shading changes a little as things turn


def test_part_buffer_names_the_primitive_hit_and_depth_is_the_camera_axis_distance():
    """A lone box (one primitive) in front of the camera: part 0 exactly on its pixels, -1
    elsewhere; depth equals the camera-axis distance of the ray/box intersection (numpy slab test)
    and, on the ground, of the ray/ground-plane intersection."""
    world = random_world(3, T=2, width=120, height=90, n_people=0, n_boxes=0)
    world.static = world.static.frames(0, 1)
    from synthdata.world.types import Actor
    shapes = box_body(2, [0.5, 4.0, 0], [0.4, 0, 0])
    world.actors = [Actor(1, "car", shapes, np.zeros((2, 3)), np.zeros(2), np.ones(2, bool))]
    batch = render(world)
    cam = world.camera
    part, inst, depth = batch.part.numpy(), batch.instance.numpy(), batch.depth.numpy()
    assert ((part == 0) == (inst == 1)).all() and ((part == -1) == (inst == 0)).all()
    rays = cam.pixel_rays(0)
    fwd = cam.R[0][2]
    for t in range(2):
        ys, xs = np.nonzero(inst[t] == 1)
        assert len(ys) > 50
        c, A, h = shapes.center[t, 0], shapes.axes[t, 0], shapes.size[t, 0]
        o = (cam.C[0] - c) @ A
        d = rays[ys, xs] @ A
        t1, t2 = (-h - o) / d, (h - o) / d
        near = np.minimum(t1, t2).max(-1)
        assert np.allclose(depth[t][ys, xs], near * (rays[ys, xs] @ fwd), rtol=1e-4, atol=1e-3)
        gy, gx = np.nonzero((inst[t] == 0) & np.isfinite(depth[t]))
        g = cam.ground_point(np.stack([gx + 0.5, gy + 0.5], -1))
        on_ground = np.isfinite(g[:, 0]) & (np.abs(depth[t][gy, gx] - (g - cam.C[0]) @ fwd) < 1e-3 * depth[t][gy, gx])
        assert on_ground.mean() > 0.8         # the rest see the static pole and wall


def rigid_box_world(camera_motion: dict, model: str = "pinhole", k1: float = 0.0):
    world = random_world(5, T=3, width=128, height=96, n_people=0, n_boxes=0, k1=k1, model=model)
    from synthdata.world.types import Actor
    shapes = box_body(3, [-1.0, 5.0, 0], [0.3, 0.1, 0], yaw=0.4)
    world.actors = [Actor(1, "car", shapes, np.zeros((3, 3)), np.zeros(3), np.ones(3, bool))]
    world.camera = apply_camera_motion(world.camera, world.appearance.with_values(**camera_motion),
                                       world.num_frames, world.fps)
    return world, shapes


@pytest.mark.parametrize("motion,model,k1", [
    ({"shake_deg": 0.8, "shake_hz": 3.0, "effects_seed": 3}, "pinhole", -0.05),
    ({"ptz": True, "ptz_patrol": [[0, 0, 1], [25, 5, 1.6]], "ptz_dwell_s": 0.05, "ptz_speed_deg_s": 60.0}, "pinhole", 0.0),
    ({"shake_deg": 0.5, "shake_hz": 2.0, "effects_seed": 1, "rolling_shutter_ms": 20}, "fisheye", 0.02),
])
def test_flow_under_camera_motion_matches_independent_geometry(motion, model, k1):
    """Ground pixels: flow = projection at t+1 of the ray/ground intersection at t. Box pixels:
    the slab-test hit point moved by the box's own translation, projected at t+1."""
    world, shapes = rigid_box_world(motion, model, k1)
    assert not world.camera.is_static
    batch = render(world)
    cam = world.camera
    sf = SceneFlow(world)
    for t in range(2):
        f, valid = sf.flow(FrameBuffers.from_batch(batch, t), FrameBuffers.from_batch(batch, t + 1))
        inst = batch.instance[t].numpy()
        gy, gx = np.nonzero(valid & (inst == 0))
        g = cam.ground_point(np.stack([gx + 0.5, gy + 0.5], -1), t)
        ground = np.isfinite(g[:, 0]) & (np.abs(g[:, 2]) < 1e-9)
        uv, _ = cam.project(g[ground], t + 1)
        expect = uv - np.stack([gx, gy], -1)[ground] - 0.5
        moved = np.abs(expect).max()
        assert moved > 0.3, "the camera should move the image"
        got = f[gy, gx][ground]
        close = np.abs(got - expect).max(-1) < 0.05
        assert close.mean() > 0.97            # ground pixels that see paint/ground exactly
        ys, xs = np.nonzero(valid & (inst == 1))
        assert len(ys) > 30
        rays = cam.pixel_rays(t, np.stack([xs + 0.5, ys + 0.5], -1))
        c, A, h = shapes.center[t, 0], shapes.axes[t, 0], shapes.size[t, 0]
        o = (cam.C[t] - c) @ A
        d = rays @ A
        near = np.minimum((-h - o) / d, (h - o) / d).max(-1)
        p = cam.C[t] + near[:, None] * rays + (shapes.center[t + 1, 0] - c)
        uv, _ = cam.project(p, t + 1)
        assert np.abs(f[ys, xs] - (uv - np.stack([xs, ys], -1) - 0.5)).max() < 0.02


def test_part_motion_moves_points_with_their_primitive():
    world = random_world(0, T=3)
    a = world.actors[0]                      # a stick person: capsules and an ellipsoid head
    M = part_motion(a.shapes, 0, 2)
    s = a.shapes
    from synthdata.world.types import CAPSULE
    for p in range(s.num_shapes):
        pairs = [(s.center[0, p], s.center[2, p])]
        if s.kind[p] == CAPSULE:
            pairs.append((s.end[0, p], s.end[2, p]))
        else:   # a point on the first local axis, at the semi-axis
            pairs.append((s.center[0, p] + s.axes[0, p][:, 0] * s.size[0, p, 0],
                          s.center[2, p] + s.axes[2, p][:, 0] * s.size[2, p, 0]))
        for pt0, pt2 in pairs:
            assert np.allclose(M[p, :, :3] @ pt0 + M[p, :, 3], pt2, atol=1e-9)


def test_dense_labeler_streams_the_same_maps_in_any_chunking_and_ends_flow_with_nan():
    world = random_world(1, T=5, width=96, height=72)
    world.appearance = world.appearance.with_values(sensor_gain=0.0)
    whole = DenseLabeler(world, ["flow", "backflow", "depth", "instances", "classes"])
    r = Renderer(world, "cpu")
    a = whole.add(r.render(0, 5))
    a = {k: np.concatenate([v, whole.finish().get(k, v[:0])]) for k, v in a.items()}
    parts = DenseLabeler(world, ["flow", "backflow", "depth", "instances", "classes"])
    got: dict[str, list] = {}
    for s0, s1 in ((0, 2), (2, 3), (3, 5)):
        for k, v in parts.add(Renderer(world, "cpu").render(s0, s1)).items():
            got.setdefault(k, []).append(v)
    for k, v in parts.finish().items():
        got[k].append(v)
    for k in a:
        b = np.concatenate(got[k])
        assert b.shape[0] == 5 and np.array_equal(a[k], b, equal_nan=True), k
    assert np.isnan(a["flow"][-1]).all() and np.isnan(a["backflow"][0]).all()
    assert np.isfinite(a["flow"][0]).mean() > 0.9
    # backward flow of t+1 undoes forward flow of t where both are valid (static scene: 0 both)
    f, bk = a["flow"][1], a["backflow"][2]
    ys, xs = np.nonzero(np.isfinite(f).all(-1) & (a["instances"][1] > 0))
    qy = np.floor(ys + 0.5 + f[ys, xs, 1]).astype(int)
    qx = np.floor(xs + 0.5 + f[ys, xs, 0]).astype(int)
    back = bk[qy, qx]
    ok = np.isfinite(back).all(-1)
    assert ok.mean() > 0.9
    assert np.median(np.abs(f[ys, xs][ok] + back[ok])) < 0.6   # within a pixel (landing is rounded)


def test_flow_and_depth_pictures():
    from synthdata.render.dense_view import depth_to_rgb, flow_to_rgb, ids_to_rgb

    f = np.zeros((2, 3, 2), np.float32)
    f[0, 1] = [4, 0]
    f[0, 2] = [-4, 0]
    f[1, 0] = np.nan
    img = flow_to_rgb(f)
    assert img.shape == (2, 3, 3) and img.dtype == np.uint8
    assert (img[0, 0] == 255).all() and (img[1, 0] == 0).all()         # no motion white, invalid black
    assert img[0, 1, 0] > 200 and img[0, 1, 2] < 60                    # +x: red end of the wheel
    assert img[0, 2, 2] > 200 and img[0, 2, 0] < 60                    # -x: the opposite side (cyan/blue)
    d = depth_to_rgb(np.array([[1.0, 10.0, np.inf]], np.float32))
    assert d[0, 0].sum() > d[0, 1].sum() > d[0, 2].sum() == 0          # near bright, far dark, sky black
    ids = ids_to_rgb(np.array([[0, 1, 2]]))
    assert (ids[0, 0] == 0).all() and not np.array_equal(ids[0, 1], ids[0, 2])
