"""A camera that turns on its mount (shake, PTZ) renders its static background once, as a reference
view, and reads every pose's colours from it (render/pose_cache.py): the geometry and every label
stay exactly those of rendering each pose, the colours move by a fraction of a pixel."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import synthdata.render.background as background
import synthdata.render.effects as effects
import synthdata.render.pose_ahead as pose_ahead
import synthdata.render.pose_cache as pose_cache
import synthdata.render.renderer as renderer
from synthdata.recipe.loader import load_recipe
from synthdata.render.background import render_background, render_reference
from synthdata.render.motion_blur import turn_blur_px
from synthdata.render.pose_cache import MAX_FRAMES, SUPERSAMPLE, plan_reference
from synthdata.render.renderer import Renderer
from synthdata.world.appearance import Appearance
from synthdata.world.geometry.camera_motion import apply_camera_motion
from synthdata.world.sample import sample_clip
from synthdata.world.simulate import simulate
from tests.scenes import random_world


def clip(overrides: list[str], name: str = "parking_lot_day", frames: int = 16, size=(240, 180)):
    r = load_recipe(f"recipes/{name}.yaml", [f"output.frames_per_clip={frames}",
                                            f"output.resolution=[{size[0]},{size[1]}]"] + overrides)
    return simulate(sample_clip(r, 0, seed=21, clip_id="c"))


def reference_pixels(ref_cam, cam, t: int) -> np.ndarray:
    """Where every pixel ray of frame t falls in the reference image (H, W, 2)."""
    d = cam.pixel_rays(t) @ ref_cam.R[0].T
    return np.stack([ref_cam.fx[0] * d[..., 0] / d[..., 2] + ref_cam.cx,
                     ref_cam.fy[0] * d[..., 1] / d[..., 2] + ref_cam.cy], -1)


def test_a_shaking_camera_gets_one_reference_that_holds_every_pose_finely_enough():
    world = clip(["scene.sensor.shake_deg=0.6"])
    cam = world.camera
    assert not cam.is_static
    ref = plan_reference(cam)
    assert ref is not None and ref.num_frames == 1 and np.array_equal(ref.C[0], cam.C[0])
    assert ref.width * ref.height <= MAX_FRAMES * cam.width * cam.height
    for t in range(cam.num_frames):
        uv = reference_pixels(ref, cam, t)
        assert uv[..., 0].min() >= 2 and uv[..., 0].max() <= ref.width - 2
        assert uv[..., 1].min() >= 2 and uv[..., 1].max() <= ref.height - 2
        across, down = np.linalg.norm(np.diff(uv, axis=1), axis=-1), np.linalg.norm(np.diff(uv, axis=0), axis=-1)
        step = np.minimum(across[:-1], down[:, :-1])
        assert step.min() >= 0.97 * SUPERSAMPLE      # a pose pixel spans at least SUPERSAMPLE reference pixels


def test_fixed_cameras_and_wide_patrols_render_each_pose():
    assert plan_reference(clip([]).camera) is None
    wide = clip(["scene.sensor.ptz.enabled=true", "scene.sensor.ptz.pan_range_deg=80", "scene.sensor.ptz.zoom=3"],
                frames=60)
    assert not wide.camera.is_static and plan_reference(wide.camera) is None


@pytest.mark.parametrize("overrides", [["scene.sensor.shake_deg=0.6"],
                                       ["scene.sensor.shake_deg=0.6", "scene.weather.condition=rain"]],
                         ids=["dry", "wet"])
def test_resampled_backgrounds_keep_the_geometry_and_the_look(overrides):
    world = clip(overrides)
    r = Renderer(world, "cpu")
    ref = r._reference()
    assert ref is not None
    for t in (0, 7, 15):
        cam = world.camera.frame(t)
        rays = torch.as_tensor(cam.pixel_rays(0, dtype=np.float32))
        direct = render_background(r.lit_world, cam, rays, r.light, r.device)
        read = render_background(r.lit_world, cam, rays, r.light, r.device, ref)
        for name in ("depth", "point", "receiver"):
            assert torch.equal(getattr(direct, name), getattr(read, name)), name
        assert read.normal is None and read.albedo is None       # what only vehicle light pools read
        for name in ("rgb", "rgb_shadow"):
            a, b = getattr(direct, name).numpy().astype(int), getattr(read, name).numpy().astype(int)
            shifted = min(np.abs(a[:, 1:] - a[:, :-1]).mean(), np.abs(a[1:] - a[:-1]).mean())
            assert np.abs(a - b).mean() < 0.7 * shifted, name    # closer than the image moved by one pixel
            energy = lambda im: np.abs(np.diff(im, axis=0)).mean() + np.abs(np.diff(im, axis=1)).mean()  # noqa: E731
            assert energy(b) > 0.8 * energy(a)       # the texture is kept, not blurred away


@pytest.mark.parametrize("name, overrides", [("parking_lot_day", []), ("parking_lot_day", ["scene.weather.condition=rain"]),
                                             ("parking_lot_day", ["scene.lighting.time_of_day=night"]),
                                             ("people_randomized", [])], ids=["dry", "wet", "night", "randomized"])
def test_a_reference_rendered_in_bands_of_rows_is_the_reference_rendered_whole(name, overrides):
    """render_reference renders the reference view a band of rows at a time (its full-size buffers
    never exist at once): every step is a function of the pixel's ray, so bands of 7 rows give
    the colours, albedo and material of one render of the whole view (wet ground, painted lines,
    random textures, night lights)."""
    world = clip(["scene.sensor.shake_deg=0.6"] + overrides, name)
    r = Renderer(world, "cpu")
    ref_cam = plan_reference(world.camera)
    whole = render_background(r.lit_world, ref_cam, torch.as_tensor(ref_cam.pixel_rays(0, dtype=np.float32)), r.light,
                              r.device)
    bands = render_reference(r.lit_world, ref_cam, r.light, r.device, True, 7 * ref_cam.width)
    assert ref_cam.height > 20 * 7
    assert np.array_equal(bands.colours, np.concatenate([whole.rgb.numpy(), whole.rgb_shadow.numpy()], -1))
    assert np.array_equal(bands.albedo, whole.albedo.numpy()) and np.array_equal(bands.material, whole.material.numpy())


def test_poses_read_the_albedo_and_material_that_vehicle_lights_shade():
    world = clip(["scene.sensor.shake_deg=0.6"])
    r = Renderer(world, "cpu")
    ref_cam = plan_reference(world.camera)
    ref = render_reference(r.lit_world, ref_cam, r.light, r.device, True, world.width * world.height)
    assert render_reference(r.lit_world, ref_cam, r.light, r.device, False,
                            world.width * world.height).albedo is None   # kept only where light pools need it
    cam = world.camera.frame(9)
    rays = torch.as_tensor(cam.pixel_rays(0, dtype=np.float32))
    direct = render_background(r.lit_world, cam, rays, r.light, r.device)
    read = render_background(r.lit_world, cam, rays, r.light, r.device, ref)
    assert torch.equal(direct.normal, read.normal)
    a, b = direct.albedo.numpy(), read.albedo.numpy()
    shifted = min(np.abs(a[:, 1:] - a[:, :-1]).mean(), np.abs(a[1:] - a[:-1]).mean())
    assert np.abs(a - b).mean() < 0.7 * shifted                 # closer than the image moved by one pixel
    m, n = direct.material.numpy(), read.material.numpy()
    assert len(np.unique(m)) > 1                                 # painted lines, kerbs
    # they differ only where the material changes next to a pixel (thin lines far away come and go)
    assert ((m != n) & ~edges(m) & ~edges(n)).sum() <= m.size // 1000
    assert (m != n).mean() < 0.03


def edges(m: np.ndarray) -> np.ndarray:
    """Pixels that differ from a 4-neighbour."""
    e = np.zeros(m.shape, bool)
    e[1:] |= m[1:] != m[:-1]
    e[:-1] |= m[1:] != m[:-1]
    e[:, 1:] |= m[:, 1:] != m[:, :-1]
    e[:, :-1] |= m[:, 1:] != m[:, :-1]
    return e


@pytest.mark.parametrize("overrides", [["scene.sensor.shake_deg=0.6"],
                                       ["scene.sensor.shake_deg=0.6", "scene.lighting.time_of_day=night"]],
                         ids=["day", "night"])
def test_labels_are_those_of_rendering_every_pose_and_chunks_do_not_matter(overrides, monkeypatch):
    world = clip(overrides)
    calls = []
    real_pass = background.ground_pass
    real_pose = pose_cache.pose_geometry
    monkeypatch.setattr(background, "ground_pass",
                        lambda *a, **k: calls.append(k.get("texture", True)) or real_pass(*a, **k))
    monkeypatch.setattr(pose_cache, "pose_geometry", lambda *a, **k: calls.append("pose") or real_pose(*a, **k))
    r = Renderer(world, "cpu")
    whole = r.render(0, 16)
    ref_cam = plan_reference(world.camera)
    bands = -(-ref_cam.height // ((world.width * world.height) // ref_cam.width))
    # textured only for the reference (in bands of rows); each pose's ground made with its rays
    assert calls == [True] * bands + ["pose"] * 16
    parts = [Renderer(world, "cpu").render(0, 5), Renderer(world, "cpu").render(5, 16)]
    for name in ("rgb", "instance", "depth", "part"):
        assert torch.equal(getattr(whole, name), torch.cat([getattr(p, name) for p in parts])), name
    monkeypatch.setattr(renderer, "plan_reference", lambda camera: None)
    each = Renderer(world, "cpu").render(0, 16)
    assert (each.instance > 0).sum() > 500
    for name in ("instance", "depth", "part", "amodal_pixels"):
        assert torch.equal(getattr(whole, name), getattr(each, name)), name
    d = np.abs(whole.rgb.numpy().astype(int) - each.rgb.numpy().astype(int))
    assert d.mean() < 3.0


def test_shadowed_colours_read_where_shadows_fall_are_those_of_the_whole_shadowed_image(monkeypatch):
    """Poses from a reference keep no shadowed image: the renderer reads the reference's shadowed
    colours for the pixels an actor's shadow covers, the very frames of resampling it whole."""
    world = clip(["scene.sensor.shake_deg=0.6"])
    lazy = Renderer(world, "cpu")
    frames = [lazy.render(0, 9), lazy.render(9, 16)]
    assert lazy._bg.rgb_shadow is None and lazy._bg.dark_from is lazy._reference()
    monkeypatch.setattr(pose_cache, "READ_SHADOWS_WHERE_CAST", False)
    whole = Renderer(world, "cpu")
    want = whole.render(0, 16)
    assert whole._bg.rgb_shadow is not None
    shadowed = whole._kept_buffer("shadowed", (16, world.height, world.width), torch.uint8)
    assert shadowed.sum() > 200                                  # actors' shadows fell
    for name in ("rgb", "instance", "depth"):
        assert torch.equal(torch.cat([getattr(f, name) for f in frames]), getattr(want, name)), name


