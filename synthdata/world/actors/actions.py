"""What people do besides walking: a registry of actions, each a pose change on the skeleton.

An action sets hand targets (reached by two-bone IK from the shoulders, so keypoints stay the
joints of the drawn body), a leg pose (sitting, crouching, shifting weight), a head pitch and
the room a person needs. Everything is in the body frame (x forward, y left, z up, metres).
`frame_actions` gives the per-frame `action` label of the objects table.

    ACTIONS["wave"].arms(p, pr, times, R, pelvis, neck1) -> {side: (target (T, 3), pole (3,))}

Adding an action = one `register(Action(...))`; world/actors/outfits.py samples from `ACTIONS` by the
person's behaviour, world/actors/props.py builds the props (box, pram, trolley, bench) it names.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from synthdata.world.actors.motion import TrackState, running_weight

LEFT, RIGHT = 0, 1


@dataclass
class Legs:
    """A leg pose: absolute pelvis height (T,) and ankle targets (T, 2, 3) without the hips'
    lateral offset (None: keep the gait's), plus additive pelvis drop, sway and lean (T,)."""

    pelvis_z: np.ndarray | None = None
    feet: np.ndarray | None = None
    dz: np.ndarray | float = 0.0
    sway: np.ndarray | float = 0.0
    lean: np.ndarray | float = 0.0
    pelvis_x: float = 0.0
    knee_pole: np.ndarray = field(default_factory=lambda: np.array([1.0, 0.0, 0.0]))


@dataclass(frozen=True)
class Action:
    name: str
    behaviours: tuple[str, ...]               # behaviours it goes with (world/actors/outfits.py)
    arms: Callable | None = None
    legs: Callable | None = None
    head_pitch: float = 0.0                   # rad, positive looks down
    footprint_m: float = 0.0                  # ground radius needed (0: the body's own)
    prop: str | None = None                   # world/actors/props.py style it carries or pushes
    hands: tuple[int, ...] = ()               # hands it occupies (a handbag goes to a free one)


ACTIONS: dict[str, Action] = {}


def register(a: Action) -> Action:
    ACTIONS[a.name] = a
    return a


def _torso(R: np.ndarray, pelvis: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """Points fixed to the (leaning) torso: pelvis + R @ offset, offset (T, 3) or (3,)."""
    return pelvis + np.einsum("tij,tj->ti", R, np.broadcast_to(offset, pelvis.shape))


def _phone_call(p, pr, times, R, pelvis, neck1):
    H = pr.H
    ear = neck1 + np.einsum("tij,j->ti", R, np.array([0.02 * H, -0.055 * H, 0.06 * H]))
    return {RIGHT: (ear, np.array([0.0, -1.0, -0.7]))}


def _phone_look(p, pr, times, R, pelvis, neck1):
    H = pr.H
    z = pr.chest_z - pr.hip_z - 0.04 * H
    return {s: (_torso(R, pelvis, np.array([0.17 * H, y * H, z])), np.array([0.0, y * 10, -1.0]))
            for s, y in ((LEFT, 0.035), (RIGHT, -0.035))}


def _wave(p, pr, times, R, pelvis, neck1):
    H = pr.H
    w = np.sin(2 * np.pi * 1.6 * times + p.sway_phase)
    off = np.stack([np.full_like(w, 0.06 * H), -0.17 * H - 0.05 * H * w, np.full_like(w, 0.2 * H)], -1)
    return {RIGHT: (neck1 + np.einsum("tij,tj->ti", R, off), np.array([0.2, -1.0, -0.3]))}


def _carry(p, pr, times, R, pelvis, neck1):
    H = pr.H
    z = pr.belly_z - pr.hip_z + 0.08 * H
    return {s: (_torso(R, pelvis, np.array([0.2 * H, y * H, z])), np.array([0.0, y * 6, -1.0]))
            for s, y in ((LEFT, 0.1), (RIGHT, -0.1))}


def _push(p, pr, times, R, pelvis, neck1):
    H = pr.H
    T = len(times)
    return {s: (pelvis + np.array([0.3 * H, y * H, 0.1 * H]) + np.zeros((T, 3)), np.array([-0.3, y * 5, -1.0]))
            for s, y in ((LEFT, 0.13), (RIGHT, -0.13))}


def seat_height(pr) -> float:
    return 0.45 * pr.H / 1.75 * min(1.0, pr.hip_z / (0.53 * pr.H))


def _sit(p, pr, times):
    T = len(times)
    seat = seat_height(pr)
    feet = np.zeros((T, 2, 3))
    feet[..., 0] = -0.05 * pr.H + pr.thigh * 0.9
    feet[..., 2] = pr.ankle_z
    return Legs(pelvis_z=np.full(T, seat + 0.05 * pr.H), feet=feet, lean=-0.05, pelvis_x=-0.05 * pr.H,
                knee_pole=np.array([1.0, 0.0, 0.4]))


def _crouch(p, pr, times):
    T = len(times)
    feet = np.zeros((T, 2, 3))
    feet[:, 0, 0], feet[:, 1, 0] = 0.1 * pr.H, -0.02 * pr.H
    feet[..., 2] = pr.ankle_z
    return Legs(pelvis_z=np.full(T, 0.3 * pr.H * p.leg_ratio), feet=feet, lean=0.5, pelvis_x=-0.06 * pr.H,
                knee_pole=np.array([1.0, 0.0, 0.3]))


def _weight_shift(p, pr, times):
    w = np.sin(2 * np.pi * times / 5.0 + p.sway_phase)
    return Legs(dz=-0.012 * pr.H * np.abs(w), sway=0.022 * pr.H * w)


register(Action("none", ("walk", "run", "stand", "loiter", "visit", "ride")))
register(Action("phone_call", ("walk", "stand", "loiter", "visit"), arms=_phone_call, hands=(RIGHT,)))
register(Action("phone_look", ("walk", "stand", "loiter", "visit"), arms=_phone_look, head_pitch=0.45, hands=(LEFT, RIGHT)))
register(Action("wave", ("stand", "walk", "visit"), arms=_wave, head_pitch=-0.05, hands=(RIGHT,)))
register(Action("carry_box", ("walk", "stand", "visit"), arms=_carry, prop="box", hands=(LEFT, RIGHT)))
register(Action("push_pram", ("walk",), arms=_push, prop="pram", footprint_m=0.95, hands=(LEFT, RIGHT)))
register(Action("push_trolley", ("walk",), arms=_push, prop="trolley", footprint_m=0.95, hands=(LEFT, RIGHT)))
register(Action("sit", ("stand",), legs=_sit, footprint_m=0.85, prop="bench"))
register(Action("crouch", ("stand",), legs=_crouch))
register(Action("weight_shift", ("stand",), legs=_weight_shift))
register(Action("walk_together", ("walk",), footprint_m=0.75))


def arms(p, pr, times, R, pelvis, neck1, lean) -> dict:
    a = ACTIONS[p.action]
    return a.arms(p, pr, times, R, pelvis, neck1) if a.arms is not None else {}


def legs(p, pr, times, still) -> Legs | None:
    a = ACTIONS[p.action]
    return a.legs(p, pr, times) if a.legs is not None else None


def head_pitch(p, T: int) -> float:
    return ACTIONS[p.action].head_pitch


FOOTPRINT_M = {name: a.footprint_m for name, a in ACTIONS.items()}


def frame_actions(p, state: TrackState, riding: bool) -> np.ndarray:
    """The objects table's `action` per frame: the person's action when it has one, else
    ride / run / walk / stand from the motion."""
    T = len(state.speed)
    if riding:
        return np.full(T, "ride", dtype=object)
    base = np.where(running_weight(state.speed) > 0.5, "run", np.where(state.speed > 0.2, "walk", "stand"))
    if p.action == "walk_together":
        return np.where(base == "stand", "stand", "walk_together").astype(object)
    if p.action != "none":
        return np.full(T, p.action, dtype=object)
    return base.astype(object)
