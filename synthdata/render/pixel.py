"""Per-pixel maths of the renderer as scalar functions: z-buffering, sun-shadow tests, shading
and the tone curve, with ray/primitive intersection and normals from render/primitives.py
(re-exported here).

This is the one source of truth for that maths on every device: each function is plain scalar
Python registered with numba (`register_jitable`, or `inlined` where a CPU pixel loop calls it:
render/inline.py), so the CPU kernels (render/kernels.py, njit) and the CUDA kernels
(render/gpu.py, numba-cuda) compile the very same code. Arguments are
scalars (and, for the lights, small read-only arrays), results scalars or tuples of scalars; no
allocation, no globals other than constants. INF is "no hit" (so the kernels never use fastmath
flags that assume finite values). Primitive rows: see render/primitives.py.
"""
from __future__ import annotations

import math

import numpy as np
from numba.extending import register_jitable

from synthdata.render.inline import inlined
from synthdata.render.primitives import (BOX, CAPSULE, CONE, ELLIPSOID, FRUSTUM, INF, NPRM,  # noqa: F401 (re-exported)
                                         PRM_AXES, PRM_CENTER, PRM_END, PRM_RAD, PRM_REF, PRM_SIZE, hit_box,
                                         hit_capsule, hit_cone, hit_ellipsoid, hit_frustum, hit_primitive,
                                         hit_sphere, local3, normal_primitive, unit, world3)

# light rows (see kernels.pack_lighting): sun direction, sun colour, ambient colour, exposure,
# NIR flag and illuminator (power, cos_edge, cos_full)
L_SUN_DIR, L_SUN, L_AMBIENT, L_EXPOSURE, L_NIR, L_NIR_POWER, L_NIR_EDGE, L_NIR_FULL = 0, 3, 6, 9, 10, 11, 12, 13
NLIGHT = 14
# material rows: specular strength, shininess, emission, NIR base, NIR gain, retro-reflection
M_SPEC, M_SHINE, M_EMIT, M_IR_BASE, M_IR_GAIN, M_RETRO = 0, 1, 2, 3, 4, 5
# point-light rows: position, colour * intensity, range, spot axis, cos of the half cone (-1 omni)
P_POS, P_COL, P_RANGE, P_DIR, P_COS = 0, 3, 6, 7, 10
NPOINT = 11
LAMP_IR_FRACTION = 0.35
LUMA_R, LUMA_G, LUMA_B = 0.2126, 0.7152, 0.0722


@inlined
def zbuffer_hit(t, y, x, z, s, p, b, depth, dist, gprim, inst, prim_body, body_track):
    """Keep primitive p (of body b) at pixel (t, y, x) when it is nearer (camera-axis depth z,
    ray distance s) than what the buffers hold; ties go to the earlier body, within a body to the
    later primitive (the kernels visit primitives in increasing order). A later body can only be
    there already when it was drawn ahead of its turn (a body that holds still through a chunk,
    render/renderer.py), and then b, drawn in its turn, takes the tie as it would have."""
    cur = depth[t, y, x]
    g = gprim[t, y, x]
    if z < cur or (z == cur and g >= 0 and prim_body[g] >= b):
        depth[t, y, x] = z
        dist[t, y, x] = s
        gprim[t, y, x] = p
        inst[t, y, x] = body_track[b]


# ---- sun shadows -------------------------------------------------------------------------------
@register_jitable
def sun_basis(sx, sy, sz):
    """Two unit vectors spanning the plane orthogonal to the sun direction."""
    if abs(sz) < 0.9:
        hx, hy, hz = 0.0, 0.0, 1.0
    else:
        hx, hy, hz = 1.0, 0.0, 0.0
    e1x, e1y, e1z = unit(sy * hz - sz * hy, sz * hx - sx * hz, sx * hy - sy * hx)
    return e1x, e1y, e1z, sy * e1z - sz * e1y, sz * e1x - sx * e1z, sx * e1y - sy * e1x


