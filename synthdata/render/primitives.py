"""Ray/primitive intersection and surface normals as scalar functions, part of the renderer's one
source of per-pixel maths (render/pixel.py re-exports everything here): plain scalar Python
registered with numba, compiled by the CPU kernels (render/kernels.py) and the CUDA kernels
(render/gpu.py) alike. INF is "no hit". The functions a pixel loop calls (`hit_primitive` and the
hits it picks from, `normal_primitive`) are `inlined` into the CPU kernels: a call of a numba
function passes each array as its seven fields and stops the optimiser at the call (the raster
ran 20 % faster with them inlined, the same bits).

Primitive parameters are packed per (frame, primitive) into rows of NPRM float64 (see PRM_*):
centre (capsule end A), end (capsule end B), axes (row-major world-from-local rotation, columns
are the local axes), size (semi-axes / half extents; capsule radius in size[0]; a cone's radii at
end A and end B in size[0] and size[1]; a frustum's radii across (local y) at A and B and its
section's x/y ratio), and the bounding sphere (centre, radius).

Kinds: ellipsoids, capsules, boxes, tapered capsules (CONE: the hull of two spheres of different
radii) and flat-ended frustums with an elliptic section (FRUSTUM).
"""
from __future__ import annotations

import math

from numba.extending import register_jitable

from synthdata.render.inline import inlined

INF = math.inf
ELLIPSOID, CAPSULE, BOX, CONE, FRUSTUM = 0, 1, 2, 3, 4
PRM_CENTER, PRM_END, PRM_AXES, PRM_SIZE, PRM_REF, PRM_RAD = 0, 3, 6, 15, 18, 21
NPRM = 22


@register_jitable
def hit_sphere(ox, oy, oz, dx, dy, dz, cx, cy, cz, r):
    """Distance along a unit ray to a sphere seen from outside (INF on a miss)."""
    px, py, pz = ox - cx, oy - cy, oz - cz
    b = px * dx + py * dy + pz * dz
    cc = px * px + py * py + pz * pz - r * r
    h = b * b - cc
    if h < 0.0 or cc <= 0.0:
        return INF
    t = -b - math.sqrt(h)
    return t if t > 0.0 else INF


@register_jitable
def local3(vx, vy, vz, prm):
    """World vector -> coordinates along the local axes of a primitive row."""
    a = PRM_AXES
    return (prm[a + 0] * vx + prm[a + 3] * vy + prm[a + 6] * vz,
            prm[a + 1] * vx + prm[a + 4] * vy + prm[a + 7] * vz,
            prm[a + 2] * vx + prm[a + 5] * vy + prm[a + 8] * vz)


@register_jitable
def world3(lx, ly, lz, prm):
    a = PRM_AXES
    return (prm[a + 0] * lx + prm[a + 1] * ly + prm[a + 2] * lz,
            prm[a + 3] * lx + prm[a + 4] * ly + prm[a + 5] * lz,
            prm[a + 6] * lx + prm[a + 7] * ly + prm[a + 8] * lz)


@inlined
def hit_ellipsoid(ox, oy, oz, dx, dy, dz, prm):
    s0, s1, s2 = prm[PRM_SIZE], prm[PRM_SIZE + 1], prm[PRM_SIZE + 2]
    px, py, pz = local3(ox - prm[0], oy - prm[1], oz - prm[2], prm)
    qx, qy, qz = local3(dx, dy, dz, prm)
    px, py, pz = px / s0, py / s1, pz / s2
    qx, qy, qz = qx / s0, qy / s1, qz / s2
    a = qx * qx + qy * qy + qz * qz
    b = px * qx + py * qy + pz * qz
    cc = px * px + py * py + pz * pz - 1.0
    h = b * b - a * cc
    if h < 0.0 or cc <= 0.0:
        return INF
    t = (-b - math.sqrt(h)) / a
    return t if t > 0.0 else INF


