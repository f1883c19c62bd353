"""The static part of a frame: ground texture and paint, static geometry, sky, static shadows.

Rendered once per clip for a fixed camera (for a turning one once as a reference view that poses
resample, render/pose_cache.py, or once per pose), mostly in the compiled
passes of render/background_pass.py. Besides the shaded image it keeps what later stages need:
per-pixel depth, world point, and the image the ground would have in shadow (so actor shadows
only swap pixels inside their windows).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from numba import njit

from synthdata.render.backend import kernels_for
from synthdata.render.background_pass import ground_look, ground_pass, ground_pass_on_device, paint_pass
from synthdata.render.tone_steps import tone_table
from synthdata.render.nir import nir_sky
from synthdata.render.noise import value_noise
from synthdata.render.packing import Bodies, pack_lighting
from synthdata.render.planes import plane, pose_buffer
from synthdata.render.pose_cache import Reference, resample_background, resample_on_device
from synthdata.render.randomize import retexture
from synthdata.render.raster import shape_windows
from synthdata.render.shading import LightingT, tonemap
from synthdata.render.shadow_windows import SHADOW_LIFT, shadow_windows
from synthdata.render.view_rays import world_rays
from synthdata.render.weather import WeatherT, surface_weather, wet_reflections
from synthdata.world.geometry.camera import Camera
from synthdata.world.geometry.projection import screen_bounds
from synthdata.world.types import MATERIAL, Ground, World


@dataclass
class Background:
    rgb: torch.Tensor          # (H, W, 3) uint8, lit
    rgb_shadow: torch.Tensor | None   # (H, W, 3) uint8, as if the sun were blocked (None: read
                                      # from `dark_from` where a shadow falls, pose_cache.shadow_colours)
    depth: torch.Tensor        # (H, W) camera-axis depth, inf for sky
    point: torch.Tensor        # (H, W, 3) world point (0 for sky)
    receiver: torch.Tensor     # (H, W) bool: a surface that can receive shadows
    albedo: torch.Tensor | None = None     # (H, W, 3) linear albedo (after weather)
    normal: torch.Tensor | None = None     # (H, W, 3)
    material: torch.Tensor | None = None   # (H, W) long
    pooled: tuple = ()      # its planes.pose_buffer arrays, for give_back_pose once nobody reads it
    dark_from: Reference | None = None     # the reference its shadowed colours are read from


def ground_albedo(gx: torch.Tensor, gy: torch.Tensor, ground: Ground, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Albedo (..., 3) and material (...) of the ground at world x, y (metres), in torch: the
    reference of the compiled ground pass (render/background_pass.py gives the same bits; the
    tests hold the two together, so a change of the ground's look is made in both)."""
    dev = gx.device
    gen = torch.Generator().manual_seed(int(seed) & 0x7FFFFFFFFFFFFFFF)
    lat = (torch.rand((3, 128, 128), generator=gen) * 2 - 1).to(dev)
    hue = (torch.rand((2, 3), generator=gen) * 2 - 1).to(dev)
    s = max(ground.texture_scale_m, 1e-3)
    n = (0.55 * value_noise(gx / s, gy / s, lat[0]) + 0.3 * value_noise(gx / (s * 0.31), gy / (s * 0.31), lat[1])
         + 0.15 * value_noise(gx / (s * 5.3), gy / (s * 5.3), lat[2]))
    base = torch.tensor(ground.color, dtype=torch.float32, device=dev)
    k = ground.texture_contrast
    albedo = base * (1 + k * n).unsqueeze(-1)
    tex = ground.texture
    if tex in ("tiles", "paving", "concrete"):
        tile = ground.tile_m if tex != "concrete" else max(ground.tile_m, 3.0)
        u, v = gx / tile, gy / tile
        if tex == "paving":
            u = u * 2 + torch.floor(v) % 2 * 0.5
        fu, fv = u - torch.floor(u), v - torch.floor(v)
        grout = 0.025 * (2 if tex == "paving" else 1) / tile * (3 if tex == "concrete" else 1)
        line = (fu < grout) | (fv < grout)
        cell = value_noise(torch.floor(u) * 7.31, torch.floor(v) * 3.17, lat[2])
        albedo = albedo * (1 + 0.6 * k * cell).unsqueeze(-1)
        albedo = torch.where(line.unsqueeze(-1), albedo * 0.65, albedo)
    elif tex == "grass":
        albedo = albedo * (1 + 0.5 * k * hue[0] * n.unsqueeze(-1))
    xmin, ymin, xmax, ymax = ground.extent
    outside = (gx < xmin) | (gx > xmax) | (gy < ymin) | (gy > ymax)
    beyond = torch.tensor(ground.beyond_color, dtype=torch.float32, device=dev) * (1 + 0.3 * n).unsqueeze(-1)
    albedo = torch.where(outside.unsqueeze(-1), beyond, albedo)
    material = torch.full(gx.shape, MATERIAL["concrete"], dtype=torch.long, device=dev)
    return albedo.clamp(0, 1), material


