"""A posed skeleton dressed as primitives: body, garments, hair, hat, scarf, shoes (numpy).

Garments are geometry, not just colours: loose tops and coats are wider than the torso, a coat's
skirt and a dress or skirt cover the gap between the legs, hoods, caps and beanies sit on the
head, hair has volume (short, long, ponytail). Every primitive of the person belongs to the
person's instance (one Actor), so a skirt or hair is always in its owner's mask. Surfaces carry
render/patterns.py patterns (fabrics, folds, the face, hair strands) as per-primitive data;
world/ only names pattern kinds by number and never imports render/.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from synthdata.world.geometry.shapes import ShapeBuilder, hex_to_linear, pitch_axes
from synthdata.world.spec import Outfit, PersonParams
from synthdata.world.types import Shapes

# render/patterns.py kinds (kept in step by tests/test_people.py)
CLOTH, DENIM, KNIT, STRIPES, CHECKS, PRINT, TWO_TONE, HIVIS, FACE, OPEN_COAT, HAIR = 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11
FABRIC_KIND = {"plain": CLOTH, "denim": DENIM, "knit": KNIT, "stripes": STRIPES, "checks": CHECKS, "print": PRINT,
               "two_tone": TWO_TONE, "hivis": HIVIS}
TOPS = ("tshirt", "shirt", "sweater", "hoodie", "jacket", "coat", "dress")
BOTTOMS = ("trousers", "jeans", "shorts", "skirt")
HATS = ("none", "cap", "beanie", "hood")
HAIRS = ("short", "long", "ponytail", "bald", "covered", "helmet")
SIDE = np.array([1.0, -1.0])
# Garment radii, fractions of the person's height (times build): a trouser leg's at the knee, at the
# knee below it and at the hem (regular trousers hang straight, about 11 cm across at the hem for a
# 1.75 m person; jeans are slimmer); a sleeve's at the shoulder, the elbow and the cuff.
LEG_CUT = {"trousers": (0.036, 0.036, 0.032), "jeans": (0.034, 0.034, 0.028)}
SLEEVE = (0.031, 0.027, 0.024)
# Bare limbs, the same way (a forearm about 8 cm across below the elbow, a calf 11 below the knee)
BARE = {"forearm": (0.023, 0.016), "thigh": (0.045, 0.032), "shin": (0.032, 0.019)}
# The torso's half depths (front to back; fractions of the height, times build), clothed: chest,
# waist and seat each about 24-26 cm deep for a 1.75 m person, as adult anthropometric surveys
# (ANSUR II) measure them. At 0.132/0.124/0.124 of the height (23 and 22 cm) a person seen from
# the side was thinner than a real one; the deeper torso raised the HOG people detector's median
# score on side-on windows (bench_realism.py, benchmarks/README.md).
CHEST_DEPTH, WAIST_DEPTH, SEAT_DEPTH = 0.074, 0.069, 0.07
# Long hair's fall (`_hair_fall`): its ends' height above the chest's centre at the shortest (down
# to 0.08 lower), half its width there, and how far it lies out from the back; fractions of the height
HAIR_FALL = (0.05, 0.075, 0.012)


def default_outfit(p: PersonParams) -> Outfit:
    """The outfit of a person sampled without one (a rider, an old ClipSpec): plain top, trousers."""
    return Outfit(top="tshirt" if p.sleeves == "short" else "sweater", bottom="trousers")


def _covers_legs(o: Outfit) -> bool:
    return o.top == "dress" or o.bottom == "skirt"


def _long_sleeves(p: PersonParams, o: Outfit) -> bool:
    return p.sleeves == "long" or o.top in ("sweater", "hoodie", "jacket", "coat")


def limb_radii(p: PersonParams, o: Outfit) -> dict[str, tuple[float, float, bool]]:
    """Each limb segment's radii at its two ends (fractions of the height, build included) and
    whether it is bare skin: "upper_arm", "forearm", "thigh", "shin". `dress` draws the limbs with
    them, and `keypoint_radius` takes each joint's from the segments that meet there."""
    g = p.build
    sleeve = (1.15 if o.top in ("coat", "jacket") else 1.0) * o.loose * g
    cut = LEG_CUT["jeans" if o.bottom == "jeans" else "trousers"]
    wide = 1.08 if o.bottom == "shorts" else 1.0
    bare_thigh, bare_shin = _covers_legs(o), o.bottom == "shorts" or _covers_legs(o)
    return {"upper_arm": (SLEEVE[0] * sleeve, SLEEVE[1] * sleeve, False),
            "forearm": (SLEEVE[1] * sleeve, SLEEVE[2] * sleeve, False) if _long_sleeves(p, o) else
                       (BARE["forearm"][0] * g, BARE["forearm"][1] * g, True),
            "thigh": (BARE["thigh"][0] * g, BARE["thigh"][1] * g, True) if bare_thigh else
                     (0.05 * g * wide, cut[0] * g * wide, False),
            "shin": (BARE["shin"][0] * g, BARE["shin"][1] * g, True) if bare_shin else (cut[1] * g, cut[2] * g, False)}


