"""People as articulated bodies on the COCO-17 skeleton, posed per frame (numpy, vectorised).

A body is built in its own frame (x forward, y to the person's left, z up, origin on the ground
under the pelvis), then placed at the track's position and heading. Proportions are fractions of
standing height from anthropometric tables (Drillis & Contini), bent per person by the sampled
anthropometrics (`Proportions`: a child's larger head and shorter legs, shoulder and hip widths,
an elderly stoop). Poses: a walking/running gait driven by the phase from motion.gait_phase (hip
and knee swing, opposite arm swing and shoulder twist, flight phase when running), idle standing
with sway and looking around, seated riding (legs and arms reach pedals/footpegs and handlebars by
two-bone inverse kinematics), and the actions of world/actors/actions.py (hand targets, sitting,
crouching) reached the same way. Clothing and hair are built on the skeleton by world/actors/clothing.py.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthdata.world.actors import actions
from synthdata.world.actors.motion import TrackState, gait_phase, running_weight, stride_length
from synthdata.world.geometry.shapes import pitch_axes, to_world, yaw_axes
from synthdata.world.spec import PersonParams
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


def _gait_feet(pr: "Proportions", speed: np.ndarray, dist: np.ndarray, phase0: float, move: np.ndarray,
               run: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Ankle targets (T, 2, 3) relative to the ground point under the pelvis (lateral offset
    added by the caller), foot pitch (T, 2), pelvis height (T,), each foot's fore-aft position
    as a fraction of its reach (T, 2) and the pelvis rotation's hip shift (T, 2).

    Each foot is planted for a share `duty` of the cycle, rolling from heel to toe while the
    body passes over it (the ankle moves back under the body at nearly the body's speed), its
    heel rising before toe-off; then it swings forward in an arc. Walking feet overlap on the
    ground (double support); running ones do not (a flight phase)."""
    T = len(speed)
    H = pr.H
    leg = pr.thigh + pr.shin
    reach = leg * (0.985 + 0.012 * move)[:, None]
    ankle = pr.ankle_z
    stride = stride_length(H, speed) * min(1.0, (pr.hip_z / (HIP_Z * H)) ** 0.5)
    duty = (0.62 - 0.27 * run)[:, None]                        # stance share of a gait cycle
    ph = np.mod(gait_phase(dist, speed, H, phase0)[:, None] + np.array([0.0, 0.5]), 1.0)
    stance = ph < duty
    m = move[:, None]
    roll = 0.09 * H * m                                         # heel-to-toe roll-over
    half = np.maximum(stride[:, None] * duty / 2 * m - roll / 2, 0.0)   # ankle goes +half -> -half
    st = np.clip(ph / duty, 0.0, 1.0)                           # progress through stance
    sw = np.clip((ph - duty) / (1 - duty), 0.0, 1.0)            # progress through swing
    heel = 0.5 * pr.foot * m
    rise = np.clip((st - 0.55) / 0.45, 0.0, 1.0) ** 2
    x = np.where(stance, half * (1 - 2 * st), -half + half * (1 - np.cos(np.pi * sw)))
    lift = (0.08 + 0.05 * run)[:, None] * H * m * np.sin(np.pi * sw)
    z = ankle + np.where(stance, heel * rise, heel * (1 - sw) ** 2 + lift)
    toe_off = np.arcsin(np.clip(heel / (0.75 * pr.foot), 0.0, 1.0))
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


def _upper_body(pr: "Proportions", pelvis: np.ndarray, lean: np.ndarray, twist: np.ndarray):
    """Spine points rotated by the forward lean about the pelvis; the shoulder line turns by
    `twist` (rad, against the pelvis as the legs swing)."""
    R = pitch_axes(lean)                                   # (T, 3, 3)

    def up(x, y, z):
        return pelvis + np.einsum("tij,tj->ti", R, np.broadcast_to(np.stack(np.broadcast_arrays(x, y, z - pr.hip_z), -1),
                                                                      pelvis.shape))
    half = pr.shoulder_half
    shoulders = np.stack([up(-s * twist * half, s * half * np.cos(twist), pr.shoulder_z) for s in SIDE], 1)
    zero = np.zeros(len(pelvis))
    return R, shoulders, up(zero, zero, pr.neck_z0), up(zero + 0.004 * pr.H, zero, pr.neck_z1), \
        up(zero, zero, pr.chest_z), up(zero, zero, pr.belly_z)


