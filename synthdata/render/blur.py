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


def axis_ground_distance(camera: Any) -> float:
    """Camera-axis depth where the optical axis meets the ground (30 m when it does not)."""
    fwd = camera.R[0][2]
    if fwd[2] < -0.02:
        return float(min(camera.C[0][2] / -fwd[2], 500.0))
    return 30.0