def paint_ground(albedo: torch.Tensor, material: torch.Tensor, gpt: torch.Tensor, valid: torch.Tensor,
                 ground: Ground, camera: Camera) -> None:
    """Draw ground markings in place (lines of a width, filled polygons), in one compiled pass
    (`paint_pass` on the host, each item only inside its screen window and there only in the
    tiles whose ground points reach its box; the CUDA kernel `paint` with
    the CUDA kernels, where each pixel tests every item's grown box on the ground, which holds
    whatever the windows hold, so no windows are projected on the host); later items paint over
    earlier."""
    H, W = valid.shape
    items = [it for it in ground.paint if len(it.points)]
    if not items:
        return
    pts = [np.asarray(it.points, float) for it in items]
    # each item's bounding rectangle on the ground, grown by its width
    lo = np.stack([p.min(0) - it.width for p, it in zip(pts, items)])
    hi = np.stack([p.max(0) + it.width for p, it in zip(pts, items)])
    first = np.cumsum([0] + [len(p) for p in pts])
    kind = np.array([0 if it.kind == "line" else 1 for it in items], np.int64)
    half = np.array([it.width / 2 for it in items], np.float64)
    colour = np.array([it.color for it in items], np.float32)
    mat = np.array([MATERIAL.get(it.material, 0) for it in items], np.int64)
    k = kernels_for(albedo.device)
    if hasattr(k, "paint"):         # the CUDA kernels (on a GPU, or on the CPU under numba's simulator)
        k.paint(k.array(albedo), k.array(material), k.array(gpt), k.array(valid),
                np.tile(np.array([0, 0, W, H], np.int64), (len(items), 1)), lo, hi, kind, first, np.concatenate(pts),
                half, colour, mat)
        return
    win = _paint_windows(lo, hi, camera, W, H)
    a_np, m_np = albedo.cpu().numpy(), material.cpu().numpy()
    paint_pass(a_np, m_np, gpt.cpu().numpy(), valid.cpu().numpy(), win, lo, hi, kind, first, np.concatenate(pts), half,
               colour, mat)
    if albedo.device.type != "cpu":
        albedo.copy_(torch.as_tensor(a_np, device=albedo.device))
        material.copy_(torch.as_tensor(m_np, device=material.device))


