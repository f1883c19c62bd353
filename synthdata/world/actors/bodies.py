"""People as articulated bodies on the COCO-17 skeleton, posed per frame (numpy, vectorised).

A body is built in its own frame (x forward, y to the person's left, z up, origin on the ground
under the pelvis), then placed at the track's position and heading. Proportions are fractions of
standing height from anthropometric tables (Drillis & Contini). Poses: a walking/running gait
driven by the phase from motion.gait_phase (hip and knee swing, opposite arm swing, flight phase
when running), idle standing with sway and looking around, and seated riding (legs and arms
reach pedals/footpegs and handlebars by two-bone inverse kinematics).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthdata.world.actors.motion import TrackState, gait_phase, running_weight, stride_length
from synthdata.world.geometry.shapes import ShapeBuilder, hex_to_linear, pitch_axes, to_world, yaw_axes
from synthdata.world.spec import BagParams, PersonParams
from synthdata.world.types import Actor

# Fractions of standing height.
HIP_Z, THIGH, SHIN, ANKLE_Z = 0.53, 0.245, 0.246, 0.039
SHOULDER_Z, UPPER_ARM, FOREARM, HAND = 0.818, 0.186, 0.146, 0.075
NECK_Z0, NECK_Z1, HEAD_Z = 0.83, 0.872, 0.935
HIP_HALF, SHOULDER_HALF, FOOT = 0.052, 0.1, 0.15
HEAD_SEMI = (0.058, 0.047, 0.066)          # depth, width, height
SIDE = np.array([1.0, -1.0])               # index 0 = left (+y), 1 = right (-y)


@dataclass
class Mount:
    """Where a rider sits, in the vehicle's frame: seat (3,), grips (2, 3) left/right,
    feet (T, 2, 3) ankle targets, torso lean (rad)."""

    seat: np.ndarray
    grips: np.ndarray
    feet: np.ndarray
    lean: float


@dataclass
class Skeleton:
    """Joint positions in the body frame, (T, 3) each, left/right pairs as (T, 2, 3)."""

    pelvis: np.ndarray
    hips: np.ndarray
    knees: np.ndarray
    ankles: np.ndarray
    foot_pitch: np.ndarray      # (T, 2)
    shoulders: np.ndarray
    elbows: np.ndarray
    wrists: np.ndarray
    hands: np.ndarray
    neck0: np.ndarray
    neck1: np.ndarray
    chest: np.ndarray
    belly: np.ndarray
    torso_axes: np.ndarray      # (T, 3, 3) lean of the upper body
    head: np.ndarray
    head_axes: np.ndarray       # (T, 3, 3)


def _dirs(fwd_angle: np.ndarray, lateral: np.ndarray) -> np.ndarray:
    """Unit limb directions hanging down, swung forward by fwd_angle and out by lateral (T, 2)."""
    c = np.cos(lateral)
    return np.stack([np.sin(fwd_angle) * c, SIDE * np.sin(lateral), -np.cos(fwd_angle) * c], -1)


def two_bone(root: np.ndarray, target: np.ndarray, l1: float, l2: float, pole: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Middle joint and reached end for a two-bone limb from root towards target, bending
    towards `pole` (all (..., 3)); targets out of reach are approached in a straight line."""
    d = target - root
    dist = np.linalg.norm(d, axis=-1, keepdims=True)
    u = d / np.maximum(dist, 1e-9)
    dist = np.clip(dist, abs(l1 - l2) + 1e-4, (l1 + l2) * 0.999)
    a = (l1 * l1 - l2 * l2 + dist * dist) / (2 * dist)
    h = np.sqrt(np.maximum(l1 * l1 - a * a, 0.0))
    pp = pole - np.sum(pole * u, -1, keepdims=True) * u
    pp = pp / np.maximum(np.linalg.norm(pp, axis=-1, keepdims=True), 1e-9)
    return root + a * u + h * pp, root + dist * u


