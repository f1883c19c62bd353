"""Compiled host passes that bring actors to a plate's look (render/backdrop.py `match` drives
them on CPU frames): each touches only the pixels it changes.

- `recolour`: actor pixels through the plate's exposure and colour balance (a table per channel).
- `soften`: the actors' hard shadow pixels on the plate's ground, blurred by the penumbra, blend
  the lit and the shaded plate, only within the blur's reach of those pixels.
- `ring_blur`: the plate's blur on actor pixels and a 2-pixel ring around them.
- `add_noise`: the plate's noise, drawn per value by the counter hash of render/counter_noise.py
  (the sensor noise's draw; the torch path draws the same bits with `noise_field`).

The blur is the separable Gaussian of render/blur.py `gaussian_blur` (replicated borders; the
same taps), evaluated over the boxes of the pixels that need it, 32 x 32 pixels at a time, and
read at those pixels; float32 sums in tap order. torch's conv2d sums in its own order, so a value can differ from it
in the last bits of float32 and, rounded to uint8, by one level where it falls on a half (see
tests/test_plate_look.py).
"""
from __future__ import annotations

import math

import numpy as np
import torch
from numba import njit

from synthdata.render.counter_noise import element_hashes, noise_of_hash
from synthdata.render.pixel import row_is
from synthdata.render.planes import kept

JIT = dict(cache=True, nogil=True)


def gaussian_taps(sigma: float) -> np.ndarray:
    """The (2r + 1,) float32 taps render/blur.py `gaussian_blur` uses for sigma."""
    r = max(1, math.ceil(3 * sigma))
    k = torch.exp(-0.5 * (torch.arange(-r, r + 1, dtype=torch.float32) / sigma) ** 2)
    return (k / k.sum()).numpy()


@njit(**JIT)
def _bbox(mask):
    """Bounding box y0, y1, x0, x1 (exclusive) of the True pixels of mask (H, W); y1 == 0 if none.
    A row is first tested whole (a count, which vectorises), then searched from both ends."""
    H, W = mask.shape
    y0, y1, x0, x1 = H, 0, W, 0
    for y in range(H):
        row = mask[y]
        any_ = 0
        for x in range(W):
            any_ += row[x]
        if any_ == 0:
            continue
        first = 0
        while not row[first]:
            first += 1
        last = W - 1
        while not row[last]:
            last -= 1
        y0, y1, x0, x1 = min(y0, y), y + 1, min(x0, first), max(x1, last + 1)
    return y0, y1, x0, x1


@njit(**JIT)
def _dilate(mask, r, out, sy0, sy1, sx0, sx1):
    """out (H, W) bool: pixels within r (square) of a True pixel of mask (H, W) set True (only
    within the mask's bounding box grown by r); returns that box (y0, y1, x0, x1; y1 == 0 if
    mask has no True pixel). The mask's True pixels are all within sy0, sy1, sx0, sx1 (searched
    for its box). Rows are dilated first, then each output row ORs the dilated rows within r above
    and below: 2r + 1 flat passes of bytes a row, without branches, which vectorise."""
    H, W = mask.shape
    y0, y1, x0, x1 = _bbox(mask[sy0:sy1, sx0:sx1])
    if y1 == 0:
        return 0, 0, 0, 0
    y0, y1, x0, x1 = y0 + sy0, y1 + sy0, x0 + sx0, x1 + sx0
    y0, y1, x0, x1 = max(y0 - r, 0), min(y1 + r, H), max(x0 - r, 0), min(x1 + r, W)
    n = x1 - x0
    rows = np.empty((y1 - y0, n), np.bool_)
    for y in range(y0, y1):
        _dilate_line(mask[y, x0:x1], r, rows[y - y0])
    for y in range(y0, y1):
        o = out[y, x0:x1].view(np.uint8)
        for yy in range(max(y - r, y0), min(y + r + 1, y1)):
            src = rows[yy - y0].view(np.uint8)
            for x in range(n):
                o[x] |= src[x]
    return y0, y1, x0, x1


@njit(**JIT)
def _dilate_line(src, r, dst):
    """dst[i] = any of src[i - r .. i + r] (1-D bool): src ORed in shifted by each of -r .. r, as
    bytes (flat passes that vectorise)."""
    n = src.shape[0]
    a, d = src.view(np.uint8), dst.view(np.uint8)
    for i in range(n):
        d[i] = a[i]
    for k in range(1, min(r, n - 1) + 1):        # indices written as sums of non-negative terms:
        for i in range(n - k):                  # a difference (i - k) kept these loops scalar
            d[i] |= a[i + k]
        for i in range(n - k):
            d[i + k] |= a[i]


