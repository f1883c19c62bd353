"""World -> FrameBatch: RGB, instance ids and depth for a range of frames, on any torch device.

The static background is rendered once per clip (fixed camera); each actor is ray-cast only
inside its per-frame screen windows, shaded there, its ground shadow swapped in from the
background's shadowed image, and composited by depth. Nothing random is decided here: texture
and sensor noise come from seeds in the World.

Appearance hooks (World.appearance): overcast light and wet/snowy ground (render/weather.py),
near-infrared night mode (render/nir.py), vehicle head/tail lights moving with their vehicles
(shading.vehicle_lights), and the camera effects chain at the end (render/effects.py).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import torch

from synthdata.render.background import Background, elevated_table, render_background, shadow_windows
from synthdata.render.effects import Effects
from synthdata.render.fabric import PatternTable, apply_patterns
from synthdata.render.nir import NirT
from synthdata.render.raster import TorchShapes, cast, occluded, resolve, size_runs, windows
from synthdata.render.shading import (LightingT, dynamic_irradiance, light_response, shade, tonemap,
                                      vehicle_lights)
from synthdata.render.weather import adjust_lighting
from synthdata.world.geometry.projection import screen_bounds
from synthdata.world.types import World

_CUBE = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)], float)


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
    def __init__(self, world: World, device: torch.device | str = "cpu",
                 part_bounds: list[tuple[np.ndarray, np.ndarray]] | None = None):
        """part_bounds: per actor, the primitives' screen bounds over the whole clip as computed by
        labels/extents.py (screen_bounds); given, they are reused instead of projected again."""
        self.world = world
        self.device = torch.device(device)
        self.part_bounds = part_bounds
        # ---- appearance: weather-adjusted light, NIR mode, vehicle lights, camera effects ----
        lighting = adjust_lighting(world.lighting, world.appearance)
        self.scene = world if lighting is world.lighting else dataclasses.replace(world, lighting=lighting)
        self.light = LightingT.from_lighting(lighting, self.device)
        if world.appearance.sensor.nir:
            self.light.nir = NirT.from_world(world, self.device)
        self.dyn = vehicle_lights(world, self.device)
        self.effects = Effects(world, self.device, nir=self.light.nir is not None, lighting=lighting)
        self.static_camera = world.camera.is_static
        self._bg: Background | None = None
        self._bg_run = -1
        self._stacked: list[Background] = []
        self._stack: tuple = ()
        self._runs = world.camera.pose_runs()
        self._elev: np.ndarray | None = None
        self._rays: torch.Tensor | None = None
        sun = np.asarray(lighting.sun_direction, float)
        self.sun = sun / max(np.linalg.norm(sun), 1e-9)
        self.shadows = lighting.shadows and self.sun[2] > 0.02 and lighting.sun_intensity > 0.05

    # ---- per-clip state ----------------------------------------------------------------------
    def _frame_view(self, t: int) -> tuple[torch.Tensor, Background]:
        """Rays and background of frame t; kept while the camera holds its pose (the whole clip
        for a fixed camera, a dwell for a PTZ patrol), rendered again when it moves."""
        run = int(self._runs[min(t, len(self._runs) - 1)])
        if self._bg is not None and self._bg_run == run:
            return self._rays, self._bg
        cam = self.world.camera.frame(t)
        rays = torch.as_tensor(cam.pixel_rays(0), dtype=torch.float32, device=self.device)
        bg = render_background(self.scene, cam, rays, self.light, self.device)
        self._rays, self._bg, self._bg_run = rays, bg, run
        return rays, bg

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

        rays_one = rays_soa[:, 0]

        def cam_rays(t: torch.Tensor, y: torch.Tensor, x: torch.Tensor):
            d = rays_soa[:, t, y, x] if per_frame else rays_one[:, y, x]
            if C.shape[0] > 1:
                return C_soa[:, t].expand_as(d), d
            return C_soa[:, 0].view((3,) + (1,) * (d.dim() - 1)).expand_as(d), d

        elevated = self._elevated(bgs) if self.shadows else None
        boxes: list[torch.Tensor] = []     # (frame, y0, x0, y1, x1) around each actor's pixels
        order = sorted(range(len(w.actors)), key=lambda i: w.actors[i].track_id)
        for ai in order:
            actor = w.actors[ai]
            present = np.asarray(actor.present[start:stop], bool)
            if not present.any():
                continue
            shapes = actor.shapes.frames(start, stop)
            if self.part_bounds is not None and actor.shapes.num_frames == w.num_frames:
                bounds, ok = (a[start:stop] for a in self.part_bounds[ai])
            else:
                bounds, ok = screen_bounds(shapes, cam)
            win = windows(bounds, ok, W, H)
            win[~present] = 0
            ts = TorchShapes.from_shapes(shapes, dev)
            if self.shadows:
                self._cast_shadow(shapes, ts, win.shape[0], present, bgs, rgb, inst, cam, elevated)
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
            drawn = (amodal[ai] > 0).nonzero(as_tuple=True)[0]
            boxes.append(torch.stack([drawn, buf.y0[drawn], buf.x0[drawn], buf.y0[drawn] + h, buf.x0[drawn] + ww], 1))
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
            alb, nrm, mat = buf.albedo[cov][vis], buf.normal[cov][vis], buf.material[cov][vis]
            if shapes.has_patterns:          # clothing, hair and face patterns (render/fabric.py)
                alb, mat = apply_patterns(alb, mat, point, buf.part[cov][vis], tt, ts, PatternTable(shapes, dev))
            axis = fwd[tt] if fwd.shape[0] > 1 else fwd[0]
            lin = shade(alb, nrm, point, mat, o, self.light, view_axis=axis)
            if self.dyn is not None:
                lin = lin + light_response(alb, mat, dynamic_irradiance(nrm, point, tt + start, self.dyn), self.light)
            depth.view(-1)[g] = z[vis]
            inst.view(-1)[g] = actor.track_id
            rgb.view(-1, 3)[g] = tonemap(lin, self.light.exposure)
        self._stacked, self._stack = [], ()    # the chunk's stacked backgrounds are not kept
        if self.dyn is not None:
            self._light_pools(rgb, inst, bgs, start, stop, cam)
        if boxes:
            antialias(rgb, inst, torch.cat(boxes))
        depth = depth.to(torch.float32)
        self.effects.apply(rgb, inst, depth, start, stop, rays)
        return FrameBatch(start, stop, rgb, inst, depth, amodal)

    def _light_pools(self, rgb: torch.Tensor, inst: torch.Tensor, bgs: list[Background], start: int, stop: int,
                     cam) -> None:
        """Add the vehicle lights' pools to the background pixels of each frame (inside the
        screen window of each light's reach; whole frame under lens distortion)."""
        dyn, H, W = self.dyn, self.world.height, self.world.width
        on = (dyn.col.abs().sum(-1) > 0).cpu().numpy()
        pos, reach = dyn.pos.cpu().numpy(), dyn.range.cpu().numpy()
        lut = self.effects.lut
        for i in range(stop - start):
            f = start + i
            lit = np.flatnonzero(on[:, f])
            if not len(lit):
                continue
            corners = pos[lit, f][:, None, :] + reach[lit][:, None, None] * _CUBE[None]
            corners[..., 2] = np.maximum(corners[..., 2], 0.0)
            uv, z = cam.project(corners.reshape(-1, 3), i if cam.num_frames > 1 else 0)
            if np.any(z <= 1e-3) or cam.k1 or cam.k2 or cam.model != "pinhole":
                x0, y0, x1, y1 = 0, 0, W, H
            else:
                x0, y0 = max(int(uv[:, 0].min()) - 1, 0), max(int(uv[:, 1].min()) - 1, 0)
                x1, y1 = min(int(np.ceil(uv[:, 0].max())) + 1, W), min(int(np.ceil(uv[:, 1].max())) + 1, H)
            if x1 <= x0 or y1 <= y0:
                continue
            b = bgs[i if len(bgs) > 1 else 0]
            m = (inst[i, y0:y1, x0:x1] == 0) & b.receiver[y0:y1, x0:x1]
            ys, xs = m.nonzero(as_tuple=True)
            ys, xs = ys + y0, xs + x0
            E = dynamic_irradiance(b.normal[ys, xs], b.point[ys, xs], f, dyn)
            add = light_response(b.albedo[ys, xs], b.material[ys, xs], E, self.light)
            rgb[i, ys, xs] = tonemap(lut[rgb[i, ys, xs].long()] + add * self.light.exposure, 1.0)

    def _cast_shadow(self, shapes, ts: TorchShapes, T: int, present: np.ndarray, bgs: list[Background],
                     rgb: torch.Tensor, inst: torch.Tensor, cam, elevated: np.ndarray) -> None:
        """Darken background pixels whose view of the sun an actor blocks (before compositing)."""
        win = shadow_windows(shapes, self.sun, cam, elevated)
        win[~present] = 0
        s = self.light.sun_dir
        # distinct backgrounds (one per camera pose in the chunk) and each frame's one
        first: dict[int, int] = {}
        for b in bgs:
            first.setdefault(id(b), len(first))
        distinct = list({id(b): b for b in bgs}.values())
        which = torch.tensor([first[id(b)] for b in bgs], device=s.device)
        if len(self._stacked) != len(distinct) or any(a is not b for a, b in zip(self._stacked, distinct)):
            self._stacked = distinct        # held, so no other background can take their ids
            self._stack = (torch.stack([b.point for b in distinct]).permute(3, 0, 1, 2),
                           torch.stack([b.receiver for b in distinct]),
                           torch.stack([b.rgb_shadow for b in distinct]))
        pts, receiver, rgb_shadow = self._stack
        lift = torch.tensor([0.0, 0.0, 0.01], device=s.device)

        def sun_rays(t, y, x):
            p = pts[:, which[t] if len(bgs) > 1 else 0, y, x]
            shape = (3,) + (1,) * (p.dim() - 1)
            return p + lift.view(shape), s.view(shape)

        hits = occluded(ts, win, lambda t, y, x: sun_rays(t, y, x)[0], s)
        if not len(hits):
            return
        t, y, x = hits.t, hits.y, hits.x
        u = which[t] if len(bgs) > 1 else torch.zeros_like(t)
        keep = receiver[u, y, x] & (inst[t, y, x] == 0)
        t, y, x, u = t[keep], y[keep], x[keep], u[keep]
        shadow = rgb_shadow[u, y, x]
        rgb[t, y, x] = shadow

    def _elevated(self, bgs: list[Background]) -> np.ndarray:
        """Raised-receiver tables of the backgrounds (one, kept, for a fixed camera; one per frame
        otherwise, computed once per distinct background), for `shadow_windows`."""
        if len(bgs) == 1:
            if self._elev is None or not self.static_camera:
                self._elev = elevated_table(bgs[0])
            return self._elev
        tables: dict[int, np.ndarray] = {}
        for b in bgs:
            if id(b) not in tables:
                tables[id(b)] = elevated_table(b)
        return np.stack([tables[id(b)] for b in bgs])


