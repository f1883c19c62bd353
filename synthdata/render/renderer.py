"""World -> FrameBatch: RGB, instance ids and depth for a range of frames, on any torch device.

The static background is rendered once per clip (fixed camera); each actor is ray-cast only
inside its per-frame screen windows, shaded there, its ground shadow swapped in from the
background's shadowed image, and composited by depth. Nothing random is decided here: texture
and sensor noise come from seeds in the World.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from synthdata.render.background import Background, render_background, shadow_windows
from synthdata.render.raster import TorchShapes, cast, resolve, windows
from synthdata.render.shading import LightingT, shade, tonemap
from synthdata.world.projection import screen_bounds
from synthdata.world.types import World

NOISE_BANK = 6
NOISE_PAD = 8
DEFAULT_NOISE = {"day": 1.5, "dusk": 3.0, "night": 5.0, "indoor": 2.0}


@dataclass
class FrameBatch:
    """Frames [start, stop) of a clip, all tensors on the render device.

    rgb (t, H, W, 3) uint8; instance (t, H, W) int32 track id, 0 = background; depth (t, H, W)
    float32 camera-axis metres, inf = sky; amodal_pixels (A, t) int64: pixels each actor's own,
    unoccluded silhouette covers inside the image (actors in World order)."""

    start: int
    stop: int
    rgb: torch.Tensor
    instance: torch.Tensor
    depth: torch.Tensor
    amodal_pixels: torch.Tensor

    def __len__(self) -> int:
        return self.stop - self.start


class Renderer:
    def __init__(self, world: World, device: torch.device | str = "cpu"):
        self.world = world
        self.device = torch.device(device)
        self.light = LightingT.from_lighting(world.lighting, self.device)
        self.static_camera = world.camera.is_static
        self._bg: Background | None = None
        self._rays: torch.Tensor | None = None
        self._noise: torch.Tensor | None = None
        sun = np.asarray(world.lighting.sun_direction, float)
        self.sun = sun / max(np.linalg.norm(sun), 1e-9)
        self.shadows = world.lighting.shadows and self.sun[2] > 0.02 and world.lighting.sun_intensity > 0.05

    # ---- per-clip state ----------------------------------------------------------------------
    def _frame_view(self, t: int) -> tuple[torch.Tensor, Background]:
        cam = self.world.camera.frame(t)
        if self.static_camera and self._bg is not None:
            return self._rays, self._bg
        rays = torch.as_tensor(cam.pixel_rays(0), dtype=torch.float32, device=self.device)
        bg = render_background(self.world, cam, rays, self.light, self.device)
        if self.static_camera:
            self._rays, self._bg = rays, bg
        return rays, bg

    def _noise_bank(self) -> torch.Tensor | None:
        sigma = float(self.world.appearance.get("noise_sigma", DEFAULT_NOISE.get(self.world.lighting.time_of_day, 2.0)))
        if sigma <= 0:
            return None
        if self._noise is None:
            H, W = self.world.height, self.world.width
            gen = torch.Generator(device=self.device).manual_seed(int(self.world.noise_seed) & 0x7FFFFFFFFFFFFFFF)
            n = torch.randn((NOISE_BANK, H + NOISE_PAD, W + NOISE_PAD, 3), generator=gen, device=self.device)
            self._noise = (n * sigma).round().clamp(-127, 127).to(torch.int16)
        return self._noise

    # ---- rendering ---------------------------------------------------------------------------
    def render(self, start: int, stop: int) -> FrameBatch:
        """Render frames [start, stop) (0-based, stop exclusive)."""
        w = self.world
        T, H, W = stop - start, w.height, w.width
        dev = self.device
        if self.static_camera:
            rays1, bg = self._frame_view(0)
            rgb = bg.rgb.expand(T, H, W, 3).clone()
            depth = bg.depth.expand(T, H, W).clone()
            rays = rays1.unsqueeze(0)
            bgs = [bg]
        else:
            views = [self._frame_view(t) for t in range(start, stop)]
            rays = torch.stack([v[0] for v in views])
            bgs = [v[1] for v in views]
            rgb = torch.stack([b.rgb for b in bgs])
            depth = torch.stack([b.depth for b in bgs])
        inst = torch.zeros((T, H, W), dtype=torch.int32, device=dev)
        cam = w.camera.frames(start, stop)
        C = torch.as_tensor(cam.C, dtype=torch.float32, device=dev)
        fwd = torch.as_tensor(cam.R[:, 2], dtype=torch.float32, device=dev)
        per_frame = rays.shape[0] > 1
        rays_soa = rays.permute(3, 0, 1, 2).contiguous()
        C_soa = C.T.contiguous()
        amodal = torch.zeros((len(w.actors), T), dtype=torch.long, device=dev)

        def cam_rays(t: torch.Tensor, y: torch.Tensor, x: torch.Tensor):
            tc = t if per_frame else torch.zeros_like(t)
            ci = t if C.shape[0] > 1 else torch.zeros_like(t)
            return C_soa[:, ci], rays_soa[:, tc, y, x]

        order = sorted(range(len(w.actors)), key=lambda i: w.actors[i].track_id)
        for ai in order:
            actor = w.actors[ai]
            present = np.asarray(actor.present[start:stop], bool)
            if not present.any():
                continue
            shapes = actor.shapes.frames(start, stop)
            bounds, ok = screen_bounds(shapes, cam)
            win = windows(bounds, ok, W, H)
            win[~present] = 0
            ts = TorchShapes.from_shapes(shapes, dev)
            if self.shadows:
                self._cast_shadow(shapes, ts, win.shape[0], present, bgs, rgb, inst, cam)
            hits = cast(ts, win, cam_rays)
            if not len(hits):
                continue
            fw = fwd[hits.t] if fwd.shape[0] > 1 else fwd[0]
            tc = hits.t if per_frame else torch.zeros_like(hits.t)
            d_hit = rays[tc, hits.y, hits.x]
            buf = resolve(hits, ts, T, (d_hit * fw).sum(-1))
            cov = buf.covered
            amodal[ai] = cov.sum((1, 2))
            h, ww = cov.shape[1:]
            tt = torch.arange(T, device=dev)[:, None, None].expand(T, h, ww)
            ys = buf.y0[:, None, None] + torch.arange(h, device=dev)[None, :, None]
            xs = buf.x0[:, None, None] + torch.arange(ww, device=dev)[None, None, :]
            cov = cov & (ys < H) & (xs < W)
            tt, ys, xs = tt[cov], ys.expand(T, h, ww)[cov], xs.expand(T, h, ww)[cov]
            z = buf.depth[cov]
            g = (tt * H + ys) * W + xs
            vis = z < depth.view(-1)[g]
            if not bool(vis.any()):
                continue
            g, tt, ys, xs = g[vis], tt[vis], ys[vis], xs[vis]
            o, d = cam_rays(tt, ys, xs)
            o, d = o.T, d.T
            point = o + buf.dist[cov][vis].unsqueeze(-1) * d
            lin = shade(buf.albedo[cov][vis], buf.normal[cov][vis], point, buf.material[cov][vis], o, self.light)
            depth.view(-1)[g] = z[vis]
            inst.view(-1)[g] = actor.track_id
            rgb.view(-1, 3)[g] = tonemap(lin, self.light.exposure)
        self._antialias(rgb, inst)
        noise = self._noise_bank()
        if noise is not None:
            for i in range(T):
                k = (start + i) % NOISE_BANK
                dy, dx = ((start + i) * 5) % NOISE_PAD, ((start + i) * 3) % NOISE_PAD
                rgb[i] = (rgb[i].to(torch.int16) + noise[k, dy:dy + H, dx:dx + W]).clamp(0, 255).to(torch.uint8)
        return FrameBatch(start, stop, rgb, inst, depth.to(torch.float32), amodal)

    def _cast_shadow(self, shapes, ts: TorchShapes, T: int, present: np.ndarray, bgs: list[Background],
                     rgb: torch.Tensor, inst: torch.Tensor, cam) -> None:
        """Darken background pixels whose view of the sun an actor blocks (before compositing)."""
        win = shadow_windows(shapes, self.sun, cam)
        win[~present] = 0
        s = self.light.sun_dir
        static_bg = len(bgs) == 1

        if static_bg:
            pts = bgs[0].point.permute(2, 0, 1)
        else:
            pts = torch.stack([b.point for b in bgs]).permute(3, 0, 1, 2)
        lift = torch.tensor([0.0, 0.0, 0.01], device=s.device)

        def sun_rays(t, y, x):
            p = pts[:, y, x] if static_bg else pts[:, t, y, x]
            shape = (3,) + (1,) * (p.dim() - 1)
            return p + lift.view(shape), s.view(shape)

        hits = cast(ts, win, sun_rays, normals=False)
        if not len(hits):
            return
        t, y, x = hits.t, hits.y, hits.x
        recv = bgs[0].receiver[y, x] if static_bg else torch.stack([b.receiver for b in bgs])[t, y, x]
        keep = recv & (inst[t, y, x] == 0)
        t, y, x = t[keep], y[keep], x[keep]
        shadow = bgs[0].rgb_shadow[y, x] if static_bg else torch.stack([b.rgb_shadow for b in bgs])[t, y, x]
        rgb[t, y, x] = shadow

    @staticmethod
    def _antialias(rgb: torch.Tensor, inst: torch.Tensor) -> None:
        """Soften object silhouettes: pixels on an instance boundary take a 3x3 average.

        Only colours change; the instance buffer (and so every label) keeps hard edges."""
        if not bool((inst != 0).any()):
            return
        T, H, W = inst.shape
        edge = torch.zeros_like(inst, dtype=torch.bool)
        edge[:, :, 1:] |= inst[:, :, 1:] != inst[:, :, :-1]
        edge[:, :, :-1] |= inst[:, :, 1:] != inst[:, :, :-1]
        edge[:, 1:, :] |= inst[:, 1:, :] != inst[:, :-1, :]
        edge[:, :-1, :] |= inst[:, 1:, :] != inst[:, :-1, :]
        t, y, x = edge.nonzero(as_tuple=True)
        if not len(t):
            return
        acc = torch.zeros((len(t), 3), dtype=torch.float32, device=rgb.device)
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                acc += rgb[t, (y + dy).clamp(0, H - 1), (x + dx).clamp(0, W - 1)].float()
        rgb[t, y, x] = (0.5 * rgb[t, y, x].float() + 0.5 * acc / 9 + 0.5).to(torch.uint8)
