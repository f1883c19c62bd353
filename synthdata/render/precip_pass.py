"""The compiled CPU pass that draws falling rain and snow into a linear-light frame
(render/weather.py `precipitation` computes the particles and calls it on the CPU; elsewhere its
torch operations run). One loop over the particles' samples instead of a dozen array passes and
two whole-frame blends: only the pixels a particle reaches are touched.

The same bits as the torch operations: sample positions in float64 in the numpy expressions'
order, the alpha and depth test in float32, the blend `x (1 - a) + col a` in float32; no fast-math
flags (a contracted multiply-add would round differently).
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from synthdata.render.planes import kept


def splat_particles(x: np.ndarray, depth: np.ndarray, u: np.ndarray, v: np.ndarray, z: np.ndarray,
                    grow: np.ndarray, du: np.ndarray, dv: np.ndarray, cx: float, cy: float, amp: np.ndarray,
                    weight: np.ndarray, col: np.ndarray) -> None:
    """Blend particles into x (H, W, C) float32 in place (`_splat`), with the calling thread's
    kept scratch."""
    H, W = depth.shape
    a, touched = kept("precip_pass.splat", (H, W), lambda: (np.zeros(H * W, np.float32), np.empty(H * W, np.int64)))
    _splat(x, depth, u, v, z, grow, du, dv, float(cx), float(cy), amp, weight, col, a, touched)


@njit(cache=True, nogil=True, error_model="numpy", _nrt=False)
def _splat(x, depth, u, v, z, grow, du, dv, cx, cy, amp, weight, col, a, touched):
    """Particle i's sample j lies at (u[i] + (du[j] grow[i]) cx, v[i] + (dv[j] grow[i]) cy)
    (float64), at depth z[i] (float32) with alpha float32(amp[i] weight[j]); a sample inside the
    frame and nearer than depth (H, W) float32 there counts. Each pixel takes the largest alpha a of
    its samples and becomes x (1 - a) + col a (x (H, W, C) float32, col (C,) float32). a (H * W,)
    float32 zeros, left zeros; touched (H * W,) int64 scratch."""
    H, W, C = x.shape
    one = np.float32(1.0)
    n = 0
    for i in range(u.shape[0]):
        zi = z[i]
        for j in range(du.shape[0]):
            iu = math.floor(u[i] + du[j] * grow[i] * cx)
            iv = math.floor(v[i] + dv[j] * grow[i] * cy)
            if iu < 0 or iu >= W or iv < 0 or iv >= H or not zi < depth[iv, iu]:
                continue
            al = np.float32(amp[i] * weight[j])
            p = iv * W + iu
            if al > a[p]:
                if a[p] == 0.0:
                    touched[n] = p
                    n += 1
                a[p] = al
    for k in range(n):
        p = touched[k]
        y = p // W
        xx = p - y * W
        al = a[p]
        keep = one - al
        for c in range(C):
            x[y, xx, c] = x[y, xx, c] * keep + col[c] * al
        a[p] = 0.0