def antialias(rgb: torch.Tensor, inst: torch.Tensor, boxes: torch.Tensor) -> None:
    """Soften object silhouettes: pixels on an instance boundary (differing from a 4-neighbour)
    take the mean of themselves and their 3x3 average. Only colours change; the instance buffer
    (and so every label) keeps hard edges.

    boxes (G, 5) are (frame, y0, x0, y1, x1) around each object's pixels: boundaries lie within one
    pixel of them, so only those boxes (grown by two) are searched, as padded grids of similar
    sizes (see raster.MAX_GRID)."""
    T, H, W = inst.shape
    grown = boxes + torch.tensor([0, -2, -2, 2, 2], device=boxes.device)
    hk, wk = grown[:, 3] - grown[:, 1], grown[:, 4] - grown[:, 2]
    found = [_edges_in_boxes(inst, grown[run]) for run in size_runs(hk * wk, hk, wk)]
    flat = torch.unique(torch.cat(found))
    if not len(flat):
        return
    tt, rest = flat // (H * W), flat % (H * W)
    y, x = rest // W, rest % W
    acc = torch.zeros((len(flat), 3), dtype=torch.float32, device=rgb.device)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            acc += rgb[tt, (y + dy).clamp(0, H - 1), (x + dx).clamp(0, W - 1)].float()
    rgb[tt, y, x] = (0.5 * rgb[tt, y, x].float() + 0.5 * acc / 9 + 0.5).to(torch.uint8)


