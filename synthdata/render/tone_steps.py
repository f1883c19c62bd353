"""Step tables of the tone curves: a monotonic curve from exposed values to display levels 0..255
as the 255 smallest values at which it steps up, bucketed by sqrt(value), so a pixel's level is
found from those thresholds (`step_level`) without evaluating exp and pow per value, and is the
curve's own result. The background's curve is `shading.tonemap` (torch, float32: `tone_table`);
the hit pixels' is pixel.tone (render/hit_shading.py `hit_tone_table`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
from numba import njit
from numba.extending import register_jitable

TONE_BUCKETS = 4096
TONE_TOP = np.float32(2.25)           # sqrt of an exposed value above the last step (about 4.4)


@dataclass(frozen=True)
class ToneTable:
    """`shading.tonemap` at one exposure as step thresholds. For each bucket of sqrt(exposed value)
    (exposed = linear * exposure, float32; TONE_BUCKETS steps up to TONE_TOP, the last bucket open
    above): first, the display value at its start (int32), and cut, the one threshold inside it at
    which the display value steps up by one (float32, NaN when none, which no value reaches, infinity
    included; no bucket holds two)."""

    first: np.ndarray
    cut: np.ndarray
    exposure: np.float32


@lru_cache(maxsize=16)
def tone_table(exposure: float) -> ToneTable:
    """`shading.tonemap` (torch, float32) as a step table, evaluated by tonemap itself on exposed
    values (exposure 1), 256 candidates at a time as in a frame."""
    from synthdata.render.shading import tonemap

    first, cut = step_table(lambda v: tonemap(torch.from_numpy(v.copy()), 1.0).numpy(), 3e38, np.float32, 256)
    return ToneTable(first, cut, np.float32(exposure))


def step_table(levels_of, top: float, dtype, lanes: int = 255) -> tuple[np.ndarray, np.ndarray]:
    """A monotonic curve from values of `dtype` (float32 or float64) to levels 0..255 as a step
    table for `step_level`: per bucket of sqrt(value) (`tone_bucket`), the level at its start
    (int32) and the one threshold inside it (`dtype`; NaN when none, which no value reaches).

    thr[k], the smallest value whose level is k or more, is found for every k at once by bisection
    over the bit patterns of positive floats (which order as the values do) between 0 (level 0)
    and `top` (level 255), calling levels_of on `lanes` (>= 255) candidates at a time."""
    ints = np.int32 if dtype == np.float32 else np.int64
    levels = np.arange(1, lanes + 1)
    lo = np.zeros(lanes, np.int64)
    hi = np.full(lanes, np.asarray(top, dtype).view(ints), np.int64)
    while np.any(hi - lo > 1):
        mid = lo + (hi - lo) // 2            # (lo + hi would overflow int64 for doubles)
        up = levels_of(mid.astype(ints).view(dtype)) >= levels
        hi, lo = np.where(up, mid, hi), np.where(up, lo, mid)
    thr = np.empty(257, dtype)
    thr[0], thr[1:256], thr[256] = 0.0, hi[:255].astype(ints).view(dtype), np.nan
    first, cut = np.zeros(TONE_BUCKETS + 1, np.int32), np.empty(TONE_BUCKETS + 1, dtype)
    if bucket_starts(thr, first, cut) > 1:    # constants of the curve: finer buckets would be needed
        raise AssertionError("step_table: a bucket holds two steps of the curve")
    return first, cut


@register_jitable
def tone_bucket(v):
    """Bucket of an exposed value v >= 0: sqrt(v) in TONE_BUCKETS steps up to TONE_TOP (the last
    bucket above, infinity included)."""
    s = math.sqrt(v) * np.float32(TONE_BUCKETS / TONE_TOP)
    return int(s) if s < TONE_BUCKETS else TONE_BUCKETS


@njit(cache=True, nogil=True)
def bucket_starts(thr, first, cut):
    """Fills first and cut from the thresholds; returns the most steps any bucket holds."""
    k, most = 1, 0
    for i in range(first.shape[0]):
        while k < 256 and tone_bucket(thr[k]) < i:
            k += 1
        first[i] = k - 1          # thresholds 1..k-1 lie in earlier buckets: every value here passed them
        cut[i] = thr[k]
        j = k
        while j < 256 and tone_bucket(thr[j]) == i:
            j += 1
        most = max(most, j - k)
    return most


@register_jitable
def tone_level(x, exposure, first, cut):
    """Display value (uint8) of linear radiance x (float32) at `exposure`: shading.tonemap."""
    return np.uint8(step_level(np.float32(x) * exposure, first, cut))


@register_jitable
def step_level(v, first, cut):
    """Level of value v through a step table (`step_table`): 0 for v <= 0 (clamp_min(0); NaN too)."""
    if not v > 0.0:
        return 0
    b = np.uint64(tone_bucket(v))     # unsigned: numba wraps a signed index that might be negative
    return first[b] + (1 if v >= cut[b] else 0)
