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
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np
import torch

from synthdata.render.background import Background, elevated_table, elevated_tables, render_reference
from synthdata.render.effects import Effects
from synthdata.render.nir import NirT
from synthdata.render.overlay import mark_overlay
from synthdata.render.backend import kernels_for
from synthdata.render.hit_shading import hit_tone_table
from synthdata.render.packing import Bodies, pack_lighting, pack_moving_lights
from synthdata.render.planes import frame_pool, give_back_pose, kept, own_store, plane, plane_pool, stack_into
from synthdata.render import pose_cache
from synthdata.render.pose_ahead import new_pose, render_ahead
from synthdata.render.pose_cache import Reference, plan_reference
from synthdata.render.raster import receiver_tiles, shape_windows
from synthdata.render.shading import LightingT, vehicle_lights
from synthdata.render.still import draw_still, still_bodies
from synthdata.render.shadow_windows import lifted_points, light_windows, shadow_windows, window_extents
from synthdata.render.weather import adjust_lighting
from synthdata.world.geometry.projection import screen_bounds
from synthdata.world.types import Shapes, World


@dataclass
class FrameBatch:
    """Frames [start, stop) of a clip, all tensors on the render device.

    rgb (t, H, W, 3) uint8; instance (t, H, W) int32 track id, 0 = background; depth (t, H, W)
    float32 camera-axis metres, inf = sky; amodal_pixels (A, t) int64: pixels each actor's own,
    unoccluded silhouette covers inside the image (actors in World order); part (t, H, W) int16:
    index of the primitive each pixel sees within its actor's Shapes (the actor of `instance`),
    PART_SCENE (-1, render/parts.py) for the static scene and sky, PART_LENS (-2) where something at the lens
    (a tampering cover, the burned-in overlay) hides the scene."""

    start: int
    stop: int
    rgb: torch.Tensor
    instance: torch.Tensor
    depth: torch.Tensor
    amodal_pixels: torch.Tensor
    part: torch.Tensor | None = None
    done: Callable[[], None] | None = None      # gives rgb's memory back (planes.FramePool) once unread
    finish: Callable[[], None] | None = None    # the camera's passes still to apply to rgb (Renderer defer)

    def __len__(self) -> int:
        return self.stop - self.start