@register_jitable
def shadow_form(prm, sx, sy, sz, e1x, e1y, e1z, e2x, e2y, e2z):
    """An ellipsoid's shadow in the sun-orthogonal plane: (m00, m01, m11) of the quadratic form
    of its shadow cylinder, M = E^T (Q - Q s (Q s)^T / (s^T Q s)) E with Q = A diag(1/size^2) A^T."""
    q = (1.0 / prm[PRM_SIZE] ** 2, 1.0 / prm[PRM_SIZE + 1] ** 2, 1.0 / prm[PRM_SIZE + 2] ** 2)
    # Q v = A diag(q) A^T v, for v = s, e1, e2
    ls = local3(sx, sy, sz, prm)
    l1 = local3(e1x, e1y, e1z, prm)
    l2 = local3(e2x, e2y, e2z, prm)
    sqs = q[0] * ls[0] * ls[0] + q[1] * ls[1] * ls[1] + q[2] * ls[2] * ls[2]
    s1 = q[0] * ls[0] * l1[0] + q[1] * ls[1] * l1[1] + q[2] * ls[2] * l1[2]
    s2 = q[0] * ls[0] * l2[0] + q[1] * ls[1] * l2[1] + q[2] * ls[2] * l2[2]
    q11 = q[0] * l1[0] * l1[0] + q[1] * l1[1] * l1[1] + q[2] * l1[2] * l1[2]
    q12 = q[0] * l1[0] * l2[0] + q[1] * l1[1] * l2[1] + q[2] * l1[2] * l2[2]
    q22 = q[0] * l2[0] * l2[0] + q[1] * l2[1] * l2[1] + q[2] * l2[2] * l2[2]
    return q11 - s1 * s1 / sqs, q12 - s1 * s2 / sqs, q22 - s2 * s2 / sqs


@inlined
def in_hull2(pu, pv, du, dv, ra, rb):
    """True when 2D point p lies in the convex hull of the disc of radius ra at the origin and the
    disc of radius rb at d (a tapered capsule's shadow: the hull of its end spheres' shadows)."""
    h = math.sqrt(du * du + dv * dv)
    if h <= abs(ra - rb):                            # one disc holds the other
        if ra >= rb:
            return pu * pu + pv * pv <= ra * ra
        return (pu - du) ** 2 + (pv - dv) ** 2 <= rb * rb
    y = (pu * du + pv * dv) / h                      # along the axis
    x = abs(pu * dv - pv * du) / h                   # across it
    b = (ra - rb) / h
    a = math.sqrt(1.0 - b * b)
    k = -b * x + a * y
    if k < 0.0:
        return x * x + y * y <= ra * ra
    if k > a * h:
        return x * x + (y - h) ** 2 <= rb * rb
    return a * x + b * y <= ra


