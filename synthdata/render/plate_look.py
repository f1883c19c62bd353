"""Compiled host passes that bring actors to a plate's look (render/backdrop.py `match` drives
them on CPU frames): each touches only the pixels it changes.

- `recolour`: actor pixels through the plate's exposure and colour balance (a table per channel).
- `soften`: the actors' hard shadow pixels on the plate's ground, blurred by the penumbra, blend
  the lit and the shaded plate, only within the blur's reach of those pixels.
- `ring_blur`: the plate's blur on actor pixels and a 2-pixel ring around them.
- `add_noise`: the plate's noise, drawn per value by the counter hash of render/counter_noise.py
  (the sensor noise's draw; the torch path draws the same bits with `noise_field`).

The blur is the separable Gaussian of render/blur.py `gaussian_blur` (replicated borders; the
same taps), evaluated over the bounding box of the pixels that need it and kept at those pixels;
float32 sums in tap order. torch's conv2d sums in its own order, so a value can differ from it
in the last bits of float32 and, rounded to uint8, by one level where it falls on a half (see
tests/test_plate_look.py).
"""
from __future__ import annotations

import math

import numpy as np
import torch
from numba import njit

from synthdata.render.counter_noise import noise_sample32
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
    for its box). Rows are dilated first, then columns by a running count of the dilated rows
    within r above and below (a pass over the box, whatever r)."""
    H, W = mask.shape
    y0, y1, x0, x1 = _bbox(mask[sy0:sy1, sx0:sx1])
    if y1 == 0:
        return 0, 0, 0, 0
    y0, y1, x0, x1 = y0 + sy0, y1 + sy0, x0 + sx0, x1 + sx0
    y0, y1, x0, x1 = max(y0 - r, 0), min(y1 + r, H), max(x0 - r, 0), min(x1 + r, W)
    n = x1 - x0
    rows = np.zeros((y1 - y0, n), np.bool_)
    for y in range(y0, y1):
        _dilate_line(mask[y, x0:x1], r, rows[y - y0])
    count = np.zeros(n, np.int32)
    for y in range(y0, min(y0 + r, y1)):        # the rows within r below the first
        src = rows[y - y0]
        for x in range(n):
            count[x] += src[x]
    for y in range(y0, y1):
        if y + r < y1:                          # the row coming into reach below
            src = rows[y + r - y0]
            for x in range(n):
                count[x] += src[x]
        if y - r - 1 >= y0:                     # the row leaving reach above
            src = rows[y - r - 1 - y0]
            for x in range(n):
                count[x] -= src[x]
        o = out[y, x0:x1]
        for x in range(n):
            o[x] |= count[x] > 0
    return y0, y1, x0, x1


@njit(**JIT)
def _dilate_line(src, r, dst):
    """dst[i] = any of src[i - r .. i + r] (1-D)."""
    n = src.shape[0]
    last = -2 * (r + 1)
    for i in range(n):                  # forwards: the last True at or before i
        if src[i]:
            last = i
        dst[i] = i - last <= r
    last = n + 2 * (r + 1)
    for i in range(n - 1, -1, -1):      # backwards: the next True at or after i
        if src[i]:
            last = i
        if last - i <= r:
            dst[i] = True


@njit(**JIT)
def _blur_at(x, need, taps, out, y0, y1, x0, x1):
    """out[y, x, c] (float32) = Gaussian blur of x (H, W, C) at the pixels of need (H, W), whose
    bounding box is y0, y1, x0, x1 (`_bbox`), borders replicated. Both passes run over the whole
    box (the rows pass also over the rows within reach above and below), taps outermost so the
    inner loop runs along a row's values; each value still sums its taps in order from zero."""
    H, W, C = x.shape
    r = (taps.shape[0] - 1) // 2
    ry0, ry1 = max(y0 - r, 0), min(y1 + r, H)
    n = (x1 - x0) * C
    pad = np.empty((x1 - x0 + 2 * r) * C, np.float32)
    horiz = np.zeros((ry1 - ry0, n), np.float32)
    for y in range(ry0, ry1):
        for k in range(x1 - x0 + 2 * r):            # the row, borders replicated
            xs = min(max(x0 - r + k, 0), W - 1)
            for c in range(C):
                pad[k * C + c] = np.float32(x[y, xs, c])
        h = horiz[y - ry0]
        for j in range(taps.shape[0]):
            tj = taps[j]
            for q in range(n):
                h[q] += tj * pad[q + j * C]
    acc = np.empty(n, np.float32)
    for y in range(y0, y1):
        acc[:] = 0.0
        for j in range(taps.shape[0]):
            tj = taps[j]
            h = horiz[min(max(y + j - r, 0), H - 1) - ry0]
            for q in range(n):
                acc[q] += tj * h[q]
        for xx in range(x0, x1):
            if need[y, xx]:
                for c in range(C):
                    out[y, xx, c] = acc[(xx - x0) * C + c]


