"""Sensor noise draws the compiled kernels make per pixel (render/kernels.py, render/gpu.py): a
counter-based hash of (seed, pixel, channel), so every device draws the same bits without any
random-number state. Scalar functions registered with numba, like render/pixel.py.
"""
from __future__ import annotations

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
def noise_sample(seed, pixel, channel):
    """A unit-variance, zero-mean draw for (seed, pixel, channel) from a counter-based hash: the
    sum of four 16-bit uniforms (two hash rounds), centred and scaled. Integer maths only, so the
    same bits come out on every device."""
    h1 = hash32(seed ^ hash32(pixel * 4 + channel))
    h2 = hash32(h1 ^ 0x9E3779B9)
    u = ((h1 & 0xFFFF) + (h1 >> 16) + (h2 & 0xFFFF) + (h2 >> 16)) * (1.0 / 65536.0)
    return (u - 2.0) * 1.7320508075688772
