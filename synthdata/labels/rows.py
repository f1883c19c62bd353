"""Table rows from a World and its rendered buffers, against the table contract (io/contract.py,
which io/ checks when it writes; tests/test_io_contract.py checks that every contract column is filled).

Pixel-derived columns (visible box, mask, visibility, keypoint flags) come from the very instance
and depth buffers that made the pixels; geometry-derived ones (amodal box, keypoint positions,
world position, truncation, depth) from labels/extents.py.

objects columns, one row per object per frame (rows sorted by frame, then track_id):
  clip_id, frame, track_id, category,
  x, y, w, h          visible box: pixel extent of the object's pixels in the instance buffer,
                      top-left origin, w = last column - first column + 1; None when hidden
  ax, ay, aw, ah      amodal box from geometry (may extend past the image)
  visibility          visible pixels / amodal in-image pixels (0 when hidden)
  truncation          fraction of the amodal box area outside the image
  depth               camera-axis depth of the object's centre, metres
  keypoints           [x, y, v] * 17 COCO order for people (v 0 outside the image, 1 occluded,
                      2 visible; x = y = 0 when v = 0), None otherwise
  mask                COCO RLE {"size": [H, W], "counts": str} of the visible pixels, None when hidden
  world_x, world_y, world_z, heading, visible_pixels, amodal_pixels
  action              what a person does in this frame (world/actors/actions.py: walk, run, stand, ride,
                      phone_call, carry_box, sit, ...), None for other objects
"""
from __future__ import annotations

import json
from typing import Any

import numpy as np
import torch
from numba import njit

from synthdata.labels.extents import TrackExtents, project_keypoints
from synthdata.labels.rle import encode_window
from synthdata.render.pixel import row_is
from synthdata.render.renderer import FrameBatch
from synthdata.world.types import World

KEYPOINT_MARGIN_M = 0.03   # depth tolerance on top of the body radius at a joint


def clip_row(world: World, clip_id: str, seed: int, params_json: str) -> dict[str, Any]:
    cam = world.camera
    row: dict[str, Any] = {"clip_id": clip_id, "width": world.width, "height": world.height, "fps": float(world.fps),
                           "num_frames": world.num_frames, "seed": int(seed), "params": params_json}
    row.update(cam.intrinsics(0))
    row.update(cam.extrinsics(0))
    row["camera_moves"] = not cam.is_static
    row["indoor"] = bool(world.indoor)
    row["time_of_day"] = world.lighting.time_of_day
    for k, v in world.info.items():
        if isinstance(v, (bool, int, float, str)):
            row.setdefault(k, v)
    for k, v in world.appearance.column_values().items():
        row.setdefault(k, v)
    return row


def track_rows(world: World, clip_id: str, ext: TrackExtents) -> list[dict[str, Any]]:
    rows = []
    for i, a in sorted(enumerate(world.actors), key=lambda p: p[1].track_id):
        frames = np.flatnonzero(ext.in_view[i])
        if not len(frames):
            continue
        attrs = {k: v for k, v in a.attributes.items()}
        rows.append({"clip_id": clip_id, "track_id": int(a.track_id), "category": a.category,
                     "first_frame": int(frames[0]), "last_frame": int(frames[-1]), "num_frames": int(len(frames)),
                     "subtype": str(attrs.get("subtype", a.category)),
                     "action": attrs.get("action") if a.category == "person" else None,
                     "attributes": json.dumps(attrs, sort_keys=True, separators=(",", ":"), default=_jsonable)})
    return rows


def event_rows(world: World, clip_id: str, view: World | None = None) -> list[dict[str, Any]]:
    """The World's events numbered 0.. (event_id); with `view` (one camera's World of a scene seen
    by several, World.camera_worlds), only the events that camera has, keeping the scene's ids."""
    evs = sorted(world.events, key=lambda e: (e.start_frame, e.type, e.track_id if e.track_id is not None else -1,
                                              e.end_frame, e.zone or ""))
    shown = None if view is None else {id(e) for e in view.events}
    rows = []
    for k, e in enumerate(evs):
        if shown is not None and id(e) not in shown:
            continue
        ids = list(e.track_ids) or ([e.track_id] if e.track_id is not None else [])
        rows.append({"clip_id": clip_id, "event_id": k, "type": e.type,
                     "track_id": None if e.track_id is None else int(e.track_id),
                     "track_ids": [int(x) for x in ids], "zone": e.zone,
                     "start_frame": int(e.start_frame), "end_frame": int(e.end_frame),
                     "attributes": json.dumps(e.attributes, sort_keys=True, separators=(",", ":"), default=_jsonable)})
    return rows