BLUR_TILE = 32   # `_blur_tiles`: the blur runs over 32 x 32 tiles holding needed pixels, not their whole box


@njit(**JIT)
def _blur_tiles(x, need, taps, out, y0, y1, x0, x1):
    """`_blur_at` over the pixels of need within y0, y1, x0, x1, a BLUR_TILE tile at a time (each
    over the box of its own needed pixels; tiles without any are skipped): the same values, since
    every value sums its taps in the same order from the same neighbours, at the cost of the
    needed pixels' neighbourhood rather than of the box around all of them (actors and shadows
    spread over the frame)."""
    for ty in range(y0, y1, BLUR_TILE):
        for tx in range(x0, x1, BLUR_TILE):
            ya, yb, xa, xb = _bbox(need[ty:min(ty + BLUR_TILE, y1), tx:min(tx + BLUR_TILE, x1)])
            if yb > 0:
                _blur_at(x, need, taps, out, ty + ya, ty + yb, tx + xa, tx + xb)


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
    for y in range(by0, by1):
        for x in range(bx0, bx1):   # without branches (& and |, not `and` and `or`): it vectorises
            differs, same = False, True
            for c in range(3):
                differs |= rgb[y, x, c] != lit[y, x, c]
                same &= rgb[y, x, c] == shade[y, x, c]
            hmask[y, x] = differs & same & (inst[y, x] == 0) & receiver[y, x]
    r = (taps.shape[0] - 1) // 2
    y0, y1, x0, x1 = _dilate(hmask, r, near, by0, by1, bx0, bx1)
    if y1 > 0:
        ya, yb, xa, xb = max(y0 - r, 0), min(y1 + r, H), max(x0 - r, 0), min(x1 + r, W)
        for y in range(ya, yb):                 # read within r of `near`: set there, zero elsewhere
            for x in range(xa, xb):
                if hmask[y, x]:
                    hard[y, x, 0] = 1.0
        _blur_tiles(hard, near, taps, soft, y0, y1, x0, x1)     # soft: written (and read) at `near` only
        one = np.float32(1.0)
        for y in range(y0, y1):
            for x in range(x0, x1):
                if not near[y, x] or inst[y, x] != 0 or not receiver[y, x]:
                    continue
                s = min(max(soft[y, x, 0], np.float32(0.0)), one)
                if s > np.float32(1e-3):
                    for c in range(3):
                        v = np.float32(lit[y, x, c]) * (one - s) + np.float32(shade[y, x, c]) * s
                        rgb[y, x, c] = np.uint8(min(max(np.rint(v), np.float32(0.0)), np.float32(255.0)))
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
    for y in range(y0, y1):
        for x in range(x0, x1):
            if ring[y, x]:
                ring[y, x] = False
                for c in range(3):
                    rgb[y, x, c] = np.uint8(min(max(np.rint(out[y, x, c]), np.float32(0.0)), np.float32(255.0)))


def ring_blur(rgb: np.ndarray, inst: np.ndarray, sigma: float) -> None:
    """Frames rgb (T, H, W, 3) uint8 in place: actor pixels (inst > 0) and those within 2 pixels
    (a 5 x 5 square) take the Gaussian blur (sigma pixels) of the frame as it was."""
    taps = gaussian_taps(sigma)
    H, W = rgb.shape[1:3]
    scratch = kept("plate_look.ring_blur", (H, W), lambda: (np.zeros((H, W, 3), np.float32), np.empty((H, W), np.bool_),
                                                            np.zeros((H, W), np.bool_)))
    for t in range(rgb.shape[0]):
        _ring_blur(rgb[t], inst[t], taps, *scratch)


@njit(**JIT)
def add_noise(rgb, seed32, inst, actor_sigma, plate_sigma):
    """One frame rgb (H, W, 3) uint8 in place: + a unit draw (counter_noise.noise_sample of seed32
    and the value's flat index) times actor_sigma on actor pixels, plate_sigma elsewhere (float32,
    already in per-channel units), rounded half to even. A row at a time in flat loops over its
    W * 3 values, which vectorise: its draws, each value's sigma, then the values (a loop per
    pixel over its channels, with the actor test inside, ran 4.7x slower)."""
    H, W, _ = rgb.shape
    n = W * 3
    flat = rgb.reshape(H, n)
    draw = np.empty(n, np.float32)
    sig = np.empty(n, np.float32)
    lo, hi = np.float32(0.0), np.float32(255.0)
    for y in range(H):
        base = y * n
        for i in range(n):
            draw[i] = noise_sample32(seed32, base, i)
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