def _gait_feet(H: float, speed: np.ndarray, dist: np.ndarray, phase0: float, move: np.ndarray,
               run: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Ankle targets (T, 2, 3) relative to the ground point under the pelvis (lateral offset
    added by the caller), foot pitch (T, 2), pelvis height (T,), each foot's fore-aft position
    as a fraction of its reach (T, 2) and the pelvis rotation's hip shift (T, 2).

    Each foot is planted for a share `duty` of the cycle, rolling from heel to toe while the
    body passes over it (the ankle moves back under the body at nearly the body's speed), its
    heel rising before toe-off; then it swings forward in an arc. Walking feet overlap on the
    ground (double support); running ones do not (a flight phase)."""
    T = len(speed)
    leg = (THIGH + SHIN) * H
    reach = leg * (0.985 + 0.012 * move)[:, None]
    ankle = ANKLE_Z * H
    stride = stride_length(H, speed)
    duty = (0.62 - 0.27 * run)[:, None]                        # stance share of a gait cycle
    ph = np.mod(gait_phase(dist, speed, H, phase0)[:, None] + np.array([0.0, 0.5]), 1.0)
    stance = ph < duty
    m = move[:, None]
    roll = 0.09 * H * m                                         # heel-to-toe roll-over
    half = np.maximum(stride[:, None] * duty / 2 * m - roll / 2, 0.0)   # ankle goes +half -> -half
    st = np.clip(ph / duty, 0.0, 1.0)                           # progress through stance
    sw = np.clip((ph - duty) / (1 - duty), 0.0, 1.0)            # progress through swing
    heel = 0.5 * FOOT * H * m
    rise = np.clip((st - 0.55) / 0.45, 0.0, 1.0) ** 2
    x = np.where(stance, half * (1 - 2 * st), -half + half * (1 - np.cos(np.pi * sw)))
    lift = (0.08 + 0.05 * run)[:, None] * H * m * np.sin(np.pi * sw)
    z = ankle + np.where(stance, heel * rise, heel * (1 - sw) ** 2 + lift)
    toe_off = np.arcsin(np.clip(heel / (0.75 * FOOT * H), 0.0, 1.0))
    pitch = np.where(stance, toe_off * rise - 0.3 * m * np.clip(1 - st / 0.15, 0.0, 1.0),
                     toe_off * (1 - sw) ** 2 - 0.3 * m * sw ** 2)
    frac = x / np.maximum(half, 1e-6) * (half > 1e-6)
    shift = 0.02 * H * m * frac                                 # pelvis turns with the stride
    xr = x - shift
    pz = np.min(z + np.sqrt(np.maximum(reach ** 2 - xr ** 2, 0.0)), axis=1)
    # running: between two stances both feet are off the ground and the body rises a little
    base = ankle + np.sqrt(np.maximum(reach[:, 0] ** 2 - (half[:, 0] - shift[:, 0] * 0) ** 2, 0.0))
    d0 = duty[:, 0]
    flight = (~stance).all(1) & (d0 < 0.5)
    tau = np.clip((np.mod(ph[:, 0], 0.5) - d0) / np.maximum(0.5 - d0, 1e-6), 0.0, 1.0)
    pz = np.where(flight, base + 0.035 * H * run * move * np.sin(np.pi * tau), np.minimum(pz, ankle + reach[:, 0]))
    return np.stack([x, np.zeros((T, 2)), z], -1), pitch, pz, frac, shift


def _upper_body(H: float, g: float, sh: float, pelvis: np.ndarray, lean: np.ndarray):
    """Spine points rotated by the forward lean about the pelvis."""
    R = pitch_axes(lean)                                   # (T, 3, 3)

    def up(x, y, z):
        return pelvis + np.einsum("tij,j->ti", R, np.array([x, y, z - HIP_Z * H]))
    shoulders = np.stack([up(0.0, s * SHOULDER_HALF * H * sh, SHOULDER_Z * H) for s in SIDE], 1)
    return R, shoulders, up(0, 0, NECK_Z0 * H), up(0.004 * H, 0, NECK_Z1 * H), up(0, 0, 0.7 * H), \
        up(0, 0, 0.565 * H)


def skeleton(p: PersonParams, state: TrackState, times: np.ndarray, mount: Mount | None = None) -> Skeleton:
    H, g, sh = p.height_m, p.build, p.shoulders
    T = len(times)
    speed = state.speed
    move = np.clip(speed / 0.7, 0.0, 1.0)
    move = move * move * (3 - 2 * move)
    still = 1.0 - move
    idle_t = 2 * np.pi * times
    sway = still * 0.008 * H * np.sin(idle_t / 3.7 + p.sway_phase)
    look = still * 0.45 * np.sin(idle_t / 7.3 + 1.3 * p.sway_phase)
    phone = p.idle_pose == "phone"

    if mount is None:
        run = running_weight(speed)
        hw = HIP_HALF * H * max(g, 0.9)
        feet, foot_pitch, pz, reach_x, turn = _gait_feet(H, speed, state.dist, p.phase0, move, run)
        pelvis = np.stack([np.zeros(T), sway, pz], -1)
        hips = pelvis[:, None, :] + np.stack([np.zeros(2), SIDE * hw, np.zeros(2)], -1)
        hips[..., 0] += turn
        feet[..., 1] += SIDE * hw
        knees, ankles = two_bone(hips, feet, THIGH * H, SHIN * H, np.array([1.0, 0.0, 0.0]))
        lean = move * (0.05 + 0.15 * run) + still * 0.015 * np.sin(idle_t / 4.1 + p.sway_phase)
        R, shoulders, neck0, neck1, chest, belly = _upper_body(H, g, sh, pelvis, lean)
        amp = np.arcsin(np.clip(stride_length(H, speed) / (4 * (THIGH + SHIN) * H), 0, 0.7))
        arm_amp = (0.5 + 0.4 * run) * amp          # each arm swings against the leg on its side
        alpha = move[:, None] * (-arm_amp[:, None] * reach_x + 0.2 * run[:, None]) + still[:, None] * 0.03
        gamma = move[:, None] * ((0.25 + 1.2 * run)[:, None] + 0.4 * np.maximum(alpha, 0)) + still[:, None] * 0.15
        out = np.broadcast_to((0.12 + 0.1 * (g - 1) + 0.05 * run)[:, None], (T, 2)).copy()
        inward = np.zeros((T, 2))
        if phone:     # right hand up in front of the chest while standing
            alpha[:, 1] = alpha[:, 1] * move + still * 0.45
            gamma[:, 1] = gamma[:, 1] * move + still * 1.75
            inward[:, 1] = still * 0.45
        elbows = shoulders + UPPER_ARM * H * _dirs(alpha, out)
        fore = _dirs(alpha + gamma, out - inward)
        wrists = elbows + FOREARM * H * fore
        head_pitch = 0.5 * lean + (still * 0.35 if phone else 0.0)
    else:
        seat = mount.seat
        pelvis = np.broadcast_to(seat + np.array([0.0, 0.0, 0.06 * H]), (T, 3)).copy()
        hips = pelvis[:, None, :] + np.stack([np.zeros(2), SIDE * HIP_HALF * H * max(g, 0.9), np.zeros(2)], -1)
        knees, ankles = two_bone(hips, mount.feet, THIGH * H, SHIN * H, np.array([1.0, 0.0, 0.2]))
        foot_pitch = np.zeros((T, 2))
        lean = np.full(T, mount.lean)
        R, shoulders, neck0, neck1, chest, belly = _upper_body(H, g, sh, pelvis, lean)
        grips = np.broadcast_to(mount.grips, (T, 2, 3))
        pole = np.stack([np.full(2, -0.3), SIDE * 0.8, np.full(2, -0.6)], -1)
        elbows, wrists = two_bone(shoulders, grips, UPPER_ARM * H, FOREARM * H, pole)
        fore = (wrists - elbows) / np.linalg.norm(wrists - elbows, axis=-1, keepdims=True)
        head_pitch = 0.3 * lean - 0.25
    hands = wrists + HAND * H * fore
    head_axes = np.einsum("tij,tjk->tik", yaw_axes(look), pitch_axes(head_pitch * np.ones(T)))
    head = neck1 + np.einsum("tij,j->ti", head_axes, np.array([0.012 * H, 0, (HEAD_Z - NECK_Z1) * H]))
    return Skeleton(pelvis, hips, knees, ankles, foot_pitch, shoulders, elbows, wrists, hands, neck0, neck1,
                    chest, belly, R, head, head_axes)


def _head_surface(sk: Skeleton, H: float, phi: float, theta: float) -> np.ndarray:
    a, b, c = (x * H for x in HEAD_SEMI)
    local = np.array([a * np.cos(theta) * np.cos(phi), b * np.cos(theta) * np.sin(phi), c * np.sin(theta)])
    return sk.head + np.einsum("tij,j->ti", sk.head_axes, local)


def keypoints_local(sk: Skeleton, H: float) -> np.ndarray:
    """COCO-17 keypoints (T, 17, 3) in the body frame; face points lie on the head's surface."""
    face = [_head_surface(sk, H, 0.0, -0.22), _head_surface(sk, H, 0.4, 0.12), _head_surface(sk, H, -0.4, 0.12),
            _head_surface(sk, H, 1.62, 0.0), _head_surface(sk, H, -1.62, 0.0)]
    pairs = [sk.shoulders, sk.elbows, sk.wrists, sk.hips, sk.knees, sk.ankles]
    body = [x for pair in pairs for x in (pair[:, 0], pair[:, 1])]
    return np.stack(face + body, 1)


def keypoint_radius(p: PersonParams) -> np.ndarray:
    H, g = p.height_m, p.build
    r = [0.012, 0.01, 0.01, 0.012, 0.012, 0.035 * g, 0.035 * g, 0.026 * g, 0.026 * g, 0.02, 0.02,
         0.07 * g, 0.07 * g, 0.032 * g, 0.032 * g, 0.024, 0.024]
    return np.array(r) * H


def footprint_radius(p: PersonParams) -> float:
    """Radius of the ground disc a person keeps clear of others (strides included)."""
    base = 0.42 if p.behavior == "run" else 0.3
    return float(base * p.height_m / 1.75 * max(1.0, p.build))


def person_actor(p: PersonParams, state: TrackState, times: np.ndarray, position: np.ndarray,
                 yaw: np.ndarray, mount: Mount | None = None) -> tuple[Actor, Skeleton]:
    """The labelled person; `position`/`yaw` place the body frame (the vehicle's for riders)."""
    H, g, sh = p.height_m, p.build, p.shoulders
    sk = skeleton(p, state, times, mount)
    T = len(times)
    R = yaw_axes(yaw)

    def W(x: np.ndarray) -> np.ndarray:
        return to_world(x, position, R=R)

    def axes(local: np.ndarray) -> np.ndarray:
        return np.einsum("tij,tjk->tik", R, local)

    top, bottom = hex_to_linear(p.top_color), hex_to_linear(p.bottom_color)
    skin, hair, shoe = hex_to_linear(p.skin_color), hex_to_linear(p.hair_color), hex_to_linear(p.shoe_color)
    b = ShapeBuilder(T)
    head_w, torso_w = axes(sk.head_axes), axes(sk.torso_axes)
    b.ellipsoid(W(sk.head), np.array(HEAD_SEMI) * H, skin, "skin", head_w)
    if p.hair != "bald":
        hc = sk.head + np.einsum("tij,j->ti", sk.head_axes, np.array([-0.012, 0, 0.012]) * H)
        b.ellipsoid(W(hc), np.array([0.056, 0.049, 0.062]) * H, hair, "hair", head_w)
        if p.hair == "long":
            hl = sk.head + np.einsum("tij,j->ti", sk.head_axes, np.array([-0.03, 0, -0.05]) * H)
            b.ellipsoid(W(hl), np.array([0.035, 0.05, 0.075]) * H, hair, "hair", head_w)
    b.capsule(W(sk.neck0), W(sk.neck1), 0.03 * H, skin, "skin")
    b.capsule(W(sk.shoulders[:, 0] - [0, 0, 0.012 * H]), W(sk.shoulders[:, 1] - [0, 0, 0.012 * H]),
              0.036 * H * g, top, "cloth")
    b.ellipsoid(W(sk.chest), np.array([0.066 * g, 0.098 * sh, 0.13]) * H, top, "cloth", torso_w)
    b.ellipsoid(W(sk.belly), np.array([0.064 * g, 0.092 * max(g, 0.95), 0.1]) * H, bottom, "cloth", torso_w)
    fore_col, fore_mat = (top, "cloth") if p.sleeves == "long" else (skin, "skin")
    for i in range(2):
        b.capsule(W(sk.shoulders[:, i]), W(sk.elbows[:, i]), 0.026 * H * g, top, "cloth")
        b.capsule(W(sk.elbows[:, i]), W(sk.wrists[:, i]), 0.021 * H * g, fore_col, fore_mat)
        b.capsule(W(sk.wrists[:, i]), W(sk.hands[:, i]), 0.018 * H, skin, "skin")
        b.capsule(W(sk.hips[:, i]), W(sk.knees[:, i]), 0.04 * H * g, bottom, "cloth")
        b.capsule(W(sk.knees[:, i]), W(sk.ankles[:, i]), 0.028 * H * g, bottom, "cloth")
        fa = pitch_axes(sk.foot_pitch[:, i])
        fc = sk.ankles[:, i] + np.einsum("tij,j->ti", fa, np.array([0.3 * FOOT * H, 0, -0.55 * ANKLE_Z * H]))
        b.box(W(fc), np.array([FOOT / 2, 0.028, 0.022]) * H, shoe, "cloth", axes(fa))
    kp = W(keypoints_local(sk, H))
    attrs = {"height_m": round(H, 3), "build": round(g, 3), "top_color": p.top_color,
             "bottom_color": p.bottom_color, "hair_color": p.hair_color, "behavior": p.behavior,
             "speed_mps": round(p.speed_mps, 3), "carrying_bag": p.bag_track_id is not None,
             "footprint_radius_m": round(footprint_radius(p), 3), "enters": bool(p.enters), "leaves": bool(p.leaves)}
    if p.bag_track_id is not None:
        attrs["bag_track_id"] = p.bag_track_id
    if p.riding_track_id is not None:
        attrs["riding_track_id"] = p.riding_track_id
    pos3 = np.concatenate([np.asarray(position, float)[:, :2], np.zeros((T, 1))], 1)
    actor = Actor(p.track_id, "person", b.build(), pos3, np.asarray(yaw, float), state.present.copy(), kp,
                  keypoint_radius(p), attrs)
    return actor, _world_skeleton(sk, position, R)


def _world_skeleton(sk: Skeleton, position: np.ndarray, R: np.ndarray) -> Skeleton:
    def W(x):
        return to_world(x, position, R=R)
    return Skeleton(W(sk.pelvis), W(sk.hips), W(sk.knees), W(sk.ankles), sk.foot_pitch, W(sk.shoulders),
                    W(sk.elbows), W(sk.wrists), W(sk.hands), W(sk.neck0), W(sk.neck1), W(sk.chest),
                    W(sk.belly), np.einsum("tij,tjk->tik", R, sk.torso_axes), W(sk.head),
                    np.einsum("tij,tjk->tik", R, sk.head_axes))


def bag_actor(bag: BagParams, owner: PersonParams, sk: Skeleton, present: np.ndarray) -> Actor:
    """A carried bag following its owner's body (world skeleton `sk`)."""
    w, d, h = bag.size_m
    H, g = owner.height_m, owner.build
    color = hex_to_linear(bag.color)
    T = len(present)
    b = ShapeBuilder(T)
    if bag.style == "backpack":
        ax = sk.torso_axes
        c = sk.chest + np.einsum("tij,j->ti", ax, np.array([-(0.066 * g * H + d / 2 + 0.005), 0, -0.02 * H]))
        b.box(c, [d / 2, w / 2, h / 2], color, "cloth", ax)
        for i in range(2):
            top = c + np.einsum("tij,j->ti", ax, np.array([d / 2, SIDE[i] * w * 0.3, h / 2]))
            b.capsule(top, sk.shoulders[:, i] + np.einsum("tij,j->ti", ax, np.array([0.03 * H, 0, 0.025 * H])),
                      0.012, color, "cloth")
        bottom = c - np.einsum("tij,j->ti", ax, np.array([0, 0, h / 2]))
    else:
        i = 0 if bag.hand == "left" else 1
        ax = yaw_axes(np.arctan2(sk.torso_axes[:, 1, 0], sk.torso_axes[:, 0, 0]))
        c = sk.hands[:, i] - np.array([0, 0, 0.06 + h / 2])
        b.box(c, [d / 2, w / 2, h / 2], color, "cloth", ax)
        b.capsule(c + np.array([0, 0, h / 2]), sk.hands[:, i], 0.01, color, "cloth")
        bottom = c - np.array([0, 0, h / 2])
    yaw = np.arctan2(ax[:, 1, 0], ax[:, 0, 0])
    attrs = {"style": bag.style, "color": bag.color, "owner_track_id": bag.owner_track_id,
             "size_m": [round(x, 3) for x in bag.size_m]}
    return Actor(bag.track_id, "bag", b.build(), bottom, yaw, present.copy(), attributes=attrs)
