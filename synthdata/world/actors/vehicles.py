"""Vehicles as rigid bodies of boxes, ellipsoids and capsules (body frame: x forward, y left,
z up, origin on the ground at the centre of the footprint), placed per frame along their track.

Four-wheelers: body, glass greenhouse, roof, bumpers, wheels (ellipsoids flattened along the
axle, with a rim-and-spokes pattern over the tyre), head/tail lights of material "light", number
plates with seven glyphs as a pattern (render/patterns.py RIM, PLATE). Two-wheelers: wheels, frame, seat,
handlebar; their rider is a separate person actor seated on the `Mount`.
"""
from __future__ import annotations

import zlib

import numpy as np

from synthdata.world.actors.bodies import ANKLE_Z, Mount
from synthdata.world.actors.motion import TrackState
from synthdata.world.geometry.shapes import ShapeBuilder, hex_to_linear, place
from synthdata.world.spec import VehicleParams
from synthdata.world.types import Actor, Shapes

# kind -> subtype -> (length, width, height, wheel radius) ranges are sampled in sample.py;
# these are typical values, used for two-wheeler geometry and documentation.
TWO_WHEELERS = ("bicycle", "motorcycle")
RUBBER = (0.025, 0.025, 0.027)
TRIM = (0.04, 0.04, 0.045)
HEAD = (1.0, 0.97, 0.85)
TAIL = (0.75, 0.04, 0.03)
RIM, PLATE = 13, 14                     # render/patterns.py pattern kinds (world/ names them by number)
ALLOY = (0.42, 0.42, 0.44)              # rim and spokes
INK = (0.015, 0.015, 0.02)              # plate glyphs and border
PLATE_HALF = (0.01, 0.26, 0.06)


def detail_seed(v: VehicleParams) -> int:
    """A seed for one vehicle's rims and plate text, from its drawn parameters."""
    return zlib.crc32(f"{v.track_id}:{v.color}:{v.length_m:.9f}:{v.width_m:.9f}".encode()) & 0x7FFFFFF


