"""Collision-free plans for the actors of one clip (used by sample.py; random choices come
from the rng passed in).

Actors are planned one after another; each candidate Track is evaluated with exactly the
function simulate uses (motion.track_state) and accepted only if, in every frame where both
exist, its ground footprint keeps clear of every accepted actor's. A conflicting candidate is
retried with a later start (waiting / entering later), then with a new route; a walking
person then with waits on the way (walks.py); an actor with no conflict-free plan is dropped and
counted in ClipSpec.dropped_actors. People's walks and visits are in walks.py and visits.py.
Static obstacles are kept clear by construction: people route on a NavGrid, vehicles follow
lanes and bays, which layouts keep free of obstacles.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from synthdata.world.actors.motion import arrival_yaws, timed_keys, track_state
from synthdata.world.geometry.camera import Camera
from synthdata.world.geometry.shapes import Footprints, bezier, polyline_length, resample_polyline
from synthdata.world.layouts.base import Bay, Layout
from synthdata.world.planning.navigation import NavGrid, box_corners, image_extent, view_masks
from synthdata.world.spec import Track

PERSON_TURN_S, VEHICLE_TURN_S = 0.5, 0.3
MARGIN = 0.1                     # extra gap kept between two footprints (m)
NAV_CLEARANCE = 0.45             # people's grid is built with this clearance from obstacles
DELAYS = (0.0, 0.7, 1.4, 2.1, 2.8, 3.5)      # later starts tried when a plan meets someone (s)
LATE_ENTRY = (4.2, 4.9, 5.6, 6.3, 7.0)             # ... and these too for one coming into view
ENTER_DELAYS = DELAYS + LATE_ENTRY
MIN_PRESENT = 10                 # frames an actor must exist in the clip
ENTRY_REACH_M = (1.0, 1.5, 2.0, 2.5, 3.0)   # people come in from unseen ground this near a layout's entry
SAMPLING_MARGIN = 0.05           # paths are checked every 0.15 m: keep this much more clearance


@dataclass
class Occupant:
    """Footprint of an accepted actor per frame: disc centres (T, K, 2), radii (K,), present (T,)."""

    centers: np.ndarray
    radii: np.ndarray
    present: np.ndarray


def vehicle_discs(length: float, width: float) -> tuple[np.ndarray, np.ndarray]:
    """Discs along the body axis whose union covers a length x width rectangle."""
    n = int(np.ceil(length / width)) + 1
    offs = -length / 2 + length / (2 * n) + np.arange(n) * length / n
    return offs, np.full(n, np.hypot(length / (2 * n), width / 2))


def shift(track: Track, dt: float, keep_appear: bool = False) -> Track:
    return Track([t + dt for t in track.t], track.xy, track.yaw,
                 track.appear_s if keep_appear else track.appear_s + dt,
                 None if track.vanish_s is None else track.vanish_s + dt)


class Planner:
    def __init__(self, layout: Layout, camera: Camera | Sequence[Camera], times: np.ndarray,
                 rng: np.random.Generator):
        """`camera`: the clip's camera, or all its cameras (several views of one scene): "seen"
        then means seen by any of them, "hidden" hidden from all."""
        cams = list(camera) if isinstance(camera, (list, tuple)) else [camera]
        self.layout, self.cam, self.times, self.rng = layout, cams if len(cams) > 1 else cams[0], times, rng
        self.duration = float(times[-1] + (times[1] - times[0] if len(times) > 1 else 0.1))
        bounds = layout.nav_bounds
        self.nav = NavGrid(bounds, layout.walkable, layout.obstacles, NAV_CLEARANCE, layout.nav_cell_m,
                           keep_out=layout.keep_out)
        self.visible, self.hidden = np.zeros(self.nav.free.shape, bool), self.nav.free.copy()
        self.weight, legs = np.zeros(self.nav.free.shape), np.zeros(self.nav.free.shape, bool)
        for cam in cams:
            _, hid, tall = view_masks(cam, self.nav.centers, 2.3, 0.45)   # a tall person, arms out
            leg, _, _ = view_masks(cam, self.nav.centers, 1.2, 0.3)       # in view up to the hips at least
            visible = leg & self.nav.free & (tall >= 0.05 * cam.height)
            self.visible |= visible
            self.hidden &= hid
            legs |= leg
            # people are placed evenly over the image rather than over the ground: weight ~ pixel area
            self.weight = np.maximum(self.weight, np.where(visible, tall * tall, 0.0))
        near = legs.copy()
        for _ in range(int(round(3.0 / self.nav.cell))):          # within ~3 m of the view
            p = np.pad(near, 1)
            near = near | p[:-2, 1:-1] | p[2:, 1:-1] | p[1:-1, :-2] | p[1:-1, 2:]
        self.entry = self.hidden & near
        if layout.entries:                # the layout names its doors: people come and go there
            self.entry = np.zeros_like(self.hidden)
            for e in layout.entries:
                d = np.hypot(*(self.nav.centers - e).transpose(2, 0, 1))
                near = (d <= 1.0) & self.nav.free
                for reach in ENTRY_REACH_M:     # out of view where they can: walking in, not popping up
                    if ((d <= reach) & self.hidden).any():
                        near = (d <= reach) & self.hidden
                        break
                self.entry |= near
        self.occupants: list[Occupant] = []
        self.used_bays: set[int] = set()

    def snap(self, t: float) -> float:
        """The first frame time at or after t: an actor appearing then is seen where it appears."""
        fps = 1.0 / float(self.times[1] - self.times[0]) if len(self.times) > 1 else 1.0
        return float(np.ceil(t * fps - 1e-6) / fps)

    # ---- occupancy ---------------------------------------------------------------------------
    def occupant(self, track: Track, offsets: np.ndarray, radii: np.ndarray, turn_s: float) -> Occupant:
        st = track_state(track, self.times, turn_s)
        d = np.stack([np.cos(st.yaw), np.sin(st.yaw)], -1)
        return Occupant(st.xy[:, None, :] + offsets[None, :, None] * d[:, None, :], radii, st.present)

    def clear(self, occ: Occupant) -> bool:
        return self.first_conflict(occ, earliest=False) is None

    def first_conflict(self, occ: Occupant, earliest: bool = True) -> int | None:
        """The first frame where `occ` comes too close to an accepted actor, None if it never does
        (`earliest` False: a frame where it does, found soonest)."""
        first = None
        for o in self.occupants:
            both = occ.present & o.present
            if not both.any():
                continue
            a, b = occ.centers[both], o.centers[both]
            d = np.linalg.norm(a[:, :, None, :] - b[:, None, :, :], axis=-1)
            bad = (d < occ.radii[None, :, None] + o.radii[None, None, :] + MARGIN).any(axis=(1, 2))
            if bad.any():
                f = int(np.flatnonzero(both)[np.argmax(bad)])
                if not earliest:
                    return f
                first = f if first is None else min(first, f)
        return first

    def try_accept(self, track: Track, offsets, radii, turn_s: float, delays=None,
                   keep_appear: bool = False) -> Track | None:
        """The first of `track` shifted by each delay that is conflict-free (and accept it); by
        default DELAYS for an actor in view from the start (who waits where they stand), and the
        longer ENTER_DELAYS for one who appears (`keep_appear` False: they come in later)."""
        if delays is None:
            delays = DELAYS if keep_appear else ENTER_DELAYS
        for dt in delays:
            dt = self.snap(dt)
            cand = shift(track, dt, keep_appear) if dt else track
            occ = self.occupant(cand, np.asarray(offsets, float), np.asarray(radii, float), turn_s)
            if occ.present.sum() < min(MIN_PRESENT, len(self.times)):
                break                      # later starts would only leave less of it in the clip
            if self.clear(occ):
                self.occupants.append(occ)
                return cand
        return None

    # ---- people ------------------------------------------------------------------------------
    def random_cell(self, mask: np.ndarray, clearance: float, weight: np.ndarray | None = None) -> np.ndarray | None:
        """A random point in a cell of `mask` (optionally weighted) with `clearance` from obstacles."""
        idx = np.flatnonzero(mask)
        if not len(idx):
            return None
        p = None
        if weight is not None:
            w = weight.reshape(-1)[idx]
            p = w / w.sum() if w.sum() > 0 else None
        for _ in range(10):
            q = self.nav.centers.reshape(-1, 2)[idx[self.rng.choice(len(idx), p=p)]]
            q = q + self.rng.uniform(-0.2, 0.2, 2) * self.nav.cell
            if self.nav.point_ok(q, clearance).all():
                return q
        return None

    def goal(self, mask: np.ndarray, here: np.ndarray, clearance: float, far: float) -> np.ndarray | None:
        """A destination in `mask`: the first of a few random ones at least `far` metres away,
        else the farthest of them (at least 2 m away), so small rooms still get walks."""
        best, best_d = None, 2.0
        for _ in range(8):
            q = self.random_cell(mask, clearance)
            if q is None:
                return None
            d = float(np.hypot(*(q - here)))
            if d > far:
                return q
            if d > best_d:
                best, best_d = q, d
        return best

    def plan_stand(self, radius: float) -> Track | None:
        rng = self.rng
        for _ in range(15):
            c = self.random_cell(self.visible, radius + SAMPLING_MARGIN, self.weight)
            if c is None:
                return None
            ts, yaws = [0.0], [float(rng.uniform(-np.pi, np.pi))]
            t = 0.0
            while t < self.duration:
                t += float(rng.uniform(1.5, 5.0))
                ts.append(t)
                yaws.append(yaws[-1] + float(rng.uniform(-1.2, 1.2)))
            yaws = [yaws[0]] + yaws[:-1]       # turn at each key, towards the next key's facing
            track = Track(ts, [[float(c[0]), float(c[1])]] * len(ts), yaws)
            got = self.try_accept(track, [0.0], [radius], PERSON_TURN_S, delays=(0.0,))
            if got is not None:
                return got
        return None

    def plan_loiter(self, radius: float, area_m: float, speed: float) -> Track | None:
        rng = self.rng
        for _ in range(10):
            c = self.random_cell(self.visible, radius + SAMPLING_MARGIN, self.weight)
            if c is None:
                return None
            cur, face, t = c, float(rng.uniform(-np.pi, np.pi)), 0.0
            ts, xy, yaws = [0.0], [[float(c[0]), float(c[1])]], [face]
            while t < self.duration:
                t += float(rng.uniform(1.0, 4.0))
                face += float(rng.uniform(-1.5, 1.5))
                ts.append(t), xy.append(xy[-1]), yaws.append(face)
                for _ in range(8):
                    q = c + rng.uniform(-area_m, area_m, 2)
                    if np.hypot(*(q - c)) <= area_m and self.nav.point_ok(q, radius + SAMPLING_MARGIN).all() \
                            and self.nav.segment_ok(cur, q, radius + SAMPLING_MARGIN):
                        t += float(np.hypot(*(q - cur)) / speed)
                        face = float(np.arctan2(q[1] - cur[1], q[0] - cur[0]))
                        ts.append(t), xy.append([float(q[0]), float(q[1])]), yaws.append(face)
                        cur = q
                        break
            got = self.try_accept(Track(ts, xy, yaws), [0.0], [radius], PERSON_TURN_S, delays=(0.0,))
            if got is not None:
                return got
        return None

    # ---- vehicles ----------------------------------------------------------------------------
    def free_bays(self, length: float, width: float) -> list[int]:
        return [i for i, b in enumerate(self.layout.bays)
                if i not in self.used_bays and b.length >= length - 0.4 and b.width >= width + 0.3]

    def bay_order(self, bays: list[int], dims: tuple[float, float, float]) -> list[int]:
        """Free bays in random order, those the camera sees first."""
        if not bays:
            return []
        xy = np.array([self.layout.bays[i].center for i in bays])
        yaw = np.array([self.layout.bays[i].yaw for i in bays])
        seen = in_image(self.cam, xy, yaw, *dims)
        perm = self.rng.permutation(len(bays))
        return [bays[i] for i in sorted(perm, key=lambda i: not seen[i])]

    def _lane_view(self, points: np.ndarray, dims: tuple[float, float, float]) -> tuple[np.ndarray, np.ndarray]:
        """Arc lengths every metre along a lane, and whether a vehicle there is in the image."""
        s = np.arange(0.0, polyline_length(points)[-1], 1.0)
        xy = resample_polyline(points, s)
        L, W, H = dims
        d = np.diff(points[:2], axis=0)[0]
        yaw = np.full(len(s), np.arctan2(d[1], d[0]))
        seen = in_image(self.cam, xy, yaw, L, W, H)
        return s, seen

    def plan_parked(self, dims: tuple[float, float, float], offsets, radii) -> tuple[Track, Bay] | None:
        rng = self.rng
        for k in self.bay_order(self.free_bays(dims[0], dims[1]), dims)[:12]:
            bay = self.layout.bays[k]
            yaw = bay.yaw + (np.pi if not bay.parallel and rng.random() < 0.3 else 0.0)
            c = bay.parked_center(dims[0])
            track = Track([0.0], [[float(c[0]), float(c[1])]], [float(yaw)])
            got = self.try_accept(track, offsets, radii, VEHICLE_TURN_S, delays=(0.0,))
            if got is not None:
                self.used_bays.add(k)
                return got, bay
        return None

    def plan_park(self, dims, speed: float, enters: bool, offsets, radii) -> tuple[Track, bool] | None:
        """Drive along the bay's lane and turn into a free bay; returns the track and whether it
        starts out of view."""
        rng = self.rng
        for k in self.bay_order(self.free_bays(dims[0], dims[1]), dims)[:10]:
            bay = self.layout.bays[k]
            lane = self.layout.lanes[bay.lane].points
            cum = polyline_length(lane)
            u = np.diff(lane[:2], axis=0)[0] / cum[1]
            s_bay = float(np.dot(bay.center - lane[0], u))
            lead = 16.0 if bay.parallel else 7.0
            s_turn = s_bay - lead
            ub = np.array([np.cos(bay.yaw), np.sin(bay.yaw)])
            end = bay.center if bay.parallel else bay.center - ub * (bay.length / 2)
            s, seen = self._lane_view(lane, dims)
            entering = enters
            start_s = _entry_s(s, seen, s_turn, dims[0]) if enters else s_turn - rng.uniform(0, 15)
            if start_s is None or start_s > s_turn - 1.0:
                start_s, entering = s_turn - rng.uniform(2, 15), False
            start_s = max(start_s, dims[0] / 2 + 0.5)        # the whole vehicle on its lane
            if start_s > s_turn - 1.0:
                continue
            p0 = lane[0] + u * s_turn
            k = 0.45 * np.hypot(*(end - p0))
            curve = bezier(p0, p0 + u * k, end - ub * k, end, 12)
            stop = bay.parked_center(dims[0])
            pts = np.concatenate([[lane[0] + u * start_s], curve] + ([] if bay.parallel else [[stop]]))
            slow = min(speed, 2.5)
            seg_speed = np.array([speed] + [slow] * (len(pts) - 3) + [1.0])
            appear = self.snap(rng.uniform(0, 0.35 * self.duration)) if entering else 0.0
            ts, xy = timed_keys(pts, seg_speed, appear)
            track = Track(ts, xy, arrival_yaws(xy, float(np.arctan2(u[1], u[0]))), appear)
            got = self.try_accept(track, offsets, radii, VEHICLE_TURN_S, keep_appear=not entering)
            if got is not None:
                self.used_bays.add(k)
                return got, entering
        return None

    def plan_drive(self, dims, speed: float, enters: bool, offsets, radii,
                   kerb_side: float = 0.0) -> tuple[Track, bool] | None:
        """Drive along a lane (shifted `kerb_side` metres to the right) through the view."""
        rng = self.rng
        lanes = self.layout.lanes
        for _ in range(8):
            lane = lanes[int(rng.integers(len(lanes)))].points
            d = np.diff(lane[:2], axis=0)[0]
            right = np.array([d[1], -d[0]]) / np.hypot(*d)
            lane = lane + right * kerb_side
            s, seen = self._lane_view(lane, dims)
            if not seen.any():
                continue
            first, last = int(np.argmax(seen)), len(seen) - 1 - int(np.argmax(seen[::-1]))
            yaw = float(np.arctan2(d[1], d[0]))
            start_s = max(float(s[first]) - dims[0] / 2 - 2.0, dims[0] / 2 + 0.5)   # the whole body on the lane
            entering = enters and not in_image(self.cam, resample_polyline(lane, np.array([start_s])),
                                                np.array([yaw]), *dims)[0]
            if entering:
                appear = self.snap(rng.uniform(0, 0.5 * self.duration))
            else:
                start_s = float(rng.uniform(s[first], s[last]))
                appear = 0.0
            end_s = min(float(s[last]) + dims[0] / 2 + 2.0, polyline_length(lane)[-1] - dims[0] / 2 - 0.5)
            if end_s <= start_s + 1.0:
                continue
            pts = resample_polyline(lane, np.array([start_s, end_s]))
            ts, xy = timed_keys(pts, speed, appear)
            leaves = not in_image(self.cam, pts[1:], np.array([yaw]), *dims)[0]
            track = Track(ts, xy, arrival_yaws(xy, yaw), appear, ts[-1] if leaves else None)
            got = self.try_accept(track, offsets, radii, VEHICLE_TURN_S, keep_appear=not entering)
            if got is not None:
                return got, bool(entering)
        return None


def _entry_s(s: np.ndarray, seen: np.ndarray, before: float, length: float) -> float | None:
    """Arc length where a vehicle is still out of view, just before the view along the lane."""
    first = int(np.argmax(seen)) if seen.any() else len(s)
    if first == 0:
        return None
    return min(float(s[first - 1]) - length / 2 - 1.0, before - 1.0)


def in_image(cam: Camera | list[Camera], xy: np.ndarray, yaw: np.ndarray, length: float, width: float,
             height: float) -> np.ndarray:
    """Whether any part of a length x width x height box at ground xy, heading yaw, may
    project into the image (of any camera, when `cam` is a list of them)."""
    corners = box_corners(xy, yaw, length, width, height)
    return np.any([~image_extent(c, corners)[1] for c in (cam if isinstance(cam, list) else [cam])], axis=0)


def footprints_of_parked(xy: np.ndarray, yaw: float, length: float, width: float) -> Footprints:
    return Footprints(Footprints.rect(xy[0], xy[1], length / 2, width / 2, yaw, 0.0))
