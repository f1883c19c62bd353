"""Blur helpers for the camera effects: Gaussian blur and the focus distance of defocus. Pure
functions (render/effects.py drives them; motion blur is a compiled kernel, render/motion_blur.py)."""
from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F


def gaussian_blur(img: torch.Tensor, sigma: float) -> torch.Tensor:
    """(N, C, H, W) separable Gaussian blur with replicated borders."""
    if sigma <= 0.05:
        return img
    r = max(1, math.ceil(3 * sigma))
    k = torch.exp(-0.5 * (torch.arange(-r, r + 1, device=img.device, dtype=img.dtype) / sigma) ** 2)
    k = k / k.sum()
    N, C, H, W = img.shape
    x = F.pad(img.reshape(N * C, 1, H, W), (r, r, r, r), mode="replicate")
    x = F.conv2d(x, k.view(1, 1, 1, -1))
    x = F.conv2d(x, k.view(1, 1, -1, 1))
    return x.view(N, C, H, W)


def blur_boxes(x: torch.Tensor, boxes: list[tuple[int, int, int, int]], sigma: float) -> torch.Tensor:
    """`gaussian_blur` of frames x (T, H, W, C) inside boxes (y0, x0, y1, x1): a copy of x whose
    pixels in the boxes hold the blurred values (exactly those of blurring whole frames), the
    rest x's."""
    out = x.clone()
    if sigma <= 0.05:
        return out
    r = max(1, math.ceil(3 * sigma))
    H, W = x.shape[1:3]
    for y0, x0, y1, x1 in boxes:
        a0, b0, a1, b1 = max(y0 - r, 0), max(x0 - r, 0), min(y1 + r, H), min(x1 + r, W)
        blurred = gaussian_blur(x[:, a0:a1, b0:b1].permute(0, 3, 1, 2), sigma).permute(0, 2, 3, 1)
        out[:, y0:y1, x0:x1] = blurred[:, y0 - a0:y1 - a0, x0 - b0:x1 - b0]
    return out


def blur_where(x: torch.Tensor, need: torch.Tensor, sigma: float) -> torch.Tensor:
    """`gaussian_blur` of frames x (T, H, W, C) where it is needed: a copy of x whose pixels in
    `need` (T, H, W) hold the blurred values (the same as blurring whole frames: each frame is
    blurred over the box around its needed pixels plus the kernel's reach), the rest x's."""
    out = x.clone()
    if sigma <= 0.05:
        return out
    r = max(1, math.ceil(3 * sigma))
    H, W = need.shape[1:]
    for t in range(need.shape[0]):
        ys, xs = need[t].nonzero(as_tuple=True)
        if not len(ys):
            continue
        y0, y1 = max(int(ys.min()) - r, 0), min(int(ys.max()) + r + 1, H)
        x0, x1 = max(int(xs.min()) - r, 0), min(int(xs.max()) + r + 1, W)
        crop = x[t, y0:y1, x0:x1].permute(2, 0, 1)[None]
        out[t, y0:y1, x0:x1] = gaussian_blur(crop, sigma)[0].permute(1, 2, 0)
    return out


def axis_ground_distance(camera: Any) -> float:
    """Camera-axis depth where the optical axis meets the ground (30 m when it does not)."""
    fwd = camera.R[0][2]
    if fwd[2] < -0.02:
        return float(min(camera.C[0][2] / -fwd[2], 500.0))
    return 30.0