@pytest.mark.parametrize("direct", [False, True], ids=["resampled", "rendered"])
def test_poses_reuse_the_buffers_of_poses_done_with_and_draw_the_same_frames(monkeypatch, direct):
    """Poses read from the reference and poses rendered whole (their ground texture, albedo,
    material, normals and sun visibility in reused buffers too) draw the same frames with buffers
    given back by earlier poses as with fresh ones."""
    import synthdata.render.planes as planes
    world = clip(["scene.sensor.shake_deg=0.6", "scene.lighting.time_of_day=night"])
    if direct:
        monkeypatch.setattr(renderer, "plan_reference", lambda camera: None)
    planes.release()
    first = Renderer(world, "cpu", recycle=False).render(0, 16)
    spare = {a.ctypes.data for free in planes._poses.values() for a in free}
    per_pose = 6 if direct else 5     # rays, depth, points, masks, receivers, colours (lit and shadowed
    assert len(spare) >= 15 * per_pose  # when rendered; lit only when read: shadows are read where cast)
    taken = []
    real = planes.pose_buffer

    def spy(*a):
        taken.append(real(*a))
        return taken[-1]
    monkeypatch.setattr(background, "pose_buffer", spy)
    monkeypatch.setattr(pose_ahead, "pose_buffer", spy)
    r = Renderer(world, "cpu", recycle=False)
    again = [r.render(0, 7), r.render(7, 16)]         # the kept pose crosses the chunks
    assert len(taken) >= 16 * per_pose and np.mean([a.ctypes.data in spare for a in taken]) > 0.9
    for name in ("rgb", "instance", "depth", "part"):
        assert torch.equal(getattr(first, name), torch.cat([getattr(p, name) for p in again])), name