@inlined
def hit_capsule(ox, oy, oz, dx, dy, dz, prm):
    """All points within r of segment a-b: the finite cylinder or either end sphere."""
    ax, ay, az = prm[PRM_CENTER], prm[PRM_CENTER + 1], prm[PRM_CENTER + 2]
    bx, by, bz = prm[PRM_END], prm[PRM_END + 1], prm[PRM_END + 2]
    r = prm[PRM_SIZE]
    bax, bay, baz = bx - ax, by - ay, bz - az
    oax, oay, oaz = ox - ax, oy - ay, oz - az
    baba = max(bax * bax + bay * bay + baz * baz, 1e-12)
    bard = bax * dx + bay * dy + baz * dz
    baoa = bax * oax + bay * oay + baz * oaz
    rdoa = dx * oax + dy * oay + dz * oaz
    oaoa = oax * oax + oay * oay + oaz * oaz
    A = baba - bard * bard
    B = baba * rdoa - baoa * bard
    C = baba * oaoa - baoa * baoa - r * r * baba
    h = B * B - A * C
    body = INF
    if A > 1e-9 and h >= 0.0 and C > 0.0:
        t = (-B - math.sqrt(h)) / A
        y = baoa + t * bard
        if 0.0 < y < baba and t > 0.0:
            body = t
    return min(body, min(hit_sphere(ox, oy, oz, dx, dy, dz, ax, ay, az, r),
                         hit_sphere(ox, oy, oz, dx, dy, dz, bx, by, bz, r)))


@inlined
def hit_cone(ox, oy, oz, dx, dy, dz, prm):
    """A tapered capsule: the spheres of radius ra at end A and rb at end B and the cone tangent to
    both (the round-cone intersection of Quilez's "intersectors"; both roots are tried, so rays
    steeper than the cone's flank are handled too)."""
    ax, ay, az = prm[PRM_CENTER], prm[PRM_CENTER + 1], prm[PRM_CENTER + 2]
    bx, by, bz = prm[PRM_END], prm[PRM_END + 1], prm[PRM_END + 2]
    ra, rb = prm[PRM_SIZE], prm[PRM_SIZE + 1]
    bax, bay, baz = bx - ax, by - ay, bz - az
    oax, oay, oaz = ox - ax, oy - ay, oz - az
    rr = ra - rb
    m0 = bax * bax + bay * bay + baz * baz
    m1 = bax * oax + bay * oay + baz * oaz
    m2 = bax * dx + bay * dy + baz * dz
    m3 = dx * oax + dy * oay + dz * oaz
    m5 = oax * oax + oay * oay + oaz * oaz
    d2 = m0 - rr * rr
    body = INF
    if d2 > 1e-12:                                  # else one sphere holds the other: no flank
        k2 = d2 - m2 * m2
        k1 = d2 * m3 - m1 * m2 + m2 * rr * ra
        k0 = d2 * m5 - m1 * m1 + 2.0 * m1 * rr * ra - m0 * ra * ra
        h = k1 * k1 - k0 * k2
        if h >= 0.0 and abs(k2) > 1e-12:
            sq = math.sqrt(h)
            for t in ((-k1 - sq) / k2, (-k1 + sq) / k2):
                y = m1 - ra * rr + t * m2
                if t > 0.0 and 0.0 < y < d2 and t < body:
                    body = t
    return min(body, min(hit_sphere(ox, oy, oz, dx, dy, dz, ax, ay, az, ra),
                         hit_sphere(ox, oy, oz, dx, dy, dz, bx, by, bz, rb)))


@register_jitable
def frustum_space(ox, oy, oz, prm):
    """A point in a frustum's local frame from end A, its x stretched so the section is round."""
    lx, ly, lz = local3(ox - prm[PRM_CENTER], oy - prm[PRM_CENTER + 1], oz - prm[PRM_CENTER + 2], prm)
    return lx / prm[PRM_SIZE + 2], ly, lz