def _paint_windows(lo: np.ndarray, hi: np.ndarray, camera: Camera, W: int, H: int) -> np.ndarray:
    """(n, 4) screen windows x0, y0, x1, y1 of paint items' ground rectangles lo..hi (n, 2): the
    edges sampled (with lens distortion straight edges bow), 2 px of margin; the whole frame for
    one partly behind the camera (each pixel tests the box first), none for one wholly behind."""
    u = np.linspace(0, 1, 9)
    ex = np.concatenate([lo[:, :1] + u * (hi[:, :1] - lo[:, :1]), lo[:, :1] + u * (hi[:, :1] - lo[:, :1]),
                         np.repeat(lo[:, :1], 9, 1), np.repeat(hi[:, :1], 9, 1)], 1)
    ey = np.concatenate([np.repeat(lo[:, 1:], 9, 1), np.repeat(hi[:, 1:], 9, 1),
                         lo[:, 1:] + u * (hi[:, 1:] - lo[:, 1:]), lo[:, 1:] + u * (hi[:, 1:] - lo[:, 1:])], 1)
    n = len(lo)
    uv, z = camera.project(np.stack([ex, ey, np.zeros_like(ex)], -1).reshape(-1, 3), 0)
    uv, z = uv.reshape(n, -1, 2), z.reshape(n, -1)
    behind, bad = np.all(z <= 0, 1), np.any(z <= 0, 1) | ~np.all(np.isfinite(uv), (1, 2))
    good = np.where(bad[:, None, None], 0.0, uv)
    win = np.stack([np.maximum(np.floor(good[..., 0].min(1)).astype(np.int64) - 2, 0),
                    np.maximum(np.floor(good[..., 1].min(1)).astype(np.int64) - 2, 0),
                    np.minimum(np.ceil(good[..., 0].max(1)).astype(np.int64) + 2, W),
                    np.minimum(np.ceil(good[..., 1].max(1)).astype(np.int64) + 2, H)], 1)
    win[bad] = 0, 0, W, H
    win[behind] = 0
    return win


def ray_plane_z(o: torch.Tensor, d: torch.Tensor, z: float = 0.0) -> torch.Tensor:
    """Distance to the horizontal plane at height z along rays (..., 3) (inf if parallel/behind)."""
    dz = d[..., 2]
    t = (z - o[..., 2]) / torch.where(dz.abs() > 1e-12, dz, torch.full_like(dz, 1e-12))
    return torch.where((t > 0) & (dz.abs() > 1e-12), t, torch.full_like(t, float("inf")))


def sky(rays: torch.Tensor, world: World) -> torch.Tensor:
    top = torch.tensor(world.lighting.sky_top, dtype=torch.float32, device=rays.device)
    hor = torch.tensor(world.lighting.sky_horizon, dtype=torch.float32, device=rays.device)
    k = rays[..., 2].clamp(0, 1).pow(0.6).unsqueeze(-1)
    return hor * (1 - k) + top * k


def elevated_table(bg: Background, out: np.ndarray | None = None) -> np.ndarray:
    """Summed-area table (H + 1, W + 1) int64 of the pixels whose shadow receiver is raised above
    the ground (for render/shadow_windows.py), into `out` when given. On a GPU only the raised
    pixels' mask comes back to the host (a byte a pixel, not the points)."""
    H, W = bg.receiver.shape
    S = np.empty((H + 1, W + 1), np.int64) if out is None else out
    if bg.point.device.type == "cpu":
        _raised_table(bg.receiver.numpy(), bg.point.numpy()[..., 2], RAISED_M, S)
    else:
        raised = raised_mask(bg).cpu().numpy()
        _raised_table(raised, raised, 0, S)
    return S


def raised_mask(bg: Background) -> torch.Tensor:
    """(H, W) uint8, on bg's device: 1 where the shadow receiver is raised above the ground."""
    return (bg.receiver & (bg.point[..., 2] > RAISED_M)).to(torch.uint8)


def elevated_tables(bgs: list[Background]) -> np.ndarray:
    """(T, H + 1, W + 1) `elevated_table`s of a moving camera's backgrounds, each distinct one
    computed once, into a kept plane (render/planes.py): a fresh 80 MB array each chunk was faulted
    in slowly (numpy asks for transparent huge pages above 4 MB)."""
    H, W = bgs[0].receiver.shape
    out, first = plane("background.elevated", (len(bgs), H + 1, W + 1), torch.int64, "cpu").numpy(), {}
    for i, b in enumerate(bgs):
        if id(b) in first:
            out[i] = out[first[id(b)]]
        else:
            first[id(b)] = i
            elevated_table(b, out[i])
    return out


RAISED_M = np.float32(0.005)     # a receiver this far above the ground is raised