@dataclass
class Proportions:
    """One person's body measures in metres, from height and the sampled anthropometrics
    (head_scale, leg_ratio, shoulders, hips, build): children have larger heads and shorter legs
    for their height."""

    H: float
    hip_z: float
    thigh: float
    shin: float
    ankle_z: float
    shoulder_z: float
    upper_arm: float
    forearm: float
    hand: float
    neck_z0: float
    neck_z1: float
    head_z: float
    head_semi: np.ndarray
    hip_half: float
    shoulder_half: float
    foot: float
    chest_z: float
    belly_z: float
    torso: float            # shoulder_z - hip_z relative to an adult's (scales torso parts)

    @staticmethod
    def of(p: PersonParams) -> "Proportions":
        H, h, leg = p.height_m, p.head_scale, p.leg_ratio
        semi = np.array(HEAD_SEMI) * H * h
        head_z = H - semi[2] - (1.001 - HEAD_Z - HEAD_SEMI[2]) * H
        neck1 = head_z - (HEAD_Z - NECK_Z1) * H * h
        neck0 = neck1 - (NECK_Z1 - NECK_Z0) * H
        shoulder_z = neck0 - (NECK_Z0 - SHOULDER_Z) * H
        hip_z = HIP_Z * H * leg
        torso = (shoulder_z - hip_z) / ((SHOULDER_Z - HIP_Z) * H)
        arm = 0.5 + 0.5 * leg
        return Proportions(H, hip_z, THIGH * H * leg, SHIN * H * leg, ANKLE_Z * H * leg, shoulder_z,
                           UPPER_ARM * H * arm, FOREARM * H * arm, HAND * H * arm, neck0, neck1, head_z, semi,
                           HIP_HALF * H * max(p.build, 0.9) * p.hips, SHOULDER_HALF * H * p.shoulders,
                           FOOT * H * (0.85 + 0.15 * leg), hip_z + 0.59 * (shoulder_z - hip_z),
                           hip_z + 0.12 * (shoulder_z - hip_z), torso)