@njit(**JIT)
def _blur_box(x, taps, out, y0, y1, x0, x1, pad, horiz, acc):
    """out[y0:y1, x0:x1] (float32, H x W x C) = the Gaussian blur of x (H, W, C), borders
    replicated. The rows pass runs over the box's rows and those within reach above and below,
    then the columns pass; taps outermost so that the inner loops run along a row's values (flat,
    over slices: they vectorise), each value summing its taps in order (the first one stored).
    Scratch: pad ((x1 - x0 + 2r) C), horiz ((y1 - y0 + 2r) x (x1 - x0) C), acc ((x1 - x0) C) at
    least, any values."""
    H, W, C = x.shape
    r = (taps.shape[0] - 1) // 2
    ry0, ry1 = max(y0 - r, 0), min(y1 + r, H)
    n = (x1 - x0) * C
    flat, dst = x.reshape(H, W * C), out.reshape(H, W * C)
    lo, hi = max(x0 - r, 0), min(x1 + r, W)     # the row's own values, then its borders replicated
    m, left = (hi - lo) * C, (lo - (x0 - r)) * C
    for y in range(ry0, ry1):
        src = flat[y, lo * C:hi * C]
        into = pad[left:left + m]
        for i in range(m):
            into[i] = np.float32(src[i])
        for k in range(lo - (x0 - r)):
            for c in range(C):
                pad[k * C + c] = np.float32(flat[y, c])
        for k in range(hi - (x0 - r), x1 - x0 + 2 * r):
            for c in range(C):
                pad[k * C + c] = np.float32(flat[y, (W - 1) * C + c])
        h = horiz[y - ry0]
        t0 = taps[0]
        for q in range(n):
            h[q] = t0 * pad[q]
        for j in range(1, taps.shape[0]):
            tj = taps[j]
            p = pad[j * C:j * C + n]            # a slice: an index q + j * C kept this loop scalar
            for q in range(n):
                h[q] += tj * p[q]
    for y in range(y0, y1):
        row = horiz[max(y - r, 0) - ry0]
        t0 = taps[0]
        for q in range(n):
            acc[q] = t0 * row[q]
        for j in range(1, taps.shape[0]):
            tj = taps[j]
            row = horiz[min(max(y + j - r, 0), H - 1) - ry0]
            for q in range(n):
                acc[q] += tj * row[q]
        o = dst[y, x0 * C:x1 * C]
        for q in range(n):
            o[q] = acc[q]


BLUR_TILE = 32   # `_blur_tiles`: the blur runs over 32 x 32 tiles holding needed pixels, not their whole box


@njit(**JIT)
def _blur_tiles(x, need, taps, out, y0, y1, x0, x1):
    """The Gaussian blur (`_blur_box`) at the pixels of need within y0, y1, x0, x1, a BLUR_TILE
    tile at a time, each over the box of its own needed pixels (tiles without any are skipped);
    out is written over those boxes, which hold every needed pixel (its other pixels are scratch
    to the callers). Every value sums its taps in the same order from the same neighbours, so a
    needed pixel's value is the same whatever the tiling, at the cost of the needed pixels'
    neighbourhood rather than of the box around all of them (actors and shadows spread over the
    frame)."""
    C = x.shape[2]
    r = (taps.shape[0] - 1) // 2
    pad = np.empty((BLUR_TILE + 2 * r) * C, np.float32)
    horiz = np.empty((BLUR_TILE + 2 * r, BLUR_TILE * C), np.float32)
    acc = np.empty(BLUR_TILE * C, np.float32)
    for ty in range(y0, y1, BLUR_TILE):
        for tx in range(x0, x1, BLUR_TILE):
            ya, yb, xa, xb = _bbox(need[ty:min(ty + BLUR_TILE, y1), tx:min(tx + BLUR_TILE, x1)])
            if yb > 0:
                _blur_box(x, taps, out, ty + ya, ty + yb, tx + xa, tx + xb, pad, horiz, acc)