@njit(cache=True, nogil=True)
def _raised_table(receiver, z, floor, S):
    """S = the summed-area table of the pixels where receiver and z > floor."""
    H, W = receiver.shape
    S[0, :] = 0
    for y in range(H):
        S[y + 1, 0] = 0
        row = 0
        for x in range(W):
            row += 1 if receiver[y, x] and z[y, x] > floor else 0
            S[y + 1, x + 1] = S[y, x + 1] + row


def render_background(world: World, camera: Camera, rays: torch.Tensor, light: LightingT,
                      device: torch.device, reference: Reference | None = None, pooled: bool = False,
                      lazy_dark: bool = False, geometry: tuple | None = None) -> Background:
    """Everything static, seen by `camera` (a single frame) with per-pixel rays (H, W, 3). With a
    `reference` (render/pose_cache.py: the clip's background rendered once, same camera centre)
    only the geometry is computed here; the colours are read from the reference. pooled: on a
    CPU, its depth, points, receivers and colours are planes.pose_buffer arrays (listed in
    Background.pooled), for a moving camera's poses. lazy_dark (with a reference, CPU kernels): no
    rgb_shadow; the renderer reads the shadowed colours where an actor's shadow falls. With the
    CUDA kernels the colours are read from the reference on the device. geometry (CPU, with a
    reference): (depth, point, ok, at) that pose_cache.pose_geometry made with the rays (pose
    buffers when pooled, given back with the background's)."""
    H, W = rays.shape[:2]
    C = torch.as_tensor(camera.C[0], dtype=torch.float32, device=device)
    k = kernels_for(device)
    on_gpu = hasattr(k, "ground")       # the CUDA kernels (on a GPU, or on the CPU under numba's simulator)
    rays_np = None if on_gpu else rays.detach().cpu().numpy()
    pooled = pooled and device.type == "cpu" and not on_gpu
    taken: list[np.ndarray] = []

    def take(shape: tuple, dtype: type) -> np.ndarray:
        """Where the arrays below are made: the thread's pose buffers when pooled."""
        if not pooled:
            return np.empty(shape, dtype)
        taken.append(pose_buffer(shape, dtype))
        return taken[-1]

    def float_plane(shape: tuple) -> torch.Tensor:
        """A float32 tensor on the device, contents undefined: a pose buffer when pooled."""
        return torch.from_numpy(take(shape, np.float32)) if pooled else torch.empty(shape, device=device)
    look, fwd = ground_look(world.ground, world.texture_seed), np.asarray(camera.R[0][2], np.float32)
    at = None
    if geometry is not None:
        depth, point, ground_ok, at = geometry
        if pooled:
            taken.extend((depth, point, ground_ok))
        depth, point, ground_ok = (torch.from_numpy(a) for a in (depth, point, ground_ok))
        gpt = albedo = material = None
    elif on_gpu:
        depth, point, gpt, ground_ok, albedo, material = ground_pass_on_device(
            k, rays.to(device), camera.C[0], fwd, look, texture=reference is None)
    else:
        depth, point, gpt, ground_ok, albedo, material = (None if a is None else torch.from_numpy(a) for a in ground_pass(
            rays_np, C.cpu().numpy(), fwd, look, texture=reference is None, take=take))
    if reference is None:
        paint_ground(albedo, material, gpt, ground_ok, world.ground, camera)
    depth, point, ground_ok, albedo, material = (None if a is None else a.to(device) for a in
                                                 (depth, point, ground_ok, albedo, material))
    # with a reference and no surfaces read (what light pools shade), the normals are scratch
    scratch_normal = reference is not None and reference.albedo is None
    normal = (plane("background.normal", tuple(rays.shape), torch.float32, device) if scratch_normal
              else float_plane(tuple(rays.shape)))
    if not scratch_normal:
        normal[..., :2] = 0
        normal[..., 2] = 1
    is_ground = ground_ok.clone() if reference is None else ground_ok
    C64 = np.asarray(camera.C[:1], np.float64)
    fwd64 = np.asarray(camera.R[:1, 2], np.float64)
    static = None
    if world.static.num_shapes:
        b, ok = screen_bounds(world.static, camera)
        static = Bodies.build([world.static], [shape_windows(b, ok, world.static, camera, 1)], [1], 1)
        # the static scene is z-buffered straight into the ground's depth, points and normals (each
        # written only where a static primitive is nearer); distance and instance ids are scratch
        dist = plane("background.dist", (1, H, W), torch.float32, device)
        gprim = plane("background.gprim", (1, H, W), torch.int32, device).fill_(-1)
        sinst = plane("background.inst", (1, H, W), torch.int32, device)
        k.raster(static.prm, static.kinds, static.win, static.prim_body, static.body_track, k.array(rays[None]), C64,
                 fwd64, k.array(depth[None]), k.array(dist), k.array(gprim), k.array(sinst), np.empty((H, W), np.int32),
                 np.zeros((1, 1), np.int64), np.zeros((1, 1, 4), np.int64))
        k.surfaces(static.prm, static.kinds, k.array(gprim), k.array(dist), k.array(rays[None]), C64,
                   k.array(point[None]), k.array(normal[None]))
        if reference is None:       # (with a reference, albedo and material are read from it below)
            won = gprim[0] >= 0
            g = gprim[0][won].long()
            albedo[won] = torch.as_tensor(static.color, dtype=torch.float32, device=device)[g]
            material[won] = torch.as_tensor(static.material, device=device)[g]
            is_ground &= ~won
    if reference is not None:
        lazy = lazy_dark and not on_gpu
        if on_gpu:
            rgb, rgb_shadow, albedo, material = resample_on_device(k, reference, rays.to(device))
        else:
            rgb, rgb_shadow, albedo, material = (None if a is None else torch.from_numpy(a).to(device) for a in
                                                 resample_background(reference, rays_np, take, dark=not lazy, at=at))
        return Background(rgb, rgb_shadow, depth, point, finite(depth, take), albedo,
                          None if albedo is None else normal, material, tuple(taken),   # normals: for light pools
                          reference if lazy else None)
    receiver = finite(depth, take)
    retexture(albedo, material, point, is_ground, receiver, world, camera)   # domain randomisation
    sunlit = float_plane(tuple(depth.shape)).fill_(1)
    light_np = np.asarray(world.lighting.sun_direction, float)
    light_np = light_np / np.linalg.norm(light_np)
    if world.lighting.shadows and static is not None and light_np[2] > 0.02:
        sw = shadow_windows(world.static, light_np, camera)
        blocked = plane("background.blocked", (1, H, W), torch.uint8, device).zero_()
        lifted = plane("background.lifted", (1, H, W, 3), torch.float32, device)
        torch.mul(normal, SHADOW_LIFT, out=lifted[0]).add_(point)       # point + normal * SHADOW_LIFT
        k.sun_shadows(static.prm, static.kinds, sw, light_np, np.zeros(1, np.int64), k.array(lifted),
                      k.array(receiver[None]), k.array(plane("background.no_inst", (1, H, W), torch.int32, device).zero_()),
                      k.array(blocked), np.zeros((0, 1, 1, 3), np.uint8), np.zeros((0, 1, 1, 3), np.uint8),
                      np.arange(static.num_prims, dtype=np.int64))      # each static primitive culled alone
        sunlit.masked_fill_(blocked[0].bool(), 0.0)                     # sunlit * (1 - blocked)
    # ---- weather on surfaces (render/weather.py) ----
    wt = WeatherT.from_world(world)
    gloss = None
    if wt.on_ground:
        albedo, gloss = surface_weather(albedo, point, normal, is_ground, wt)
    rows, mats, points = pack_lighting(light)
    sky_fn = nir_sky if light.nir is not None else (lambda r: sky(r, world))
    wet = gloss is not None and bool((gloss > 0).any())
    if not wet:     # the common case: shading, sky and tone curve in one compiled pass
        tone = tone_table(light.exposure)
        rgb, rgb_shadow = (torch.from_numpy(take((H, W, 3), np.uint8)) if pooled else
                           torch.empty((H, W, 3), dtype=torch.uint8, device=device) for _ in range(2))
        sky_rgb = sky_fn(rays) if not bool(receiver.all()) else torch.zeros((1, 1, 3), device=device)
        k.shade_tone(k.array(albedo.contiguous()), k.array(normal.contiguous()), k.array(point.contiguous()),
                     k.array(material.contiguous()), k.array(receiver), k.array(sunlit.contiguous()),
                     k.array(sky_rgb.contiguous()), C64[0], fwd64[0], rows, mats, points,
                     *(k.array(torch.from_numpy(a).to(device)) for a in (tone.first, tone.cut)), tone.exposure,
                     k.array(rgb), k.array(rgb_shadow))
        return Background(rgb, rgb_shadow, depth, point, receiver, albedo, normal, material, tuple(taken))
    lit, dark = torch.zeros_like(albedo), torch.zeros_like(albedo)
    k.shade_surfaces(k.array(albedo.contiguous()), k.array(normal.contiguous()), k.array(point.contiguous()),
                     k.array(material.contiguous()), k.array(receiver), k.array(sunlit.contiguous()), C64[0], fwd64[0],
                     rows, mats, points, k.array(lit), k.array(dark))
    sky_rgb = sky_fn(rays)
    lit = lit + _mode(wet_reflections(point, C, gloss, light, sky_fn, sunlit), light)
    dark = dark + _mode(wet_reflections(point, C, gloss, light, sky_fn, 0.0), light)
    lit = torch.where(receiver.unsqueeze(-1), lit, sky_rgb)
    dark = torch.where(receiver.unsqueeze(-1), dark, sky_rgb)
    return Background(tonemap(lit, light.exposure), tonemap(dark, light.exposure), depth, point, receiver,
                      albedo, normal, material, tuple(taken))