@inlined
def in_shadow(kind, qx, qy, qz, prm, sx, sy, sz, e1x, e1y, e1z, e2x, e2y, e2z, m00, m01, m11):
    """True when the primitive blocks the straight path from the point to the sun (its hard
    shadow, analytic: a sphere's shadow is a disc, a capsule's a 2D capsule, a cone's the hull of two
    discs, an ellipsoid's an
    ellipse of the form (m00, m01, m11) from `shadow_form`; boxes and frustums cast the ray)."""
    if kind == BOX:
        return hit_box(qx, qy, qz, sx, sy, sz, prm) < INF
    if kind == FRUSTUM:
        return hit_frustum(qx, qy, qz, sx, sy, sz, prm) < INF
    qu = e1x * qx + e1y * qy + e1z * qz
    qv = e2x * qx + e2y * qy + e2z * qz
    cx, cy, cz = prm[PRM_CENTER], prm[PRM_CENTER + 1], prm[PRM_CENTER + 2]
    if kind == CAPSULE:
        bx, by, bz = prm[PRM_END], prm[PRM_END + 1], prm[PRM_END + 2]
        if (0.5 * (cx + bx) - qx) * sx + (0.5 * (cy + by) - qy) * sy + (0.5 * (cz + bz) - qz) * sz <= 0.0:
            return False
        au, av = e1x * cx + e1y * cy + e1z * cz, e2x * cx + e2y * cy + e2z * cz
        du, dv = e1x * bx + e1y * by + e1z * bz - au, e2x * bx + e2y * by + e2z * bz - av
        k = ((qu - au) * du + (qv - av) * dv) / max(du * du + dv * dv, 1e-12)
        k = min(max(k, 0.0), 1.0)
        ru, rv = qu - au - k * du, qv - av - k * dv
        r = prm[PRM_SIZE]
        return ru * ru + rv * rv <= r * r
    if kind == CONE:
        bx, by, bz = prm[PRM_END], prm[PRM_END + 1], prm[PRM_END + 2]
        if (0.5 * (cx + bx) - qx) * sx + (0.5 * (cy + by) - qy) * sy + (0.5 * (cz + bz) - qz) * sz <= 0.0:
            return False
        au, av = e1x * cx + e1y * cy + e1z * cz, e2x * cx + e2y * cy + e2z * cz
        return in_hull2(qu - au, qv - av, e1x * bx + e1y * by + e1z * bz - au, e2x * bx + e2y * by + e2z * bz - av,
                        prm[PRM_SIZE], prm[PRM_SIZE + 1])
    if (cx - qx) * sx + (cy - qy) * sy + (cz - qz) * sz <= 0.0:
        return False
    du = qu - (e1x * cx + e1y * cy + e1z * cz)
    dv = qv - (e2x * cx + e2y * cy + e2z * cz)
    return m00 * du * du + 2.0 * m01 * du * dv + m11 * dv * dv <= 1.0


# ---- shading -----------------------------------------------------------------------------------
@register_jitable
def lamp(nx, ny, nz, px, py, pz, lx, ly, lz, rng, ax, ay, az, c0):
    """Irradiance factor (colour excluded) of one point/spot light at a surface point: inverse
    square with a smooth cut-off at its range, a spot cone when c0 > -1 (`lamp_terms`)."""
    vx, vy, vz = lx - px, ly - py, lz - pz
    d2 = vx * vx + vy * vy + vz * vz
    if d2 >= rng * rng:                       # beyond its reach (the fall-off is 0 there)
        return 0.0
    k, lit = lamp_terms(nx, ny, nz, vx, vy, vz, d2, rng, ax, ay, az, c0)
    return k if lit else 0.0


@register_jitable
def lamp_terms(nx, ny, nz, vx, vy, vz, d2, rng, ax, ay, az, c0):
    """`lamp` within the light's reach (d2 < rng ** 2), from the vector to the light (vx, vy, vz)
    and its squared length d2: (the factor, whether the point is inside the spot's cone). Without
    branches, so a loop over pixels vectorises (render/light_pass.py); outside the cone the
    factor is 0 (`lamp`)."""
    d = max(math.sqrt(d2), 1e-6)
    inv = 1.0 / d                             # one division (the divider, not the rest, bounds this)
    off = -(vx * ax + vy * ay + vz * az) * inv - c0
    cone = min(max(off * (3.0 / max(1.0 - c0, 1e-3)), 0.0), 1.0) if c0 > -1.0 else 1.0
    ndl = max((nx * vx + ny * vy + nz * vz) * inv, 0.0)
    q = min(d * (1.0 / rng), 1.0)
    q *= q
    fall = (1.0 - q * q) ** 2 * (inv * inv if d2 > 0.25 else 4.0) * cone     # 1 / max(d2, 0.25)
    return ndl * fall, (c0 <= -1.0) | (off > 0.0)