def skeleton(p: PersonParams, state: TrackState, times: np.ndarray, mount: Mount | None = None) -> Skeleton:
    pr = Proportions.of(p)
    H, g = p.height_m, p.build
    T = len(times)
    speed = state.speed
    move = np.clip(speed / 0.7, 0.0, 1.0)
    move = move * move * (3 - 2 * move)
    still = 1.0 - move
    idle_t = 2 * np.pi * times
    sway = still * 0.008 * H * np.sin(idle_t / 3.7 + p.sway_phase)
    look = still * 0.45 * np.sin(idle_t / 7.3 + 1.3 * p.sway_phase)
    phone = p.idle_pose == "phone" and p.action == "none"

    if mount is None:
        run = running_weight(speed)
        feet, foot_pitch, pz, reach_x, turn = _gait_feet(pr, speed, state.dist, p.phase0, move, run)
        legs = actions.legs(p, pr, times, still)
        pelvis_x = 0.0
        if legs is not None:                       # sitting, crouching, shifting weight
            if legs.pelvis_z is not None:
                pz = legs.pelvis_z.copy()
            if legs.feet is not None:
                feet, foot_pitch, reach_x, turn = legs.feet.copy(), np.zeros((T, 2)), np.zeros((T, 2)), np.zeros((T, 2))
            pz = pz + legs.dz
            sway = sway + legs.sway
            pelvis_x = legs.pelvis_x
        pelvis = np.stack([np.full(T, pelvis_x), sway, pz], -1)
        hips = pelvis[:, None, :] + np.stack([np.zeros(2), SIDE * pr.hip_half, np.zeros(2)], -1)
        hips[..., 0] += turn
        feet[..., 1] += SIDE * pr.hip_half
        knee_pole = np.array([1.0, 0.0, 0.0]) if legs is None else legs.knee_pole
        knees, ankles = two_bone(hips, feet, pr.thigh, pr.shin, knee_pole)
        lean = move * (0.05 + 0.15 * run) + still * 0.015 * np.sin(idle_t / 4.1 + p.sway_phase) + p.stoop
        if legs is not None:
            lean = lean + legs.lean
        twist = 0.12 * move * (reach_x[:, 0] - reach_x[:, 1]) / 2 * (1 - run * 0.5)
        R, shoulders, neck0, neck1, chest, belly = _upper_body(pr, pelvis, lean, twist)
        amp = np.arcsin(np.clip(stride_length(H, speed) / (4 * (pr.thigh + pr.shin)), 0, 0.7))
        arm_amp = (0.5 + 0.4 * run) * amp          # each arm swings against the leg on its side
        alpha = move[:, None] * (-arm_amp[:, None] * reach_x + 0.2 * run[:, None]) + still[:, None] * 0.03
        gamma = move[:, None] * ((0.25 + 1.2 * run)[:, None] + 0.4 * np.maximum(alpha, 0)) + still[:, None] * 0.15
        out = np.broadcast_to((0.12 + 0.1 * (g - 1) + 0.05 * run)[:, None], (T, 2)).copy()
        inward = np.zeros((T, 2))
        if phone:     # right hand up in front of the chest while standing
            alpha[:, 1] = alpha[:, 1] * move + still * 0.45
            gamma[:, 1] = gamma[:, 1] * move + still * 1.75
            inward[:, 1] = still * 0.45
        elbows = shoulders + pr.upper_arm * _dirs(alpha, out)
        fore = _dirs(alpha + gamma, out - inward)
        wrists = elbows + pr.forearm * fore
        arms = actions.arms(p, pr, times, R, pelvis, neck1, lean)
        for side, (target, pole) in arms.items():   # an action's hand targets, reached by IK
            e, w = two_bone(shoulders[:, side], target, pr.upper_arm, pr.forearm, pole)
            elbows[:, side], wrists[:, side] = e, w
            fore[:, side] = (w - e) / np.maximum(np.linalg.norm(w - e, axis=-1, keepdims=True), 1e-9)
        head_pitch = 0.5 * lean - 0.8 * p.stoop + (still * 0.35 if phone else 0.0) + actions.head_pitch(p, T)
    else:
        seat = mount.seat
        pelvis = np.broadcast_to(seat + np.array([0.0, 0.0, 0.06 * H]), (T, 3)).copy()
        hips = pelvis[:, None, :] + np.stack([np.zeros(2), SIDE * pr.hip_half, np.zeros(2)], -1)
        knees, ankles = two_bone(hips, mount.feet, pr.thigh, pr.shin, np.array([1.0, 0.0, 0.2]))
        foot_pitch = np.zeros((T, 2))
        lean = np.full(T, mount.lean)
        R, shoulders, neck0, neck1, chest, belly = _upper_body(pr, pelvis, lean, np.zeros(T))
        grips = np.broadcast_to(mount.grips, (T, 2, 3))
        pole = np.stack([np.full(2, -0.3), SIDE * 0.8, np.full(2, -0.6)], -1)
        elbows, wrists = two_bone(shoulders, grips, pr.upper_arm, pr.forearm, pole)
        fore = (wrists - elbows) / np.linalg.norm(wrists - elbows, axis=-1, keepdims=True)
        head_pitch = 0.3 * lean - 0.25
    hands = wrists + pr.hand * fore
    head_axes = np.einsum("tij,tjk->tik", yaw_axes(look), pitch_axes(head_pitch * np.ones(T)))
    head = neck1 + np.einsum("tij,j->ti", head_axes, np.array([0.012 * H, 0, pr.head_z - pr.neck_z1]))
    return Skeleton(pelvis, hips, knees, ankles, foot_pitch, shoulders, elbows, wrists, hands, neck0, neck1,
                    chest, belly, R, head, head_axes)


def _head_surface(sk: Skeleton, semi: np.ndarray, phi: float, theta: float) -> np.ndarray:
    a, b, c = semi
    local = np.array([a * np.cos(theta) * np.cos(phi), b * np.cos(theta) * np.sin(phi), c * np.sin(theta)])
    return sk.head + np.einsum("tij,j->ti", sk.head_axes, local)