def dress(p: PersonParams, pr, sk, W: Callable, axes: Callable, T: int) -> tuple[Shapes, list[str]]:
    """World primitives of a person and each primitive's part name ("hair", "hat", "skirt",
    "coat", "scarf", ...; "" for the body): W maps body-frame points (T, 3) to the world, axes
    body-frame rotations (T, 3, 3) to world ones. The two feet are the last two primitives."""
    o = p.outfit or default_outfit(p)
    H, g = pr.H, p.build
    top, bottom = hex_to_linear(p.top_color), hex_to_linear(p.bottom_color)
    skin, hair, shoe = hex_to_linear(p.skin_color), hex_to_linear(p.hair_color), hex_to_linear(p.shoe_color)
    c2_top, c2_bottom = hex_to_linear(o.top_color2), hex_to_linear(o.bottom_color2)
    seed = int(o.seed)
    b = ShapeBuilder(T)
    head_w, torso_w = axes(sk.head_axes), axes(sk.torso_axes)

    def on_head(x, y, z):
        return W(sk.head + np.einsum("tij,j->ti", sk.head_axes, np.array([x, y, z]) * H * p.head_scale))

    def on_torso(point, x, y, z):
        return W(point + np.einsum("tij,j->ti", sk.torso_axes, np.array([x, y, z])))

    # ---- head, face, hair, hat
    b.ellipsoid(W(sk.head), pr.head_semi, skin, "skin", head_w)
    b.pattern_last(FACE, tuple(0.45 * c for c in hair), pr.head_semi[2], seed)
    _hair(b, p, o, on_head, head_w, hair, seed)
    _hat(b, o, on_head, head_w, top, H * p.head_scale)
    b.capsule(W(sk.neck0), W(sk.neck1), 0.03 * H, skin, "skin")
    if o.scarf:
        scarf = hex_to_linear(o.scarf_color)
        b.capsule(W(sk.neck0), W(sk.neck1 - [0, 0, 0.01 * H]), 0.047 * H * g, scarf, "cloth")
        b.pattern_last(KNIT, scarf, 0.02, seed)
        b.capsule(on_torso(sk.neck0, 0.05 * H, 0.025 * H, -0.01 * H), on_torso(sk.neck0, 0.075 * H, 0.03 * H, -0.17 * H),
                  0.02 * H, scarf, "cloth")
        b.name_last("scarf", 2)
    # ---- torso
    coat = o.top in ("coat", "jacket")
    loose = o.loose * (1.1 if coat else 1.0)
    kind = FABRIC_KIND.get(o.top_fabric, CLOTH)
    open_front = coat and o.coat_open
    inner = hex_to_linear(o.inner_color)
    # the shoulders slope from the base of the neck down to the joints, rounded over each joint:
    # the trapezius line that gives head and shoulders their outline (one level bar across the
    # joints read as shoulder pads; this raised HOG's score of fitted windows by 0.13-0.22)
    for i in range(2):
        b.cone(W(0.85 * sk.neck0 + 0.15 * sk.shoulders[:, i]), W(sk.shoulders[:, i] - [0, 0, 0.015 * H]),
               0.034 * H * g * loose, 0.032 * H * g * loose, top, "cloth")
        b.pattern_last(CLOTH, top, 0.05, seed)
    chest_semi = np.array([CHEST_DEPTH * g * loose * H, 0.98 * pr.shoulder_half * loose, 0.13 * H * pr.torso])
    b.ellipsoid(W(sk.chest), chest_semi, top, "cloth", torso_w)
    if open_front:
        b.pattern_last(OPEN_COAT, inner, chest_semi[1], seed)
    else:
        scale = {PRINT: chest_semi[1], TWO_TONE: chest_semi[2], HIVIS: chest_semi[2]}.get(kind, o.fabric_scale_m)
        b.pattern_last(kind, c2_top, scale, seed)
    # the waist stays narrower than the chest (wide hips show at the pelvis, not as a belly)
    belly_semi = np.array([WAIST_DEPTH * g * loose * H, min(0.088 * max(g, 0.95) * (1 + 0.5 * (p.hips - 1)) * loose * H,
                                                    0.95 * chest_semi[1]), 0.085 * H * pr.torso])
    b.ellipsoid(on_torso(sk.belly, 0, 0, 0.02 * H), belly_semi, top, "cloth", torso_w)
    b.pattern_last(OPEN_COAT if open_front else (kind if kind in (STRIPES, CHECKS, KNIT, DENIM) else CLOTH),
                   inner if open_front else c2_top, belly_semi[1] if open_front else o.fabric_scale_m, seed)
    if p.hair == "long" and o.hat != "hood":
        _hair_fall(b, p, on_head, on_torso(sk.chest, -CHEST_DEPTH * g * loose * H, 0, 0), torso_w, hair, seed)
    bkind = FABRIC_KIND.get(o.bottom_fabric, CLOTH)
    if o.bottom == "jeans":
        bkind = DENIM
    hip_y = pr.hip_half + 0.036 * H * g
    b.ellipsoid(W(sk.pelvis), np.array([SEAT_DEPTH * g * H, hip_y, 0.06 * H]), bottom, "cloth", torso_w)
    b.pattern_last(bkind, c2_bottom, o.fabric_scale_m, seed)
    # ---- coat skirt, dress, skirt: wider than the legs, hiding their gap
    if o.top == "coat" or _covers_legs(o):
        long = o.top == "coat"
        col, c2, k = (top, inner, OPEN_COAT) if long and o.coat_open else \
            ((top, c2_top, kind) if (long or o.top == "dress") else (bottom, c2_bottom, bkind))
        length = 0.3 * H * p.leg_ratio if long else 0.25 * H * p.leg_ratio
        flare = 0.04 if long else 0.028                  # widening from the waist to the hem
        # a flat-hemmed truncated cone, narrower front to back than across
        top_r, hem_r = 1.02 * hip_y * loose, hip_y + flare * H * loose
        b.frustum(on_torso(sk.pelvis, 0, 0, 0.1 * length), on_torso(sk.pelvis, 0, 0, -length), top_r, hem_r,
                  0.78 if long else 0.7, torso_w[..., 0], col, "cloth")
        b.pattern_last(k if k != PRINT else CLOTH, c2, hem_r if k == OPEN_COAT else o.fabric_scale_m, seed)
        b.name_last("coat" if long else "skirt")
    # ---- arms and legs: sleeves hang loose round the arm (a jacket's about 11 cm across at the
    # elbow, 10 at the cuff), trouser legs straight from the knee
    radii = limb_radii(p, o)
    sleeve_pattern = kind if kind in (STRIPES, CHECKS, KNIT) else CLOTH
    arms = (("upper_arm", sk.shoulders, sk.elbows, 0), ("forearm", sk.elbows, sk.wrists, 0))
    legs = (("thigh", sk.hips, sk.knees, 2), ("shin", sk.knees, sk.ankles, 4))
    for limbs, (col, pat, c2) in ((arms, (top, sleeve_pattern, c2_top)), (legs, (bottom, bkind, c2_bottom))):
        for i in range(2):
            for name, a, z, s0 in limbs:
                r0, r1, bare = radii[name]
                b.cone(W(a[:, i]), W(z[:, i]), r0 * H, r1 * H, skin if bare else col, "skin" if bare else "cloth")
                if not bare:
                    b.pattern_last(pat, c2, o.fabric_scale_m, seed + s0 + i)
            if limbs is arms:
                b.capsule(W(sk.wrists[:, i]), W(sk.hands[:, i]), 0.018 * H, skin, "skin")
    for i in range(2):                                   # feet last
        fa = pitch_axes(sk.foot_pitch[:, i])
        fc = sk.ankles[:, i] + np.einsum("tij,j->ti", fa, np.array([0.3 * pr.foot, 0, -0.55 * pr.ankle_z]))
        r = 0.027 * H                                    # a shoe: a capsule along the foot (round toe
        c = fc.copy()                                    # and heel), its underside 0.024 H below fc,
        c[:, 2] += r - 0.024 * H                         # on the ground when the foot is flat
        half = max(pr.foot / 2 - r, 0.01)
        b.capsule(W(c - half * fa[:, :, 0]), W(c + half * fa[:, :, 0]), r, shoe, "cloth")
        b.name_last("shoe")
    return b.build(), b.names