@njit(**JIT)
def _soften(rgb, inst, lit, shade, receiver, taps, hmask, near, hard, soft, by0, by1, bx0, bx1):
    """One frame rgb (H, W, 3) uint8 in place: free receiving pixels within the blur's reach of the
    hard shadow (pixels within by0, by1, bx0, bx1 that differ from the lit plate `lit` and equal
    the shaded one `shade`) take lit * (1 - soft) + shade * soft, soft the blurred hard-shadow
    mask (where > 1e-3). The box is where the actors' shadows can fall (the renderer's shadow
    windows), so only it is searched. Scratch (kept from frame to frame): hmask (H, W) False,
    near (H, W) False and hard (H, W, 1) zeros (all left so), soft (H, W, 1)."""
    H, W, _ = rgb.shape
    by0, by1, bx0, bx1 = max(by0, 0), min(by1, H), max(bx0, 0), min(bx1, W)
    if by1 <= by0 or bx1 <= bx0:
        return
    nb = (bx1 - bx0) * 3
    differs, same = np.empty(nb, np.bool_), np.empty(nb, np.bool_)
    flat_rgb, flat_lit, flat_shade = rgb.reshape(H, W * 3), lit.reshape(H, W * 3), shade.reshape(H, W * 3)
    for y in range(by0, by1):       # a row's values compared in flat loops, then its pixels (without branches)
        v, a, b = flat_rgb[y, bx0 * 3:bx1 * 3], flat_lit[y, bx0 * 3:bx1 * 3], flat_shade[y, bx0 * 3:bx1 * 3]
        for q in range(nb):
            differs[q] = v[q] != a[q]
            same[q] = v[q] == b[q]
        for x in range(bx1 - bx0):
            k = bx0 + x
            hmask[y, k] = ((differs[3 * x] | differs[3 * x + 1] | differs[3 * x + 2])
                           & (same[3 * x] & same[3 * x + 1] & same[3 * x + 2]) & (inst[y, k] == 0) & receiver[y, k])
    r = (taps.shape[0] - 1) // 2
    y0, y1, x0, x1 = _dilate(hmask, r, near, by0, by1, bx0, bx1)
    if y1 > 0:
        ya, yb, xa, xb = max(y0 - r, 0), min(y1 + r, H), max(x0 - r, 0), min(x1 + r, W)
        for y in range(ya, yb):                 # read within r of `near`: set there, zero elsewhere
            for x in range(xa, xb):
                hard[y, x, 0] = np.float32(hmask[y, x])
        _blur_tiles(hard, near, taps, soft, y0, y1, x0, x1)     # soft: read at `near` only
        one, zero, top = np.float32(1.0), np.float32(0.0), np.float32(255.0)
        n = (x1 - x0) * 3
        sv = np.empty(n, np.float32)
        for y in range(y0, y1):                 # a row at a time: each value's s, then a select (they vectorise)
            for x in range(x1 - x0):
                k = x0 + x
                s = min(max(soft[y, k, 0], zero), one) if near[y, k] & (inst[y, k] == 0) & receiver[y, k] else zero
                sv[3 * x] = sv[3 * x + 1] = sv[3 * x + 2] = s
            v, a, b = flat_rgb[y, x0 * 3:x1 * 3], flat_lit[y, x0 * 3:x1 * 3], flat_shade[y, x0 * 3:x1 * 3]
            for q in range(n):
                s = sv[q]
                m = np.float32(a[q]) * (one - s) + np.float32(b[q]) * s
                v[q] = np.uint8(min(max(np.rint(m), zero), top)) if s > np.float32(1e-3) else v[q]
        for y in range(ya, yb):                 # the scratch left as it came
            for x in range(xa, xb):
                hard[y, x, 0] = 0.0
        for y in range(y0, y1):
            for x in range(x0, x1):
                near[y, x] = False
    for y in range(by0, by1):
        for x in range(bx0, bx1):
            hmask[y, x] = False


def soften(rgb: np.ndarray, inst: np.ndarray, lit: np.ndarray, shade: np.ndarray, receiver: np.ndarray,
           sigma: float, boxes: np.ndarray | None = None) -> None:
    """Frames rgb (T, H, W, 3) uint8 in place (see `_soften`), inst (T, H, W); boxes (T, 4) y0, y1,
    x0, x1 where each frame's actor shadows can fall (None: anywhere)."""
    taps = gaussian_taps(sigma)
    H, W = rgb.shape[1:3]
    scratch = kept("plate_look.soften", (H, W), lambda: (np.zeros((H, W), np.bool_), np.zeros((H, W), np.bool_),
                                                         np.zeros((H, W, 1), np.float32), np.empty((H, W, 1), np.float32)))
    for t in range(rgb.shape[0]):
        y0, y1, x0, x1 = (0, H, 0, W) if boxes is None else (int(v) for v in boxes[t])
        _soften(rgb[t], inst[t], lit, shade, receiver, taps, *scratch, y0, y1, x0, x1)