@pytest.mark.parametrize("k1,model", [(0.0, "pinhole"), (-0.08, "pinhole"), (0.05, "fisheye")])
def test_the_turning_blur_bound_holds_for_every_pixel(k1, model):
    world = random_world(3, T=6, width=96, height=72, n_people=0, n_boxes=0, k1=k1, model=model)
    appearance = Appearance().with_values(shake_deg=1.5, shake_hz=4.0, effects_seed=2, rolling_shutter_ms=10.0)
    cam = apply_camera_motion(world.camera, appearance, 6, 10.0)
    uv = np.stack(np.meshgrid(np.arange(96) + 0.5, np.arange(72) + 0.5), -1).reshape(-1, 2)
    for f in range(1, 5):
        points = cam.C[f] + 37.0 * cam.pixel_rays(f, uv)
        a, b = cam.project(points, f - 1)[0], cam.project(points, f + 1)[0]
        true = np.hypot(*(b - a).T).max() / 2 * 0.5
        bound = turn_blur_px(cam, f - 1, f + 1, f, 0.5)
        assert true <= bound <= 1.3 * true
    moved = cam.C.copy()
    moved[2] += 0.1
    cam.C = moved
    assert turn_blur_px(cam, 1, 3, 2, 0.5) == np.inf          # a camera that moves: no bound