@inlined
def hit_frustum(ox, oy, oz, dx, dy, dz, prm):
    """A truncated cone with flat ends and an elliptic section: solved in the frame where the
    section is a circle (a linear map keeps the ray parameter), as Quilez's capped cone with a
    direction that is no longer unit length; both roots are tried. Origin outside."""
    ra, rb = prm[PRM_SIZE], prm[PRM_SIZE + 1]
    h = math.sqrt((prm[PRM_END] - prm[PRM_CENTER]) ** 2 + (prm[PRM_END + 1] - prm[PRM_CENTER + 1]) ** 2
                  + (prm[PRM_END + 2] - prm[PRM_CENTER + 2]) ** 2)
    px, py, pz = frustum_space(ox, oy, oz, prm)
    qx, qy, qz = local3(dx, dy, dz, prm)
    qx = qx / prm[PRM_SIZE + 2]
    best = INF
    if abs(qz) > 1e-12:                             # the flat ends
        for zc, rc in ((0.0, ra), (h, rb)):
            t = (zc - pz) / qz
            if t > 0.0 and (px + t * qx) ** 2 + (py + t * qy) ** 2 <= rc * rc and t < best:
                best = t
    rr = ra - rb                                    # the flank (axis along local z, length h)
    m0 = h * h
    m1, m2 = h * pz, h * qz
    m3 = qx * px + qy * py + qz * pz
    m5 = px * px + py * py + pz * pz
    dd = qx * qx + qy * qy + qz * qz
    hy = m0 + rr * rr
    k2 = m0 * m0 * dd - m2 * m2 * hy
    k1 = m0 * m0 * m3 - m1 * m2 * hy + m0 * ra * rr * m2
    k0 = m0 * m0 * m5 - m1 * m1 * hy + m0 * ra * (2.0 * rr * m1 - m0 * ra)
    disc = k1 * k1 - k2 * k0
    if disc >= 0.0 and abs(k2) > 1e-18:
        sq = math.sqrt(disc)
        for t in ((-k1 - sq) / k2, (-k1 + sq) / k2):
            y = m1 + t * m2
            if t > 0.0 and 0.0 <= y <= m0 and t < best:
                best = t
    return best


@register_jitable
def normal_frustum(px, py, pz, prm):
    """Unit normal of a frustum: its end discs' axis, else the flank's (mapped back from the frame
    where the section is round)."""
    ra, rb, q = prm[PRM_SIZE], prm[PRM_SIZE + 1], prm[PRM_SIZE + 2]
    h = math.sqrt((prm[PRM_END] - prm[PRM_CENTER]) ** 2 + (prm[PRM_END + 1] - prm[PRM_CENTER + 1]) ** 2
                  + (prm[PRM_END + 2] - prm[PRM_CENTER + 2]) ** 2)
    lx, ly, lz = frustum_space(px, py, pz, prm)
    if lz <= 1e-5 * h:
        return world3(0.0, 0.0, -1.0, prm)
    if lz >= h * (1.0 - 1e-5):
        return world3(0.0, 0.0, 1.0, prm)
    rho = math.sqrt(lx * lx + ly * ly)
    if rho < 1e-12:
        return world3(0.0, 0.0, 1.0 if rb > ra else -1.0, prm)
    s = (ra - rb) / h                               # the radius shrinks by s per metre of z
    nx, ny, nz = lx / rho, ly / rho, s
    wx, wy, wz = world3(nx / q, ny, nz, prm)         # inverse transpose of the stretch
    return unit(wx, wy, wz)


@inlined
def hit_box(ox, oy, oz, dx, dy, dz, prm):
    """Oriented box (slab method), origin outside."""
    px, py, pz = local3(ox - prm[0], oy - prm[1], oz - prm[2], prm)
    qx, qy, qz = local3(dx, dy, dz, prm)
    tmin, tmax = -INF, INF
    for k in range(3):
        o = px if k == 0 else (py if k == 1 else pz)
        d = qx if k == 0 else (qy if k == 1 else qz)
        half = prm[PRM_SIZE + k]
        if abs(d) < 1e-12:
            d = 1e-12
        t1 = (-half - o) / d
        t2 = (half - o) / d
        tmin = max(tmin, min(t1, t2))
        tmax = min(tmax, max(t1, t2))
    if tmax < tmin or tmin <= 0.0:
        return INF
    return tmin