@register_jitable
def point_irradiance(nx, ny, nz, px, py, pz, points):
    """Irradiance (r, g, b) from the scene's fixed lights (rows of `points`, see P_*)."""
    r = g = b = 0.0
    for i in range(points.shape[0]):
        row = points[i]
        k = lamp(nx, ny, nz, px, py, pz, row[P_POS], row[P_POS + 1], row[P_POS + 2], row[P_RANGE],
                 row[P_DIR], row[P_DIR + 1], row[P_DIR + 2], row[P_COS])
        r += row[P_COL] * k
        g += row[P_COL + 1] * k
        b += row[P_COL + 2] * k
    return r, g, b


@register_jitable
def moving_irradiance(nx, ny, nz, px, py, pz, f, dpos, daxis, dcol, drange, dcos):
    """Irradiance (r, g, b) in clip frame f from the lights that move with vehicles (L, T, 3)."""
    r = g = b = 0.0
    for i in range(dpos.shape[0]):
        if dcol[i, f, 0] == 0.0 and dcol[i, f, 1] == 0.0 and dcol[i, f, 2] == 0.0:
            continue
        k = lamp(nx, ny, nz, px, py, pz, dpos[i, f, 0], dpos[i, f, 1], dpos[i, f, 2], drange[i],
                 daxis[i, f, 0], daxis[i, f, 1], daxis[i, f, 2], dcos[i])
        r += dcol[i, f, 0] * k
        g += dcol[i, f, 1] * k
        b += dcol[i, f, 2] * k
    return r, g, b


@register_jitable
def luminance(r, g, b):
    return LUMA_R * r + LUMA_G * g + LUMA_B * b


@register_jitable
def lobe_power(x, n):
    """x ** n for the specular lobe (x in [0, 1]): by repeated squaring when n is a whole number
    up to 128, as every material's shininess is (a few multiplications instead of libm's pow,
    which cost as much as the rest of a background pixel's shading; within a few units in the
    last place of pow), pow otherwise."""
    k = int(n)
    if k != n or k < 0 or k > 128:
        return x ** n
    r = 1.0
    while k > 0:
        if k & 1:
            r *= x
        x *= x
        k >>= 1
    return r


@inlined
def shade_pixel(ar, ag, ab, m, nx, ny, nz, px, py, pz, vx, vy, vz, fx, fy, fz, sunlit, light, mats, points,
                er, eg, eb):
    """Linear radiance (r, g, b) of a surface point: albedo (ar, ag, ab), material m, unit normal,
    seen from (vx, vy, vz) along the optical axis (fx, fy, fz); sunlit 1 where the sun reaches it,
    0 in shadow; (er, eg, eb) extra irradiance from moving lights. In near-infrared mode (light
    row L_NIR) the result is grey under the camera's illuminator (see render/nir.py)."""
    r, g, b, _, _, _ = shade_pixel_pair(ar, ag, ab, m, nx, ny, nz, px, py, pz, vx, vy, vz, fx, fy, fz, sunlit, sunlit,
                                        light, mats, points, er, eg, eb)
    return r, g, b


@inlined
def shade_pixel_pair(ar, ag, ab, m, nx, ny, nz, px, py, pz, vx, vy, vz, fx, fy, fz, sunlit, sunlit2, light, mats,
                     points, er, eg, eb):
    """`shade_pixel` at two sun visibilities (sunlit, sunlit2) at once: (r, g, b, r2, g2, b2). The
    terms that do not depend on the sun's visibility (lamps, the specular lobe) are computed once;
    each result is the same number `shade_pixel` gives for its visibility."""
    ndl, ndh = view_terms(nx, ny, nz, px, py, pz, vx, vy, vz, light)
    return shade_pair_terms(ar, ag, ab, m, nx, ny, nz, px, py, pz, vx, vy, vz, fx, fy, fz, sunlit, sunlit2, light, mats,
                            points, er, eg, eb, ndl, ndh)


