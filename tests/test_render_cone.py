"""The tapered capsule (CONE: the hull of two spheres of different radii) and the flat-ended elliptic
frustum (FRUSTUM) in render/pixel.py: ray hits, normals and sun-shadow tests against brute force."""
from __future__ import annotations

import numpy as np

from synthdata.render.pixel import CONE, FRUSTUM, INF, NPRM, PRM_AXES, PRM_CENTER, PRM_END, PRM_RAD, PRM_REF, PRM_SIZE, \
    hit_primitive, in_hull2, in_shadow, normal_primitive, sun_basis


def cone_row(a, b, ra, rb) -> np.ndarray:
    row = np.zeros(NPRM)
    row[PRM_CENTER:PRM_CENTER + 3], row[PRM_END:PRM_END + 3] = a, b
    row[PRM_SIZE:PRM_SIZE + 3] = ra, rb, max(ra, rb)
    row[PRM_REF:PRM_REF + 3] = (np.asarray(a) + b) / 2
    row[PRM_RAD] = np.linalg.norm(np.subtract(b, a)) / 2 + max(ra, rb)
    return row


def sdf(p, a, b, ra, rb) -> np.ndarray:
    """Signed distance of points p (..., 3) to the hull of the two spheres: the hull is the union of
    the spheres swept along the segment with the radius changing linearly (brute force over 801
    steps of the segment)."""
    a, b, p = np.asarray(a, float), np.asarray(b, float), np.asarray(p, float)
    s = np.linspace(0.0, 1.0, 801)
    c = a + s[:, None] * (b - a)
    r = ra + s * (rb - ra)
    return np.min(np.linalg.norm(p[..., None, :] - c, axis=-1) - r, axis=-1)


CASES = [((0, 0, 0.9), (0.1, 0.05, 0.45), 0.08, 0.05), ((0.0, 0.0, 1.0), (0.0, 0.0, 0.4), 0.14, 0.24),
         ((1.0, 2.0, 0.5), (1.3, 2.0, 0.5), 0.05, 0.05), ((0, 0, 1), (0, 0, 0.9), 0.3, 0.05)]


def test_ray_hits_land_on_the_surface_and_misses_miss():
    rng = np.random.default_rng(0)
    for a, b, ra, rb in CASES:
        row = cone_row(a, b, ra, rb)
        mid = (np.asarray(a) + b) / 2
        hits = 0
        for _ in range(200):
            o = mid + rng.normal(0, 1, 3) * 3
            if sdf(o, a, b, ra, rb) < 0.05:
                continue
            target = np.add(a, rng.uniform(-0.2, 1.2) * np.subtract(b, a)) + rng.normal(0, 1, 3) * max(ra, rb)
            d = (target - o) / np.linalg.norm(target - o)
            t = hit_primitive(CONE, *o, *d, row)
            # march the distance function along the ray: the first surface crossing
            ts = np.linspace(0, np.linalg.norm(target - o) + 2, 300)
            ins = sdf(o + ts[:, None] * d, a, b, ra, rb) <= 0
            if t == INF:
                assert not ins.any(), "missed a ray that enters the shape"
                continue
            hits += 1
            p = o + t * d
            assert abs(sdf(p, a, b, ra, rb)) < 2e-3
            assert not ins[ts < t - 0.02].any(), "a nearer crossing was skipped"
            n = np.array(normal_primitive(CONE, *p, row))
            eps = 1e-4
            g = np.array([sdf(p + eps * e, a, b, ra, rb) - sdf(p - eps * e, a, b, ra, rb) for e in np.eye(3)])
            assert np.dot(n, g / np.linalg.norm(g)) > 0.99
            assert np.dot(n, d) < 0                              # it faces the ray
        assert hits > 40


def test_shadow_is_the_hull_of_the_end_spheres():
    rng = np.random.default_rng(1)
    sun = np.array([0.3, -0.4, 0.8]); sun /= np.linalg.norm(sun)
    e = sun_basis(*sun)
    for a, b, ra, rb in CASES:
        row = cone_row(a, b, ra, rb)
        mid = (np.asarray(a) + b) / 2
        agree = 0
        for _ in range(250):
            q = mid - sun * 2.0 + np.cross(sun, rng.normal(0, 1, 3)) * (max(ra, rb) + 0.2)
            d = sdf(q + np.linspace(0, 4, 400)[:, None] * sun, a, b, ra, rb)
            blocked = bool((d <= 0).any())
            got = in_shadow(CONE, *q, row, *sun, *e, 0.0, 0.0, 0.0)
            near = abs(d.min()) < 0.01
            assert got == blocked or near
            agree += got
        assert agree > 10


def test_hull2_of_nested_discs_is_the_bigger_disc():
    assert in_hull2(0.25, 0.0, 0.05, 0.0, 0.3, 0.1)
    assert not in_hull2(0.36, 0.0, 0.05, 0.0, 0.3, 0.1)
    assert in_hull2(0.15, 0.5, 0.0, 1.0, 0.1, 0.3) and not in_hull2(0.15, 0.5, 0.0, 1.0, 0.1, 0.1)