def _edges_in_boxes(inst: torch.Tensor, boxes: torch.Tensor) -> torch.Tensor:
    """Flat indices (t * H + y) * W + x of the boundary pixels inside boxes (G, 5) shrunk by one
    (each such pixel has all its neighbours inside the box)."""
    T, H, W = inst.shape
    dev = inst.device
    t, y0, x0, y1, x1 = boxes.unbind(1)
    hk, wk = int((y1 - y0).max()), int((x1 - x0).max())
    ys = y0[:, None, None] + torch.arange(hk, device=dev)[None, :, None]
    xs = x0[:, None, None] + torch.arange(wk, device=dev)[None, None, :]
    inside = (ys >= 0) & (ys < H) & (xs >= 0) & (xs < W)
    g = inst[t[:, None, None], ys.clamp(0, H - 1), xs.clamp(0, W - 1)]
    dh = (g[:, :, 1:] != g[:, :, :-1]) & inside[:, :, 1:] & inside[:, :, :-1]
    dv = (g[:, 1:, :] != g[:, :-1, :]) & inside[:, 1:, :] & inside[:, :-1, :]
    edge = torch.zeros_like(inside)
    edge[:, :, 1:] |= dh
    edge[:, :, :-1] |= dh
    edge[:, 1:, :] |= dv
    edge[:, :-1, :] |= dv
    edge &= inside & (ys > y0[:, None, None]) & (ys < (y1 - 1)[:, None, None])
    edge &= (xs > x0[:, None, None]) & (xs < (x1 - 1)[:, None, None])
    gi, i, j = edge.nonzero(as_tuple=True)
    return (t[gi] * H + y0[gi] + i) * W + x0[gi] + j