def render_reference(world: World, camera: Camera, light: LightingT, device: torch.device, surfaces: bool,
                     band_px: int) -> Reference:
    """The reference view of a camera that turns on its mount (render/pose_cache.py: `camera` from
    plan_reference), rendered in bands of whole rows of at most band_px pixels (a pose's frame):
    every step of render_background is a function of the pixel's ray, so the bands hold what one
    render would, while the renders' full-size buffers (over 100 bytes a pixel) never exist for
    the whole reference, which holds up to pose_cache.MAX_FRAMES frames' pixels. surfaces: also
    keep the albedo and material (what vehicle light pools shade)."""
    Wr, Hr = camera.width, camera.height
    rows = max(1, int(band_px) // Wr)
    colours = np.empty((Hr, Wr, 6), np.uint8)
    albedo = np.empty((Hr, Wr, 3), np.float32) if surfaces else None
    material = np.empty((Hr, Wr), np.int64) if surfaces else None
    for y0 in range(0, Hr, rows):
        y1 = min(y0 + rows, Hr)
        band = dataclasses.replace(camera, height=y1 - y0, cy=camera.cy - y0)
        bg = render_background(world, band, world_rays(band, device, keep=False), light, device)
        colours[y0:y1, :, :3], colours[y0:y1, :, 3:] = bg.rgb.cpu().numpy(), bg.rgb_shadow.cpu().numpy()
        if surfaces:
            albedo[y0:y1], material[y0:y1] = bg.albedo.cpu().numpy(), bg.material.cpu().numpy()
    return Reference(camera, colours, albedo, material)


def finite(depth: torch.Tensor, take: Callable[[tuple, type], np.ndarray] = np.empty) -> torch.Tensor:
    """torch.isfinite(depth); on the CPU through numpy (several times faster on a frame), into
    take(shape, dtype)."""
    if depth.device.type != "cpu":
        return torch.isfinite(depth)
    return torch.from_numpy(np.isfinite(depth.numpy(), out=take(tuple(depth.shape), np.bool_)))


def _mode(rgb: torch.Tensor, light: LightingT) -> torch.Tensor:
    """Reflected light as the camera sees it: grey in near-infrared mode."""
    if light.nir is None:
        return rgb
    from synthdata.render.nir import luminance
    return luminance(rgb).unsqueeze(-1).expand_as(rgb)
