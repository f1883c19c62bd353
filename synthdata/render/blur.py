"""Blur kernels for the camera effects: Gaussian blur, blur along per-pixel motion, and the
torch projection the motion blur uses. Pure functions on tensors (render/effects.py drives them)."""
from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F


# pixel samples gathered at once by blur_moving (bounds its temporaries to about 40 MB)
BLUR_BATCH = 1 << 20


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


def blur_moving(img: torch.Tensor, ys: torch.Tensor, xs: torch.Tensor, v: torch.Tensor,
                groups: torch.Tensor) -> None:
    """Blur img (H, W, C) in place along the motion of its moving pixels.

    ys, xs (N,) are the pixels that move, v (N, 2) their motion in pixels per exposure and groups
    (N,) an id per pixel (one per object; pixels of one id lie close together). A pixel within
    reach of a moving pixel takes the motion of the fastest moving pixel around it (a k x k
    neighbourhood, k from the fastest motion), so objects smear over what lies behind them, and
    is replaced by the average of n samples along that motion. The neighbourhood search runs on
    one box per group (its pixels plus the reach), batched: the cost follows the area of the
    moving objects, not of the image."""
    H, W = img.shape[:2]
    dev = img.device
    mag = v.norm(dim=-1)
    fast = mag >= 0.5           # slower pixels never reach the blur threshold, nor spread it
    if not bool(fast.any()):
        return
    ys, xs, v, mag, groups = ys[fast], xs[fast], v[fast], mag[fast], groups[fast]
    top = float(mag.max())
    k = 2 * math.ceil(top / 2) + 1
    r = k // 2
    # one box per group, grown by the reach; one box around everything if that is smaller
    _, g = torch.unique(groups, return_inverse=True)
    B = int(g.max()) + 1

    def extent(values: torch.Tensor, reduce: str, fill: int) -> torch.Tensor:
        return torch.full((B,), fill, dtype=torch.long, device=dev).scatter_reduce(0, g, values, reduce)

    y0, x0 = (extent(ys, "amin", H) - r).clamp_min(0), (extent(xs, "amin", W) - r).clamp_min(0)
    y1, x1 = (extent(ys, "amax", -1) + r + 1).clamp_max(H), (extent(xs, "amax", -1) + r + 1).clamp_max(W)
    hb, wb = int((y1 - y0).max()), int((x1 - x0).max())
    if B > 1 and B * hb * wb >= (int(y1.max()) - int(y0.min())) * (int(x1.max()) - int(x0.min())):
        g = torch.zeros_like(g)
        B, y0, x0, y1, x1 = 1, y0.min()[None], x0.min()[None], y1.max()[None], x1.max()[None]
        hb, wb = int(y1 - y0), int(x1 - x0)
    magb = torch.zeros((B, hb, wb), device=dev)
    flowb = torch.zeros((B, hb * wb, 2), device=dev)
    cell = (ys - y0[g]) * wb + (xs - x0[g])
    magb.view(B, -1)[g, cell] = mag
    flowb[g, cell] = v
    # k x k max (and where it is) as two 1D passes: cost 2k per pixel instead of k^2
    p1, i1 = F.max_pool2d(magb[:, None], (1, k), stride=1, padding=(0, r), return_indices=True)
    pooled, i2 = F.max_pool2d(p1, (k, 1), stride=1, padding=(r, 0), return_indices=True)
    pooled = pooled[:, 0]
    inside = ((torch.arange(hb, device=dev)[None, :, None] < (y1 - y0)[:, None, None])
              & (torch.arange(wb, device=dev)[None, None, :] < (x1 - x0)[:, None, None]))
    b, i, j = ((pooled >= 0.5) & inside).nonzero(as_tuple=True)
    if not len(b):
        return
    src = i1.view(B, -1).gather(1, i2.view(B, -1))[b, i * wb + j]
    f, pm = flowb[b, src], pooled[b, i, j]
    Y, X = y0[b] + i, x0[b] + j
    if B > 1:   # a pixel in several boxes keeps the fastest candidate (the lowest box on ties)
        flat = Y * W + X
        best = torch.full((H * W,), -1.0, device=dev).scatter_reduce(0, flat, pm, "amax")
        order = torch.arange(len(b), device=dev)
        order = torch.where(pm == best[flat], order, len(b))
        first = torch.full((H * W,), len(b), dtype=torch.long, device=dev).scatter_reduce(0, flat, order, "amin")
        keep = order == first[flat]
        Y, X, f = Y[keep], X[keep], f[keep]
    n = min(max(math.ceil(top) + 1, 3), 16)
    s = torch.linspace(-0.5, 0.5, n, device=dev)[:, None]          # n samples along the motion
    out = torch.empty((len(Y), img.shape[-1]), device=dev)
    step = max(1, BLUR_BATCH // n)   # all samples of a slice of pixels at once, memory bounded
    for a in range(0, len(Y), step):
        b = slice(a, a + step)
        sy = (Y[b].float() + 0.5 + f[b, 1] * s).floor_().long().clamp_(0, H - 1)
        sx = (X[b].float() + 0.5 + f[b, 0] * s).floor_().long().clamp_(0, W - 1)
        out[b] = img[sy, sx].sum(0) / n
    img[Y, X] = out


def axis_ground_distance(camera: Any) -> float:
    """Camera-axis depth where the optical axis meets the ground (30 m when it does not)."""
    fwd = camera.R[0][2]
    if fwd[2] < -0.02:
        return float(min(camera.C[0][2] / -fwd[2], 500.0))
    return 30.0
