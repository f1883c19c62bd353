"""The background of a `plate` layout: the user's real plate instead of rendered ground and sky.

Per camera pose it gives the same Background the procedural path gives (render/background.py):
- rgb: the plate, resized to the output resolution (a moved camera - shake, PTZ - samples the
  plate through the calibrated camera: ground pixels by their ground point, the rest by direction);
- depth / point: the calibrated ground plane; above the horizon inf. Occluder pixels (their plate
  polygon) take the depth of the vertical surface standing on their ground contact line, so an
  actor behind them is hidden exactly and labels follow (they come from the same buffers);
- rgb_shadow: the plate as the ground would look with the sun blocked (the ratio of shaded to lit
  ground under the clip's light), receiver: the sketched ground, so actors' shadows darken it.
`match` brings actor pixels to the plate's look: exposure from the plate's ground, colour balance
from the plate's light (`plate_gains`; both times the clip's jitter), the plate's blur, and its
noise (actors get the footage's noise; the cleaner plate gets what its median removed).
"""
from __future__ import annotations

import hashlib
import pickle
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from synthdata.errors import BadInput
from synthdata.render.background import Background, ray_plane_z
from synthdata.render.blur import blur_where
from synthdata.render.counter_noise import noise_field
from synthdata.render.packing import pack_lighting
from synthdata.render.shading import LightingT, tonemap, untonemap_lut
from synthdata.world.geometry.camera import Camera
from synthdata.world.geometry.shapes import inside_any, points_in_polygon
from synthdata.world.types import MATERIAL, World

REF_ALBEDO = 0.25          # the actors are exposed as if the plate's ground had this albedo
MAX_RANGE_M = 5000.0
LUMA_NOISE = 0.668         # luminance noise of unit independent noise per channel (BT.601 weights)
LUMA = (0.2126, 0.7152, 0.0722)   # relative luminance of linear RGB (Rec. 709)
GREY_NORM = 6              # Minkowski norm of the shades-of-grey light estimate (Finlayson and Trezzi, 2004)
CAST_LIMIT = 1.25          # the plate's light moves a channel of the actors by at most this factor either way