def _hair(b: ShapeBuilder, p: PersonParams, o: Outfit, on_head: Callable, head_w, hair, seed: int) -> None:
    style = p.hair
    if style == "bald":
        return
    if style == "helmet":
        b.ellipsoid(on_head(-0.004, 0, 0.01), np.array([0.068, 0.058, 0.07]) * p.height_m * p.head_scale,
                    hair, "paint", head_w)
        b.name_last("hat")
        return
    H = p.height_m * p.head_scale
    b.ellipsoid(on_head(-0.012, 0, 0.012), np.array([0.056, 0.049, 0.062]) * H, hair, "hair", head_w)
    b.pattern_last(HAIR, hair, 0.01, seed)
    b.name_last("hair")
    if style == "long":
        b.ellipsoid(on_head(-0.03, 0, -0.06), np.array([0.04, 0.055, 0.095]) * H, hair, "hair", head_w)
        b.pattern_last(HAIR, hair, 0.01, seed)
        b.name_last("hair")
    elif style == "ponytail":
        b.capsule(on_head(-0.06, 0, 0.01), on_head(-0.085, 0, -0.08), 0.018 * H, hair, "hair")
        b.pattern_last(HAIR, hair, 0.01, seed)
        b.name_last("hair")


def _hair_fall(b: ShapeBuilder, p: PersonParams, on_head: Callable, back, torso_w, hair, seed: int) -> None:
    """Long hair falling from the back of the head over the back (`back`: the middle of the back's
    surface at the chest, world (T, 3)): a flat truncated cone about as wide as the head at the top
    and 2 x HAIR_FALL[1] of the height across at its ends, down to between the shoulder blades and
    the middle of the back (drawn from the outfit's seed), lying HAIR_FALL[2] of the height out
    from the back. Without it long hair ended at the collar as a narrow tube."""
    H = p.height_m
    u = np.random.default_rng([seed, 0x4A12]).random()           # how far down: the person's own
    down = back + torso_w[..., 2] * (HAIR_FALL[0] - 0.08 * u) * H - torso_w[..., 0] * HAIR_FALL[2] * H
    b.frustum(on_head(-0.045, 0, -0.035), down, 0.045 * H * p.head_scale, HAIR_FALL[1] * H, 0.3, torso_w[..., 0],
              hair, "hair")
    b.pattern_last(HAIR, hair, 0.01, seed)
    b.name_last("hair")


