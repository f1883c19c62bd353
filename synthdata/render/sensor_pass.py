"""The compiled CPU passes into and out of linear light around the effects chain
(render/effects.py): `decode_linear` before it, `sensor_encode` (sensor noise, vignetting, the
tone curve) after it. Re-exported by render/kernels.py with the other kernels; their CUDA twins
are in render/gpu.py and share the scalar maths (counter_noise, pixel).
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from synthdata.render.background_pass import SHADE_JIT as JIT  # the kernels' flags (render/kernels.py)
from synthdata.render.counter_noise import element_hashes, noise_of_hash, sensor_value
from synthdata.render.pixel import encode_index

__all__ = ["decode_linear", "sensor_encode"]


@njit(**JIT)
def decode_linear(rgb, lut, gain, depth, fog_m, air, x):
    """uint8 display values (T, H, W, 3) -> exposed linear float32 x (T, H, W, 3) through the
    inverse tone curve lut (256,), times gain (T,), faded to the air light air (3,) by depth
    (T, H, W) when fog_m > 0 (visibility in metres). Without fog each frame reads a table of the
    256 products lut * gain, rounded to float32 as every value was (the same bits)."""
    T, H, W, _ = rgb.shape
    if fog_m <= 0.0:
        n = H * W * 3
        codes, out = rgb.reshape(T, n), x.reshape(T, n)
        scaled = np.empty(256, np.float32)
        for t in range(T):
            for v in range(256):
                scaled[v] = lut[v] * gain[t]
            for i in range(n):
                out[t, i] = scaled[codes[t, i]]
        return
    for t in range(T):
        k = gain[t]
        for y in range(H):
            for xx in range(W):
                f = 1.0 - math.exp(-3.912 * depth[t, y, xx] / fog_m)
                for c in range(3):
                    x[t, y, xx, c] = lut[rgb[t, y, xx, c]] * k * (1.0 - f) + air[c] * f


def sensor_encode(x, seeds, a, b, mono, vignette, enc, rgb):
    """Sensor noise, vignetting and the tone curve in one pass: x (T, H, W, 3) exposed linear
    float32 -> rgb uint8. Noise has variance a * x + b (counter_noise.sensor_value), drawn from a
    counter hash of (seeds[t], flat element index) (one draw for all channels when mono).
    vignette (H, W) or empty; enc the tone-curve table over sqrt(x) in [0, 16]
    (render/effects.py ENCODE_*)."""
    _sensor_encode(x, seeds, a, b, mono, vignette, enc, rgb, element_hashes(x.shape[1] * x.shape[2] * 3))


@njit(**JIT)
def _sensor_encode(x, seeds, a, b, mono, vignette, enc, rgb, hashes):
    """`sensor_encode` with hashes (H * W * 3,) the first hash round of each element
    (counter_noise.element_hashes). Each row is a few flat loops over W * 3 values, which
    vectorise: the draws of a row first (noise_of_hash), then the values, then the table's buckets."""
    T, H, W, _ = x.shape          # 3 channels: the constant 3 below divides by multiplication
    vig = vignette.shape[0] > 0
    noisy = a > 0.0 or b > 0.0
    n = W * 3
    xf = x.reshape(T, H, n)
    out = rgb.reshape(T, H, n)
    row = np.empty(n, np.float32)
    draw = np.empty(n, np.float32)
    bucket = np.empty(n, np.uint32)     # unsigned: the gather below reads it without a wrap test
    for t in range(T):
        seed = np.uint32(seeds[t] & 0xFFFFFFFF)
        for y in range(H):
            base = y * n
            if vig:
                for xx in range(W):
                    v = vignette[y, xx]
                    for c in range(3):
                        row[3 * xx + c] = xf[t, y, 3 * xx + c] * v
            else:
                for i in range(n):
                    row[i] = xf[t, y, i]
            hrow = hashes[base:base + n]
            if noisy and mono:
                for xx in range(W):          # one draw a pixel, shared by its channels
                    draw[xx] = noise_of_hash(seed, hrow[3 * xx])
                for xx in range(W):
                    for c in range(3):
                        row[3 * xx + c] = sensor_value(row[3 * xx + c], draw[xx], a, b)
            elif noisy:
                for i in range(n):
                    draw[i] = noise_of_hash(seed, hrow[i])
                for i in range(n):
                    row[i] = sensor_value(row[i], draw[i], a, b)
            for i in range(n):           # the table's buckets (vectorised), then its values (a gather)
                bucket[i] = encode_index(row[i], enc)
            for i in range(n):
                out[t, y, i] = enc[bucket[i]]


sensor_encode.kernel = _sensor_encode      # what render/backend.py counts and caches
