"""Things people carry or push, as their own labelled actors following the owner's hands:
backpacks and handbags (category "bag"), a carried box ("bag", style box), prams and shopping
trolleys ("cart"); and the bench a sitting person sits on (unlabelled static geometry)."""
from __future__ import annotations

import numpy as np

from synthdata.world.actors.clothing import CHEST_DEPTH
from synthdata.world.geometry.shapes import ShapeBuilder, hex_to_linear, yaw_axes
from synthdata.world.spec import BagParams, PersonParams
from synthdata.world.types import Actor, Shapes

SIDE = np.array([1.0, -1.0])
PACK_TOP = 0.18      # a backpack's rounded top: this share of its height
CATEGORY = {"backpack": "bag", "handbag": "bag", "box": "bag", "pram": "cart", "trolley": "cart"}


def _heading_axes(sk) -> np.ndarray:
    return yaw_axes(np.arctan2(sk.torso_axes[:, 1, 0], sk.torso_axes[:, 0, 0]))


def bag_actor(bag: BagParams, owner: PersonParams, sk, present: np.ndarray) -> Actor:
    """A carried or pushed object following its owner's body (world skeleton `sk`)."""
    w, d, h = bag.size_m
    H, g = owner.height_m, owner.build
    color = hex_to_linear(bag.color)
    T = len(present)
    b = ShapeBuilder(T)
    if bag.style == "backpack":
        ax = sk.torso_axes
        c = sk.chest + np.einsum("tij,j->ti", ax, np.array([-(CHEST_DEPTH * g * H + d / 2 + 0.005), 0, -0.02 * H]))
        up = ax[:, :, 2]
        # a soft pack, not a crate: an oval body narrowing a little upwards under a rounded top,
        # w wide, d deep and h tall in all; primitive 0's axes are the pack's own (security/enact.py)
        shoulder = c + (0.5 - PACK_TOP) * h * up
        b.frustum(c - 0.5 * h * up, shoulder, w / 2, 0.92 * w / 2, d / w, ax[:, :, 0], color, "cloth")
        b.ellipsoid(shoulder, [0.92 * d / 2, 0.92 * w / 2, PACK_TOP * h], color, "cloth", ax)
        for i in range(2):
            top = c + np.einsum("tij,j->ti", ax, np.array([0.3 * d, SIDE[i] * w * 0.3, 0.45 * h]))
            b.capsule(top, sk.shoulders[:, i] + np.einsum("tij,j->ti", ax, np.array([0.03 * H, 0, 0.025 * H])),
                      0.012, color, "cloth")
        bottom = c - np.einsum("tij,j->ti", ax, np.array([0, 0, h / 2]))
    elif bag.style == "handbag":
        i = 0 if bag.hand == "left" else 1
        ax = _heading_axes(sk)
        c = sk.hands[:, i] - np.array([0, 0, 0.06 + h / 2])
        b.box(c, [d / 2, w / 2, h / 2], color, "cloth", ax)
        b.capsule(c + np.array([0, 0, h / 2]), sk.hands[:, i], 0.01, color, "cloth")
        bottom = c - np.array([0, 0, h / 2])
    elif bag.style == "box":                        # held between both hands
        ax = _heading_axes(sk)
        grip = 0.5 * (sk.wrists[:, 0] + sk.wrists[:, 1])
        c = grip + np.einsum("tij,j->ti", ax, np.array([d / 2 - 0.03, 0, 0.0]))
        b.box(c, [d / 2, w / 2, h / 2], color, "default", ax)
        bottom = c - np.array([0, 0, h / 2])
    else:                                           # pram / trolley pushed ahead on wheels
        ax = _heading_axes(sk)
        grip = 0.5 * (sk.hands[:, 0] + sk.hands[:, 1])
        ground = grip.copy()
        ground[:, 2] = 0.0
        fwd = ax[:, :, 0]

        def at(x, y, z):
            return ground + np.einsum("tij,j->ti", ax, np.array([x, y, z]))
        wheel = 0.1
        body_z = 0.35 if bag.style == "trolley" else 0.55
        body_h = h - body_z
        b.capsule(sk.hands[:, 0], sk.hands[:, 1], 0.015, color, "metal" if bag.style == "trolley" else "cloth")
        b.capsule(grip - 0.01 * fwd, at(0.12, 0, body_z + body_h), 0.015, (0.2, 0.2, 0.2), "metal")
        mat = "metal" if bag.style == "trolley" else "cloth"
        b.box(at(0.12 + d / 2, 0, body_z + body_h / 2), [d / 2, w / 2, body_h / 2], color, mat, ax)
        if bag.style == "pram":                     # hood over the front half
            b.ellipsoid(at(0.12 + 0.7 * d, 0, body_z + body_h), [0.3 * d, w / 2, 0.22], color, "cloth", ax)
        for sx in (0.15, 0.1 + d):
            for sy in (-1, 1):
                c = at(sx, sy * (w / 2 - 0.03), wheel)
                b.capsule(c - 0.02 * ax[:, :, 1], c + 0.02 * ax[:, :, 1], wheel, (0.05, 0.05, 0.05), "rubber")
            b.capsule(at(sx, 0, wheel), at(sx, 0, body_z), 0.012, (0.25, 0.25, 0.25), "metal")
        bottom = ground
    yaw = np.arctan2(ax[:, 1, 0], ax[:, 0, 0])
    attrs = {"style": bag.style, "color": bag.color, "owner_track_id": bag.owner_track_id,
             "size_m": [round(x, 3) for x in bag.size_m], "subtype": bag.style}
    return Actor(bag.track_id, CATEGORY[bag.style], b.build(), bottom, yaw, present.copy(), attributes=attrs)


def bench(position: np.ndarray, yaw: float, seat_h: float, seed_color: str = "#6b4a2e") -> Shapes:
    """A bench under a sitting person: the seat behind the person's pelvis, a backrest (static)."""
    col = hex_to_linear(seed_color)
    R = yaw_axes(yaw)
    b = ShapeBuilder(1)

    def at(x, y, z):
        return np.asarray(position, float) + R @ np.array([x, y, z])
    b.box(at(-0.12, 0, seat_h - 0.03), [0.22, 0.75, 0.03], col, "wood", R)
    b.box(at(-0.33, 0, seat_h + 0.25), [0.02, 0.75, 0.17], col, "wood", R)
    for sy in (-0.65, 0.65):
        b.box(at(-0.15, sy, (seat_h - 0.06) / 2), [0.2, 0.03, (seat_h - 0.06) / 2], (0.15, 0.15, 0.15), "metal", R)
    return b.build()
