"""Hand-scripted worlds for render/label tests (no recipe, no sampling)."""
from __future__ import annotations

import numpy as np

from synthdata.render.patterns import PATTERNS
from synthdata.world.geometry.camera import Camera
from synthdata.world.types import BOX, CAPSULE, CONE, ELLIPSOID, FRUSTUM, Actor, Ground, GroundPaint, Lighting, Shapes, World


def rot_z(yaw: float) -> np.ndarray:
    c, s = np.cos(yaw), np.sin(yaw)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]])


def stick_person(T: int, start, velocity, height: float = 1.75, color=(0.2, 0.3, 0.8),
                 cones: bool = False) -> tuple[Shapes, np.ndarray]:
    """A crude person: legs/torso capsules (with `cones`, legs and arms taper to the far end and a
    flat-ended elliptic skirt hangs from the hips), head ellipsoid; returns shapes and COCO-17
    keypoints."""
    limb = CONE if cones else CAPSULE
    kind = np.array([limb, limb, CAPSULE, limb, limb, ELLIPSOID] + ([FRUSTUM] if cones else []), np.int8)
    P = len(kind)
    center = np.zeros((T, P, 3)); end = np.zeros((T, P, 3)); size = np.zeros((T, P, 3))
    axes = np.broadcast_to(np.eye(3), (T, P, 3, 3)).copy()
    kps = np.zeros((T, 17, 3))
    s = height / 1.75
    for t in range(T):
        p = np.asarray(start, float) + np.asarray(velocity, float) * t
        swing = 0.25 * np.sin(t * 0.8)
        hip_l, hip_r = p + [0, -0.1 * s, 0.9 * s], p + [0, 0.1 * s, 0.9 * s]
        foot_l, foot_r = p + [swing, -0.1 * s, 0.08], p + [-swing, 0.1 * s, 0.08]
        neck = p + [0, 0, 1.45 * s]
        sh_l, sh_r = p + [0, -0.2 * s, 1.42 * s], p + [0, 0.2 * s, 1.42 * s]
        hand_l, hand_r = p + [-swing, -0.25 * s, 0.85 * s], p + [swing, 0.25 * s, 0.85 * s]
        head = p + [0, 0, 1.62 * s]
        center[t, 0], end[t, 0], size[t, 0, 0] = hip_l, foot_l, 0.07 * s
        center[t, 1], end[t, 1], size[t, 1, 0] = hip_r, foot_r, 0.07 * s
        center[t, 2], end[t, 2], size[t, 2, 0] = p + [0, 0, 0.95 * s], neck, 0.16 * s
        center[t, 3], end[t, 3], size[t, 3, 0] = sh_l, hand_l, 0.05 * s
        center[t, 4], end[t, 4], size[t, 4, 0] = sh_r, hand_r, 0.05 * s
        center[t, 5], size[t, 5] = head, [0.1 * s, 0.09 * s, 0.12 * s]
        if cones:                                   # thick at the hip/shoulder, thin at the foot/hand
            for k in (0, 1, 3, 4):
                size[t, k, 1], size[t, k, 2] = 0.45 * size[t, k, 0], size[t, k, 0]
            center[t, 6], end[t, 6], size[t, 6] = p + [0, 0, 0.98 * s], p + [0, 0, 0.55 * s], [0.15 * s, 0.22 * s, 0.7]
            axes[t, 6] = [[1, 0, 0], [0, -1, 0], [0, 0, -1]]          # columns x, y, z: z points down
        knee_l, knee_r = (hip_l + foot_l) / 2, (hip_r + foot_r) / 2
        elb_l, elb_r = (sh_l + hand_l) / 2, (sh_r + hand_r) / 2
        kps[t] = [head + [0.1 * s, 0, 0], head + [0.08, -0.04, 0.03], head + [0.08, 0.04, 0.03], head + [0, -0.1, 0],
                  head + [0, 0.1, 0], sh_l, sh_r, elb_l, elb_r, hand_l, hand_r, hip_l, hip_r, knee_l, knee_r,
                  foot_l, foot_r]
    col = np.array([color] * 5 + [[0.8, 0.6, 0.5]] + ([[0.7, 0.2, 0.3]] if cones else []), np.float32)
    return Shapes(kind, center, end, axes, size, col, np.array([1, 1, 1, 1, 1, 2] + ([1] if cones else []), np.int8)), kps


def box_body(T: int, start, velocity, half=(2.2, 0.9, 0.75), yaw: float = 0.0, color=(0.7, 0.1, 0.1)) -> Shapes:
    center = np.array([np.asarray(start, float) + np.asarray(velocity, float) * t + [0, 0, half[2]] for t in range(T)])
    return Shapes(np.array([BOX], np.int8), center[:, None], center[:, None].copy(),
                  np.broadcast_to(rot_z(yaw), (T, 1, 3, 3)).copy(), np.broadcast_to(np.asarray(half, float), (T, 1, 3)).copy(),
                  np.array([color], np.float32), np.array([4], np.int8))


