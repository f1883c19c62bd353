"""Sensor noise draws the compiled kernels make per pixel (render/kernels.py, render/gpu.py): a
counter-based hash of (seed, pixel, channel), so every device draws the same bits without any
random-number state. Scalar functions registered with numba, like render/pixel.py.
"""
from __future__ import annotations

import math

import numpy as np
from numba.extending import register_jitable


@register_jitable
def hash32(v):
    """A 32-bit integer hash (lowbias32) of a non-negative integer, kept to 32 bits."""
    v = int(v) & 0xFFFFFFFF          # int(): exact (unbounded) integers when run as plain Python
    v ^= v >> 16
    v = (v * 0x7FEB352D) & 0xFFFFFFFF
    v ^= v >> 15
    v = (v * 0x846CA68B) & 0xFFFFFFFF
    v ^= v >> 16
    return v


@register_jitable
def noise_sample(seed, element):
    """A unit-variance, zero-mean float32 draw for (seed, element) from a counter-based hash:
    the sum of four 16-bit uniforms (two hash rounds), centred and scaled. `element` is the flat
    index of a value in an (H, W, 3) frame, (y * W + x) * 3 + channel. Integer maths only, so
    the same bits come out on every device; written so the CPU kernel's row loop vectorises."""
    h1 = hash32(hash32(element) ^ (int(seed) & 0xFFFFFFFF))
    h2 = hash32(h1 ^ 0x9E3779B9)
    u = np.float32((h1 & 0xFFFF) + (h1 >> 16) + (h2 & 0xFFFF) + (h2 >> 16)) * np.float32(1.0 / 65536.0)
    return (u - np.float32(2.0)) * np.float32(1.7320508075688772)


@register_jitable
def sensor_value(v, n, a, b):
    """Exposed linear float32 v with Poisson-Gaussian sensor noise: v + sqrt(a max(v, 0) + b) n
    for a unit draw n (heteroscedastic Gaussian form; a = gain / full well, b = read noise term)."""
    return v + np.float32(math.sqrt(max(v, np.float32(0.0)) * np.float32(a) + np.float32(b))) * n