@inlined
def hit_primitive(kind, ox, oy, oz, dx, dy, dz, prm):
    """Distance along the unit ray to the primitive (INF on a miss). The origin first moves to
    just before the primitive's bounding sphere (float precision), never past it."""
    t0 = ((prm[PRM_REF] - ox) * dx + (prm[PRM_REF + 1] - oy) * dy + (prm[PRM_REF + 2] - oz) * dz
          - prm[PRM_RAD] - 0.01)
    t0 = max(t0, 0.0)
    ox, oy, oz = ox + t0 * dx, oy + t0 * dy, oz + t0 * dz
    if kind == ELLIPSOID:
        t = hit_ellipsoid(ox, oy, oz, dx, dy, dz, prm)
    elif kind == CAPSULE:
        t = hit_capsule(ox, oy, oz, dx, dy, dz, prm)
    elif kind == CONE:
        t = hit_cone(ox, oy, oz, dx, dy, dz, prm)
    elif kind == FRUSTUM:
        t = hit_frustum(ox, oy, oz, dx, dy, dz, prm)
    else:
        t = hit_box(ox, oy, oz, dx, dy, dz, prm)
    return t + t0


@register_jitable
def unit(x, y, z):
    n = math.sqrt(max(x * x + y * y + z * z, 1e-24))
    return x / n, y / n, z / n


@register_jitable
def normal_cone(px, py, pz, prm):
    """Unit normal of a tapered capsule: on the flank the cone's normal (tilted towards the thin
    end), beyond the tangent circles the end sphere's."""
    ax, ay, az = prm[PRM_CENTER], prm[PRM_CENTER + 1], prm[PRM_CENTER + 2]
    ra, rb = prm[PRM_SIZE], prm[PRM_SIZE + 1]
    bax, bay, baz = prm[PRM_END] - ax, prm[PRM_END + 1] - ay, prm[PRM_END + 2] - az
    L = math.sqrt(bax * bax + bay * bay + baz * baz)
    pax, pay, paz = px - ax, py - ay, pz - az
    if L <= abs(ra - rb) + 1e-9:                     # one sphere holds the other
        if ra >= rb:
            return unit(pax, pay, paz)
        return unit(pax - bax, pay - bay, paz - baz)
    ux, uy, uz = bax / L, bay / L, baz / L
    s = (ra - rb) / L                                # sine of the flank's tilt
    ya = pax * ux + pay * uy + paz * uz
    if ya < ra * s:
        return unit(pax, pay, paz)
    if ya > L + rb * s:
        return unit(pax - bax, pay - bay, paz - baz)
    wx, wy, wz = unit(pax - ya * ux, pay - ya * uy, paz - ya * uz)
    c = math.sqrt(max(1.0 - s * s, 0.0))
    return unit(c * wx + s * ux, c * wy + s * uy, c * wz + s * uz)


@inlined
def normal_primitive(kind, px, py, pz, prm):
    """Unit world normal at a surface point of the primitive."""
    if kind == CAPSULE:
        ax, ay, az = prm[PRM_CENTER], prm[PRM_CENTER + 1], prm[PRM_CENTER + 2]
        bax, bay, baz = prm[PRM_END] - ax, prm[PRM_END + 1] - ay, prm[PRM_END + 2] - az
        pax, pay, paz = px - ax, py - ay, pz - az
        k = (pax * bax + pay * bay + paz * baz) / max(bax * bax + bay * bay + baz * baz, 1e-12)
        k = min(max(k, 0.0), 1.0)
        return unit(pax - k * bax, pay - k * bay, paz - k * baz)
    if kind == CONE:
        return normal_cone(px, py, pz, prm)
    if kind == FRUSTUM:
        return normal_frustum(px, py, pz, prm)
    lx, ly, lz = local3(px - prm[0], py - prm[1], pz - prm[2], prm)
    s0, s1, s2 = prm[PRM_SIZE], prm[PRM_SIZE + 1], prm[PRM_SIZE + 2]
    if kind == ELLIPSOID:
        wx, wy, wz = world3(lx / (s0 * s0), ly / (s1 * s1), lz / (s2 * s2), prm)
        return unit(wx, wy, wz)
    a0, a1, a2 = abs(lx / s0), abs(ly / s1), abs(lz / s2)
    if a0 >= a1 and a0 >= a2:                  # the dominant local axis (the first one on ties)
        return world3(math.copysign(1.0, lx), 0.0, 0.0, prm)
    if a1 >= a2:
        return world3(0.0, math.copysign(1.0, ly), 0.0, prm)
    return world3(0.0, 0.0, math.copysign(1.0, lz), prm)
