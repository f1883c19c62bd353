"""Enact the clip's security scripts on a simulated World, then label its events.

`enact(world, security)` is the last step of simulate (security = ClipSpec.security, the typed
scripts of world/security/params.py; None for clips without one): people fall and lie still, bags
are put down and picked up, the camera is knocked to a new pose (World.appearance.tampering),
zones are built (and painted) and finally `world.events = detect_events(...)` from the final
trajectories. Deterministic; no randomness.

Fall: the body rotates rigidly about the ground point under the pelvis (Actor.position), about
the horizontal axis across the direction of the fall, accelerating like a toppling body
(angle = 90 deg * u^2, u the fraction of the fall's duration), and is lifted by its own
thickness so it lies on the ground; shapes and keypoints move together.
Bag drop: the bag (built carried by its owner) is lowered to rest upright at rest_xy between
drop_s and rest_s, stays there (present even after its owner has left) and, when picked up,
rises between lift_s and held_s to hang from the picker's right wrist.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from synthdata.world.appearance import TamperEntry
from synthdata.world.geometry.shapes import yaw_axes
from synthdata.world.security.events import detect_events
from synthdata.world.security.params import BagDropScript, SecurityParams
from synthdata.world.security.zones import build_zones, zone_paint
from synthdata.world.types import BOX, CAPSULE, Actor, Shapes, World

RIGHT_WRIST = 10
BODY_THICKNESS = 0.07       # lift of a lying body, fraction of its height


def enact(world: World, security: SecurityParams | None) -> World:
    security = security or SecurityParams()
    for f in security.falls:
        fall(world.actor(f.track_id), world.fps, f.start_s, f.duration_s, f.direction)
    for d in security.bag_drops:
        drop_bag(world, d)
    tampering = world.appearance.tampering
    for t in tampering:
        if t.kind == "moved":
            move_camera(world, t)
    if security.acts is not None:
        world.info["scenario"] = ",".join(sorted({a.behavior for a in security.acts if a.track_ids}))
        world.info["tamper"] = ",".join(t.kind for t in tampering) or "none"
    world.zones = build_zones(security.zones)
    world.ground.paint.extend(zone_paint(world.zones))
    world.events = detect_events(world, security.events)
    return world


def _rotation(axis: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Rodrigues rotations (T, 3, 3) about a unit axis (3,) by angles (T,)."""
    K = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    s, c = np.sin(angle)[:, None, None], np.cos(angle)[:, None, None]
    return np.eye(3)[None] + s * K[None] + (1 - c) * (K @ K)[None]


def fall(actor: Actor, fps: float, start_s: float, duration_s: float, direction: str) -> None:
    """Topple the person forward/backward from start_s over duration_s, then lie still."""
    T = actor.num_frames
    t = np.arange(T) / fps
    u = np.clip((t - start_s) / max(duration_s, 1e-6), 0.0, 1.0)
    angle = 0.5 * np.pi * u * u
    k0 = int(np.clip(np.ceil(start_s * fps), 0, T - 1))
    yaw = float(actor.heading[k0])
    sign = 1.0 if direction == "forward" else -1.0
    f = sign * np.array([np.cos(yaw), np.sin(yaw), 0.0])
    axis = np.cross([0.0, 0.0, 1.0], f)
    R = _rotation(axis, angle)                                       # (T, 3, 3)
    H = float(actor.attributes.get("height_m", 1.7))
    lift = BODY_THICKNESS * H * np.sin(angle)
    pivot = actor.position.copy()
    pivot[:, 2] = 0.0

    def move(p: np.ndarray) -> np.ndarray:                          # (T, ..., 3)
        extra = p.ndim - 2
        Rr = R.reshape((T,) + (1,) * extra + (3, 3))
        pv = pivot.reshape((T,) + (1,) * extra + (3,))
        out = np.einsum("...ij,...j->...i", Rr, p - pv) + pv
        out[..., 2] += lift.reshape((T,) + (1,) * extra)
        return out

    sh = actor.shapes
    sh.center, sh.end = move(sh.center), move(sh.end)
    sh.axes = np.einsum("tij,tpjk->tpik", R, sh.axes)
    if actor.keypoints is not None:
        actor.keypoints = move(actor.keypoints)
    actor.attributes["fell"] = True


