"""Losses of refiner training and the discriminator's history buffer.

- adversarial: least squares (LSGAN, Mao et al. 2017) on PatchGAN scores, real = 1, refined = 0;
- self-regularisation: L1 between the refined and the rendered frame (SimGAN), which keeps the
  content, and so the labels' geometry, in place;
- objects: the same L1 averaged over the labelled objects' pixels (instance masks) and OBJECT_RING
  pixels around them alone: people and cars are a few percent of a frame, and with the plain mean
  alone a refiner learns to fade them into the background, which fools a discriminator shown
  footage with few people (benchmarks/bench_refiner.py measures their contrast). A loss on the
  local contrast taken away (adding it free) was tried instead: the refiner drew bright halos;
- temporal: the refinement (refined - rendered) of frame t must equal that of frame t + 1 at the
  place synthdata's exact forward flow carries each pixel, where the flow is valid; the target
  (frame t + 1) is held fixed, so the gradient reaches frame t only;
- history buffer (SimGAN): half of each discriminator batch of refined crops comes from earlier
  generator states, so the discriminator does not forget old artefacts.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

OBJECT_RING = 4     # pixels around each object where the objects' L1 also counts (no halo)


def lsgan(scores: torch.Tensor, target: float) -> torch.Tensor:
    return ((scores - target) ** 2).mean()


def on_objects(refined: torch.Tensor, rendered: torch.Tensor, objects: torch.Tensor, ring: int = OBJECT_RING
               ) -> torch.Tensor:
    """Mean |refined - rendered| over the pixels where objects (N, 1, H, W) is 1 and those within
    `ring` pixels of them (where a halo would blur an object into its surroundings); 0 without any."""
    if ring > 0:
        objects = F.max_pool2d(objects, 2 * ring + 1, stride=1, padding=ring)
    weight = objects.expand_as(refined)
    return ((refined - rendered).abs() * weight).sum() / weight.sum().clamp(min=1.0)


def accuracy(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> float:
    """Share of patches the discriminator gets right (real > 0.5, refined < 0.5), balanced."""
    return 0.5 * float((real_scores > 0.5).float().mean() + (fake_scores < 0.5).float().mean())


def warp_from_next(img_next: torch.Tensor, flow: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """`img_next` (N, C, h, w) sampled where the forward flow (N, 2, h, w, pixels; NaN invalid)
    carries each pixel of frame t, and the mask (N, 1, h, w) of pixels whose flow is valid and
    lands inside the crop."""
    n, _, h, w = flow.shape
    ys, xs = torch.meshgrid(torch.arange(h, device=flow.device, dtype=flow.dtype),
                            torch.arange(w, device=flow.device, dtype=flow.dtype), indexing="ij")
    tx, ty = xs + flow[:, 0], ys + flow[:, 1]
    valid = torch.isfinite(tx) & torch.isfinite(ty) & (tx >= 0) & (tx <= w - 1) & (ty >= 0) & (ty <= h - 1)
    gx = torch.where(valid, tx, torch.zeros_like(tx)) * (2.0 / max(w - 1, 1)) - 1.0
    gy = torch.where(valid, ty, torch.zeros_like(ty)) * (2.0 / max(h - 1, 1)) - 1.0
    grid = torch.stack([gx, gy], dim=-1)
    out = F.grid_sample(img_next, grid, mode="bilinear", padding_mode="border", align_corners=True)
    return out, valid[:, None]


def temporal(refined0: torch.Tensor, rendered0: torch.Tensor, refined1: torch.Tensor, rendered1: torch.Tensor,
             flow: torch.Tensor) -> torch.Tensor:
    """Mean |change(t) - change(t + 1) warped to t| over valid pixels (change = refined - rendered)."""
    target, valid = warp_from_next((refined1 - rendered1).detach(), flow)
    m = valid.to(refined0.dtype)
    return (m * (refined0 - rendered0 - target).abs()).sum() / (m.sum() * refined0.shape[1]).clamp_min(1.0)


def flicker(frames: torch.Tensor, flows: torch.Tensor) -> float:
    """Mean |frame t - frame t + 1 warped to t| over valid pixels, in 0..255 levels: what moves
    with the surfaces cancels; what changes from frame to frame in place (flicker) remains.
    frames (T, 3, H, W) in [0, 1], flows (T - 1, 2, H, W) forward."""
    warped, valid = warp_from_next(frames[1:], flows)
    m = valid.to(frames.dtype)
    return float(255.0 * (m * (frames[:-1] - warped).abs()).sum() / (m.sum() * 3).clamp_min(1.0))


class HistoryBuffer:
    """Refined crops of earlier steps (SimGAN's image history), `size` at most."""

    def __init__(self, size: int):
        self.size = size
        self.items: torch.Tensor | None = None
        self.count = 0

    def mix(self, fakes: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
        """The discriminator's refined batch: half `fakes`, half from the buffer once it holds
        enough; then half of `fakes` replaces random entries (or fills the buffer)."""
        fakes = fakes.detach()
        n, half = fakes.shape[0], fakes.shape[0] // 2
        out = fakes
        if self.items is not None and self.count >= half and half > 0:
            pick = torch.as_tensor(rng.choice(self.count, size=half, replace=False), device=fakes.device)
            out = torch.cat([fakes[: n - half], self.items[pick].to(fakes.device)])
        if self.items is None:
            self.items = torch.zeros((self.size,) + tuple(fakes.shape[1:]), dtype=fakes.dtype, device=fakes.device)
        add = fakes[:max(half, 1)]
        for k in range(add.shape[0]):
            slot = self.count if self.count < self.size else int(rng.integers(0, self.size))
            self.items[slot] = add[k]
            self.count = min(self.count + 1, self.size)
        return out

    def state(self) -> dict:
        return {"size": self.size, "count": self.count, "items": None if self.items is None else self.items.cpu()}

    def load(self, state: dict, device: torch.device) -> None:
        self.size, self.count = int(state["size"]), int(state["count"])
        self.items = None if state["items"] is None else state["items"].to(device)
