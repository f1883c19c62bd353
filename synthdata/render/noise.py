"""Smooth procedural noise for textures (ground, snow, puddles): deterministic for a lattice
drawn from a seed; render/background.py and render/weather.py share it.

Evaluated once per clip (per camera pose) on the host by a compiled loop for every render
device: the tensors' values go to the CPU and the result comes back to their device."""
from __future__ import annotations


import numpy as np
import torch
from numba import njit
from numba.extending import register_jitable

from synthdata.render.rounding import floor


def value_noise(x: torch.Tensor, y: torch.Tensor, lattice: torch.Tensor) -> torch.Tensor:
    """Smooth noise in [-1, 1] at continuous lattice coordinates (wraps around)."""
    xs, ys = torch.broadcast_tensors(x, y)
    xn = np.ascontiguousarray(xs.detach().to("cpu", torch.float32).numpy()).reshape(-1)
    yn = np.ascontiguousarray(ys.detach().to("cpu", torch.float32).numpy()).reshape(-1)
    out = np.empty(xn.shape[0], np.float32)
    _value_noise(xn, yn, np.ascontiguousarray(lattice.detach().to("cpu", torch.float32).numpy()), out)
    return torch.from_numpy(out).view(xs.shape).to(x.device)


@njit(cache=True, nogil=True)
def _value_noise(x, y, lat, out):
    for i in range(x.shape[0]):
        out[i] = noise_at(x[i], y[i], lat)


@register_jitable
def noise_at(x, y, lat):
    """Value noise (float32) at float32 lattice coordinates x, y of lattice (n, n): smoothstep
    interpolation of its four corners (wrapping around)."""
    n = lat.shape[0]
    x0f, y0f = floor(x), floor(y)
    fx, fy = np.float32(x - x0f), np.float32(y - y0f)
    fx = fx * fx * (np.float32(3.0) - np.float32(2.0) * fx)
    fy = fy * fy * (np.float32(3.0) - np.float32(2.0) * fy)
    if n & (n - 1) == 0:        # a power of two: the same wrap by a mask
        x0, y0 = int(x0f) & (n - 1), int(y0f) & (n - 1)
        x1, y1 = (x0 + 1) & (n - 1), (y0 + 1) & (n - 1)
    else:
        x0, y0 = int(x0f) % n, int(y0f) % n
        x1, y1 = (x0 + 1) % n, (y0 + 1) % n
    # the corners as unsigned indices (each is in 0..n-1): numba wraps a signed index that might
    # be negative at every read, which cost three octaves of ground noise 11 ms a 640x480 pose
    # against 7 read so (the same values)
    X0, Y0, X1, Y1 = np.uint64(x0), np.uint64(y0), np.uint64(x1), np.uint64(y1)
    a = lat[Y0, X0] * (np.float32(1.0) - fx) + lat[Y0, X1] * fx
    b = lat[Y1, X0] * (np.float32(1.0) - fx) + lat[Y1, X1] * fx
    return a * (np.float32(1.0) - fy) + b * fy
