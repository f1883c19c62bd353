"""Procedural surface patterns of people's clothing, skin, hair and faces: scalar maths only.

Every function here takes plain floats/ints, uses nothing but `math` and is registered with numba
(`register_jitable`), like render/pixel.py: the per-pixel shading (pixel.shade_hit, through
`surface_albedo`) calls them in the CPU kernels (render/kernels.py) and the CUDA kernels
(render/gpu.py), so both devices compile this one source; plain Python calls give the same values.

Coordinates (x, y, z) are metres in the primitive's own frame: ellipsoids and boxes along their
axes (a torso: x forward, y to the person's left, z up); capsules with z along the segment from
end A and x, y across it. `scale` is the pattern's feature size in metres (for FACE: the head's
vertical semi-axis) and `seed` an integer that varies one person's pattern from another's.

Entry points:
- pattern_mix(kind, x, y, z, scale, seed, fp) -> weight in 0..1 of the secondary colour over the
  primitive's base colour (stripes, checks, prints, reflective bands, eyes and mouth...).
- pattern_shade(kind, x, y, z, scale, seed, fp) -> brightness multiplier around 1 (folds, knit rows,
  denim weave, hair strands).
fp is the pixel's footprint on the surface (metres): details finer than a few pixels fade to
their average (`detail`), as a camera's optics and sensor average them, instead of aliasing.
"""
from __future__ import annotations

import math

from numba.extending import register_jitable

from synthdata.render.rounding import floor

# Pattern kinds (Shapes.pattern); 0 = a flat colour, no evaluation.
NONE, CLOTH, DENIM, KNIT, STRIPES, CHECKS, PRINT, TWO_TONE, HIVIS, FACE, OPEN_COAT, HAIR, SKIN = range(13)
# vehicle detail and domain-randomisation textures (scene.randomize), appended: see the end of this file
RIM, PLATE, SOLID_CHECKS, SOLID_STRIPES, BLOTCH, DOTS, MARBLE = range(13, 20)
PATTERNS = ("none", "cloth", "denim", "knit", "stripes", "checks", "print", "two_tone", "hivis", "face",
            "open_coat", "hair", "skin", "rim", "plate", "solid_checks", "solid_stripes", "blotch", "dots", "marble")
# garment patterns a recipe may ask for (the rest are set by the body builder)
FABRICS = ("plain", "denim", "knit", "stripes", "checks", "print", "two_tone", "hivis")

_MASK = 0xFFFFFFFF


@register_jitable
def hash3(ix: int, iy: int, iz: int, seed: int) -> float:
    """Deterministic value in [0, 1) for an integer lattice point (32-bit integer mixing, the same
    on every device)."""
    h = (ix * 73856093 + iy * 19349663 + iz * 83492791 + seed * 2654435761) & _MASK
    h = ((h ^ (h >> 16)) * 0x45D9F3B) & _MASK
    h = ((h ^ (h >> 16)) * 0x45D9F3B) & _MASK
    h = h ^ (h >> 16)
    return (h & 0xFFFFFF) / 16777216.0


@register_jitable
def smooth(t: float) -> float:
    return t * t * (3.0 - 2.0 * t)


@register_jitable
def value_noise(x: float, y: float, z: float, seed: int) -> float:
    """Smooth value noise in [0, 1) with unit feature size."""
    fx, fy, fz = floor(x), floor(y), floor(z)
    ix, iy, iz = int(fx), int(fy), int(fz)
    tx, ty, tz = smooth(x - fx), smooth(y - fy), smooth(z - fz)
    c000 = hash3(ix, iy, iz, seed)
    c100 = hash3(ix + 1, iy, iz, seed)
    c010 = hash3(ix, iy + 1, iz, seed)
    c110 = hash3(ix + 1, iy + 1, iz, seed)
    c001 = hash3(ix, iy, iz + 1, seed)
    c101 = hash3(ix + 1, iy, iz + 1, seed)
    c011 = hash3(ix, iy + 1, iz + 1, seed)
    c111 = hash3(ix + 1, iy + 1, iz + 1, seed)
    a0 = c000 + (c100 - c000) * tx
    a1 = c010 + (c110 - c010) * tx
    a2 = c001 + (c101 - c001) * tx
    a3 = c011 + (c111 - c011) * tx
    b0 = a0 + (a1 - a0) * ty
    b1 = a2 + (a3 - a2) * ty
    return b0 + (b1 - b0) * tz