def random_world(seed: int, T: int = 4, width: int = 160, height: int = 120, n_people: int = 4, n_boxes: int = 2,
                 k1: float = 0.0, model: str = "pinhole", patterns: bool = False, cones: bool = False) -> World:
    """People and box vehicles scattered in front of an elevated camera, overlapping often; with
    `patterns`, every primitive of the people carries a random render/patterns.py surface pattern
    (all kinds, coarse enough to show at a small size)."""
    rng = np.random.default_rng(seed)
    cam = Camera.from_pose(width, height, position=(0, -12, rng.uniform(4, 9)), pan_deg=rng.uniform(-10, 10),
                           tilt_deg=rng.uniform(20, 40), roll_deg=rng.uniform(-3, 3), hfov_deg=rng.uniform(50, 80),
                           k1=k1, model=model)
    actors = []
    tid = 1
    for _ in range(n_people):
        sh, kp = stick_person(T, [rng.uniform(-6, 6), rng.uniform(-2, 10), 0], [rng.uniform(-0.3, 0.3), rng.uniform(-0.3, 0.3), 0],
                              height=rng.uniform(1.5, 2.0), color=tuple(rng.uniform(0.1, 0.9, 3)), cones=cones)
        actors.append(Actor(tid, "person", sh, np.zeros((T, 3)), np.zeros(T), np.ones(T, bool), kp, np.full(17, 0.1)))
        tid += 1
    for _ in range(n_boxes):
        sh = box_body(T, [rng.uniform(-6, 6), rng.uniform(0, 12), 0], [rng.uniform(-0.5, 0.5), 0, 0], yaw=rng.uniform(0, np.pi),
                      color=tuple(rng.uniform(0.1, 0.9, 3)))
        actors.append(Actor(tid, "car", sh, np.zeros((T, 3)), np.zeros(T), np.ones(T, bool)))
        tid += 1
    for a in actors:
        ref, _ = a.shapes.bounding_spheres()
        a.position = ref.mean(1) * [1, 1, 0]
    if patterns:
        prng = np.random.default_rng([seed, 18])
        for a in actors[:n_people]:
            P = a.shapes.num_shapes
            a.shapes.pattern = prng.integers(1, len(PATTERNS), P).astype(np.int8)
            a.shapes.pattern_color = prng.uniform(0.0, 1.0, (P, 3)).astype(np.float32)
            a.shapes.pattern_scale = prng.uniform(0.08, 0.3, P).astype(np.float32)
            a.shapes.pattern_seed = prng.integers(0, 2**24, P).astype(np.int32)
    static = Shapes(np.array([CAPSULE, BOX], np.int8), np.array([[[3, 6, 0], [-4, 14, 1.5]]], float),
                    np.array([[[3, 6, 5], [0, 0, 0]]], float), np.broadcast_to(np.eye(3), (1, 2, 3, 3)).copy(),
                    np.array([[[0.15, 0, 0], [3, 0.2, 1.5]]]), np.array([[0.5, 0.5, 0.5], [0.6, 0.55, 0.5]], np.float32),
                    np.array([10, 10], np.int8))
    ground = Ground(paint=[GroundPaint("line", np.array([[-5.0, 0], [-5, 15]]), (0.9, 0.9, 0.9))])
    return World(T, 10.0, cam, static, ground, Lighting(), actors, texture_seed=seed, noise_seed=seed + 1)


def lit_vehicle(T: int, start, velocity, yaw: float = 0.0, color=(0.6, 0.6, 0.62)) -> Shapes:
    """A box car with two head lights (front, +x in its frame) and two tail lights of material
    "light" (index 12), driving with `velocity`; heading = yaw."""
    body = box_body(T, start, velocity, yaw=yaw, color=color)
    R = rot_z(yaw)
    parts = [body]
    for fx, col in ((2.22, (1.0, 0.97, 0.85)), (-2.22, (0.75, 0.04, 0.03))):
        for side in (-0.6, 0.6):
            c = body.center[:, 0] + (R @ np.array([fx, side, -0.1]))
            parts.append(Shapes(np.array([BOX], np.int8), c[:, None], c[:, None].copy(),
                                np.broadcast_to(R, (T, 1, 3, 3)).copy(), np.broadcast_to([0.03, 0.15, 0.06], (T, 1, 3)).copy(),
                                np.array([col], np.float32), np.array([12], np.int8)))
    return Shapes.concat(parts)
