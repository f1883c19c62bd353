"""Camera effects on rendered frames, in the order a real camera applies them.

scene light changes + auto-exposure lag -> fog by depth -> falling rain / snow -> motion blur
-> defocus by depth -> raindrops on the dome -> lens dirt -> vignetting -> Poisson-Gaussian
sensor noise -> tone curve -> timestamp / camera-name overlay.

Frames arrive tone-mapped (uint8); effects work on the exposed linear values they came from
(`untonemap_lut`) and tone-map again. Pure post-process effects leave the instance and depth
buffers alone (labels unchanged); only the opaque overlay marks its pixels as occluders.
Effects that move pixels (shake, PTZ, rolling shutter, lens distortion) are camera geometry
(world/geometry/camera_motion.py), never image warps, so labels follow them exactly.

Every setting comes from the typed World.appearance (world/appearance.py); randomness only from seeds
stored in the World, per absolute frame number, so any chunking renders the same pixels.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from synthdata.render.backend import kernels_for
from synthdata.render.blur import axis_ground_distance, blur_boxes, gaussian_blur
from synthdata.render.motion_blur import MIN_BLUR_PX, NCAM, pack_camera, turn_blur_px
from synthdata.render.overlay import draw_overlay
from synthdata.render.planes import plane
from synthdata.render.shading import tonemap, untonemap_lut
from synthdata.render.tamper import apply_tampering
from synthdata.render.weather import WeatherT, precipitation

DEFAULT_GAIN = {"day": 1.5, "dusk": 4.0, "night": 8.0, "indoor": 2.0}
MAX_BLUR_PX = 24
EFFECT_FRAMES_CPU = 2                     # frames per pass of the effects chain on a CPU
ENCODE_BINS, ENCODE_MAX = 16384, 16.0     # tone-curve table over sqrt(x), x in [0, ENCODE_MAX]


def encode_table(device: torch.device) -> torch.Tensor:
    """(ENCODE_BINS,) uint8 tone curve sampled uniformly in sqrt(x): a gather instead of exp/pow
    per pixel (within one level of `tonemap`; exact for unchanged pixels)."""
    s = torch.linspace(0, ENCODE_MAX ** 0.5, ENCODE_BINS, dtype=torch.float64)
    return tonemap(s.float() ** 2, 1.0).to(device)


@dataclass
class EffectSettings:
    """The World.appearance values the effects read, gathered by `from_world` (neutral defaults:
    a clean camera with noise)."""

    gain: float = 1.5
    full_well_e: float = 8000.0
    read_noise_e: float = 3.0
    auto_exposure_s: float = 0.6
    light_schedule: list = field(default_factory=list)
    fog_visibility_m: float = 0.0
    shutter: float = 0.0
    defocus_px: float = 0.0
    focus_m: float = 0.0
    raindrops: int = 0
    lens_dirt: float = 0.0
    vignetting: float = 0.0
    overlay: bool = False
    camera_name: str = "CAM 01"
    overlay_start: str = "2024-01-01 12:00:00"
    overlay_position: str = "top_left"
    nir: bool = False
    seed: int = 0

    @staticmethod
    def from_world(world: Any) -> EffectSettings:
        """Every field read by name from the typed Appearance (a renamed field fails here)."""
        a = world.appearance
        sensor, optics, ov = a.sensor, a.optics, a.overlay
        gain = sensor.gain if sensor.gain is not None else DEFAULT_GAIN.get(world.lighting.time_of_day, 2.0)
        seed = sensor.seed if sensor.seed is not None else world.noise_seed
        return EffectSettings(
            gain=float(gain), full_well_e=float(sensor.full_well_e), read_noise_e=float(sensor.read_noise_e),
            auto_exposure_s=float(sensor.auto_exposure_s), light_schedule=list(a.lighting.light_schedule),
            fog_visibility_m=float(a.weather.fog_visibility_m), shutter=float(optics.shutter),
            defocus_px=float(optics.defocus_px), focus_m=float(optics.focus_m), raindrops=int(optics.raindrops),
            lens_dirt=float(optics.lens_dirt), vignetting=float(optics.vignetting), overlay=bool(ov.enabled),
            camera_name=str(ov.camera_name), overlay_start=str(ov.start), overlay_position=str(ov.position),
            nir=bool(sensor.nir), seed=int(seed))


def frame_seed(seed: int, frame: int, tag: int) -> int:
    return int(np.random.SeedSequence([int(seed) & 0xFFFFFFFF, int(frame), tag]).generate_state(1)[0])


def exposure_factors(schedule: list, num_frames: int, fps: float, tau_s: float) -> np.ndarray:
    """(T,) brightness factor: scene light L(t) (2 ** stops, stepping at the scheduled frames)
    times the camera's exposure e(t), which follows 1 / L(t) with time constant tau_s."""
    stops = np.zeros(num_frames)
    for f, s in schedule:
        stops[int(f):] += float(s)
    alpha = 1.0 if tau_s <= 0 else 1.0 - math.exp(-1.0 / (tau_s * fps))
    log_e = np.zeros(num_frames)
    for t in range(1, num_frames):
        log_e[t] = log_e[t - 1] + alpha * (-stops[t] - log_e[t - 1])
    return np.exp2(stops + log_e)