@register_jitable
def around(x: float, y: float) -> float:
    """Arc length around the local z axis (metres at the surface), for patterns that wrap."""
    return math.atan2(y, x) * math.sqrt(x * x + y * y)


@register_jitable
def band(v: float, centre: float, half: float, soft: float) -> float:
    """1 inside |v - centre| < half, falling to 0 over `soft`."""
    d = abs(v - centre) - half
    if d <= 0.0:
        return 1.0
    if d >= soft:
        return 0.0
    return 1.0 - d / soft


@register_jitable
def face_mix(x: float, y: float, z: float, c: float) -> float:
    """Eyes, brows, mouth and hairline on a head ellipsoid of vertical semi-axis c (x forward)."""
    u, v, w = x / c, y / c, z / c
    if u < 0.25:
        return 0.0
    m = 0.0
    if w > 0.5 - 0.12 * v * v:                       # hairline across the forehead
        m = 1.0
    for k in range(2):
        side = 2.0 * k - 1.0
        de = (v - 0.33 * side) ** 2 / 0.018 + (w - 0.12) ** 2 / 0.006
        if de < 1.0:
            m = max(m, 0.9)
        db = (v - 0.33 * side) ** 2 / 0.04 + (w - 0.3) ** 2 / 0.0015
        if db < 1.0:
            m = max(m, 0.75)
    dm = v * v / 0.055 + (w + 0.45) ** 2 / 0.0025
    if dm < 1.0:
        m = max(m, 0.6)
    return m


@register_jitable
def detail(period: float, fp: float) -> float:
    """How much of a feature of size `period` (metres) a pixel of footprint fp (metres) resolves:
    1 from four pixels a period up, 0 at two or fewer (the pixel sees the feature's average), so
    fine stripes, weave and strands fade to their mean with distance instead of aliasing."""
    if fp <= 0.0:
        return 1.0
    return min(max((period / fp - 2.0) * 0.5, 0.0), 1.0)


@register_jitable
def pattern_mix(kind: int, x: float, y: float, z: float, scale: float, seed: int, fp: float) -> float:
    """Weight of the secondary colour at a surface point seen by a pixel of footprint fp metres
    (0: unfiltered); see the module docstring."""
    s = max(scale, 1e-4)
    if kind >= RIM:
        return extra_mix(kind, x, y, z, s, seed, fp)
    m = pattern_mix_sharp(kind, x, y, z, s, seed)
    if kind == STRIPES:
        return 0.45 + (m - 0.45) * detail(s, fp)
    if kind == CHECKS:
        return 0.62 + (m - 0.62) * detail(s, fp)
    if kind == FACE:
        return 0.12 + (m - 0.12) * detail(0.25 * s, fp)
    return m