def keypoints_local(sk: Skeleton, semi: np.ndarray) -> np.ndarray:
    """COCO-17 keypoints (T, 17, 3) in the body frame; face points lie on the head's surface
    (head semi-axes `semi`: depth, width, height)."""
    face = [_head_surface(sk, semi, 0.0, -0.22), _head_surface(sk, semi, 0.4, 0.12),
            _head_surface(sk, semi, -0.4, 0.12), _head_surface(sk, semi, 1.62, 0.0),
            _head_surface(sk, semi, -1.62, 0.0)]
    pairs = [sk.shoulders, sk.elbows, sk.wrists, sk.hips, sk.knees, sk.ankles]
    body = [x for pair in pairs for x in (pair[:, 0], pair[:, 1])]
    return np.stack(face + body, 1)


def footprint_radius(p: PersonParams) -> float:
    """Radius of the ground disc a person keeps clear of others (strides included; a pushed pram
    and a bench seat need more room)."""
    base = 0.42 if p.behavior == "run" else 0.3
    room = actions.FOOTPRINT_M.get(p.action, 0.0) if p.action != "walk_together" else 0.0
    return float(max(base * p.height_m / 1.75 * max(1.0, p.build), room))


def plan_radius(p: PersonParams) -> float:
    """The disc planned for a person: a pair walking side by side is planned as one wider disc
    around the middle of the two (world/sample.py splits it)."""
    return max(footprint_radius(p), actions.FOOTPRINT_M.get(p.action, 0.0))


def person_actor(p: PersonParams, state: TrackState, times: np.ndarray, position: np.ndarray,
                 yaw: np.ndarray, mount: Mount | None = None) -> tuple[Actor, Skeleton]:
    """The labelled person; `position`/`yaw` place the body frame (the vehicle's for riders)."""
    from synthdata.world.actors.clothing import dress, keypoint_radius

    sk = skeleton(p, state, times, mount)
    pr = Proportions.of(p)
    T = len(times)
    R = yaw_axes(yaw)
    shapes, _ = dress(p, pr, sk, lambda x: to_world(x, position, R=R), lambda a: np.einsum("tij,tjk->tik", R, a), T)
    kp = to_world(keypoints_local(sk, pr.head_semi), position, R=R)
    outfit = p.outfit
    attrs = {"height_m": round(p.height_m, 3), "build": round(p.build, 3), "top_color": p.top_color,
             "bottom_color": p.bottom_color, "hair_color": p.hair_color, "behavior": p.behavior,
             "speed_mps": round(p.speed_mps, 3), "carrying_bag": p.bag_track_id is not None,
             "footprint_radius_m": round(footprint_radius(p), 3), "enters": bool(p.enters), "leaves": bool(p.leaves),
             "age": p.age, "hair": p.hair, "skin_color": p.skin_color, "action": p.action}
    if outfit is not None:
        attrs.update(top=outfit.top, top_fabric=outfit.top_fabric, bottom=outfit.bottom,
                     bottom_fabric=outfit.bottom_fabric, hat=outfit.hat, scarf=bool(outfit.scarf),
                     coat_open=bool(outfit.coat_open))
    for key in ("bag_track_id", "riding_track_id", "companion_track_id", "prop_track_id"):
        if getattr(p, key) is not None:
            attrs[key] = getattr(p, key)
    pos3 = np.concatenate([np.asarray(position, float)[:, :2], np.zeros((T, 1))], 1)
    labels = actions.frame_actions(p, state, mount is not None)
    actor = Actor(p.track_id, "person", shapes, pos3, np.asarray(yaw, float), state.present.copy(), kp,
                  keypoint_radius(p, pr), attrs, actions=labels)
    return actor, _world_skeleton(sk, position, R)


def _world_skeleton(sk: Skeleton, position: np.ndarray, R: np.ndarray) -> Skeleton:
    def W(x):
        return to_world(x, position, R=R)
    return Skeleton(W(sk.pelvis), W(sk.hips), W(sk.knees), W(sk.ankles), sk.foot_pitch, W(sk.shoulders),
                    W(sk.elbows), W(sk.wrists), W(sk.hands), W(sk.neck0), W(sk.neck1), W(sk.chest),
                    W(sk.belly), np.einsum("tij,tjk->tik", R, sk.torso_axes), W(sk.head),
                    np.einsum("tij,tjk->tik", R, sk.head_axes))