def _jsonable(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(type(o))


def visible_extents(instance: torch.Tensor, max_id: int) -> dict[str, np.ndarray]:
    """Per (frame, track id): pixel count and min/max row/column of the instance buffer (in one
    compiled pass on the CPU; by torch reductions on a GPU, where the buffer lives)."""
    T, H, W = instance.shape
    if instance.device.type == "cpu":
        count = np.zeros((T, max_id + 1), np.int64)
        lo = np.full((T, max_id + 1, 2), H + W + 1, np.int64)     # y0, x0
        hi = np.full((T, max_id + 1, 2), -1, np.int64)            # y1, x1
        _extents(instance.numpy(), count, lo, hi)
        return {"count": count, "x0": lo[..., 1], "x1": hi[..., 1], "y0": lo[..., 0], "y1": hi[..., 0]}
    return extents_by_torch(instance, max_id)


def extents_by_torch(instance: torch.Tensor, max_id: int) -> dict[str, np.ndarray]:
    """`visible_extents` by torch reductions (any device)."""
    T, H, W = instance.shape
    K = T * (max_id + 1)
    flat = instance.reshape(-1)
    idx = (flat > 0).nonzero().squeeze(1)
    tid = flat[idx].long()
    t = idx // (H * W)
    rem = idx - t * (H * W)
    y, x = rem // W, rem % W
    key = t * (max_id + 1) + tid
    big = H + W + 1
    dev = instance.device
    out = {
        "count": torch.bincount(key, minlength=K),
        "x0": torch.full((K,), big, dtype=torch.long, device=dev).scatter_reduce(0, key, x, "amin"),
        "x1": torch.full((K,), -1, dtype=torch.long, device=dev).scatter_reduce(0, key, x, "amax"),
        "y0": torch.full((K,), big, dtype=torch.long, device=dev).scatter_reduce(0, key, y, "amin"),
        "y1": torch.full((K,), -1, dtype=torch.long, device=dev).scatter_reduce(0, key, y, "amax"),
    }
    return {k: v.view(T, max_id + 1).cpu().numpy() for k, v in out.items()}


def label_chunk(world: World, batch: FrameBatch, clip_id: str, ext: TrackExtents, *, masks: bool = True
                ) -> dict[str, list]:
    """Object rows for the frames of `batch` (column -> values; no columns when there are no rows)."""
    cols: dict[str, list] = {}
    s0, s1 = batch.start, batch.stop
    if not world.actors:
        return {}
    max_id = max(a.track_id for a in world.actors)
    vis = visible_extents(batch.instance, max_id)
    amodal_px = batch.amodal_pixels.cpu().numpy()
    inst_np = batch.instance.cpu().numpy() if masks else None
    order = sorted(range(len(world.actors)), key=lambda i: world.actors[i].track_id)
    kp_cache = {}
    for i in order:
        a = world.actors[i]
        if a.keypoints is not None and ext.in_view[i, s0:s1].any():
            uv, z, inside = project_keypoints(world, a, s0, s1)
            flags = np.zeros(z.shape, np.int8)
            tt, jj = np.nonzero(inside)
            if len(tt):
                py = np.floor(uv[tt, jj, 1]).astype(np.int64)
                px = np.floor(uv[tt, jj, 0]).astype(np.int64)
                dev = batch.depth.device
                dbuf = batch.depth[torch.as_tensor(tt, device=dev), torch.as_tensor(py, device=dev),
                                   torch.as_tensor(px, device=dev)].cpu().numpy()
                margin = (a.keypoint_radius[jj] if a.keypoint_radius is not None else 0.05) + KEYPOINT_MARGIN_M
                flags[tt, jj] = np.where(dbuf >= z[tt, jj] - margin, 2, 1)
            kp_cache[i] = (uv, flags)
    # one row per (frame, actor in view), frames first, then track ids: gathered column by column
    ranked = np.asarray(order, np.int64)
    lt, rank = np.nonzero(ext.in_view[ranked, s0:s1].T)
    ii = ranked[rank]
    f = lt + s0
    n = len(ii)
    if not n:
        return {}
    tid = np.array([a.track_id for a in world.actors], np.int64)[ii]
    n_vis = vis["count"][lt, tid].astype(np.int64)
    n_am = amodal_px[ii, lt].astype(np.int64)
    seen = n_vis > 0
    x0, x1, y0, y1 = (vis[k][lt, tid].astype(np.int64) for k in ("x0", "x1", "y0", "y1"))
    b = ext.box[ii, f]
    cols["clip_id"] = [clip_id] * n
    cols["frame"] = f.tolist()
    cols["track_id"] = tid.tolist()
    cols["category"] = [world.actors[i].category for i in ii.tolist()]
    for c, v in (("x", x0), ("y", y0), ("w", x1 - x0 + 1), ("h", y1 - y0 + 1)):
        cols[c] = [float(q) if on else None for q, on in zip(v.tolist(), seen.tolist())]
    cols["mask"] = [encode_window(inst_np[t], k, a0, a1, b0, b1) if on and masks else None
                    for t, k, a0, a1, b0, b1, on in zip(lt.tolist(), tid.tolist(), x0.tolist(), x1.tolist(),
                                                          y0.tolist(), y1.tolist(), seen.tolist())]
    cols["ax"], cols["ay"] = b[:, 0].tolist(), b[:, 1].tolist()
    cols["aw"], cols["ah"] = (b[:, 2] - b[:, 0]).tolist(), (b[:, 3] - b[:, 1]).tolist()
    ratio = np.minimum(np.divide(n_vis, n_am, out=np.zeros(n), where=n_am > 0), 1.0)
    cols["visibility"] = np.where(n_am > 0, ratio, 0.0).tolist()
    cols["truncation"] = ext.truncation[ii, f].astype(float).tolist()
    cols["depth"] = ext.depth[ii, f].astype(float).tolist()
    points = {i: _keypoint_rows(*kp_cache[i]) for i in kp_cache}
    cols["keypoints"] = [points[i][t] if i in points else None for i, t in zip(ii.tolist(), lt.tolist())]
    pos = np.stack([np.asarray(world.actors[i].position)[s0:s1] for i in order])     # (A, T, 3), rank order
    heading = np.stack([np.asarray(world.actors[i].heading)[s0:s1] for i in order])
    p = pos[rank, lt].astype(float)
    cols["world_x"], cols["world_y"], cols["world_z"] = p[:, 0].tolist(), p[:, 1].tolist(), p[:, 2].tolist()
    cols["heading"] = heading[rank, lt].astype(float).tolist()
    cols["visible_pixels"], cols["amodal_pixels"] = n_vis.tolist(), n_am.tolist()
    cols["action"] = [str(world.actors[i].actions[t]) if world.actors[i].actions is not None else None
                      for i, t in zip(ii.tolist(), f.tolist())]
    return cols


def _keypoint_rows(uv: np.ndarray, flags: np.ndarray) -> list[list[float]]:
    """Per frame, a person's keypoints as the column holds them: [x, y, v] * 17, x = y = 0 where
    v = 0 (uv (T, 17, 2) pixels, flags (T, 17))."""
    xy = np.where((flags > 0)[..., None], uv, 0.0)
    return np.concatenate([xy, flags[..., None]], 2).reshape(len(flags), -1).astype(float).tolist()


@njit(cache=True, nogil=True)
def _extents(inst, count, lo, hi):
    """`visible_extents` of an instance buffer (T, H, W) on the CPU, row by row (a row of
    background alone skipped after a test that vectorises)."""
    T, H, W = inst.shape
    for t in range(T):
        for y in range(H):
            if row_is(inst, t, y, np.int32(0)):
                continue
            for x in range(W):
                k = inst[t, y, x]
                if k > 0:
                    count[t, k] += 1
                    if y < lo[t, k, 0]:
                        lo[t, k, 0] = y
                    if x < lo[t, k, 1]:
                        lo[t, k, 1] = x
                    if y > hi[t, k, 0]:
                        hi[t, k, 0] = y
                    if x > hi[t, k, 1]:
                        hi[t, k, 1] = x