@register_jitable
def pattern_mix_sharp(kind: int, x: float, y: float, z: float, s: float, seed: int) -> float:
    """pattern_mix without filtering (s: the feature size, > 0)."""
    if kind == STRIPES:
        t = z / s + 0.15 * (seed % 7)
        return 1.0 if t - floor(t) < 0.45 else 0.0
    if kind == CHECKS:
        a = floor(z / s) + floor(around(x, y) / s + 0.5 * (seed % 3))
        line = 0.0
        fz, fa = z / s - floor(z / s), around(x, y) / s - floor(around(x, y) / s)
        if fz < 0.12 or fa < 0.12:
            line = 0.5
        return max(line, 1.0 if int(a) % 2 == 0 else 0.0)
    if kind == PRINT:                                 # a logo or print on the chest front
        if x <= 0.0:
            return 0.0
        u, w = y / s, (z - 0.25 * s) / s
        if abs(u) < 0.55 and abs(w) < 0.45:
            k = seed % 3
            if k == 0:
                return 1.0 if u * u + w * w < 0.16 else 0.0
            if k == 1:
                return 1.0 if abs(w) < 0.12 or abs(u) < 0.1 else 0.0
            return 1.0 if value_noise(u * 4.0, w * 4.0, 0.0, seed) > 0.5 else 0.0
        return 0.0
    if kind == TWO_TONE:                              # a yoke across the shoulders
        return 1.0 if z > 0.25 * s else 0.0
    if kind == HIVIS:                                 # reflective bands and braces
        m = band(z, 0.1 * s, 0.09 * s, 0.03 * s) + band(z, -0.45 * s, 0.09 * s, 0.03 * s)
        if z > 0.1 * s:
            m = max(m, band(abs(y), 0.45 * s, 0.1 * s, 0.03 * s))
        return min(m, 1.0)
    if kind == FACE:
        return face_mix(x, y, z, s)
    if kind == OPEN_COAT:                             # the top underneath shows down the front
        if x <= 0.0:
            return 0.0
        return band(y, 0.0, 0.32 * s, 0.04 * s)
    if kind == DENIM:                                 # faded knees and thighs
        f = value_noise(x / (4 * s), y / (4 * s), z / (4 * s), seed)
        return 0.35 * max(f - 0.45, 0.0) / 0.55
    return 0.0


@register_jitable
def pattern_shade(kind: int, x: float, y: float, z: float, scale: float, seed: int, fp: float) -> float:
    """Brightness multiplier at a surface point (folds, weave, knit, strands) seen by a pixel of
    footprint fp metres (0: unfiltered)."""
    if kind >= RIM:                                   # vehicle detail and textures: flat shading
        return 1.0
    if kind == NONE or kind == FACE or kind == SKIN:
        if kind == FACE:                              # nose and eye sockets a little darker
            c = max(scale, 1e-4)
            if x > 0.6 * c and abs(y) < 0.12 * c and abs(z + 0.1 * c) < 0.18 * c:
                return 1.0 - 0.15 * detail(0.25 * c, fp)
        return 1.0
    if kind == HAIR:                                  # locks a finger wide, then strands, along the fall
        shade = 1.0
        k_locks = detail(0.03, fp)
        if k_locks > 0.0:                             # (far away neither shows: no noise evaluated)
            a = around(x, y)
            shade += (0.6 * value_noise(a / 0.015, z / 0.08, 0.5, seed + 29) - 0.3) * k_locks
            k_strands = detail(0.008, fp)
            if k_strands > 0.0:
                shade += (0.4 * value_noise(a / 0.004, z / 0.05, 0.0, seed) - 0.2) * k_strands
        return shade
    # folds: slow creases whose direction drifts along the garment
    f = value_noise(x / 0.09, y / 0.09, z / 0.05, seed + 17)
    shade = 1.0 + (0.12 * f - 0.06) * detail(0.05, fp)
    if kind == DENIM:
        t = (z + around(x, y)) / 0.004
        shade *= 1.0 + (0.1 * (t - floor(t)) - 0.05) * detail(0.004, fp)
    elif kind == KNIT:
        t = z / 0.008
        shade *= 1.0 + (0.16 * abs(math.sin(math.pi * t)) - 0.08) * detail(0.008, fp)
    return shade


# ---- vehicle detail and domain-randomisation textures (pattern kinds RIM and after) ----------
@register_jitable
def rim_mix(x: float, z: float, s: float, seed: int) -> float:
    """A wheel seen from the side (x forward, z up, s the wheel radius): dark tyre ring (0), light
    rim lip and 5-7 spokes (1), dark gaps between spokes, a darker hub."""
    r = math.sqrt(x * x + z * z) / s
    if r > 0.66:
        return 0.0
    if r > 0.56 or r < 0.06:
        return 1.0
    if r < 0.16:
        return 0.55
    n = 5 + seed % 3
    a = math.atan2(z, x) * n / (2.0 * math.pi)
    f = a - floor(a)
    return 1.0 if abs(f - 0.5) < 0.2 else 0.2


