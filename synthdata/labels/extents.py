"""Geometry-derived label quantities: amodal boxes, truncation, in-view frames, keypoints.

All from world geometry and the camera model, never from pixels, so they are identical on every
device (DESIGN.md §4).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthdata.world.geometry.projection import screen_bounds, union_bounds
from synthdata.world.types import Actor, World


@dataclass
class TrackExtents:
    """Per actor (World order) and frame.

    box: (A, T, 4) amodal [x0, y0, x1, y1] in continuous pixels (may extend past the image)
    ok: (A, T) the box is known (no part behind the camera)
    in_view: (A, T) the actor is present and its amodal box overlaps the image: it gets a row
    truncation: (A, T) fraction of the amodal box area outside the image
    depth: (A, T) camera-axis depth of the actor's centre (metres)
    """

    box: np.ndarray
    ok: np.ndarray
    in_view: np.ndarray
    truncation: np.ndarray
    depth: np.ndarray
    parts: list[tuple[np.ndarray, np.ndarray]] | None = None   # per actor: primitive bounds (T, P, 4), ok (T, P)


def actor_centre(actor: Actor) -> np.ndarray:
    """(T, 3) mean of the primitives' bounding-sphere centres."""
    ref, _ = actor.shapes.bounding_spheres()
    return ref.mean(axis=1)


def track_extents(world: World, frames: np.ndarray | None = None) -> TrackExtents:
    """Extents of every actor in every frame or, with `frames` (indices), in those frames only
    (a preview): elsewhere boxes are unknown and no actor is in view."""
    A, T = len(world.actors), world.num_frames
    W, H = world.width, world.height
    box = np.full((A, T, 4), np.nan)
    ok = np.zeros((A, T), bool)
    depth = np.zeros((A, T))
    parts = []
    for i, a in enumerate(world.actors):
        if frames is None:
            b, k = screen_bounds(a.shapes, world.camera)
        else:
            some = screen_bounds(a.shapes, world.camera, frames)
            b, k = np.full((T,) + some[0].shape[1:], np.nan), np.zeros((T,) + some[1].shape[1:], bool)
            b[frames], k[frames] = some
        parts.append((b, k))
        ub, uk = union_bounds(b, k)
        box[i], ok[i] = ub, uk
        centre = actor_centre(a)
        depth[i] = world.camera.to_camera(centre[:, None, :])[:, 0, 2] if world.camera.num_frames in (1, T) else 0
    present = np.stack([np.asarray(a.present, bool) for a in world.actors]) if A else np.zeros((0, T), bool)
    box = np.where(ok[..., None] & np.isfinite(box), box, np.nan)
    bx = np.nan_to_num(box, nan=0.0)
    area = np.clip(bx[..., 2] - bx[..., 0], 0, None) * np.clip(bx[..., 3] - bx[..., 1], 0, None)
    iw = np.clip(np.minimum(bx[..., 2], W) - np.maximum(bx[..., 0], 0), 0, None)
    ih = np.clip(np.minimum(bx[..., 3], H) - np.maximum(bx[..., 1], 0), 0, None)
    inter = iw * ih
    in_view = present & ok & (inter > 0) & (depth > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        trunc = np.where(area > 0, 1.0 - inter / np.where(area > 0, area, 1), 1.0)
    return TrackExtents(box, ok, in_view, np.clip(trunc, 0, 1), depth, parts)


def project_keypoints(world: World, actor: Actor, start: int, stop: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Keypoints of frames [start, stop): uv (t, 17, 2), depth (t, 17), inside-image flag (t, 17)."""
    kp = actor.keypoints[start:stop]
    cam = world.camera.frames(start, stop)
    uv, z = cam.project(kp)
    W, H = world.width, world.height
    inside = (z > 1e-3) & np.isfinite(uv[..., 0]) & (uv[..., 0] >= 0) & (uv[..., 0] < W) & (uv[..., 1] >= 0) & (uv[..., 1] < H)
    return uv, z, inside