@inlined
def view_terms(nx, ny, nz, px, py, pz, vx, vy, vz, light):
    """The geometric terms of `shade_pixel_pair`: (n.l, n.h), each clamped at 0, for the unit
    normal n at (px, py, pz) seen from (vx, vy, vz) (h: the half vector of the sun and the view).
    Branch-free, so a CPU loop of them alone vectorises (render/background_pass.py)."""
    sx, sy, sz = light[L_SUN_DIR], light[L_SUN_DIR + 1], light[L_SUN_DIR + 2]
    ndl = max(nx * sx + ny * sy + nz * sz, 0.0)
    ux, uy, uz = unit(vx - px, vy - py, vz - pz)
    hx, hy, hz = unit(sx + ux, sy + uy, sz + uz)
    return ndl, max(nx * hx + ny * hy + nz * hz, 0.0)


@inlined
def shade_pair_terms(ar, ag, ab, m, nx, ny, nz, px, py, pz, vx, vy, vz, fx, fy, fz, sunlit, sunlit2, light, mats,
                     points, er, eg, eb, ndl, ndh):
    """`shade_pixel_pair` given its `view_terms` (ndl, ndh)."""
    m = np.uint64(m)        # a material (>= 0): unsigned, numba reads mats by it without a wrap test
    pr, pg, pb = 0.0, 0.0, 0.0
    if points.shape[0]:
        pr, pg, pb = point_irradiance(nx, ny, nz, px, py, pz, points)
    if light[L_NIR] > 0.0:
        a = min(max(mats[m, M_IR_BASE] + mats[m, M_IR_GAIN] * luminance(ar, ag, ab), 0.0), 0.95)
        wx, wy, wz = vx - px, vy - py, vz - pz
        d2 = wx * wx + wy * wy + wz * wz
        d = max(math.sqrt(d2), 1e-6)
        lx, ly, lz = wx / d, wy / d, wz / d
        ndv = max(nx * lx + ny * ly + nz * lz, 0.0)
        cos_ax = -(lx * fx + ly * fy + lz * fz)
        edge, full = light[L_NIR_EDGE], light[L_NIR_FULL]
        spot = min(max((cos_ax - edge) / max(full - edge, 1e-3), 0.0), 1.0)
        spot = spot * spot * (3.0 - 2.0 * spot)
        e_ir = light[L_NIR_POWER] * spot * ndv / max(d2, 0.25)
        retro = mats[m, M_RETRO] * math.sqrt(ndv) * e_ir
        e_amb = e_ir + luminance(light[L_AMBIENT], light[L_AMBIENT + 1], light[L_AMBIENT + 2]) * (0.75 + 0.25 * nz)
        e_sun = luminance(light[L_SUN], light[L_SUN + 1], light[L_SUN + 2]) * ndl
        e_lamp = LAMP_IR_FRACTION * luminance(pr, pg, pb)
        e_move = LAMP_IR_FRACTION * luminance(er, eg, eb)
        own = mats[m, M_EMIT] * luminance(ar, ag, ab)
        grey = a * ((e_amb + e_sun * sunlit + e_lamp + e_move) + retro) + own
        grey2 = a * ((e_amb + e_sun * sunlit2 + e_lamp + e_move) + retro) + own
        return grey, grey, grey, grey2, grey2, grey2
    amb = 0.75 + 0.25 * nz
    amb_r, amb_g, amb_b = light[L_AMBIENT] * amb, light[L_AMBIENT + 1] * amb, light[L_AMBIENT + 2] * amb
    sr, sg, sb = light[L_SUN] * ndl, light[L_SUN + 1] * ndl, light[L_SUN + 2] * ndl
    lobe = 0.0
    if ndl > 0.0:
        lobe = mats[m, M_SPEC] * lobe_power(ndh, mats[m, M_SHINE])
    em = mats[m, M_EMIT]
    spec, spec2 = lobe * sunlit, lobe * sunlit2
    return (ar * ((amb_r + sr * sunlit + pr) + er) + spec * light[L_SUN] + em * ar,
            ag * ((amb_g + sg * sunlit + pg) + eg) + spec * light[L_SUN + 1] + em * ag,
            ab * ((amb_b + sb * sunlit + pb) + eb) + spec * light[L_SUN + 2] + em * ab,
            ar * ((amb_r + sr * sunlit2 + pr) + er) + spec2 * light[L_SUN] + em * ar,
            ag * ((amb_g + sg * sunlit2 + pg) + eg) + spec2 * light[L_SUN + 1] + em * ag,
            ab * ((amb_b + sb * sunlit2 + pb) + eb) + spec2 * light[L_SUN + 2] + em * ab)