@register_jitable
def plate_mix(y: float, z: float, s: float, seed: int) -> float:
    """A number plate (y across, z up, s its half width): a thin border and seven glyphs of
    seven-segment strokes chosen by the seed (1 = ink)."""
    u, v = y / s, z / (0.23 * s)
    if abs(u) > 0.95 or abs(v) > 0.82:
        return 1.0
    c = (u + 0.86) / 0.2457
    i = int(floor(c))
    if i < 0 or i > 6 or abs(v) > 0.62:
        return 0.0
    gx, gy = ((c - i) - 0.18) / 0.64, (v + 0.62) / 1.24
    if gx < 0.0 or gx > 1.0:
        return 0.0
    bits = int(hash3(i, seed, 7, seed) * 128.0) | (73 if i % 3 == 0 else 18)
    t = 0.2
    top = gy > 0.5
    on = ((gy > 1.0 - t and (bits & 1) != 0) or (gy < t and (bits & 8) != 0)
          or (abs(gy - 0.5) < 0.5 * t and (bits & 64) != 0)
          or (gx > 1.0 - t and (bits & (2 if top else 4)) != 0)
          or (gx < t and (bits & (32 if top else 16)) != 0))
    return 1.0 if on else 0.0


@register_jitable
def plate_coarse(y: float, z: float, s: float) -> float:
    """plate_mix as a pixel too coarse for strokes sees it: the border and a grey box per glyph."""
    u, v = y / s, z / (0.23 * s)
    if abs(u) > 0.95 or abs(v) > 0.82:
        return 1.0
    c = (u + 0.86) / 0.2457
    f = c - floor(c)
    return 0.45 if 0.0 <= c < 7.0 and abs(v) <= 0.62 and 0.18 <= f <= 0.82 else 0.0


@register_jitable
def solid_mix(kind: int, x: float, y: float, z: float, s: float, seed: int) -> float:
    """Solid (3D) textures of feature size s, the same on any surface they cut: checks, stripes in a
    seeded direction, blotches (camouflage), dots, marble veins."""
    u = x / s + 7.31 * hash3(seed, 1, 0, 0) + 0.37
    v = y / s + 5.17 * hash3(seed, 2, 0, 0) + 0.41
    w = z / s + 3.73 * hash3(seed, 3, 0, 0) + 0.29
    if kind == SOLID_CHECKS:
        return float((int(floor(u)) + int(floor(v)) + int(floor(w))) % 2)
    if kind == SOLID_STRIPES:
        a, e = math.pi * hash3(seed, 4, 0, 0), 0.8 * hash3(seed, 5, 0, 0) - 0.4
        t = (u * math.cos(a) + v * math.sin(a) + w * e) * 0.5
        return 1.0 if t - floor(t) < 0.5 else 0.0
    if kind == BLOTCH:
        n = value_noise(u, v, w, seed)
        return min(max((n - 0.5) * 8.0 + 0.5, 0.0), 1.0)
    if kind == DOTS:                                  # rods along the three axes: dots on any axis-aligned plane
        fx, fy, fz = u - floor(u) - 0.5, v - floor(v) - 0.5, w - floor(w) - 0.5
        return 1.0 if min(fx * fx + fy * fy, fy * fy + fz * fz, fx * fx + fz * fz) < 0.09 else 0.0
    n = 0.65 * value_noise(u, v, w, seed) + 0.35 * value_noise(2.7 * u, 2.7 * v, 2.7 * w, seed + 1)
    return 0.5 + 0.5 * math.sin((u + 0.6 * v + 5.0 * n) * math.pi)


@register_jitable
def extra_mix(kind: int, x: float, y: float, z: float, s: float, seed: int, fp: float) -> float:
    """pattern_mix of the kinds from RIM on, faded to their average where a pixel cannot resolve them."""
    if kind == RIM:
        return 0.55 + (rim_mix(x, z, s, seed) - 0.55) * detail(0.25 * s, fp)
    if kind == PLATE:                                 # strokes, then glyph boxes, then the plate's mean
        coarse = plate_coarse(y, z, s)
        m = coarse + (plate_mix(y, z, s, seed) - coarse) * detail(0.08 * s, fp)
        return 0.3 + (m - 0.3) * detail(0.25 * s, fp)
    mean = 0.3 if kind == DOTS else 0.5
    return mean + (solid_mix(kind, x, y, z, s, seed) - mean) * detail(s, fp)