@njit(**JIT)
def _ring_blur(rgb, inst, taps, out, actor, ring):
    """One frame of `ring_blur`; scratch (kept from frame to frame): out (H, W, 3), actor (H, W)
    and ring (H, W) False (left so)."""
    H, W, _ = rgb.shape
    for y in range(H):
        for x in range(W):
            actor[y, x] = inst[y, x] > 0
    y0, y1, x0, x1 = _dilate(actor, 2, ring, 0, H, 0, W)
    if y1 == 0:
        return
    _blur_tiles(rgb, ring, taps, out, y0, y1, x0, x1)
    n = (x1 - x0) * 3
    sel = np.empty(n, np.bool_)
    src, dst = out.reshape(H, W * 3), rgb.reshape(H, W * 3)
    lo, hi = np.float32(0.0), np.float32(255.0)
    for y in range(y0, y1):                 # a row at a time: which values, then a select (it vectorises)
        m = ring[y, x0:x1]
        for x in range(x1 - x0):
            sel[3 * x] = sel[3 * x + 1] = sel[3 * x + 2] = m[x]
            m[x] = False
        o, v = src[y, x0 * 3:x1 * 3], dst[y, x0 * 3:x1 * 3]
        for q in range(n):
            v[q] = np.uint8(min(max(np.rint(o[q]), lo), hi)) if sel[q] else v[q]


def ring_blur(rgb: np.ndarray, inst: np.ndarray, sigma: float) -> None:
    """Frames rgb (T, H, W, 3) uint8 in place: actor pixels (inst > 0) and those within 2 pixels
    (a 5 x 5 square) take the Gaussian blur (sigma pixels) of the frame as it was."""
    taps = gaussian_taps(sigma)
    H, W = rgb.shape[1:3]
    scratch = kept("plate_look.ring_blur", (H, W), lambda: (np.zeros((H, W, 3), np.float32), np.empty((H, W), np.bool_),
                                                            np.zeros((H, W), np.bool_)))
    for t in range(rgb.shape[0]):
        _ring_blur(rgb[t], inst[t], taps, *scratch)


def add_noise(rgb: np.ndarray, seed32: np.uint32, inst: np.ndarray, actor_sigma: np.float32,
              plate_sigma: np.float32) -> None:
    """One frame rgb (H, W, 3) uint8 in place: + a unit draw (counter_noise.noise_sample of seed32
    and the value's flat index) times actor_sigma on actor pixels, plate_sigma elsewhere (float32,
    already in per-channel units), rounded half to even."""
    _add_noise(rgb, seed32, inst, actor_sigma, plate_sigma, element_hashes(rgb.size))


@njit(**JIT)
def _add_noise(rgb, seed32, inst, actor_sigma, plate_sigma, hashes):
    """`add_noise` with hashes (H * W * 3,) each element's first hash round
    (counter_noise.element_hashes). A row at a time in flat loops over its W * 3 values, which
    vectorise: its draws, each value's sigma, then the values (a loop per pixel over its channels,
    with the actor test inside, ran 4.7x slower)."""
    H, W, _ = rgb.shape
    n = W * 3
    flat = rgb.reshape(H, n)
    draw = np.empty(n, np.float32)
    sig = np.empty(n, np.float32)
    lo, hi = np.float32(0.0), np.float32(255.0)
    for y in range(H):
        base = y * n
        hrow = hashes[base:base + n]
        for i in range(n):
            draw[i] = noise_of_hash(seed32, hrow[i])
        for x in range(W):
            s = actor_sigma if inst[y, x] > 0 else plate_sigma
            sig[3 * x], sig[3 * x + 1], sig[3 * x + 2] = s, s, s
        row = flat[y]
        for i in range(n):
            row[i] = np.uint8(min(max(np.rint(np.float32(row[i]) + draw[i] * sig[i]), lo), hi))


@njit(**JIT)
def _recolour(rgb, inst, table):
    T, H, W, _ = rgb.shape
    for t in range(T):
        for y in range(H):
            if row_is(inst, t, y, np.int32(0)):     # a row of plate alone
                continue
            for x in range(W):
                if inst[t, y, x] > 0:
                    for c in range(3):
                        rgb[t, y, x, c] = table[rgb[t, y, x, c], c]


def recolour(rgb: np.ndarray, inst: np.ndarray, table: np.ndarray) -> None:
    """Actor pixels (inst > 0) of frames rgb (T, H, W, 3) uint8 in place through table (256, 3)
    uint8, one column per channel (the plate's exposure and colour balance, tone-mapped)."""
    _recolour(rgb, inst, np.ascontiguousarray(table))
