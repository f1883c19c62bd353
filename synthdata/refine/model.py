"""The refiner's networks: a small residual fully-convolutional generator and a PatchGAN
discriminator (SimGAN, Shrivastava et al. 2017; pix2pix's PatchGAN, Isola et al. 2017).

Images cross these modules as float tensors (N, 3, H, W) in [0, 1], any H and W. The generator
returns `x + max_delta * tanh(r(x))`, clamped to [0, 1]: a change of at most `max_delta` per
channel, by construction, so a refined pixel never strays far from the rendered one and edges
(instance boundaries) stay where the renderer put them. Its last layer starts at zero, so an
untrained generator is the identity. Its body runs at a quarter of the resolution (cheap at
640x480) with full-resolution skip features for fine texture.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class GeneratorConfig:
    """Widths of the generator: `width` channels at full resolution, 2x at a half, 3x at a
    quarter with `blocks` residual blocks there; `max_delta` bounds the change per channel."""

    width: int = 12
    blocks: int = 3
    max_delta: float = 0.25

    def to_dict(self) -> dict:
        return asdict(self)


def _conv(cin: int, cout: int, k: int = 3, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2)


def _upsample(x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """x bilinearly upsampled to like's height and width, in x's dtype. A bfloat16 x is
    interpolated in float32 and rounded back: the same bits as PyTorch's bfloat16 kernel (which
    accumulates in float32 too), at about half its time on the CPU (refine/apply.py)."""
    size = like.shape[-2:]
    if x.dtype == torch.bfloat16:
        return F.interpolate(x.float(), size=size, mode="bilinear", align_corners=False).to(x.dtype)
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False)


class ResBlock(nn.Module):
    def __init__(self, ch: int):
        super().__init__()
        self.a, self.b = _conv(ch, ch), _conv(ch, ch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.b(F.leaky_relu(self.a(x), 0.2))


class Generator(nn.Module):
    """x (N, 3, H, W) in [0, 1] -> refined x, same shape, |refined - x| <= max_delta."""

    def __init__(self, config: GeneratorConfig = GeneratorConfig()):
        super().__init__()
        self.config = config
        w = config.width
        self.inc = _conv(3, w // 2)
        self.down1 = _conv(w // 2, 2 * w, stride=2)
        self.down2 = _conv(2 * w, 3 * w, stride=2)
        self.body = nn.Sequential(*[ResBlock(3 * w) for _ in range(config.blocks)])
        self.up1 = nn.Conv2d(3 * w + 2 * w, 2 * w, 1)
        self.to_full = _conv(2 * w, w // 2)
        self.out = _conv(w // 2, 3)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        """The unbounded residual r(x) (N, 3, H, W)."""
        H, W = x.shape[-2:]
        ph, pw = (-H) % 4, (-W) % 4
        h = F.pad(x * 2 - 1, (0, pw, 0, ph), mode="replicate") if ph or pw else x * 2 - 1
        f0 = F.leaky_relu(self.inc(h), 0.2)
        f1 = F.leaky_relu(self.down1(f0), 0.2)
        f2 = self.body(F.leaky_relu(self.down2(f1), 0.2))
        # up1 (1x1) of [upsampled f2, f1], as its two halves: the f2 half before upsampling (a 1x1
        # convolution commutes with bilinear upsampling), at a quarter of the pixels, no concat
        c, wgt = f2.shape[1], self.up1.weight
        u1 = F.leaky_relu(_upsample(F.conv2d(f2, wgt[:, :c]), f1) + F.conv2d(f1, wgt[:, c:], self.up1.bias), 0.2)
        u0 = _upsample(self.to_full(u1), f0)
        return self.out(F.leaky_relu(u0 + f0, 0.2))[..., :H, :W]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bounded(x, self.residual(x))

    def bounded(self, x: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
        """x + max_delta * tanh(r), clamped to [0, 1], in float32 (r may come from a lower-precision
        copy of this generator: refine/apply.py)."""
        return (x + self.config.max_delta * torch.tanh(r.float())).clamp(0.0, 1.0)


class PatchDiscriminator(nn.Module):
    """x (N, 3, H, W) in [0, 1] -> (N, 1, H/4, W/4) scores, one per overlapping ~34 px patch
    (high = looks real)."""

    def __init__(self, width: int = 32):
        super().__init__()
        w = width
        self.net = nn.Sequential(
            nn.Conv2d(3, w, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(w, 2 * w, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(2 * w, 2 * w, 3, 1, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(2 * w, 1, 3, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x * 2 - 1)


def parameter_count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
