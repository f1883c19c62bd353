"""Smooth procedural noise for textures (ground, snow, puddles): deterministic for a lattice
drawn from a seed; render/background.py and render/weather.py share it."""
from __future__ import annotations

import torch


def value_noise(x: torch.Tensor, y: torch.Tensor, lattice: torch.Tensor) -> torch.Tensor:
    """Smooth noise in [-1, 1] at continuous lattice coordinates (wraps around)."""
    n = lattice.shape[0]
    x0f, y0f = torch.floor(x), torch.floor(y)
    fx, fy = x - x0f, y - y0f
    fx = fx * fx * (3 - 2 * fx)
    fy = fy * fy * (3 - 2 * fy)
    x0 = x0f.long() % n
    y0 = y0f.long() % n
    x1, y1 = (x0 + 1) % n, (y0 + 1) % n
    a = lattice[y0, x0] * (1 - fx) + lattice[y0, x1] * fx
    b = lattice[y1, x0] * (1 - fx) + lattice[y1, x1] * fx
    return a * (1 - fy) + b * fy
