"""The moving-camera background in compiled passes (render/background_pass.py) gives the pixels
of the torch reference path it replaced: the ground's hit, texture and material, and the shaded,
tone-mapped lit and shadowed images, pose by pose on a shaking camera."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from synthdata.pipeline import clip_seed
from synthdata.recipe.loader import load_recipe
from synthdata.render.background import ground_albedo, ray_plane_z, sky
from synthdata.render.background_pass import ground_look, ground_pass, shade_tone
from synthdata.render.tone_steps import tone_level, tone_table
from synthdata.render.kernels import shade_surfaces
from synthdata.render.nir import nir_sky
from synthdata.render.packing import pack_lighting
from synthdata.render.renderer import Renderer
from synthdata.render.shading import tonemap
from synthdata.world.sample import sample_clip
from synthdata.world.simulate import simulate

ROOT = Path(__file__).resolve().parents[1]


def shaking_world(recipe: str = "parking_lot_day", *extra: str):
    rec = load_recipe(ROOT / "recipes" / f"{recipe}.yaml",
                      ["output.resolution=[96, 64]", "output.frames_per_clip=4", "scene.sensor.shake_deg=0.6",
                       "scene.camera.tilt_deg=12", *extra])      # a low tilt: sky and ground in view
    return simulate(sample_clip(rec, 0, seed=clip_seed(rec.seed, 0), clip_id="c"))


def reference_ground(world, cam, rays: torch.Tensor):
    """The torch path the ground pass replaced (background.py before it)."""
    C = torch.as_tensor(cam.C[0], dtype=torch.float32)
    fwd = torch.as_tensor(cam.R[0][2], dtype=torch.float32)
    tg = ray_plane_z(C.expand_as(rays), rays)
    depth = tg * (rays * fwd).sum(-1)
    gpt = C + tg.clamp(max=1e6).unsqueeze(-1) * rays
    ok = torch.isfinite(tg) & (tg < 5000)
    albedo, material = ground_albedo(gpt[..., 0], gpt[..., 1], world.ground, world.texture_seed)
    point = torch.where(ok.unsqueeze(-1), gpt, torch.zeros_like(gpt))
    return torch.where(ok, depth, torch.full_like(depth, float("inf"))), point, gpt, ok, albedo, material


@pytest.mark.parametrize("texture", ["asphalt", "tiles", "paving", "concrete", "grass"])
def test_ground_pass_is_the_torch_ground_bit_for_bit_on_every_pose(texture):
    world = shaking_world()
    world = replace(world, ground=replace(world.ground, texture=texture, tile_m=0.7))
    look = ground_look(world.ground, world.texture_seed)
    for t in range(world.num_frames):
        cam = world.camera.frame(t)
        rays = torch.as_tensor(cam.pixel_rays(0), dtype=torch.float32)
        got = ground_pass(rays.numpy(), np.asarray(cam.C[0], np.float32), np.asarray(cam.R[0][2], np.float32), look)
        want = reference_ground(world, cam, rays)
        assert bool(want[3].any()) and not bool(want[3].all())      # ground and sky both in view
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g, w.numpy())


@pytest.mark.parametrize("recipe", ["parking_lot_day", "security_perimeter_night"])   # colour; near-infrared
def test_shading_and_tone_pass_is_the_torch_path_bit_for_bit_on_every_pose(recipe):
    world = shaking_world(recipe)
    r = Renderer(world, "cpu")
    rows, mats, points = pack_lighting(r.light)
    rng = np.random.default_rng(0)
    for t in range(world.num_frames):
        rays, bg = r._frame_view(t)
        cam = world.camera.frame(t)
        assert bool(bg.receiver.any()) and not bool(bg.receiver.all())
        C, fwd = np.asarray(cam.C[0], float), np.asarray(cam.R[0][2], float)
        sunlit = rng.choice(np.array([0.0, 0.4, 1.0], np.float32), size=bg.receiver.shape)
        inputs = [a.numpy() for a in (bg.albedo, bg.normal, bg.point, bg.material, bg.receiver)] + [sunlit]
        lit, dark = np.zeros(bg.albedo.shape, np.float32), np.zeros(bg.albedo.shape, np.float32)
        shade_surfaces(*inputs, C, fwd, rows, mats, points, lit, dark)
        s = (nir_sky(rays) if r.light.nir is not None else sky(rays, world)).numpy()
        want = [tonemap(torch.from_numpy(np.where(inputs[4][..., None], v, s)), r.light.exposure) for v in (lit, dark)]
        table = tone_table(r.light.exposure)
        got = [np.zeros(bg.rgb.shape, np.uint8) for _ in range(2)]
        shade_tone(*inputs, s, C, fwd, rows, mats, points, table.first, table.cut, table.exposure, *got)
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g, w.numpy())
        np.testing.assert_array_equal(bg.rgb_shadow.numpy(), want[1].numpy())   # the background's own


def test_tone_table_gives_torch_tone_curve_at_every_step_and_between():
    for exposure in (1.0, 0.37, 2.5):
        table = tone_table(exposure)
        rng = np.random.default_rng(3)
        x = np.concatenate([rng.random(4096) * 6.0 / exposure, rng.random(4096) * 1e-3, [0.0, -1.0, 1e9]])
        x = x.astype(np.float32)
        # every float within 64 steps of each threshold of the curve (at this exposure)
        thr = np.unique(np.concatenate([[0.0], table.cut[np.isfinite(table.cut)]])).astype(np.float32)
        near = (thr.view(np.int32)[:, None] + np.arange(-64, 65)[None]).clip(0).astype(np.int32).view(np.float32)
        x = np.concatenate([x, (near.ravel() / np.float32(exposure)).astype(np.float32)])
        x = x[: len(x) // 16 * 16]                          # whole vectors, as frames are
        want = tonemap(torch.from_numpy(x), exposure).numpy()
        got = np.array([tone_level(v, table.exposure, table.first, table.cut) for v in x], np.uint8)
        np.testing.assert_array_equal(got, want)
