"""Smooth procedural noise for textures (ground, snow, puddles): deterministic for a lattice
drawn from a seed; render/background.py and render/weather.py share it.

Evaluated once per clip (per camera pose) on the host by a compiled loop for every render
device: the tensors' values go to the CPU and the result comes back to their device."""
from __future__ import annotations

import math

import numpy as np
import torch
from numba import njit


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
    n = lat.shape[0]
    for i in range(x.shape[0]):
        x0f, y0f = math.floor(x[i]), math.floor(y[i])
        fx, fy = np.float32(x[i] - x0f), np.float32(y[i] - y0f)
        fx = fx * fx * (np.float32(3.0) - np.float32(2.0) * fx)
        fy = fy * fy * (np.float32(3.0) - np.float32(2.0) * fy)
        x0, y0 = int(x0f) % n, int(y0f) % n
        x1, y1 = (x0 + 1) % n, (y0 + 1) % n
        a = lat[y0, x0] * (np.float32(1.0) - fx) + lat[y0, x1] * fx
        b = lat[y1, x0] * (np.float32(1.0) - fx) + lat[y1, x1] * fx
        out[i] = a * (np.float32(1.0) - fy) + b * fy