def _four_wheeler(v: VehicleParams) -> Shapes:
    L, W, H, rw = v.length_m, v.width_m, v.height_m, v.wheel_radius_m
    paint = hex_to_linear(v.color)
    glass = (0.04, 0.05, 0.06)
    b = ShapeBuilder(1)
    c = 0.16 if v.kind == "car" else 0.3           # ground clearance (bottom of the body)
    if v.kind == "bus":
        b.box([0, 0, (c + 1.15) / 2], [L / 2, W / 2, (1.15 - c) / 2], paint, "paint")
        b.box([0, 0, 1.85], [L / 2 + 0.01, W / 2 + 0.01, 0.68], glass, "glass")
        b.box([0, 0, (2.55 + H) / 2], [L / 2, W / 2, (H - 2.55) / 2], paint, "paint")
        axles = [L / 2 - 2.6, -L / 2 + 3.0]
        light_z = 0.75
    elif v.kind == "truck":
        cab_l = 2.3
        cab_h = min(H, 2.9)
        xc = L / 2 - cab_l / 2
        b.box([xc, 0, (c + cab_h) / 2], [cab_l / 2, W / 2, (cab_h - c) / 2], paint, "paint")
        b.box([L / 2 - 0.05, 0, cab_h * 0.72], [0.06, W / 2 - 0.1, cab_h * 0.16], glass, "glass")
        for s in (1, -1):
            b.box([xc + 0.25, s * (W / 2 + 0.005), cab_h * 0.72], [0.55, 0.01, cab_h * 0.14], glass, "glass")
        cargo = hex_to_linear("#d8d8d4") if v.subtype == "box" else paint
        box_l = L - cab_l - 0.2
        b.box([-L / 2 + box_l / 2, 0, (c + 0.3 + H) / 2], [box_l / 2, W / 2 + 0.02, (H - c - 0.3) / 2], cargo, "paint")
        axles = [L / 2 - 1.3, -L / 2 + 1.6, -L / 2 + 2.9]
        light_z = 0.8
    elif v.kind == "van":
        nose = 0.9
        b.box([-nose / 2, 0, (c + H) / 2], [(L - nose) / 2, W / 2, (H - c) / 2], paint, "paint")
        b.box([L / 2 - nose / 2, 0, (c + 0.95) / 2], [nose / 2, W / 2 - 0.02, (0.95 - c) / 2], paint, "paint")
        wz = (0.95 + H - 0.15) / 2
        b.box([L / 2 - nose - 0.02, 0, wz], [0.04, W / 2 - 0.08, (H - 1.1) / 2], glass, "glass")
        for s in (1, -1):
            b.box([L / 2 - nose - 0.6, s * (W / 2 + 0.005), wz], [0.55, 0.01, (H - 1.2) / 2], glass, "glass")
        axles = [L / 2 - 0.85, -L / 2 + 1.0]
        light_z = 0.8
    else:   # car: sedan | hatchback | suv | estate
        belt = c + 0.5 * (H - c)
        roof_t = 0.07
        g_len = {"sedan": 0.47, "hatchback": 0.55, "suv": 0.58, "estate": 0.62}.get(v.subtype, 0.5) * L
        g_off = {"sedan": -0.04, "hatchback": -0.12, "suv": -0.08, "estate": -0.1}.get(v.subtype, -0.05) * L
        b.box([0, 0, (c + belt) / 2], [L / 2 - 0.08, W / 2, (belt - c) / 2], paint, "paint")
        b.box([g_off, 0, (belt + H - roof_t) / 2], [g_len / 2, W / 2 - 0.1, (H - roof_t - belt) / 2], glass, "glass")
        b.box([g_off - 0.05, 0, H - roof_t / 2], [g_len / 2 - 0.18, W / 2 - 0.16, roof_t / 2], paint, "paint")
        for s in (1, -1):      # mirrors
            b.box([g_off + g_len / 2 - 0.1, s * (W / 2 + 0.04), belt + 0.08], [0.06, 0.05, 0.05], paint, "paint")
        for x in (L / 2 - 0.06, -L / 2 + 0.06):
            b.box([x, 0, c + 0.17], [0.07, W / 2 - 0.04, 0.14], TRIM, "default")
        axles = [L / 2 - 0.19 * L, -L / 2 + 0.2 * L]
        light_z = belt - 0.1
    seed = detail_seed(v)
    for x in axles:
        for s in (1, -1):
            b.ellipsoid([x, s * (W / 2 - 0.08), rw], [rw, 0.11, rw], RUBBER, "rubber")
            b.pattern_last(RIM, ALLOY, rw, seed)
    for s in (1, -1):
        b.box([L / 2 + 0.005, s * (W / 2 - 0.22), light_z], [0.02, 0.14, 0.05], HEAD, "light")
        b.box([-L / 2 - 0.005, s * (W / 2 - 0.18), light_z], [0.02, 0.12, 0.06], TAIL, "light")
    for x, yaw in ((L / 2 + 0.01, 0.0), (-L / 2 - 0.01, np.pi)):    # the rear plate turned to read from behind
        b.yawed_box([x, 0, light_z - 0.25], PLATE_HALF, yaw, (0.8, 0.8, 0.75), "retroreflective")
        b.pattern_last(PLATE, INK, PLATE_HALF[1], seed)
    return b.build()