def _bag_size(sh: Shapes) -> tuple[float, float, float]:
    """(half width, height, height of primitive 0's centre above the bag's bottom): a box bag's
    from its half extents (d, w, h) / 2, a soft pack's (a frustum from its bottom, then a rounded
    top: world/actors/props.py) from its length and top."""
    if sh.kind[0] == BOX:
        half = sh.size[0, 0]
        return float(half[1]), float(2 * half[2]), float(half[2])
    return float(sh.size[0, 0, 0]), float(np.linalg.norm(sh.end[0, 0] - sh.center[0, 0]) + sh.size[0, 1, 2]), 0.0


def _body(sh: Shapes, base: np.ndarray, R: np.ndarray, centre: np.ndarray, end: np.ndarray, axes: np.ndarray) -> None:
    """A soft pack's primitives but straps (..., P) moved rigidly from frame 0 (its bottom and
    primitive 0's axes) to stand on `base` (..., 3) with axes R (..., 3, 3), into centre, end, axes."""
    o, R0 = sh.center[0, 0], sh.axes[0, 0]
    for i in range(sh.num_shapes):
        if sh.kind[i] != CAPSULE:
            centre[..., i, :] = base + np.einsum("...ij,j->...i", R, R0.T @ (sh.center[0, i] - o))
            end[..., i, :] = base + np.einsum("...ij,j->...i", R, R0.T @ (sh.end[0, i] - o))
            axes[..., i, :, :] = np.einsum("...ij,jk->...ik", R, R0.T @ sh.axes[0, i])