def test_frames_skip_no_blur_that_the_kernel_would_draw(monkeypatch):
    world = clip(["scene.sensor.shake_deg=0.5", "scene.lighting.time_of_day=night"], frames=12)
    seen = []
    real = effects.turn_blur_px
    monkeypatch.setattr(effects, "turn_blur_px", lambda *a: seen.append(real(*a)) or seen[-1])
    bounded = Renderer(world, "cpu").render(0, 12)
    assert min(seen) < 0.5 <= max(seen)                        # some frames skip the static pixels, some blur
    monkeypatch.setattr(effects, "turn_blur_px", lambda *a: np.inf)
    every = Renderer(world, "cpu").render(0, 12)
    assert torch.equal(bounded.rgb, every.rgb)


@pytest.mark.parametrize("k1", [0.0, -0.12], ids=["pinhole", "distorted"])
def test_a_poses_rays_ground_and_reference_pixels_in_one_pass_are_the_separate_passes(k1):
    """pose_cache.pose_geometry gives, bit for bit, the world rays of Camera.pixel_rays, the
    ground of background_pass.ground_pass (no texture) and the reference pixels that
    resample_background finds from those rays, for poses of a shaking camera."""
    from synthdata.render.background_pass import ground_look, ground_pass
    world = clip(["scene.sensor.shake_deg=0.6", f"scene.camera.k1={k1}", "scene.camera.tilt_deg=10"])
    r = Renderer(world, "cpu")
    ref = render_reference(r.lit_world, plan_reference(world.camera), r.light, r.device, False,
                           world.width * world.height)
    H, W = world.height, world.width
    for t in (0, 7, 15):
        cam = world.camera.frame(t)
        rays = cam.pixel_rays(0, dtype=np.float32)
        depth, point, _, ok, _, _ = ground_pass(rays, np.asarray(cam.C[0], np.float32),
                                                np.asarray(cam.R[0][2], np.float32),
                                                ground_look(world.ground, world.texture_seed), texture=False)
        at = np.empty((H, W, 4), np.int32)
        pose_cache._coordinates(rays, *pose_cache._view(ref), at)
        got_rays = np.full((H, W, 3), np.nan, np.float32)
        g_depth, g_point, g_ok, g_at = pose_cache.pose_geometry(cam, ref, got_rays)
        assert np.array_equal(got_rays, rays) and np.array_equal(g_depth, depth) and np.array_equal(g_point, point)
        assert np.array_equal(g_ok, ok) and np.array_equal(g_at, at)
        assert 0.2 < ok.mean() < 1.0 and len(np.unique(at[..., 2])) > 100   # ground and sky; sub-pixel weights vary