def _hat(b: ShapeBuilder, o: Outfit, on_head: Callable, head_w, top, H: float) -> None:
    if o.hat == "none":
        return
    col = hex_to_linear(o.hat_color)
    if o.hat == "cap":
        b.ellipsoid(on_head(-0.005, 0, 0.028), np.array([0.06, 0.053, 0.042]) * H, col, "cloth", head_w)
        b.pattern_last(CLOTH, col, 0.03, 0)
        b.box(on_head(0.062, 0, 0.035), np.array([0.032, 0.045, 0.004]) * H, col, "cloth", head_w)
        b.name_last("hat", 2)
    elif o.hat == "beanie":
        b.ellipsoid(on_head(-0.006, 0, 0.022), np.array([0.061, 0.052, 0.056]) * H, col, "cloth", head_w)
        b.pattern_last(KNIT, col, 0.02, 0)
        b.name_last("hat")
    elif o.hat == "hood":
        b.ellipsoid(on_head(-0.03, 0, 0.008), np.array([0.07, 0.062, 0.078]) * H, top, "cloth", head_w)
        b.pattern_last(CLOTH, top, 0.03, 0)
        b.name_last("hood")


def keypoint_radius(p: PersonParams, pr) -> np.ndarray:
    """Body radius around each COCO joint (17,), metres, clothing included: the depth margin
    within which a joint counts as visible (labels/rows.py)."""
    o = p.outfit or default_outfit(p)
    g = p.build
    coat = 1.15 if o.top in ("coat", "jacket") else 1.0
    limb = limb_radii(p, o)
    shoulder = max(0.035 * g * coat * o.loose, limb["upper_arm"][0])
    elbow = max(limb["upper_arm"][1], limb["forearm"][0])
    wrist = max(0.02, limb["forearm"][1])                # the hand's capsule is 0.018
    knee = max(0.032 * g, limb["thigh"][1], limb["shin"][0])
    ankle = max(0.024, limb["shin"][1])                  # the shoe reaches above the ankle
    hip = 0.07 * g
    if o.top == "coat" or _covers_legs(o):
        knee, hip = max(knee, 0.075 * g * coat), max(hip, 0.1 * g * coat)
    head = 0.012 * p.head_scale
    if o.hat == "hood" or p.hair in ("long", "helmet"):
        head += 0.02
    r = [head, 0.01, 0.01, head, head, shoulder, shoulder, elbow, elbow, wrist, wrist, hip, hip, knee, knee, ankle,
         ankle]
    return np.array(r) * p.height_m