@register_jitable
def lamp_response(ar, ag, ab, m, er, eg, eb, light, mats):
    """Radiance (r, g, b) a surface reflects from extra irradiance (er, eg, eb), diffusely, in the
    camera's mode (grey by its near-infrared reflectance in NIR mode)."""
    if light[L_NIR] > 0.0:
        a = min(max(mats[m, M_IR_BASE] + mats[m, M_IR_GAIN] * luminance(ar, ag, ab), 0.0), 0.95)
        grey = a * LAMP_IR_FRACTION * luminance(er, eg, eb)
        return grey, grey, grey
    return ar * er, ag * eg, ab * eb


@register_jitable
def encode(x, enc):
    """Exposed linear value -> uint8 display value through the tone-curve table enc over sqrt(x)
    in [0, 16] (render/effects.py encode_table; within one level of `tone`)."""
    return enc[int(math.sqrt(min(max(x, 0.0), 16.0)) * ((enc.shape[0] - 1) / 4.0) + 0.5)]


@inlined
def row_is(buf, t, y, value):
    """Whether row y of frame t of an integer buffer (T, H, W) holds `value` throughout: an OR of
    each element XOR value, without a branch, so the loop vectorises (the CPU kernels skip a row of
    background alone: instance id 0, primitive index -1)."""
    acc = buf[t, y, 0] ^ value
    for x in range(1, buf.shape[2]):
        acc |= buf[t, y, x] ^ value
    return acc == 0


@inlined
def on_silhouette(inst, t, y, x):
    """Whether pixel (y, x) of frame t differs from a 4-neighbour in the instance buffer."""
    H, W = inst.shape[1], inst.shape[2]
    v = inst[t, y, x]
    return ((x > 0 and inst[t, y, x - 1] != v) or (x < W - 1 and inst[t, y, x + 1] != v)
            or (y > 0 and inst[t, y - 1, x] != v) or (y < H - 1 and inst[t, y + 1, x] != v))


@inlined
def soften(img, t, y, x, c):
    """Antialiased channel c of pixel (y, x) of frame t: the mean of itself and its 3x3 average
    (borders replicated), as uint8."""
    H, W = img.shape[1], img.shape[2]
    acc = np.float32(0.0)
    for dy in range(-1, 2):
        yy = min(max(y + dy, 0), H - 1)
        for dx in range(-1, 2):
            acc += np.float32(img[t, yy, min(max(x + dx, 0), W - 1), c])
    v = np.float32(0.5) * np.float32(img[t, y, x, c]) + np.float32(0.5) * (acc / np.float32(9.0))
    return np.uint8(v + np.float32(0.5))


@register_jitable
def encode_index(x, enc):
    """The bucket of `encode32`'s table enc (over sqrt(x) in [0, 16]) for exposed linear x."""
    i = math.sqrt(min(max(x, np.float32(0.0)), np.float32(16.0))) * np.float32((enc.shape[0] - 1) / 4.0)
    return np.int32(i + np.float32(0.5))


@register_jitable
def encode32(x, enc):
    """`encode` in float32 maths (the sensor pass over every value of a frame)."""
    return enc[encode_index(x, enc)]


@register_jitable
def tone(x):
    """Exposed linear value -> uint8 display value (soft shoulder, gamma 1/2.2)."""
    y = 1.0 - math.exp(-1.25 * max(x, 0.0))
    return min(max(math.floor(y ** (1.0 / 2.2) * 255.0 + 0.5), 0.0), 255.0)