def plate_gains(lin: torch.Tensor, ground: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
    """Per-channel gains (3,) that bring actors lit by the clip's light to the plate's look. lin:
    the plate's linear pixels (..., 3); ground: its ground pixels (N, 3); ref: linear radiance (3,)
    of a REF_ALBEDO ground under the clip's light, exposed.

    - Exposure: the ground's mean luminance over the reference's.
    - Colour balance: the chromaticity of the plate's light over the clip light's. The plate's
      light is the shades-of-grey estimate over the whole plate (a Minkowski mean, which the
      brightest, mostly neutral surfaces dominate), limited to CAST_LIMIT per channel. The ground's
      mean colour is not used for it: a wooden floor or grass is the surface's colour, not the
      light's, and would tint every actor (it cut the blue of actors in the shipped lobby plate 5x)."""
    return gains_from(ground.mean(0), plate_light(lin), ref)


def plate_light(lin: torch.Tensor) -> torch.Tensor:
    """The plate's light (3,): the shades-of-grey estimate (`plate_gains`) over linear pixels lin."""
    return lin.reshape(-1, 3).double().pow(GREY_NORM).mean(0).pow(1.0 / GREY_NORM).float()


def gains_from(ground_mean: torch.Tensor, light: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
    """`plate_gains` from the ground's mean linear colour (3,) and the plate's light (3,)."""
    luma = torch.tensor(LUMA, dtype=torch.float32, device=ref.device)
    exposure = (ground_mean @ luma) / (ref @ luma).clamp_min(1e-6)
    chroma = light / (light @ luma).clamp_min(1e-6)
    cast = (chroma / (ref / (ref @ luma).clamp_min(1e-6))).clamp(1 / CAST_LIMIT, CAST_LIMIT)
    return (exposure * cast).clamp(0.2, 5.0)


_SHARED: OrderedDict[tuple, Any] = OrderedDict()
_SHARED_LOCK = threading.Lock()
SHARED_KEEP = 4     # plates' images and poses kept for the clips that follow (a worker renders many of a plate)


def shared(key: tuple, make: Callable[[], Any]) -> Any:
    """make(), kept in this process under key for later clips (the SHARED_KEEP last used): what a
    plate gives every clip that sees it the same way (its image, a pose's geometry). Read only."""
    with _SHARED_LOCK:
        if key in _SHARED:
            _SHARED.move_to_end(key)
            return _SHARED[key]
    value = make()
    with _SHARED_LOCK:
        _SHARED[key] = value
        while len(_SHARED) > SHARED_KEEP:
            _SHARED.popitem(last=False)
    return value


def _digest(value: Any) -> str:
    return hashlib.sha1(pickle.dumps(value)).hexdigest()


def in_boxes(boxes: np.ndarray, H: int, W: int, device: torch.device) -> torch.Tensor:
    """(T, H, W) bool: the pixels inside each frame's box of boxes (T, 4) y0, y1, x0, x1."""
    b = torch.as_tensor(np.asarray(boxes, np.int64), device=device)
    ys, xs = torch.arange(H, device=device), torch.arange(W, device=device)
    rows = (ys >= b[:, :1]) & (ys < b[:, 1:2])
    cols = (xs >= b[:, 2:3]) & (xs < b[:, 3:4])
    return rows[:, :, None] & cols[:, None, :]


def load_plate_image(path: str, sha256: str) -> np.ndarray:
    from PIL import Image
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError:
        raise BadInput(f"{p}: the plate image is missing; the recipe's plate folder must be readable here") from None
    if hashlib.sha256(data).hexdigest() != sha256:
        raise BadInput(f"{p}: the plate image differs from the one plate.yaml describes; run `synthdata plate init` "
                       "again (or restore the image)")
    import io
    return np.array(Image.open(io.BytesIO(data)).convert("RGB"))


def reference_ground(light: LightingT) -> tuple[np.ndarray, np.ndarray]:
    """Linear radiance (3,) of flat concrete ground of albedo REF_ALBEDO under the clip's light,
    sunlit and shadowed, seen from 5 m straight above (the renderer's own shading kernel)."""
    from synthdata.render.kernels import shade_surfaces

    rows, mats, points = pack_lighting(light)
    lit, dark = np.zeros((1, 1, 3), np.float32), np.zeros((1, 1, 3), np.float32)
    shade_surfaces(np.full((1, 1, 3), REF_ALBEDO, np.float32), np.array([[[0.0, 0.0, 1.0]]], np.float32),
                   np.zeros((1, 1, 3), np.float32), np.full((1, 1), MATERIAL["concrete"], np.int64),
                   np.ones((1, 1), np.bool_), np.ones((1, 1), np.float32), np.array([0.0, 0.0, 5.0]),
                   np.array([0.0, 0.0, -1.0]), rows, mats, points, lit, dark)
    return lit[0, 0], dark[0, 0]


class PlateBackdrop:
    def __init__(self, world: World, light: LightingT, device: torch.device):
        b = world.backdrop
        self.world, self.b, self.light, self.device = world, b, light, device
        W, H = world.width, world.height
        self.scale = W / b.size[0]
        self.base: Camera = b.camera if b.camera is not None else world.camera.frame(0)
        self.lut = untonemap_lut(device)
        # what clips of this plate share (kept in the process: `shared`)
        self._key = (b.image, b.sha256, W, H, str(device), _digest(b.occluders), _digest(b.receivers))
        self.plate = shared(("plate",) + self._key[:5], lambda: self._plate_image(W, H))
        self.occ = shared(("occluders",) + self._key[:6],
                          lambda: torch.as_tensor(self._occluder_ids(W, H), device=device))
        self.contacts = [torch.as_tensor(np.asarray(o["contact"], float), dtype=torch.float32, device=device)
                         for o in b.occluders]
        self._gains: torch.Tensor | None = None
        self._last: Background | None = None
        lit, dark = (torch.as_tensor(v, dtype=torch.float32, device=device) for v in reference_ground(light))
        self.ref = (lit * light.exposure).clamp_min(1e-6)
        self.shadow_ratio = (dark / lit.clamp_min(1e-6)).clamp(0, 1)
        # the clip's light as tables of the 256 values of each channel, flat (channel, value), for
        # `background`: the shadowed plate and the albedo
        self._shade_table = tonemap(self.lut[:, None] * self.shadow_ratio, 1.0).T.reshape(-1)
        self._albedo_table = (self.lut[:, None] / self.ref * REF_ALBEDO).clamp(0, 1).T.reshape(-1)

    def _plate_image(self, W: int, H: int) -> torch.Tensor:
        img = torch.as_tensor(load_plate_image(self.b.image, self.b.sha256), device=self.device).permute(2, 0, 1)
        img = img[None].float()
        if img.shape[-2:] != (H, W):
            img = F.interpolate(img, size=(H, W), mode="bilinear", align_corners=False, antialias=True)
        return img[0].permute(1, 2, 0).round().clamp(0, 255).to(torch.uint8).contiguous()

    def _occluder_ids(self, W: int, H: int) -> np.ndarray:
        ids = np.zeros((H, W), np.int32)
        for k, o in enumerate(self.b.occluders):
            q = np.asarray(o["region"], float) * self.scale
            x0, y0 = max(int(q[:, 0].min()), 0), max(int(q[:, 1].min()), 0)
            x1, y1 = min(int(np.ceil(q[:, 0].max())) + 1, W), min(int(np.ceil(q[:, 1].max())) + 1, H)
            if x1 <= x0 or y1 <= y0:
                continue
            yy, xx = np.mgrid[y0:y1, x0:x1]
            inside = points_in_polygon(np.stack([xx.ravel() + 0.5, yy.ravel() + 0.5], 1), q).reshape(yy.shape)
            ids[y0:y1, x0:x1][inside] = k + 1
        return ids

    # ---- background ---------------------------------------------------------------------------
    def background(self, cam: Camera, rays: torch.Tensor) -> Background:
        """The Background seen by cam (one pose) along rays (H, W, 3). The plate's own pose gives
        every clip the same geometry and plate pixels (kept: `shared`); the clip's light then
        gives the shadowed plate, the albedo and the gains, through tables of the 256 values."""
        own_pose = self._same_pose(cam)
        if own_pose:
            pose = (cam.C[0].tobytes(), cam.R[0].tobytes(), cam.ray_key(0))
            st = shared(("pose",) + self._key + pose, lambda: self._static(cam, rays, self.plate, self.occ))
        else:
            hits = self._ground_hits(cam, rays)
            st = self._static(cam, rays, *self._resample(cam, rays, hits), hits)
        rgb, receiver = st["rgb"], st["receiver"]
        index = rgb.long() + torch.arange(0, 768, 256, device=self.device)       # (value, channel) into the tables
        rgb_shadow = torch.where(receiver.unsqueeze(-1), torch.take(self._shade_table, index), rgb)
        albedo = torch.take(self._albedo_table, index)
        if self._gains is None:
            self._gains = gains_from(st["ground_mean"], st["light"], self.ref)
        bg = Background(rgb.clone(), rgb_shadow.contiguous(), st["depth"], st["point"], receiver, albedo, st["normal"],
                        st["material"])
        self._last = bg if own_pose else None
        return bg

    def _ground_hits(self, cam: Camera, rays: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """(C, distance along each ray to the ground plane, whether it meets it within range, the point)."""
        C = torch.as_tensor(cam.C[0], dtype=torch.float32, device=self.device)
        tg = ray_plane_z(C.expand_as(rays), rays)
        ok = torch.isfinite(tg) & (tg < MAX_RANGE_M)
        return C, tg, ok, C + tg.clamp(max=MAX_RANGE_M).unsqueeze(-1) * rays

    def _static(self, cam: Camera, rays: torch.Tensor, rgb: torch.Tensor, occ: torch.Tensor,
                hits: tuple[torch.Tensor, ...] | None = None) -> dict[str, torch.Tensor]:
        """What the plate shows along rays whatever the light: plate pixels, depth, world point,
        receivers, normal and material, and the linear plate's ground mean and light (`plate_gains`)."""
        dev = self.device
        C, tg, ok, gpt = hits if hits is not None else self._ground_hits(cam, rays)
        fwd = torch.as_tensor(cam.R[0][2], dtype=torch.float32, device=dev)
        scale = (rays * fwd).sum(-1)
        depth = torch.where(ok, tg * scale, torch.full_like(tg, float("inf")))
        point = torch.where(ok.unsqueeze(-1), gpt, torch.zeros_like(gpt))
        for k, contact in enumerate(self.contacts):
            m = occ == k + 1
            if bool(m.any()):
                s = self._wall_distance(C, rays[m], contact)
                depth[m] = s * scale[m]
                point[m] = C + s.unsqueeze(-1) * rays[m]
        receiver = ok & (occ == 0) & self._receivers(point)
        lin = self.lut[rgb.long()]
        normal = torch.zeros_like(rays)
        normal[..., 2] = 1
        return {"rgb": rgb.contiguous(), "depth": depth, "point": point, "receiver": receiver, "normal": normal,
                "material": torch.full(receiver.shape, MATERIAL["concrete"], dtype=torch.long, device=dev),
                "ground_mean": (lin[receiver] if bool(receiver.any()) else lin.reshape(-1, 3)).mean(0),
                "light": plate_light(lin)}

    def _same_pose(self, cam: Camera) -> bool:
        b = self.base
        return bool(np.allclose(cam.R[0], b.R[0]) and np.allclose(cam.C[0], b.C[0]) and np.isclose(cam.fx[0], b.fx[0])
                    and (cam.skew is None or not np.any(cam.skew)))

    def _resample(self, cam: Camera, rays: torch.Tensor,
                  hits: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, torch.Tensor]:
        """The plate seen from a moved camera: each pixel's ground point (or far point along its
        ray; `_ground_hits`) projected into the plate's camera; bilinear colour, nearest occluder id."""
        C, _, ok, gpt = hits
        far = C + 1e5 * rays
        P = torch.where(ok.unsqueeze(-1), gpt, far).cpu().numpy().astype(np.float64)
        uv, z = self.base.project(P.reshape(-1, 3), 0)
        uv = np.where((z > 0)[:, None] & np.isfinite(uv), uv, -10.0).reshape(P.shape[:2] + (2,))
        H, W = rays.shape[:2]
        grid = torch.as_tensor(uv, dtype=torch.float32, device=self.device)
        grid = torch.stack([grid[..., 0] / W * 2 - 1, grid[..., 1] / H * 2 - 1], -1)[None]
        img = F.grid_sample(self.plate.permute(2, 0, 1)[None].float(), grid, mode="bilinear", padding_mode="border",
                            align_corners=False)
        occ = F.grid_sample(self.occ[None, None].float(), grid, mode="nearest", padding_mode="zeros", align_corners=False)
        return (img[0].permute(1, 2, 0).round().clamp(0, 255).to(torch.uint8).contiguous(),
                occ[0, 0].round().to(torch.int32))

    @staticmethod
    def _wall_distance(C: torch.Tensor, d: torch.Tensor, contact: torch.Tensor) -> torch.Tensor:
        """Distance along rays d (N, 3) from C to the vertical surface standing on the contact
        polyline (its end segments extended); the nearest segment the ray meets."""
        best = torch.full(d.shape[:1], float("inf"), device=d.device)
        n = len(contact)
        for i in range(max(n - 1, 1)):
            a, b = contact[i], contact[min(i + 1, n - 1)]
            e = b - a
            nrm = torch.stack([-e[1], e[0]])
            den = d[:, :2] @ nrm
            s = ((a - C[:2]) @ nrm) / torch.where(den.abs() > 1e-9, den, torch.full_like(den, 1e-9))
            p = C[:2] + s.unsqueeze(-1) * d[:, :2]
            t = ((p - a) @ e) / (e @ e).clamp_min(1e-12)
            lo = -1e9 if i == 0 else -0.02
            hi = 1e9 if i >= n - 2 else 1.02
            good = (s > 0) & (t >= lo) & (t <= hi)
            best = torch.where(good & (s < best), s, best)
        return torch.where(torch.isfinite(best), best, torch.full_like(best, 1e-3))

    def _receivers(self, point: torch.Tensor) -> torch.Tensor:
        polys = self.b.receivers
        if not polys:
            return torch.ones(point.shape[:2], dtype=torch.bool, device=self.device)
        xy = point[..., :2].reshape(-1, 2).cpu().numpy()
        return torch.as_tensor(inside_any(xy, polys).reshape(point.shape[:2]), device=self.device)

    def _soften_shadows(self, rgb: torch.Tensor, inst: torch.Tensor, boxes: np.ndarray | None) -> None:
        """Soft shadow edges: the actors' (hard) shadow masks on the plate's ground, blurred by the
        clip's penumbra (Backdrop.shadow_softness_px at the plate's scale), blend lit and shaded
        plate. Only for the plate's own pose (a still camera), where those two images are known.
        boxes: see `match`."""
        bg, sigma = self._last, float(self.b.shadow_softness_px) * self.scale
        if bg is None or sigma < 0.3:
            return
        free = inst == 0
        hard = free & (rgb != bg.rgb).any(-1) & (rgb == bg.rgb_shadow).all(-1) & bg.receiver
        if boxes is not None:
            hard &= in_boxes(boxes, *hard.shape[1:], hard.device)
        if not bool(hard.any()):
            return
        # a mask is zero outside its box, so the blur of that box and its reach is the whole answer
        soft = blur_where(hard[..., None].float(), hard, sigma)[..., 0].clamp(0, 1)
        region = free & bg.receiver & (soft > 1e-3)
        mix = bg.rgb.float() * (1 - soft.unsqueeze(-1)) + bg.rgb_shadow.float() * soft.unsqueeze(-1)
        rgb[region] = mix[region].round().clamp(0, 255).to(torch.uint8)

    # ---- actors to the plate's look ----------------------------------------------------------------
    def match(self, rgb: torch.Tensor, inst: torch.Tensor, start: int, seed: int,
              shadow_boxes: np.ndarray | None = None) -> None:
        """In place on frames (t, H, W, 3): actor pixels (inst > 0) exposed and balanced like the
        plate, blurred like it (with a 2-pixel ring), and noise on every pixel (see module doc).
        shadow_boxes (t, 4) y0, y1, x0, x1: where each frame's actor shadows can fall (the
        renderer's shadow windows; an empty box: none), or None: anywhere. Hard shadow pixels are
        looked for there only."""
        if rgb.device.type == "cpu":
            self._match_host(rgb, inst, start, seed, shadow_boxes)
        else:
            self._match_torch(rgb, inst, start, seed, shadow_boxes)

    def _match_torch(self, rgb: torch.Tensor, inst: torch.Tensor, start: int, seed: int,
                     shadow_boxes: np.ndarray | None) -> None:
        """`match` in torch on the frames' device (the GPU path; whole-frame masks)."""
        st = self.b.statistics
        m = inst > 0
        self._soften_shadows(rgb, inst, shadow_boxes)
        if bool(m.any()):
            wb = torch.tensor(self.b.white_balance, dtype=torch.float32, device=self.device)
            gain = self._gains * float(self.b.exposure) * wb
            rgb[m] = tonemap(self.lut[rgb[m].long()] * gain, 1.0)
            sigma = float(st.get("blur_sigma_px", 0.0)) * self.scale
            if sigma > 0.3:
                ring = F.max_pool2d(m[:, None].float(), 5, 1, 2)[:, 0] > 0
                blurred = blur_where(rgb.float(), ring, sigma)
                rgb[ring] = blurred[ring].round().clamp(0, 255).to(torch.uint8)
        noise = float(st.get("noise_sigma", 0.0))
        rest = max(noise ** 2 - float(st.get("plate_noise_sigma", 0.0)) ** 2, 0.0) ** 0.5
        if noise <= 0:
            return
        for i in range(rgb.shape[0]):
            z = torch.from_numpy(noise_field(self.noise_seed(seed, start + i), rgb[i].numel())).to(self.device)
            z = z.view(rgb.shape[1:])
            sig = torch.where(m[i], noise, rest).unsqueeze(-1) / LUMA_NOISE
            rgb[i] = (rgb[i].float() + z * sig).round().clamp(0, 255).to(torch.uint8)

    @staticmethod
    def noise_seed(seed: int, frame: int) -> np.uint32:
        """The counter-noise seed of clip frame `frame` (its own: any chunking draws the same)."""
        return np.random.SeedSequence([seed & 0xFFFFFFFF, frame, 0x9A7]).generate_state(1)[0]

    def _match_host(self, rgb: torch.Tensor, inst: torch.Tensor, start: int, seed: int,
                    shadow_boxes: np.ndarray | None) -> None:
        """`match` on CPU frames by the compiled passes of render/plate_look.py (the same steps,
        each only over the pixels it changes)."""
        from synthdata.render import plate_look as pl

        st, b = self.b.statistics, self.b
        x, ids = rgb.numpy(), inst.numpy()
        bg, sigma = self._last, float(b.shadow_softness_px) * self.scale
        if bg is not None and sigma >= 0.3:
            pl.soften(x, ids, bg.rgb.numpy(), bg.rgb_shadow.numpy(), bg.receiver.numpy(), sigma, shadow_boxes)
        if bool((ids > 0).any()):
            wb = torch.tensor(b.white_balance, dtype=torch.float32)
            table = tonemap(self.lut[:, None] * (self._gains * float(b.exposure) * wb), 1.0)   # (256, 3)
            pl.recolour(x, ids, table.numpy())
            blur = float(st.get("blur_sigma_px", 0.0)) * self.scale
            if blur > 0.3:
                pl.ring_blur(x, ids, blur)
        noise = float(st.get("noise_sigma", 0.0))
        if noise <= 0:
            return
        rest = max(noise ** 2 - float(st.get("plate_noise_sigma", 0.0)) ** 2, 0.0) ** 0.5
        actor_sigma, plate_sigma = (np.float32(np.float32(v) / np.float32(LUMA_NOISE)) for v in (noise, rest))
        for i in range(x.shape[0]):
            pl.add_noise(x[i], self.noise_seed(seed, start + i), ids[i], actor_sigma, plate_sigma)