def _two_wheeler(v: VehicleParams) -> Shapes:
    L, rw, seat = v.length_m, v.wheel_radius_m, v.seat_height_m
    paint = hex_to_linear(v.color)
    b = ShapeBuilder(1)
    xf, xr = L / 2 - rw, -L / 2 + rw
    if v.kind == "bicycle":
        for x in (xf, xr):
            b.ellipsoid([x, 0, rw], [rw, 0.02, rw], RUBBER, "rubber")
        crank = np.array([0.02, 0, 0.3])
        saddle = np.array([-0.14, 0, seat - 0.04])
        head = np.array([xf - 0.12, 0, seat - 0.02])
        for a, e in ((crank, saddle), (saddle, head), (crank, head), (crank, [xr, 0, rw]), (saddle, [xr, 0, rw]),
                     (head, [xf, 0, rw])):
            b.capsule(a, e, 0.018, paint, "metal")
        b.ellipsoid(saddle + [0, 0, 0.04], [0.13, 0.07, 0.03], TRIM, "default")
        bar = head + [0.05, 0, 0.08]
        b.capsule(head, bar, 0.015, paint, "metal")
        b.capsule(bar + [0, 0.28, 0], bar - [0, 0.28, 0], 0.013, TRIM, "metal")
        b.box([-0.01, 0, 0.3], [0.09, 0.02, 0.09], TRIM, "metal")
    else:
        for x in (xf, xr):
            b.ellipsoid([x, 0, rw], [rw, 0.07, rw], RUBBER, "rubber")
            b.pattern_last(RIM, ALLOY, rw, detail_seed(v))
        b.ellipsoid([0.05, 0, 0.55], [0.5, 0.2, 0.22], paint, "paint")                 # tank + engine
        b.box([-0.12, 0, 0.4], [0.25, 0.14, 0.12], (0.12, 0.12, 0.12), "metal")     # engine block
        b.box([-0.35, 0, seat - 0.05], [0.35, 0.14, 0.05], TRIM, "default")         # seat
        b.box([-0.72, 0, seat - 0.12], [0.18, 0.11, 0.06], paint, "paint")          # tail
        b.capsule([xf, 0, rw], [L / 2 - 0.55, 0, 1.0], 0.035, (0.3, 0.3, 0.32), "metal")  # fork
        b.capsule([L / 2 - 0.5, 0.34, 1.02], [L / 2 - 0.5, -0.34, 1.02], 0.02, TRIM, "metal")
        b.capsule([-0.3, -0.2, 0.3], [-0.85, -0.2, 0.38], 0.045, (0.45, 0.45, 0.47), "metal")    # exhaust
        b.box([L / 2 - 0.42, 0, 0.9], [0.05, 0.09, 0.07], HEAD, "light")
        b.box([-L / 2 + 0.05, 0, seat - 0.1], [0.03, 0.07, 0.035], TAIL, "light")
    return b.build()


def vehicle_local_shapes(v: VehicleParams) -> Shapes:
    return _two_wheeler(v) if v.kind in TWO_WHEELERS else _four_wheeler(v)


def vehicle_actor(v: VehicleParams, state: TrackState) -> Actor:
    T = len(state.yaw)
    pos = np.concatenate([state.xy, np.zeros((T, 1))], 1)
    shapes = place(vehicle_local_shapes(v), pos, state.yaw)
    attrs = {"subtype": v.subtype, "color": v.color, "length_m": round(v.length_m, 3),
             "width_m": round(v.width_m, 3), "height_m": round(v.height_m, 3), "behavior": v.behavior,
             "speed_mps": round(v.speed_mps, 3), "enters": bool(v.enters)}
    if v.rider_track_id is not None:
        attrs["rider_track_id"] = v.rider_track_id
    return Actor(v.track_id, v.kind, shapes, pos, state.yaw.copy(), state.present.copy(), attributes=attrs)


def rider_mount(v: VehicleParams, state: TrackState, rider_height: float) -> Mount:
    """Seat, grips and (pedalling) feet for a rider of this two-wheeler, in its body frame."""
    L, rw = v.length_m, v.wheel_radius_m
    T = len(state.yaw)
    ankle = ANKLE_Z * rider_height
    if v.kind == "bicycle":
        seat = np.array([-0.14, 0.0, v.seat_height_m])
        head = np.array([L / 2 - rw - 0.12, 0, v.seat_height_m - 0.02]) + [0.05, 0, 0.08]
        grips = np.array([head + [0, 0.25, 0], head - [0, 0.25, 0]])
        crank_phase = state.dist / (2 * np.pi * rw) * 2 * np.pi / 2.6      # gear ratio ~2.6
        ang = crank_phase[:, None] + np.array([0.0, np.pi])
        feet = np.stack([0.02 + 0.17 * np.cos(ang), np.broadcast_to([0.12, -0.12], (T, 2)),
                         0.3 + 0.17 * np.sin(ang) + ankle], -1)
        lean = 0.42
    else:
        seat = np.array([-0.3, 0.0, v.seat_height_m])
        grips = np.array([[L / 2 - 0.55, 0.3, 1.02], [L / 2 - 0.55, -0.3, 1.02]])
        feet = np.broadcast_to(np.array([[0.0, 0.22, 0.32 + ankle], [0.0, -0.22, 0.32 + ankle]]), (T, 2, 3)).copy()
        lean = 0.3
    return Mount(seat, grips, feet, lean)