class Renderer:
    def __init__(self, world: World, device: torch.device | str = "cpu",
                 part_bounds: list[tuple[np.ndarray, np.ndarray]] | None = None, parts: bool = True,
                 recycle: bool = False, defer: bool = False):
        """part_bounds: per actor, the primitives' screen bounds over the whole clip as computed by
        labels/extents.py (screen_bounds); given, they are reused instead of projected again.
        parts: fill FrameBatch.part (only dense ground truth reads it). recycle: a FrameBatch's instance
        and depth planes are kept buffers (render/planes.py) the thread's next render call overwrites.
        defer: on the CPU, unless an opaque cover slides over the lens (it changes labels), leave the
        camera's passes to FrameBatch.finish, which a caller may run on another thread while the
        next chunk renders (the plate's look, lens, weather, motion blur, sensor, overlay: a third
        to a half of a plate or moving camera's render; the overlay's occluders are in the label
        planes already). The planes they read then come from a pool and go back to it once read,
        so later chunks may render meanwhile (`deferred`). A deferring renderer has a core to spare:
        a moving camera's new poses render two at a time (render/pose_ahead.py)."""
        self.world = world
        self.device = torch.device(device)
        self.part_bounds, self.parts, self.recycle = part_bounds, parts, recycle
        # ---- appearance: weather-adjusted light, NIR mode, vehicle lights, camera effects ----
        lighting = adjust_lighting(world.lighting, world.appearance)
        self.lit_world = world if lighting is world.lighting else dataclasses.replace(world, lighting=lighting)
        self.light = LightingT.from_lighting(lighting, self.device)
        if world.appearance.sensor.nir:
            self.light.nir = NirT.from_world(world, self.device)
        self.dyn = vehicle_lights(world, self.device)
        self.k = kernels_for(self.device)
        self.light_rows = pack_lighting(self.light)
        self.moving = pack_moving_lights(self.dyn)
        self.effects = Effects(world, self.device, nir=self.light.nir is not None, lighting=lighting)
        self.backdrop = None
        if world.backdrop is not None:      # a real plate behind the scene (render/backdrop.py)
            from synthdata.render.backdrop import PlateBackdrop
            self.backdrop = PlateBackdrop(world, self.light, self.device)
            self.effects.s.read_noise_e, self.effects.s.full_well_e = 0.0, math.inf   # the plate's noise instead
        self.static_camera = world.camera.is_static
        tampering = world.appearance.tampering
        self.deferred = defer and self.device.type == "cpu" and not any(e.kind == "covered" for e in tampering)
        self._bg: Background | None = None
        self._bg_run = -1
        self._ref: Reference | bool | None = None     # False: no reference for this clip
        self._stacked: list[Background] = []
        self._stack: tuple = ()
        self._runs = world.camera.pose_runs()
        self._pose_pooled = not self.static_camera and self.backdrop is None and not hasattr(self.k, "pose_rays")
        self._ahead: dict = {}     # poses being rendered on the pose thread, by run
        self._elev: np.ndarray | None = None
        self._rays: torch.Tensor | None = None
        self._rays_pooled = False
        self._rays_slot = False      # self._rays is a slot of the chunk's rays (`_frame_view`'s into)
        self._tiles_of: Background | None = None
        self._tiles: tuple[np.ndarray, np.ndarray] = (np.zeros((0, 0, 3)), np.zeros((0, 0)))
        self._own = own_store(self)     # kept from call to call (planes.stack_into)
        sun = np.asarray(lighting.sun_direction, float)
        self.sun = sun / max(np.linalg.norm(sun), 1e-9)
        self.shadows = lighting.shadows and self.sun[2] > 0.02 and lighting.sun_intensity > 0.05

    # ---- per-clip state ----------------------------------------------------------------------
    def _frame_view(self, t: int, into: torch.Tensor | None = None) -> tuple[torch.Tensor, Background]:
        """Rays and background of frame t; kept while the camera holds its pose (the whole clip
        for a fixed camera, a dwell for a PTZ patrol), rendered again when it moves. into: (H, W,
        3) float32 on the CPU, where a moving camera's new pose writes its rays with the CPU
        kernels (`render`'s slot of frame t in the chunk's rays: no copy there)."""
        run = int(self._runs[min(t, len(self._runs) - 1)])
        if self._bg is not None and self._bg_run == run:
            if self._rays is None:       # a pose kept from the last chunk, whose rays were its buffer's
                self._rays = torch.from_numpy(self.world.camera.frame(t).pixel_rays(
                    0, dtype=np.float32, out=None if into is None else into.numpy()))
            return self._rays, self._bg
        # with the CPU kernels a moving camera's poses take their buffers from planes.pose_buffer
        # and give them back when done: the rays when the next pose replaces them (unless written
        # into `into`), the background when the chunk is rendered (`render`); the CUDA ones make rays
        pooled = self._pose_pooled
        if pooled and self._rays is not None and self._rays_pooled:
            give_back_pose(self._rays.numpy())
        ahead = self._ahead.pop(run, None)      # rendered on the pose thread (render/pose_ahead.py)
        rays, bg = ahead.result() if ahead is not None else new_pose(self, t, into)
        self._rays, self._bg, self._bg_run = rays, bg, run
        self._rays_pooled, self._rays_slot = pooled and into is None, pooled and into is not None
        return rays, bg

    def _reference(self) -> Reference | None:
        """The clip's static background rendered once for a camera that turns on its mount
        (render/pose_cache.py), on first need; None where each pose is rendered."""
        if self._ref is None:
            ref_cam = plan_reference(self.world.camera) if not self.static_camera else None
            if ref_cam is None:
                self._ref = False
            else:
                self._ref = render_reference(self.lit_world, ref_cam, self.light, self.device, self.dyn is not None,
                                             self.world.width * self.world.height)
        return self._ref or None

    # ---- rendering ---------------------------------------------------------------------------
    def render(self, start: int, stop: int) -> FrameBatch:
        """Render frames [start, stop) (0-based, stop exclusive)."""
        w = self.world
        T, H, W, dev = stop - start, w.height, w.width, self.device
        taken: list[Callable[[], None]] = []    # planes the deferred passes read, given back after them
        rgb, give_back = frame_pool().take((T, H, W, 3), torch.uint8, dev)
        if self.static_camera:
            rays1, bg = self._frame_view(0)
            rgb.copy_(bg.rgb.expand(T, H, W, 3))
            depth = self._out("depth", (T, H, W), torch.float32, taken).copy_(bg.depth.expand(T, H, W))
            rays = rays1.unsqueeze(0)
            bgs = [bg]
        else:
            rays = (self._pooled((T, H, W, 3), torch.float32, taken) if self.deferred
                    else self._kept_buffer("rays", (T, H, W, 3), torch.float32))
            bgs = []
            cpu = dev.type == "cpu"
            if self.deferred and self._pose_pooled:     # a core to spare: every other new pose beside
                self._ahead = render_ahead(self, start, stop, rays)
            for i in range(T):           # each pose's rays straight into the kept buffer
                r, bg = self._frame_view(start + i, rays[i] if cpu else None)
                if r.data_ptr() != rays[i].data_ptr():
                    rays[i] = r
                bgs.append(bg)
            if self._rays_slot:
                self._rays = None        # a slot of this chunk's rays, which the next chunk writes over
            torch.stack([b.rgb for b in bgs], out=rgb)
            depth = torch.stack([b.depth for b in bgs], out=self._out("depth", (T, H, W), torch.float32, taken))
        k = self.k
        inst = self._out("inst", (T, H, W), torch.int32, taken).zero_()
        gprim, dist = self._scratch(T)
        cam = w.camera.frames(start, stop)
        C, fwd = np.ascontiguousarray(cam.C, np.float64), np.ascontiguousarray(cam.R[:, 2], np.float64)
        amodal = torch.zeros((len(w.actors), T), dtype=torch.long, device=dev)
        order = [ai for ai in sorted(range(len(w.actors)), key=lambda i: w.actors[i].track_id)
                 if np.asarray(w.actors[ai].present[start:stop], bool).any()]
        shapes, wins, presence = [], [], []
        elevated = self._elevated(bgs) if self.shadows and order else None
        for ai in order:
            actor = w.actors[ai]
            present = np.asarray(actor.present[start:stop], bool)
            sh = actor.shapes.frames(start, stop)
            if self.part_bounds is not None and actor.shapes.num_frames == w.num_frames:
                bounds, ok = (a[start:stop] for a in self.part_bounds[ai])
            else:
                bounds, ok = screen_bounds(sh, cam)
            win = shape_windows(bounds, ok, sh, cam, T)
            win[~present] = 0
            shapes.append(sh)
            wins.append(win)
            presence.append(present)
        if self.shadows and order:      # every actor's shadow windows in one vectorised pass
            sw = np.broadcast_to(shadow_windows(Shapes.concat(shapes), self.sun, cam, elevated),
                                 (T, sum(sh.num_shapes for sh in shapes), 4)).copy()
            first = np.cumsum([0] + [sh.num_shapes for sh in shapes])
            for j, present in enumerate(presence):
                sw[~present, first[j]:first[j + 1]] = 0
        falls = window_extents(sw) if self.shadows and order else np.zeros((T, 4), np.int64)  # where shadows fall
        body = Bodies.build(shapes, wins, [w.actors[ai].track_id for ai in order], T)
        B = len(order)
        own = np.zeros((B, T), np.int64)
        boxes = np.empty((B, T, 4), np.int64)
        boxes[..., :2], boxes[..., 2:] = (H, W), -1
        if B:
            a = k.array
            still = still_bodies(shapes, presence, start, stop, self.static_camera)
            held = still[body.prim_body]                    # (P,) primitives of still bodies
            # their colours too, unless a vehicle light lit in the chunk changes them frame by frame
            lit = self._lamps_lit(start, stop)
            done = (held & (not lit)).astype(np.uint8)
            if held.any():      # still bodies drawn and shadowed once, in frame 0, and copied
                draw_still(self, body, held, not lit, sw if self.shadows else None, bgs, rays, C, fwd, start,
                           (rgb, depth, dist, gprim, inst), own, boxes)
                body = dataclasses.replace(body, win=np.where(held[None, :, None], 0, body.win))
                sw = np.where(held[None, :, None], 0, sw) if self.shadows else None
            k.raster(body.prm, body.kinds, body.win, body.prim_body, body.body_track, a(rays), C, fwd, a(depth),
                     a(dist), a(gprim), a(inst), np.empty((H, W), np.int32), own, boxes)
            own[still], boxes[still] = own[still, :1], boxes[still, :1]      # (from draw_still)
            if self.shadows:
                self._cast_shadow(body, sw, bgs, rgb, inst, rays)
            k.shade_hits(body.prm, body.kinds, body.surface, body.material, done, a(gprim), a(dist), a(rays), C, fwd,
                         start, self.light_rows[0], self.light_rows[1], self.light_rows[2], *self.moving,
                         *hit_tone_table(), a(rgb))
            amodal[order] = torch.as_tensor(own, device=dev)
        part = torch.empty((T, H, W), dtype=torch.int16, device=dev) if self.parts else None
        if part is not None:
            local = (np.arange(len(body.prim_body)) - body.first[body.prim_body]).astype(np.int16)
            k.part_index(k.array(gprim), local if B else np.zeros(1, np.int16), k.array(part))
        if self.dyn is not None:
            self._light_pools(rgb, inst, bgs, start, stop, cam)
        bi, ti = np.nonzero(own > 0)
        if len(bi):
            box = np.concatenate([ti[:, None], boxes[bi, ti]], 1)
            k.antialias(k.array(rgb), k.array(inst), box, k.array(self._marks(T, H, W)))
        for b in {id(b): b for b in bgs}.values():      # the chunk's poses but the one kept (`_frame_view`)
            if b is not self._bg and b.pooled:
                give_back_pose(*b.pooled)
        if not self.deferred:
            self._camera(rgb, inst, depth, start, stop, rays, part, falls)
            return FrameBatch(start, stop, rgb, inst, depth, amodal, part, give_back)
        s, undo = self.effects.s, None
        if s.overlay:       # the labels see the burned-in text now, the camera's passes the scene under it
            undo = mark_overlay(inst, depth, part, range(start, stop), s.overlay_start, s.camera_name, w.fps,
                                s.overlay_position)
        finish = partial(self._camera, rgb, inst, depth, start, stop, rays, part, falls, undo, taken)
        return FrameBatch(start, stop, rgb, inst, depth, amodal, part, give_back, finish)

    def _camera(self, rgb: torch.Tensor, inst: torch.Tensor, depth: torch.Tensor, start: int, stop: int,
                rays: torch.Tensor, part: torch.Tensor | None, falls: np.ndarray,
                undo: Callable[[], None] | None = None, taken: list[Callable[[], None]] = ()) -> None:
        """The camera's passes over the rendered chunk, in place on rgb: the plate's look, then
        lens, weather, sensor and what sits at the lens (render/effects.py). undo: puts back the
        label planes under the overlay that `mark_overlay` wrote ahead (the overlay writes them again);
        taken: gives back the planes taken for the deferred passes (`_pooled`) once they are read."""
        if undo is not None:
            undo()
        if self.backdrop is not None:
            self.backdrop.match(rgb, inst, start, int(self.world.noise_seed), falls)
        self.effects.apply(rgb, inst, depth, start, stop, rays, part)
        for give in taken:
            give()

    def _lamps_lit(self, start: int, stop: int) -> bool:
        """Whether a vehicle light is lit in frames [start, stop) (it lights bodies frame by frame)."""
        return self.dyn is not None and bool(self.dyn.col[:, start:stop].any())

    def _scratch(self, T: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The z-buffer's primitive index (-1) and ray distance buffers for T frames, kept between
        chunks (fresh large buffers cost page faults on every chunk). The distance is read only
        where a primitive won (gprim >= 0), which wrote it, so it is not cleared."""
        shape = (T, self.world.height, self.world.width)
        return self._kept_buffer("gprim", shape, torch.int32).fill_(-1), self._kept_buffer("dist", shape, torch.float32)

    def _kept_buffer(self, name: str, shape: tuple, dtype: torch.dtype) -> torch.Tensor:
        """A buffer of `shape` kept between chunks and clips (render/planes.py), for buffers used
        only within one render call."""
        return plane("renderer." + name, shape, dtype, self.device)

    def _marks(self, T: int, H: int, W: int) -> torch.Tensor:
        """antialias's (T, H, W) uint8 scratch of zeros: on the CPU kept by the thread and zeroed
        once (the kernel leaves it zeros; zeroing 10 MB every chunk cost more than its marks)."""
        if self.device.type != "cpu":
            return self._kept_buffer("mark", (T, H, W), torch.uint8).zero_()
        held = kept("renderer.marks", (H, W), lambda: [torch.zeros((0, H, W), dtype=torch.uint8)])
        if held[0].shape[0] < T:
            held[0] = torch.zeros((T, H, W), dtype=torch.uint8)
        return held[0][:T]

    def _out(self, name: str, shape: tuple, dtype: torch.dtype, taken: list[Callable[[], None]]) -> torch.Tensor:
        """A plane that leaves in the FrameBatch: kept when recycling (see __init__), else fresh;
        recycled from a pool when the camera's passes are deferred (`_pooled`)."""
        if self.recycle and self.deferred:
            return self._pooled(shape, dtype, taken)
        return plane("batch." + name, shape, dtype, self.device, fresh=not self.recycle)

    def _pooled(self, shape: tuple, dtype: torch.dtype, taken: list[Callable[[], None]]) -> torch.Tensor:
        """A plane the deferred camera passes read, maybe on another thread while later chunks
        render: from the thread's plane pool (render/planes.py), given back by FrameBatch.finish."""
        buf, give = plane_pool().take(shape, dtype, self.device)
        taken.append(give)
        return buf

    def _light_pools(self, rgb: torch.Tensor, inst: torch.Tensor, bgs: list[Background], start: int, stop: int,
                     cam) -> None:
        """Add the vehicle lights' pools to the background pixels of each frame, each light only
        inside the screen window of its reach: its cone's box for a spot light (the whole frame
        under lens distortion or when the reach crosses the camera plane), cut to the tiles of
        receiving points within its range."""
        distinct = list({id(b): b for b in bgs}.values())
        first = {id(b): i for i, b in enumerate(distinct)}
        which = np.array([first[id(b)] for b in bgs] * (1 if len(bgs) > 1 else stop - start), np.int64)
        win, lwin = light_windows(self.dyn, start, stop, cam, lambda i: self._receiver_tiles(distinct[which[i]]),
                                  self.world.width, self.world.height)
        if not (win[:, 2] > win[:, 0]).any():
            return
        k = self.k
        stack = [torch.stack([getattr(b, n) for b in distinct]) for n in ("receiver", "point", "normal", "albedo")]
        mat = torch.stack([b.material for b in distinct]).to(torch.int64)
        k.light_pools(k.array(rgb), k.array(inst), win, which, *(k.array(a.contiguous()) for a in stack), k.array(mat),
                      start, k.array(self.effects.lut), k.array(self.effects.enc), self.light_rows[0], self.light_rows[1],
                      *self.moving, lwin)

    def _receiver_tiles(self, bg: Background) -> tuple[np.ndarray, np.ndarray]:
        """raster.receiver_tiles of a background, kept until another is asked for (a fixed
        camera keeps one for the whole clip; a moving one asks pose by pose)."""
        if self._tiles_of is not bg:
            self._tiles_of, self._tiles = bg, receiver_tiles(bg.point.cpu().numpy(), bg.receiver.cpu().numpy())
        return self._tiles

    def _cast_shadow(self, body: Bodies, swin: np.ndarray, bgs: list[Background], rgb: torch.Tensor,
                     inst: torch.Tensor, rays: torch.Tensor) -> None:
        """Background pixels whose view of the sun an actor blocks take the shadowed background
        (read from the clip's reference view along rays where the backgrounds keep none: a clip's
        poses all come from its one reference or none do)."""
        k = self.k
        distinct = list({id(b): b for b in bgs}.values())
        ref = distinct[0].dark_from
        first = {id(b): i for i, b in enumerate(distinct)}
        which = np.array([first[id(b)] for b in bgs] * (1 if len(bgs) > 1 else rgb.shape[0]), np.int64)
        if len(self._stacked) != len(distinct) or any(a is not b for a, b in zip(self._stacked, distinct)):
            self._stacked = distinct
            origin = lifted_points(self._own, [b.point for b in distinct])    # lifted off the surface
            self._stack = (origin,
                           stack_into(self._own, "receiver", [b.receiver for b in distinct]),
                           None if ref is not None else stack_into(self._own, "rgb_shadow",
                                                                   [b.rgb_shadow for b in distinct]))
        origin, receiver, rgb_shadow = self._stack
        shadowed = self._kept_buffer("shadowed", tuple(inst.shape), torch.uint8).zero_()
        # with a reference the kernel only marks the shadowed pixels (no colours: zero frames)
        colours = (k.array(rgb), k.array(rgb_shadow)) if ref is None else (np.zeros((0, 1, 1, 3), np.uint8),) * 2
        k.sun_shadows(body.prm, body.kinds, swin, self.sun, which, k.array(origin), k.array(receiver), k.array(inst),
                      k.array(shadowed), *colours, body.first)
        if ref is not None:
            pose_cache.shadow_colours(ref, shadowed.numpy(), rays.numpy(), rgb.numpy())

    def _elevated(self, bgs: list[Background]) -> np.ndarray:
        """Raised-receiver tables of the backgrounds (one, kept, for a fixed camera; one per frame
        otherwise, computed once per distinct background), for `shadow_windows`."""
        if len(bgs) == 1:
            if self._elev is None or not self.static_camera:
                self._elev = elevated_table(bgs[0])
            return self._elev
        return elevated_tables(bgs)

