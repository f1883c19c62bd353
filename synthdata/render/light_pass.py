"""The compiled CPU pass that adds moving lights' pools (vehicle head and tail lights) to the
background (re-exported by render/kernels.py with the other kernels). Each light is summed over
its own screen window a row at a time: a flat, branch-free loop evaluates pixel.lamp's factor for
the row's pixels, which LLVM vectorises (a per-pixel loop with lamp's early returns did not), then
the sums take the surfaces' response and the tone curve. The CUDA twin (render/gpu.py) evaluates
pixel.moving_irradiance per pixel: the same terms in the same order.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from synthdata.render.background_pass import SHADE_NO_REFS as NO_REFS  # kernels.py's flags
from synthdata.render.pixel import encode, lamp_response, lamp_terms
from synthdata.render.planes import kept

__all__ = ["light_pools"]


def light_pools(rgb, inst, win, which, receiver, point, normal, albedo, material, frame0, lut, enc, light, mats,
                dpos, daxis, dcol, drange, dcos, lwin):
    """Add the moving lights' pools to the background pixels (inst == 0, receiver) inside each
    frame's window win (T, 4) (x0, y0, x1, y1): rgb takes tone(lut[rgb] + response * exposure).
    Background buffers (U, H, W, ...) are picked per frame by which (T,). Each light is summed
    only inside its own window lwin (T, L, 4) (where it can reach), in light order, so each
    pixel's sum is pixel.moving_irradiance's. The sums' plane and a row's scratch are the
    thread's, kept from call to call (render/planes.py `kept`; the sums zeroed, left so)."""
    H, W = inst.shape[1], inst.shape[2]
    acc, k, ok = kept("light_pools", (H, W), lambda: (np.zeros((H, W, 3)), np.empty(W), np.empty(W, np.bool_)))
    _light_pools(rgb, inst, win, which, receiver, point, normal, albedo, material, frame0, lut, enc, light, mats,
                 dpos, daxis, dcol, drange, dcos, lwin, acc, k, ok)


@njit(**NO_REFS)
def lamp_row(nrm, pnt, ok, lx, ly, lz, rng, ax, ay, az, c0, k, n):
    """pixel.lamp for n pixels of a row: k[i] the factor at the pixel whose normal and point are
    nrm[3i:3i + 3], pnt[3i:3i + 3], 0 where ok[i] is False. lamp's terms (`pixel.lamp_terms`) are
    computed for every pixel and its early returns (beyond the range, outside the cone) become a
    select after them: the same values, in a loop without branches."""
    for i in range(n):
        vx, vy, vz = lx - pnt[3 * i], ly - pnt[3 * i + 1], lz - pnt[3 * i + 2]
        d2 = vx * vx + vy * vy + vz * vz
        f, lit = lamp_terms(nrm[3 * i], nrm[3 * i + 1], nrm[3 * i + 2], vx, vy, vz, d2, rng, ax, ay, az, c0)
        k[i] = f if ok[i] & (d2 < rng * rng) & lit else 0.0


@njit(**NO_REFS)
def _light_pools(rgb, inst, win, which, receiver, point, normal, albedo, material, frame0, lut, enc, light, mats,
                 dpos, daxis, dcol, drange, dcos, lwin, acc, k, ok):
    """`light_pools` with its scratch: acc (H, W, 3) zeros, left as it came; k (W,) and ok (W,)."""
    T, H, W = inst.shape
    e = light[9]
    for t in range(T):
        u = which[t]
        f = frame0 + t
        x0, y0, x1, y1 = win[t, 0], win[t, 1], win[t, 2], win[t, 3]
        if x1 <= x0 or y1 <= y0:
            continue
        pts, nrm = point[u].reshape(H, W * 3), normal[u].reshape(H, W * 3)
        for i in range(dpos.shape[0]):
            cr, cg, cb = dcol[i, f, 0], dcol[i, f, 1], dcol[i, f, 2]
            xa, xb = max(lwin[t, i, 0], x0), min(lwin[t, i, 2], x1)
            if (cr == 0.0 and cg == 0.0 and cb == 0.0) or xb <= xa:
                continue
            n = xb - xa
            for y in range(max(lwin[t, i, 1], y0), min(lwin[t, i, 3], y1)):
                ids, rec = inst[t, y, xa:xb], receiver[u, y, xa:xb]
                for q in range(n):
                    ok[q] = (ids[q] == 0) & rec[q]
                lamp_row(nrm[y, 3 * xa:3 * xb], pts[y, 3 * xa:3 * xb], ok, dpos[i, f, 0], dpos[i, f, 1], dpos[i, f, 2],
                         drange[i], daxis[i, f, 0], daxis[i, f, 1], daxis[i, f, 2], dcos[i], k, n)
                a = acc[y, xa:xb]
                for q in range(n):          # + 0 where the light does not reach: the sums unchanged
                    a[q, 0] += cr * k[q]
                    a[q, 1] += cg * k[q]
                    a[q, 2] += cb * k[q]
        for y in range(y0, y1):
            for x in range(x0, x1):
                er, eg, eb = acc[y, x, 0], acc[y, x, 1], acc[y, x, 2]
                if er == 0.0 and eg == 0.0 and eb == 0.0:
                    continue
                acc[y, x, 0] = acc[y, x, 1] = acc[y, x, 2] = 0.0
                r, g, b = lamp_response(albedo[u, y, x, 0], albedo[u, y, x, 1], albedo[u, y, x, 2], material[u, y, x],
                                        er, eg, eb, light, mats)
                rgb[t, y, x, 0] = encode(lut[rgb[t, y, x, 0]] + r * e, enc)
                rgb[t, y, x, 1] = encode(lut[rgb[t, y, x, 1]] + g * e, enc)
                rgb[t, y, x, 2] = encode(lut[rgb[t, y, x, 2]] + b * e, enc)


light_pools.kernel = _light_pools      # what render/backend.py counts and caches