# ---- the flat-ended elliptic frustum -------------------------------------------------------------
def frustum_row(a, axes, h, ra, rb, q) -> np.ndarray:
    """A frustum from a along the third column of `axes` for h metres."""
    row = np.zeros(NPRM)
    axes = np.asarray(axes, float)
    b = np.asarray(a, float) + h * axes[:, 2]
    row[PRM_CENTER:PRM_CENTER + 3], row[PRM_END:PRM_END + 3] = a, b
    row[PRM_AXES:PRM_AXES + 9] = axes.reshape(-1)
    row[PRM_SIZE:PRM_SIZE + 3] = ra, rb, q
    row[PRM_REF:PRM_REF + 3] = (np.asarray(a) + b) / 2
    row[PRM_RAD] = h / 2 + max(ra, rb)
    return row


def frustum_f(p, a, axes, h, ra, rb, q) -> np.ndarray:
    """Implicit function of the frustum (<= 0 inside): the largest of the flank and the two ends."""
    loc = (np.asarray(p, float) - a) @ np.asarray(axes, float)
    r = ra + (rb - ra) * loc[..., 2] / h
    side = np.sqrt((loc[..., 0] / q) ** 2 + loc[..., 1] ** 2) - r
    return np.maximum(side, np.maximum(-loc[..., 2], loc[..., 2] - h))


def rot(yaw, pitch) -> np.ndarray:
    cy, sy, cp, sp = np.cos(yaw), np.sin(yaw), np.cos(pitch), np.sin(pitch)
    return np.array([[cy, -sy, 0], [sy, cy, 0], [0, 0, 1]]) @ np.array([[cp, 0, sp], [0, 1, 0], [-sp, 0, cp]])


FRUSTA = [((0, 0, 1.0), rot(0.3, np.pi), 0.45, 0.14, 0.22, 0.7), ((1, -1, 0.5), rot(1.0, 0.4), 0.8, 0.3, 0.1, 0.5),
          ((0, 1, 0.2), rot(-0.5, 0.0), 0.3, 0.2, 0.2, 1.0)]


def test_frustum_hits_normals_and_shadows_match_brute_force():
    rng = np.random.default_rng(2)
    sun = np.array([0.3, -0.4, 0.8]); sun /= np.linalg.norm(sun)
    e = sun_basis(*sun)
    for a, axes, h, ra, rb, q in FRUSTA:
        row = frustum_row(a, axes, h, ra, rb, q)
        mid = row[PRM_REF:PRM_REF + 3]
        hits = shadows = 0
        for _ in range(200):
            o = mid + rng.normal(0, 1, 3) * 3
            if frustum_f(o, a, axes, h, ra, rb, q) < 0.05:
                continue
            target = mid + rng.normal(0, 1, 3) * max(ra, rb, h / 2)
            d = (target - o) / np.linalg.norm(target - o)
            t = hit_primitive(FRUSTUM, *o, *d, row)
            ts = np.linspace(0, np.linalg.norm(target - o) + 2, 2000)
            f = frustum_f(o + ts[:, None] * d, a, axes, h, ra, rb, q)
            if t == INF:
                assert not (f < -1e-3).any(), "missed a ray that enters the shape"
            else:
                hits += 1
                p = o + t * d
                assert abs(frustum_f(p, a, axes, h, ra, rb, q)) < 1e-6
                assert not (f[ts < t - 0.01] < -1e-3).any(), "a nearer crossing was skipped"
                n = np.array(normal_primitive(FRUSTUM, *p, row))
                eps = 1e-5
                g = np.array([frustum_f(p + eps * v, a, axes, h, ra, rb, q) - frustum_f(p - eps * v, a, axes, h, ra, rb, q)
                              for v in np.eye(3)])
                loc = (p - a) @ axes
                rim = min(abs(loc[2]), abs(loc[2] - h)) < 2e-3
                if not rim:
                    assert np.dot(n, g / np.linalg.norm(g)) > 0.999
                assert np.dot(n, d) < 1e-9
            # the sun shadow of a ground point below
            gq = np.array([target[0], target[1], 0.0])
            fs = frustum_f(gq + np.linspace(0, 5, 2000)[:, None] * sun, a, axes, h, ra, rb, q)
            got = in_shadow(FRUSTUM, *gq, row, *sun, *e, 0.0, 0.0, 0.0)
            assert got == bool((fs <= 0).any()) or abs(fs.min()) < 2e-3
            shadows += got
        assert hits > 25 and shadows > 5


def test_the_specular_lobe_power_is_pow_to_within_rounding():
    """Whole shininess values go by repeated squaring (what every material has; a relative error of
    at most about n units in the last place), others by pow."""
    from numba import njit

    from synthdata.render.pixel import lobe_power
    from synthdata.render.shading import _MATERIAL_PARAMS

    power = njit(lambda x, n: lobe_power(x, n))
    x = np.random.default_rng(3).uniform(0.0, 1.0, 2000)
    for n in sorted({float(p[1]) for p in _MATERIAL_PARAMS.values()} | {0.0, 128.0}):
        got = np.array([power(v, n) for v in x])
        assert np.all(np.abs(got - x ** n) <= max(n, 1.0) * 2.5e-16 * x ** n), n
    for n in (2.5, 129.0, 300.0):
        assert all(power(v, n) == v ** n for v in x[:50])
    assert power(0.0, 16.0) == 0.0 and power(1.0, 96.0) == 1.0