class Effects:
    """Per-clip effect state (maps, drops, exposure curve) for one World on one device."""

    def __init__(self, world: Any, device: torch.device, nir: bool = False, lighting: Any = None):
        """`lighting`: the lighting the frames were rendered with (default World.lighting)."""
        lighting = lighting if lighting is not None else world.lighting
        self.world, self.device = world, device
        self.s = EffectSettings.from_world(world)
        self.nir = nir
        self.weather = WeatherT.from_world(world)
        self.lut = untonemap_lut(device)
        self.enc = encode_table(device)
        self.exposure = exposure_factors(self.s.light_schedule, world.num_frames, world.fps, self.s.auto_exposure_s)
        self.air = air_light(lighting, nir, lighting.exposure).to(device)
        self.kernels = kernels_for(device)
        self._vignette = self._dirt = self._drops = self._disp = self._runs = None

    # ---- per-clip maps ------------------------------------------------------------------------
    def _grid(self) -> tuple[torch.Tensor, torch.Tensor]:
        H, W = self.world.height, self.world.width
        yy, xx = torch.meshgrid(torch.arange(H, device=self.device, dtype=torch.float32) + 0.5,
                                torch.arange(W, device=self.device, dtype=torch.float32) + 0.5, indexing="ij")
        return yy, xx

    def vignette(self) -> torch.Tensor:
        if self._vignette is None:
            yy, xx = self._grid()
            H, W = self.world.height, self.world.width
            r2 = ((xx - W / 2) ** 2 + (yy - H / 2) ** 2) / ((W / 2) ** 2 + (H / 2) ** 2)
            self._vignette = (1 - self.s.vignetting * r2 ** 1.25).clamp_min(0).unsqueeze(-1)
        return self._vignette

    def dirt(self) -> torch.Tensor:
        """(H, W, 1) smudge density 0..1: soft blobs of grime on the front glass."""
        if self._dirt is None:
            H, W = self.world.height, self.world.width
            rng = np.random.default_rng(np.random.SeedSequence([self.s.seed, 0xD1]))
            yy, xx = self._grid()
            d = torch.zeros(H, W, device=self.device)
            for _ in range(24):
                cx, cy = rng.uniform(0, W), rng.uniform(0, H)
                r = rng.uniform(0.03, 0.14) * max(H, W)
                d = d + rng.uniform(0.3, 1.0) * torch.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * r * r))
            self._dirt = (d / d.max().clamp_min(1e-6)).clamp(0, 1).unsqueeze(-1)
        return self._dirt

    def drops(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Raindrops on the dome: pixel indices, the (inverted, magnified) source pixel each shows,
        and opacity, as flat index tensors over H * W."""
        if self._drops is None:
            H, W = self.world.height, self.world.width
            rng = np.random.default_rng(np.random.SeedSequence([self.s.seed, 0xD2]))
            idx, src, alpha, boxes = [], [], [], []
            for _ in range(int(self.s.raindrops)):
                cx, cy = rng.uniform(0, W), rng.uniform(0, H)
                r = rng.uniform(0.012, 0.045) * min(H, W) + 1.0
                x0, x1 = int(max(cx - r, 0)), int(min(cx + r + 1, W))
                y0, y1 = int(max(cy - r, 0)), int(min(cy + r + 1, H))
                yy, xx = np.mgrid[y0:y1, x0:x1]
                dist = np.hypot(xx + 0.5 - cx, yy + 0.5 - cy)
                m = dist < r
                sx = np.clip(cx - (xx[m] + 0.5 - cx) * 1.6, 0, W - 1).astype(np.int64)
                sy = np.clip(cy - (yy[m] + 0.5 - cy) * 1.6 - 0.5 * r, 0, H - 1).astype(np.int64)
                idx.append(yy[m] * W + xx[m])
                src.append(sy * W + sx)
                if len(sx):
                    boxes.append((int(sy.min()), int(sx.min()), int(sy.max()) + 1, int(sx.max()) + 1))
                alpha.append(np.clip((r - dist[m]) / 1.5, 0, 1) * 0.92)
            if idx:
                i, s_, a = np.concatenate(idx)[::-1], np.concatenate(src)[::-1], np.concatenate(alpha)[::-1]
                _, first = np.unique(i, return_index=True)      # a later drop covers an earlier one
                i, s_, a = i[first], s_[first], a[first]
            else:
                i = s_ = np.zeros(0, np.int64)
                a = np.zeros(0)
            t = lambda v, dt=torch.long: torch.as_tensor(v, dtype=dt, device=self.device)
            self._drops = (t(i), t(s_), t(a, torch.float32))
            self._drop_boxes = boxes            # around each drop's source pixels
        return self._drops

    def actor_motion(self) -> torch.Tensor:
        """(T, max_id + 1, 3) world displacement of each track per frame (0 for background)."""
        if self._disp is None:
            w = self.world
            T = w.num_frames
            max_id = max((a.track_id for a in w.actors), default=0)
            disp = np.zeros((T, max_id + 1, 3))
            for a in w.actors:
                ref, _ = a.shapes.bounding_spheres()
                c = np.broadcast_to(ref.mean(1), (T, 3))
                if T > 1:
                    disp[:, a.track_id] = np.gradient(c, axis=0)
            self._disp = torch.as_tensor(disp, dtype=torch.float32, device=self.device)
        return self._disp

    # ---- the chain ----------------------------------------------------------------------------
    def apply(self, rgb: torch.Tensor, inst: torch.Tensor, depth: torch.Tensor, start: int, stop: int,
              rays: torch.Tensor, part: torch.Tensor | None = None) -> None:
        """Apply every enabled effect to frames [start, stop) in place. rgb (t, H, W, 3) uint8,
        inst (t, H, W), depth (t, H, W) camera-axis metres, rays (1 or t, H, W, 3) unit world rays.

        Every effect is per frame, so on a CPU the chain runs a few frames at a time: the float
        intermediates then stay small (cache-resident, no large temporary allocations)."""
        if not self.active:
            apply_tampering(rgb, self.world, start, stop, inst, depth, part)
            return
        step = (stop - start) if self.device.type == "cuda" else EFFECT_FRAMES_CPU
        for a in range(0, stop - start, step):
            b = min(a + step, stop - start)
            r = rays[a:b] if rays.shape[0] > 1 else rays
            self._apply(rgb[a:b], inst[a:b], depth[a:b], start + a, start + b, r, None if part is None else part[a:b])

    def _apply(self, rgb: torch.Tensor, inst: torch.Tensor, depth: torch.Tensor, start: int, stop: int,
               rays: torch.Tensor, part: torch.Tensor | None) -> None:
        s, T = self.s, stop - start
        k = self.kernels
        x = self.linear_scratch(rgb.shape)
        gain = np.ascontiguousarray(self.exposure[start:stop], np.float64)
        k.decode_linear(k.array(rgb), k.array(self.lut), gain, k.array(depth.contiguous()), float(s.fog_visibility_m),
                        k.array(self.air), k.array(x))
        if self.weather.rain > 0 or self.weather.snow > 0:
            cam = self.world.camera
            fy = cam.fy[start:stop] if cam.num_frames > 1 else cam.fy[:1]
            precipitation(x, depth, np.arange(start, stop), self.world.fps, fy, self.weather, max(s.shutter, 0.2),
                          self.air * 1.6 + 0.02, near_boost=0.6 if self.nir else 0.0)
        if s.shutter > 0:
            self.motion_blur(x, inst, depth, start, rays)
        if s.defocus_px > 0:
            self.defocus(x, depth)
        if s.raindrops > 0:
            i, src, a = self.drops()
            if len(i):
                C = x.shape[-1]
                blurred = blur_boxes(x, self._drop_boxes, 1.5).reshape(T, -1, C)     # only what drops show
                flat = x.reshape(T, -1, C)
                flat[:, i] = flat[:, i] * (1 - a[:, None]) + 0.85 * blurred[:, src] * a[:, None]
        if s.lens_dirt > 0:
            veil = F.interpolate(F.avg_pool2d(x.permute(0, 3, 1, 2), 8, ceil_mode=True), size=x.shape[1:3],
                                 mode="bilinear", align_corners=False).permute(0, 2, 3, 1)
            d = self.dirt() * s.lens_dirt
            x = x * (1 - 0.4 * d) + veil * 1.2 * d
        self.sensor(x.contiguous(), rgb, start)
        # a covered or sprayed lens (render/tamper.py); the on-screen overlay is burned in after it
        apply_tampering(rgb, self.world, start, stop, inst, depth, part)
        if s.overlay:
            draw_overlay(rgb, inst, depth, range(start, stop), s.overlay_start, s.camera_name, self.world.fps,
                         s.overlay_position, part)

    def linear_scratch(self, shape: torch.Size) -> torch.Tensor:
        """A float32 buffer of `shape` for the exposed linear frames, kept between passes and
        clips (render/planes.py: a fresh one is page-faulted in on every pass); decode_linear
        writes all of it first."""
        return plane("effects.linear", tuple(shape), torch.float32, self.device)

    @property
    def active(self) -> bool:
        s, w = self.s, self.weather
        return bool(s.gain > 0 or s.overlay or s.fog_visibility_m > 0 or s.shutter > 0 or s.defocus_px > 0
                    or s.raindrops > 0 or s.lens_dirt > 0 or s.vignetting > 0 or w.rain > 0 or w.snow > 0
                    or not np.all(self.exposure == 1))

    def decode(self, rgb: torch.Tensor) -> torch.Tensor:
        """uint8 display values -> exposed linear float32 (inverse tone curve)."""
        return self.lut.index_select(0, rgb.reshape(-1).int()).view(rgb.shape)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Exposed linear -> uint8 display values (tone curve)."""
        i = x.clamp(0, ENCODE_MAX).sqrt_().mul_((ENCODE_BINS - 1) / ENCODE_MAX ** 0.5).add_(0.5).int()
        return self.enc.index_select(0, i.reshape(-1)).view(x.shape)

    def sensor(self, x: torch.Tensor, rgb: torch.Tensor, start: int) -> None:
        """Vignetting, Poisson-Gaussian sensor noise (heteroscedastic Gaussian form: variance
        a x + b with a = gain / full_well and b = (read_noise * gain / full_well) ** 2, drawn from
        a counter-based hash of the seed and the absolute frame) and the tone curve, fused:
        exposed linear x (t, H, W, 3) -> rgb uint8 in place."""
        s, k = self.s, self.kernels
        a = s.gain / s.full_well_e if s.gain > 0 else 0.0
        b = (s.read_noise_e * s.gain / s.full_well_e) ** 2 if s.gain > 0 else 0.0
        seeds = np.array([frame_seed(s.seed, start + i, 0x401) & 0xFFFFFFFF for i in range(x.shape[0])], np.int64)
        vig = self.vignette()[..., 0].contiguous() if s.vignetting > 0 else torch.zeros((0, 0), device=self.device)
        k.sensor_encode(k.array(x), seeds, float(a), float(b), bool(self.nir), k.array(vig), k.array(self.enc),
                        k.array(rgb))

    def defocus(self, x: torch.Tensor, depth: torch.Tensor) -> None:
        """Thin-lens blur: circle of confusion defocus_px * |1 - focus / depth| (so defocus_px at
        half the focus distance and at infinity), rendered as a per-pixel blend of Gaussian levels."""
        focus = self.s.focus_m if self.s.focus_m > 0 else axis_ground_distance(self.world.camera)
        coc = (self.s.defocus_px * (1 - focus / depth.clamp_min(0.05)).abs()).clamp(max=2 * self.s.defocus_px)
        sigma = coc / 2
        levels = [0.0]
        while levels[-1] < float(sigma.max()):
            levels.append(max(0.5, levels[-1] * 2))
        img = x.permute(0, 3, 1, 2)
        stack = [gaussian_blur(img, sg).permute(0, 2, 3, 1) for sg in levels]
        out = torch.zeros_like(x)
        for j in range(len(levels) - 1):
            lo, hi = levels[j], levels[j + 1]
            w = ((sigma - lo) / (hi - lo)).clamp(0, 1)
            inside = ((sigma >= lo) & (sigma < hi)) | ((j == len(levels) - 2) & (sigma >= hi))
            w = w.unsqueeze(-1)
            out = torch.where(inside.unsqueeze(-1), stack[j] * (1 - w) + stack[j + 1] * w, out)
        if len(levels) == 1:
            return
        x.copy_(out)

    def motion_blur(self, x: torch.Tensor, inst: torch.Tensor, depth: torch.Tensor, start: int, rays: torch.Tensor) -> None:
        """Blur along each pixel's image motion over the exposure (shutter x frame interval), in
        the compiled kernel `motion_blur` (maths in render/motion_blur.py).

        Motion comes from geometry: the pixel's world point (depth buffer + ray), moved with its
        track's displacement, projected by the cameras of the neighbouring frames. Moving pixels'
        motion is spread to their neighbourhood so objects smear over the background too; only
        tracks that move are touched unless the camera moves (a parked car stays sharp for free)."""
        cam = self.world.camera
        if self._runs is None:
            self._runs = cam.pose_runs()
        runs, disp = self._runs, self.actor_motion()
        T, H, W, _C = x.shape
        Tc = self.world.num_frames
        moves = disp.abs().sum(-1) > 0               # (Tc, max_id + 1): tracks that move
        any_moves = moves.any(-1).cpu().numpy()
        cams, steps, everything = np.zeros((T, 3, NCAM)), np.zeros((T, 2)), np.zeros(T, bool)
        for i in range(T):
            f = start + i
            fp, fn = max(f - 1, 0), min(f + 1, Tc - 1)
            # the camera moves over frame f's exposure unless f and its neighbours share a pose
            everything[i] = (len(runs) > 1 and runs[fp] != runs[min(fn, len(runs) - 1)]
                             and turn_blur_px(cam, fp, fn, f, float(self.s.shutter)) >= MIN_BLUR_PX)
            if fn == fp or not (everything[i] or any_moves[f]):
                continue
            cams[i] = pack_camera(cam, fp), pack_camera(cam, f), pack_camera(cam, fn)
            steps[i] = f - fp, fn - f
        if not steps.any():
            return
        k, dev = self.kernels, self.device
        # scratch both kernels write before they read (vel where a pixel moves, mag everywhere on a GPU)
        vel = plane("effects.vel", (T, H, W, 2), torch.float32, dev)
        mag = plane("effects.mag", (T, H, W), torch.float32, dev)
        k.motion_blur(k.array(x), k.array(inst.contiguous()), k.array(depth.contiguous()), k.array(rays.contiguous()),
                      cams, steps, k.array(disp[start:start + T].contiguous()), everything,
                      k.array(moves[start:start + T].contiguous()), float(self.s.shutter), float(MAX_BLUR_PX),
                      k.array(vel), k.array(mag))


def air_light(lighting: Any, nir: bool, exposure: float) -> torch.Tensor:
    """Exposed linear radiance of lit air (what fog fades to and what lights rain and snow)."""
    if nir:
        return torch.full((3,), 0.05 * exposure)
    sun_z = max(float(np.asarray(lighting.sun_direction)[2]), 0.0)
    level = min(lighting.sun_intensity * sun_z + 0.8 * lighting.ambient_intensity, 1.3)
    return torch.tensor(lighting.sky_horizon, dtype=torch.float32) * max(level, 0.02) * exposure
