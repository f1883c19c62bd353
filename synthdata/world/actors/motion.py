"""Where an actor is in each frame: timed ground paths (Track) -> per-frame states.

The same function serves `sample` (to check plans for collisions) and `simulate` (to build the
World), so what was checked is exactly what is rendered. Frames are 0-based, frame f is at time
f / fps seconds.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthdata.world.spec import Track

MOVING_MPS = 0.05


@dataclass
class TrackState:
    """Per-frame ground state (T frames): xy (T, 2) m, yaw (T,) rad, speed (T,) m/s,
    dist (T,) metres travelled since the first key, present (T,) bool."""

    xy: np.ndarray
    yaw: np.ndarray
    speed: np.ndarray
    dist: np.ndarray
    present: np.ndarray


def frame_times(num_frames: int, fps: float) -> np.ndarray:
    return np.arange(num_frames) / float(fps)


def track_state(track: Track, times: np.ndarray, smooth_s: float = 0.5) -> TrackState:
    """Evaluate a Track at `times`; headings follow the motion, turning over about `smooth_s`."""
    t = np.asarray(track.t, float)
    xy = np.asarray(track.xy, float).reshape(-1, 2)
    yaw_keys = np.asarray(track.yaw, float)
    pos = np.stack([np.interp(times, t, xy[:, 0]), np.interp(times, t, xy[:, 1])], -1)
    seg_len = np.linalg.norm(np.diff(xy, axis=0), axis=1)
    cum = np.concatenate([[0.0], np.cumsum(seg_len)])
    dist = np.interp(times, t, cum)
    if len(t) >= 2:
        seg = np.clip(np.searchsorted(t, times, side="right") - 1, 0, len(t) - 2)
        dt = t[seg + 1] - t[seg]
        inside = (times >= t[0]) & (times < t[-1]) & (dt > 0)
        vel = np.where(inside[:, None], (xy[seg + 1] - xy[seg]) / np.where(dt > 0, dt, 1.0)[:, None], 0.0)
        still_yaw = np.where(times < t[0], yaw_keys[0], np.where(times >= t[-1], yaw_keys[-1], yaw_keys[seg + 1]))
    else:
        vel = np.zeros((len(times), 2))
        still_yaw = np.full(len(times), yaw_keys[0])
    speed = np.linalg.norm(vel, axis=1)
    moving = speed > MOVING_MPS
    yaw = np.where(moving, np.arctan2(vel[:, 1], vel[:, 0]), still_yaw)
    present = times >= track.appear_s - 1e-9
    if track.vanish_s is not None:
        present &= times <= track.vanish_s + 1e-9
    return TrackState(pos, smooth_angle(yaw, times, smooth_s), speed, dist, present)


def smooth_angle(yaw: np.ndarray, times: np.ndarray, window_s: float) -> np.ndarray:
    """Box-filter an angle sequence (unwrapped, edge-padded) over about `window_s` seconds."""
    if len(yaw) < 2 or window_s <= 0:
        return yaw
    dt = float(times[1] - times[0]) if len(times) > 1 else 1.0
    n = int(round(window_s / dt)) | 1
    if n <= 1:
        return yaw
    u = np.unwrap(yaw)
    pad = np.pad(u, n // 2, mode="edge")
    return np.convolve(pad, np.ones(n) / n, mode="valid")


def timed_keys(points: np.ndarray, speeds: np.ndarray | float, start_s: float,
               dwell_s: np.ndarray | None = None) -> tuple[list[float], list[list[float]]]:
    """Key times and positions for moving along `points` at `speeds` (per segment), starting at
    start_s; dwell_s[k] > 0 pauses at point k (a repeated key)."""
    pts = np.asarray(points, float)
    n = len(pts)
    sp = np.broadcast_to(np.asarray(speeds, float), (max(n - 1, 0),))
    dwell = np.zeros(n) if dwell_s is None else np.asarray(dwell_s, float)
    ts, xs = [], []
    t = float(start_s)
    for k in range(n):
        if k > 0:
            t += float(np.linalg.norm(pts[k] - pts[k - 1]) / max(sp[k - 1], 1e-6))
        ts.append(t)
        xs.append([float(pts[k, 0]), float(pts[k, 1])])
        if dwell[k] > 0:
            t += float(dwell[k])
            ts.append(t)
            xs.append([float(pts[k, 0]), float(pts[k, 1])])
    return ts, xs


def arrival_yaws(xy: list[list[float]], first_yaw: float) -> list[float]:
    """Facing at each key: the direction of the last movement into it (first_yaw at the start)."""
    out, cur = [], float(first_yaw)
    for k in range(len(xy)):
        if k > 0:
            d = np.subtract(xy[k], xy[k - 1])
            if np.hypot(*d) > 1e-6:
                cur = float(np.arctan2(d[1], d[0]))
        out.append(cur)
    return out


def stride_length(height_m: float, speed: np.ndarray | float) -> np.ndarray:
    """Length of one gait cycle (two steps) in metres: grows with speed, longer when running."""
    v = np.asarray(speed, float)
    run = running_weight(v)
    return height_m * ((1 - run) * (0.45 + 0.3 * v) + run * (0.55 + 0.27 * v))


def running_weight(speed: np.ndarray | float) -> np.ndarray:
    """0 for a walk, 1 for a run, blended between 2.0 and 2.8 m/s."""
    return np.clip((np.asarray(speed, float) - 2.0) / 0.8, 0.0, 1.0)


def gait_phase(dist: np.ndarray, speed: np.ndarray, height_m: float, phase0: float) -> np.ndarray:
    """Gait phase in cycles, advanced by the distance covered over the stride length, so feet
    do not slide whatever the speed."""
    ds = np.diff(dist, prepend=dist[:1])
    return phase0 + np.cumsum(ds / np.maximum(stride_length(height_m, speed), 0.3))
