"""Blur kernels for the camera effects: Gaussian blur, blur along per-pixel motion, and the
torch projection the motion blur uses. Pure functions on tensors (render/effects.py drives them)."""
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


def project_torch(P: torch.Tensor, cam: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """World points (N, 3) -> pixels (N, 2) and depth (N,) with a single-frame Camera (same
    model as Camera.project: Brown k1/k2 or equidistant fisheye, skew)."""
    dev = P.device
    R = torch.as_tensor(cam.R[0], dtype=torch.float32, device=dev)
    C = torch.as_tensor(cam.C[0], dtype=torch.float32, device=dev)
    pc = (P - C) @ R.T
    z = pc[:, 2]
    zs = torch.where(z > 1e-6, z, torch.ones_like(z))
    x, y = pc[:, 0] / zs, pc[:, 1] / zs
    r2 = x * x + y * y
    if cam.model == "fisheye":
        r = r2.sqrt()
        th = torch.atan(r)
        scale = torch.where(r > 1e-12, th * (1 + cam.k1 * th ** 2 + cam.k2 * th ** 4) / r.clamp_min(1e-12),
                            torch.ones_like(r))
    else:
        scale = 1 + cam.k1 * r2 + cam.k2 * r2 * r2
    x, y = x * scale, y * scale
    sk = 0.0 if cam.skew is None else float(cam.skew[0])
    u = float(cam.fx[0]) * x + sk * y + cam.cx
    v = float(cam.fy[0]) * y + cam.cy
    return torch.stack([u, v], -1), z


def blur_along_flow(img: torch.Tensor, flow: torch.Tensor) -> None:
    """Blur img (h, w, C) in place along flow (h, w, 2) pixels per exposure (a view of a frame:
    the caller passes the region around the moving pixels)."""
    mag = flow.norm(dim=-1)
    top = float(mag.max())
    if top < 0.5:
        return
    k = 2 * math.ceil(top / 2) + 1
    H, W = mag.shape
    # k x k max (and where it is) as two 1D passes: cost 2k per pixel instead of k^2
    p1, i1 = F.max_pool2d(mag[None, None], (1, k), stride=1, padding=(0, k // 2), return_indices=True)
    pooled, i2 = F.max_pool2d(p1, (k, 1), stride=1, padding=(k // 2, 0), return_indices=True)
    where = i1.reshape(-1)[i2.reshape(-1)]
    fl = flow.reshape(-1, 2)[where.reshape(-1)].view(H, W, 2)
    ys, xs = (pooled[0, 0] >= 0.5).nonzero(as_tuple=True)
    if not len(ys):
        return
    f = fl[ys, xs]
    n = min(max(math.ceil(top) + 1, 3), 16)
    src = img.clone()
    acc = torch.zeros((len(ys), img.shape[-1]), device=img.device)
    for s in torch.linspace(-0.5, 0.5, n).tolist():
        sy = (ys.float() + 0.5 + f[:, 1] * s).floor().long().clamp(0, H - 1)
        sx = (xs.float() + 0.5 + f[:, 0] * s).floor().long().clamp(0, W - 1)
        acc += src[sy, sx]
    img[ys, xs] = acc / n


def axis_ground_distance(camera: Any) -> float:
    """Camera-axis depth where the optical axis meets the ground (30 m when it does not)."""
    fwd = camera.R[0][2]
    if fwd[2] < -0.02:
        return float(min(camera.C[0][2] / -fwd[2], 500.0))
    return 30.0