def _rest_pose(bag: Actor, xy: np.ndarray, yaw: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centre, end (P, 3) and axes (P, 3, 3) of the bag standing upright at xy: the box (or pack)
    on the ground, straps folded onto its top."""
    sh = bag.shapes
    half_w, height, lift = _bag_size(sh)
    ax = yaw_axes(yaw)
    top = np.array([xy[0], xy[1], height])
    centre = np.tile(top, (sh.num_shapes, 1))
    end = centre.copy()
    axes = np.broadcast_to(ax, (sh.num_shapes, 3, 3)).copy()
    if sh.kind[0] == BOX:
        centre[0] = [xy[0], xy[1], lift]
        end[0] = centre[0]
    else:
        _body(sh, np.array([xy[0], xy[1], 0.0]), ax, centre, end, axes)
    straps = [i for i in range(sh.num_shapes) if sh.kind[i] == CAPSULE]
    for n, i in enumerate(straps):
        off = ax[:, 1] * (0.5 * half_w) * (1 if n % 2 == 0 else -1)
        centre[i], end[i] = top - off * 0.6, top + off * 0.6
    return centre, end, axes


def _held_pose(bag: Actor, wrist: np.ndarray, yaw: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-frame pose (T, P, ...) of the bag hanging from a wrist (T, 3)."""
    sh = bag.shapes
    P = sh.num_shapes
    _, height, lift = _bag_size(sh)
    centre = np.repeat(wrist[:, None, :], P, axis=1)
    end = centre.copy()
    axes = np.repeat(yaw_axes(yaw)[:, None], P, axis=1)
    if sh.kind[0] == BOX:
        box = wrist - np.array([0.0, 0.0, 0.08 + lift])
        centre[:, 0], end[:, 0] = box, box
        top = box + np.array([0.0, 0.0, lift])
    else:
        bottom = wrist - np.array([0.0, 0.0, 0.08 + height])
        _body(sh, bottom, axes[:, 0], centre, end, axes)
        top = bottom + np.array([0.0, 0.0, height])
    for i in range(1, P):
        if sh.kind[i] == CAPSULE:
            centre[:, i] = top
    return centre, end, axes


def drop_bag(world: World, d: BagDropScript) -> None:
    bag = world.actor(d.bag_track_id)
    T, fps = world.num_frames, world.fps
    t = np.arange(T) / fps
    sh = bag.shapes
    center, end = sh.center.copy(), sh.end.copy()
    axes = sh.axes.copy()
    position, heading, present = bag.position.copy(), bag.heading.copy(), bag.present.copy()
    rest_xy = np.asarray(d.rest_xy, float)
    rc, re, ra = _rest_pose(bag, rest_xy, float(d.yaw))
    lift = _bag_size(sh)[2]            # primitive 0's centre above the bag's bottom
    rest_pos = np.array([rest_xy[0], rest_xy[1], 0.0])
    k_drop = int(np.clip(np.ceil(d.drop_s * fps - 1e-9), 0, T))
    lift_s = d.pickup.lift_s if d.pickup else np.inf
    held_s = d.pickup.held_s if d.pickup else np.inf
    held = None
    if d.pickup:
        picker = world.actor(d.pickup.by_track_id)
        held = _held_pose(bag, picker.keypoints[:, RIGHT_WRIST], picker.heading)
    src_c, src_e = center[min(k_drop, T - 1)].copy(), end[min(k_drop, T - 1)].copy()
    src_p = position[min(k_drop, T - 1)].copy()
    for k in range(k_drop, T):
        if t[k] < d.rest_s:                                       # being put down
            u = (t[k] - d.drop_s) / max(d.rest_s - d.drop_s, 1e-6)
            center[k], end[k] = src_c + (rc - src_c) * u, src_e + (re - src_e) * u
            axes[k], position[k] = ra, src_p + (rest_pos - src_p) * u
            present[k] = True
        elif t[k] < lift_s:                                          # resting on the ground
            center[k], end[k], axes[k], position[k] = rc, re, ra, rest_pos
            present[k] = True
        else:                                                        # lifted, then carried
            u = min((t[k] - lift_s) / max(held_s - lift_s, 1e-6), 1.0)
            hc, he, ha = held[0][k], held[1][k], held[2][k]
            center[k], end[k] = rc + (hc - rc) * u, re + (he - re) * u
            axes[k] = ha if u >= 0.5 else ra
            position[k] = rest_pos + (np.append(hc[0, :2], hc[0, 2] - lift) - rest_pos) * u
            present[k] = bool(world.actor(d.pickup.by_track_id).present[k])
        heading[k] = float(d.yaw)
    bag.shapes = dataclasses.replace(sh, center=center, end=end, axes=axes)
    bag.position, bag.heading, bag.present = position, heading, present
    bag.attributes["dropped"] = True


def move_camera(world: World, entry: TamperEntry) -> None:
    """Turn the camera by pan_deg / tilt_deg (about its own axes), eased over ramp_frames from
    start_frame, and keep it there: per-frame R so every label follows the moved view."""
    cam = world.camera
    T = world.num_frames
    f = np.arange(T)
    u = np.clip((f - entry.start_frame + 1) / max(entry.ramp_frames, 1), 0.0, 1.0)
    u = u * u * (3 - 2 * u)
    pan, tilt = np.radians(entry.pan_deg) * u, np.radians(entry.tilt_deg) * u
    cp, sp, ct, st = np.cos(pan), np.sin(pan), np.cos(tilt), np.sin(tilt)
    z, o = np.zeros(T), np.ones(T)
    Ry = np.stack([np.stack([cp, z, sp], -1), np.stack([z, o, z], -1), np.stack([-sp, z, cp], -1)], -2)
    Rx = np.stack([np.stack([o, z, z], -1), np.stack([z, ct, -st], -1), np.stack([z, st, ct], -1)], -2)
    R0 = np.broadcast_to(cam.R, (T, 3, 3)) if cam.R.shape[0] == 1 else cam.R
    grow = (lambda a: np.broadcast_to(a, (T,) + a.shape[1:]).copy() if a.shape[0] == 1 else a)   # noqa: E731
    fields = {"R": np.einsum("tij,tjk,tkl->til", Rx, Ry, R0), "C": grow(cam.C), "fx": grow(cam.fx),
              "fy": grow(cam.fy)}
    if getattr(cam, "skew", None) is not None:
        fields["skew"] = grow(cam.skew)
    world.camera = dataclasses.replace(cam, **fields)
