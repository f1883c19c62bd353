"""Camera shake, PTZ patrols and rolling-shutter shear as per-frame camera parameters (numpy).

Effects that move pixels move the geometry: `apply_camera_motion` turns a camera into one with
per-frame R, fx, fy and skew arrays (length T), so the renderer and every label (visible boxes,
masks, amodal boxes, keypoints) see the same moved camera. The camera centre never moves (a PTZ
head and a swaying pole mount both rotate about the camera).

Angles are degrees: pan turns towards +x, tilt is downward pitch, roll about the optical axis
(world/geometry/camera.py). Frames are 0-based, time t = frame / fps seconds.

Rolling shutter is modelled for camera rotation, where CCTV shows it most (shake "jello", fast
PTZ slews): row v is read `readout * (v - cy) / H` seconds after the centre row, so a pan at
w rad/s shears the image (skew = -fx w readout fy' / H) and a tilt scales it vertically
(fy' = fy / (1 + fy w_tilt readout / H)). Moving objects are not sheared (a known limitation).
"""
from __future__ import annotations

import numpy as np

from synthdata.world.appearance import Appearance
from synthdata.world.geometry.camera import Camera, look_rotation


def pose_angles(R: np.ndarray) -> tuple[float, float, float]:
    """Pan, tilt, roll (degrees) of a world-to-camera rotation made by `look_rotation`."""
    fwd = R[2]
    tilt = -np.degrees(np.arcsin(np.clip(fwd[2], -1, 1)))
    pan = np.degrees(np.arctan2(fwd[0], fwd[1]))
    p = np.radians(pan)
    right = np.array([np.cos(p), -np.sin(p), 0.0])
    down = np.cross(fwd, right)
    roll = np.degrees(np.arctan2(R[0] @ down, R[0] @ right))
    return float(pan), float(tilt), float(roll)


def shake_angles(num_frames: int, fps: float, amplitude_deg: float, frequency_hz: float, seed: int) -> np.ndarray:
    """(T, 3) pan/tilt/roll offsets of a camera shaking on its mount: a sum of sinusoids around
    `frequency_hz` with seeded phases, peak close to `amplitude_deg` (roll a third of it)."""
    t = np.arange(num_frames) / fps
    out = np.zeros((num_frames, 3))
    if amplitude_deg <= 0:
        return out
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x5AE]))
    for axis, scale in enumerate((1.0, 0.8, 0.3)):
        freqs = frequency_hz * rng.uniform(0.5, 1.8, 4)
        phases = rng.uniform(0, 2 * np.pi, 4)
        weights = rng.uniform(0.5, 1.0, 4)
        wave = (weights[:, None] * np.sin(2 * np.pi * freqs[:, None] * t + phases[:, None])).sum(0)
        out[:, axis] = amplitude_deg * scale * wave / weights.sum() * 2.0
    return out


def ptz_schedule(num_frames: int, fps: float, patrol: list[list[float]], dwell_s: float, speed_deg_s: float,
                 phase_s: float = 0.0) -> np.ndarray:
    """(T, 3) pan offset, tilt offset (degrees) and zoom factor of a patrol that dwells `dwell_s`
    at each preset [pan, tilt, zoom] in turn, then slews to the next at `speed_deg_s` (eased
    start and stop, zoom changing geometrically). The clip starts `phase_s` into the cycle."""
    P = np.asarray(patrol, float).reshape(-1, 3)
    nxt = np.roll(P, -1, axis=0)
    move = np.maximum(np.abs(nxt[:, :2] - P[:, :2]).max(1) / max(speed_deg_s, 1e-6), 0.2)
    seg = np.stack([np.full(len(P), float(dwell_s)), move], 1).reshape(-1)       # dwell, move, dwell, ...
    edges = np.concatenate([[0.0], np.cumsum(seg)])
    cycle = edges[-1]
    t = (np.arange(num_frames) / fps + phase_s) % cycle
    k = np.clip(np.searchsorted(edges, t, side="right") - 1, 0, len(seg) - 1)
    i = k // 2
    u = np.where(k % 2 == 1, (t - edges[k]) / seg[k], 0.0)
    u = u * u * (3 - 2 * u)
    a, b = P[i], nxt[i]
    out = a + (b - a) * u[:, None]
    out[:, 2] = np.exp(np.log(a[:, 2]) + (np.log(b[:, 2]) - np.log(a[:, 2])) * u)
    return out


def rolling_shutter(fx: np.ndarray, fy: np.ndarray, pan_deg: np.ndarray, tilt_deg: np.ndarray, fps: float,
                    readout_s: float, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame skew (pixels) and effective fy of a rolling-shutter read-out during rotation."""
    if readout_s <= 0 or len(pan_deg) < 2:
        return np.zeros_like(fx), fy.copy()
    w_pan = np.gradient(np.radians(pan_deg)) * fps
    w_tilt = np.gradient(np.radians(tilt_deg)) * fps
    fy_eff = fy / (1.0 + fy * w_tilt * readout_s / height)
    skew = -fx * w_pan * readout_s * fy_eff / height
    return skew, fy_eff


def camera_motion_active(appearance: Appearance) -> bool:
    m = appearance.mount
    return bool(m.shake_deg > 0 or m.ptz or appearance.sensor.rolling_shutter_ms > 0)


def apply_camera_motion(camera: Camera, appearance: Appearance, num_frames: int, fps: float) -> Camera:
    """The camera moved by the clip's shake / PTZ settings (Appearance.mount) and its rolling
    shutter (Appearance.sensor.rolling_shutter_ms; shake noise seeded by Appearance.sensor.seed).
    Returns `camera` itself when none is on."""
    if not camera_motion_active(appearance) or num_frames < 1:
        return camera
    m = appearance.mount
    T = num_frames
    pan0, tilt0, roll0 = pose_angles(camera.R[0])
    angles = np.tile([pan0, tilt0, roll0], (T, 1))
    zoom = np.ones(T)
    if m.ptz and m.ptz_patrol:
        sched = ptz_schedule(T, fps, m.ptz_patrol, float(m.ptz_dwell_s), float(m.ptz_speed_deg_s),
                             float(m.ptz_phase_s))
        angles[:, :2] += sched[:, :2]
        zoom = sched[:, 2]
    angles += shake_angles(T, fps, float(m.shake_deg), float(m.shake_hz), int(appearance.sensor.seed or 0))
    R = np.stack([look_rotation(p, t, r) for p, t, r in angles])
    fx = np.broadcast_to(camera.fx[:1], (T,)) * zoom
    fy = np.broadcast_to(camera.fy[:1], (T,)) * zoom
    skew, fy = rolling_shutter(fx, fy, angles[:, 0], angles[:, 1], fps,
                               float(appearance.sensor.rolling_shutter_ms) / 1000.0, camera.height)
    C = np.broadcast_to(camera.C[:1], (T, 3)).copy()
    return Camera(camera.width, camera.height, fx.copy(), fy.copy(), camera.cx, camera.cy, R, C,
                  camera.k1, camera.k2, camera.model, skew if np.any(skew) else None)