def test_a_patrols_dwells_across_chunks_render_as_the_whole_clip():
    """A moving camera's new poses write their rays straight into the chunk's rays; a dwell that
    goes on into the next chunk makes its rays again there. Chunks cut inside dwells and slews
    give the frames of rendering the clip at once (a PTZ patrol long enough for a reference)."""
    world = clip(["scene.sensor.ptz.enabled=true"], frames=320, size=(160, 120))
    T, runs = world.num_frames, world.camera.pose_runs()
    whole = Renderer(world, "cpu").render(0, T)
    r = Renderer(world, "cpu")
    cuts = [0, 3, 7, 8, 12, 30, 31, 40, 150, T]
    parts = [r.render(a, b) for a, b in zip(cuts[:-1], cuts[1:])]
    assert r._reference() is not None and len(np.unique(runs)) > 20
    assert any(runs[c - 1] == runs[c] for c in cuts[1:-1])      # a dwell spans a cut
    assert any(runs[c - 1] != runs[c] for c in cuts[1:-1])      # and a slew
    for name in ("rgb", "instance", "depth"):
        assert torch.equal(getattr(whole, name), torch.cat([getattr(p, name) for p in parts])), name


@pytest.mark.parametrize("overrides", [["scene.sensor.shake_deg=0.6"],
                                       ["scene.sensor.shake_deg=0.6", "scene.lighting.time_of_day=night"],
                                       ["scene.sensor.ptz.enabled=true", "scene.sensor.ptz.dwell_s=0.3"]],
                         ids=["shake", "shake-night", "ptz"])
def test_poses_rendered_ahead_on_the_pose_thread_give_the_shard_made_in_line(overrides, tmp_path, monkeypatch):
    """With a core to spare (the helper), every other new pose of a chunk is rendered on the pose
    thread (render/pose_ahead.py): the shard's video and tables are the bytes made in line."""
    import threading

    from synthdata.pipeline import generate_shard
    from synthdata.plan import plan

    r = load_recipe("recipes/parking_lot_day.yaml", ["output.frames_per_clip=24", "output.chunk_frames=8",
                                                    "output.resolution=[160,120]", "output.clips=1"] + overrides)
    threads: list[str] = []
    real = pose_ahead.new_pose
    def spy(*a):
        threads.append(threading.current_thread().name)
        return real(*a)
    monkeypatch.setattr(pose_ahead, "new_pose", spy)
    monkeypatch.setattr(renderer, "new_pose", spy)
    files = []
    for helper in (False, True):
        out = tmp_path / str(helper)
        threads.clear()
        generate_shard(r, plan(r)[0], str(out), device="cpu", helper=helper)
        files.append({p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*")
                      if p.is_file() and p.suffix in (".tar", ".parquet")})
        ahead = sum(name.startswith("synthdata-pose") for name in threads)
        assert (ahead > 3 and len(threads) - ahead > 3) if helper else (ahead == 0 and len(threads) > 6)
    assert files[0] == files[1] and len(files[0]) == 5
