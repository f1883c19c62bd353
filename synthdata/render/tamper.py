"""Camera-tampering pixels: a lens covered by a hand or cloth, a sprayed/smeared lens.

The schedule lives in World.appearance.tampering (sampled in world/security/behaviours.py; a camera
knocked to a new pose is geometry, done in world/security/enact.py, and needs nothing here). Each
TamperEntry (world/appearance.py) of kind "covered" uses side, coverage, color; of kind "blur"
strength and color; frames 0-based and inclusive. The effect eases in over ramp_frames and holds to end_frame.
Nothing random is decided here.

Labels stay exact: where a cover is opaque (alpha >= 0.5) the instance buffer is cleared and the
depth set to COVER_DEPTH_M (the cover sits at the lens), so visible boxes, masks, visibility and
keypoint flags report what is really left in view. A blur hides nothing from the labels.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from synthdata.render.parts import PART_LENS
from synthdata.world.appearance import TamperEntry

COVER_DEPTH_M = 0.02


def _hex(color: str, device: torch.device) -> torch.Tensor:
    v = torch.tensor([int(color[i:i + 2], 16) for i in (1, 3, 5)], dtype=torch.float32, device=device)
    return v


def _ease(frame: int, entry: TamperEntry) -> float:
    u = (frame - entry.start_frame + 1) / max(int(entry.ramp_frames), 1)
    u = min(max(u, 0.0), 1.0)
    return u * u * (3 - 2 * u)


def cover_alpha(entry: TamperEntry, amount: float, H: int, W: int, device: torch.device
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """(H, W) opacity of a cover that has slid in from `side` over `amount` x coverage of the
    image, with a soft, slightly curved (palm-shaped) edge; and how deep each pixel lies inside
    it (fraction of the image, 0 at the edge)."""
    side = entry.side
    along_w = side in ("left", "right")
    n, m = (W, H) if along_w else (H, W)
    x = (torch.arange(n, device=device, dtype=torch.float32) + 0.5) / n          # 0..1 into the image
    if side in ("right", "bottom"):
        x = 1 - x
    y = (torch.arange(m, device=device, dtype=torch.float32) + 0.5) / m - 0.5
    edge = amount * float(entry.coverage) * (1.0 - 0.25 * (2 * y) ** 2)   # bulges at the middle
    soft = 0.06
    inside = edge[:, None] - x[None, :]                                               # (m, n)
    a = torch.clamp(inside / soft + 0.5, 0.0, 1.0)
    return (a, inside.clamp(min=0)) if along_w else (a.T, inside.clamp(min=0).T)


def _box_blur(img: torch.Tensor, radius: int) -> torch.Tensor:
    """Separable box blur of (H, W, 3) float, edges replicated."""
    if radius <= 0:
        return img
    k = 2 * radius + 1
    x = img.permute(2, 0, 1).unsqueeze(0)
    x = F.pad(x, (radius, radius, radius, radius), mode="replicate")
    x = F.avg_pool2d(x, (1, k), stride=1)
    x = F.avg_pool2d(x, (k, 1), stride=1)
    return x.squeeze(0).permute(1, 2, 0)


def apply_tampering(rgb: torch.Tensor, world, start: int, stop: int, instance: torch.Tensor | None = None,
                    depth: torch.Tensor | None = None, part: torch.Tensor | None = None) -> None:
    """Apply the World's covered / blur tampering to frames [start, stop) in place.

    rgb (t, H, W, 3) uint8 holds frames start..stop-1; instance (t, H, W) and depth (t, H, W), when
    given, are updated under opaque covers (see the module docstring), and part (t, H, W) takes
    PART_LENS there."""
    sched = world.appearance.tampering
    _, H, W, _ = rgb.shape
    dev = rgb.device
    for entry in sched:
        kind = entry.kind
        if kind not in ("covered", "blur"):
            continue
        lo, hi = max(start, int(entry.start_frame)), min(stop - 1, int(entry.end_frame))
        for f in range(lo, hi + 1):
            i = f - start
            amount = _ease(f, entry)
            img = rgb[i].to(torch.float32)
            colour = _hex(entry.color, dev)
            if kind == "covered":
                a, inside = cover_alpha(entry, amount, H, W, dev)
                # the cover is out of focus and lit only from around its edge: darker inside
                shade = colour * (0.25 + 0.75 * torch.exp(-inside / 0.12))[..., None]
                out = img * (1 - a[..., None]) + shade * a[..., None]
                opaque = a >= 0.5
                if instance is not None:
                    instance[i][opaque] = 0
                if depth is not None:
                    depth[i][opaque] = COVER_DEPTH_M
                if part is not None:
                    part[i][opaque] = PART_LENS
            else:
                s = amount * float(entry.strength)
                radius = int(round(s * max(H, W) / 40))
                haze = 0.45 * s
                out = _box_blur(img, radius) * (1 - haze) + colour * haze
            rgb[i] = out.round().clamp(0, 255).to(torch.uint8)
